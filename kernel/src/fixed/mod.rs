//! No-alloc CRDTs for firmware: fixed capacity, inline storage, no allocator needed.
//!
//! Everything in this module builds with `--no-default-features` (no `alloc`, no `std`) and
//! keeps its state in [`heapless`] storage sized by a const generic `N`:
//!
//! | type | heap-backed counterpart (with `alloc`) | capacity |
//! |------|------|----------|
//! | [`FixedGCounter<N>`] | `GCounter` | `N` replicas |
//! | [`FixedPNCounter<N>`] | `PNCounter` | `N` replicas per side |
//! | [`FixedLwwRegister<T>`] | `LwwRegister` | one inline `T` |
//! | [`BoundedVersionVector<N>`] | `VersionVector` | `N` replicas |
//!
//! Semantics match the heap-backed types: the same local operations, merges that are
//! commutative, associative and idempotent, the same value accessors. The one difference is
//! capacity: anything that would need more room than `N` returns
//! [`Error::CapacityExceeded`](crate::Error::CapacityExceeded) and leaves the value exactly as
//! it was (merges are atomic: all or nothing).
//!
//! Each type implements [`WireType`](crate::WireType) with its `Fixed*` tag, so it can be sent
//! with [`encode_to_slice`](crate::encoding::encode_to_slice) and read back with
//! [`decode`](crate::decode), neither of which allocates. Decoding checks the same invariants
//! the operations keep (entries sorted by replica, no zero counters, at most `N` entries).

mod counter;
mod entries;
mod register;
mod version;

pub use counter::{FixedGCounter, FixedPNCounter};
pub use register::FixedLwwRegister;
pub use version::BoundedVersionVector;

/// Runs without `alloc` too (`cargo test -p converge --lib --no-default-features`), which is
/// the only place the no-alloc decode path is exercised.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ReplicaId, Timestamp};
    use crate::encoding::{EncodeError, decode, encode_to_slice};
    use crate::{DecodeError, Error};

    fn round_trip<T: crate::WireType + PartialEq + core::fmt::Debug>(value: &T) -> usize {
        let mut buf = [0u8; 64];
        let n = encode_to_slice(value, &mut buf).unwrap();
        assert_eq!(decode::<T>(&buf[..n]).as_ref(), Ok(value));
        for cut in 0..n {
            assert!(decode::<T>(&buf[..cut]).is_err());
        }
        n
    }

    #[test]
    fn fixed_types_round_trip_without_a_heap() {
        let mut g = FixedGCounter::<3>::new();
        g.inc(ReplicaId(9), 1000).unwrap();
        g.inc(ReplicaId(2), 1).unwrap();
        round_trip(&g);
        let mut p = FixedPNCounter::<3>::new();
        p.add(ReplicaId(1), -4).unwrap();
        p.add(ReplicaId(1), 6).unwrap();
        assert_eq!(p.value(), 2);
        round_trip(&p);
        let r = FixedLwwRegister::with_stamp([1u8, 2, 3], Timestamp::new(5, ReplicaId(1)));
        round_trip(&r);
        let mut v = BoundedVersionVector::<3>::new();
        v.next_dot(ReplicaId(4)).unwrap();
        // Envelope (5 bytes + 1-byte length) and payload `01 04 01`.
        assert_eq!(round_trip(&v), 6 + 3);
    }

    #[test]
    fn no_alloc_decode_checks_capacity_and_trailing_bytes() {
        let mut big = FixedGCounter::<3>::new();
        for r in 1..=3 {
            big.inc(ReplicaId(r), r).unwrap();
        }
        let mut buf = [0u8; 32];
        let n = encode_to_slice(&big, &mut buf).unwrap();
        assert!(matches!(
            decode::<FixedGCounter<2>>(&buf[..n]),
            Err(DecodeError::Invalid(_))
        ));
        assert_eq!(
            decode::<FixedGCounter<3>>(&buf[..n + 1]),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        assert_eq!(
            encode_to_slice(&big, &mut buf[..n - 1]),
            Err(EncodeError::BufferTooSmall {
                needed: n,
                available: n - 1
            })
        );
        assert_eq!(big.inc(ReplicaId(4), 1), Err(Error::CapacityExceeded));
    }
}
