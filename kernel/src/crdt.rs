//! The traits shared by all state CRDTs.
//!
//! Every state CRDT in converge is a join-semilattice: [`Crdt::merge`] computes the least upper
//! bound of two states, so it is commutative, associative and idempotent, and replicas that
//! have merged the same states hold equal values no matter the order or repetition of merges.
//!
//! The types follow the *delta-state* style (Almeida, Shoker and Baquero, "Delta State
//! Replicated Data Types", 2018): a local operation mutates the state and returns a small
//! **delta**, itself an element of the lattice (or a compact encoding of one), that can be
//! shipped instead of the whole state. [`Crdt::merge_delta`] folds one delta in;
//! [`Crdt::merge_batch_in`] folds many in with one pass over the state, using caller-provided
//! [`Scratch`] space for the temporaries so a steady stream of batches allocates nothing.
//!
//! The laws every implementation upholds (and `tests/state_laws.rs` checks by property test):
//!
//! * `a.merge(b) == b.merge(a)`, `(a ⊔ b) ⊔ c == a ⊔ (b ⊔ c)`, `a ⊔ a == a`;
//! * merging the delta returned by an operation has the same effect as merging the full state
//!   the operation produced;
//! * `merge_batch(ds)` equals `merge_delta` applied to each of `ds` in order.
//!
//! # Conventions shared by the state CRDTs
//!
//! * **The acting replica is an argument.** Every local operation that creates an event takes
//!   the [`ReplicaId`] it acts for (`counter.inc(replica, 1)`, `set.insert(replica, x)`);
//!   values do not store "their" replica, so one value can be driven for several replicas and
//!   a binding passes a plain number. Operations that create no event (removing from an
//!   observed-remove set or map) take none.
//! * **No wall clock.** Last-writer-wins types stamp a local write one Lamport tick past the
//!   newest timestamp they have seen; their `*_at` variants take a [`Timestamp`](crate::Timestamp)
//!   from a caller that keeps a shared [`Lamport`](crate::Lamport) clock.
//! * **Operations return their delta**, owned, ready to encode and ship. Each mutating
//!   operation also has a *delta mutator* twin (`inc_delta`, `insert_delta`, ...) that
//!   returns the same delta from `&self` without applying it, which is what nested updates
//!   through [`OrMap::update`](crate::OrMap::update) want.
//! * **Batch operations take slices** (`insert_batch`, `update_batch`, `remove_batch`,
//!   `get_batch`, `contains_keys`) and give the same state and the same delta effect as the
//!   single operations applied in order, with one table growth and one context update.
//!
//! The module also holds the crate-private helpers the CRDT modules share for decoding
//! untrusted input: sequences never preallocate more than 64 elements from a length
//! prefix, whatever it claims.

use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use converge_pool::Scratch;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::clock::ReplicaId;

/// A state-based CRDT with delta support.
///
/// `Default` is the bottom element of the lattice (the empty state) and must not allocate.
/// The trait is object-unsafe on purpose: it is used generically (for nested values in
/// [`OrMap`](crate::OrMap) and by the document layer), never through `dyn`.
pub trait Crdt: Clone + Default {
    /// What a local operation returns and what [`merge_delta`](Crdt::merge_delta) accepts.
    ///
    /// For simple types this is `Self`; collections use a dedicated type that names only the
    /// touched entries so merging a delta costs time proportional to the delta, not the state.
    type Delta: Clone;

    /// Joins `other` into `self` (least upper bound).
    fn merge(&mut self, other: &Self);

    /// Joins one delta into `self`.
    fn merge_delta(&mut self, delta: &Self::Delta);

    /// Joins an owned delta. Same result as [`merge_delta`](Crdt::merge_delta); types whose
    /// delta is a state of their own kind take it over without copying when `self` is empty.
    #[inline]
    fn merge_delta_owned(&mut self, delta: Self::Delta) {
        self.merge_delta(&delta);
    }

    /// Joins many deltas, with the same result as calling [`merge_delta`](Crdt::merge_delta)
    /// on each in order. Allocates its own scratch space; prefer
    /// [`merge_batch_in`](Crdt::merge_batch_in) in loops.
    fn merge_batch(&mut self, deltas: &[Self::Delta]) {
        let mut scratch = Scratch::new();
        self.merge_batch_in(deltas, &mut scratch);
    }

    /// Joins many deltas in one pass, using `scratch` for temporaries (it is left holding
    /// garbage; call [`Scratch::reset`] between batches to reuse its memory).
    ///
    /// The default folds the deltas one at a time; the collection types override it to
    /// gather, sort and deduplicate first and touch the state once per distinct entry.
    fn merge_batch_in(&mut self, deltas: &[Self::Delta], scratch: &mut Scratch) {
        let _ = scratch;
        for d in deltas {
            self.merge_delta(d);
        }
    }

    /// Whether this is the bottom (empty, freshly created) state.
    fn is_bottom(&self) -> bool;

    /// The highest event counter of `replica` this value has recorded; 0 for types whose
    /// events carry no dots (counters, LWW registers).
    ///
    /// With [`observe_counter`](Crdt::observe_counter), this lets a container such as
    /// [`OrMap`](crate::OrMap) keep a replica's event numbers unique across itself and the
    /// values nested in it, even after a nested value is removed and created again.
    #[inline]
    fn max_counter(&self, replica: ReplicaId) -> u64 {
        let _ = replica;
        0
    }

    /// Records events `1..=counter` of `replica` as seen, so the next event `replica` makes on
    /// this value is numbered above them. A no-op for types without dots.
    ///
    /// Only meaningful on a value that holds nothing but `replica`'s own writes (an `OrMap`
    /// contribution): there, no held content carries those numbers unless it is present.
    #[inline]
    fn observe_counter(&mut self, replica: ReplicaId, counter: u64) {
        let _ = (replica, counter);
    }
}

/// The most elements a decoder reserves room for up front, whatever a length prefix claims.
///
/// Larger sequences still decode: the vector grows as elements actually arrive, so memory is
/// bounded by the input's real size, not by what an attacker writes into a length field.
pub(crate) const PREALLOC_LIMIT: usize = 64;

/// A `Vec<T>` whose `Deserialize` never preallocates more than [`PREALLOC_LIMIT`] elements.
pub(crate) struct SeqVec<T>(pub(crate) Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for SeqVec<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<fn() -> T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = SeqVec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(PREALLOC_LIMIT));
                while let Some(x) = seq.next_element()? {
                    out.push(x);
                }
                Ok(SeqVec(out))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// Whether `items` is strictly increasing under `less` (sorted, no duplicates).
#[inline]
pub(crate) fn strictly_sorted_by<T>(items: &[T], less: impl Fn(&T, &T) -> bool) -> bool {
    items.windows(2).all(|w| less(&w[0], &w[1]))
}

/// Of each run of rows with the same `key` (rows sorted by it), keeps the last.
pub(crate) fn dedup_keep_last<R, K: PartialEq>(rows: &mut Vec<R>, key: impl Fn(&R) -> &K) {
    rows.dedup_by(|later, kept| {
        if key(later) == key(kept) {
            core::mem::swap(later, kept);
            true
        } else {
            false
        }
    });
}

/// [`Crdt::merge_delta_owned`] for a type whose delta is a state of its own kind: an empty
/// `this` takes `delta` over without copying it.
#[inline]
pub(crate) fn take_or_merge<C: Crdt<Delta = C>>(this: &mut C, delta: C) {
    if this.is_bottom() {
        *this = delta;
    } else {
        this.merge_delta(&delta);
    }
}
