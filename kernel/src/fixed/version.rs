//! Bounded version vectors: which events of at most `N` replicas a state has seen, with no heap.
//!
//! [`BoundedVersionVector<N>`] has the meaning and encoding of
//! [`VersionVector`](crate::VersionVector) (each replica maps to the highest counter seen, with
//! every lower counter seen too) but stores at most `N` entries inline. An operation that would
//! need an `N+1`-th replica fails with [`CapacityExceeded`](crate::Error::CapacityExceeded) and
//! changes nothing.

use core::cmp::Ordering;
use core::fmt;

use serde::{Deserialize, Serialize};

use super::entries::Entries;
use crate::clock::{Dot, ReplicaId};
use crate::encoding::{TypeTag, WireType};
use crate::error::{Error, Result};

/// A version vector for at most `N` replicas, stored inline.
///
/// ```
/// use converge::{Dot, ReplicaId};
/// use converge::fixed::BoundedVersionVector;
///
/// let mut a = BoundedVersionVector::<2>::new();
/// let d = a.next_dot(ReplicaId(7))?;
/// assert_eq!(d, Dot::new(ReplicaId(7), 1));
/// assert!(a.contains(d));
/// a.advance(ReplicaId(8), 3)?;
/// // A third replica does not fit, and nothing changes.
/// assert_eq!(a.advance(ReplicaId(9), 1), Err(converge::Error::CapacityExceeded));
/// assert_eq!(a.len(), 2);
/// # Ok::<(), converge::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BoundedVersionVector<const N: usize> {
    entries: Entries<N>,
}

impl<const N: usize> BoundedVersionVector<N> {
    /// An empty vector: nothing seen.
    #[inline]
    pub const fn new() -> Self {
        Self {
            entries: Entries::new(),
        }
    }

    /// The highest counter seen from `replica` (0 if none).
    #[inline]
    pub fn get(&self, replica: ReplicaId) -> u64 {
        self.entries.get(replica)
    }

    /// Whether the event `dot` has been seen.
    #[inline]
    pub fn contains(&self, dot: Dot) -> bool {
        dot.counter != 0 && dot.counter <= self.get(dot.replica)
    }

    /// Raises `replica`'s entry to at least `counter` (never lowers it; 0 is a no-op).
    ///
    /// Fails with [`CapacityExceeded`](crate::Error::CapacityExceeded), changing nothing, if
    /// `replica` is new and the vector is full.
    pub fn advance(&mut self, replica: ReplicaId, counter: u64) -> Result<()> {
        self.entries.update(replica, |c| c.max(counter))?;
        Ok(())
    }

    /// Records `dot` as seen (and, by the vector's meaning, every earlier dot of its replica).
    #[inline]
    pub fn observe(&mut self, dot: Dot) -> Result<()> {
        self.advance(dot.replica, dot.counter)
    }

    /// Allocates the next event for `replica`: bumps its entry and returns the new dot.
    ///
    /// Fails with [`CapacityExceeded`](crate::Error::CapacityExceeded) if `replica` is new and
    /// the vector is full, or with [`InvalidOperation`](crate::Error::InvalidOperation) if its
    /// counter is already `u64::MAX`; nothing changes in either case.
    pub fn next_dot(&mut self, replica: ReplicaId) -> Result<Dot> {
        if self.get(replica) == u64::MAX {
            return Err(Error::InvalidOperation);
        }
        let counter = self.entries.update(replica, |c| c + 1)?;
        Ok(Dot::new(replica, counter))
    }

    /// Pointwise maximum with `other`.
    ///
    /// Atomic: if the result would hold more than `N` replicas, returns
    /// [`CapacityExceeded`](crate::Error::CapacityExceeded) and `self` is unchanged.
    pub fn merge<const M: usize>(&mut self, other: &BoundedVersionVector<M>) -> Result<()> {
        self.entries.merge(&other.entries)
    }

    /// Whether every event in `other` is also in `self`.
    #[inline]
    pub fn dominates<const M: usize>(&self, other: &BoundedVersionVector<M>) -> bool {
        self.entries.dominates(&other.entries)
    }

    /// The causal (partial) order: `Less` if `self` saw strictly less, `Equal`, `Greater`, or
    /// `None` when the two are concurrent.
    pub fn compare<const M: usize>(&self, other: &BoundedVersionVector<M>) -> Option<Ordering> {
        match (self.dominates(other), other.dominates(self)) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Greater),
            (false, true) => Some(Ordering::Less),
            (false, false) => None,
        }
    }

    /// Whether neither vector dominates the other.
    #[inline]
    pub fn concurrent_with<const M: usize>(&self, other: &BoundedVersionVector<M>) -> bool {
        self.compare(other).is_none()
    }

    /// Total number of events covered (the sum of all entries, saturating).
    #[inline]
    pub fn total(&self) -> u64 {
        self.entries.sum()
    }

    /// `(replica, counter)` entries in replica order.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (ReplicaId, u64)> + '_ {
        self.entries.as_slice().iter().copied()
    }

    /// Number of replicas with at least one event.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing has been seen.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.len() == 0
    }

    /// The most replicas this vector can track (`N`).
    #[inline]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Forgets everything.
    #[inline]
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Panics if an internal invariant is broken (sorted, unique, non-zero). For tests.
    pub fn check_invariants(&self) {
        self.entries.check_invariants();
    }
}

impl<const N: usize> PartialOrd for BoundedVersionVector<N> {
    /// The causal order; `None` for concurrent vectors. See [`BoundedVersionVector::compare`].
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.compare(other)
    }
}

impl<const N: usize> fmt::Debug for BoundedVersionVector<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.entries, f)
    }
}

#[cfg(feature = "alloc")]
impl<const N: usize> From<&BoundedVersionVector<N>> for crate::VersionVector {
    fn from(v: &BoundedVersionVector<N>) -> Self {
        v.iter().collect()
    }
}

#[cfg(feature = "alloc")]
impl<const N: usize> TryFrom<&crate::VersionVector> for BoundedVersionVector<N> {
    type Error = Error;

    /// Fails with [`CapacityExceeded`](crate::Error::CapacityExceeded) if `v` has more than `N`
    /// replicas.
    fn try_from(v: &crate::VersionVector) -> Result<Self> {
        if v.len() > N {
            return Err(Error::CapacityExceeded);
        }
        let mut out = Self::new();
        for (r, c) in v.iter() {
            out.advance(r, c)?;
        }
        Ok(out)
    }
}

impl<const N: usize> WireType for BoundedVersionVector<N> {
    const TAG: TypeTag = TypeTag::FixedVersionVector;
}
