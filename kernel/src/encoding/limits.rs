//! Memory limits for decoding untrusted bytes: the preallocation rule and the budgeted decode.
//!
//! Two layers keep decoding from allocating more than its input justifies:
//!
//! 1. **The metering layer** (`meter`), which every alloc-enabled decode runs through: it clamps
//!    every sequence and map size hint to the number of input bytes left, and charges each
//!    container element and string byte against a limit.
//! 2. **Cautious preallocation** in the kernel's own `Deserialize` impls: a length prefix is a
//!    claim, not a fact, so the first allocation is sized with [`cautious_capacity`], which caps
//!    the claim at [`MAX_PREALLOC`] elements; beyond that containers grow as elements arrive.
//!    This keeps the impls safe under other deserializers too (a binding's JSON, say). The idea
//!    is serde's own `size_hint::cautious`.

use converge_pool::Budget;

use super::envelope::{decode_payload, open_envelope};
use super::{DecodeError, WireType};

/// The most elements a kernel `Deserialize` impl preallocates on the strength of a length
/// prefix (the same limit as the state CRDTs' `SeqVec`).
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

/// Decodes a `T` like [`decode`](super::decode), charging the heap the value may hold to
/// `budget`.
///
/// * Charging happens as the value is built: the moment the total would exceed
///   `budget.available()`, decoding stops with [`DecodeError::BudgetExceeded`].
/// * On any error the budget is unchanged.
/// * On success the charge is reserved from `budget` (the value holds that memory now); the
///   caller reads it as the change in [`Budget::used`] and releases it when the value is
///   dropped.
///
/// What is charged (see `docs/wire-format.md`, "Decoding safety", for the argument):
///
/// * every element of a sequence and every key and value of a map, `5/2 × size_of + 2` bytes
///   (a doubling `Vec` is at least half full; a hashbrown table at least 7/16 full with one
///   control byte per bucket); elements covered by the size hint are charged up front, because
///   the impl may preallocate them before they arrive (the hint is clamped to the input left);
/// * every string or byte string, its length;
/// * tuples, structs, enums and options nothing (they live inline in their parent).
///
/// This is an upper bound on the heap held by `Vec`-, `String`- and hashbrown-backed containers
/// whose impls allocate only through them, which is every kernel type. Heap behind a `Box`, `Rc`
/// or `Arc` in an application type is not seen. Inline containers (the `heapless` vectors of
/// the `fixed` types) are charged as if they were on the heap: the meter cannot tell them apart,
/// so for them the charge is an over-estimate.
///
/// ```
/// use converge::encoding::{decode_with_budget, encode};
/// use converge::{DecodeError, ReplicaId, VersionVector};
/// use converge_pool::Budget;
///
/// let vv: VersionVector = [(ReplicaId(1), 5), (ReplicaId(2), 3)].into_iter().collect();
/// let bytes = encode(&vv);
///
/// let mut roomy = Budget::new(1024);
/// assert_eq!(decode_with_budget::<VersionVector>(&bytes, &mut roomy), Ok(vv.clone()));
/// let charged = roomy.used();
/// assert!(charged > 0);
///
/// let mut tight = Budget::new(charged - 1);
/// assert_eq!(decode_with_budget::<VersionVector>(&bytes, &mut tight), Err(DecodeError::BudgetExceeded));
/// assert_eq!(tight.used(), 0);
/// ```
pub fn decode_with_budget<T: WireType>(
    bytes: &[u8],
    budget: &mut Budget,
) -> Result<T, DecodeError> {
    let payload = open_envelope(bytes, T::TAG)?;
    let (value, charged) = decode_payload::<T>(payload, budget.available())?;
    budget
        .try_reserve(charged)
        .map_err(|_| DecodeError::BudgetExceeded)?;
    Ok(value)
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
