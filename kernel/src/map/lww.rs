//! [`LwwMap`]: a map with a last-writer-wins register per key.
//!
//! Each key holds the value of its newest write, ordered by [`Timestamp`] (Lamport value, then
//! replica id). Local writes are stamped one Lamport tick past the newest timestamp the map has
//! seen, so a replica's writes always win over what it has observed; the `*_at` variants take a
//! timestamp from a caller's shared [`Lamport`](crate::Lamport) clock instead.
//!
//! **Removal leaves a tombstone.** A removed key keeps `(key, timestamp)` with no value, because
//! LWW needs the removal's timestamp to beat older writes arriving later. A tombstone costs one
//! row (the key, a 16-byte timestamp, an empty value slot); [`LwwMap::tombstones`] counts them
//! and [`LwwMap::purge_tombstones`]
//! drops those at or below a Lamport value the application knows every replica has passed
//! (purging earlier can let an old write reappear on a replica that has not seen the remove).
//! The delta of an operation is an `LwwMap` holding just the written keys.
//!
//!
//! # Invariants
//!
//! Entries sorted by key and unique, side buffer likewise and disjoint from them; the live
//! count and newest Lamport value are caches of the entries. Decoding rejects input that
//! breaks them.

use alloc::vec::Vec;
use core::fmt;
use core::hash::Hash;

use converge_pool::Scratch;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clock::{ReplicaId, Timestamp};
use crate::crdt::{Crdt, SeqVec, dedup_keep_last, strictly_sorted_by};
use crate::encoding::codec::{Decode, Encode, Reader, put_len};
use crate::encoding::{DecodeError, REJECTED, TypeTag, WireType};
use crate::sort::sort_by;

/// One key's newest write: a value, or `None` for a removal (tombstone).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct LwwEntry<V> {
    ts: Timestamp,
    value: Option<V>,
}

type Row<K, V> = (K, LwwEntry<V>);

/// A map with a last-writer-wins register per key. See the [module docs](self). Its delta type
/// is itself.
///
/// Entries live in a sorted vector, so merging two maps is one linear merge of sorted runs
/// (no hashing, and no allocation unless new keys arrive) and the encoding needs no sort.
/// Small deltas are merged by binary search instead. New keys from
/// single inserts go to a small sorted side buffer that is folded in once it passes an eighth
/// of the map, so one insert never shifts the whole map; batch inserts and merges fold
/// directly. Reads are binary searches.
///
/// ```
/// use converge::{Crdt, LwwMap, ReplicaId};
/// let mut a = LwwMap::new();
/// let mut b = LwwMap::new();
/// let da = a.insert(ReplicaId(1), "color", "red");
/// let db = b.insert(ReplicaId(2), "color", "blue"); // same Lamport time: replica 2 wins
/// a.merge_delta(&db);
/// b.merge_delta(&da);
/// assert_eq!(a.get(&"color"), Some(&"blue"));
/// assert_eq!(a, b);
/// ```
#[derive(Clone)]
pub struct LwwMap<K, V> {
    /// Sorted by key, unique.
    main: Vec<Row<K, V>>,
    /// Keys inserted since the last fold: sorted, unique, disjoint from `main`.
    pending: Vec<Row<K, V>>,
    /// Number of entries holding a value (not tombstones).
    live: usize,
    /// Greatest Lamport value of any entry.
    max_lamport: u64,
}

impl<K, V> Default for LwwMap<K, V> {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

/// Iterates two sorted, key-disjoint runs in key order.
struct Merged<'a, K, V> {
    a: &'a [Row<K, V>],
    b: &'a [Row<K, V>],
}

impl<K, V> Clone for Merged<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            a: self.a,
            b: self.b,
        }
    }
}

impl<'a, K: Ord, V> Iterator for Merged<'a, K, V> {
    type Item = &'a Row<K, V>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let take_a = match (self.a.first(), self.b.first()) {
            (Some(x), Some(y)) => x.0 < y.0,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let side = if take_a { &mut self.a } else { &mut self.b };
        let (first, rest) = side.split_first()?;
        *side = rest;
        Some(first)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.a.len() + self.b.len();
        (n, Some(n))
    }
}

impl<K, V> LwwMap<K, V> {
    /// An empty map. Does not allocate.
    #[inline]
    pub const fn new() -> Self {
        Self {
            main: Vec::new(),
            pending: Vec::new(),
            live: 0,
            max_lamport: 0,
        }
    }

    /// Number of keys with a value.
    #[inline]
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no key has a value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Number of removed keys still held as tombstones.
    #[inline]
    pub fn tombstones(&self) -> usize {
        self.main.len() + self.pending.len() - self.live
    }

    /// The timestamp the next local write by `replica` gets: one Lamport tick past the newest
    /// timestamp seen.
    #[inline]
    pub fn next_timestamp(&self, replica: ReplicaId) -> Timestamp {
        Timestamp::new(self.max_lamport.saturating_add(1), replica)
    }

    /// Drops tombstones whose Lamport value is at most `stable`; returns how many.
    ///
    /// Only safe once every replica has merged every write with a Lamport value up to
    /// `stable` (for example, the minimum of all replicas' [`next_timestamp`] values minus
    /// one, gathered by the application). Purging earlier may let an older write reappear.
    ///
    /// [`next_timestamp`]: Self::next_timestamp
    pub fn purge_tombstones(&mut self, stable: u64) -> usize {
        let before = self.main.len() + self.pending.len();
        let keep = |r: &Row<K, V>| r.1.value.is_some() || r.1.ts.lamport > stable;
        self.main.retain(keep);
        self.pending.retain(keep);
        before - self.main.len() - self.pending.len()
    }

    /// Folds the side buffer into the main run.
    fn fold_pending(&mut self)
    where
        K: Ord,
    {
        if self.pending.is_empty() {
            return;
        }
        let mut out = Vec::with_capacity(self.main.len() + self.pending.len());
        let mut a = core::mem::take(&mut self.main).into_iter();
        for row in self.pending.drain(..) {
            // Move the run of main rows below this key in one go.
            let run = a.as_slice().partition_point(|x| x.0 < row.0);
            out.extend(a.by_ref().take(run));
            out.push(row);
        }
        out.extend(a);
        self.main = out;
    }

    /// All rows, tombstones included, in key order.
    #[inline]
    fn rows(&self) -> Merged<'_, K, V> {
        Merged {
            a: &self.main,
            b: &self.pending,
        }
    }
}

impl<K: Ord, V> LwwMap<K, V> {
    #[inline]
    fn find(&self, key: &K) -> Option<&LwwEntry<V>> {
        if let Ok(i) = self.main.binary_search_by(|r| r.0.cmp(key)) {
            return Some(&self.main[i].1);
        }
        if self.pending.is_empty() {
            return None;
        }
        match self.pending.binary_search_by(|r| r.0.cmp(key)) {
            Ok(i) => Some(&self.pending[i].1),
            Err(_) => None,
        }
    }

    /// The value of `key`, if present.
    #[inline]
    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).and_then(|e| e.value.as_ref())
    }

    /// Whether `key` has a value.
    #[inline]
    pub fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }

    /// The timestamp of `key`'s newest write or removal.
    #[inline]
    pub fn timestamp(&self, key: &K) -> Option<Timestamp> {
        self.find(key).map(|e| e.ts)
    }

    /// For each of `keys`, whether it has a value (same order).
    pub fn contains_keys(&self, keys: &[K]) -> Vec<bool> {
        keys.iter().map(|k| self.contains_key(k)).collect()
    }

    /// The live `(key, value)` pairs in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.rows()
            .filter_map(|(k, e)| e.value.as_ref().map(|v| (k, v)))
    }
}

impl<K: Ord, V: Clone> LwwMap<K, V> {
    /// The values of `keys`, owned (for FFI callers), in the same order.
    pub fn get_batch(&self, keys: &[K]) -> Vec<Option<V>> {
        keys.iter().map(|k| self.get(k).cloned()).collect()
    }
}

/// How a row from the other side changes the live count: `+1`, `0` or `-1` as a pair of adds.
#[inline]
fn live_delta<V>(old: &Option<V>, new: &Option<V>) -> (usize, usize) {
    (usize::from(new.is_some()), usize::from(old.is_some()))
}

impl<K: Ord + Clone, V: Clone> LwwMap<K, V> {
    /// Joins one row by binary search; a new key goes to the side buffer.
    fn merge_one(&mut self, key: &K, e: &LwwEntry<V>) {
        if e.ts.lamport > self.max_lamport {
            self.max_lamport = e.ts.lamport;
        }
        if self.pending.is_empty() && self.main.last().is_none_or(|r| r.0 < *key) {
            // Appending past the greatest key (ids, timestamps, counters as keys) keeps
            // `main` sorted at no cost, and the map stays one run for later merges.
            self.live += usize::from(e.value.is_some());
            self.main.push((key.clone(), e.clone()));
            return;
        }
        let slot = match self.main.binary_search_by(|r| r.0.cmp(key)) {
            Ok(i) => Ok(&mut self.main[i].1),
            Err(_) => match self.pending.binary_search_by(|r| r.0.cmp(key)) {
                Ok(i) => Ok(&mut self.pending[i].1),
                Err(i) => Err(i),
            },
        };
        match slot {
            Ok(cur) => {
                if e.ts > cur.ts {
                    let (add, sub) = live_delta(&cur.value, &e.value);
                    self.live = self.live + add - sub;
                    cur.ts = e.ts;
                    cur.value.clone_from(&e.value);
                }
            }
            Err(i) => {
                self.live += usize::from(e.value.is_some());
                self.pending.insert(i, (key.clone(), e.clone()));
                if self.pending.len() > 16 && self.pending.len() > self.main.len() / 8 {
                    self.fold_pending();
                }
            }
        }
    }

    /// Joins sorted, key-unique rows (`n` of them) with one linear pass over the map, or by
    /// binary search when there are few of them.
    fn merge_rows<'a, I>(&mut self, rows: I, n: usize, max_lamport: u64)
    where
        I: Iterator<Item = (&'a K, &'a LwwEntry<V>)> + Clone,
        K: 'a,
        V: 'a,
    {
        let size = self.main.len() + self.pending.len();
        // Binary search wins while n * log2(size) < size.
        let log = (usize::BITS - size.leading_zeros()) as usize;
        if n.saturating_mul(log + 1) < size {
            for (k, e) in rows {
                self.merge_one(k, e);
            }
            return;
        }
        self.fold_pending();
        if max_lamport > self.max_lamport {
            self.max_lamport = max_lamport;
        }
        // Pass 1: update shared keys in place, count new ones.
        let mut missing = 0usize;
        let mut live = self.live;
        let mut rest: &mut [Row<K, V>] = &mut self.main;
        for (k, e) in rows.clone() {
            // Skip our keys below `k`: usually none (the runs share most keys), otherwise a
            // binary search over the gap.
            if rest.first().is_some_and(|r| r.0 < *k) {
                let skip = rest.partition_point(|r| r.0 < *k);
                rest = &mut rest[skip..];
            }
            match rest.first_mut() {
                Some(cur) if cur.0 == *k => {
                    let cur = &mut cur.1;
                    if e.ts > cur.ts {
                        let (add, sub) = live_delta(&cur.value, &e.value);
                        live = live + add - sub;
                        cur.ts = e.ts;
                        cur.value.clone_from(&e.value);
                    }
                    rest = &mut rest[1..];
                }
                _ => missing += 1,
            }
        }
        self.live = live;
        if missing == 0 {
            return;
        }
        // Pass 2: interleave the new keys (shared ones are already up to date), moving our
        // rows over in runs.
        let mut out = Vec::with_capacity(self.main.len() + missing);
        let mut old = core::mem::take(&mut self.main).into_iter();
        for (k, e) in rows {
            let below = old.as_slice();
            if below.first().is_some_and(|x| x.0 < *k) {
                let run = below.partition_point(|x| x.0 < *k);
                out.extend(old.by_ref().take(run));
            }
            if old.as_slice().first().is_some_and(|x| x.0 == *k) {
                out.extend(old.next());
            } else {
                self.live += usize::from(e.value.is_some());
                out.push((k.clone(), e.clone()));
            }
        }
        out.extend(old);
        self.main = out;
    }

    /// A one-row delta.
    fn single(key: K, e: LwwEntry<V>) -> LwwMap<K, V> {
        LwwMap {
            max_lamport: e.ts.lamport,
            live: usize::from(e.value.is_some()),
            main: alloc::vec![(key, e)],
            pending: Vec::new(),
        }
    }

    /// A delta from rows in write order: sorted by key, the last write of each key kept.
    fn from_rows(mut rows: Vec<Row<K, V>>) -> LwwMap<K, V> {
        if !strictly_sorted_by(&rows, |a, b| a.0 < b.0) {
            // Stable sort keeps write order within a key; keep the last.
            sort_by(&mut rows, |a, b| a.0 < b.0);
            dedup_keep_last(&mut rows, |r| &r.0);
        }
        LwwMap {
            max_lamport: rows.iter().map(|r| r.1.ts.lamport).max().unwrap_or(0),
            live: rows.iter().filter(|r| r.1.value.is_some()).count(),
            main: rows,
            pending: Vec::new(),
        }
    }

    /// Writes `value` under `key` on behalf of `replica`, newer than anything seen; returns
    /// the delta.
    pub fn insert(&mut self, replica: ReplicaId, key: K, value: V) -> LwwMap<K, V> {
        let ts = self.next_timestamp(replica);
        self.insert_at(ts, key, value)
    }

    /// The delta [`insert`](Self::insert) would return, without applying it (a *delta
    /// mutator*, for nested use in [`OrMap::update`](crate::OrMap::update)).
    pub fn insert_delta(&self, replica: ReplicaId, key: K, value: V) -> LwwMap<K, V> {
        let e = LwwEntry {
            ts: self.next_timestamp(replica),
            value: Some(value),
        };
        Self::single(key, e)
    }

    /// The delta [`remove`](Self::remove) would return, without applying it.
    pub fn remove_delta(&self, replica: ReplicaId, key: &K) -> LwwMap<K, V> {
        if !self.contains_key(key) {
            return LwwMap::new();
        }
        let e = LwwEntry {
            ts: self.next_timestamp(replica),
            value: None,
        };
        Self::single(key.clone(), e)
    }

    /// Writes `value` under `key` at a caller-chosen timestamp. If an existing write of the
    /// key is newer, this write loses (the state is unchanged); the returned delta describes
    /// the write either way.
    pub fn insert_at(&mut self, ts: Timestamp, key: K, value: V) -> LwwMap<K, V> {
        let e = LwwEntry {
            ts,
            value: Some(value),
        };
        self.merge_one(&key, &e);
        Self::single(key, e)
    }

    /// Removes `key` on behalf of `replica`, leaving a tombstone; returns the delta (empty if
    /// the key had no value).
    pub fn remove(&mut self, replica: ReplicaId, key: &K) -> LwwMap<K, V> {
        if !self.contains_key(key) {
            return LwwMap::new();
        }
        let ts = self.next_timestamp(replica);
        self.remove_at(ts, key)
    }

    /// Removes `key` at a caller-chosen timestamp (loses against a newer write); returns the
    /// delta.
    pub fn remove_at(&mut self, ts: Timestamp, key: &K) -> LwwMap<K, V> {
        let e = LwwEntry { ts, value: None };
        self.merge_one(key, &e);
        Self::single(key.clone(), e)
    }

    /// Writes every `(key, value)` of `items` on behalf of `replica`, with the same result as
    /// inserting them one at a time in order (each gets the next Lamport value; a repeated key
    /// keeps its last value). The rows are sorted once and folded into the map in one linear
    /// pass; returns one delta for the lot.
    pub fn insert_batch(&mut self, replica: ReplicaId, items: &[(K, V)]) -> LwwMap<K, V> {
        let base = self.max_lamport;
        let rows: Vec<Row<K, V>> = (1u64..)
            .zip(items)
            .map(|(i, (k, v))| {
                let e = LwwEntry {
                    ts: Timestamp::new(base.saturating_add(i), replica),
                    value: Some(v.clone()),
                };
                (k.clone(), e)
            })
            .collect();
        let delta = Self::from_rows(rows);
        self.merge_rows(
            delta.main.iter().map(|(k, e)| (k, e)),
            delta.main.len(),
            delta.max_lamport,
        );
        delta
    }

    /// For each of `keys`, writes `f(key, current value)` on behalf of `replica`, with the same
    /// result as doing it one key at a time in order; returns one delta for the lot.
    pub fn update_batch(
        &mut self,
        replica: ReplicaId,
        keys: &[K],
        mut f: impl FnMut(&K, Option<&V>) -> V,
    ) -> LwwMap<K, V> {
        let mut rows = Vec::with_capacity(keys.len());
        for k in keys {
            let e = LwwEntry {
                ts: self.next_timestamp(replica),
                value: Some(f(k, self.get(k))),
            };
            self.merge_one(k, &e);
            rows.push((k.clone(), e));
        }
        Self::from_rows(rows)
    }

    /// Removes every key of `keys` that has a value, on behalf of `replica`, with the same
    /// result as removing them one at a time; returns one delta for the lot. Removal never
    /// adds keys, so each is a binary search and an in-place update.
    pub fn remove_batch(&mut self, replica: ReplicaId, keys: &[K]) -> LwwMap<K, V> {
        let mut rows = Vec::new();
        for k in keys {
            if self.contains_key(k) {
                let e = LwwEntry {
                    ts: self.next_timestamp(replica),
                    value: None,
                };
                self.merge_one(k, &e);
                rows.push((k.clone(), e));
            }
        }
        Self::from_rows(rows)
    }
}

impl<K: Ord + Clone, V: Clone> Crdt for LwwMap<K, V> {
    type Delta = LwwMap<K, V>;

    #[inline]
    fn merge(&mut self, other: &Self) {
        if other.pending.is_empty() {
            // One sorted run: iterate the slice directly.
            let rows = other.main.iter().map(|(k, e)| (k, e));
            self.merge_rows(rows, other.main.len(), other.max_lamport);
        } else {
            let n = other.main.len() + other.pending.len();
            self.merge_rows(other.rows().map(|(k, e)| (k, e)), n, other.max_lamport);
        }
    }

    #[inline]
    fn merge_delta(&mut self, delta: &Self::Delta) {
        self.merge(delta);
    }

    #[inline]
    fn merge_delta_owned(&mut self, delta: Self::Delta) {
        crate::crdt::take_or_merge(self, delta);
    }

    /// Gathers `(key, entry)` references from all deltas into `scratch`, sorts them by key with
    /// the newest write first, keeps one per key, and folds the survivors into the map in one
    /// linear pass: each key of the map is touched and each winning value cloned once. When the
    /// deltas hold few rows compared to the map, each row is binary-searched instead (LWW
    /// merge is order-independent, so the result is the same).
    fn merge_batch_in(&mut self, deltas: &[Self::Delta], scratch: &mut Scratch) {
        if deltas.len() == 1 {
            self.merge(&deltas[0]);
            return;
        }
        let total: usize = deltas.iter().map(|d| d.main.len() + d.pending.len()).sum();
        let size = self.main.len() + self.pending.len();
        let log = (usize::BITS - size.leading_zeros()) as usize;
        // The sort costs about as much as the linear pass, hence the factor 2.
        if total.saturating_mul(log + 1) < size.saturating_mul(2) {
            // Few rows against a big map: binary search each; sorting would not pay.
            for d in deltas {
                for (k, e) in d.rows() {
                    self.merge_one(k, e);
                }
            }
            return;
        }
        let mut rows = scratch.vec_with_capacity::<(&K, &LwwEntry<V>)>(total);
        let mut max_lamport = 0;
        for d in deltas {
            rows.extend(d.rows().map(|(k, e)| (k, e)));
            max_lamport = max_lamport.max(d.max_lamport);
        }
        sort_by(&mut rows, |a, b| {
            a.0.cmp(b.0).then(b.1.ts.cmp(&a.1.ts)).is_lt()
        });
        rows.dedup_by(|later, kept| later.0 == kept.0);
        let n = rows.len();
        self.merge_rows(rows.iter().copied(), n, max_lamport);
    }

    #[inline]
    fn is_bottom(&self) -> bool {
        self.main.is_empty() && self.pending.is_empty()
    }
}

impl<K: Ord, V: PartialEq> PartialEq for LwwMap<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.main.len() + self.pending.len() == other.main.len() + other.pending.len()
            && self.rows().eq(other.rows())
    }
}

impl<K: Ord, V: Eq> Eq for LwwMap<K, V> {}

impl<K: fmt::Debug + Ord, V: fmt::Debug> fmt::Debug for LwwMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.rows().map(|(k, e)| (k, (e.ts, &e.value))))
            .finish()
    }
}

impl<K: Serialize + Ord, V: Serialize> Serialize for LwwMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Canonical: key order (the storage order), tombstones included.
        s.collect_seq(self.rows().map(|(k, e)| (k, &e.ts, &e.value)))
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for LwwMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let SeqVec(items) = SeqVec::<(K, Timestamp, Option<V>)>::deserialize(d)?;
        Self::from_wire_rows(items).map_err(serde::de::Error::custom)
    }
}

impl<K: Ord, V> LwwMap<K, V> {
    /// The map of decoded `(key, timestamp, value)` rows, checked to be sorted by key without
    /// duplicates (the one check both decoders make).
    fn from_wire_rows(items: Vec<(K, Timestamp, Option<V>)>) -> Result<Self, &'static str> {
        if !strictly_sorted_by(&items, |a, b| a.0 < b.0) {
            return Err("map keys not sorted");
        }
        let mut map = LwwMap::new();
        map.main.reserve_exact(items.len());
        for (k, ts, value) in items {
            map.live += usize::from(value.is_some());
            map.max_lamport = map.max_lamport.max(ts.lamport);
            map.main.push((k, LwwEntry { ts, value }));
        }
        Ok(map)
    }
}

impl<K: Encode + Ord, V: Encode> Encode for LwwMap<K, V> {
    /// The rows in key order, tombstones included, as the `Serialize` impl writes them.
    fn encode(&self, w: &mut Vec<u8>) {
        put_len(w, self.main.len() + self.pending.len());
        for (k, e) in self.rows() {
            k.encode(w);
            e.ts.encode(w);
            e.value.encode(w);
        }
    }
}

impl<'a, K: Decode<'a> + Ord, V: Decode<'a>> Decode<'a> for LwwMap<K, V> {
    /// Reads the rows, then checks them as the `Deserialize` impl does.
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let items = Vec::<(K, Timestamp, Option<V>)>::decode(r)?;
        Self::from_wire_rows(items).map_err(|_| REJECTED)
    }
}

impl<K, V> WireType for LwwMap<K, V>
where
    K: Serialize + serde::de::DeserializeOwned + Ord + Clone,
    V: Serialize + serde::de::DeserializeOwned + Clone,
{
    const TAG: TypeTag = TypeTag::LwwMap;
}

#[cfg(test)]
mod codec_tests {
    use alloc::string::String;

    use proptest::prelude::*;

    use super::*;
    use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};
    use crate::value::tests::item;
    use crate::value::{Item, Value};

    /// The map `ops` build, in turn: a write of a key (`Some` item) or its removal (`None`),
    /// each by replica `r`.
    fn map(ops: &[(u8, String, Option<Item>)]) -> LwwMap<String, Item> {
        let mut m = LwwMap::new();
        for (r, k, v) in ops {
            let r = ReplicaId(u64::from(*r));
            match v {
                Some(v) => m.insert(r, k.clone(), v.clone()),
                None => m.remove(r, k),
            };
        }
        m
    }

    #[test]
    fn codec_matches_serde() {
        assert_same_as_serde(&LwwMap::<String, Item>::new());
        let mut m = map(&[
            (1, "a".into(), Some(Item::Value(Value::Int(-1)))),
            (2, "ü✓🦀".into(), Some(Item::Value(Value::Str("x".into())))),
            (1, String::new(), Some(Item::Value(Value::Null))),
            (3, "a".into(), None),
        ]);
        assert_same_as_serde(&m);
        // Rows in the side buffer too, a tombstone and extreme timestamps.
        for i in 0..40u64 {
            m.insert_at(
                Timestamp::new(u64::MAX - i, ReplicaId(u64::MAX)),
                alloc::format!("k{}", 40 - i),
                Item::Value(Value::Int(i as i64)),
            );
        }
        assert!(!m.pending.is_empty());
        assert_same_as_serde(&m);
        // Keys unsorted, repeated; a bad option tag; a huge length.
        for bytes in [
            &[2, 1, b'b', 1, 1, 0, 1, b'a', 1, 1, 0][..],
            &[2, 1, b'a', 1, 1, 0, 1, b'a', 1, 1, 0][..],
            &[1, 1, b'a', 1, 1, 2][..],
            &[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0][..],
        ] {
            assert_decodes_same::<LwwMap<String, Item>>(bytes, &[0, 30, 200]);
        }
    }

    proptest! {
        #[test]
        fn codec_matches_serde_on_any_map(
            ops in proptest::collection::vec(
                (0u8..4, "[a-c]{0,2}|.{0,4}", proptest::option::of(item())),
                0..10,
            )
        ) {
            assert_same_as_serde(&map(&ops));
        }

        #[test]
        fn codec_decodes_any_bytes_as_serde(
            bytes in proptest::collection::vec(any::<u8>(), 0..40)
        ) {
            assert_decodes_same::<LwwMap<String, Item>>(&bytes, &[0, 50]);
            assert_decodes_same::<LwwMap<u64, u64>>(&bytes, &[0, 50]);
        }
    }
}
