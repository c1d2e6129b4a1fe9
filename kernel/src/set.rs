//! [`AwSet`]: the add-wins observed-remove set, dot-based, with no tombstones.
//!
//! # Semantics
//!
//! Every insert is an event with its own [`Dot`]; an element is present while at least one of
//! its insert dots survives. A remove deletes exactly the dots the remover had *observed*, so
//! an insert concurrent with a remove (whose dot the remover could not have seen) survives:
//! **add wins**. Re-inserting an element replaces the dots the inserter saw by the new one, so
//! a present element usually carries a single dot.
//!
//! # No tombstones
//!
//! The set keeps a [`CausalContext`] of every insert event it has seen. A dot that is in the
//! context but no longer attached to an element means "seen and removed", so a remove deletes
//! the element outright and merging never resurrects it. The context itself compacts to one
//! counter per replica once events are contiguous, so state size is the live elements plus
//! one entry per writer, whatever the history of removals (`tests/state_unit.rs` checks this).
//! This is the optimized OR-set of Bieniusa et al. (2012) in the delta-state formulation of
//! Almeida, Shoker and Baquero.
//!
//! # Deltas
//!
//! Local operations take the acting [`ReplicaId`] (removes need none) and return an
//! [`AwSetDelta`]: the inserted `(element, dot)` pairs, the removed elements, and the dots the
//! operation observed. Merging a delta costs time proportional to the delta, because its
//! context only ever names dots of elements the delta lists (an invariant every delta built
//! by this module keeps). [`merge_batch_in`](Crdt::merge_batch_in) grows the table once and
//! folds the deltas in a single pass over their rows.
//!
//! # Invariants
//!
//! Each element's dots are non-empty, sorted and unique, and every dot is in the context.
//! [`AwSet::check_invariants`] verifies them; decoding rejects input that breaks them.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;
use core::hash::Hash;

use converge_pool::Scratch;
use hashbrown::HashMap;
use hashbrown::hash_map::Entry;
use serde::ser::{SerializeSeq, SerializeTuple};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::causal::CausalContext;
use crate::clock::{Dot, ReplicaId};
use crate::crdt::{Crdt, SeqVec, dedup_keep_last, strictly_sorted_by};
use crate::encoding::{TypeTag, WireType};
use crate::sort::{sort, sort_by, sort_by_key};

/// The insert dots of one element: sorted, unique, never empty. One dot (the common case) and
/// two (the same element inserted concurrently by two replicas) are stored inline, so neither
/// allocates; three or more go in a boxed slice.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Dots {
    One(Dot),
    /// Two dots, sorted.
    Two([Dot; 2]),
    /// At least three dots, sorted and unique.
    Many(Box<[Dot]>),
}

/// Outcome of joining one element's dots with the other side's.
pub(crate) enum Joined {
    Unchanged,
    Empty,
    New(Dots),
}

impl Dots {
    #[inline]
    pub(crate) const fn one(dot: Dot) -> Self {
        Self::One(dot)
    }

    /// From a sorted, duplicate-free list; `None` if empty.
    pub(crate) fn from_sorted(dots: &[Dot]) -> Option<Self> {
        match dots {
            [] => None,
            [d] => Some(Self::One(*d)),
            [a, b] => Some(Self::Two([*a, *b])),
            many => Some(Self::Many(many.into())),
        }
    }

    /// From a sorted, duplicate-free vector; `None` if empty.
    pub(crate) fn from_vec(dots: Vec<Dot>) -> Option<Self> {
        match dots.len() {
            0..=2 => Self::from_sorted(&dots),
            _ => Some(Self::Many(dots.into_boxed_slice())),
        }
    }

    #[inline]
    pub(crate) fn as_slice(&self) -> &[Dot] {
        match self {
            Self::One(d) => core::slice::from_ref(d),
            Self::Two(ds) => ds,
            Self::Many(ds) => ds,
        }
    }

    #[inline]
    pub(crate) fn iter(&self) -> impl Iterator<Item = Dot> + Clone + '_ {
        self.as_slice().iter().copied()
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    #[inline]
    pub(crate) fn contains(&self, dot: Dot) -> bool {
        self.as_slice().contains(&dot)
    }

    /// Drops the dots `ctx` has seen; returns whether any dot is left.
    pub(crate) fn retain_unseen(&mut self, ctx: &CausalContext) -> bool {
        match self {
            Self::One(d) => !ctx.contains(*d),
            Self::Two([a, b]) => match (ctx.contains(*a), ctx.contains(*b)) {
                (false, false) => true,
                (true, false) => {
                    *self = Self::One(*b);
                    true
                }
                (false, true) => {
                    *self = Self::One(*a);
                    true
                }
                (true, true) => false,
            },
            Self::Many(ds) => {
                let kept: Vec<Dot> = ds.iter().copied().filter(|d| !ctx.contains(*d)).collect();
                match Self::from_vec(kept) {
                    Some(d) => {
                        *self = d;
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// The causal join of `(self, self_ctx)` with `(other, other_ctx)` for one element: a dot
    /// survives if both sides have it, or one side has it and the other never saw it.
    pub(crate) fn join(
        &self,
        self_ctx: &CausalContext,
        other: impl Iterator<Item = Dot> + Clone,
        other_ctx: &CausalContext,
    ) -> Joined {
        // Fast path: one dot each (by far the common case).
        if let Self::One(s) = *self {
            let mut it = other.clone();
            if let (Some(o), None) = (it.next(), it.next()) {
                if s == o {
                    return Joined::Unchanged;
                }
                let keep_s = !other_ctx.contains(s);
                let keep_o = !self_ctx.contains(o);
                return match (keep_s, keep_o) {
                    (true, false) => Joined::Unchanged,
                    (false, true) => Joined::New(Dots::one(o)),
                    (false, false) => Joined::Empty,
                    (true, true) => Joined::New(Dots::Two(if s < o { [s, o] } else { [o, s] })),
                };
            }
        }
        let mut out: Vec<Dot> = self
            .iter()
            .filter(|&d| other.clone().any(|o| o == d) || !other_ctx.contains(d))
            .collect();
        let kept_all = out.len() == self.len();
        let before = out.len();
        out.extend(other.filter(|&o| !self.contains(o) && !self_ctx.contains(o)));
        if kept_all && out.len() == before {
            return Joined::Unchanged;
        }
        sort(&mut out);
        match Dots::from_vec(out) {
            Some(d) => Joined::New(d),
            None => Joined::Empty,
        }
    }
}

impl Serialize for Dots {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for d in self.iter() {
            seq.serialize_element(&d)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Dots {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let SeqVec(dots) = SeqVec::<Dot>::deserialize(d)?;
        Dots::from_wire(dots).map_err(serde::de::Error::custom)
    }
}

impl Dots {
    /// The dots of one decoded element, checked to be sorted, unique and not empty (the checks
    /// both decoders make).
    fn from_wire(dots: Vec<Dot>) -> Result<Self, &'static str> {
        if !strictly_sorted_by(&dots, |a, b| a < b) {
            return Err("element dots not sorted");
        }
        Dots::from_vec(dots).ok_or("element with no dots")
    }
}

impl crate::encoding::codec::Encode for Dots {
    fn encode(&self, w: &mut Vec<u8>) {
        self.as_slice().encode(w);
    }
}

impl crate::encoding::codec::Decode<'_> for Dots {
    /// Reads the dots, then checks them as the `Deserialize` impl does.
    fn decode(
        r: &mut crate::encoding::codec::Reader<'_>,
    ) -> Result<Self, crate::encoding::DecodeError> {
        let dots = Vec::<Dot>::decode(r)?;
        Dots::from_wire(dots).map_err(|_| crate::encoding::REJECTED)
    }
}

/// An add-wins observed-remove set with no tombstones. See the [module docs](self).
///
/// ```
/// use converge::{AwSet, Crdt, ReplicaId};
/// let (a, b) = (ReplicaId(1), ReplicaId(2));
/// let mut x = AwSet::new();
/// x.insert(a, "milk");
/// let mut y = x.clone();
/// let removed = y.remove(&"milk"); // y saw the insert and removes it
/// let readded = x.insert(a, "milk"); // concurrently, x inserts again
/// x.merge_delta(&removed);
/// y.merge_delta(&readded);
/// assert!(x.contains(&"milk") && y.contains(&"milk")); // add wins
/// assert_eq!(x, y);
/// ```
#[derive(Clone)]
pub struct AwSet<T> {
    entries: HashMap<T, Dots>,
    ctx: CausalContext,
}

/// What an [`AwSet`] operation returns: inserted `(element, dot)` pairs, removed elements, and
/// the dots the operation observed.
///
/// Invariants (checked when decoding): `inserts` is sorted by `(element, dot)` without
/// duplicates, `removes` is sorted and unique and shares no element with `inserts`, and every
/// inserted dot is in the context. Deltas built by [`AwSet`] also keep the context limited to
/// dots of the elements they list, which is what lets them merge in time proportional to
/// their size.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AwSetDelta<T> {
    inserts: Vec<(T, Dot)>,
    removes: Vec<T>,
    ctx: CausalContext,
}

impl<T> Default for AwSetDelta<T> {
    #[inline]
    fn default() -> Self {
        Self {
            inserts: Vec::new(),
            removes: Vec::new(),
            ctx: CausalContext::new(),
        }
    }
}

impl<T> AwSetDelta<T> {
    /// The inserted elements with the dot of each insert, sorted by element.
    #[inline]
    pub fn inserts(&self) -> &[(T, Dot)] {
        &self.inserts
    }

    /// The removed elements, sorted.
    #[inline]
    pub fn removes(&self) -> &[T] {
        &self.removes
    }

    /// The dots this delta observed (the inserts' own dots and the ones it overwrote).
    #[inline]
    pub fn context(&self) -> &CausalContext {
        &self.ctx
    }

    /// Whether merging this delta changes nothing.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inserts.is_empty() && self.removes.is_empty() && self.ctx.is_empty()
    }
}

impl<T: Ord + Clone> AwSetDelta<T> {
    /// Joins `other` into this delta, making a *delta group*: merging the result into a set
    /// has the same effect as merging both deltas, in either order. Useful to buffer or batch
    /// deltas for shipping.
    pub fn merge(&mut self, other: &AwSetDelta<T>) {
        let a_rows = core::mem::take(&mut self.inserts);
        let a_rem = core::mem::take(&mut self.removes);
        let (b_rows, b_rem) = (&other.inserts, &other.removes);
        let mut rows = Vec::with_capacity(a_rows.len() + b_rows.len());
        let mut removes = Vec::new();
        let (mut i, mut ri, mut j, mut rj) = (0, 0, 0, 0);
        while let Some(x) = min_head([
            a_rows.get(i).map(|r| &r.0),
            a_rem.get(ri),
            b_rows.get(j).map(|r| &r.0),
            b_rem.get(rj),
        ]) {
            let x = x.clone();
            let a_end = i + a_rows[i..].iter().take_while(|r| r.0 == x).count();
            let b_end = j + b_rows[j..].iter().take_while(|r| r.0 == x).count();
            let (a_run, b_run) = (&a_rows[i..a_end], &b_rows[j..b_end]);
            ri += usize::from(a_rem.get(ri) == Some(&x));
            rj += usize::from(b_rem.get(rj) == Some(&x));
            // The dot-store join for one element (see `Dots::join`).
            let before = rows.len();
            for &(_, d) in a_run {
                if b_run.iter().any(|r| r.1 == d) || !other.ctx.contains(d) {
                    rows.push((x.clone(), d));
                }
            }
            for &(_, d) in b_run {
                if !a_run.iter().any(|r| r.1 == d) && !self.ctx.contains(d) {
                    rows.push((x.clone(), d));
                }
            }
            if rows.len() == before {
                // Still named, so its observed dots keep removing it where merged.
                removes.push(x);
            } else {
                sort_by_key(&mut rows[before..], |r| r.1);
            }
            i = a_end;
            j = b_end;
        }
        self.inserts = rows;
        self.removes = removes;
        self.ctx.merge(&other.ctx);
    }
}

/// The least of up to four sorted lists' heads.
pub(crate) fn min_head<T: Ord>(heads: [Option<&T>; 4]) -> Option<&T> {
    heads.into_iter().flatten().min()
}

impl<T> Default for AwSet<T> {
    #[inline]
    fn default() -> Self {
        Self {
            entries: HashMap::default(),
            ctx: CausalContext::new(),
        }
    }
}

impl<T> AwSet<T> {
    /// An empty set. Does not allocate.
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of elements present.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no element is present.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The elements, in no particular order.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.entries.keys()
    }

    /// Every insert event this set has seen.
    #[inline]
    pub fn context(&self) -> &CausalContext {
        &self.ctx
    }

    /// Total number of insert dots held (at least [`len`](Self::len); more only while
    /// concurrent inserts of one element are unresolved). With [`context`](Self::context),
    /// this is the whole metadata of the set.
    pub fn dot_count(&self) -> usize {
        self.entries.values().map(Dots::len).sum()
    }

    /// Checks the invariants in the [module docs](self).
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        self.ctx.check_invariants()?;
        for dots in self.entries.values() {
            let all: Vec<Dot> = dots.iter().collect();
            if !strictly_sorted_by(&all, |a, b| a < b) {
                return Err("element dots not sorted");
            }
            if all.iter().any(|d| !self.ctx.contains(*d)) {
                return Err("element dot outside context");
            }
        }
        Ok(())
    }
}

impl<T: Eq + Hash> AwSet<T> {
    /// Whether `value` is present.
    #[inline]
    pub fn contains(&self, value: &T) -> bool {
        self.entries.contains_key(value)
    }

    /// For each of `values`, whether it is present (same order).
    pub fn contains_keys(&self, values: &[T]) -> Vec<bool> {
        values
            .iter()
            .map(|v| self.entries.contains_key(v))
            .collect()
    }
}

impl<T: Ord + Hash + Clone> AwSet<T> {
    /// Inserts `value` on behalf of `replica`; returns the delta.
    pub fn insert(&mut self, replica: ReplicaId, value: T) -> AwSetDelta<T> {
        let dot = self.ctx.next_dot(replica);
        let mut ctx = CausalContext::new();
        // One hash lookup; a present element costs a throwaway clone of the key instead.
        match self.entries.entry(value.clone()) {
            Entry::Occupied(mut o) => {
                let dots = o.get_mut();
                for d in dots.iter() {
                    ctx.insert(d);
                }
                *dots = Dots::one(dot);
            }
            Entry::Vacant(slot) => {
                slot.insert(Dots::one(dot));
            }
        }
        ctx.insert(dot);
        AwSetDelta {
            inserts: alloc::vec![(value, dot)],
            removes: Vec::new(),
            ctx,
        }
    }

    /// The delta [`insert`](Self::insert) would return, without applying it (a *delta
    /// mutator*): `map.update(r, key, |s| s.insert_delta(r, x))` changes a nested set without
    /// cloning it.
    pub fn insert_delta(&self, replica: ReplicaId, value: T) -> AwSetDelta<T> {
        let dot = Dot::new(replica, self.ctx.max_counter(replica).saturating_add(1));
        let mut ctx = match self.entries.get(&value) {
            Some(dots) => CausalContext::from_dots(dots.iter()),
            None => CausalContext::new(),
        };
        ctx.insert(dot);
        AwSetDelta {
            inserts: alloc::vec![(value, dot)],
            removes: Vec::new(),
            ctx,
        }
    }

    /// The delta [`remove`](Self::remove) would return, without applying it.
    pub fn remove_delta(&self, value: &T) -> AwSetDelta<T> {
        match self.entries.get(value) {
            Some(dots) => AwSetDelta {
                inserts: Vec::new(),
                removes: alloc::vec![value.clone()],
                ctx: CausalContext::from_dots(dots.iter()),
            },
            None => AwSetDelta::default(),
        }
    }

    /// Inserts every element of `values` on behalf of `replica`, with the same result as
    /// inserting them one at a time in order; returns one delta for the lot.
    ///
    /// One pass: the `n` dots are reserved as one range (one context update), the table is
    /// grown once, and the delta's context is the range plus the overwritten dots.
    pub fn insert_batch(&mut self, replica: ReplicaId, values: &[T]) -> AwSetDelta<T> {
        if values.is_empty() {
            return AwSetDelta::default();
        }
        let n = values.len() as u64;
        let first = self.ctx.reserve(replica, n);
        self.entries.reserve(values.len());
        let mut overwritten: Vec<Dot> = Vec::new();
        let mut inserts = Vec::with_capacity(values.len());
        for (i, v) in (0u64..).zip(values) {
            let dot = Dot::new(replica, first.saturating_add(i));
            match self.entries.entry(v.clone()) {
                Entry::Occupied(mut o) => {
                    let dots = o.get_mut();
                    for d in dots.iter() {
                        // Dots from earlier in this batch are already in the range.
                        if d.replica != replica || d.counter < first {
                            overwritten.push(d);
                        }
                    }
                    *dots = Dots::one(dot);
                }
                Entry::Vacant(slot) => {
                    slot.insert(Dots::one(dot));
                }
            }
            inserts.push((v.clone(), dot));
        }
        sort_keep_last(&mut inserts);
        let mut ctx = CausalContext::new();
        ctx.insert_range(replica, first, first.saturating_add(n));
        for d in overwritten {
            ctx.insert(d);
        }
        AwSetDelta {
            inserts,
            removes: Vec::new(),
            ctx,
        }
    }

    /// Removes `value` (the insert events this replica has seen of it); returns the delta,
    /// empty if `value` was absent.
    pub fn remove(&mut self, value: &T) -> AwSetDelta<T> {
        match self.entries.remove(value) {
            Some(dots) => AwSetDelta {
                inserts: Vec::new(),
                removes: alloc::vec![value.clone()],
                ctx: CausalContext::from_dots(dots.iter()),
            },
            None => AwSetDelta::default(),
        }
    }

    /// Removes every element of `values`, with the same result as removing them one at a
    /// time; returns one delta for the lot.
    pub fn remove_batch(&mut self, values: &[T]) -> AwSetDelta<T> {
        let mut removes = Vec::new();
        let mut dots: Vec<Dot> = Vec::new();
        for v in values {
            if let Some(ds) = self.entries.remove(v) {
                dots.extend(ds.iter());
                removes.push(v.clone());
            }
        }
        sort(&mut removes);
        sort(&mut dots);
        AwSetDelta {
            inserts: Vec::new(),
            removes,
            ctx: CausalContext::from_dots(dots),
        }
    }

    /// Removes every element; returns the delta.
    pub fn clear(&mut self) -> AwSetDelta<T> {
        let mut removes: Vec<T> = Vec::with_capacity(self.entries.len());
        let mut dots: Vec<Dot> = Vec::with_capacity(self.entries.len());
        for (v, ds) in self.entries.drain() {
            dots.extend(ds.iter());
            removes.push(v);
        }
        sort(&mut removes);
        sort(&mut dots);
        AwSetDelta {
            inserts: Vec::new(),
            removes,
            ctx: CausalContext::from_dots(dots),
        }
    }

    /// Applies the rows of one element (`theirs`, sorted dots) seen under `their_ctx`.
    fn apply_element(
        entries: &mut HashMap<T, Dots>,
        ctx: &CausalContext,
        value: &T,
        theirs: impl Iterator<Item = Dot> + Clone,
        their_ctx: &CausalContext,
    ) {
        match entries.get_mut(value) {
            Some(dots) => match dots.join(ctx, theirs, their_ctx) {
                Joined::Unchanged => {}
                Joined::Empty => {
                    entries.remove(value);
                }
                Joined::New(d) => *dots = d,
            },
            None => {
                if let Some(dots) = Self::unseen_dots(ctx, theirs) {
                    entries.insert(value.clone(), dots);
                }
            }
        }
    }

    /// The dots of an element we do not hold that our context has not seen (`None` if all
    /// were seen: we removed it after observing those adds).
    fn unseen_dots(ctx: &CausalContext, theirs: impl Iterator<Item = Dot>) -> Option<Dots> {
        let mut fresh = theirs.filter(|d| !ctx.contains(*d));
        let first = fresh.next()?;
        Some(match (fresh.next(), fresh.next()) {
            (None, _) => Dots::One(first),
            (Some(second), None) => Dots::Two([first, second]),
            (Some(second), Some(third)) => {
                let mut all = alloc::vec![first, second, third];
                all.extend(fresh);
                Dots::Many(all.into_boxed_slice())
            }
        })
    }
}

/// Sorts `(key, dot)` rows and keeps, for each key, the row with the greatest dot.
fn sort_keep_last<T: Ord>(rows: &mut Vec<(T, Dot)>) {
    // Inputs are often already in order (and unique): check before sorting.
    if !strictly_sorted_by(rows, |a, b| a.0 < b.0) {
        sort_by(rows, |a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).is_lt());
        dedup_keep_last(rows, |r| &r.0);
    }
}

impl<T: Ord + Hash + Clone> Crdt for AwSet<T> {
    type Delta = AwSetDelta<T>;

    fn merge(&mut self, other: &Self) {
        let ctx = &self.ctx;
        let mut shared = 0usize;
        // Ours: keep what the other side also has or never saw.
        self.entries.retain(|v, dots| match other.entries.get(v) {
            Some(theirs) => {
                shared += 1;
                match dots.join(ctx, theirs.iter(), &other.ctx) {
                    Joined::Unchanged => true,
                    Joined::Empty => false,
                    Joined::New(d) => {
                        *dots = d;
                        true
                    }
                }
            }
            None => dots.retain_unseen(&other.ctx),
        });
        // Theirs: add what we never saw (one probe to rule the element out, one to insert it,
        // and at most one grow of the table).
        self.entries.reserve(other.entries.len() - shared);
        for (v, theirs) in &other.entries {
            if !self.entries.contains_key(v) {
                if let Some(dots) = Self::unseen_dots(&self.ctx, theirs.iter()) {
                    self.entries.insert(v.clone(), dots);
                }
            }
        }
        self.ctx.merge(&other.ctx);
    }

    fn merge_delta(&mut self, delta: &Self::Delta) {
        // Rows come sorted by element: one group per element.
        for group in delta.inserts.chunk_by(|a, b| a.0 == b.0) {
            Self::apply_element(
                &mut self.entries,
                &self.ctx,
                &group[0].0,
                group.iter().map(|r| r.1),
                &delta.ctx,
            );
        }
        for v in &delta.removes {
            if let Some(dots) = self.entries.get_mut(v) {
                if !dots.retain_unseen(&delta.ctx) {
                    self.entries.remove(v);
                }
            }
        }
        self.ctx.merge(&delta.ctx);
    }

    /// Grows the table once for all deltas' inserts, then joins each delta in turn.
    ///
    /// Merging one delta already touches only the elements it names (one hash lookup per
    /// row) and raises the context in place, so the fold is a single pass over the input. A
    /// sort-by-element pass that first joins each element's rows from all deltas does not pay
    /// here: unlike LWW rows, observed-remove rows cannot be dropped by a sort, and joining `k`
    /// deltas' rows for one element checks each row against the other deltas' contexts. (Such
    /// a version was written, property-tested and measured slower than this fold on 100
    /// deltas into a 1,000-element set, so it was dropped.)
    fn merge_batch_in(&mut self, deltas: &[Self::Delta], _scratch: &mut Scratch) {
        let inserts: usize = deltas.iter().map(|d| d.inserts.len()).sum();
        self.entries.reserve(inserts);
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

impl<T: Eq + Hash> PartialEq for AwSet<T> {
    fn eq(&self, other: &Self) -> bool {
        self.ctx == other.ctx && self.entries == other.entries
    }
}

impl<T: Eq + Hash> Eq for AwSet<T> {}

impl<T: fmt::Debug + Ord> fmt::Debug for AwSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut items: Vec<(&T, &Dots)> = self.entries.iter().collect();
        sort_by(&mut items, |a, b| a.0 < b.0);
        f.debug_struct("AwSet")
            .field("entries", &items)
            .field("ctx", &self.ctx)
            .finish()
    }
}

impl<T: Serialize + Ord> Serialize for AwSet<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Canonical: entries in element order, whatever the hash map's order.
        let mut items: Vec<(&T, &Dots)> = self.entries.iter().collect();
        sort_by(&mut items, |a, b| a.0 < b.0);
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&items)?;
        t.serialize_element(&self.ctx)?;
        t.end()
    }
}

impl<'de, T: Deserialize<'de> + Ord + Hash> Deserialize<'de> for AwSet<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (SeqVec(items), ctx) = <(SeqVec<(T, Dots)>, CausalContext)>::deserialize(d)?;
        Self::from_wire(items, ctx).map_err(serde::de::Error::custom)
    }
}

impl<T: Ord + Hash> AwSet<T> {
    /// The set of decoded elements and context, checked to be sorted by element without
    /// duplicates and with every dot in the context (the checks both decoders make).
    fn from_wire(items: Vec<(T, Dots)>, ctx: CausalContext) -> Result<Self, &'static str> {
        if !strictly_sorted_by(&items, |a, b| a.0 < b.0) {
            return Err("set elements not sorted");
        }
        if items
            .iter()
            .any(|(_, ds)| ds.iter().any(|d| !ctx.contains(d)))
        {
            return Err("element dot outside context");
        }
        let mut entries = HashMap::with_capacity(items.len());
        entries.extend(items);
        Ok(Self { entries, ctx })
    }
}

impl<T: crate::encoding::codec::Encode + Ord> crate::encoding::codec::Encode for AwSet<T> {
    /// The entries in element order, then the context, as the `Serialize` impl writes them.
    fn encode(&self, w: &mut Vec<u8>) {
        let mut items: Vec<(&T, &Dots)> = self.entries.iter().collect();
        sort_by(&mut items, |a, b| a.0 < b.0);
        items.encode(w);
        self.ctx.encode(w);
    }
}

impl<'a, T: crate::encoding::codec::Decode<'a> + Ord + Hash> crate::encoding::codec::Decode<'a>
    for AwSet<T>
{
    /// Reads the entries and the context, then checks them as the `Deserialize` impl does.
    fn decode(
        r: &mut crate::encoding::codec::Reader<'a>,
    ) -> Result<Self, crate::encoding::DecodeError> {
        let items = Vec::<(T, Dots)>::decode(r)?;
        let ctx = CausalContext::decode(r)?;
        Self::from_wire(items, ctx).map_err(|_| crate::encoding::REJECTED)
    }
}

impl<T: Serialize + serde::de::DeserializeOwned + Ord + Hash + Clone> WireType for AwSet<T> {
    const TAG: TypeTag = TypeTag::AwSet;
}

impl<T: Serialize> Serialize for AwSetDelta<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(3)?;
        t.serialize_element(&self.inserts)?;
        t.serialize_element(&self.removes)?;
        t.serialize_element(&self.ctx)?;
        t.end()
    }
}

impl<'de, T: Deserialize<'de> + Ord> Deserialize<'de> for AwSetDelta<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (SeqVec(inserts), SeqVec(removes), ctx) =
            <(SeqVec<(T, Dot)>, SeqVec<T>, CausalContext)>::deserialize(d)?;
        check_delta_rows(&inserts, |r| (&r.0, r.1), &removes, &ctx)
            .map_err(serde::de::Error::custom)?;
        Ok(Self {
            inserts,
            removes,
            ctx,
        })
    }
}

/// The decoding checks shared by [`AwSetDelta`] and the [`OrMap`](crate::OrMap) delta:
/// rows sorted by `(key, dot)` without duplicates, removals sorted, unique and disjoint from
/// the rows' keys, and every row's dot inside `ctx`.
pub(crate) fn check_delta_rows<R, T: Ord>(
    rows: &[R],
    key: fn(&R) -> (&T, Dot),
    removes: &[T],
    ctx: &CausalContext,
) -> Result<(), &'static str> {
    if !strictly_sorted_by(rows, |a, b| key(a) < key(b)) {
        return Err("delta rows not sorted");
    }
    if !strictly_sorted_by(removes, |a, b| a < b) {
        return Err("delta removals not sorted");
    }
    if rows.iter().any(|r| !ctx.contains(key(r).1)) {
        return Err("delta dot outside its context");
    }
    // Both lists are sorted: walk them together to find a shared key.
    let mut j = 0;
    for r in rows {
        let k = key(r).0;
        while j < removes.len() && removes[j] < *k {
            j += 1;
        }
        if j < removes.len() && removes[j] == *k {
            return Err("delta both inserts and removes one key");
        }
    }
    Ok(())
}

impl<T: Serialize + serde::de::DeserializeOwned + Ord + Hash + Clone> WireType for AwSetDelta<T> {
    const TAG: TypeTag = TypeTag::AwSetDelta;
}

impl<T: crate::encoding::codec::Encode> crate::encoding::codec::Encode for AwSetDelta<T> {
    fn encode(&self, w: &mut Vec<u8>) {
        self.inserts.encode(w);
        self.removes.encode(w);
        self.ctx.encode(w);
    }
}

impl<'a, T: crate::encoding::codec::Decode<'a> + Ord> crate::encoding::codec::Decode<'a>
    for AwSetDelta<T>
{
    /// Reads the three parts, then checks them as the `Deserialize` impl does.
    fn decode(
        r: &mut crate::encoding::codec::Reader<'a>,
    ) -> Result<Self, crate::encoding::DecodeError> {
        let inserts = Vec::<(T, Dot)>::decode(r)?;
        let removes = Vec::<T>::decode(r)?;
        let ctx = CausalContext::decode(r)?;
        check_delta_rows(&inserts, |r| (&r.0, r.1), &removes, &ctx)
            .map_err(|_| crate::encoding::REJECTED)?;
        Ok(Self {
            inserts,
            removes,
            ctx,
        })
    }
}

#[cfg(test)]
mod codec_tests {
    use proptest::prelude::*;

    use super::*;
    use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};
    use crate::value::Value;
    use crate::value::tests::value;

    /// A delta of `ops` (insert by a replica, or remove) applied in turn to one set, all
    /// joined; and the last operation's delta alone.
    fn deltas(ops: &[(Option<u8>, Value)]) -> (AwSetDelta<Value>, AwSetDelta<Value>) {
        let mut set = AwSet::new();
        let mut all = AwSetDelta::default();
        let mut last = AwSetDelta::default();
        for (who, v) in ops {
            last = match who {
                Some(r) => set.insert(ReplicaId(u64::from(*r)), v.clone()),
                None => set.remove(v),
            };
            all.merge(&last);
        }
        (all, last)
    }

    #[test]
    fn codec_matches_serde() {
        let (all, last) = deltas(&[
            (Some(1), Value::Int(1)),
            (Some(2), Value::Str("ü".into())),
            (Some(1), Value::Int(1)),
            (None, Value::Int(1)),
            (Some(200), Value::Null),
        ]);
        assert_same_as_serde(&AwSetDelta::<Value>::default());
        assert_same_as_serde(&all);
        assert_same_as_serde(&last);
        // Unsorted inserts, a dot outside the context, an empty cloud range.
        for bytes in [
            &[2, 2, 2, 1, 1, 2, 0, 1, 1, 0, 1, 1, 2, 0][..],
            &[1, 0, 1, 1, 0, 1, 1, 1, 0][..],
            &[0, 0, 0, 1, 1, 5, 5][..],
        ] {
            assert_decodes_same::<AwSetDelta<Value>>(bytes, &[0, 30]);
        }
    }

    /// The set `ops` build (insert by a replica, or remove), in turn.
    fn set(ops: &[(Option<u8>, Value)]) -> AwSet<Value> {
        let mut set = AwSet::new();
        for (who, v) in ops {
            match who {
                Some(r) => set.insert(ReplicaId(u64::from(*r)), v.clone()),
                None => set.remove(v),
            };
        }
        set
    }

    #[test]
    fn set_codec_matches_serde() {
        assert_same_as_serde(&AwSet::<Value>::new());
        let mut a = set(&[
            (Some(1), Value::Int(1)),
            (Some(2), Value::Str("ü✓🦀".into())),
            (Some(1), Value::Int(1)),
            (None, Value::Str("ü✓🦀".into())),
            (Some(u8::MAX), Value::Null),
        ]);
        assert_same_as_serde(&a);
        // One element inserted concurrently by two and by three replicas: `Two` and `Many`.
        let mut b = AwSet::new();
        b.insert(ReplicaId(u64::MAX), Value::Int(1));
        b.insert(ReplicaId(u64::MAX), Value::Bool(true));
        let mut c = AwSet::new();
        c.insert(ReplicaId(3), Value::Int(1));
        c.insert(ReplicaId(3), Value::Bytes(alloc::vec![0xff]));
        a.merge(&b);
        assert_same_as_serde(&a);
        a.merge(&c);
        assert!(a.entries.values().any(|d| matches!(d, Dots::Many(_))));
        assert_same_as_serde(&a);
        for dots in [
            Dots::one(Dot::new(ReplicaId(0), 0)),
            Dots::Two([Dot::new(ReplicaId(1), 1), Dot::new(ReplicaId(1), u64::MAX)]),
        ] {
            assert_same_as_serde(&dots);
        }
        // No dots, unsorted and repeated dots, unsorted elements, a dot outside the context,
        // a huge length.
        for bytes in [
            &[1, 0, 0, 0, 0, 0][..],
            &[0][..],
            &[2, 1, 2, 1, 1][..],
            &[2, 1, 1, 1, 1][..],
            &[1, 2, 0, 2, 1, 1, 1, 1, 1, 1, 0][..],
            &[2, 2, 4, 1, 1, 1, 2, 0, 1, 1, 1, 1, 2, 0][..],
            &[1, 0, 1, 1, 1, 1, 2, 1, 0][..],
            &[1, 0, 1, 1, 1, 1, 1, 1, 0][..],
            &[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0][..],
        ] {
            assert_decodes_same::<AwSet<Value>>(bytes, &[0, 30]);
            assert_decodes_same::<Dots>(bytes, &[0, 30]);
        }
    }

    proptest! {
        #[test]
        fn codec_matches_serde_on_any_set(
            ops in proptest::collection::vec((proptest::option::of(0u8..4), value()), 0..10),
            other in proptest::collection::vec((proptest::option::of(0u8..4), value()), 0..6),
        ) {
            let mut a = set(&ops);
            assert_same_as_serde(&a);
            a.merge(&set(&other));
            assert_same_as_serde(&a);
        }

        #[test]
        fn set_decodes_any_bytes_as_serde(
            bytes in proptest::collection::vec(any::<u8>(), 0..32)
        ) {
            assert_decodes_same::<AwSet<Value>>(&bytes, &[0, 40]);
            assert_decodes_same::<AwSet<u64>>(&bytes, &[0, 40]);
        }

        #[test]
        fn codec_matches_serde_on_any_delta(
            ops in proptest::collection::vec((proptest::option::of(0u8..4), value()), 0..8)
        ) {
            let (all, last) = deltas(&ops);
            assert_same_as_serde(&all);
            assert_same_as_serde(&last);
        }
    }
}
