//! The storage shared by [`FixedGCounter`](super::FixedGCounter) and
//! [`BoundedVersionVector`](super::BoundedVersionVector): a fixed-capacity map from replica to
//! `u64`, merged by pointwise maximum.
//!
//! Invariants (checked by [`Entries::check_invariants`] and enforced on deserialization):
//! entries are sorted by replica, strictly (no duplicates), and no counter is zero. So two maps
//! that mean the same thing are equal and encode to the same bytes.

use core::cmp::Ordering;
use core::fmt;
use core::marker::PhantomData;

use serde::de::{Error as _, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::ReplicaId;
use crate::error::{Error, Result};

/// Sorted `(replica, counter)` pairs, at most `N` of them, no zero counters.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct Entries<const N: usize> {
    items: heapless::Vec<(ReplicaId, u64), N>,
}

impl<const N: usize> Entries<N> {
    pub(crate) const fn new() -> Self {
        Self {
            items: heapless::Vec::new(),
        }
    }

    /// Linear scan: fixed-capacity maps are small (firmware sizes), and a scan over a few
    /// cache lines beats a binary search's branches there.
    #[inline]
    fn search(&self, replica: ReplicaId) -> core::result::Result<usize, usize> {
        for (i, &(r, _)) in self.items.iter().enumerate() {
            match r.cmp(&replica) {
                Ordering::Less => {}
                Ordering::Equal => return Ok(i),
                Ordering::Greater => return Err(i),
            }
        }
        Err(self.items.len())
    }

    #[inline]
    pub(crate) fn get(&self, replica: ReplicaId) -> u64 {
        match self.search(replica) {
            Ok(i) => self.items[i].1,
            Err(_) => 0,
        }
    }

    /// Applies `f` to `replica`'s entry (0 if absent). A zero result is not stored. Fails,
    /// changing nothing, when a new entry is needed and the map is full.
    pub(crate) fn update(&mut self, replica: ReplicaId, f: impl FnOnce(u64) -> u64) -> Result<u64> {
        match self.search(replica) {
            Ok(i) => {
                let v = f(self.items[i].1);
                // Callers only ever raise counters, so an existing entry never drops to zero;
                // keep the invariant anyway rather than trust that.
                if v == 0 {
                    self.items.remove(i);
                } else {
                    self.items[i].1 = v;
                }
                Ok(v)
            }
            Err(i) => {
                let v = f(0);
                if v != 0 {
                    self.items
                        .insert(i, (replica, v))
                        .map_err(|_| Error::CapacityExceeded)?;
                }
                Ok(v)
            }
        }
    }

    /// How many distinct replicas the pointwise maximum with `other` would hold.
    pub(crate) fn union_len<const M: usize>(&self, other: &Entries<M>) -> usize {
        let (a, b) = (&self.items, &other.items);
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => i += 1,
                Ordering::Greater => j += 1,
                Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
            }
            n += 1;
        }
        n + (a.len() - i) + (b.len() - j)
    }

    /// Pointwise maximum with `other`. Atomic: if the union does not fit in `N` entries,
    /// returns `CapacityExceeded` and leaves `self` untouched.
    pub(crate) fn merge<const M: usize>(&mut self, other: &Entries<M>) -> Result<()> {
        let total = self.union_len(other);
        if total > N {
            return Err(Error::CapacityExceeded);
        }
        let old = self.items.len();
        if total == old {
            // Every replica of `other` is already here: raise in place.
            let mut i = 0;
            for &(r, c) in other.items.iter() {
                while self.items[i].0 != r {
                    i += 1;
                }
                if c > self.items[i].1 {
                    self.items[i].1 = c;
                }
            }
            return Ok(());
        }
        // Grow to the final length, then fill from the back so no entry is overwritten before
        // it has been moved (the classic in-place merge of two sorted runs).
        self.items
            .resize(total, (ReplicaId(0), 0))
            .map_err(|_| Error::CapacityExceeded)?;
        let (mut i, mut j, mut k) = (old, other.items.len(), total);
        while j > 0 {
            k -= 1;
            let theirs = other.items[j - 1];
            if i > 0 && self.items[i - 1].0 > theirs.0 {
                self.items[k] = self.items[i - 1];
                i -= 1;
            } else if i > 0 && self.items[i - 1].0 == theirs.0 {
                let mine = self.items[i - 1];
                self.items[k] = (mine.0, mine.1.max(theirs.1));
                i -= 1;
                j -= 1;
            } else {
                self.items[k] = theirs;
                j -= 1;
            }
        }
        // Whatever is left of `self` (i entries) is already in place at 0..i == 0..k.
        debug_assert_eq!(i, k);
        Ok(())
    }

    /// Whether every entry of `other` is at most the matching entry of `self`.
    pub(crate) fn dominates<const M: usize>(&self, other: &Entries<M>) -> bool {
        other.items.iter().all(|&(r, c)| self.get(r) >= c)
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[(ReplicaId, u64)] {
        &self.items
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    #[inline]
    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }

    /// Sum of all counters, saturating at `u64::MAX`.
    pub(crate) fn sum(&self) -> u64 {
        self.items
            .iter()
            .fold(0u64, |acc, &(_, c)| acc.saturating_add(c))
    }

    /// Panics if an invariant is broken. For tests and fuzzers.
    pub(crate) fn check_invariants(&self) {
        for w in self.items.windows(2) {
            assert!(w[0].0 < w[1].0, "entries not strictly sorted: {w:?}");
        }
        assert!(
            self.items.iter().all(|&(_, c)| c != 0),
            "zero counter stored"
        );
        assert!(self.items.len() <= N);
    }
}

impl<const N: usize> fmt::Debug for Entries<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.items.iter().map(|(r, c)| (r.0, c)))
            .finish()
    }
}

/// Same layout as [`VersionVector`](crate::VersionVector): a sequence of `(replica, counter)`
/// pairs in replica order.
impl<const N: usize> Serialize for Entries<N> {
    fn serialize<S: Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.items.len()))?;
        for e in self.items.iter() {
            seq.serialize_element(e)?;
        }
        seq.end()
    }
}

impl<'de, const N: usize> Deserialize<'de> for Entries<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        struct V<const N: usize>(PhantomData<Entries<N>>);
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = Entries<N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "at most {N} (replica, counter) pairs, sorted by replica, no zero counter"
                )
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> core::result::Result<Self::Value, A::Error> {
                // Check the declared length first so a too-long input fails before any work.
                if seq.size_hint().is_some_and(|n| n > N) {
                    return Err(A::Error::custom("more entries than the fixed capacity"));
                }
                let mut out = Entries::<N>::new();
                while let Some((r, c)) = seq.next_element::<(ReplicaId, u64)>()? {
                    if c == 0 {
                        return Err(A::Error::custom("zero counter"));
                    }
                    if out.items.last().is_some_and(|&(last, _)| last >= r) {
                        return Err(A::Error::custom("entries not sorted by replica"));
                    }
                    out.items
                        .push((r, c))
                        .map_err(|_| A::Error::custom("more entries than the fixed capacity"))?;
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V::<N>(PhantomData))
    }
}
