//! Fixed-capacity grow-only and positive-negative counters.
//!
//! [`FixedGCounter<N>`] holds one `u64` per replica for at most `N` replicas; its value is the
//! sum. [`FixedPNCounter<N>`] is two of them (increments and decrements) and its value is the
//! difference. Merges take the pointwise maximum, so they are commutative, associative and
//! idempotent; a merge that would need more than `N` replicas fails and changes nothing.

use core::fmt;

use serde::{Deserialize, Serialize};

use super::entries::Entries;
use crate::clock::ReplicaId;
use crate::encoding::{TypeTag, WireType};
use crate::error::Result;

/// A grow-only counter for at most `N` replicas, with no heap.
///
/// ```
/// use converge::ReplicaId;
/// use converge::fixed::FixedGCounter;
///
/// let mut a = FixedGCounter::<4>::new();
/// let mut b = FixedGCounter::<4>::new();
/// a.inc(ReplicaId(1), 2)?;
/// b.inc(ReplicaId(2), 3)?;
/// a.merge(&b)?;
/// assert_eq!(a.value(), 5);
/// # Ok::<(), converge::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FixedGCounter<const N: usize> {
    entries: Entries<N>,
}

impl<const N: usize> FixedGCounter<N> {
    /// A counter at zero.
    #[inline]
    pub const fn new() -> Self {
        Self {
            entries: Entries::new(),
        }
    }

    /// Adds `by` to `replica`'s share. Each share saturates at `u64::MAX`; adding 0 is a no-op.
    ///
    /// Fails with [`CapacityExceeded`](crate::Error::CapacityExceeded), changing nothing, if
    /// `replica` is new and `N` replicas are already present.
    pub fn inc(&mut self, replica: ReplicaId, by: u64) -> Result<()> {
        self.entries.update(replica, |c| c.saturating_add(by))?;
        Ok(())
    }

    /// The counter's value: the sum of all shares, saturating at `u64::MAX`.
    #[inline]
    pub fn value(&self) -> u64 {
        self.entries.sum()
    }

    /// `replica`'s share of the value (0 if it never incremented).
    #[inline]
    pub fn get(&self, replica: ReplicaId) -> u64 {
        self.entries.get(replica)
    }

    /// Joins `other` into `self` (pointwise maximum of the shares).
    ///
    /// Atomic: if the result would hold more than `N` replicas, returns
    /// [`CapacityExceeded`](crate::Error::CapacityExceeded) and `self` is unchanged.
    pub fn merge<const M: usize>(&mut self, other: &FixedGCounter<M>) -> Result<()> {
        self.entries.merge(&other.entries)
    }

    /// `(replica, share)` pairs in replica order.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (ReplicaId, u64)> + '_ {
        self.entries.as_slice().iter().copied()
    }

    /// Number of replicas with a non-zero share.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no replica has incremented (the value is 0).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// The most replicas this counter can track (`N`).
    #[inline]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Panics if an internal invariant is broken (sorted, unique, non-zero shares). For tests.
    pub fn check_invariants(&self) {
        self.entries.check_invariants();
    }
}

impl<const N: usize> fmt::Debug for FixedGCounter<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("FixedGCounter").field(&self.entries).finish()
    }
}

impl<const N: usize> WireType for FixedGCounter<N> {
    const TAG: TypeTag = TypeTag::FixedGCounter;
}

/// A counter that goes up and down, for at most `N` replicas, with no heap.
///
/// Each side (increments, decrements) tracks at most `N` replicas on its own.
///
/// ```
/// use converge::ReplicaId;
/// use converge::fixed::FixedPNCounter;
///
/// let mut c = FixedPNCounter::<2>::new();
/// c.inc(ReplicaId(1), 5)?;
/// c.dec(ReplicaId(2), 7)?;
/// assert_eq!(c.value(), -2);
/// # Ok::<(), converge::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FixedPNCounter<const N: usize> {
    increments: FixedGCounter<N>,
    decrements: FixedGCounter<N>,
}

impl<const N: usize> FixedPNCounter<N> {
    /// A counter at zero.
    #[inline]
    pub const fn new() -> Self {
        Self {
            increments: FixedGCounter::new(),
            decrements: FixedGCounter::new(),
        }
    }

    /// Adds `by` for `replica`. Fails with
    /// [`CapacityExceeded`](crate::Error::CapacityExceeded), changing nothing, if the
    /// increment side is full and `replica` is new to it.
    pub fn inc(&mut self, replica: ReplicaId, by: u64) -> Result<()> {
        self.increments.inc(replica, by)
    }

    /// Subtracts `by` for `replica`. Fails with
    /// [`CapacityExceeded`](crate::Error::CapacityExceeded), changing nothing, if the
    /// decrement side is full and `replica` is new to it.
    pub fn dec(&mut self, replica: ReplicaId, by: u64) -> Result<()> {
        self.decrements.inc(replica, by)
    }

    /// Adds a signed `amount` for `replica`: [`inc`](Self::inc) for `amount >= 0`,
    /// [`dec`](Self::dec) otherwise, with the same capacity rule.
    pub fn add(&mut self, replica: ReplicaId, amount: i64) -> Result<()> {
        if amount >= 0 {
            self.inc(replica, amount.unsigned_abs())
        } else {
            self.dec(replica, amount.unsigned_abs())
        }
    }

    /// The value: total increments minus total decrements, saturating at the `i64` range.
    pub fn value(&self) -> i64 {
        let v = i128::from(self.increments.value()) - i128::from(self.decrements.value());
        // In range after the clamp, so the cast is exact.
        v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// The grow-only counter of increments.
    #[inline]
    pub fn increments(&self) -> &FixedGCounter<N> {
        &self.increments
    }

    /// The grow-only counter of decrements.
    #[inline]
    pub fn decrements(&self) -> &FixedGCounter<N> {
        &self.decrements
    }

    /// Joins `other` into `self`.
    ///
    /// Atomic: if either side would need more than `N` replicas, returns
    /// [`CapacityExceeded`](crate::Error::CapacityExceeded) and `self` is unchanged.
    pub fn merge<const M: usize>(&mut self, other: &FixedPNCounter<M>) -> Result<()> {
        // Check both sides before touching either, so a failure leaves no half-merge.
        if self.increments.entries.union_len(&other.increments.entries) > N
            || self.decrements.entries.union_len(&other.decrements.entries) > N
        {
            return Err(crate::Error::CapacityExceeded);
        }
        self.increments.merge(&other.increments)?;
        self.decrements.merge(&other.decrements)
    }

    /// The most replicas each side can track (`N`).
    #[inline]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Panics if an internal invariant is broken. For tests.
    pub fn check_invariants(&self) {
        self.increments.check_invariants();
        self.decrements.check_invariants();
    }
}

impl<const N: usize> fmt::Debug for FixedPNCounter<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedPNCounter")
            .field("increments", &self.increments.entries)
            .field("decrements", &self.decrements.entries)
            .finish()
    }
}

impl<const N: usize> WireType for FixedPNCounter<N> {
    const TAG: TypeTag = TypeTag::FixedPNCounter;
}
