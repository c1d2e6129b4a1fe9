//! Causal contexts: the set of events (dots) a replica has seen, kept compact.
//!
//! A [`CausalContext`] is what lets the observed-remove types ([`AwSet`](crate::AwSet),
//! [`OrMap`](crate::OrMap), [`MvRegister`](crate::MvRegister)) forget removed content instead
//! of keeping tombstones: every stored value is tagged with the dot of the event that wrote
//! it, and a dot that is *in the context but no longer in the store* means "seen and removed".
//! So removal deletes the value and merging knows not to resurrect it.
//!
//! Storage is a [`VersionVector`] (every counter `1..=n` of each replica) plus a **dot cloud**
//! of half-open counter ranges for events seen out of order, as happens when deltas arrive
//! before their predecessors. The design follows the "compact causal context" of the
//! delta-CRDT literature (Almeida, Shoker and Baquero); run-length ranges instead of single
//! dots keep a batch of `n` local events at one entry.
//!
//! # Invariants
//!
//! * Cloud ranges are non-empty, start at counter 1 or above, are sorted by
//!   `(replica, start)`, and neither overlap nor touch (a gap of at least one counter separates
//!   two ranges of one replica).
//! * No cloud range touches the version vector: every range of replica `r` starts above
//!   `vv[r] + 1`. A range that becomes contiguous is folded into the vector at once
//!   (compaction), so in the steady state the cloud is empty and the context costs one entry
//!   per replica.
//!
//! Equal sets of dots therefore have exactly one representation: `==` is set equality and the
//! encoding is canonical.

use alloc::vec::Vec;
use core::fmt;

use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::{Dot, ReplicaId};
use crate::crdt::SeqVec;
use crate::sort::sort_by_key;
use crate::version::{DotRange, VersionVector};

/// The dots a replica has seen: a version vector plus a cloud of out-of-order ranges.
///
/// Used by the observed-remove types so that removal needs no tombstones: a dot in the context
/// but attached to no stored value means "seen and removed". Creating one does not allocate.
///
/// Invariants (checked by [`check_invariants`](Self::check_invariants) and on decoding):
/// cloud ranges are non-empty, start at counter 1 or above, are sorted by `(replica, start)`,
/// and neither overlap nor touch; and every range of replica `r` starts above `vv[r] + 1`
/// (a range that becomes contiguous with the vector is folded into it at once). So equal sets
/// of dots have one representation, `==` is set equality, and the encoding is canonical; in the
/// steady state the cloud is empty and the context costs one entry per replica.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct CausalContext {
    vv: VersionVector,
    cloud: Vec<DotRange>,
}

impl CausalContext {
    /// An empty context: nothing seen.
    #[inline]
    pub const fn new() -> Self {
        Self {
            vv: VersionVector::new(),
            cloud: Vec::new(),
        }
    }

    /// A context holding exactly the events of `vv`.
    #[inline]
    pub fn from_version_vector(vv: VersionVector) -> Self {
        Self {
            vv,
            cloud: Vec::new(),
        }
    }

    /// A context holding exactly `dots` (any order, duplicates allowed).
    pub fn from_dots(dots: impl IntoIterator<Item = Dot>) -> Self {
        let mut c = Self::new();
        for d in dots {
            c.insert(d);
        }
        c
    }

    /// The contiguous part: for each replica, the counter up to which every event was seen.
    #[inline]
    pub fn version_vector(&self) -> &VersionVector {
        &self.vv
    }

    /// The out-of-order ranges, sorted by `(replica, start)`. Empty in the steady state.
    #[inline]
    pub fn cloud(&self) -> &[DotRange] {
        &self.cloud
    }

    /// Whether no event has been seen.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.vv.is_empty() && self.cloud.is_empty()
    }

    /// Whether `dot` has been seen.
    #[inline]
    pub fn contains(&self, dot: Dot) -> bool {
        if self.vv.contains(dot) {
            return true;
        }
        if self.cloud.is_empty() {
            return false;
        }
        self.cloud_contains(dot)
    }

    fn cloud_contains(&self, dot: Dot) -> bool {
        // First range that starts after `dot`; the candidate is the one before it.
        let i = self
            .cloud
            .partition_point(|r| (r.replica, r.start) <= (dot.replica, dot.counter));
        i > 0 && self.cloud[i - 1].contains(dot)
    }

    /// The highest counter of `replica` seen anywhere (vector or cloud), 0 if none.
    pub fn max_counter(&self, replica: ReplicaId) -> u64 {
        let in_cloud = self
            .cloud
            .iter()
            .filter(|r| r.replica == replica)
            .map(|r| r.end - 1)
            .max()
            .unwrap_or(0);
        self.vv.get(replica).max(in_cloud)
    }

    /// Records `dot` as seen.
    #[inline]
    pub fn insert(&mut self, dot: Dot) {
        self.insert_range(dot.replica, dot.counter, dot.counter.saturating_add(1));
    }

    /// Records the counters `start..end` of `replica` as seen. Counter 0 is not an event and
    /// is ignored.
    pub fn insert_range(&mut self, replica: ReplicaId, start: u64, end: u64) {
        let start = start.max(1);
        if start >= end {
            return;
        }
        let top = self.vv.get(replica);
        if end - 1 <= top {
            return; // already covered
        }
        if start <= top.saturating_add(1) {
            self.vv.advance(replica, end - 1);
            self.absorb(replica);
            return;
        }
        self.cloud_insert(DotRange {
            replica,
            start,
            end,
        });
    }

    /// Inserts a range that does not touch the vector, merging it with its neighbours.
    fn cloud_insert(&mut self, mut new: DotRange) {
        let key = (new.replica, new.start);
        let mut i = self.cloud.partition_point(|r| (r.replica, r.start) < key);
        // Merge with the previous range if it overlaps or touches.
        if i > 0 {
            let prev = self.cloud[i - 1];
            if prev.replica == new.replica && prev.end >= new.start {
                new.start = prev.start;
                new.end = new.end.max(prev.end);
                i -= 1;
                self.cloud.remove(i);
            }
        }
        // Swallow following ranges it overlaps or touches.
        while i < self.cloud.len() {
            let next = self.cloud[i];
            if next.replica == new.replica && next.start <= new.end {
                new.end = new.end.max(next.end);
                self.cloud.remove(i);
            } else {
                break;
            }
        }
        self.cloud.insert(i, new);
    }

    /// Folds `replica`'s cloud ranges that now touch the vector into it.
    fn absorb(&mut self, replica: ReplicaId) {
        if self.cloud.is_empty() {
            return;
        }
        let first = self.cloud.partition_point(|r| r.replica < replica);
        let mut last = first;
        let mut top = self.vv.get(replica);
        while last < self.cloud.len() {
            let r = self.cloud[last];
            if r.replica != replica || r.start > top.saturating_add(1) {
                break;
            }
            top = top.max(r.end - 1);
            last += 1;
        }
        if last > first {
            self.vv.advance(replica, top);
            self.cloud.drain(first..last);
        }
    }

    /// Allocates the next event of `replica` (one past the highest counter seen) and records it.
    #[inline]
    pub fn next_dot(&mut self, replica: ReplicaId) -> Dot {
        if self.cloud.is_empty() {
            // Steady state: nothing to absorb. Saturates at u64::MAX instead of wrapping.
            let counter = self.vv.get(replica).saturating_add(1);
            self.vv.advance(replica, counter);
            return Dot::new(replica, counter);
        }
        let counter = self.reserve(replica, 1);
        Dot::new(replica, counter)
    }

    /// Allocates `n` consecutive events of `replica`, records them all, and returns the first
    /// counter (the events are `first..first + n`). Used by batch operations so a batch of `n`
    /// costs one context update.
    pub fn reserve(&mut self, replica: ReplicaId, n: u64) -> u64 {
        let first = if self.cloud.is_empty() {
            // Nothing to absorb: raise the vector directly.
            let first = self.vv.get(replica).saturating_add(1);
            if n > 0 {
                self.vv.advance(replica, first.saturating_add(n - 1));
            }
            return first;
        } else {
            self.max_counter(replica).saturating_add(1)
        };
        self.insert_range(replica, first, first.saturating_add(n));
        first
    }

    /// Adds every event of `other` (set union), then compacts.
    ///
    /// Allocation-free when both clouds are empty and the vectors name the same replicas,
    /// which is the steady state between syncing peers.
    pub fn merge(&mut self, other: &CausalContext) {
        if other.vv.len() <= 8 {
            // Small (delta) vectors: raise entries in place, which never allocates for
            // replicas already known (a full merge rebuilds the vector when replica sets differ).
            for (r, c) in other.vv.iter() {
                self.vv.advance(r, c);
            }
        } else {
            self.vv.merge(&other.vv);
        }
        if self.cloud.is_empty() && other.cloud.is_empty() {
            return;
        }
        let mut all: Vec<DotRange> = Vec::with_capacity(self.cloud.len() + other.cloud.len());
        all.extend_from_slice(&self.cloud);
        all.extend_from_slice(&other.cloud);
        sort_by_key(&mut all, |r| (r.replica, r.start));
        self.cloud.clear();
        self.rebuild_cloud(&all);
    }

    /// Re-inserts sorted ranges against the current vector, compacting as it goes.
    fn rebuild_cloud(&mut self, sorted: &[DotRange]) {
        for &r in sorted {
            let top = self.vv.get(r.replica);
            if r.end - 1 <= top {
                continue;
            }
            if r.start <= top.saturating_add(1) {
                // Ranges of one replica come in start order, and the cloud holds no range of
                // this replica yet (anything pushed earlier would have stopped this one
                // touching the vector), so advancing here is safe.
                self.vv.advance(r.replica, r.end - 1);
                continue;
            }
            match self.cloud.last_mut() {
                Some(last) if last.replica == r.replica && last.end >= r.start => {
                    last.end = last.end.max(r.end);
                }
                _ => self.cloud.push(r),
            }
        }
    }

    /// Iterates over every dot in the context, replica by replica in counter order.
    ///
    /// This enumerates single events, so it costs the *number of events*; it is meant for
    /// small (delta) contexts and for tests.
    pub fn dots(&self) -> impl Iterator<Item = Dot> + '_ {
        let from_vv = self
            .vv
            .iter()
            .flat_map(|(r, n)| (1..=n).map(move |c| Dot::new(r, c)));
        let from_cloud = self
            .cloud
            .iter()
            .flat_map(|g| (g.start..g.end).map(move |c| Dot::new(g.replica, c)));
        from_vv.chain(from_cloud)
    }

    /// Forgets everything.
    #[inline]
    pub fn clear(&mut self) {
        self.vv.clear();
        self.cloud.clear();
    }

    /// Checks the invariants listed on the type; `Err` names the first one broken.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        for (i, r) in self.cloud.iter().enumerate() {
            if r.start == 0 || r.start >= r.end {
                return Err("empty or zero-based range in dot cloud");
            }
            if r.start <= self.vv.get(r.replica).saturating_add(1) {
                return Err("dot cloud range touches the version vector");
            }
            if i > 0 {
                let p = self.cloud[i - 1];
                if (p.replica, p.start) >= (r.replica, r.start) {
                    return Err("dot cloud not sorted");
                }
                if p.replica == r.replica && p.end >= r.start {
                    return Err("dot cloud ranges overlap or touch");
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for CausalContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("CausalContext");
        s.field("vv", &self.vv);
        if !self.cloud.is_empty() {
            s.field("cloud", &self.cloud);
        }
        s.finish()
    }
}

impl Serialize for CausalContext {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cloud: Vec<(ReplicaId, u64, u64)> = self
            .cloud
            .iter()
            .map(|r| (r.replica, r.start, r.end))
            .collect();
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.vv)?;
        t.serialize_element(&cloud)?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for CausalContext {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (vv, SeqVec(raw)) = <(VersionVector, SeqVec<(ReplicaId, u64, u64)>)>::deserialize(d)?;
        let cloud = raw
            .into_iter()
            .map(|(replica, start, end)| DotRange {
                replica,
                start,
                end,
            })
            .collect();
        let ctx = CausalContext { vv, cloud };
        ctx.check_invariants().map_err(serde::de::Error::custom)?;
        Ok(ctx)
    }
}

impl crate::encoding::codec::Encode for CausalContext {
    fn encode(&self, w: &mut Vec<u8>) {
        use crate::encoding::codec::put_len;
        self.vv.encode(w);
        put_len(w, self.cloud.len());
        for r in &self.cloud {
            (r.replica, r.start, r.end).encode(w);
        }
    }
}

impl crate::encoding::codec::Decode<'_> for CausalContext {
    /// Reads the whole context, then checks its invariants (as the `Deserialize` impl does).
    fn decode(
        r: &mut crate::encoding::codec::Reader<'_>,
    ) -> Result<Self, crate::encoding::DecodeError> {
        // Charged as the serde path charges its `(ReplicaId, u64, u64)` rows.
        const _: () = assert!(
            core::mem::size_of::<DotRange>() == core::mem::size_of::<(ReplicaId, u64, u64)>()
        );
        let vv = VersionVector::decode(r)?;
        let cloud = r.vec_with(|r| {
            let (replica, start, end) = <(ReplicaId, u64, u64)>::decode(r)?;
            Ok(DotRange {
                replica,
                start,
                end,
            })
        })?;
        let ctx = CausalContext { vv, cloud };
        ctx.check_invariants()
            .map_err(|_| crate::encoding::REJECTED)?;
        Ok(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(r: u64, c: u64) -> Dot {
        Dot::new(ReplicaId(r), c)
    }

    #[test]
    fn out_of_order_dots_compact_when_contiguous() {
        let mut c = CausalContext::new();
        c.insert(d(1, 3));
        c.insert(d(1, 5));
        assert_eq!(c.cloud().len(), 2);
        assert!(c.contains(d(1, 3)) && !c.contains(d(1, 4)) && !c.contains(d(1, 1)));
        c.insert(d(1, 1));
        c.insert(d(1, 2));
        assert_eq!(c.cloud().len(), 1);
        c.insert(d(1, 4));
        assert!(c.cloud().is_empty());
        assert_eq!(c.version_vector().get(ReplicaId(1)), 5);
        c.check_invariants().unwrap();
    }

    #[test]
    fn merge_compacts_and_matches_union() {
        let a = CausalContext::from_dots([d(1, 1), d(1, 3), d(2, 4)]);
        let b = CausalContext::from_dots([d(1, 2), d(2, 1), d(2, 2)]);
        let mut m = a.clone();
        m.merge(&b);
        m.check_invariants().unwrap();
        let mut expect: Vec<Dot> = a.dots().chain(b.dots()).collect();
        expect.sort();
        expect.dedup();
        let mut got: Vec<Dot> = m.dots().collect();
        got.sort();
        assert_eq!(got, expect);
        assert_eq!(m.version_vector().get(ReplicaId(1)), 3);
        assert_eq!(m.cloud().len(), 1);
    }

    #[test]
    fn reserve_skips_past_cloud() {
        let mut c = CausalContext::from_dots([d(1, 1), d(1, 7)]);
        assert_eq!(c.reserve(ReplicaId(1), 3), 8);
        assert!(c.contains(d(1, 10)) && !c.contains(d(1, 11)));
        c.check_invariants().unwrap();
    }
}
