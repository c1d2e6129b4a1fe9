//! Content storage: the inserted items of a sequence, indexed by item number.
//!
//! Item numbers (`ilv`) count inserted items only, in the order this replica integrated them;
//! the span tree, origins and delete targets all use them.
//!
//! Content is append-only and kept for deleted items too (so [`ops_since`] can resend any
//! insert). Deletes and moves in the document never touch it; the span tree only refers to
//! items by lv.
//!
//! * [`TextStore`] keeps all inserted text as one UTF-8 `String` in ilv order, plus two sparse
//!   side tables — the lvs of non-ASCII chars with the running count of extra UTF-8 bytes, and
//!   the lvs of chars outside the Basic Multilingual Plane (two UTF-16 units) — so lv → byte
//!   offset and UTF-16 widths cost a binary search, and nothing for ASCII text. The first
//!   table is indexed by 256-item blocks, so the search for a byte offset covers one block's
//!   entries (rendering the text looks up two per span).
//! * [`VecStore`] keeps list items in a `Vec<T>`.
//!
//! [`ops_since`]: crate::list::Text::ops_since

use alloc::string::String;
use alloc::vec::Vec;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::lz;
use super::tree::Widths;
use crate::encoding::codec::{Decode, Encode, decode_all};
use crate::encoding::{DecodeError, decode_payload};

/// Makes room for `additional` more elements, growing by an eighth instead of doubling: the
/// logs and content of a long-lived document only grow, and doubling would leave up to half of
/// their memory unused. The extra copying is a geometric series (about 9× the final size in
/// total), negligible next to the edits that produce the data.
#[inline]
pub(crate) fn reserve_frugal<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() < additional {
        v.reserve_exact(additional.max(v.len() / 8).max(16));
    }
}

/// [`reserve_frugal`] for a `String`.
#[inline]
fn reserve_frugal_str(s: &mut String, additional: usize) {
    if s.capacity() - s.len() < additional {
        s.reserve_exact(additional.max(s.len() / 8).max(64));
    }
}

/// What a sequence needs from its content store.
pub(crate) trait Store: Default {
    /// The width of the items (for the span tree's width counts).
    fn widths(&self) -> Widths<'_>;
    /// The owned wire form of a run of items (`String` for text, `Vec<T>` for lists).
    type Chunk;
    /// Number of items in a chunk.
    fn chunk_len(c: &Self::Chunk) -> usize;
    /// Items `start..start + len` of a chunk.
    fn chunk_sub(c: &Self::Chunk, start: usize, len: usize) -> Self::Chunk;
    /// Appends the items of a chunk (they get the next lvs).
    fn push_chunk(&mut self, c: &Self::Chunk);
    /// The items `lv..lv + len` as a chunk.
    fn chunk(&self, lv: u32, len: u32) -> Self::Chunk;
    /// Number of items stored.
    fn items(&self) -> usize;
    /// Forgets every item from number `items` on.
    fn truncate(&mut self, items: usize);
}

/// Text content: see the module docs.
#[derive(Clone, Debug, Default)]
pub(crate) struct TextStore {
    text: String,
    /// `(lv, extra bytes of all non-ASCII chars up to and including lv)`, sorted by lv.
    wide_utf8: Vec<(u32, u32)>,
    /// lvs of chars that take two UTF-16 units, sorted.
    astral: Vec<u32>,
    /// `wide_blocks[b]`: how many `wide_utf8` entries lie below lv `b * WIDE_BLOCK`, for every
    /// block start up to `len`; so finding an lv's entry searches one block's entries only.
    wide_blocks: Vec<u32>,
    len: u32,
}

/// Bytes [`Render`] copies as one fixed block.
pub(crate) const COPY_BLOCK: usize = 32;

/// Items per [`TextStore::wide_blocks`] block.
const WIDE_BLOCK: u32 = 256;

/// Up to this many non-ASCII chars, a byte offset is searched for inline in the whole table
/// (a few steps, no call).
const SMALL_WIDE: usize = 8;

impl TextStore {
    #[inline]
    fn byte_of(&self, lv: u32) -> usize {
        if self.wide_utf8.is_empty() {
            return lv as usize;
        }
        if self.wide_utf8.len() <= SMALL_WIDE {
            return self.byte_after(lv, self.wide_utf8.partition_point(|e| e.0 < lv));
        }
        self.byte_of_wide(lv)
    }

    /// [`byte_of`](Self::byte_of) for a table beyond [`SMALL_WIDE`] entries: searches only the
    /// entries of `lv`'s block (out of line, so the inlined cases stay small).
    #[inline(never)]
    fn byte_of_wide(&self, lv: u32) -> usize {
        let b = (lv / WIDE_BLOCK) as usize;
        let lo = self.wide_blocks.get(b).map_or(0, |&i| i as usize);
        let hi = self
            .wide_blocks
            .get(b + 1)
            .map_or(self.wide_utf8.len(), |&i| i as usize);
        let block = self.wide_utf8.get(lo..hi).unwrap_or(&[]);
        self.byte_after(lv, lo + block.partition_point(|e| e.0 < lv))
    }

    /// The byte offset of item `lv`, given that the first `i` entries of `wide_utf8` are
    /// exactly those below it.
    #[inline]
    fn byte_after(&self, lv: u32, i: usize) -> usize {
        let extra = i
            .checked_sub(1)
            .and_then(|k| self.wide_utf8.get(k))
            .map_or(0, |e| e.1 as usize);
        lv as usize + extra
    }

    /// The text of items `lv..lv + len`.
    #[inline]
    pub(crate) fn str(&self, lv: u32, len: u32) -> &str {
        &self.text[self.byte_of(lv)..self.byte_of(lv + len)]
    }

    /// A renderer appending the UTF-8 of spans to `out` (see [`Render`]).
    pub(crate) fn render<'a>(&'a self, out: &'a mut Vec<u8>) -> Render<'a> {
        let offsets = if self.wide_utf8.is_empty() {
            Offsets::Ascii
        } else {
            // Per block: the extra bytes before it, and whether any lie inside it.
            let mut mixed = 0;
            let bases: Vec<u32> = self
                .wide_blocks
                .iter()
                .enumerate()
                .map(|(b, &below)| {
                    let above = self
                        .wide_blocks
                        .get(b + 1)
                        .map_or(self.wide_utf8.len() as u32, |&n| n);
                    mixed += usize::from(above > below);
                    let before = self.byte_after(0, below as usize) as u32;
                    before | if above > below { MIXED } else { 0 }
                })
                .collect();
            if mixed <= bases.len() / SPARSE_WIDE {
                Offsets::Sparse(bases)
            } else {
                Offsets::Dense
            }
        };
        Render {
            store: self,
            out,
            offsets,
        }
    }

    /// An upper bound on the UTF-8 length of `chars` of the stored chars: `chars` plus the
    /// extra bytes of every stored non-ASCII char (exact for ASCII, and tight for text that is
    /// mostly ASCII, so a buffer of this size stays small enough for the allocator's heap).
    pub(crate) fn bytes_bound(&self, chars: usize) -> usize {
        let extra = self.wide_utf8.last().map_or(0, |e| e.1 as usize);
        self.text.len().min(chars.saturating_add(extra))
    }

    /// Whether every stored char (deleted ones included) is one UTF-16 unit, so that UTF-16
    /// offsets and char positions are the same numbers everywhere in the text.
    #[inline]
    pub(crate) fn all_bmp(&self) -> bool {
        self.astral.is_empty()
    }

    /// All stored text, in item order (deleted items included).
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// A store holding `text` (its chars get lvs `0..`), without copying it.
    pub(crate) fn from_string(text: String) -> Self {
        let mut st = TextStore::default();
        // Skip ASCII a block at a time (std's `is_ascii` is word-parallel), then eight bytes at
        // a time; only non-ASCII chars are looked at one by one (the text is valid UTF-8, so a
        // lead byte gives the char's length).
        const ASCII_BLOCK: usize = 256;
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut extra = 0;
        while i < bytes.len() {
            while let Some(block) = bytes.get(i..i + ASCII_BLOCK) {
                if !block.is_ascii() {
                    break;
                }
                i += ASCII_BLOCK;
            }
            while let Some(word) = bytes.get(i..i + 8) {
                let w = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or([0x80; 8]));
                if w & 0x8080_8080_8080_8080 != 0 {
                    break;
                }
                i += 8;
            }
            let Some(&b) = bytes.get(i) else { break };
            let lv = (i as u32).wrapping_sub(extra);
            if b < 0x80 {
                i += 1;
                continue;
            }
            let n = if b >= 0xf0 {
                4
            } else if b >= 0xe0 {
                3
            } else {
                2
            };
            extra += n - 1;
            st.wide_utf8.push((lv, extra));
            if n == 4 {
                st.astral.push(lv);
            }
            i += n as usize;
        }
        st.len = (bytes.len() as u32).wrapping_sub(extra);
        st.text = text;
        st.index_wide_blocks();
        st
    }

    /// Extends [`wide_blocks`](Self::wide_blocks) to every block start up to `len` (none
    /// while the text is ASCII). A block's count is final once its start is reached, and a
    /// missing block only widens the search, so the index may lag behind `len` in between.
    #[inline]
    fn index_wide_blocks(&mut self) {
        let indexed = self.wide_blocks.len() as u64 * u64::from(WIDE_BLOCK);
        if !self.wide_utf8.is_empty() && indexed <= u64::from(self.len) {
            self.extend_wide_blocks();
        }
    }

    #[inline(never)]
    fn extend_wide_blocks(&mut self) {
        while self.wide_blocks.len() as u64 * u64::from(WIDE_BLOCK) <= u64::from(self.len) {
            let start = self.wide_blocks.len() as u32 * WIDE_BLOCK;
            let below = self.wide_utf8.partition_point(|e| e.0 < start);
            reserve_frugal(&mut self.wide_blocks, 1);
            self.wide_blocks.push(below as u32);
        }
    }

    /// Appends `s`, which holds `chars` chars (they get the next lvs). Callers count the
    /// chars once for the whole edit; an ASCII string is one whose count is its length.
    pub(crate) fn push_str(&mut self, s: &str, chars: usize) {
        debug_assert_eq!(chars, s.chars().count());
        reserve_frugal_str(&mut self.text, s.len());
        if chars == s.len() {
            self.text.push_str(s);
            self.len += s.len() as u32;
            self.index_wide_blocks();
            return;
        }
        let mut extra = self.wide_utf8.last().map_or(0, |e| e.1);
        for ch in s.chars() {
            let b = ch.len_utf8() as u32;
            if b > 1 {
                extra += b - 1;
                reserve_frugal(&mut self.wide_utf8, 1);
                self.wide_utf8.push((self.len, extra));
            }
            if ch.len_utf16() == 2 {
                reserve_frugal(&mut self.astral, 1);
                self.astral.push(self.len);
            }
            self.len += 1;
        }
        self.text.push_str(s);
        self.index_wide_blocks();
    }
}

/// Appends the UTF-8 of a text's spans, in the order they are given ([`TextStore::render`]).
///
/// Rendering alternates unpredictably between visible spans and tombstones. While byte offsets
/// are cheap — ASCII text, or non-ASCII chars so clustered that nearly every 256-item block
/// is free of them and an offset is one table load — every span is handled alike: a run of at
/// most [`COPY_BLOCK`] bytes is copied as a whole block and cut back to its length, which is
/// 0 for a tombstone, so neither the choice nor the length costs a branch. Otherwise an offset
/// costs a search, which only visible spans pay.
pub(crate) struct Render<'a> {
    store: &'a TextStore,
    out: &'a mut Vec<u8>,
    offsets: Offsets,
}

/// How [`Render`] finds byte offsets.
enum Offsets {
    /// The offset is the lv.
    Ascii,
    /// Per 256-item block, the extra bytes of the non-ASCII chars before it, with [`MIXED`]
    /// set if the block holds any (its offsets are then searched).
    Sparse(Vec<u32>),
    /// Searched.
    Dense,
}

/// Marks a block of [`Offsets::Sparse`] that holds non-ASCII chars.
const MIXED: u32 = 1 << 31;

/// [`Offsets::Sparse`] is used while at most one block in this many holds non-ASCII chars.
const SPARSE_WIDE: usize = 16;

impl Render<'_> {
    /// Appends items `lv..lv + len` if `visible`.
    #[inline(always)]
    pub(crate) fn span(&mut self, lv: u32, len: u32, visible: bool) {
        let (a, b) = match &self.offsets {
            Offsets::Ascii => (lv as usize, (lv + len) as usize),
            Offsets::Sparse(bases) => {
                let byte = |lv: u32| match bases.get((lv / WIDE_BLOCK) as usize) {
                    Some(&base) if base & MIXED == 0 => lv as usize + base as usize,
                    _ => self.store.byte_of(lv),
                };
                (byte(lv), byte(lv + len))
            }
            Offsets::Dense => {
                if visible {
                    self.out
                        .extend_from_slice(self.store.str(lv, len).as_bytes());
                }
                return;
            }
        };
        let n = if visible { b - a } else { 0 };
        let bytes = self.store.text.as_bytes();
        let at = self.out.len();
        let block = bytes
            .get(a..a + COPY_BLOCK)
            .and_then(|b| <&[u8; COPY_BLOCK]>::try_from(b).ok());
        match block {
            Some(block) if n <= COPY_BLOCK && self.out.capacity() - at >= COPY_BLOCK => {
                self.out.extend_from_slice(block);
                self.out.truncate(at + n);
            }
            _ => self
                .out
                .extend_from_slice(bytes.get(a..a + n).unwrap_or(&[])),
        }
    }
}

impl Store for TextStore {
    #[inline]
    fn widths(&self) -> Widths<'_> {
        Widths::new(&self.astral)
    }
    type Chunk = String;
    fn chunk_len(c: &String) -> usize {
        c.chars().count()
    }
    fn chunk_sub(c: &String, start: usize, len: usize) -> String {
        c.chars().skip(start).take(len).collect()
    }
    fn push_chunk(&mut self, c: &String) {
        self.push_str(c, c.chars().count());
    }
    fn chunk(&self, lv: u32, len: u32) -> String {
        String::from(self.str(lv, len))
    }
    fn items(&self) -> usize {
        self.len as usize
    }
    fn truncate(&mut self, items: usize) {
        if items < self.len as usize {
            // Rare (a rolled-back transaction): rebuilding the tables is simplest.
            *self = TextStore::from_string(String::from(self.str(0, items as u32)));
        }
    }
}

/// List content: one `T` per item, in ilv order.
#[derive(Clone, Debug)]
pub(crate) struct VecStore<T> {
    pub(crate) items: Vec<T>,
}

impl<T> Default for VecStore<T> {
    fn default() -> Self {
        VecStore { items: Vec::new() }
    }
}

impl<T: Clone> Store for VecStore<T> {
    #[inline]
    fn widths(&self) -> Widths<'_> {
        Widths::one()
    }
    type Chunk = Vec<T>;
    fn chunk_len(c: &Vec<T>) -> usize {
        c.len()
    }
    fn chunk_sub(c: &Vec<T>, start: usize, len: usize) -> Vec<T> {
        c[start..start + len].to_vec()
    }
    fn push_chunk(&mut self, c: &Vec<T>) {
        reserve_frugal(&mut self.items, c.len());
        self.items.extend_from_slice(c);
    }
    fn chunk(&self, lv: u32, len: u32) -> Vec<T> {
        self.items[lv as usize..(lv + len) as usize].to_vec()
    }
    fn items(&self) -> usize {
        self.items.len()
    }
    fn truncate(&mut self, items: usize) {
        self.items.truncate(items);
    }
}

/// How a store writes all its content into an encoded history and reads it back.
pub(crate) trait ContentCodec: Store + Sized {
    /// All content, in item-number order.
    fn pack(&self) -> Vec<u8>;
    /// Inverse of [`pack`](Self::pack); never panics.
    fn unpack(bytes: &[u8]) -> Result<Self, DecodeError>;
}

impl ContentCodec for TextStore {
    /// `varint(byte length)` followed by the UTF-8 text compressed with [`lz`].
    fn pack(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut n = self.text.len() as u64;
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(&lz::compress(self.text.as_bytes()));
        out
    }

    fn unpack(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut declared = 0u64;
        let mut at = 0;
        loop {
            let b = *bytes.get(at).ok_or(DecodeError::UnexpectedEnd)?;
            if at == 9 {
                return Err(DecodeError::Malformed);
            }
            declared |= u64::from(b & 0x7f) << (7 * at);
            at += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let declared = usize::try_from(declared).map_err(|_| DecodeError::Malformed)?;
        if declared >= u32::MAX as usize {
            return Err(DecodeError::Invalid("content too long"));
        }
        // The declared length only caps the output; memory grows with the input actually
        // present.
        let raw = lz::decompress(&bytes[at..], declared)?;
        if raw.len() != declared {
            return Err(DecodeError::Invalid("content length"));
        }
        let text =
            String::from_utf8(raw).map_err(|_| DecodeError::Invalid("content is not UTF-8"))?;
        Ok(TextStore::from_string(text))
    }
}

impl<T: Clone + Serialize + DeserializeOwned> ContentCodec for VecStore<T> {
    /// The items as a postcard sequence.
    fn pack(&self) -> Vec<u8> {
        crate::encoding::sink::append(&self.items, Vec::new())
            .expect("serializing to a Vec cannot fail")
    }

    fn unpack(bytes: &[u8]) -> Result<Self, DecodeError> {
        // Through the metering layer every other decode uses (no limit), so the items'
        // `Deserialize` code is not compiled a second time for a plain postcard deserializer.
        let (items, _) = decode_payload::<Vec<T>>(bytes, usize::MAX).map_err(unpack_error)?;
        Ok(VecStore { items })
    }
}

/// The error [`VecStore`]'s `unpack` reports for a failed decode of its items: input ending
/// early and bytes left over as they are, anything else as [`DecodeError::Malformed`].
fn unpack_error(e: DecodeError) -> DecodeError {
    match e {
        DecodeError::UnexpectedEnd | DecodeError::TrailingBytes { .. } => e,
        _ => DecodeError::Malformed,
    }
}

impl<T: Encode> VecStore<T> {
    /// [`ContentCodec::pack`] through the hand-written codec: the same bytes.
    pub(crate) fn pack_codec(&self) -> Vec<u8> {
        let mut w = Vec::new();
        self.items.encode(&mut w);
        w
    }
}

impl<T: for<'a> Decode<'a>> VecStore<T> {
    /// [`ContentCodec::unpack`] through the hand-written codec: the same items or error.
    pub(crate) fn unpack_codec(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (items, _) = decode_all::<Vec<T>>(bytes, usize::MAX).map_err(unpack_error)?;
        Ok(VecStore { items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::tests::{item, value};
    use crate::value::{Item, Value};
    use core::fmt::Debug;
    use proptest::prelude::*;

    /// `pack_codec` writes what `pack` writes, and `unpack_codec` gives what `unpack` gives on
    /// those bytes, every truncation, single-byte corruptions and a byte too many.
    fn assert_codec_packs_same<T>(items: Vec<T>)
    where
        T: Clone + Serialize + DeserializeOwned + Encode + for<'a> Decode<'a> + PartialEq + Debug,
    {
        let store = VecStore { items };
        let bytes = store.pack();
        assert_eq!(store.pack_codec(), bytes, "packing {:?}", store.items);
        assert_unpacks_same::<T>(&bytes);
        for cut in 0..bytes.len() {
            assert_unpacks_same::<T>(&bytes[..cut]);
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_unpacks_same::<T>(&longer);
        let step = (bytes.len() / 64).max(1);
        for at in (0..bytes.len()).step_by(step) {
            for v in [0x00, 0x01, 0x05, 0x7f, 0x80, 0xff, bytes[at] ^ 0x01] {
                let mut bad = bytes.clone();
                bad[at] = v;
                assert_unpacks_same::<T>(&bad);
            }
        }
    }

    fn assert_unpacks_same<T>(bytes: &[u8])
    where
        T: Clone + Serialize + DeserializeOwned + for<'a> Decode<'a> + PartialEq + Debug,
    {
        let items = |r: Result<VecStore<T>, DecodeError>| r.map(|s| s.items);
        assert_eq!(
            items(VecStore::<T>::unpack_codec(bytes)),
            items(VecStore::<T>::unpack(bytes)),
            "bytes {bytes:02x?}"
        );
    }

    #[test]
    fn vec_store_codec_packs_as_serde() {
        assert_codec_packs_same::<Item>(Vec::new());
        assert_codec_packs_same::<Value>(Vec::new());
        assert_codec_packs_same(vec![
            Item::Value(Value::Null),
            Item::Value(Value::Str("héllo 🦀".into())),
            Item::Value(Value::Int(i64::MIN)),
            Item::Value(Value::Bytes(vec![0xff; 200])),
            Item::Value(Value::Float(f64::NAN)),
        ]);
        assert_codec_packs_same(vec![Value::Bool(true); 130]);
        assert_codec_packs_same(vec![u64::MAX, 0, 300]);
        assert_codec_packs_same(vec![String::new(), "€".into()]);
        // A bad variant, a huge length, an invalid UTF-8 string, a truncated varint.
        for bytes in [
            &[1, 9][..],
            &[0xff, 0xff, 0xff, 0xff, 0x0f][..],
            &[1, 0, 4, 2, 0xc3, 0x28][..],
            &[1, 0, 2, 0x80][..],
            &[0x80][..],
            &[][..],
        ] {
            assert_unpacks_same::<Item>(bytes);
            assert_unpacks_same::<Value>(bytes);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn vec_store_codec_packs_any_items_as_serde(
            items in proptest::collection::vec(item(), 0..8),
            values in proptest::collection::vec(value(), 0..8),
        ) {
            assert_codec_packs_same(items);
            assert_codec_packs_same(values);
        }

        #[test]
        fn vec_store_codec_unpacks_arbitrary_bytes_as_serde(
            bytes in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            assert_unpacks_same::<Item>(&bytes);
            assert_unpacks_same::<Value>(&bytes);
        }
    }

    /// A 32-bit xorshift step (the inputs only need to be reproducible).
    fn xorshift(x: &mut u32) -> u32 {
        *x ^= *x << 13;
        *x ^= *x >> 17;
        *x ^= *x << 5;
        *x
    }

    /// The side tables built char by char, as `push_str` does.
    fn reference(text: &str) -> TextStore {
        let mut st = TextStore::default();
        st.push_str(text, text.chars().count());
        st
    }

    #[test]
    fn from_string_matches_char_by_char_tables() {
        let pieces = [
            "a",
            "abcdefgh",
            "é",
            "€",
            "😀",
            "ab😀cdefghi",
            "\u{7f}",
            "\u{80}",
        ];
        let mut x = 0x1234_5678_u32;
        for len in 0..200 {
            let mut s = String::new();
            for _ in 0..len % 40 {
                s.push_str(pieces[xorshift(&mut x) as usize % pieces.len()]);
            }
            let fast = TextStore::from_string(s.clone());
            let slow = reference(&s);
            assert_eq!(fast.len, slow.len, "{s:?}");
            assert_eq!(fast.wide_utf8, slow.wide_utf8, "{s:?}");
            assert_eq!(fast.astral, slow.astral, "{s:?}");
            assert_eq!(fast.text, s);
        }
    }

    #[test]
    fn byte_offsets_through_the_block_index() {
        // Pushed piece by piece, ASCII stretches longer than a block between wide chars, and
        // wide chars on and around block starts.
        let mut st = TextStore::default();
        let mut whole = String::new();
        let mut x = 0x9e37_79b9_u32;
        for _ in 0..300 {
            let x = xorshift(&mut x);
            let piece = match x % 5 {
                0 => "é€😀".into(),
                1 => "z".repeat(x as usize % 700),
                2 => "ab".into(),
                3 => "\u{10ffff}".into(),
                _ => "xyz".repeat(x as usize % 90),
            };
            st.push_str(&piece, piece.chars().count());
            whole.push_str(&piece);
        }
        let offsets: Vec<usize> = whole
            .char_indices()
            .map(|(i, _)| i)
            .chain([whole.len()])
            .collect();
        assert_eq!(st.len as usize + 1, offsets.len());
        assert!(st.wide_blocks.len() > 10);
        for (lv, &byte) in offsets.iter().enumerate() {
            assert_eq!(st.byte_of(lv as u32), byte, "lv {lv}");
        }
        let n = offsets.len() - 1;
        for lv in (0..n).step_by(7) {
            for len in [0, 1, 2, 5, 300, 1000] {
                let len = len.min(n - lv);
                let expected = &whole[offsets[lv]..offsets[lv + len]];
                assert_eq!(st.str(lv as u32, len as u32), expected, "{lv} + {len}");
            }
        }
        let loaded = TextStore::from_string(whole.clone());
        assert_eq!(loaded.wide_blocks, st.wide_blocks);
        for (lv, &byte) in offsets.iter().enumerate() {
            assert_eq!(loaded.byte_of(lv as u32), byte, "lv {lv}");
        }
    }

    #[test]
    fn render_matches_str_in_every_offset_mode() {
        let mut x = 0x2545_f491_u32;
        let ascii = "typed text ".repeat(2000);
        let mut sparse = ascii.clone();
        sparse.insert(3000, 'é');
        sparse.insert_str(7000, "😀€");
        let dense: String = (0..4000).map(|i| ['a', 'é', 'b', '€'][i % 4]).collect();
        for (text, mode) in [(ascii, 0), (sparse, 1), (dense, 2)] {
            let st = TextStore::from_string(text);
            let n = st.len;
            // Random spans, short and long, visible or not, ending at the last item too.
            let mut spans = Vec::new();
            for _ in 0..2000 {
                let r = xorshift(&mut x);
                let len = 1 + r % if r & 1 == 0 { 20 } else { 200 };
                let lv = xorshift(&mut x) % (n - len);
                spans.push((lv, len, r & 2 == 0));
            }
            spans.push((n - 3, 3, true));
            let mut out = Vec::with_capacity(st.bytes_bound(n as usize) + COPY_BLOCK);
            let mut render = st.render(&mut out);
            let chosen = match render.offsets {
                Offsets::Ascii => 0,
                Offsets::Sparse(_) => 1,
                Offsets::Dense => 2,
            };
            assert_eq!(chosen, mode);
            let mut expected = String::new();
            for &(lv, len, visible) in &spans {
                render.span(lv, len, visible);
                if visible {
                    expected.push_str(st.str(lv, len));
                }
            }
            assert_eq!(core::str::from_utf8(&out), Ok(expected.as_str()));
        }
    }
}
