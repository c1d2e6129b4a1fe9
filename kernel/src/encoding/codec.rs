//! A hand-written postcard codec: [`Encode`] / [`Decode`] impls write and read exactly the
//! bytes serde + postcard write and read, through one non-generic [`Reader`], so the paths
//! that use it compile no serde code.
//!
//! What it reproduces, byte for byte (see `docs/wire-format.md`): unsigned integers as LEB128
//! varints (`u8` as a raw byte), signed ones zigzagged first, `f64` as 8 little-endian bytes,
//! `bool` and `Option` tags as a 0/1 byte, strings, byte strings and sequences behind a
//! varint length, enum variants as a varint index, structs and tuples as their fields in order.
//!
//! And what the metering layer (`meter`) does on the serde path, so decoding reports the same
//! result for the same input, budget included:
//!
//! * a length prefix buys at most [`MAX_PREALLOC`] preallocated elements, and none if it claims
//!   more elements than there are input bytes left;
//! * each sequence element is charged [`element_cost`] of its in-memory size: the elements a
//!   believable length prefix announces all at once, right after the first one is read (when
//!   serde's impls have preallocated them), otherwise each after it is read; string and byte
//!   string bytes are charged their length. A charge over the limit is
//!   [`DecodeError::BudgetExceeded`];
//! * errors map as postcard's do: input ending early is `UnexpectedEnd`; a bad varint, bool,
//!   option tag or UTF-8 string is `Malformed`; an unknown enum variant or a value's own failed
//!   check is [`REJECTED`](super::REJECTED) (postcard keeps no message for serde's `custom` errors).
//!
//! Invariant: for every type with both impls, `encode` writes what `postcard::to_allocvec`
//! writes, and `decode` returns what the serde path returns (the tests of each impl prove it
//! with `assert_same_as_serde` in their tests).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem::size_of;

use super::DecodeError;
use super::limits::MAX_PREALLOC;
use super::meter::element_cost;
pub(crate) use super::varint::put_varint;

/// A value with a postcard encoding written by hand.
pub(crate) trait Encode {
    /// Appends the value's encoding to `w`.
    fn encode(&self, w: &mut Vec<u8>);
}

/// A value read back from its postcard encoding, possibly borrowing from the input.
pub(crate) trait Decode<'a>: Sized {
    /// Reads one value from `r`.
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError>;
}

/// The input of one decode: the bytes left, and the heap bytes charged against a limit.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    charged: usize,
    limit: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `input` that may charge at most `limit` bytes.
    #[inline]
    pub(crate) fn new(input: &'a [u8], limit: usize) -> Self {
        Self {
            rest: input,
            charged: 0,
            limit,
        }
    }

    /// Bytes charged so far.
    #[inline]
    pub(crate) fn charged(&self) -> usize {
        self.charged
    }

    /// Ends the decode: [`DecodeError::TrailingBytes`] if input is left.
    #[inline]
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count }),
        }
    }

    /// Charges `bytes` to the limit.
    #[inline]
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), DecodeError> {
        let total = self.charged.saturating_add(bytes);
        if total > self.limit {
            return Err(DecodeError::BudgetExceeded);
        }
        self.charged = total;
        Ok(())
    }

    /// One raw byte.
    #[inline]
    pub(crate) fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self.rest.split_first().ok_or(DecodeError::UnexpectedEnd)?;
        self.rest = rest;
        Ok(b)
    }

    /// The next `n` bytes.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::UnexpectedEnd);
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    /// A varint of at most `bits` bits, as postcard reads one: `UnexpectedEnd` if the input
    /// stops inside it, `Malformed` if it runs past the type's last byte or that byte holds
    /// bits the type has not. Overlong forms are accepted, as postcard accepts them.
    #[inline]
    fn varint(&mut self, bits: u32) -> Result<u64, DecodeError> {
        let max_bytes = bits.div_ceil(7);
        let last_max = (1u8 << (bits % 7)).wrapping_sub(1);
        let mut v = 0u64;
        for i in 0..max_bytes {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                if i == max_bytes - 1 && b > last_max {
                    return Err(DecodeError::Malformed);
                }
                return Ok(v);
            }
        }
        Err(DecodeError::Malformed)
    }

    /// A `u64` varint.
    #[inline]
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        self.varint(64)
    }

    /// A `u32` varint.
    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.varint(32).map(|v| v as u32)
    }

    /// A `u16` varint.
    #[inline]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.varint(16).map(|v| v as u16)
    }

    /// A zigzagged `i64` varint.
    #[inline]
    pub(crate) fn i64(&mut self) -> Result<i64, DecodeError> {
        let n = self.u64()?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// A length prefix: a `usize` varint (so 5 bytes at most on 32-bit targets, as postcard).
    #[inline]
    pub(crate) fn len(&mut self) -> Result<usize, DecodeError> {
        self.varint(usize::BITS).map(|v| v as usize)
    }

    /// An enum's variant index.
    #[inline]
    pub(crate) fn variant(&mut self) -> Result<u32, DecodeError> {
        self.u32()
    }

    /// A `bool`: one byte, 0 or 1.
    #[inline]
    pub(crate) fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError::Malformed),
        }
    }

    /// A string, borrowed from the input and charged its length.
    #[inline]
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        let s = core::str::from_utf8(bytes).map_err(|_| DecodeError::Malformed)?;
        self.charge(n)?;
        Ok(s)
    }

    /// A byte string, borrowed from the input and charged its length.
    #[inline]
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.len()?;
        let bytes = self.take(n)?;
        self.charge(n)?;
        Ok(bytes)
    }

    /// Starts a sequence of elements `elem_size` bytes wide in memory: reads its length.
    #[inline]
    pub(crate) fn seq(&mut self, elem_size: usize) -> Result<Seq, DecodeError> {
        let len = self.len()?;
        // postcard withholds a hint longer than the input left; the meter clamps the rest.
        let hint = if len <= self.rest.len() { len } else { 0 };
        Ok(Seq {
            left: len,
            hint,
            cost: element_cost(elem_size),
            seen: 0,
        })
    }

    /// A sequence of `T`, each read by `elem` and charged as a `T`.
    #[inline]
    pub(crate) fn vec_with<T>(
        &mut self,
        mut elem: impl FnMut(&mut Self) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let mut seq = self.seq(size_of::<T>())?;
        let mut out = Vec::with_capacity(seq.capacity());
        while seq.next() {
            out.push(elem(self)?);
            seq.charge(self)?;
        }
        Ok(out)
    }
}

/// A sequence being read: call [`next`](Seq::next) before each element and
/// [`charge`](Seq::charge) right after it (before checking it, which is the serde order).
pub(crate) struct Seq {
    left: usize,
    hint: usize,
    cost: usize,
    seen: usize,
}

impl Seq {
    /// Elements to preallocate: the believable length, at most [`MAX_PREALLOC`].
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.hint.min(MAX_PREALLOC)
    }

    /// Whether another element follows (and counts it).
    #[inline]
    pub(crate) fn next(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }

    /// Charges the element just read.
    #[inline]
    pub(crate) fn charge(&mut self, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        if self.seen == 0 {
            r.charge(self.hint.saturating_mul(self.cost))?;
        }
        if self.seen >= self.hint {
            r.charge(self.cost)?;
        }
        self.seen += 1;
        Ok(())
    }
}

/// Appends a zigzagged `i64` varint.
#[inline]
pub(crate) fn put_i64(w: &mut Vec<u8>, v: i64) {
    put_varint(w, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends a length prefix.
#[inline]
pub(crate) fn put_len(w: &mut Vec<u8>, n: usize) {
    put_varint(w, n as u64);
}

/// Appends a length-prefixed byte string (a string's UTF-8 too).
#[inline]
pub(crate) fn put_bytes(w: &mut Vec<u8>, b: &[u8]) {
    put_len(w, b.len());
    w.extend_from_slice(b);
}

/// Decodes a whole payload: the value, then no byte left. Returns the value and the bytes
/// charged.
pub(crate) fn decode_all<'a, T: Decode<'a>>(
    payload: &'a [u8],
    limit: usize,
) -> Result<(T, usize), DecodeError> {
    let mut r = Reader::new(payload, limit);
    let value = T::decode(&mut r)?;
    r.finish()?;
    Ok((value, r.charged()))
}

/// The encoding of `value` in a fresh buffer.
#[cfg(test)]
pub(crate) fn to_vec<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
    let mut w = Vec::new();
    value.encode(&mut w);
    w
}

// ------------------------------------------------------------------ primitives and containers

impl Encode for u8 {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        w.push(*self);
    }
}

impl Decode<'_> for u8 {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.byte()
    }
}

impl Encode for u16 {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        put_varint(w, u64::from(*self));
    }
}

impl Decode<'_> for u16 {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u16()
    }
}

impl Encode for u32 {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        put_varint(w, u64::from(*self));
    }
}

impl Decode<'_> for u32 {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u32()
    }
}

impl Encode for u64 {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        put_varint(w, *self);
    }
}

impl Decode<'_> for u64 {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.u64()
    }
}

impl Encode for i64 {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        put_i64(w, *self);
    }
}

impl Decode<'_> for i64 {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.i64()
    }
}

impl Encode for f64 {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        w.extend_from_slice(&self.to_bits().to_le_bytes());
    }
}

impl Decode<'_> for f64 {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let b = r.take(8)?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        Ok(f64::from_bits(u64::from_le_bytes(raw)))
    }
}

impl Encode for bool {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        w.push(u8::from(*self));
    }
}

impl Decode<'_> for bool {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.bool()
    }
}

impl Encode for str {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        put_bytes(w, self.as_bytes());
    }
}

impl Encode for String {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        put_bytes(w, self.as_bytes());
    }
}

impl Decode<'_> for String {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.str().map(String::from)
    }
}

impl<'a> Decode<'a> for &'a str {
    #[inline]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.str()
    }
}

/// A byte string borrowed from the input (serde's `&[u8]`; encoded by the `[T]` impl, whose
/// bytes for `u8` are the same).
impl<'a> Decode<'a> for &'a [u8] {
    #[inline]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.bytes()
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        (**self).encode(w);
    }
}

impl<T: Encode> Encode for [T] {
    fn encode(&self, w: &mut Vec<u8>) {
        put_len(w, self.len());
        for x in self {
            x.encode(w);
        }
    }
}

impl<T: Encode> Encode for Vec<T> {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        self.as_slice().encode(w);
    }
}

impl<'a, T: Decode<'a>> Decode<'a> for Vec<T> {
    #[inline]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        r.vec_with(T::decode)
    }
}

impl<T: Encode> Encode for Option<T> {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        match self {
            None => w.push(0),
            Some(x) => {
                w.push(1);
                x.encode(w);
            }
        }
    }
}

impl<'a, T: Decode<'a>> Decode<'a> for Option<T> {
    #[inline]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        match r.byte()? {
            0 => Ok(None),
            1 => T::decode(r).map(Some),
            _ => Err(DecodeError::Malformed),
        }
    }
}

impl<T: Encode + ?Sized> Encode for Box<T> {
    #[inline]
    fn encode(&self, w: &mut Vec<u8>) {
        (**self).encode(w);
    }
}

impl<'a, T: Decode<'a>> Decode<'a> for Box<T> {
    #[inline]
    fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        T::decode(r).map(Box::new)
    }
}

macro_rules! tuple {
    ($($t:ident $i:tt),+) => {
        impl<$($t: Encode),+> Encode for ($($t,)+) {
            #[inline]
            fn encode(&self, w: &mut Vec<u8>) {
                $(self.$i.encode(w);)+
            }
        }

        impl<'a, $($t: Decode<'a>),+> Decode<'a> for ($($t,)+) {
            #[inline]
            fn decode(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
                Ok(($($t::decode(r)?,)+))
            }
        }
    };
}

tuple!(A 0, B 1);
tuple!(A 0, B 1, C 2);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use core::fmt::Debug;
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    /// What a decode gave: the value and the bytes charged, or the error.
    type Outcome<T> = Result<(T, usize), DecodeError>;

    fn both<T>(bytes: &[u8], limit: usize) -> (Outcome<T>, Outcome<T>)
    where
        T: DeserializeOwned + for<'a> Decode<'a>,
    {
        let serde = super::super::decode_payload::<T>(bytes, limit);
        let codec = decode_all::<T>(bytes, limit);
        (serde, codec)
    }

    /// Asserts that the codec and serde + postcard agree on `bytes`: the same value and
    /// charge, or the same error, under an unlimited budget and under `limits`.
    pub(crate) fn assert_decodes_same<T>(bytes: &[u8], limits: &[usize])
    where
        T: DeserializeOwned + for<'a> Decode<'a> + PartialEq + Debug,
    {
        for &limit in [usize::MAX].iter().chain(limits) {
            let (serde, codec) = both::<T>(bytes, limit);
            assert_eq!(codec, serde, "bytes {bytes:02x?}, limit {limit}");
        }
    }

    /// The proof an impl owes: `value`'s codec bytes are postcard's, and decoding agrees with
    /// the serde path on those bytes, on every truncation of them, on single-byte corruptions
    /// and with budgets just short of what decoding charges.
    pub(crate) fn assert_same_as_serde<T>(value: &T)
    where
        T: Encode + Serialize + DeserializeOwned + for<'a> Decode<'a> + PartialEq + Debug,
    {
        let want = postcard::to_allocvec(value).expect("postcard encodes");
        let got = to_vec(value);
        assert_eq!(got, want, "encoding of {value:?}");
        let (serde, _) = both::<T>(&want, usize::MAX);
        let charged = serde.as_ref().map(|(_, c)| *c).unwrap_or(0);
        assert_eq!(serde.as_ref().map(|(v, _)| v), Ok(value), "round trip");
        let limits = [0, charged / 2, charged.saturating_sub(1), charged];
        assert_decodes_same::<T>(&want, &limits);
        for cut in 0..want.len() {
            assert_decodes_same::<T>(&want[..cut], &[]);
        }
        let mut longer = want.clone();
        longer.push(0);
        assert_decodes_same::<T>(&longer, &[]);
        // Corruptions: a few values at each position (all positions of short encodings).
        let step = (want.len() / 64).max(1);
        for at in (0..want.len()).step_by(step) {
            for v in [
                0x00,
                0x01,
                0x02,
                0x7f,
                0x80,
                0xff,
                want[at] ^ 0x01,
                want[at] ^ 0x40,
            ] {
                let mut bad = want.clone();
                bad[at] = v;
                assert_decodes_same::<T>(&bad, &[charged / 2]);
            }
        }
    }

    /// The proof the envelope's codec twins owe for a `T`: [`encode_codec`] writes what
    /// [`encode`] writes for `value`, and [`decode_codec`] returns what [`decode`] returns on
    /// those bytes, on every truncation, on corruptions of every header byte and of payload
    /// bytes, and on envelopes made wrong on purpose (magic, version, tag, length field).
    ///
    /// [`encode`]: super::super::encode
    /// [`decode`]: super::super::decode
    /// [`encode_codec`]: super::super::encode_codec
    /// [`decode_codec`]: super::super::decode_codec
    pub(crate) fn assert_envelope_same_as_serde<T>(value: &T)
    where
        T: Encode + super::super::WireType + for<'a> Decode<'a> + PartialEq + Debug,
    {
        use super::super::{FORMAT_VERSION, MAGIC, decode, decode_codec, encode, encode_codec};

        let want = encode(value);
        assert_eq!(encode_codec(value), want, "envelope of {value:?}");
        assert_eq!(decode_codec::<T>(&want).as_ref(), Ok(value), "round trip");
        let same = |bytes: &[u8]| {
            assert_eq!(
                decode_codec::<T>(bytes),
                decode::<T>(bytes),
                "bytes {bytes:02x?}"
            );
        };
        same(&want);
        for cut in 0..want.len() {
            same(&want[..cut]);
        }
        let mut longer = want.clone();
        longer.push(0);
        same(&longer);
        let payload = super::super::open_envelope(&want, T::TAG)
            .expect("encode writes a valid envelope")
            .to_vec();
        let header = want.len() - payload.len();
        // Every header byte, and payload bytes (all of a short one).
        let step = (payload.len() / 64).max(1);
        let at = (0..header).chain((header..want.len()).step_by(step));
        for at in at {
            for v in [0x00, 0x01, 0x02, 0x0f, 0x7f, 0x80, 0xff, want[at] ^ 0x01] {
                let mut bad = want.clone();
                bad[at] = v;
                same(&bad);
            }
        }
        // Envelopes around the payload with a given version, tag and length field.
        let wrap = |version: u8, tag: u8, len: &[u8]| {
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&[version, tag]);
            b.extend_from_slice(len);
            b.extend_from_slice(&payload);
            b
        };
        let mut len = Vec::new();
        put_len(&mut len, payload.len());
        let tag = T::TAG.as_u8();
        // Overlong length (continued into a zero byte), one too long, one too short, and six
        // varint bytes.
        let mut overlong = len.clone();
        *overlong.last_mut().expect("a varint has a byte") |= 0x80;
        overlong.push(0);
        let mut more = Vec::new();
        put_len(&mut more, payload.len() + 1);
        let mut less = Vec::new();
        put_len(&mut less, payload.len().saturating_sub(1));
        for bad in [
            wrap(FORMAT_VERSION, tag, &len),
            wrap(FORMAT_VERSION + 1, tag, &len),
            wrap(0, tag, &len),
            wrap(FORMAT_VERSION, tag ^ 0x40, &len),
            wrap(FORMAT_VERSION, tag, &overlong),
            wrap(FORMAT_VERSION, tag, &more),
            wrap(FORMAT_VERSION, tag, &less),
            wrap(FORMAT_VERSION, tag, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]),
            wrap(FORMAT_VERSION, tag, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
            b"CVH".to_vec(),
            b"CV".to_vec(),
            b"XY".to_vec(),
            Vec::new(),
        ] {
            same(&bad);
        }
    }

    #[test]
    fn primitives_match_postcard() {
        for v in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            assert_same_as_serde(&v);
            assert_same_as_serde(&(v as u32));
            assert_same_as_serde(&(v as u16));
            assert_same_as_serde(&(v as u8));
        }
        for v in [0i64, 1, -1, 63, -64, 64, i64::MIN, i64::MAX] {
            assert_same_as_serde(&v);
        }
        // Floats by their bits (a corrupted one may be a NaN, which `==` would not match).
        for v in [
            0.0f64,
            -0.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE,
        ] {
            let bytes = postcard::to_allocvec(&v).unwrap();
            assert_eq!(to_vec(&v), bytes);
            for cut in 0..=bytes.len() {
                let (serde, codec) = both::<f64>(&bytes[..cut], usize::MAX);
                let bits = |o: Outcome<f64>| o.map(|(f, c)| (f.to_bits(), c));
                assert_eq!(bits(codec), bits(serde));
            }
        }
        assert_same_as_serde(&true);
        assert_same_as_serde(&false);
    }

    #[test]
    fn containers_match_postcard() {
        assert_same_as_serde(&String::new());
        assert_same_as_serde(&String::from("héllo, wörld ✓ 🦀"));
        assert_same_as_serde(&Vec::<u64>::new());
        assert_same_as_serde(&alloc::vec![0u64, 1, u64::MAX, 300]);
        assert_same_as_serde(&alloc::vec![String::from("a"), String::new(), "€".into()]);
        assert_same_as_serde(&Some(5u64));
        assert_same_as_serde(&None::<u64>);
        assert_same_as_serde(&Box::new(7u64));
        assert_same_as_serde(&(1u64, String::from("x"), Some(-3i64)));
        assert_same_as_serde(&alloc::vec![(1u64, true), (2, false)]);
        assert_same_as_serde(&alloc::vec![
            alloc::vec![1u64],
            alloc::vec![],
            alloc::vec![2, 3]
        ]);
    }

    #[test]
    fn hostile_inputs_match_serde() {
        // Overlong and overflowing varints, bad bool/option tags, invalid UTF-8, huge lengths.
        let cases: &[&[u8]] = &[
            &[0x80, 0x00],
            &[0xff; 10],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            &[0xff, 0xff, 0xff, 0xff, 0x0f],
            &[0xff, 0xff, 0xff, 0xff, 0x10],
            &[0xff, 0xff, 0x03],
            &[0xff, 0xff, 0x04],
            &[0x02],
            &[0x02, 0xc3, 0x28],
            &[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2],
            &[0x05, 0x01],
        ];
        for bytes in cases {
            assert_decodes_same::<u64>(bytes, &[0, 4]);
            assert_decodes_same::<u32>(bytes, &[0, 4]);
            assert_decodes_same::<u16>(bytes, &[0, 4]);
            assert_decodes_same::<i64>(bytes, &[0, 4]);
            assert_decodes_same::<bool>(bytes, &[0, 4]);
            assert_decodes_same::<Option<u8>>(bytes, &[0, 4]);
            assert_decodes_same::<String>(bytes, &[0, 1, 4]);
            assert_decodes_same::<Vec<u8>>(bytes, &[0, 4, 8, 100]);
            assert_decodes_same::<Vec<u64>>(bytes, &[0, 4, 8, 100]);
            assert_decodes_same::<(u8, u8)>(bytes, &[0]);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_decode_the_same(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..24)) {
            assert_decodes_same::<Vec<u64>>(&bytes, &[0, 10, 40]);
            assert_decodes_same::<(String, Option<i64>)>(&bytes, &[0, 3]);
            assert_decodes_same::<Vec<(u64, bool)>>(&bytes, &[0, 21, 60]);
        }

        #[test]
        fn arbitrary_values_encode_the_same(v in proptest::collection::vec((proptest::prelude::any::<u64>(), proptest::prelude::any::<i64>(), ".*"), 0..6)) {
            assert_same_as_serde(&v);
        }
    }
}
