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
