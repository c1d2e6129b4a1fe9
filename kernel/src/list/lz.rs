//! A small LZ77 compressor for the content stored in encoded histories.
//!
//! Inserted text is mostly prose with many repeats (retyped words, undo/redo), so even plain
//! LZ77 without entropy coding roughly halves it. The format is a sequence of tokens:
//!
//! ```text
//! varint(literal count) literal bytes varint(m) [varint(offset) if m > 0]
//! ```
//!
//! where `m == 0` ends the stream and otherwise copies `m + 3` bytes from `offset` bytes back
//! (overlapping copies allowed). Decoding checks every length and offset, never trusts a
//! length for preallocation beyond the input actually present, and never panics.

use crate::encoding::varint::{get_varint, put_varint};
use alloc::vec::Vec;

use crate::encoding::DecodeError;

const MIN_MATCH: usize = 4;
const HASH_BITS: u32 = 15;
const MAX_CHAIN: usize = 256;
const WINDOW: usize = 1 << 20;
/// How many output bytes per input byte `decompress` preallocates at most.
const PREALLOC_RATIO: usize = 8;

#[inline]
fn hash(b: &[u8]) -> usize {
    let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_BITS)) as usize
}

/// Compresses `input`.
pub(crate) fn compress(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 2 + 16);
    let mut head = alloc::vec![u32::MAX; 1 << HASH_BITS];
    let mut prev = alloc::vec![u32::MAX; input.len()];
    let mut lit_start = 0;
    let mut i = 0;
    let insert = |head: &mut Vec<u32>, prev: &mut Vec<u32>, at: usize| {
        if at + MIN_MATCH <= input.len() {
            let h = hash(&input[at..]);
            prev[at] = head[h];
            head[h] = at as u32;
        }
    };
    // Longest match at `at` among the most recent candidates with the same hash.
    let find = |head: &Vec<u32>, prev: &Vec<u32>, at: usize| -> (usize, usize) {
        let mut best = (0, 0);
        if at + MIN_MATCH > input.len() {
            return best;
        }
        let mut cand = head[hash(&input[at..])];
        let mut chain = 0;
        while cand != u32::MAX && chain < MAX_CHAIN {
            let c = cand as usize;
            if at - c > WINDOW {
                break;
            }
            let len = input[c..]
                .iter()
                .zip(&input[at..])
                .take_while(|(a, b)| a == b)
                .count();
            if len > best.0 {
                best = (len, at - c);
            }
            cand = prev[c];
            chain += 1;
        }
        best
    };
    while i + MIN_MATCH <= input.len() {
        let (len, off) = find(&head, &prev, i);
        if len >= MIN_MATCH {
            // Lazy matching: a longer match one byte later is worth a literal.
            insert(&mut head, &mut prev, i);
            let (next_len, _) = find(&head, &prev, i + 1);
            if next_len > len + 1 {
                i += 1;
                continue;
            }
            put_varint(&mut out, (i - lit_start) as u64);
            out.extend_from_slice(&input[lit_start..i]);
            put_varint(&mut out, (len - 3) as u64);
            put_varint(&mut out, off as u64);
            for at in i + 1..i + len {
                insert(&mut head, &mut prev, at);
            }
            i += len;
            lit_start = i;
        } else {
            insert(&mut head, &mut prev, i);
            i += 1;
        }
    }
    put_varint(&mut out, (input.len() - lit_start) as u64);
    out.extend_from_slice(&input[lit_start..]);
    put_varint(&mut out, 0);
    out
}

/// [`get_varint`] with the one-byte case inlined: most literal counts, match lengths and
/// offsets below 128 fit one byte.
#[inline(always)]
fn varint(bytes: &[u8], at: &mut usize) -> Result<u64, DecodeError> {
    match bytes.get(*at) {
        Some(&b) if b < 0x80 => {
            *at += 1;
            Ok(u64::from(b))
        }
        _ => get_varint(bytes, at),
    }
}

/// Copies of at most this many bytes go through a fixed-size block.
const SHORT: usize = 16;

/// Appends `bytes`. When they are short and `block` (`SHORT` bytes starting with them) is
/// given, copies the whole block and cuts it back: a fixed-size copy the compiler inlines,
/// instead of a `memcpy` call per token. Only within spare capacity, so the output never
/// grows for bytes it then drops.
#[inline(always)]
fn push_short(out: &mut Vec<u8>, bytes: &[u8], block: Option<&[u8]>) {
    let n = out.len();
    match block.and_then(|b| <&[u8; SHORT]>::try_from(b).ok()) {
        Some(b) if bytes.len() <= SHORT && out.capacity() - n >= SHORT => {
            out.extend_from_slice(b);
            out.truncate(n + bytes.len());
        }
        _ => out.extend_from_slice(bytes),
    }
}

/// Decompresses [`compress`] output; the result may hold at most `max_len` bytes.
pub(crate) fn decompress(bytes: &[u8], max_len: usize) -> Result<Vec<u8>, DecodeError> {
    // The declared length is trusted for preallocation only as far as the input could
    // plausibly expand to it (a valid stream declares its exact length), so a forged length
    // cannot buy memory the input does not account for.
    let mut out: Vec<u8> =
        Vec::with_capacity(max_len.min(bytes.len().saturating_mul(PREALLOC_RATIO)));
    let mut at = 0;
    loop {
        let lits = varint(bytes, &mut at)?;
        let lits = usize::try_from(lits).map_err(|_| DecodeError::Malformed)?;
        let end = at.checked_add(lits).ok_or(DecodeError::Malformed)?;
        let chunk = bytes.get(at..end).ok_or(DecodeError::UnexpectedEnd)?;
        if out.len() + lits > max_len {
            return Err(DecodeError::Invalid("content longer than declared"));
        }
        push_short(&mut out, chunk, bytes.get(at..at + SHORT));
        at = end;
        let m = varint(bytes, &mut at)?;
        if m == 0 {
            break;
        }
        let len = usize::try_from(m)
            .ok()
            .and_then(|m| m.checked_add(3))
            .ok_or(DecodeError::Malformed)?;
        let off = usize::try_from(varint(bytes, &mut at)?).map_err(|_| DecodeError::Malformed)?;
        if off == 0 || off > out.len() {
            return Err(DecodeError::Invalid("match offset"));
        }
        if out.len().checked_add(len).is_none_or(|n| n > max_len) {
            return Err(DecodeError::Invalid("content longer than declared"));
        }
        let start = out.len() - off;
        if off >= SHORT && len <= SHORT {
            let mut block = [0u8; SHORT];
            block.copy_from_slice(&out[start..start + SHORT]);
            push_short(&mut out, &block[..len], Some(&block));
            continue;
        }
        // Copy in pieces of at most `off` bytes: an overlapping match repeats its period.
        let mut done = 0;
        while done < len {
            let k = (len - done).min(off + done);
            out.extend_from_within(start..start + k);
            done += k;
        }
    }
    if at != bytes.len() {
        return Err(DecodeError::TrailingBytes {
            count: bytes.len() - at,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let cases: [&[u8]; 5] = [
            b"",
            b"abc",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"the quick brown fox jumps over the lazy dog; the quick brown fox",
            "h\u{e9}llo w\u{f6}rld h\u{e9}llo".as_bytes(),
        ];
        for c in cases {
            let z = compress(c);
            assert_eq!(decompress(&z, c.len()).unwrap(), c);
            assert!(decompress(&z, c.len().saturating_sub(1)).is_err() || c.is_empty());
        }
        let long: Vec<u8> = (0..5000u32).map(|i| (i % 7 + i / 100) as u8).collect();
        assert_eq!(decompress(&compress(&long), long.len()).unwrap(), long);
        assert!(compress(&long).len() < long.len() / 2);
        // Long overlapping matches (copied in doubling blocks) for several periods.
        for period in 1..=5u8 {
            let data: Vec<u8> = (0..3000u32).map(|i| b'a' + (i as u8 % period)).collect();
            let z = compress(&data);
            assert!(z.len() < 40, "period {period}: {} bytes", z.len());
            assert_eq!(decompress(&z, data.len()).unwrap(), data);
        }
    }

    #[test]
    fn round_trips_many_short_tokens() {
        // Words from a small vocabulary: mostly short literals and short matches at every
        // offset, ending at various alignments against the output's capacity.
        let words: [&[u8]; 6] = [
            b"a ",
            b"tree ",
            b"of ",
            b"spans, ",
            b"\xc3\xa9t\xc3\xa9 ",
            b"x",
        ];
        let mut x = 0x2545_f491_u32;
        let mut data = Vec::new();
        for n in 0..2000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            data.extend_from_slice(words[x as usize % words.len()]);
            if n % 97 == 0 {
                data.extend((0..(x % 40) as u8).map(|i| i.wrapping_mul(37)));
            }
            if n % 40 < 3 {
                let z = compress(&data);
                assert_eq!(decompress(&z, data.len()).unwrap(), data);
            }
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(decompress(&[], 10).is_err());
        assert!(decompress(&[0, 5, 9], 100).is_err());
        assert!(decompress(&[3, b'a'], 100).is_err());
        assert!(decompress(&[0xff; 12], 100).is_err());
    }
}
