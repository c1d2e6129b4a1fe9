//! The envelope around every message, and the encode/decode entry points.
//!
//! Layout: `MAGIC` (3 bytes), `FORMAT_VERSION` (1 byte), the [`TypeTag`] (1 byte), the payload
//! length as a canonical unsigned LEB128 varint of at most 5 bytes (a `u32`), then exactly that
//! many bytes of postcard payload. Nothing may follow the payload.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use postcard::ser_flavors::{Size, Slice};

use super::{DecodeError, EncodeError, FORMAT_VERSION, MAGIC, TypeTag, WireType};

/// Bytes before the length field: magic, version, tag.
const HEADER: usize = MAGIC.len() + 2;

/// Most bytes a `u32` varint takes.
const MAX_VARINT: usize = 5;

/// Length of `v` as a varint.
#[inline]
const fn varint_len(v: u32) -> usize {
    match v {
        0..0x80 => 1,
        0x80..0x4000 => 2,
        0x4000..0x20_0000 => 3,
        0x20_0000..0x1000_0000 => 4,
        _ => 5,
    }
}

/// Writes `v` as a varint into the front of `out` (which must hold `varint_len(v)` bytes) and
/// returns the bytes written.
fn write_varint(out: &mut [u8], mut v: u32) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        out[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    out[i] = v as u8;
    i + 1
}

/// Reads a canonical unsigned LEB128 varint holding a `u32`.
///
/// Rejects (as [`DecodeError::Malformed`]) a fifth byte carrying bits above bit 31 and
/// overlong forms (a last byte of 0 after the first), so each length has exactly one encoding.
fn read_varint(bytes: &[u8]) -> Result<(u32, &[u8]), DecodeError> {
    let mut v = 0u32;
    for (i, &b) in bytes.iter().enumerate().take(MAX_VARINT) {
        if i == MAX_VARINT - 1 && b > 0x0f {
            return Err(DecodeError::Malformed);
        }
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if i > 0 && b == 0 {
                return Err(DecodeError::Malformed);
            }
            return Ok((v, &bytes[i + 1..]));
        }
    }
    // Fewer than 5 bytes, all with the continuation bit: the input was cut short. (Five bytes
    // with the continuation bit are caught by the `> 0x0f` check above.)
    Err(DecodeError::UnexpectedEnd)
}

fn payload_len<T: WireType>(value: &T) -> Result<u32, EncodeError> {
    let len = postcard::serialize_with_flavor::<T, Size, usize>(value, Size::default())
        .map_err(|_| EncodeError::Unserializable)?;
    u32::try_from(len).map_err(|_| EncodeError::PayloadTooLarge { len })
}

/// The exact length of `value`'s encoding (envelope included): the buffer size
/// [`encode_to_slice`] needs.
pub fn encoded_len<T: WireType>(value: &T) -> Result<usize, EncodeError> {
    let len = payload_len(value)?;
    Ok(HEADER + varint_len(len) + len as usize)
}

/// Writes the envelope header for a payload of `len` bytes into `out`; returns its length.
fn write_header(out: &mut [u8], tag: TypeTag, len: u32) -> usize {
    out[..MAGIC.len()].copy_from_slice(&MAGIC);
    out[3] = FORMAT_VERSION;
    out[4] = tag.as_u8();
    HEADER + write_varint(&mut out[HEADER..], len)
}

/// Encodes `value` into the front of `buf` without allocating and returns the number of bytes
/// written (`&buf[..n]` is the message).
///
/// A buffer that is too small is an [`EncodeError::BufferTooSmall`] carrying the size needed,
/// never a panic. [`encoded_len`] gives that size up front.
///
/// ```
/// use converge::ReplicaId;
/// use converge::encoding::encode_to_slice;
/// use converge::fixed::FixedGCounter;
///
/// let mut c = FixedGCounter::<4>::new();
/// c.inc(ReplicaId(1), 3)?;
/// let mut buf = [0u8; 16];
/// let n = encode_to_slice(&c, &mut buf).unwrap();
/// assert_eq!(&buf[..n], b"CVG\x01\x10\x03\x01\x01\x03");
/// assert_eq!(converge::decode::<FixedGCounter<4>>(&buf[..n]), Ok(c));
/// # Ok::<(), converge::Error>(())
/// ```
pub fn encode_to_slice<T: WireType>(value: &T, buf: &mut [u8]) -> Result<usize, EncodeError> {
    let len = payload_len(value)?;
    let needed = HEADER + varint_len(len) + len as usize;
    if buf.len() < needed {
        return Err(EncodeError::BufferTooSmall {
            needed,
            available: buf.len(),
        });
    }
    write_message(value, len, &mut buf[..needed])?;
    Ok(needed)
}

/// Writes the envelope and a payload of `len` bytes into `out`, which is exactly the
/// message's length.
fn write_message<T: WireType>(value: &T, len: u32, out: &mut [u8]) -> Result<(), EncodeError> {
    let start = write_header(out, T::TAG, len);
    let written = postcard::serialize_with_flavor::<T, Slice<'_>, &mut [u8]>(
        value,
        Slice::new(&mut out[start..]),
    )
    .map_err(|_| EncodeError::Unserializable)?
    .len();
    // A `Serialize` impl that writes different bytes on the sizing and the writing pass
    // would break the envelope; the kernel's impls are deterministic.
    if written != len as usize {
        return Err(EncodeError::Unserializable);
    }
    Ok(())
}

/// Encodes `value` into a fresh, exactly sized buffer inside the versioned envelope.
#[cfg(feature = "alloc")]
pub fn try_encode<T: WireType>(value: &T) -> Result<Vec<u8>, EncodeError> {
    if T::ONE_PASS {
        return encode_one_pass(value);
    }
    // Only the serializer is compiled per type; the envelope is `encode_two_pass`'s.
    encode_two_pass(T::TAG, &mut |out| super::sink::append(value, out))
}

/// [`try_encode`] for a value of type `tag` that `append` appends to a buffer: sized
/// first, then written into an exactly sized buffer.
#[cfg(feature = "alloc")]
fn encode_two_pass(
    tag: TypeTag,
    append: &mut dyn FnMut(Vec<u8>) -> postcard::Result<Vec<u8>>,
) -> Result<Vec<u8>, EncodeError> {
    // Sizing and writing go through the one flavor (`sink`), so a binary holds one copy of
    // each type's `Serialize` code.
    let len = append(Vec::new())
        .map_err(|_| EncodeError::Unserializable)?
        .len();
    let len32 = u32::try_from(len).map_err(|_| EncodeError::PayloadTooLarge { len })?;
    let mut head = [0u8; HEADER + MAX_VARINT];
    let head_len = write_header(&mut head, tag, len32);
    let mut out = Vec::with_capacity(head_len + len);
    out.extend_from_slice(&head[..head_len]);
    let out = append(out).map_err(|_| EncodeError::Unserializable)?;
    // A `Serialize` impl that writes different bytes on the sizing and the writing pass
    // would break the envelope; the kernel's impls are deterministic.
    if out.len() != head_len + len {
        return Err(EncodeError::Unserializable);
    }
    Ok(out)
}

/// [`try_encode`] for [`WireType::ONE_PASS`] types: the payload is serialized once, after
/// room for the longest length field; the header then goes right before it and the payload
/// moves down by the unused length bytes (one `memmove`).
#[cfg(feature = "alloc")]
fn encode_one_pass<T: WireType>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let start = HEADER + MAX_VARINT;
    let mut out = Vec::with_capacity(start + 64);
    out.resize(start, 0);
    let mut out = super::sink::append(value, out).map_err(|_| EncodeError::Unserializable)?;
    let len = out.len() - start;
    let len32 = u32::try_from(len).map_err(|_| EncodeError::PayloadTooLarge { len })?;
    let head = write_header(&mut out, T::TAG, len32);
    out.copy_within(start.., head);
    out.truncate(head + len);
    Ok(out)
}

/// Encodes `value` into a fresh buffer inside the versioned envelope.
///
/// # Panics
///
/// If the payload exceeds `u32::MAX` bytes or the value's `Serialize` impl fails, neither of
/// which happens for the kernel's types short of a 4 GiB value. [`try_encode`] reports these
/// as errors instead.
#[cfg(feature = "alloc")]
pub fn encode<T: WireType>(value: &T) -> Vec<u8> {
    match try_encode(value) {
        Ok(bytes) => bytes,
        Err(e) => panic!("converge::encode failed: {e}"),
    }
}

/// [`encode`] through the hand-written codec: the same bytes, with no serde code. The payload
/// is written once, after room for the longest length field, as [`encode_one_pass`] does.
///
/// # Panics
///
/// As [`encode`]: if the payload exceeds `u32::MAX` bytes.
#[cfg(feature = "alloc")]
pub(crate) fn encode_codec<T: super::codec::Encode + WireType>(value: &T) -> Vec<u8> {
    let start = HEADER + MAX_VARINT;
    let mut out = Vec::with_capacity(start + 64);
    out.resize(start, 0);
    value.encode(&mut out);
    let len = out.len() - start;
    let Ok(len32) = u32::try_from(len) else {
        panic!(
            "converge::encode failed: {}",
            EncodeError::PayloadTooLarge { len }
        );
    };
    let head = write_header(&mut out, T::TAG, len32);
    out.copy_within(start.., head);
    out.truncate(head + len);
    out
}

/// [`decode`] through the hand-written codec: the same value or error, with no serde code.
#[cfg(feature = "alloc")]
pub(crate) fn decode_codec<T: for<'a> super::codec::Decode<'a> + WireType>(
    bytes: &[u8],
) -> Result<T, DecodeError> {
    let payload = open_envelope(bytes, T::TAG)?;
    super::codec::decode_all::<T>(payload, usize::MAX).map(|(value, _)| value)
}

/// Checks the envelope for `tag` and returns the payload slice.
///
/// Checks, in order: magic, version, tag, length field, and that exactly `length` bytes
/// follow it. Reads only; never allocates.
pub fn open_envelope(bytes: &[u8], tag: TypeTag) -> Result<&[u8], DecodeError> {
    if bytes.len() < MAGIC.len() {
        return if MAGIC.starts_with(bytes) {
            Err(DecodeError::UnexpectedEnd)
        } else {
            Err(DecodeError::BadMagic)
        };
    }
    if bytes[..MAGIC.len()] != MAGIC {
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
    let (len, rest) = read_varint(&bytes[HEADER..])?;
    let len = len as usize;
    if len > rest.len() {
        return Err(DecodeError::LengthTooLarge {
            declared: len as u64,
            remaining: rest.len() as u64,
        });
    }
    if rest.len() > len {
        return Err(DecodeError::TrailingBytes {
            count: rest.len() - len,
        });
    }
    Ok(rest)
}

/// Maps postcard's errors onto the kernel's.
pub(super) fn map_postcard(e: postcard::Error) -> DecodeError {
    use postcard::Error as P;

    use super::REJECTED;
    match e {
        P::DeserializeUnexpectedEnd => DecodeError::UnexpectedEnd,
        // serde routes every `Error::custom` (our invariant checks) and every derived
        // "unknown variant" / "invalid value" report here; postcard keeps no message.
        P::SerdeDeCustom => REJECTED,
        _ => DecodeError::Malformed,
    }
}

/// Decodes a `T` from bytes produced by [`encode`](super::encode()) or [`encode_to_slice`].
///
/// Never panics on any input; every failure is a [`DecodeError`]. With `alloc`, decoding runs
/// through the metering layer (see [`decode_with_budget`](super::decode_with_budget)), so no
/// length prefix can make a `Deserialize` impl preallocate more elements than there are input
/// bytes left. Without `alloc` there is no heap to protect and the fixed types decode straight
/// from postcard.
pub fn decode<T: WireType>(bytes: &[u8]) -> Result<T, DecodeError> {
    let payload = open_envelope(bytes, T::TAG)?;
    decode_payload::<T>(payload, usize::MAX).map(|(value, _)| value)
}

/// Decodes a payload (no envelope), charging at most `limit` heap bytes; returns the value and
/// the bytes charged.
#[cfg(feature = "alloc")]
pub(crate) fn decode_payload<'a, T: serde::Deserialize<'a>>(
    payload: &'a [u8],
    limit: usize,
) -> Result<(T, usize), DecodeError> {
    use super::meter::{Meter, Metered, Tracked};

    let meter = Meter::new(payload.len(), limit);
    let mut de = postcard::Deserializer::from_flavor(Tracked::new(payload, &meter));
    let value = T::deserialize(Metered {
        de: &mut de,
        meter: &meter,
    })
    .map_err(|e| {
        if meter.exceeded() {
            DecodeError::BudgetExceeded
        } else {
            map_postcard(e)
        }
    })?;
    let rest = de.finalize().map_err(map_postcard)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { count: rest.len() });
    }
    Ok((value, meter.charged()))
}

/// Decodes a payload (no envelope). Without `alloc` nothing is charged.
#[cfg(not(feature = "alloc"))]
pub(crate) fn decode_payload<'a, T: serde::Deserialize<'a>>(
    payload: &'a [u8],
    _limit: usize,
) -> Result<(T, usize), DecodeError> {
    let (value, rest) = postcard::take_from_bytes::<T>(payload).map_err(map_postcard)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes { count: rest.len() });
    }
    Ok((value, 0))
}

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use crate::ReplicaId;
    use crate::VersionVector;
    use crate::encoding::REJECTED;
    use crate::encoding::codec::tests::assert_envelope_same_as_serde;

    fn vv(pairs: &[(u64, u64)]) -> VersionVector {
        pairs.iter().map(|&(r, c)| (ReplicaId(r), c)).collect()
    }

    #[test]
    fn codec_envelope_matches_serde_for_version_vectors() {
        assert_envelope_same_as_serde(&VersionVector::new());
        assert_envelope_same_as_serde(&vv(&[(1, 1)]));
        assert_envelope_same_as_serde(&vv(&[(0, u64::MAX), (1 << 40, 3), (u64::MAX, 128)]));
        // A payload past 127 bytes: a two-byte length field.
        let long: Vec<(u64, u64)> = (1..40).map(|r| (r * 1000, r)).collect();
        assert_envelope_same_as_serde(&vv(&long));
        // A well-formed envelope whose vector fails its own checks (an entry repeated, a
        // zero counter) is rejected the same way.
        for payload in [&[2, 1, 1, 1, 1][..], &[1, 5, 0][..]] {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&[FORMAT_VERSION, TypeTag::VersionVector.as_u8()]);
            bytes.push(payload.len() as u8);
            bytes.extend_from_slice(payload);
            assert_eq!(decode_codec::<VersionVector>(&bytes), Err(REJECTED));
            assert_eq!(decode::<VersionVector>(&bytes), Err(REJECTED));
        }
    }

    proptest::proptest! {
        #[test]
        fn codec_envelope_matches_serde_for_any_version_vector(
            pairs in proptest::collection::vec((0u64..1 << 20, 1u64..u64::MAX), 0..12),
        ) {
            assert_envelope_same_as_serde(&vv(&pairs));
        }
    }
}
