//! Version vectors: which events of which replicas a state has seen.
//!
//! A [`VersionVector`] maps each replica to the highest counter seen from it, with the
//! invariant that every counter below it was seen too ("events `1..=n`"). Storage is one sorted
//! `Vec<(ReplicaId, u64)>` with no zero entries: documents usually have a handful of writers, and
//! a sorted vector beats a hash map for them in both memory and merge speed (merge is one linear
//! pass over two sorted runs).
//!
//! Gaps (a dot seen without its predecessors, as happens with delta CRDTs) are not represented
//! here; [`CausalContext`](crate::CausalContext) layers a dot cloud on top for that.

use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::{Dot, ReplicaId};
use crate::encoding::codec::{Decode, Encode, Reader};
use crate::encoding::{DecodeError, REJECTED};

/// Finds `replica` in entries sorted by replica: `Ok(index)`, or `Err(insertion point)`.
///
/// Shared by every sorted `(replica, u64)` table in the crate (version vectors, counters).
/// A branch-free binary search: each step halves the range with a conditional move, so
/// the few-replica common case costs a handful of instructions and no mispredicted branch.
#[inline]
pub(crate) fn search_replica(
    entries: &[(ReplicaId, u64)],
    replica: ReplicaId,
) -> Result<usize, usize> {
    if entries.is_empty() {
        return Err(0);
    }
    let (mut base, mut size) = (0usize, entries.len());
    while size > 1 {
        let half = size / 2;
        if entries[base + half - 1].0 < replica {
            base += half;
        }
        size -= half;
    }
    let i = base + usize::from(entries[base].0 < replica);
    match entries.get(i) {
        Some(e) if e.0 == replica => Ok(i),
        _ => Err(i),
    }
}

/// A half-open range of one replica's counters, `start..end`.
///
/// Returned by [`VersionVector::difference`]: the events one side has and the other lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DotRange {
    /// The replica the counters belong to.
    pub replica: ReplicaId,
    /// First counter in the range (inclusive).
    pub start: u64,
    /// One past the last counter in the range.
    pub end: u64,
}

impl DotRange {
    /// Number of events in the range.
    #[inline]
    pub const fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range holds no event.
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// Whether `dot` lies in this range.
    #[inline]
    pub fn contains(&self, dot: Dot) -> bool {
        dot.replica == self.replica && dot.counter >= self.start && dot.counter < self.end
    }
}

/// The set of events seen, as "all counters `1..=n` of each replica".
///
/// Entries are kept sorted by replica with no zero counters, so two vectors that mean the same
/// thing compare equal and encode to the same bytes.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct VersionVector {
    entries: Vec<(ReplicaId, u64)>,
}

impl VersionVector {
    /// The vector in the wire format: the bytes [`encode`](crate::encode) writes for it (a
    /// `CVG` envelope), written without serde.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::encoding::encode_codec(self)
    }

    /// Reads [`to_bytes`](Self::to_bytes) (or [`encode`](crate::encode)) output: the same
    /// vector or error as [`decode`](crate::decode), read without serde. Never panics.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        crate::encoding::decode_codec(bytes)
    }

    /// An empty vector: nothing seen.
    #[inline]
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Builds a vector from `(replica, counter)` pairs in any order; duplicates keep the max.
    pub fn from_entries(pairs: impl IntoIterator<Item = (ReplicaId, u64)>) -> Self {
        let mut vv = Self::new();
        for (r, c) in pairs {
            vv.advance(r, c);
        }
        vv
    }

    #[inline]
    fn search(&self, replica: ReplicaId) -> Result<usize, usize> {
        search_replica(&self.entries, replica)
    }

    /// The highest counter seen from `replica` (0 if none).
    #[inline]
    pub fn get(&self, replica: ReplicaId) -> u64 {
        match self.search(replica) {
            Ok(i) => self.entries[i].1,
            Err(_) => 0,
        }
    }

    /// [`get`](Self::get) in the merge of `self` and `ahead`, without making it (a long
    /// vector and the few entries a pass has advanced beyond it).
    pub(crate) fn get_over(&self, ahead: &VersionVector, replica: ReplicaId) -> u64 {
        self.get(replica).max(ahead.get(replica))
    }

    /// Whether the event `dot` has been seen.
    #[inline]
    pub fn contains(&self, dot: Dot) -> bool {
        dot.counter != 0 && dot.counter <= self.get(dot.replica)
    }

    /// Raises `replica`'s entry to at least `counter` (never lowers it).
    pub fn advance(&mut self, replica: ReplicaId, counter: u64) {
        if counter == 0 {
            return;
        }
        match self.search(replica) {
            Ok(i) => {
                let e = &mut self.entries[i].1;
                if counter > *e {
                    *e = counter;
                }
            }
            Err(i) => self.entries.insert(i, (replica, counter)),
        }
    }

    /// Records `dot` as seen (and, by the vector's meaning, every earlier dot of its replica).
    #[inline]
    pub fn observe(&mut self, dot: Dot) {
        self.advance(dot.replica, dot.counter);
    }

    /// Allocates the next event for `replica`: bumps its entry and returns the new dot.
    pub fn next_dot(&mut self, replica: ReplicaId) -> Dot {
        let counter = match self.search(replica) {
            Ok(i) => {
                // Saturate rather than wrap: a wrapped counter would reuse dot 0/1 ids.
                let e = &mut self.entries[i].1;
                *e = e.saturating_add(1);
                *e
            }
            Err(i) => {
                self.entries.insert(i, (replica, 1));
                1
            }
        };
        Dot::new(replica, counter)
    }

    /// Pointwise maximum with `other`, in one linear pass.
    pub fn merge(&mut self, other: &VersionVector) {
        if other.entries.is_empty() {
            return;
        }
        // In place when `other` names no replica `self` lacks (the steady state between two
        // syncing peers): one forward pass, no allocation.
        let mut i = 0;
        let mut new_replicas = false;
        for &(r, c) in &other.entries {
            while i < self.entries.len() && self.entries[i].0 < r {
                i += 1;
            }
            match self.entries.get_mut(i) {
                Some(e) if e.0 == r => {
                    if c > e.1 {
                        e.1 = c;
                    }
                }
                _ => new_replicas = true,
            }
        }
        if !new_replicas {
            return;
        }
        // Shared replicas are already maxed; a sorted union adds the new ones.
        let mut out = Vec::with_capacity(self.entries.len() + other.entries.len());
        let (mut i, mut j) = (0, 0);
        let (a, b) = (&self.entries, &other.entries);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                Ordering::Less => {
                    out.push(a[i]);
                    i += 1;
                }
                Ordering::Greater => {
                    out.push(b[j]);
                    j += 1;
                }
                Ordering::Equal => {
                    out.push(a[i]);
                    i += 1;
                    j += 1;
                }
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        self.entries = out;
    }

    /// Whether every event in `other` is also in `self`.
    pub fn dominates(&self, other: &VersionVector) -> bool {
        other.entries.iter().all(|&(r, c)| self.get(r) >= c)
    }

    /// The causal (partial) order: `Less` if `self` saw strictly less, `Equal`, `Greater`, or
    /// `None` when the two are concurrent.
    pub fn compare(&self, other: &VersionVector) -> Option<Ordering> {
        let ge = self.dominates(other);
        let le = other.dominates(self);
        match (ge, le) {
            (true, true) => Some(Ordering::Equal),
            (true, false) => Some(Ordering::Greater),
            (false, true) => Some(Ordering::Less),
            (false, false) => None,
        }
    }

    /// Whether neither vector dominates the other.
    #[inline]
    pub fn concurrent_with(&self, other: &VersionVector) -> bool {
        self.compare(other).is_none()
    }

    /// The events `self` has seen and `other` has not, one range per replica.
    ///
    /// This is what a peer at `other` needs to be sent to catch up with `self`.
    pub fn difference<'a>(
        &'a self,
        other: &'a VersionVector,
    ) -> impl Iterator<Item = DotRange> + 'a {
        self.entries.iter().filter_map(move |&(replica, c)| {
            let theirs = other.get(replica);
            (c > theirs).then_some(DotRange {
                replica,
                start: theirs + 1,
                end: c + 1,
            })
        })
    }

    /// Total number of events covered (the sum of all entries).
    pub fn total(&self) -> u64 {
        self.entries
            .iter()
            .fold(0u64, |acc, &(_, c)| acc.saturating_add(c))
    }

    /// `(replica, counter)` entries in replica order.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (ReplicaId, u64)> + '_ {
        self.entries.iter().copied()
    }

    /// Number of replicas with at least one event.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing has been seen.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets everything.
    #[inline]
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl PartialOrd for VersionVector {
    /// The causal order; `None` for concurrent vectors. See [`VersionVector::compare`].
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.compare(other)
    }
}

impl fmt::Debug for VersionVector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(r, c)| (r.0, c)))
            .finish()
    }
}

impl FromIterator<(ReplicaId, u64)> for VersionVector {
    fn from_iter<I: IntoIterator<Item = (ReplicaId, u64)>>(iter: I) -> Self {
        Self::from_entries(iter)
    }
}

impl Serialize for VersionVector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.entries.len()))?;
        for e in &self.entries {
            seq.serialize_element(e)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for VersionVector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = VersionVector;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sorted sequence of (replica, counter) pairs")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                // Never trust a length prefix for preallocation: grow as elements arrive.
                let mut entries: Vec<(ReplicaId, u64)> =
                    Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
                while let Some((r, c)) = seq.next_element::<(ReplicaId, u64)>()? {
                    if c == 0 {
                        return Err(serde::de::Error::custom("zero counter in version vector"));
                    }
                    if entries.last().is_some_and(|&(last, _)| last >= r) {
                        return Err(serde::de::Error::custom("version vector not sorted"));
                    }
                    entries.push((r, c));
                }
                Ok(VersionVector { entries })
            }
        }
        d.deserialize_seq(V)
    }
}

impl Encode for VersionVector {
    fn encode(&self, w: &mut Vec<u8>) {
        self.entries.encode(w);
    }
}

impl Decode<'_> for VersionVector {
    /// Each entry is checked as it arrives, as the `Deserialize` impl does: a zero counter or
    /// an entry out of order is [`REJECTED`].
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut seq = r.seq(core::mem::size_of::<(ReplicaId, u64)>())?;
        let mut entries: Vec<(ReplicaId, u64)> = Vec::with_capacity(seq.capacity().min(16));
        while seq.next() {
            let (rep, c) = <(ReplicaId, u64)>::decode(r)?;
            seq.charge(r)?;
            if c == 0 || entries.last().is_some_and(|&(last, _)| last >= rep) {
                return Err(REJECTED);
            }
            entries.push((rep, c));
        }
        Ok(VersionVector { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vv(pairs: &[(u64, u64)]) -> VersionVector {
        pairs.iter().map(|&(r, c)| (ReplicaId(r), c)).collect()
    }

    #[test]
    fn search_replica_agrees_with_std_binary_search_at_every_size() {
        // Odd replica ids 1, 3, 5, ...: probe every id from 0 to past the end, so every
        // hit, every gap and both ends are tried for each table length.
        for len in 0..40u64 {
            let entries: Vec<(ReplicaId, u64)> =
                (0..len).map(|i| (ReplicaId(2 * i + 1), i)).collect();
            for probe in 0..2 * len + 3 {
                let want = entries.binary_search_by(|e| e.0.cmp(&ReplicaId(probe)));
                assert_eq!(
                    search_replica(&entries, ReplicaId(probe)),
                    want,
                    "len {len}, probe {probe}"
                );
            }
        }
    }

    #[test]
    fn merge_is_pointwise_max() {
        let mut a = vv(&[(1, 3), (3, 1)]);
        a.merge(&vv(&[(1, 2), (2, 5)]));
        assert_eq!(a, vv(&[(1, 3), (2, 5), (3, 1)]));
    }

    #[test]
    fn compare_partial_order() {
        let a = vv(&[(1, 3)]);
        let b = vv(&[(1, 3), (2, 1)]);
        let c = vv(&[(2, 2)]);
        assert_eq!(a.compare(&b), Some(Ordering::Less));
        assert_eq!(b.compare(&a), Some(Ordering::Greater));
        assert_eq!(a.compare(&a.clone()), Some(Ordering::Equal));
        assert_eq!(a.compare(&c), None);
        assert!(a.concurrent_with(&c));
    }

    #[test]
    fn difference_lists_missing_ranges() {
        let a = vv(&[(1, 5), (2, 2), (4, 1)]);
        let b = vv(&[(1, 3), (2, 2), (3, 9)]);
        let d: Vec<_> = a.difference(&b).collect();
        assert_eq!(
            d,
            [
                DotRange {
                    replica: ReplicaId(1),
                    start: 4,
                    end: 6
                },
                DotRange {
                    replica: ReplicaId(4),
                    start: 1,
                    end: 2
                },
            ]
        );
    }

    #[test]
    fn contains_and_next_dot() {
        let mut a = VersionVector::new();
        assert!(!a.contains(Dot::new(ReplicaId(7), 1)));
        assert_eq!(a.next_dot(ReplicaId(7)), Dot::new(ReplicaId(7), 1));
        assert_eq!(a.next_dot(ReplicaId(7)), Dot::new(ReplicaId(7), 2));
        assert!(a.contains(Dot::new(ReplicaId(7), 2)));
        assert!(!a.contains(Dot::new(ReplicaId(7), 3)));
        assert!(!a.contains(Dot::new(ReplicaId(7), 0)));
    }

    #[test]
    fn merge_subset_and_superset() {
        let mut a = vv(&[(1, 3), (2, 1), (5, 9)]);
        a.merge(&vv(&[(2, 4), (5, 2)]));
        assert_eq!(a, vv(&[(1, 3), (2, 4), (5, 9)]));
        let mut b = vv(&[(2, 4)]);
        b.merge(&vv(&[(1, 1), (2, 3), (6, 2)]));
        assert_eq!(b, vv(&[(1, 1), (2, 4), (6, 2)]));
    }

    #[test]
    fn next_dot_saturates() {
        let mut a = vv(&[(1, u64::MAX)]);
        assert_eq!(a.next_dot(ReplicaId(1)).counter, u64::MAX);
    }

    #[test]
    fn zero_entries_are_not_stored() {
        let mut a = VersionVector::new();
        a.advance(ReplicaId(1), 0);
        assert!(a.is_empty());
        assert_eq!(a, VersionVector::new());
    }

    #[test]
    fn codec_matches_serde() {
        use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};
        assert_same_as_serde(&VersionVector::new());
        assert_same_as_serde(&vv(&[(0, 1)]));
        assert_same_as_serde(&vv(&[(1, 3), (2, u64::MAX), (u64::MAX, 1)]));
        // Zero counters, unsorted or repeated replicas, each before a truncated entry.
        for bytes in [
            &[2, 1, 0, 2][..],
            &[2, 2, 1, 1, 1][..],
            &[3, 1, 1, 1, 1, 5][..],
            &[200, 1, 1][..],
        ] {
            assert_decodes_same::<VersionVector>(bytes, &[0, 18, 36, 100]);
        }
    }

    mod laws {
        use super::*;
        use proptest::prelude::*;

        fn arb_vv() -> impl Strategy<Value = VersionVector> {
            proptest::collection::vec((0u64..6, 0u64..8), 0..6)
                .prop_map(|p| p.into_iter().map(|(r, c)| (ReplicaId(r), c)).collect())
        }

        proptest! {
            #[test]
            fn codec_matches_serde_on_any_vector(a in arb_vv()) {
                crate::encoding::codec::tests::assert_same_as_serde(&a);
            }
        }

        fn join(a: &VersionVector, b: &VersionVector) -> VersionVector {
            let mut x = a.clone();
            x.merge(b);
            x
        }

        proptest! {
            #[test]
            fn merge_is_a_join(a in arb_vv(), b in arb_vv(), c in arb_vv()) {
                prop_assert_eq!(join(&a, &b), join(&b, &a));
                prop_assert_eq!(join(&join(&a, &b), &c), join(&a, &join(&b, &c)));
                prop_assert_eq!(join(&a, &a), a.clone());
                let ab = join(&a, &b);
                prop_assert!(ab.dominates(&a) && ab.dominates(&b));
                for r in 0..6 {
                    let r = ReplicaId(r);
                    prop_assert_eq!(ab.get(r), a.get(r).max(b.get(r)));
                }
            }

            #[test]
            fn compare_and_difference_agree(a in arb_vv(), b in arb_vv()) {
                let missing: u64 = a.difference(&b).map(|d| d.len()).sum();
                prop_assert_eq!(missing == 0, b.dominates(&a));
                // Sending `a - b` to `b` brings it to the join.
                let mut caught_up = b.clone();
                for d in a.difference(&b) {
                    caught_up.advance(d.replica, d.end - 1);
                }
                prop_assert_eq!(&caught_up, &join(&a, &b));
                prop_assert_eq!(a.compare(&b).map(|o| o.reverse()), b.compare(&a));
            }
        }
    }
}
