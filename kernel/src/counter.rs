//! Counters: [`GCounter`] (grow-only) and [`PNCounter`] (increments and decrements).
//!
//! A grow-only counter keeps one monotonically growing total per replica; its value is the
//! sum and merge is the pointwise maximum. Each replica only ever raises its own entry, so
//! no increment is counted twice or lost. A [`PNCounter`] is two of them, one for
//! increments and one for decrements, and its value (which may be negative) is the
//! difference.
//!
//! # Representation and invariants
//!
//! Entries are one `Vec<(ReplicaId, u64)>` sorted by replica, with no zero totals. A counter
//! has a handful of writers in practice, and for those a sorted vector beats any hash map:
//! merge is one linear pass, the fast path (same replica set on both sides) touches no
//! allocator, and equal counters have equal bytes. Totals saturate at `u64::MAX` rather than
//! wrap, so the order the merge relies on is never inverted.
//!
//! Local operations take the acting [`ReplicaId`] and return the delta to ship: a counter
//! holding just that replica's new total.

use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

use converge_pool::Scratch;
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::ReplicaId;
use crate::crdt::{Crdt, SeqVec, strictly_sorted_by};
use crate::encoding::{TypeTag, WireType};
use crate::sort::sort_by;

/// A grow-only counter: per-replica totals, value = their sum.
///
/// ```
/// use converge::{Crdt, GCounter, ReplicaId};
/// let (a, b) = (ReplicaId(1), ReplicaId(2));
/// let mut x = GCounter::new();
/// let mut y = GCounter::new();
/// let dx = x.inc(a, 2);
/// y.inc(b, 5);
/// y.merge_delta(&dx);
/// x.merge(&y);
/// assert_eq!((x.value(), y.value()), (7, 7));
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct GCounter {
    /// Sorted by replica, no zero totals.
    entries: Vec<(ReplicaId, u64)>,
}

impl GCounter {
    /// A zero counter. Does not allocate.
    #[inline]
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    #[inline]
    fn search(&self, replica: ReplicaId) -> Result<usize, usize> {
        crate::version::search_replica(&self.entries, replica)
    }

    /// The counter's value: the sum of all replicas' totals (saturating).
    #[inline]
    pub fn value(&self) -> u64 {
        self.entries
            .iter()
            .fold(0u64, |acc, &(_, n)| acc.saturating_add(n))
    }

    /// `replica`'s total contribution (0 if none).
    #[inline]
    pub fn get(&self, replica: ReplicaId) -> u64 {
        match self.search(replica) {
            Ok(i) => self.entries[i].1,
            Err(_) => 0,
        }
    }

    /// Adds `by` on behalf of `replica` and returns the delta (that replica's new total).
    ///
    /// `by == 0` changes nothing and returns an empty delta.
    pub fn inc(&mut self, replica: ReplicaId, by: u64) -> GCounter {
        if by == 0 {
            return GCounter::new();
        }
        let total = match self.search(replica) {
            Ok(i) => {
                let e = &mut self.entries[i].1;
                *e = e.saturating_add(by);
                *e
            }
            Err(i) => {
                self.entries.insert(i, (replica, by));
                by
            }
        };
        GCounter {
            entries: alloc::vec![(replica, total)],
        }
    }

    /// The delta [`inc`](Self::inc) would return, without applying it (a *delta mutator*).
    ///
    /// Meant for nested values: `map.update(r, key, |c| c.inc_delta(r, 1))` builds the change
    /// from a borrowed value instead of a mutated clone.
    pub fn inc_delta(&self, replica: ReplicaId, by: u64) -> GCounter {
        if by == 0 {
            return GCounter::new();
        }
        GCounter {
            entries: alloc::vec![(replica, self.get(replica).saturating_add(by))],
        }
    }

    /// `(replica, total)` entries in replica order.
    #[inline]
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (ReplicaId, u64)> + '_ {
        self.entries.iter().copied()
    }

    /// Number of replicas that contributed.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no replica contributed (the value is 0).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Pointwise max with sorted, duplicate-free `other` entries, in place.
    ///
    /// Allocation-free unless `other` names replicas `self` lacks. Then, if the vector has room
    /// it merges from the back in place; otherwise it merges forward into one new vector
    /// (growing first would copy the entries anyway).
    #[inline]
    fn join_sorted(&mut self, other: &[(ReplicaId, u64)]) {
        match *other {
            [] => {}
            // One entry (a delta from one replica): a search and at most one insert.
            [(r, n)] => self.join_one(r, n),
            _ => self.join_sorted_slow(other),
        }
    }

    /// [`join_sorted`](Self::join_sorted) for one entry. Kept small so it inlines into the
    /// merge of a one-replica delta, the most common merge there is.
    #[inline]
    fn join_one(&mut self, r: ReplicaId, n: u64) {
        match self.search(r) {
            Ok(i) => {
                let e = &mut self.entries[i].1;
                if n > *e {
                    *e = n;
                }
            }
            Err(i) => self.insert_new(i, r, n),
        }
    }

    /// Inserts a replica's first entry at `i`. Out of line: it may grow the vector.
    #[inline(never)]
    fn insert_new(&mut self, i: usize, r: ReplicaId, n: u64) {
        self.entries.insert(i, (r, n));
    }

    /// [`join_sorted`](Self::join_sorted) for two or more entries. Out of line, so the
    /// one-entry path stays small.
    #[inline(never)]
    fn join_sorted_slow(&mut self, other: &[(ReplicaId, u64)]) {
        let a = &mut self.entries;
        // Fast path: same replica set.
        if a.len() == other.len() && a.iter().zip(other).all(|(x, y)| x.0 == y.0) {
            for (x, y) in a.iter_mut().zip(other) {
                if y.1 > x.1 {
                    x.1 = y.1;
                }
            }
            return;
        }
        // Raise shared entries in place until the first replica only `other` has.
        let (mut i, mut j) = (0, 0);
        while j < other.len() {
            let (r, n) = other[j];
            while i < a.len() && a[i].0 < r {
                i += 1;
            }
            if i < a.len() && a[i].0 == r {
                if n > a[i].1 {
                    a[i].1 = n;
                }
                i += 1;
                j += 1;
            } else {
                break;
            }
        }
        if j == other.len() {
            return; // no new replica: done in place, no allocation
        }
        let rest = &other[j..];
        if a.capacity() - a.len() >= rest.len() {
            // Room for the worst case: finish counting, then merge from the back in place.
            let mut missing = 0usize;
            let mut k = i;
            for &(r, n) in rest {
                while k < a.len() && a[k].0 < r {
                    k += 1;
                }
                if k < a.len() && a[k].0 == r {
                    if n > a[k].1 {
                        a[k].1 = n;
                    }
                } else {
                    missing += 1;
                }
            }
            let old = a.len();
            a.resize(old + missing, (ReplicaId(0), 0));
            let (mut i, mut j, mut w) = (old, rest.len(), old + missing);
            while j > 0 {
                if i > 0 && a[i - 1].0 >= rest[j - 1].0 {
                    if a[i - 1].0 == rest[j - 1].0 {
                        // Already maxed above.
                        j -= 1;
                    }
                    w -= 1;
                    a[w] = a[i - 1];
                    i -= 1;
                } else {
                    w -= 1;
                    a[w] = rest[j - 1];
                    j -= 1;
                }
            }
        } else {
            // Growing would copy anyway: merge the rest forward into one new vector, in the
            // same pass (capacity for the worst case, at most `rest.len()` spare).
            let mut out = Vec::with_capacity(a.len() + rest.len());
            out.extend_from_slice(&a[..i]);
            let mut j = 0;
            while i < a.len() && j < rest.len() {
                match a[i].0.cmp(&rest[j].0) {
                    Ordering::Less => {
                        out.push(a[i]);
                        i += 1;
                    }
                    Ordering::Greater => {
                        out.push(rest[j]);
                        j += 1;
                    }
                    Ordering::Equal => {
                        out.push((a[i].0, a[i].1.max(rest[j].1)));
                        i += 1;
                        j += 1;
                    }
                }
            }
            out.extend_from_slice(&a[i..]);
            out.extend_from_slice(&rest[j..]);
            *a = out;
        }
    }

    /// Joins many counters in one pass: entries of replicas already present are maxed in
    /// place, and new replicas are inserted directly while the counter is small; past that,
    /// new replicas' entries are gathered into `scratch`, sorted (highest total first),
    /// deduplicated and merged in with a single grow of the vector.
    fn join_all<'a>(&mut self, parts: impl Iterator<Item = &'a GCounter>, scratch: &Scratch) {
        let mut fresh = scratch.vec::<(ReplicaId, u64)>();
        for p in parts {
            for &(r, n) in &p.entries {
                match self.search(r) {
                    Ok(i) => {
                        let e = &mut self.entries[i].1;
                        if n > *e {
                            *e = n;
                        }
                    }
                    // Few replicas: a sorted insert is cheapest. Many: defer to one merge.
                    Err(i) if self.entries.len() < 32 => self.entries.insert(i, (r, n)),
                    Err(_) => fresh.push((r, n)),
                }
            }
        }
        if fresh.is_empty() {
            return;
        }
        sort_by(&mut fresh, |x, y| x.0.cmp(&y.0).then(y.1.cmp(&x.1)).is_lt());
        fresh.dedup_by_key(|e| e.0);
        self.join_sorted(&fresh);
    }

    fn from_entries_checked(entries: Vec<(ReplicaId, u64)>) -> Result<Self, &'static str> {
        if entries.iter().any(|&(_, n)| n == 0) {
            return Err("zero total in counter");
        }
        if !strictly_sorted_by(&entries, |a, b| a.0 < b.0) {
            return Err("counter entries not sorted by replica");
        }
        Ok(Self { entries })
    }
}

impl Crdt for GCounter {
    type Delta = GCounter;

    #[inline]
    fn merge(&mut self, other: &Self) {
        self.join_sorted(&other.entries);
    }

    #[inline]
    fn merge_delta(&mut self, delta: &Self::Delta) {
        self.join_sorted(&delta.entries);
    }

    #[inline]
    fn merge_delta_owned(&mut self, delta: Self::Delta) {
        crate::crdt::take_or_merge(self, delta);
    }

    fn merge_batch_in(&mut self, deltas: &[Self::Delta], scratch: &mut Scratch) {
        self.join_all(deltas.iter(), scratch);
    }

    #[inline]
    fn is_bottom(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Debug for GCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(r, n)| (r.0, n)))
            .finish()
    }
}

impl Serialize for GCounter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(s)
    }
}

impl<'de> Deserialize<'de> for GCounter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let SeqVec(entries) = SeqVec::<(ReplicaId, u64)>::deserialize(d)?;
        Self::from_entries_checked(entries).map_err(serde::de::Error::custom)
    }
}

impl WireType for GCounter {
    const TAG: TypeTag = TypeTag::GCounter;
}

/// A counter that can go up and down (and below zero): two [`GCounter`]s, value = P − N.
///
/// ```
/// use converge::{Crdt, PNCounter, ReplicaId};
/// let mut c = PNCounter::new();
/// c.inc(ReplicaId(1), 2);
/// c.dec(ReplicaId(2), 5);
/// assert_eq!(c.value(), -3);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct PNCounter {
    p: GCounter,
    n: GCounter,
}

impl PNCounter {
    /// A zero counter. Does not allocate.
    #[inline]
    pub const fn new() -> Self {
        Self {
            p: GCounter::new(),
            n: GCounter::new(),
        }
    }

    /// The value, increments minus decrements, clamped to the `i64` range.
    #[inline]
    pub fn value(&self) -> i64 {
        let v = i128::from(self.p.value()) - i128::from(self.n.value());
        v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// Adds `by` on behalf of `replica`; returns the delta.
    pub fn inc(&mut self, replica: ReplicaId, by: u64) -> PNCounter {
        PNCounter {
            p: self.p.inc(replica, by),
            n: GCounter::new(),
        }
    }

    /// Subtracts `by` on behalf of `replica`; returns the delta.
    pub fn dec(&mut self, replica: ReplicaId, by: u64) -> PNCounter {
        PNCounter {
            p: GCounter::new(),
            n: self.n.inc(replica, by),
        }
    }

    /// Adds a signed amount on behalf of `replica`; returns the delta.
    pub fn add(&mut self, replica: ReplicaId, amount: i64) -> PNCounter {
        if amount >= 0 {
            self.inc(replica, amount as u64)
        } else {
            self.dec(replica, amount.unsigned_abs())
        }
    }

    /// The delta [`inc`](Self::inc) would return, without applying it.
    pub fn inc_delta(&self, replica: ReplicaId, by: u64) -> PNCounter {
        PNCounter {
            p: self.p.inc_delta(replica, by),
            n: GCounter::new(),
        }
    }

    /// The delta [`dec`](Self::dec) would return, without applying it.
    pub fn dec_delta(&self, replica: ReplicaId, by: u64) -> PNCounter {
        PNCounter {
            p: GCounter::new(),
            n: self.n.inc_delta(replica, by),
        }
    }

    /// The delta [`add`](Self::add) would return, without applying it.
    pub fn add_delta(&self, replica: ReplicaId, amount: i64) -> PNCounter {
        if amount >= 0 {
            self.inc_delta(replica, amount as u64)
        } else {
            self.dec_delta(replica, amount.unsigned_abs())
        }
    }

    /// Total of all increments.
    #[inline]
    pub fn increments(&self) -> &GCounter {
        &self.p
    }

    /// Total of all decrements.
    #[inline]
    pub fn decrements(&self) -> &GCounter {
        &self.n
    }
}

impl Crdt for PNCounter {
    type Delta = PNCounter;

    #[inline]
    fn merge(&mut self, other: &Self) {
        self.p.join_sorted(&other.p.entries);
        self.n.join_sorted(&other.n.entries);
    }

    #[inline]
    fn merge_delta(&mut self, delta: &Self::Delta) {
        self.merge(delta);
    }

    #[inline]
    fn merge_delta_owned(&mut self, delta: Self::Delta) {
        crate::crdt::take_or_merge(self, delta);
    }

    fn merge_batch_in(&mut self, deltas: &[Self::Delta], scratch: &mut Scratch) {
        self.p.join_all(deltas.iter().map(|d| &d.p), scratch);
        self.n.join_all(deltas.iter().map(|d| &d.n), scratch);
    }

    #[inline]
    fn is_bottom(&self) -> bool {
        self.p.is_empty() && self.n.is_empty()
    }
}

impl fmt::Debug for PNCounter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PNCounter")
            .field("p", &self.p)
            .field("n", &self.n)
            .finish()
    }
}

impl Serialize for PNCounter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.p)?;
        t.serialize_element(&self.n)?;
        t.end()
    }
}

impl<'de> Deserialize<'de> for PNCounter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (p, n) = <(GCounter, GCounter)>::deserialize(d)?;
        Ok(Self { p, n })
    }
}

impl WireType for PNCounter {
    const TAG: TypeTag = TypeTag::PNCounter;
}

impl crate::encoding::codec::Encode for GCounter {
    fn encode(&self, w: &mut Vec<u8>) {
        self.entries.encode(w);
    }
}

impl crate::encoding::codec::Decode<'_> for GCounter {
    /// Reads the entries, then checks them as the `Deserialize` impl does.
    fn decode(
        r: &mut crate::encoding::codec::Reader<'_>,
    ) -> Result<Self, crate::encoding::DecodeError> {
        let entries = Vec::<(ReplicaId, u64)>::decode(r)?;
        Self::from_entries_checked(entries).map_err(|_| crate::encoding::REJECTED)
    }
}

impl crate::encoding::codec::Encode for PNCounter {
    fn encode(&self, w: &mut Vec<u8>) {
        self.p.encode(w);
        self.n.encode(w);
    }
}

impl crate::encoding::codec::Decode<'_> for PNCounter {
    fn decode(
        r: &mut crate::encoding::codec::Reader<'_>,
    ) -> Result<Self, crate::encoding::DecodeError> {
        Ok(Self {
            p: GCounter::decode(r)?,
            n: GCounter::decode(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_matches_serde() {
        use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};
        let mut c = PNCounter::new();
        assert_same_as_serde(&c);
        c.inc(ReplicaId(0), 1);
        c.inc(ReplicaId(u64::MAX), u64::MAX);
        c.dec(ReplicaId(7), 300);
        assert_same_as_serde(&c);
        assert_same_as_serde(&c.p);
        // A zero total, unsorted replicas.
        for bytes in [&[1, 1, 0][..], &[2, 2, 1, 1, 1], &[0, 1, 1, 1, 9]] {
            assert_decodes_same::<GCounter>(bytes, &[0, 20]);
            assert_decodes_same::<PNCounter>(bytes, &[0, 20]);
        }
    }

    proptest::proptest! {
        #[test]
        fn codec_matches_serde_on_any_counter(ops in proptest::collection::vec((0u64..5, proptest::prelude::any::<u32>(), proptest::prelude::any::<bool>()), 0..12)) {
            let mut c = PNCounter::new();
            for (r, by, up) in ops {
                if up { c.inc(ReplicaId(r), u64::from(by)); } else { c.dec(ReplicaId(r), u64::from(by)); }
            }
            crate::encoding::codec::tests::assert_same_as_serde(&c);
        }
    }

    fn g(pairs: &[(u64, u64)]) -> GCounter {
        let mut c = GCounter::new();
        for &(r, n) in pairs {
            c.inc(ReplicaId(r), n);
        }
        c
    }

    #[test]
    fn join_sorted_back_merge_interleaves() {
        let mut a = g(&[(2, 5), (5, 1), (9, 3)]);
        a.merge(&g(&[(1, 1), (2, 7), (6, 2), (10, 4)]));
        assert_eq!(a, g(&[(1, 1), (2, 7), (5, 1), (6, 2), (9, 3), (10, 4)]));
    }

    #[test]
    fn merge_adding_replicas_raises_later_shared_ones_with_and_without_room() {
        let b = g(&[(3, 2), (5, 9), (8, 1)]);
        let expect = g(&[(1, 1), (3, 2), (5, 9), (8, 1)]);
        // Room to grow: the in-place back merge.
        let mut roomy = g(&[(1, 1), (5, 4)]);
        roomy.entries.reserve(16);
        roomy.merge(&b);
        assert_eq!(roomy, expect);
        // No room: the forward merge into a new vector.
        let mut tight = g(&[(1, 1), (5, 4)]);
        tight.entries.shrink_to_fit();
        tight.merge(&b);
        assert_eq!(tight, expect);
    }

    #[test]
    fn batch_keeps_max_per_replica() {
        let mut a = g(&[(1, 3)]);
        a.merge_batch(&[g(&[(1, 2), (4, 1)]), g(&[(4, 6)]), g(&[(1, 9)])]);
        assert_eq!(a, g(&[(1, 9), (4, 6)]));
    }
}
