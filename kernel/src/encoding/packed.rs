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
/// [`read`](Self::read) checks the block layout (each width at least the caller's minimum
/// and at most [`MAX_WIDTH`], the blocks exactly filling the column);
/// [`collect`](Self::collect) unpacks the values. Never panics.
pub(crate) struct Column<'a> {
    body: &'a [u8],
    at: usize,
    left: usize,
}

impl<'a> Column<'a> {
    /// A `min_width` above 0 rejects a column with a block narrower than that: for values
    /// known to be at least `2^(min_width - 1)`, it bounds `count` by the column's length.
    pub(crate) fn read(
        bytes: &'a [u8],
        at: &mut usize,
        count: usize,
        min_width: u32,
    ) -> Result<Column<'a>, DecodeError> {
        let len = usize::try_from(get_varint(bytes, at)?).map_err(|_| DecodeError::Malformed)?;
        let body = bytes
            .get(*at..)
            .and_then(|rest| rest.get(..len))
            .ok_or(DecodeError::UnexpectedEnd)?;
        *at += len;
        // Every block is at least its width byte, so this walk is bounded by the input.
        if count.div_ceil(BLOCK) > body.len() {
            return Err(DecodeError::UnexpectedEnd);
        }
        let (mut pos, mut left) = (0usize, count);
        while left > 0 {
            let w = u32::from(*body.get(pos).ok_or(DecodeError::UnexpectedEnd)?);
            if w < min_width || w > MAX_WIDTH {
                return Err(DecodeError::Invalid("column width"));
            }
            let k = left.min(BLOCK);
            pos += 1 + (k * w as usize).div_ceil(8);
            left -= k;
        }
        if pos != body.len() {
            return Err(DecodeError::Invalid("column length"));
        }
        Ok(Column {
            body,
            at: 0,
            left: count,
        })
    }

    /// All `count` values (unpacked block by block into a buffer that stays in the L1
    /// cache), or `None` if the column is flawed.
    pub(crate) fn collect(mut self) -> Option<Vec<u64>> {
        let mut out = Vec::with_capacity(self.left);
        let mut buf = [0; BLOCK];
        while self.left > 0 {
            let k = self.fill(&mut buf)?;
            out.extend_from_slice(buf.get(..k)?);
        }
        (self.at == self.body.len()).then_some(out)
    }

    /// Unpacks the next block into `buf`; how many values it held, or `None` if there is no
    /// block or it is flawed.
    #[inline(never)]
    fn fill(&mut self, buf: &mut [u64; BLOCK]) -> Option<usize> {
        let k = self.left.min(BLOCK);
        let w = u32::from(*self.body.get(self.at)?);
        if k == 0 || w > MAX_WIDTH {
            return None;
        }
        let n = (k * w as usize).div_ceil(8);
        let data = self.body.get(self.at + 1..self.at + 1 + n)?;
        if k == BLOCK {
            unpack_full_block(w, data, buf);
        } else {
            unpack_short_block(w, data, &mut buf[..k]);
        }
        self.at += 1 + n;
        self.left -= k;
        Some(k)
    }
}

/// Unpacks a block of `out.len()` values of width `w` from its bytes `data` (the last block
/// of a column, which may hold fewer than [`BLOCK`] values).
fn unpack_short_block(w: u32, data: &[u8], out: &mut [u64]) {
    let (k, n) = (out.len(), data.len());
    let mask = (1u64 << w) - 1;
    let w = w as usize;
    // Values whose 8-byte window lies inside the block: one load each.
    let direct = if w == 0 {
        k
    } else if n >= 8 {
        ((n - 8) * 8 / w + 1).min(k)
    } else {
        0
    };
    let (head, rest) = out.split_at_mut(direct);
    for (i, slot) in head.iter_mut().enumerate() {
        let bit = i * w;
        let word = data
            .get(bit / 8..bit / 8 + 8)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .unwrap_or([0; 8]);
        *slot = (u64::from_le_bytes(word) >> (bit % 8)) & mask;
    }
    // The last few read from a zero-padded copy of the block's last bytes.
    let tail_from = n.saturating_sub(8);
    let mut tail = [0u8; 16];
    tail[..n - tail_from].copy_from_slice(&data[tail_from..]);
    for (i, slot) in rest.iter_mut().enumerate() {
        let bit = (direct + i) * w;
        let at = bit / 8 - tail_from;
        let word = <[u8; 8]>::try_from(&tail[at..at + 8]).unwrap_or([0; 8]);
        *slot = (u64::from_le_bytes(word) >> (bit % 8)) & mask;
    }
}

/// Unpacks a full block of width `w` (`data` is its `16 * w` bytes) with code specialised for
/// the width, so every shift and offset is a constant. Only widths up to 24 are specialised
/// (a document's positions, lengths and deltas stay below 2^24 until it holds 16 million
/// items); wider blocks take the general loop, which reads the same bits.
fn unpack_full_block(w: u32, data: &[u8], out: &mut [u64; BLOCK]) {
    macro_rules! by_width {
        ($($w:literal)*) => {
            match w {
                $($w => unpack_groups::<$w>(data, out),)*
                _ => unpack_short_block(w, data, out),
            }
        };
    }
    by_width!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24);
}

/// [`unpack_full_block`] for width `W` (at least 1): eight values fill exactly `W` bytes, so
/// the block is sixteen such groups, each unpacked from one `W + 8`-byte window (the last
/// groups from a zero-padded copy, as their window runs past the block).
#[inline(always)]
fn unpack_groups<const W: usize>(data: &[u8], out: &mut [u64; BLOCK]) {
    let mask = (1u64 << W) - 1;
    let mut pad = [0u8; MAX_WIDTH as usize + 8];
    for (g, out) in out.chunks_exact_mut(8).enumerate() {
        let base = g * W;
        let window = match data.get(base..base + W + 8) {
            Some(window) => window,
            None => {
                let group = data.get(base..).unwrap_or(&[]);
                let n = group.len().min(W);
                pad[..n].copy_from_slice(&group[..n]);
                &pad[..W + 8]
            }
        };
        for (j, slot) in out.iter_mut().enumerate() {
            let bit = j * W;
            let word = window
                .get(bit / 8..bit / 8 + 8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .unwrap_or([0; 8]);
            *slot = (u64::from_le_bytes(word) >> (bit % 8)) & mask;
        }
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
        let c = Column::read(&out, &mut at, values.len(), 0).unwrap();
        assert_eq!(c.collect().as_deref(), Some(values));
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
        assert!(Column::read(&out, &mut at, 2, 0).is_err());
        let mut at = 0;
        assert!(Column::read(&out, &mut at, 4, 0).is_err());
        let mut at = 0;
        let c = Column::read(&out, &mut at, 3, 0).unwrap();
        assert_eq!(c.collect(), Some(alloc::vec![5, 6, 200]));
        for cut in 0..out.len() {
            let mut at = 0;
            let ok = Column::read(&out[..cut], &mut at, 3, 0).map(|c| c.collect().is_some());
            assert!(!matches!(ok, Ok(true)));
        }
        let mut wide = out.clone();
        wide[1] = MAX_WIDTH as u8 + 1;
        let mut at = 0;
        assert!(Column::read(&wide, &mut at, 3, 0).is_err());
        // Narrower blocks than the caller's minimum, and a count far beyond the bytes.
        let mut at = 0;
        assert!(Column::read(&out, &mut at, 3, 9).is_err());
        let mut at = 0;
        assert!(Column::read(&out, &mut at, 1 << 40, 0).is_err());
    }
}
