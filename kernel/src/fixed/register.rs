//! A last-writer-wins register with no heap and no wall clock.
//!
//! [`FixedLwwRegister<T>`] stores one value and the [`Timestamp`] of the write that produced
//! it. Timestamps are Lamport values with the writing replica as tie-break, so they are totally
//! ordered and the register converges to the write with the greatest timestamp whatever order
//! merges happen in. The register is its own Lamport clock: a local [`set`](FixedLwwRegister::set)
//! stamps one past the greatest timestamp it has seen, so it beats everything already merged.
//!
//! The value lives inline (`T` is stored by value), so "fixed" here means "no allocation":
//! with a `T` such as `u32`, `[u8; 16]` or `heapless::String<32>` the register never touches a
//! heap. Nothing can exceed a capacity, so no operation returns
//! [`CapacityExceeded`](crate::Error::CapacityExceeded).

use serde::{Deserialize, Serialize};

use crate::clock::{ReplicaId, Timestamp};
use crate::encoding::{TypeTag, WireType};
use crate::error::{Error, Result};

/// A last-writer-wins register holding a `T` inline.
///
/// ```
/// use converge::ReplicaId;
/// use converge::fixed::FixedLwwRegister;
///
/// let mut a = FixedLwwRegister::new(0u32);
/// let mut b = a.clone();
/// a.set(ReplicaId(1), 10)?;
/// b.set(ReplicaId(2), 20)?; // same Lamport value, higher replica id wins the tie
/// a.merge(&b);
/// b.merge(&a);
/// assert_eq!((*a.get(), *b.get()), (20, 20));
/// # Ok::<(), converge::Error>(())
/// ```
///
/// Wire layout: the timestamp, then the value (see `docs/wire-format.md`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FixedLwwRegister<T> {
    stamp: Timestamp,
    value: T,
}

impl<T> FixedLwwRegister<T> {
    /// A register holding `initial`, stamped with the zero timestamp (so any write wins over
    /// it). Replicas that start from the same initial value agree from the start.
    #[inline]
    pub const fn new(initial: T) -> Self {
        Self {
            stamp: Timestamp::new(0, ReplicaId(0)),
            value: initial,
        }
    }

    /// A register holding `value` written at `stamp`.
    #[inline]
    pub const fn with_stamp(value: T, stamp: Timestamp) -> Self {
        Self { stamp, value }
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> &T {
        &self.value
    }

    /// Consumes the register, returning the value.
    #[inline]
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The timestamp of the write that produced the current value.
    #[inline]
    pub fn timestamp(&self) -> Timestamp {
        self.stamp
    }

    /// Writes `value` as `replica`, stamped one Lamport tick past the current timestamp, and
    /// returns the new timestamp.
    ///
    /// Fails with [`InvalidOperation`](crate::Error::InvalidOperation), changing nothing, if
    /// the Lamport clock is exhausted (a timestamp of `u64::MAX` was merged in, which no write
    /// can beat).
    pub fn set(&mut self, replica: ReplicaId, value: T) -> Result<Timestamp> {
        let lamport = self
            .stamp
            .lamport
            .checked_add(1)
            .ok_or(Error::InvalidOperation)?;
        self.stamp = Timestamp::new(lamport, replica);
        self.value = value;
        Ok(self.stamp)
    }

    /// Applies a write stamped by an external clock: takes `value` if `stamp` is greater than
    /// the current timestamp. Returns whether it was taken.
    pub fn set_at(&mut self, stamp: Timestamp, value: T) -> bool {
        if stamp > self.stamp {
            self.stamp = stamp;
            self.value = value;
            true
        } else {
            false
        }
    }

    /// Joins `other` into `self`: the greater timestamp wins. Commutative, associative and
    /// idempotent as long as every timestamp names one write (the replica tie-break ensures
    /// that when each replica stamps through [`set`](Self::set) or its own Lamport clock).
    pub fn merge(&mut self, other: &Self)
    where
        T: Clone,
    {
        if other.stamp > self.stamp {
            self.stamp = other.stamp;
            self.value = other.value.clone();
        }
    }
}

impl<T: Serialize + serde::de::DeserializeOwned> WireType for FixedLwwRegister<T> {
    const TAG: TypeTag = TypeTag::FixedLwwRegister;
}
