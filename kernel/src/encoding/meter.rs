//! A metering layer between postcard and `Deserialize` impls: it caps what a length prefix can
//! make an impl preallocate, and charges every container element and string byte to a limit.
//!
//! Why a layer and not a rule for impls to follow: the wire carries application types and
//! std/hashbrown containers whose `Deserialize` impls the kernel does not write. serde's `Vec`
//! preallocates up to 1 MiB and hashbrown's maps up to 4096 entries on the word of a length
//! prefix; postcard withholds the hint for a sequence longer than the remaining input, but not
//! for a map. This layer clamps every size hint (sequence and map) to the number of input bytes
//! left, so no impl that trusts hints can preallocate more elements than there are bytes.
//!
//! Charging: for sequences and maps (the `deserialize_seq` / `deserialize_map` shapes, which
//! are how every growable container asks for its contents) each element is charged
//! [`element_cost`] of its in-memory size, except those covered by the (clamped) hint, which
//! are charged up front as the preallocation they may cause. Strings and byte strings are
//! charged their length. Tuples, structs and enums are inline and charged nothing. The total is
//! an upper bound on the heap held by `Vec`-, `String`- and hashbrown-backed containers built by
//! impls that allocate only through them; heap reached through `Box`/`Rc` is not seen.

use alloc::rc::Rc;
use core::cell::Cell;
use core::fmt;
use core::mem::size_of;

use postcard::de_flavors::Flavor;
use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// Shared state of one decode: the input left, the bytes charged, and the limit.
pub(super) struct Meter {
    /// Shared with the input flavor ([`Tracked`]), which may outlive the meter: the decoded
    /// value may borrow from the input, whose lifetime the flavor carries.
    remaining: Rc<Cell<usize>>,
    charged: Cell<usize>,
    limit: usize,
    exceeded: Cell<bool>,
}

impl Meter {
    pub(super) fn new(input: usize, limit: usize) -> Self {
        Self {
            remaining: Rc::new(Cell::new(input)),
            charged: Cell::new(0),
            limit,
            exceeded: Cell::new(false),
        }
    }

    /// Bytes charged so far.
    pub(super) fn charged(&self) -> usize {
        self.charged.get()
    }

    /// Whether a charge went over the limit (the decode error then means "budget").
    pub(super) fn exceeded(&self) -> bool {
        self.exceeded.get()
    }

    fn charge<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        let total = self.charged.get().saturating_add(bytes);
        if total > self.limit {
            self.exceeded.set(true);
            return Err(E::custom("decoding budget exceeded"));
        }
        self.charged.set(total);
        Ok(())
    }

    /// A size hint no larger than the input left (each element takes at least one byte).
    fn clamp(&self, hint: Option<usize>) -> Option<usize> {
        hint.map(|h| h.min(self.remaining.get()))
    }
}

/// Heap bytes charged per container element of `size` bytes: `5/2 × size + 2`.
///
/// A `Vec` grown by doubling is at least half full, so it holds at most `2 × size` per element.
/// A hashbrown table is at most 7/8 full and doubles, so at most `16/7 × (size + 1)` (one
/// control byte per bucket). `5/2 × size + 2` covers both.
#[inline]
pub(super) const fn element_cost(size: usize) -> usize {
    size.saturating_mul(5) / 2 + 2
}

/// A postcard input flavor over a slice that reports how much input is left to the meter.
pub(super) struct Tracked<'a> {
    rest: &'a [u8],
    remaining: Rc<Cell<usize>>,
}

impl<'a> Tracked<'a> {
    pub(super) fn new(input: &'a [u8], meter: &Meter) -> Self {
        meter.remaining.set(input.len());
        Self {
            rest: input,
            remaining: Rc::clone(&meter.remaining),
        }
    }
}

impl<'a> Flavor<'a> for Tracked<'a> {
    type Remainder = &'a [u8];
    type Source = &'a [u8];

    #[inline]
    fn pop(&mut self) -> postcard::Result<u8> {
        let (&b, rest) = self
            .rest
            .split_first()
            .ok_or(postcard::Error::DeserializeUnexpectedEnd)?;
        self.rest = rest;
        self.remaining.set(rest.len());
        Ok(b)
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        Some(self.rest.len())
    }

    #[inline]
    fn try_take_n(&mut self, ct: usize) -> postcard::Result<&'a [u8]> {
        if ct > self.rest.len() {
            return Err(postcard::Error::DeserializeUnexpectedEnd);
        }
        let (taken, rest) = self.rest.split_at(ct);
        self.rest = rest;
        self.remaining.set(rest.len());
        Ok(taken)
    }

    fn finalize(self) -> postcard::Result<&'a [u8]> {
        Ok(self.rest)
    }
}

/// Whether a visitor receives the contents of a growable container (charged) or of an inline
/// aggregate (free).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Container,
    Inline,
}

/// The metering deserializer: forwards every request to `de`, wrapping the visitor.
pub(super) struct Metered<'m, D> {
    pub(super) de: D,
    pub(super) meter: &'m Meter,
}

struct Wrap<'m, V> {
    v: V,
    meter: &'m Meter,
    shape: Shape,
}

impl<'m, V> Wrap<'m, V> {
    fn new(v: V, meter: &'m Meter, shape: Shape) -> Self {
        Self { v, meter, shape }
    }
}

macro_rules! forward_plain {
    ($($method:ident)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method(Wrap::new(visitor, self.meter, Shape::Inline))
        }
    )*};
}

impl<'de, 'm, D: Deserializer<'de>> Deserializer<'de> for Metered<'m, D> {
    type Error = D::Error;

    forward_plain! {
        deserialize_any deserialize_bool
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf
        deserialize_option deserialize_unit deserialize_identifier deserialize_ignored_any
    }

    #[inline]
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_unit_struct(name, Wrap::new(visitor, self.meter, Shape::Inline))
    }

    #[inline]
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_newtype_struct(name, Wrap::new(visitor, self.meter, Shape::Inline))
    }

    #[inline]
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_seq(Wrap::new(visitor, self.meter, Shape::Container))
    }

    #[inline]
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_tuple(len, Wrap::new(visitor, self.meter, Shape::Inline))
    }

    #[inline]
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_tuple_struct(name, len, Wrap::new(visitor, self.meter, Shape::Inline))
    }

    #[inline]
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_map(Wrap::new(visitor, self.meter, Shape::Container))
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de
            .deserialize_struct(name, fields, Wrap::new(visitor, self.meter, Shape::Inline))
    }

    #[inline]
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.de.deserialize_enum(
            name,
            variants,
            Wrap::new(visitor, self.meter, Shape::Inline),
        )
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident: $ty:ty)*) => {$(
        #[inline]
        fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.v.$method(v)
        }
    )*};
}

impl<'de, 'm, V: Visitor<'de>> Visitor<'de> for Wrap<'m, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.v.expecting(f)
    }

    forward_visit! {
        visit_bool: bool
        visit_i8: i8 visit_i16: i16 visit_i32: i32 visit_i64: i64 visit_i128: i128
        visit_u8: u8 visit_u16: u16 visit_u32: u32 visit_u64: u64 visit_u128: u128
        visit_f32: f32 visit_f64: f64 visit_char: char
    }

    // A visitor handed a string may copy it into a `String` of exactly that length.
    #[inline]
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.meter.charge(v.len())?;
        self.v.visit_str(v)
    }

    #[inline]
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.meter.charge(v.len())?;
        self.v.visit_borrowed_str(v)
    }

    #[inline]
    fn visit_string<E: de::Error>(self, v: alloc::string::String) -> Result<Self::Value, E> {
        self.meter.charge(v.len())?;
        self.v.visit_string(v)
    }

    #[inline]
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
        self.meter.charge(v.len())?;
        self.v.visit_bytes(v)
    }

    #[inline]
    fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
        self.meter.charge(v.len())?;
        self.v.visit_borrowed_bytes(v)
    }

    #[inline]
    fn visit_byte_buf<E: de::Error>(self, v: alloc::vec::Vec<u8>) -> Result<Self::Value, E> {
        self.meter.charge(v.len())?;
        self.v.visit_byte_buf(v)
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.v.visit_none()
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.v.visit_some(Metered {
            de: d,
            meter: self.meter,
        })
    }

    #[inline]
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.v.visit_unit()
    }

    #[inline]
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.v.visit_newtype_struct(Metered {
            de: d,
            meter: self.meter,
        })
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.v.visit_seq(Elements::new(seq, self.meter, self.shape))
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.v.visit_map(Elements::new(map, self.meter, self.shape))
    }

    #[inline]
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.v.visit_enum(Variant {
            inner: data,
            meter: self.meter,
        })
    }
}

/// Wraps a seed so whatever it deserializes is metered too.
struct Seed<'m, S> {
    seed: S,
    meter: &'m Meter,
}

impl<'de, 'm, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'m, S> {
    type Value = S::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Metered {
            de: d,
            meter: self.meter,
        })
    }
}

/// The elements of a sequence or the entries of a map.
struct Elements<'m, A> {
    inner: A,
    meter: &'m Meter,
    charged: bool,
    /// The clamped hint handed out before the first element: the preallocation it may cause
    /// is charged with the first element (key, value), after which that many are free.
    hint: Cell<usize>,
    /// Sequence elements or map keys read so far.
    keys: usize,
    /// Map values read so far.
    values: usize,
}

#[derive(Clone, Copy)]
enum Slot {
    Key,
    Value,
}

impl<'m, A> Elements<'m, A> {
    fn new(inner: A, meter: &'m Meter, shape: Shape) -> Self {
        Self {
            inner,
            meter,
            charged: shape == Shape::Container,
            hint: Cell::new(0),
            keys: 0,
            values: 0,
        }
    }

    /// Charges for one more element (or key, or value) of type `T`.
    fn charge<T, E: de::Error>(&mut self, slot: Slot) -> Result<(), E> {
        if !self.charged {
            return Ok(());
        }
        let cost = element_cost(size_of::<T>());
        let hint = self.hint.get();
        let seen = match slot {
            Slot::Key => &mut self.keys,
            Slot::Value => &mut self.values,
        };
        if *seen == 0 {
            self.meter.charge(hint.saturating_mul(cost))?;
        }
        if *seen >= hint {
            self.meter.charge(cost)?;
        }
        *seen += 1;
        Ok(())
    }

    fn clamped_hint(&self, hint: Option<usize>) -> Option<usize> {
        let hint = self.meter.clamp(hint);
        if self.keys == 0 && self.values == 0 {
            self.hint.set(hint.unwrap_or(0));
        }
        hint
    }
}

impl<'de, 'm, A: SeqAccess<'de>> SeqAccess<'de> for Elements<'m, A> {
    type Error = A::Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let next = self.inner.next_element_seed(Seed {
            seed,
            meter: self.meter,
        })?;
        if next.is_some() {
            self.charge::<T::Value, A::Error>(Slot::Key)?;
        }
        Ok(next)
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.clamped_hint(self.inner.size_hint())
    }
}

impl<'de, 'm, A: MapAccess<'de>> MapAccess<'de> for Elements<'m, A> {
    type Error = A::Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let key = self.inner.next_key_seed(Seed {
            seed,
            meter: self.meter,
        })?;
        if key.is_some() {
            self.charge::<K::Value, A::Error>(Slot::Key)?;
        }
        Ok(key)
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let value = self.inner.next_value_seed(Seed {
            seed,
            meter: self.meter,
        })?;
        self.charge::<V::Value, A::Error>(Slot::Value)?;
        Ok(value)
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.clamped_hint(self.inner.size_hint())
    }
}

/// An enum's variant access, metered.
struct Variant<'m, A> {
    inner: A,
    meter: &'m Meter,
}

impl<'de, 'm, A: EnumAccess<'de>> EnumAccess<'de> for Variant<'m, A> {
    type Error = A::Error;
    type Variant = Variant<'m, A::Variant>;

    #[inline]
    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), A::Error> {
        let (value, variant) = self.inner.variant_seed(Seed {
            seed,
            meter: self.meter,
        })?;
        Ok((
            value,
            Variant {
                inner: variant,
                meter: self.meter,
            },
        ))
    }
}

impl<'de, 'm, A: VariantAccess<'de>> VariantAccess<'de> for Variant<'m, A> {
    type Error = A::Error;

    #[inline]
    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    #[inline]
    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.newtype_variant_seed(Seed {
            seed,
            meter: self.meter,
        })
    }

    #[inline]
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner
            .tuple_variant(len, Wrap::new(visitor, self.meter, Shape::Inline))
    }

    #[inline]
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .struct_variant(fields, Wrap::new(visitor, self.meter, Shape::Inline))
    }
}
