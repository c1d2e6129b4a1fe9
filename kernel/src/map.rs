//! Maps: [`LwwMap`] (last writer wins per key) and [`OrMap`] (add-wins keys, nested CRDT
//! values).
//!
//! # `LwwMap<K, V>`
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
//! # `OrMap<K, C>`
//!
//! A map from keys to nested CRDTs (`C: Crdt`: counters, registers, sets, other maps).
//!
//! * **Add-wins keys.** Every update of a key is an event with a [`Dot`]; removing a key drops
//!   the dots the remover observed, so an update concurrent with a remove keeps the key alive.
//! * **Values are per-replica contributions.** Under each key, every replica that updated it
//!   owns one contribution `(dot, C)`: the join of all the nested deltas that replica applied
//!   to the key. Its next update replaces the contribution (new dot, old state joined with the
//!   new nested delta). The value a reader sees is the join of the key's contributions.
//! * **Remove resets.** A remove drops the contributions it observed, so re-creating the key
//!   later starts from the empty value. A contribution made concurrently with the remove
//!   survives whole (including what that replica had written before the remove).
//!
//! Per key this is a causal "dot fun" (a map from dots to values joined with a
//! [`CausalContext`], after Almeida, Shoker and Baquero's delta-state map composition), so the
//! whole map is a join-semilattice for any nested `C`, and removed keys leave nothing behind
//! but the compacted context. The price: an update's delta carries the updating replica's whole
//! contribution to that key (small for counters and registers; for big nested collections,
//! prefer a flatter key space).
//!
//! **Event numbering of nested values.** Dot-based nested values (an `AwSet` or `MvRegister`
//! inside an `OrMap`) number their events from their own per-key context, which a remove
//! drops. So a re-created key cannot restart at 1 (a contribution that survived the remove
//! may already have seen those numbers and would read the new events as removed), each
//! update first marks the acting replica's events up to the map's own counter as seen in
//! that replica's contribution ([`Crdt::observe_counter`]), and afterwards records the
//! numbers the nested operation used in the map's context ([`Crdt::max_counter`]). A
//! replica's numbers thus stay unique across the map and its nested values. Marking is safe
//! because a contribution only ever holds values written by its own replica; nested deltas
//! given to [`OrMap::insert`] must therefore come from an operation by the acting replica.
//!
//! # Invariants
//!
//! [`LwwMap`]: entries sorted by key and unique, side buffer likewise and disjoint from them;
//! the live count and newest Lamport value are caches of the entries.
//! [`OrMap`]: each key has at least one contribution, contributions are sorted by dot with
//! unique dots, and every dot is in the context. Decoding rejects input that breaks them.

use alloc::vec::Vec;
use core::fmt;
use core::hash::Hash;

use converge_pool::Scratch;
use hashbrown::HashMap;
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::causal::CausalContext;
use crate::clock::{Dot, ReplicaId, Timestamp};
use crate::crdt::{Crdt, SeqVec, strictly_sorted_by};
use crate::encoding::{TypeTag, WireType};
use crate::set::{check_delta_rows, min_head};

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
        if rows.len() > 1 && !rows.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable sort keeps write order within a key; keep the last.
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            rows.dedup_by(|later, kept| {
                if later.0 == kept.0 {
                    core::mem::swap(later, kept);
                    true
                } else {
                    false
                }
            });
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
    /// mutator*, for nested use in [`OrMap::update`]).
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
        if self.is_bottom() {
            *self = delta;
        } else {
            self.merge(&delta);
        }
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
        rows.sort_unstable_by(|a, b| a.0.cmp(b.0).then(b.1.ts.cmp(&a.1.ts)));
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
        if !strictly_sorted_by(&items, |a, b| a.0 < b.0) {
            return Err(serde::de::Error::custom("map keys not sorted"));
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

impl<K, V> WireType for LwwMap<K, V>
where
    K: Serialize + serde::de::DeserializeOwned + Ord + Clone,
    V: Serialize + serde::de::DeserializeOwned + Clone,
{
    const TAG: TypeTag = TypeTag::LwwMap;
}

/// A map of nested CRDTs with add-wins keys and no tombstones. See the [module docs](self).
///
/// ```
/// use converge::{Crdt, OrMap, PNCounter, ReplicaId};
/// let (a, b) = (ReplicaId(1), ReplicaId(2));
/// let mut x: OrMap<&str, PNCounter> = OrMap::new();
/// let mut y: OrMap<&str, PNCounter> = OrMap::new();
/// // `inc_delta` builds the nested change from the borrowed value (no clone).
/// let dx = x.update(a, "likes", |c| c.inc_delta(a, 2));
/// let dy = y.update(b, "likes", |c| c.dec_delta(b, 1));
/// x.merge_delta(&dy);
/// y.merge_delta(&dx);
/// assert_eq!(x.get(&"likes").map(|c| c.value()), Some(1));
/// assert_eq!(x, y);
/// ```
#[derive(Clone)]
pub struct OrMap<K, C> {
    /// Per key: contributions sorted by dot, never empty.
    entries: HashMap<K, Vec<(Dot, C)>>,
    ctx: CausalContext,
}

/// What an [`OrMap`] operation returns: for each updated key, the updating replica's new
/// contribution under its new dot; the removed keys; and the dots the operation observed.
///
/// Invariants (checked when decoding): `updates` is sorted by `(key, dot)` without duplicates,
/// `removes` is sorted and unique and shares no key with `updates`, and every update's dot is in
/// the context. Deltas built by [`OrMap`] keep the context limited to dots of the keys they
/// list.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrMapDelta<K, C> {
    updates: Vec<(K, Dot, C)>,
    removes: Vec<K>,
    ctx: CausalContext,
}

impl<K, C> Default for OrMapDelta<K, C> {
    #[inline]
    fn default() -> Self {
        Self {
            updates: Vec::new(),
            removes: Vec::new(),
            ctx: CausalContext::new(),
        }
    }
}

impl<K, C> OrMapDelta<K, C> {
    /// The updated keys with each update's dot and the updater's contribution.
    #[inline]
    pub fn updates(&self) -> &[(K, Dot, C)] {
        &self.updates
    }

    /// The removed keys, sorted.
    #[inline]
    pub fn removes(&self) -> &[K] {
        &self.removes
    }

    /// The dots this delta observed.
    #[inline]
    pub fn context(&self) -> &CausalContext {
        &self.ctx
    }

    /// Whether merging this delta changes nothing.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty() && self.removes.is_empty() && self.ctx.is_empty()
    }
}

impl<K: Ord + Clone, C: Crdt> OrMapDelta<K, C> {
    /// Joins `other` into this delta, making a *delta group*: merging the result into a map
    /// has the same effect as merging both deltas, in either order.
    pub fn merge(&mut self, other: &OrMapDelta<K, C>) {
        let a_rows = core::mem::take(&mut self.updates);
        let a_rem = core::mem::take(&mut self.removes);
        let (b_rows, b_rem) = (&other.updates, &other.removes);
        let mut rows: Vec<(K, Dot, C)> = Vec::with_capacity(a_rows.len() + b_rows.len());
        let mut removes = Vec::new();
        let (mut i, mut ri, mut j, mut rj) = (0, 0, 0, 0);
        while let Some(k) = min_head([
            a_rows.get(i).map(|r| &r.0),
            a_rem.get(ri),
            b_rows.get(j).map(|r| &r.0),
            b_rem.get(rj),
        ]) {
            let k = k.clone();
            let a_end = i + a_rows[i..].iter().take_while(|r| r.0 == k).count();
            let b_end = j + b_rows[j..].iter().take_while(|r| r.0 == k).count();
            let (a_run, b_run) = (&a_rows[i..a_end], &b_rows[j..b_end]);
            ri += usize::from(a_rem.get(ri) == Some(&k));
            rj += usize::from(b_rem.get(rj) == Some(&k));
            // The dot-fun join for one key (see `OrMap::join_key`).
            let before = rows.len();
            for (_, d, c) in a_run {
                match b_run.iter().find(|r| r.1 == *d) {
                    Some((_, _, bc)) => {
                        let mut c = c.clone();
                        c.merge(bc);
                        rows.push((k.clone(), *d, c));
                    }
                    None if !other.ctx.contains(*d) => rows.push((k.clone(), *d, c.clone())),
                    None => {}
                }
            }
            for (_, d, c) in b_run {
                if !a_run.iter().any(|r| r.1 == *d) && !self.ctx.contains(*d) {
                    rows.push((k.clone(), *d, c.clone()));
                }
            }
            if rows.len() == before {
                removes.push(k);
            } else {
                rows[before..].sort_unstable_by_key(|r| r.1);
            }
            i = a_end;
            j = b_end;
        }
        self.updates = rows;
        self.removes = removes;
        self.ctx.merge(&other.ctx);
    }
}

impl<K, C> Default for OrMap<K, C> {
    #[inline]
    fn default() -> Self {
        Self {
            entries: HashMap::default(),
            ctx: CausalContext::new(),
        }
    }
}

impl<K, C> OrMap<K, C> {
    /// An empty map. Does not allocate.
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of keys present.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is present.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys, in no particular order.
    #[inline]
    pub fn keys(&self) -> impl Iterator<Item = &K> + '_ {
        self.entries.keys()
    }

    /// Every update event this map has seen.
    #[inline]
    pub fn context(&self) -> &CausalContext {
        &self.ctx
    }

    /// Checks the invariants in the [module docs](self).
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        self.ctx.check_invariants()?;
        for contribs in self.entries.values() {
            if contribs.is_empty() {
                return Err("key with no contribution");
            }
            if !strictly_sorted_by(contribs, |a, b| a.0 < b.0) {
                return Err("contributions not sorted by dot");
            }
            if contribs.iter().any(|(d, _)| !self.ctx.contains(*d)) {
                return Err("contribution dot outside context");
            }
        }
        Ok(())
    }
}

impl<K: Eq + Hash, C> OrMap<K, C> {
    /// Whether `key` is present.
    #[inline]
    pub fn contains_key(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    /// For each of `keys`, whether it is present (same order).
    pub fn contains_keys(&self, keys: &[K]) -> Vec<bool> {
        keys.iter().map(|k| self.entries.contains_key(k)).collect()
    }

    /// The `(dot, contribution)` pairs under `key`, one per replica that updated it.
    #[inline]
    pub fn contributions(&self, key: &K) -> Option<&[(Dot, C)]> {
        self.entries.get(key).map(Vec::as_slice)
    }
}

/// The join of a key's contributions: the value readers see.
fn join_contribs<C: Crdt>(contribs: &[(Dot, C)]) -> C {
    let mut it = contribs.iter();
    let mut out = it.next().map(|(_, c)| c.clone()).unwrap_or_default();
    for (_, c) in it {
        out.merge(c);
    }
    out
}

impl<K: Eq + Hash, C: Crdt> OrMap<K, C> {
    /// The value under `key` (the join of its contributions), owned.
    pub fn get(&self, key: &K) -> Option<C> {
        self.entries.get(key).map(|c| join_contribs(c))
    }

    /// Calls `f` with the value under `key` without cloning it when a single replica wrote it
    /// (the common case); otherwise with the join of the contributions.
    pub fn get_with<R>(&self, key: &K, f: impl FnOnce(&C) -> R) -> Option<R> {
        self.entries.get(key).map(|c| match c.as_slice() {
            [(_, only)] => f(only),
            many => f(&join_contribs(many)),
        })
    }

    /// The values of `keys`, owned, in the same order.
    pub fn get_batch(&self, keys: &[K]) -> Vec<Option<C>> {
        keys.iter().map(|k| self.get(k)).collect()
    }
}

impl<K: Ord + Hash + Clone, C: Crdt> OrMap<K, C> {
    /// Applies a nested operation to `key` on behalf of `replica`: `op` sees the current value
    /// (the empty value if the key is absent) and returns the nested delta to apply, typically
    /// with a delta mutator such as [`PNCounter::inc_delta`](crate::PNCounter::inc_delta) or
    /// [`AwSet::insert_delta`](crate::AwSet::insert_delta). The key becomes present. Returns
    /// the map delta.
    pub fn update(
        &mut self,
        replica: ReplicaId,
        key: K,
        op: impl FnOnce(&C) -> C::Delta,
    ) -> OrMapDelta<K, C> {
        let mut op = Some(op);
        self.update_many(
            replica,
            1,
            |_| &key,
            |_, c| (op.take().expect("called once"))(c),
        )
    }

    /// Merges `delta` into the value under `key` on behalf of `replica` (an upsert); returns the
    /// map delta. Same as [`update`](Self::update) with an operation that ignores the value.
    ///
    /// `delta` should come from an operation by `replica` itself (see the module docs on event
    /// numbering).
    pub fn insert(&mut self, replica: ReplicaId, key: K, delta: C::Delta) -> OrMapDelta<K, C> {
        self.update(replica, key, |_| delta)
    }

    /// The shared body of single and batch updates: the next event of `replica` updates `key`.
    /// Dots of `replica` overwritten from before `batch_first` are pushed to `overwritten`.
    fn apply_update(
        &mut self,
        replica: ReplicaId,
        batch_first: u64,
        key: &K,
        op: impl FnOnce(&C) -> C::Delta,
        overwritten: &mut Vec<Dot>,
    ) -> (Dot, C) {
        let dot = self.ctx.next_dot(replica);
        let contribs = self.entries.entry(key.clone()).or_default();
        // Take this replica's previous contribution(s) out.
        let mut mine = C::default();
        let mut k = 0;
        while k < contribs.len() {
            if contribs[k].0.replica == replica {
                let (old, c) = contribs.remove(k);
                if mine.is_bottom() {
                    mine = c;
                } else {
                    mine.merge(&c);
                }
                if old.counter < batch_first {
                    overwritten.push(old);
                }
            } else {
                k += 1;
            }
        }
        // Nested events get numbers above every event of this replica the map has recorded.
        mine.observe_counter(replica, dot.counter);
        let nested = if contribs.is_empty() {
            op(&mine)
        } else {
            let mut value = join_contribs(contribs);
            value.merge(&mine);
            op(&value)
        };
        mine.merge_delta_owned(nested);
        // Record the numbers the nested operation used, so later ones stay above them.
        let used = mine.max_counter(replica);
        if used > dot.counter {
            self.ctx.insert_range(
                replica,
                dot.counter.saturating_add(1),
                used.saturating_add(1),
            );
        }
        let pos = contribs.partition_point(|(d, _)| *d < dot);
        contribs.insert(pos, (dot, mine.clone()));
        (dot, mine)
    }

    /// Applies `op(key, value)` to each of `keys` on behalf of `replica`, with the same result
    /// as calling [`update`](Self::update) on each in order; returns one delta whose context is
    /// one range of the replica's events. The table is grown once.
    pub fn update_batch(
        &mut self,
        replica: ReplicaId,
        keys: &[K],
        mut op: impl FnMut(&K, &C) -> C::Delta,
    ) -> OrMapDelta<K, C> {
        self.update_many(replica, keys.len(), |i| &keys[i], |i, c| op(&keys[i], c))
    }

    /// Merges each `(key, nested delta)` of `items` into its key on behalf of `replica`, with
    /// the same result as calling [`insert`](Self::insert) on each in order; returns one delta.
    pub fn insert_batch(
        &mut self,
        replica: ReplicaId,
        items: &[(K, C::Delta)],
    ) -> OrMapDelta<K, C> {
        self.update_many(
            replica,
            items.len(),
            |i| &items[i].0,
            |i, _| items[i].1.clone(),
        )
    }

    fn update_many<'k>(
        &mut self,
        replica: ReplicaId,
        n: usize,
        key: impl Fn(usize) -> &'k K,
        mut op: impl FnMut(usize, &C) -> C::Delta,
    ) -> OrMapDelta<K, C>
    where
        K: 'k,
    {
        if n == 0 {
            return OrMapDelta::default();
        }
        self.entries.reserve(n);
        let first = self.ctx.max_counter(replica).saturating_add(1);
        let mut overwritten = Vec::new();
        let mut updates: Vec<(K, Dot, C)> = Vec::with_capacity(n);
        for i in 0..n {
            let k = key(i);
            let (dot, c) = self.apply_update(replica, first, k, |c| op(i, c), &mut overwritten);
            updates.push((k.clone(), dot, c));
        }
        if updates.len() > 1 && !updates.windows(2).all(|w| w[0].0 < w[1].0) {
            updates.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
            updates.dedup_by(|later, kept| {
                if later.0 == kept.0 {
                    core::mem::swap(later, kept);
                    true
                } else {
                    false
                }
            });
        }
        // Every event of `replica` from `first` on happened in this batch: one range.
        let mut ctx = CausalContext::new();
        ctx.insert_range(
            replica,
            first,
            self.ctx.max_counter(replica).saturating_add(1),
        );
        for d in overwritten {
            ctx.insert(d);
        }
        OrMapDelta {
            updates,
            removes: Vec::new(),
            ctx,
        }
    }

    /// Removes `key` (the contributions this replica has seen); returns the delta, empty if the
    /// key was absent.
    pub fn remove(&mut self, key: &K) -> OrMapDelta<K, C> {
        self.remove_batch(core::slice::from_ref(key))
    }

    /// Removes every key of `keys`, with the same result as removing them one at a time;
    /// returns one delta.
    pub fn remove_batch(&mut self, keys: &[K]) -> OrMapDelta<K, C> {
        let mut removes = Vec::new();
        let mut dots: Vec<Dot> = Vec::new();
        for k in keys {
            if let Some(contribs) = self.entries.remove(k) {
                dots.extend(contribs.iter().map(|(d, _)| *d));
                removes.push(k.clone());
            }
        }
        removes.sort_unstable();
        dots.sort_unstable();
        OrMapDelta {
            updates: Vec::new(),
            removes,
            ctx: CausalContext::from_dots(dots),
        }
    }

    /// Joins one key's contributions with the other side's (`theirs`, sorted by dot, seen
    /// under `their_ctx`); returns whether any contribution is left.
    fn join_key<'a>(
        mine: &mut Vec<(Dot, C)>,
        my_ctx: &CausalContext,
        theirs: impl Iterator<Item = (Dot, &'a C)> + Clone,
        their_ctx: &CausalContext,
    ) -> bool
    where
        C: 'a,
    {
        mine.retain_mut(|(d, c)| match theirs.clone().find(|(o, _)| o == d) {
            Some((_, oc)) => {
                c.merge(oc);
                true
            }
            None => !their_ctx.contains(*d),
        });
        let before = mine.len();
        // Ours are all in our context, so "unseen" also means "not already held".
        for (d, c) in theirs {
            if !my_ctx.contains(d) {
                mine.push((d, c.clone()));
            }
        }
        if mine.len() != before {
            mine.sort_unstable_by_key(|(d, _)| *d);
        }
        !mine.is_empty()
    }

    fn apply_key<'a>(
        &mut self,
        key: &K,
        theirs: impl Iterator<Item = (Dot, &'a C)> + Clone,
        their_ctx: &CausalContext,
    ) where
        C: 'a,
    {
        match self.entries.get_mut(key) {
            Some(mine) => {
                if !Self::join_key(mine, &self.ctx, theirs, their_ctx) {
                    self.entries.remove(key);
                }
            }
            None => {
                let fresh: Vec<(Dot, C)> = theirs
                    .filter(|(d, _)| !self.ctx.contains(*d))
                    .map(|(d, c)| (d, c.clone()))
                    .collect();
                if !fresh.is_empty() {
                    self.entries.insert(key.clone(), fresh);
                }
            }
        }
    }
}

impl<K: Ord + Hash + Clone, C: Crdt> Crdt for OrMap<K, C> {
    type Delta = OrMapDelta<K, C>;

    fn merge(&mut self, other: &Self) {
        let ctx = &self.ctx;
        self.entries.retain(|k, mine| match other.entries.get(k) {
            Some(theirs) => {
                Self::join_key(mine, ctx, theirs.iter().map(|(d, c)| (*d, c)), &other.ctx)
            }
            None => {
                mine.retain(|(d, _)| !other.ctx.contains(*d));
                !mine.is_empty()
            }
        });
        for (k, theirs) in &other.entries {
            if !self.entries.contains_key(k) {
                self.apply_key(
                    k,
                    theirs.iter().map(|(d, c)| (*d, c)),
                    &CausalContext::new(),
                );
            }
        }
        self.ctx.merge(&other.ctx);
    }

    fn merge_delta(&mut self, delta: &Self::Delta) {
        let rows = &delta.updates;
        let mut i = 0;
        while i < rows.len() {
            let k = &rows[i].0;
            let mut j = i + 1;
            while j < rows.len() && rows[j].0 == *k {
                j += 1;
            }
            self.apply_key(k, rows[i..j].iter().map(|r| (r.1, &r.2)), &delta.ctx);
            i = j;
        }
        for k in &delta.removes {
            if let Some(mine) = self.entries.get_mut(k) {
                mine.retain(|(d, _)| !delta.ctx.contains(*d));
                if mine.is_empty() {
                    self.entries.remove(k);
                }
            }
        }
        self.ctx.merge(&delta.ctx);
    }

    /// Grows the table once for all deltas' keys, then folds the deltas in order: with nested
    /// values, each key's contributions must be joined value by value anyway, so a sort-based
    /// single pass would not save work.
    fn merge_batch_in(&mut self, deltas: &[Self::Delta], _scratch: &mut Scratch) {
        let keys: usize = deltas.iter().map(|d| d.updates.len()).sum();
        self.entries.reserve(keys);
        for d in deltas {
            self.merge_delta(d);
        }
    }

    #[inline]
    fn is_bottom(&self) -> bool {
        self.entries.is_empty() && self.ctx.is_empty()
    }

    #[inline]
    fn max_counter(&self, replica: ReplicaId) -> u64 {
        self.ctx.max_counter(replica)
    }

    #[inline]
    fn observe_counter(&mut self, replica: ReplicaId, counter: u64) {
        self.ctx.insert_range(replica, 1, counter.saturating_add(1));
    }
}

impl<K: Eq + Hash, C: PartialEq> PartialEq for OrMap<K, C> {
    fn eq(&self, other: &Self) -> bool {
        self.ctx == other.ctx && self.entries == other.entries
    }
}

impl<K: Eq + Hash, C: Eq> Eq for OrMap<K, C> {}

impl<K: fmt::Debug + Ord, C: fmt::Debug> fmt::Debug for OrMap<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<(&K, &Vec<(Dot, C)>)> = self.entries.iter().collect();
        items.sort_unstable_by(|a, b| a.0.cmp(b.0));
        f.debug_struct("OrMap")
            .field("entries", &items)
            .field("ctx", &self.ctx)
            .finish()
    }
}

impl<K: Serialize + Ord, C: Serialize> Serialize for OrMap<K, C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut items: Vec<(&K, &Vec<(Dot, C)>)> = self.entries.iter().collect();
        items.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&items)?;
        t.serialize_element(&self.ctx)?;
        t.end()
    }
}

impl<'de, K: Deserialize<'de> + Ord + Hash, C: Deserialize<'de>> Deserialize<'de> for OrMap<K, C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (SeqVec(items), ctx) =
            <(SeqVec<(K, SeqVec<(Dot, C)>)>, CausalContext)>::deserialize(d)?;
        if !strictly_sorted_by(&items, |a, b| a.0 < b.0) {
            return Err(serde::de::Error::custom("map keys not sorted"));
        }
        let mut entries = HashMap::with_capacity(items.len());
        for (k, SeqVec(contribs)) in items {
            if contribs.is_empty() {
                return Err(serde::de::Error::custom("key with no contribution"));
            }
            if !strictly_sorted_by(&contribs, |a, b| a.0 < b.0) {
                return Err(serde::de::Error::custom("contributions not sorted by dot"));
            }
            if contribs.iter().any(|(d, _)| !ctx.contains(*d)) {
                return Err(serde::de::Error::custom("contribution dot outside context"));
            }
            entries.insert(k, contribs);
        }
        Ok(Self { entries, ctx })
    }
}

impl<K, C> WireType for OrMap<K, C>
where
    K: Serialize + serde::de::DeserializeOwned + Ord + Hash + Clone,
    C: Crdt + Serialize + serde::de::DeserializeOwned,
{
    const TAG: TypeTag = TypeTag::OrMap;
}

impl<K: Serialize, C: Serialize> Serialize for OrMapDelta<K, C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(3)?;
        t.serialize_element(&self.updates)?;
        t.serialize_element(&self.removes)?;
        t.serialize_element(&self.ctx)?;
        t.end()
    }
}

impl<'de, K: Deserialize<'de> + Ord, C: Deserialize<'de>> Deserialize<'de> for OrMapDelta<K, C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (SeqVec(updates), SeqVec(removes), ctx) =
            <(SeqVec<(K, Dot, C)>, SeqVec<K>, CausalContext)>::deserialize(d)?;
        check_delta_rows(&updates, |r| (&r.0, r.1), &removes, &ctx)
            .map_err(serde::de::Error::custom)?;
        Ok(Self {
            updates,
            removes,
            ctx,
        })
    }
}

impl<K, C> WireType for OrMapDelta<K, C>
where
    K: Serialize + serde::de::DeserializeOwned + Ord + Hash + Clone,
    C: Crdt + Serialize + serde::de::DeserializeOwned,
{
    const TAG: TypeTag = TypeTag::OrMapDelta;
}
