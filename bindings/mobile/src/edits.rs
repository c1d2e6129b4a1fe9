//! Text edits packed into one byte buffer, so that many edits cross the FFI in one call.
//!
//! A uniffi call from Kotlin costs microseconds (a JNA `Structure` per call status, a
//! `RustBuffer` allocated through a second FFI call for every `String`, a third call to clone
//! the object handle), and a `List` of records costs an allocation per field on both sides.
//! The host layers (Kotlin's `TextEditor` and `applyPatches`, Swift's `applyPatches`) write
//! edits into a plain byte array instead, which crosses as one `Vec<u8>`:
//!
//! ```text
//! edits  = edit*
//! edit   = pos:varint  delete:varint  len:varint  insert:[u8; len]   (insert is UTF-8)
//! varint = unsigned LEB128, at most 10 bytes (u64)
//! ```
//!
//! `pos` and `delete` count chars (Unicode scalar values), as [`DocText::splice`] does.
//!
//! [`DocText::splice`]: crate::DocText::splice

use crate::error::{ConvergeError, Result};

/// One decoded edit: delete `.1` chars at `.0`, then insert `.2` there.
pub(crate) type Edit<'a> = (usize, usize, &'a str);

/// The edits in `bytes`, in order; every item is checked (a malformed buffer is `DECODE`).
pub(crate) fn decode(bytes: &[u8]) -> impl Iterator<Item = Result<Edit<'_>>> + '_ {
    let mut rest = bytes;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        Some(next(&mut rest))
    })
}

/// Checks that `bytes` is a whole, well-formed edit buffer, so that a caller can apply it
/// knowing decoding will not fail half-way.
pub(crate) fn validate(bytes: &[u8]) -> Result<()> {
    decode(bytes).try_for_each(|e| e.map(drop))
}

fn next<'a>(rest: &mut &'a [u8]) -> Result<Edit<'a>> {
    let pos = varint(rest)?;
    let del = varint(rest)?;
    let len = varint(rest)?;
    if len > rest.len() {
        return Err(malformed("an insert runs past the end"));
    }
    let (s, tail) = rest.split_at(len);
    *rest = tail;
    let s = core::str::from_utf8(s).map_err(|_| malformed("an insert is not UTF-8"))?;
    Ok((pos, del, s))
}

fn varint(rest: &mut &[u8]) -> Result<usize> {
    // Most numbers in a text edit (a delete count, a typed char's length) fit one byte.
    if let Some((&b, tail)) = rest.split_first()
        && b < 0x80
    {
        *rest = tail;
        return Ok(usize::from(b));
    }
    let mut value: u64 = 0;
    for (i, &b) in rest.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            *rest = &rest[i + 1..];
            return usize::try_from(value).map_err(|_| malformed("a number is too large"));
        }
    }
    Err(malformed("a number is truncated or too long"))
}

fn malformed(what: &str) -> ConvergeError {
    ConvergeError::Decode(format!("malformed text edits: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(edits: &[(u64, u64, &str)]) -> Vec<u8> {
        fn put(out: &mut Vec<u8>, mut v: u64) {
            while v >= 0x80 {
                out.push((v as u8) | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let mut out = Vec::new();
        for (pos, del, s) in edits {
            put(&mut out, *pos);
            put(&mut out, *del);
            put(&mut out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        out
    }

    #[test]
    fn round_trip() {
        let edits = [(0, 0, "héllo"), (300, 70_000, ""), (5, 1, "🙂")];
        let bytes = encode(&edits);
        let back: Vec<Edit<'_>> = decode(&bytes).collect::<Result<_>>().unwrap();
        assert_eq!(back, vec![(0, 0, "héllo"), (300, 70_000, ""), (5, 1, "🙂")]);
        assert!(validate(&bytes).is_ok());
        assert!(validate(&[]).is_ok());
    }

    #[test]
    fn malformed_buffers_are_decode_errors() {
        let good = encode(&[(1, 2, "abc")]);
        for bad in [
            &good[..good.len() - 1],    // insert cut short
            &good[..2],                 // length missing
            &[0x80, 0x80][..],          // varint cut short
            &[0xff; 11][..],            // varint longer than 10 bytes
            &[0, 0, 2, 0xc3, 0x28][..], // not UTF-8
        ] {
            let e = validate(bad).unwrap_err();
            assert_eq!(e.code(), "DECODE", "{bad:?}");
        }
    }
}
