//! The versioned wire format: a small envelope around a postcard payload.
//!
//! ```text
//! +---------+---------+------+-----------------+------------------+
//! | "CVG"   | version | tag  | payload length  | postcard payload |
//! | 3 bytes | u8      | u8   | varint u32, 1-5 | `length` bytes   |
//! +---------+---------+------+-----------------+------------------+
//! ```
//!
//! The full specification, with worked examples, is `docs/wire-format.md`; the golden files in
//! `kernel/tests/fixtures/` pin it down byte for byte. Every type that goes over the wire
//! implements [`WireType`], which fixes its [`TypeTag`].
//!
//! This module owns:
//!
//! * the envelope ([`MAGIC`], [`FORMAT_VERSION`], [`TypeTag`]) and its canonical `u32`
//!   varint length;
//! * encoding: [`encode_to_slice`] (no allocation, for firmware) and, with `alloc`,
//!   [`encode`] / [`try_encode`];
//! * decoding: [`decode`] and, with `alloc`, [`decode_with_budget`], which charges what the
//!   decoded containers may hold to a memory [`Budget`](converge_pool::Budget);
//! * the metering layer both run through (private `meter` module), and the preallocation rule
//!   every kernel `Deserialize` impl follows (`cautious_capacity`);
//! * the hand-written codec (`codec`): `Encode` / `Decode` impls that write and read the same
//!   bytes as serde + postcard, metered by the same rules, for the paths that must not compile
//!   serde (every path of the document: updates, saved documents, list and text histories,
//!   text snapshots, version vectors through `VersionVector::to_bytes`).
//!
//! Invariants: decoding never panics on any input, reports every failure as a typed
//! [`DecodeError`], and never lets a length prefix buy more preallocated elements than there
//! are input bytes left (see [`decode_with_budget`] for the accounting). Encoding the same value
//! always gives the same bytes.

#[cfg(feature = "alloc")]
pub(crate) mod byte_buf;
#[cfg(feature = "alloc")]
pub(crate) mod codec;
mod envelope;
mod error;
#[cfg(feature = "alloc")]
mod limits;
#[cfg(feature = "alloc")]
mod meter;
#[cfg(feature = "alloc")]
pub(crate) mod packed;
#[cfg(feature = "alloc")]
pub(crate) mod sink;
#[cfg(feature = "alloc")]
pub(crate) mod varint;

#[cfg(feature = "alloc")]
pub(crate) use envelope::decode_payload;
pub use envelope::{decode, encode_to_slice, encoded_len, open_envelope};
#[cfg(feature = "alloc")]
pub(crate) use envelope::{decode_codec, encode_codec};
#[cfg(feature = "alloc")]
pub use envelope::{encode, try_encode};
pub(crate) use error::REJECTED;
pub use error::{DecodeError, EncodeError};
#[cfg(feature = "alloc")]
pub use limits::decode_with_budget;
#[cfg(feature = "alloc")]
#[allow(
    unused_imports,
    reason = "for the state CRDTs' Deserialize impls, which adopt it next"
)]
pub(crate) use limits::{MAX_PREALLOC, cautious_capacity};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The three magic bytes every converge message starts with.
pub const MAGIC: [u8; 3] = *b"CVG";

/// The wire format version this build writes (and the only one it reads so far).
pub const FORMAT_VERSION: u8 = 1;

/// What kind of value an envelope holds. The numbers are part of the wire format: never reuse
/// or renumber one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum TypeTag {
    /// `VersionVector`.
    VersionVector = 1,
    /// `GCounter` state or delta.
    GCounter = 2,
    /// `PNCounter` state or delta.
    PNCounter = 3,
    /// `LwwRegister` state or delta.
    LwwRegister = 4,
    /// `MvRegister` state or delta.
    MvRegister = 5,
    /// `AwSet` state.
    AwSet = 6,
    /// `AwSet` delta.
    AwSetDelta = 7,
    /// `LwwMap` state or delta.
    LwwMap = 8,
    /// `OrMap` state.
    OrMap = 9,
    /// `OrMap` delta.
    OrMapDelta = 10,
    /// Fixed-capacity (no-alloc) counter, [`FixedGCounter`](crate::fixed::FixedGCounter).
    FixedGCounter = 16,
    /// Fixed-capacity (no-alloc) PN counter, [`FixedPNCounter`](crate::fixed::FixedPNCounter).
    FixedPNCounter = 17,
    /// Fixed-capacity (no-alloc) LWW register,
    /// [`FixedLwwRegister`](crate::fixed::FixedLwwRegister).
    FixedLwwRegister = 18,
    /// Fixed-capacity (no-alloc) version vector,
    /// [`BoundedVersionVector`](crate::fixed::BoundedVersionVector).
    FixedVersionVector = 19,
    /// Full history of a list/text sequence.
    SequenceHistory = 32,
    /// Sequence operations since a version.
    SequenceOps = 33,
    /// State snapshot of a text: the visible text and version beside its full history
    /// ([`TextSnapshot`](crate::list::TextSnapshot)).
    TextSnapshot = 34,
}

impl TypeTag {
    /// Every tag, in numeric order.
    pub const ALL: [TypeTag; 17] = [
        TypeTag::VersionVector,
        TypeTag::GCounter,
        TypeTag::PNCounter,
        TypeTag::LwwRegister,
        TypeTag::MvRegister,
        TypeTag::AwSet,
        TypeTag::AwSetDelta,
        TypeTag::LwwMap,
        TypeTag::OrMap,
        TypeTag::OrMapDelta,
        TypeTag::FixedGCounter,
        TypeTag::FixedPNCounter,
        TypeTag::FixedLwwRegister,
        TypeTag::FixedVersionVector,
        TypeTag::SequenceHistory,
        TypeTag::SequenceOps,
        TypeTag::TextSnapshot,
    ];

    /// The raw byte.
    #[inline]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The tag with raw value `raw`, if there is one.
    pub fn from_u8(raw: u8) -> Option<TypeTag> {
        TypeTag::ALL.into_iter().find(|t| t.as_u8() == raw)
    }
}

/// A value with a fixed place in the wire format.
pub trait WireType: Serialize + DeserializeOwned {
    /// The tag written into (and checked from) the envelope.
    const TAG: TypeTag;

    /// Whether [`encode`] should serialize the value once into a growing buffer instead of
    /// sizing it first and writing into an exact one. Set it for types whose `Serialize` does
    /// real work per call (packing, compression), where a second pass costs more than
    /// growing the buffer. The bytes are the same either way.
    const ONE_PASS: bool = false;
}

#[cfg(feature = "alloc")]
impl WireType for crate::VersionVector {
    const TAG: TypeTag = TypeTag::VersionVector;
}
