//! Replica identities, dots and Lamport clocks.
//!
//! Everything that orders events in converge is built from these three types:
//!
//! * [`ReplicaId`] names one writer (a device, a tab, a process). Two replicas that write
//!   concurrently must have different ids; choosing them (random `u64`, a server-assigned
//!   number) is the application's job.
//! * [`Dot`] names one event: the `counter`-th event of `replica`. Counters start at 1, so a
//!   version vector entry of `n` means "events `1..=n` seen".
//! * [`Lamport`] is a logical clock, and [`Timestamp`] pairs its value with the replica that
//!   produced it to give a total order with no ties. No wall clock is ever read inside the kernel.

use core::fmt;

use serde::{Deserialize, Serialize};

/// The identity of one writer. A plain `u64` newtype so it crosses FFI boundaries as a number.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ReplicaId(pub u64);

impl ReplicaId {
    /// Wraps a raw id.
    #[inline]
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The raw `u64`.
    #[inline]
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for ReplicaId {
    #[inline]
    fn from(raw: u64) -> Self {
        Self(raw)
    }
}

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// One event: the `counter`-th event produced by `replica` (counters start at 1).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Dot {
    /// Who produced the event.
    pub replica: ReplicaId,
    /// Its sequence number at that replica, starting from 1.
    pub counter: u64,
}

impl Dot {
    /// A dot for `replica`'s `counter`-th event.
    #[inline]
    pub const fn new(replica: ReplicaId, counter: u64) -> Self {
        Self { replica, counter }
    }
}

impl fmt::Display for Dot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.counter, self.replica)
    }
}

/// A Lamport logical clock: a counter that is bumped on every local event and fast-forwarded
/// past every remote timestamp it observes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Lamport(pub u64);

impl Lamport {
    /// Advances the clock for a local event and returns the new value.
    ///
    /// Saturates at `u64::MAX` rather than wrapping, so order is never inverted.
    #[inline]
    pub fn tick(&mut self) -> u64 {
        self.0 = self.0.saturating_add(1);
        self.0
    }

    /// Makes the clock at least `seen`, so the next [`tick`](Self::tick) is strictly greater.
    #[inline]
    pub fn observe(&mut self, seen: u64) {
        if seen > self.0 {
            self.0 = seen;
        }
    }

    /// The current value.
    #[inline]
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Ticks and returns a [`Timestamp`] for `replica`.
    #[inline]
    pub fn stamp(&mut self, replica: ReplicaId) -> Timestamp {
        Timestamp::new(self.tick(), replica)
    }
}

/// A totally ordered logical timestamp: Lamport value first, replica id as the tie-break.
///
/// The derived `Ord` compares `lamport` and then `replica`, which is exactly the
/// last-writer-wins order used by [`LwwRegister`](crate::LwwRegister) and friends.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Timestamp {
    /// The Lamport clock value.
    pub lamport: u64,
    /// The replica that produced it.
    pub replica: ReplicaId,
}

impl Timestamp {
    /// A timestamp from its parts.
    #[inline]
    pub const fn new(lamport: u64, replica: ReplicaId) -> Self {
        Self { lamport, replica }
    }
}

#[cfg(feature = "alloc")]
mod codec {
    use alloc::vec::Vec;

    use super::{Dot, ReplicaId, Timestamp};
    use crate::encoding::DecodeError;
    use crate::encoding::codec::{Decode, Encode, Reader, put_varint};

    impl Encode for ReplicaId {
        #[inline]
        fn encode(&self, w: &mut Vec<u8>) {
            put_varint(w, self.0);
        }
    }

    impl Decode<'_> for ReplicaId {
        #[inline]
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            r.u64().map(ReplicaId)
        }
    }

    impl Encode for Dot {
        #[inline]
        fn encode(&self, w: &mut Vec<u8>) {
            put_varint(w, self.replica.0);
            put_varint(w, self.counter);
        }
    }

    impl Decode<'_> for Dot {
        #[inline]
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(Dot::new(ReplicaId(r.u64()?), r.u64()?))
        }
    }

    impl Encode for Timestamp {
        #[inline]
        fn encode(&self, w: &mut Vec<u8>) {
            put_varint(w, self.lamport);
            put_varint(w, self.replica.0);
        }
    }

    impl Decode<'_> for Timestamp {
        #[inline]
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(Timestamp::new(r.u64()?, ReplicaId(r.u64()?)))
        }
    }
}

/// Lists kept per replica, for lookups by replica only (no replica order: a hash table the
/// list engine already compiles in, rather than one more `BTreeMap` instantiation).
#[cfg(feature = "alloc")]
#[derive(Clone, Debug)]
pub(crate) struct PerReplica<T> {
    /// Each replica's slot in `lists`.
    slots: hashbrown::HashMap<ReplicaId, u32>,
    lists: alloc::vec::Vec<alloc::vec::Vec<T>>,
}

#[cfg(feature = "alloc")]
impl<T> Default for PerReplica<T> {
    fn default() -> Self {
        Self {
            slots: hashbrown::HashMap::new(),
            lists: alloc::vec::Vec::new(),
        }
    }
}

#[cfg(feature = "alloc")]
impl<T> PerReplica<T> {
    /// The list of `r`, if it has one.
    pub(crate) fn get(&self, r: ReplicaId) -> Option<&alloc::vec::Vec<T>> {
        let &i = self.slots.get(&r)?;
        Some(&self.lists[i as usize])
    }

    /// The list of `r`, if it has one.
    pub(crate) fn get_mut(&mut self, r: ReplicaId) -> Option<&mut alloc::vec::Vec<T>> {
        let &i = self.slots.get(&r)?;
        Some(&mut self.lists[i as usize])
    }

    /// The list of `r`, made empty first if it has none.
    pub(crate) fn list(&mut self, r: ReplicaId) -> &mut alloc::vec::Vec<T> {
        let i = match self.slots.get(&r) {
            Some(&i) => i as usize,
            None => {
                let i = self.lists.len();
                self.slots.insert(r, i as u32);
                self.lists.push(alloc::vec::Vec::new());
                i
            }
        };
        &mut self.lists[i]
    }

    /// Every list, in no particular order.
    pub(crate) fn into_lists(self) -> alloc::vec::Vec<alloc::vec::Vec<T>> {
        self.lists
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::codec::tests::assert_same_as_serde;

    const EDGES: [u64; 6] = [0, 1, 127, 128, 1 << 62, u64::MAX];

    #[test]
    fn codec_matches_serde() {
        for a in EDGES {
            assert_same_as_serde(&ReplicaId(a));
            for b in EDGES {
                assert_same_as_serde(&Dot::new(ReplicaId(a), b));
                assert_same_as_serde(&Timestamp::new(a, ReplicaId(b)));
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn codec_matches_serde_on_any_values(a: u64, b: u64) {
            assert_same_as_serde(&Dot::new(ReplicaId(a), b));
            assert_same_as_serde(&Timestamp::new(a, ReplicaId(b)));
        }
    }

    #[test]
    fn lamport_observe_then_tick_is_greater() {
        let mut c = Lamport::default();
        assert_eq!(c.tick(), 1);
        c.observe(10);
        assert_eq!(c.tick(), 11);
        c.observe(3);
        assert_eq!(c.tick(), 12);
    }

    #[test]
    fn timestamp_orders_by_lamport_then_replica() {
        let a = Timestamp::new(5, ReplicaId(9));
        let b = Timestamp::new(6, ReplicaId(1));
        let c = Timestamp::new(6, ReplicaId(2));
        assert!(a < b && b < c);
    }

    #[test]
    fn lamport_saturates() {
        let mut c = Lamport(u64::MAX);
        assert_eq!(c.tick(), u64::MAX);
    }
}
