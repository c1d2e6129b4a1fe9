//! [`OrMap`]: a map of nested CRDTs with add-wins keys.
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
//!
//! # Invariants
//!
//! Each key has at least one contribution, contributions are sorted by dot with unique dots,
//! and every dot is in the context. Decoding rejects input that breaks them.

use alloc::vec::Vec;
use core::fmt;
use core::hash::Hash;

use converge_pool::Scratch;
use hashbrown::HashMap;
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::causal::CausalContext;
use crate::clock::{Dot, ReplicaId};
use crate::crdt::{Crdt, SeqVec, dedup_keep_last, strictly_sorted_by};
use crate::encoding::{TypeTag, WireType};
use crate::set::{check_delta_rows, min_head};
use crate::sort::{sort, sort_by, sort_by_key};

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
                sort_by_key(&mut rows[before..], |r| r.1);
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
        if !strictly_sorted_by(&updates, |a, b| a.0 < b.0) {
            sort_by(&mut updates, |a, b| {
                a.0.cmp(&b.0).then(a.1.cmp(&b.1)).is_lt()
            });
            dedup_keep_last(&mut updates, |r| &r.0);
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
        sort(&mut removes);
        sort(&mut dots);
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
            sort_by_key(mine, |(d, _)| *d);
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
        // Rows come sorted by key: one group per key.
        for group in delta.updates.chunk_by(|a, b| a.0 == b.0) {
            self.apply_key(&group[0].0, group.iter().map(|r| (r.1, &r.2)), &delta.ctx);
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
        sort_by(&mut items, |a, b| a.0 < b.0);
        f.debug_struct("OrMap")
            .field("entries", &items)
            .field("ctx", &self.ctx)
            .finish()
    }
}

impl<K: Serialize + Ord, C: Serialize> Serialize for OrMap<K, C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut items: Vec<(&K, &Vec<(Dot, C)>)> = self.entries.iter().collect();
        sort_by(&mut items, |a, b| a.0 < b.0);
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
