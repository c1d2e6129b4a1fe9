//! The versioned wire format: a small envelope around a postcard payload.
//!
//! ```text
//! +--------+---------+------+----------------+-----------------+
//! | "CVG"  | version | tag  | payload length | postcard payload |
//! | 3 bytes| u8      | u8   | varint (u32)   | `length` bytes   |
//! +--------+---------+------+----------------+-----------------+
//! ```
//!
//! The full specification is `docs/wire-format.md`. Every type that goes over the wire
//! implements [`WireType`], which fixes its [`TypeTag`].

mod error;

pub use error::DecodeError;

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

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
    /// [`VersionVector`](crate::VersionVector).
    VersionVector = 1,
    /// [`GCounter`](crate::GCounter) state or delta.
    GCounter = 2,
    /// [`PNCounter`](crate::PNCounter) state or delta.
    PNCounter = 3,
    /// [`LwwRegister`](crate::LwwRegister) state or delta.
    LwwRegister = 4,
    /// [`MvRegister`](crate::MvRegister) state or delta.
    MvRegister = 5,
    /// [`AwSet`](crate::AwSet) state.
    AwSet = 6,
    /// [`AwSet`](crate::AwSet) delta.
    AwSetDelta = 7,
    /// [`LwwMap`](crate::LwwMap) state or delta.
    LwwMap = 8,
    /// [`OrMap`](crate::OrMap) state.
    OrMap = 9,
    /// [`OrMap`](crate::OrMap) delta.
    OrMapDelta = 10,
    /// Fixed-capacity (no-alloc) counter.
    FixedGCounter = 16,
    /// Fixed-capacity (no-alloc) PN counter.
    FixedPNCounter = 17,
    /// Fixed-capacity (no-alloc) LWW register.
    FixedLwwRegister = 18,
    /// Fixed-capacity (no-alloc) version vector.
    FixedVersionVector = 19,
    /// Full history of a list/text sequence.
    SequenceHistory = 32,
    /// Sequence operations since a version.
    SequenceOps = 33,
}

impl TypeTag {
    /// The raw byte.
    #[inline]
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

/// A value with a fixed place in the wire format.
pub trait WireType: Serialize + DeserializeOwned {
    /// The tag written into (and checked from) the envelope.
    const TAG: TypeTag;
}

#[cfg(feature = "alloc")]
impl WireType for crate::VersionVector {
    const TAG: TypeTag = TypeTag::VersionVector;
}

fn map_postcard(e: postcard::Error) -> DecodeError {
    match e {
        postcard::Error::DeserializeUnexpectedEnd => DecodeError::UnexpectedEnd,
        _ => DecodeError::Malformed,
    }
}

/// Encodes `value` into a fresh buffer inside the versioned envelope.
#[cfg(feature = "alloc")]
pub fn encode<T: WireType>(value: &T) -> Vec<u8> {
    let payload = postcard::to_allocvec(value).expect("serializing to a Vec cannot fail");
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.extend_from_slice(&MAGIC);
    out.push(FORMAT_VERSION);
    out.push(T::TAG.as_u8());
    write_varint(&mut out, payload.len() as u64);
    out.extend_from_slice(&payload);
    out
}

#[cfg(feature = "alloc")]
fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a postcard-style unsigned LEB128 varint of at most 10 bytes.
fn read_varint(bytes: &[u8]) -> Result<(u64, &[u8]), DecodeError> {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        if i == 9 && b > 1 {
            return Err(DecodeError::Malformed);
        }
        v |= part << (7 * i);
        if b & 0x80 == 0 {
            return Ok((v, &bytes[i + 1..]));
        }
    }
    if bytes.len() < 10 {
        Err(DecodeError::UnexpectedEnd)
    } else {
        Err(DecodeError::Malformed)
    }
}

/// Checks the envelope for `tag` and returns the payload slice.
pub fn open_envelope(bytes: &[u8], tag: TypeTag) -> Result<&[u8], DecodeError> {
    if bytes.len() < MAGIC.len() {
        return if MAGIC.starts_with(bytes) {
            Err(DecodeError::UnexpectedEnd)
        } else {
            Err(DecodeError::BadMagic)
        };
    }
    if bytes[..3] != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let version = *bytes.get(3).ok_or(DecodeError::UnexpectedEnd)?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnknownVersion { found: version });
    }
    let found = *bytes.get(4).ok_or(DecodeError::UnexpectedEnd)?;
    if found != tag.as_u8() {
        return Err(DecodeError::WrongType {
            expected: tag,
            found,
        });
    }
    let (len, rest) = read_varint(&bytes[5..])?;
    if len > rest.len() as u64 {
        return Err(DecodeError::LengthTooLarge {
            declared: len,
            remaining: rest.len() as u64,
        });
    }
    let len = len as usize;
    if rest.len() > len {
        return Err(DecodeError::TrailingBytes {
            count: rest.len() - len,
        });
    }
    Ok(rest)
}

/// Decodes a `T` from `bytes` produced by [`encode`]. Never panics on any input.
pub fn decode<T: WireType>(bytes: &[u8]) -> Result<T, DecodeError> {
    let payload = open_envelope(bytes, T::TAG)?;
    let (value, rest) = postcard::take_from_bytes::<T>(payload).map_err(map_postcard)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { count: rest.len() });
    }
    Ok(value)
}
