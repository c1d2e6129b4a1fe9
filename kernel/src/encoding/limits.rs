//! Memory limits for decoding untrusted bytes: the preallocation rule and the budgeted decode.
//!
//! Two rules keep decoding from allocating more than a bound proportional to its input:
//!
//! 1. **Cautious preallocation.** A length prefix is a claim, not a fact. Every kernel
//!    `Deserialize` impl sizes its first allocation with [`cautious_capacity`], which caps the
//!    claimed element count at [`MAX_PREALLOC`]; beyond that, containers grow only as elements
//!    actually arrive, and each element consumes input bytes. (postcard already withholds the
//!    size hint of a sequence whose length prefix exceeds the remaining input, but not of a
//!    map, so the cap matters.) The idea is serde's own `size_hint::cautious`, with a smaller
//!    cap because firmware-sized heaps are the target.
//! 2. **Budget up front.** [`decode_with_budget`] reserves
//!    [`decode_reservation`] bytes from a [`Budget`] before decoding anything, so a document's
//!    memory cap is checked against the worst case before untrusted bytes can make it allocate.

use converge_pool::Budget;

use super::{DecodeError, WireType, decode};

/// The most elements a `Deserialize` impl preallocates on the strength of a length prefix.
#[allow(
    dead_code,
    reason = "for the state CRDTs' Deserialize impls, which adopt it next"
)]
pub(crate) const MAX_PREALLOC: usize = 64;

/// How many elements to preallocate for a container whose encoding claims `hint` elements:
/// `min(hint, MAX_PREALLOC)`, and 0 without a hint.
///
/// Use it for every `with_capacity` in a `Deserialize` impl:
/// `Vec::with_capacity(cautious_capacity(seq.size_hint()))`.
#[inline]
#[allow(
    dead_code,
    reason = "for the state CRDTs' Deserialize impls, which adopt it next"
)]
pub(crate) fn cautious_capacity(hint: Option<usize>) -> usize {
    match hint {
        Some(n) => n.min(MAX_PREALLOC),
        None => 0,
    }
}

/// Bytes [`decode_with_budget`] reserves for decoding `input_len` bytes as a `T`:
/// `T::HEAP_PER_INPUT_BYTE × input_len` (saturating). Callers that drop a decoded value can
/// [`release`](Budget::release) this much.
#[inline]
pub fn decode_reservation<T: WireType>(input_len: usize) -> usize {
    T::HEAP_PER_INPUT_BYTE.saturating_mul(input_len)
}

/// Decodes a `T` like [`decode`], first reserving [`decode_reservation`] bytes from `budget`.
///
/// * If the budget cannot cover the reservation, returns [`DecodeError::BudgetExceeded`]
///   before reading past the envelope, and the budget is unchanged.
/// * If decoding fails, the reservation is released: the budget is unchanged.
/// * On success the reservation stays charged, since the value now holds (at most) that much
///   memory; release it with `budget.release(decode_reservation::<T>(bytes.len()))` when the
///   value is dropped.
///
/// The bound: a kernel type keeps at most `T::HEAP_PER_INPUT_BYTE` heap bytes per input byte
/// (the derivation is on [`DEFAULT_HEAP_PER_INPUT_BYTE`](super::DEFAULT_HEAP_PER_INPUT_BYTE)
/// and in `docs/wire-format.md`). It is an argument about the kernel's encodings, not a
/// measurement of the allocator: an application type `T` inside a generic container whose
/// in-memory size is much larger than its encoding (a boxed array of zeros, say) can exceed it.
///
/// ```
/// use converge::encoding::{decode_reservation, decode_with_budget, encode};
/// use converge::{DecodeError, ReplicaId, VersionVector};
/// use converge_pool::Budget;
///
/// let vv: VersionVector = [(ReplicaId(1), 5), (ReplicaId(2), 3)].into_iter().collect();
/// let bytes = encode(&vv);
/// let need = decode_reservation::<VersionVector>(bytes.len());
///
/// let mut tight = Budget::new(need - 1);
/// assert_eq!(decode_with_budget::<VersionVector>(&bytes, &mut tight), Err(DecodeError::BudgetExceeded));
/// assert_eq!(tight.used(), 0);
///
/// let mut roomy = Budget::new(need);
/// assert_eq!(decode_with_budget::<VersionVector>(&bytes, &mut roomy), Ok(vv));
/// assert_eq!(roomy.used(), need);
/// ```
pub fn decode_with_budget<T: WireType>(
    bytes: &[u8],
    budget: &mut Budget,
) -> Result<T, DecodeError> {
    let reservation = decode_reservation::<T>(bytes.len());
    budget
        .try_reserve(reservation)
        .map_err(|_| DecodeError::BudgetExceeded)?;
    let result = decode::<T>(bytes);
    if result.is_err() {
        budget.release(reservation);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cautious_capacity_trusts_small_hints_only() {
        assert_eq!(cautious_capacity(None), 0);
        assert_eq!(cautious_capacity(Some(3)), 3);
        assert_eq!(cautious_capacity(Some(MAX_PREALLOC)), MAX_PREALLOC);
        assert_eq!(cautious_capacity(Some(u32::MAX as usize)), MAX_PREALLOC);
        assert_eq!(cautious_capacity(Some(usize::MAX)), MAX_PREALLOC);
    }
}
