//! Unsigned LEB128 varints (postcard's integer encoding) for hand-packed byte sections, such as
//! the sequence history's op and content streams.

use alloc::vec::Vec;

use super::DecodeError;

/// Appends `v` as a varint (1 to 10 bytes).
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `*at`, advancing it. Truncation is `UnexpectedEnd`; more than ten bytes or
/// an overflowing tenth byte is `Malformed`.
pub(crate) fn get_varint(bytes: &[u8], at: &mut usize) -> Result<u64, DecodeError> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = *bytes.get(*at).ok_or(DecodeError::UnexpectedEnd)?;
        *at += 1;
        if i == 9 && b > 1 {
            return Err(DecodeError::Malformed);
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DecodeError::Malformed)
}
