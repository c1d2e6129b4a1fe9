//! Registers: [`LwwRegister`] (last writer wins) and [`MvRegister`] (keeps concurrent values).
//!
//! # `LwwRegister<T>`
//!
//! Holds at most one value tagged with the [`Timestamp`] of its write; merge keeps the value
//! with the greater timestamp (Lamport value first, then replica id, see
//! [`Timestamp`]'s `Ord`). No wall clock is read: [`LwwRegister::set`] stamps the write one
//! Lamport tick past the newest timestamp the register has seen, and [`LwwRegister::set_at`]
//! takes a timestamp from a caller that keeps its own (shared) [`Lamport`](crate::Lamport)
//! clock. Timestamps name events, so two writes never share one; if a corrupted peer sends
//! two different values under one timestamp, merge keeps the value already present.
//!
//! # `MvRegister<T>`
//!
//! A multi-value register: a write replaces every value the writer has seen, and writes that
//! did not see each other are all kept, so the application can resolve the conflict (and its
//! resolving write then replaces them all). Each value carries the [`Dot`] of its write, and a
//! [`CausalContext`] records every write seen, so an overwritten value is simply dropped: no
//! tombstones. Invariants: values are sorted by dot with unique dots, and every value's dot is
//! in the context.

use alloc::vec::Vec;

use converge_pool::Scratch;
use serde::ser::SerializeTuple;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::causal::CausalContext;
use crate::clock::{Dot, ReplicaId, Timestamp};
use crate::crdt::{Crdt, SeqVec, strictly_sorted_by};
use crate::encoding::{TypeTag, WireType};
use crate::sort::sort_by_key;

/// A last-writer-wins register. Its delta type is itself (a register holding the new write).
///
/// ```
/// use converge::{Crdt, LwwRegister, ReplicaId};
/// let mut a = LwwRegister::new();
/// let mut b = LwwRegister::new();
/// let da = a.set(ReplicaId(1), "from a");
/// let db = b.set(ReplicaId(2), "from b"); // same Lamport time: replica 2 wins the tie
/// a.merge_delta(&db);
/// b.merge_delta(&da);
/// assert_eq!(a.get(), Some(&"from b"));
/// assert_eq!(a, b);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LwwRegister<T> {
    entry: Option<(Timestamp, T)>,
}

impl<T> Default for LwwRegister<T> {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl<T> LwwRegister<T> {
    /// An unset register. Does not allocate.
    #[inline]
    pub const fn new() -> Self {
        Self { entry: None }
    }

    /// The current value, if any write has been seen.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        self.entry.as_ref().map(|(_, v)| v)
    }

    /// The timestamp of the current value.
    #[inline]
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.entry.as_ref().map(|(t, _)| *t)
    }

    /// The timestamp a new local write by `replica` gets from [`set`](Self::set): one Lamport
    /// tick past the newest timestamp seen.
    #[inline]
    pub fn next_timestamp(&self, replica: ReplicaId) -> Timestamp {
        let lamport = self.timestamp().map_or(0, |t| t.lamport);
        Timestamp::new(lamport.saturating_add(1), replica)
    }

    /// Consumes the register, returning its value.
    #[inline]
    pub fn into_value(self) -> Option<T> {
        self.entry.map(|(_, v)| v)
    }

    /// Whether `ts` would win against the current value.
    #[inline]
    fn wins(&self, ts: Timestamp) -> bool {
        match &self.entry {
            None => true,
            Some((cur, _)) => ts > *cur,
        }
    }
}

impl<T: Clone> LwwRegister<T> {
    /// Writes `value` on behalf of `replica` at [`next_timestamp`](Self::next_timestamp), so it
    /// wins over everything this register has seen. Returns the delta.
    pub fn set(&mut self, replica: ReplicaId, value: T) -> LwwRegister<T> {
        let ts = self.next_timestamp(replica);
        self.set_at(ts, value)
    }

    /// The delta [`set`](Self::set) would return, without applying it (a *delta mutator*, for
    /// nested use in [`OrMap::update`](crate::OrMap::update)).
    pub fn set_delta(&self, replica: ReplicaId, value: T) -> LwwRegister<T> {
        LwwRegister {
            entry: Some((self.next_timestamp(replica), value)),
        }
    }

    /// Writes `value` at a caller-chosen timestamp (from a shared Lamport clock). If `ts` is
    /// not newer than the current value's, the write loses and the state is unchanged; the
    /// returned delta still describes the write (merging it anywhere is harmless).
    pub fn set_at(&mut self, ts: Timestamp, value: T) -> LwwRegister<T> {
        if self.wins(ts) {
            self.entry = Some((ts, value.clone()));
        }
        LwwRegister {
            entry: Some((ts, value)),
        }
    }
}

impl<T: Clone> Crdt for LwwRegister<T> {
    type Delta = LwwRegister<T>;

    #[inline]
    fn merge(&mut self, other: &Self) {
        if let Some((ts, v)) = &other.entry {
            if self.wins(*ts) {
                self.entry = Some((*ts, v.clone()));
            }
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

    /// One pass to find the newest write, one clone.
    fn merge_batch_in(&mut self, deltas: &[Self::Delta], _scratch: &mut Scratch) {
        let mut best: Option<&(Timestamp, T)> = None;
        for d in deltas {
            if let Some(e) = &d.entry {
                if best.is_none_or(|b| e.0 > b.0) {
                    best = Some(e);
                }
            }
        }
        if let Some((ts, v)) = best {
            if self.wins(*ts) {
                self.entry = Some((*ts, v.clone()));
            }
        }
    }

    #[inline]
    fn is_bottom(&self) -> bool {
        self.entry.is_none()
    }
}

impl<T: Serialize> Serialize for LwwRegister<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entry.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for LwwRegister<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self {
            entry: Option::<(Timestamp, T)>::deserialize(d)?,
        })
    }
}

impl<T: Clone + Serialize + serde::de::DeserializeOwned> WireType for LwwRegister<T> {
    const TAG: TypeTag = TypeTag::LwwRegister;
}

impl<T: crate::encoding::codec::Encode> crate::encoding::codec::Encode for LwwRegister<T> {
    fn encode(&self, w: &mut Vec<u8>) {
        self.entry.encode(w);
    }
}

impl<'a, T: crate::encoding::codec::Decode<'a>> crate::encoding::codec::Decode<'a>
    for LwwRegister<T>
{
    fn decode(
        r: &mut crate::encoding::codec::Reader<'a>,
    ) -> Result<Self, crate::encoding::DecodeError> {
        Ok(Self {
            entry: crate::encoding::codec::Decode::decode(r)?,
        })
    }
}

/// A multi-value register: concurrent writes are all kept until a later write replaces them.
/// Its delta type is itself.
///
/// ```
/// use converge::{Crdt, MvRegister, ReplicaId};
/// let mut a = MvRegister::new();
/// let mut b = MvRegister::new();
/// let da = a.set(ReplicaId(1), 1);
/// let db = b.set(ReplicaId(2), 2);
/// a.merge_delta(&db);
/// b.merge_delta(&da);
/// let mut vals: Vec<_> = a.values().copied().collect();
/// vals.sort();
/// assert_eq!(vals, [1, 2]);
/// let resolved = a.set(ReplicaId(1), 3); // sees both, so replaces both
/// b.merge_delta(&resolved);
/// assert_eq!(b.values().collect::<Vec<_>>(), [&3]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MvRegister<T> {
    /// Sorted by dot, unique dots, each dot in `ctx`.
    values: Vec<(Dot, T)>,
    ctx: CausalContext,
}

impl<T> Default for MvRegister<T> {
    #[inline]
    fn default() -> Self {
        Self::new()
    }
}

impl<T> MvRegister<T> {
    /// An unset register. Does not allocate.
    #[inline]
    pub const fn new() -> Self {
        Self {
            values: Vec::new(),
            ctx: CausalContext::new(),
        }
    }

    /// The current values, in the order of their writes' dots. More than one means concurrent
    /// writes that no replica has resolved yet.
    #[inline]
    pub fn values(&self) -> impl ExactSizeIterator<Item = &T> + '_ {
        self.values.iter().map(|(_, v)| v)
    }

    /// The current values with the dots of their writes.
    #[inline]
    pub fn entries(&self) -> &[(Dot, T)] {
        &self.values
    }

    /// The value, if there is exactly one.
    #[inline]
    pub fn get(&self) -> Option<&T> {
        match self.values.as_slice() {
            [(_, v)] => Some(v),
            _ => None,
        }
    }

    /// Number of values (concurrent writes) held.
    #[inline]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the register holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every write this register has seen.
    #[inline]
    pub fn context(&self) -> &CausalContext {
        &self.ctx
    }

    #[inline]
    fn has_dot(&self, dot: Dot) -> bool {
        self.values.iter().any(|(d, _)| *d == dot)
    }
}

impl<T: Clone> MvRegister<T> {
    /// Writes `value` on behalf of `replica`, replacing every value seen. Returns the delta: the
    /// new value plus the dots it overwrites.
    pub fn set(&mut self, replica: ReplicaId, value: T) -> MvRegister<T> {
        let dot = self.ctx.next_dot(replica);
        let mut dctx = CausalContext::from_dots(self.values.iter().map(|(d, _)| *d));
        dctx.insert(dot);
        self.values.clear();
        self.values.push((dot, value.clone()));
        MvRegister {
            values: alloc::vec![(dot, value)],
            ctx: dctx,
        }
    }

    /// The delta [`set`](Self::set) would return, without applying it (a *delta mutator*, for
    /// nested use in [`OrMap::update`](crate::OrMap::update)).
    pub fn set_delta(&self, replica: ReplicaId, value: T) -> MvRegister<T> {
        let dot = Dot::new(replica, self.ctx.max_counter(replica).saturating_add(1));
        let mut ctx = CausalContext::from_dots(self.values.iter().map(|(d, _)| *d));
        ctx.insert(dot);
        MvRegister {
            values: alloc::vec![(dot, value)],
            ctx,
        }
    }

    /// Removes every value seen (the register reads as unset). Returns the delta.
    pub fn clear(&mut self) -> MvRegister<T> {
        let dctx = CausalContext::from_dots(self.values.iter().map(|(d, _)| *d));
        self.values.clear();
        MvRegister {
            values: Vec::new(),
            ctx: dctx,
        }
    }

    fn join(&mut self, other: &Self) {
        // Keep ours if the other side still has it or never saw it.
        self.values
            .retain(|(d, _)| other.has_dot(*d) || !other.ctx.contains(*d));
        // Take theirs if we never saw it (ours are all in our context, so no duplicates).
        let before = self.values.len();
        for (d, v) in &other.values {
            if !self.ctx.contains(*d) {
                self.values.push((*d, v.clone()));
            }
        }
        if self.values.len() != before {
            sort_by_key(&mut self.values, |(d, _)| *d);
        }
        self.ctx.merge(&other.ctx);
    }
}

impl<T: Clone> Crdt for MvRegister<T> {
    type Delta = MvRegister<T>;

    #[inline]
    fn merge(&mut self, other: &Self) {
        self.join(other);
    }

    #[inline]
    fn merge_delta(&mut self, delta: &Self::Delta) {
        self.join(delta);
    }

    #[inline]
    fn merge_delta_owned(&mut self, delta: Self::Delta) {
        crate::crdt::take_or_merge(self, delta);
    }

    #[inline]
    fn is_bottom(&self) -> bool {
        self.values.is_empty() && self.ctx.is_empty()
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

impl<T: Serialize> Serialize for MvRegister<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(&self.values)?;
        t.serialize_element(&self.ctx)?;
        t.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MvRegister<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (SeqVec(values), ctx) = <(SeqVec<(Dot, T)>, CausalContext)>::deserialize(d)?;
        if !strictly_sorted_by(&values, |a, b| a.0 < b.0) {
            return Err(serde::de::Error::custom(
                "register values not sorted by dot",
            ));
        }
        if values.iter().any(|(d, _)| !ctx.contains(*d)) {
            return Err(serde::de::Error::custom(
                "register value dot outside context",
            ));
        }
        Ok(Self { values, ctx })
    }
}

impl<T: Clone + Serialize + serde::de::DeserializeOwned> WireType for MvRegister<T> {
    const TAG: TypeTag = TypeTag::MvRegister;
}

#[cfg(test)]
mod codec_tests {
    use super::*;
    use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};
    use crate::value::Value;

    #[test]
    fn codec_matches_serde() {
        let mut r = LwwRegister::<Value>::default();
        assert_same_as_serde(&r);
        for v in [Value::Null, Value::Str("ü🦀".into()), Value::Int(i64::MIN)] {
            r.set(ReplicaId(u64::MAX), v);
            assert_same_as_serde(&r);
        }
        r.set_at(
            Timestamp::new(u64::MAX, ReplicaId(0)),
            Value::Bytes(alloc::vec![1]),
        );
        assert_same_as_serde(&r);
        // A bad option tag, an unknown value variant.
        for bytes in [&[2][..], &[1, 1, 1, 9]] {
            assert_decodes_same::<LwwRegister<Value>>(bytes, &[0]);
        }
    }
}
