//! `Vec<u8>` fields as serde byte strings (`#[serde(with = "crate::encoding::byte_buf")]`).
//!
//! postcard writes a byte string exactly as it writes a sequence of `u8` (a length varint,
//! then the bytes), so a field changes no byte on the wire by using this; but a byte string is
//! read in one copy, where serde's `Vec<u8>` impl reads a sequence element by element (about
//! 20 instructions a byte through the metering layer). Formats that write bytes as a sequence
//! (serde_json: an array of numbers) are read too.

use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserializer, Serializer};

/// Writes `v` as a byte string.
pub(crate) fn serialize<T, S>(v: &T, s: S) -> Result<S::Ok, S::Error>
where
    T: AsRef<[u8]> + ?Sized,
    S: Serializer,
{
    s.serialize_bytes(v.as_ref())
}

/// Reads a byte string (or a sequence of bytes).
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    d.deserialize_byte_buf(Bytes)
}

struct Bytes;

impl<'de> Visitor<'de> for Bytes {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        // The hint comes from the input: trust it only as far as a small preallocation.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}
