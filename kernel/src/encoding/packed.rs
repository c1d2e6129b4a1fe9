//! Bit-packed integer columns, for hand-packed sections that must decode fast (the text state
//! snapshot's document order and op log).
//!
//! A column is a varint byte length, then blocks of up to [`BLOCK`] values: one byte giving
//! the block's width `w` (bits per value, at most [`MAX_WIDTH`]), then the block's values in
//! exactly `w` bits each, least significant bit first, padded to a whole byte. The number of
//! values is not stored: the reader is told it (it comes from elsewhere in the message).
//!
//! Why not varints: a varint's position depends on the length of the one before it, so
//! decoding is a serial chain of load → find the end → advance, a few cycles per value however
//! simple the code. Within a block every value's bit position is `i * w`, so the values unpack
//! independently, and a value that needs many bits only widens its own block (the idea is the
//! frame-of-reference block coding of column stores and integer-compression libraries such as
//! FastPFor).

use alloc::vec::Vec;

use super::DecodeError;
use super::varint::{get_varint, put_varint};

/// Values per block.
pub(crate) const BLOCK: usize = 128;

/// Widest value in bits: any value fits one unaligned 8-byte load after a shift of at most 7.
pub(crate) const MAX_WIDTH: u32 = 57;

/// Appends `values` as a column (see the module docs). Every value must be below
/// `2^MAX_WIDTH`.
pub(crate) fn put_column(out: &mut Vec<u8>, values: &[u64]) {
    let mut body = Vec::new();
    for block in values.chunks(BLOCK) {
        let max = block.iter().fold(0, |m, &v| m | v);
        let w = 64 - max.leading_zeros();
        debug_assert!(w <= MAX_WIDTH, "value too wide for a column");
        body.push(w as u8);
        let (mut acc, mut bits) = (0u128, 0u32);
        for &v in block {
            acc |= u128::from(v) << bits;
            bits += w;
            while bits >= 8 {
                body.push(acc as u8);
                acc >>= 8;
                bits -= 8;
            }
        }
        if bits > 0 {
            body.push(acc as u8);
        }
    }
    put_varint(out, body.len() as u64);
    out.extend_from_slice(&body);
}

/// Reads `count` values from a column starting at `bytes[*at]`, advancing `*at` past it.
/// Each block is unpacked into a buffer when reached; [`next`](Self::next) hands the values
/// out in order. Never panics. A column shorter than `count` values, longer, or with a width
/// above [`MAX_WIDTH`] makes [`finished`](Self::finished) false; the caller checks it after
/// the last value (values read past such a flaw are 0).
pub(crate) struct Column<'a> {
    body: &'a [u8],
    at: usize,
    left: usize,
    buf: [u64; BLOCK],
    filled: usize,
    next: usize,
    broken: bool,
}

impl<'a> Column<'a> {
    pub(crate) fn read(
        bytes: &'a [u8],
        at: &mut usize,
        count: usize,
    ) -> Result<Column<'a>, DecodeError> {
        let len = usize::try_from(get_varint(bytes, at)?).map_err(|_| DecodeError::Malformed)?;
        let body = bytes
            .get(*at..)
            .and_then(|rest| rest.get(..len))
            .ok_or(DecodeError::UnexpectedEnd)?;
        *at += len;
        // Every block is at least its width byte.
        if count.div_ceil(BLOCK) > body.len() {
            return Err(DecodeError::UnexpectedEnd);
        }
        Ok(Column {
            body,
            at: 0,
            left: count,
            buf: [0; BLOCK],
            filled: 0,
            next: 0,
            broken: false,
        })
    }

    /// The next value, or 0 once the column turned out flawed (see the type docs).
    #[inline(always)]
    pub(crate) fn next(&mut self) -> u64 {
        if self.next == self.filled && !self.fill() {
            self.broken = true;
            return 0;
        }
        let v = self.buf[self.next % BLOCK];
        self.next += 1;
        v
    }

    /// Whether exactly `count` values were read from a sound column that holds no more bytes.
    pub(crate) fn finished(&self) -> bool {
        !self.broken && self.left == 0 && self.next == self.filled && self.at == self.body.len()
    }

    /// Unpacks the next block; false if there is none or it is flawed.
    #[inline(never)]
    fn fill(&mut self) -> bool {
        let k = self.left.min(BLOCK);
        let Some(&w) = self.body.get(self.at) else {
            return false;
        };
        let w = u32::from(w);
        if k == 0 || w > MAX_WIDTH {
            return false;
        }
        let n = (k * w as usize).div_ceil(8);
        let Some(data) = self.body.get(self.at + 1..self.at + 1 + n) else {
            return false;
        };
        // Each value is one 8-byte load; the last few read from a zero-padded copy of the
        // block's last bytes.
        let mut tail = [0u8; 16];
        let tail_from = n.saturating_sub(8);
        tail[..n - tail_from].copy_from_slice(&data[tail_from..]);
        let mask = (1u64 << w) - 1;
        for (i, slot) in self.buf[..k].iter_mut().enumerate() {
            let bit = i * w as usize;
            let byte = bit / 8;
            let word = match data.get(byte..byte + 8) {
                Some(b) => <[u8; 8]>::try_from(b).unwrap_or([0; 8]),
                None => <[u8; 8]>::try_from(&tail[byte - tail_from..byte - tail_from + 8])
                    .unwrap_or([0; 8]),
            };
            *slot = (u64::from_le_bytes(word) >> (bit % 8)) & mask;
        }
        self.at += 1 + n;
        self.left -= k;
        self.next = 0;
        self.filled = k;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(values: &[u64]) {
        let mut out = Vec::new();
        put_column(&mut out, values);
        out.push(0xaa); // whatever follows the column
        let mut at = 0;
        let mut c = Column::read(&out, &mut at, values.len()).unwrap();
        for &v in values {
            assert_eq!(c.next(), v);
        }
        assert!(c.finished());
        assert_eq!(at, out.len() - 1);
    }

    #[test]
    fn columns_round_trip_at_every_width_and_length() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        round_trip(&[]);
        for w in 0..=MAX_WIDTH {
            for n in [1, 2, 7, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5] {
                let values: Vec<u64> = (0..n)
                    .map(|_| if w == 0 { 0 } else { rand() >> (64 - w) })
                    .collect();
                round_trip(&values);
            }
        }
        // One wide value widens only its own block.
        let mut values = alloc::vec![1u64; 3 * BLOCK];
        values[BLOCK + 3] = 1 << 40;
        let mut out = Vec::new();
        put_column(&mut out, &values);
        assert_eq!(out.len(), 2 + (1 + 16) + (1 + 41 * 16) + (1 + 16));
        round_trip(&values);
    }

    #[test]
    fn bad_columns_are_errors() {
        let mut out = Vec::new();
        // Width 8: no padding bits that could pass for a fourth value.
        put_column(&mut out, &[5, 6, 200]);
        // Too few values, too many, cut short, a width over the limit.
        let mut at = 0;
        let mut c = Column::read(&out, &mut at, 2).unwrap();
        c.next();
        c.next();
        assert!(!c.finished());
        let mut at = 0;
        // A block is unpacked whole, so a fourth value is missed on the first read.
        let mut c = Column::read(&out, &mut at, 4).unwrap();
        assert_eq!(c.next(), 0);
        assert!(!c.finished());
        let mut at = 0;
        let mut c = Column::read(&out, &mut at, 3).unwrap();
        assert_eq!((c.next(), c.next(), c.next()), (5, 6, 200));
        assert_eq!(c.next(), 0);
        assert!(!c.finished());
        for cut in 0..out.len() {
            let mut at = 0;
            let ok = Column::read(&out[..cut], &mut at, 3).map(|mut c| {
                (0..3).for_each(|_| {
                    c.next();
                });
                c.finished()
            });
            assert!(!matches!(ok, Ok(true)));
        }
        let mut wide = out.clone();
        wide[1] = MAX_WIDTH as u8 + 1;
        let mut at = 0;
        let mut c = Column::read(&wide, &mut at, 3).unwrap();
        assert_eq!(c.next(), 0);
        assert!(!c.finished());
        // A count far beyond the bytes is refused before any work.
        let mut at = 0;
        assert!(Column::read(&out, &mut at, 1 << 40).is_err());
    }
}
