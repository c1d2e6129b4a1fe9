//! The owned values documents and updates hold: scalar [`Value`]s, [`Item`]s (a value or a
//! nested container) and container identities ([`ContainerId`], [`ContainerKind`]). They sit
//! below both the update format (`sync`) and the document (`doc`), which re-exports them.
//!
//! Invariants: every type here is owned and `'static` (no borrowed handles), so it can cross an
//! FFI boundary as is. `Value` equality, hashing and ordering are total: floats compare by
//! their bits through [`f64::total_cmp`], so `NaN == NaN` and `-0.0 != 0.0`, which is what a set
//! element or a convergence check needs.

use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::clock::Dot;

/// A scalar value stored in a map entry, list element, register or set.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Value {
    /// The null value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float (compared by bits, see the module docs).
    Float(f64),
    /// A UTF-8 string.
    Str(String),
    /// Raw bytes.
    Bytes(#[serde(with = "crate::encoding::byte_buf")] Vec<u8>),
}

impl Value {
    fn rank(&self) -> u8 {
        match self {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::Float(_) => 3,
            Value::Str(_) => 4,
            Value::Bytes(_) => 5,
        }
    }

    /// The string, if this is a [`Value::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is a [`Value::Int`].
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The boolean, if this is a [`Value::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::Float(a), Value::Float(b)) => a.total_cmp(b),
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            (Value::Bytes(a), Value::Bytes(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Float(f) => f.to_bits().hash(state),
            Value::Str(s) => s.hash(state),
            Value::Bytes(b) => b.hash(state),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.into())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}

/// The kinds of container a document holds. The numbering is part of the update format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum ContainerKind {
    /// String keys to [`Item`]s, last writer wins per key.
    Map,
    /// An ordered list of [`Item`]s.
    List,
    /// Collaborative plain text.
    Text,
    /// A signed counter (increments and decrements add up).
    Counter,
    /// One [`Value`], last writer wins.
    Register,
    /// A set of [`Value`]s, concurrent add wins over remove.
    Set,
}

impl ContainerKind {
    /// Every kind, in the order of their wire numbers (a kind's number is its place here).
    pub const ALL: [ContainerKind; 6] = [
        ContainerKind::Map,
        ContainerKind::List,
        ContainerKind::Text,
        ContainerKind::Counter,
        ContainerKind::Register,
        ContainerKind::Set,
    ];

    /// The kind's name in lower case (`"map"`, `"list"`, `"text"`, `"counter"`,
    /// `"register"`, `"set"`), as bindings and JSON views spell it.
    pub fn name(self) -> &'static str {
        match self {
            ContainerKind::Map => "map",
            ContainerKind::List => "list",
            ContainerKind::Text => "text",
            ContainerKind::Counter => "counter",
            ContainerKind::Register => "register",
            ContainerKind::Set => "set",
        }
    }
}

/// Where a container comes from: a named root, or the operation that created it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Origin {
    /// A root container, named by the 64-bit FNV-1a hash of its name.
    Root(u64),
    /// A nested container, named by the id of the operation that created it.
    Created(Dot),
}

/// A small, `Copy` handle to a container: its kind and its origin. Handles are plain data with
/// no borrow of the document, so they cross FFI boundaries and stay valid across syncs; every
/// replica names the same container with the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContainerId {
    /// What kind of container this is.
    pub kind: ContainerKind,
    /// Where it comes from.
    pub origin: Origin,
}

impl ContainerId {
    /// The root container called `name` of kind `kind`. Roots exist implicitly (empty until
    /// written) on every replica, so this needs no document.
    pub fn root(name: &str, kind: ContainerKind) -> Self {
        ContainerId {
            kind,
            origin: Origin::Root(fnv1a(name.as_bytes())),
        }
    }

    /// Whether this is a root container.
    pub fn is_root(&self) -> bool {
        matches!(self.origin, Origin::Root(_))
    }
}

/// 64-bit FNV-1a (Fowler, Noll, Vo): a stable, dependency-free hash for root names.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// What a map entry or list element holds: a scalar, or a nested container.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Item {
    /// A scalar value.
    Value(Value),
    /// A nested container (created in the same document).
    Container(ContainerId),
}

impl Item {
    /// The value, if this is a scalar.
    pub fn as_value(&self) -> Option<&Value> {
        match self {
            Item::Value(v) => Some(v),
            Item::Container(_) => None,
        }
    }

    /// The container id, if this is a nested container.
    pub fn as_container(&self) -> Option<ContainerId> {
        match self {
            Item::Container(c) => Some(*c),
            Item::Value(_) => None,
        }
    }
}

impl From<Value> for Item {
    fn from(v: Value) -> Self {
        Item::Value(v)
    }
}

// ------------------------------------------------------------------ the hand-written codec

mod codec {
    use alloc::vec::Vec;

    use super::{ContainerId, ContainerKind, Item, Origin, Value};
    use crate::clock::Dot;
    use crate::encoding::codec::{Decode, Encode, Reader, put_bytes, put_i64, put_varint};
    use crate::encoding::{DecodeError, REJECTED};

    impl Encode for Value {
        fn encode(&self, w: &mut Vec<u8>) {
            match self {
                Value::Null => w.push(0),
                Value::Bool(b) => {
                    w.push(1);
                    w.push(u8::from(*b));
                }
                Value::Int(i) => {
                    w.push(2);
                    put_i64(w, *i);
                }
                Value::Float(f) => {
                    w.push(3);
                    f.encode(w);
                }
                Value::Str(s) => {
                    w.push(4);
                    put_bytes(w, s.as_bytes());
                }
                Value::Bytes(b) => {
                    w.push(5);
                    put_bytes(w, b);
                }
            }
        }
    }

    impl Decode<'_> for Value {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(match r.variant()? {
                0 => Value::Null,
                1 => Value::Bool(r.bool()?),
                2 => Value::Int(r.i64()?),
                3 => Value::Float(f64::decode(r)?),
                4 => Value::Str(r.str()?.into()),
                5 => Value::Bytes(r.bytes()?.to_vec()),
                _ => return Err(REJECTED),
            })
        }
    }

    impl Encode for ContainerKind {
        #[inline]
        fn encode(&self, w: &mut Vec<u8>) {
            w.push(*self as u8);
        }
    }

    impl Decode<'_> for ContainerKind {
        #[inline]
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            let i = r.variant()? as usize;
            ContainerKind::ALL.get(i).copied().ok_or(REJECTED)
        }
    }

    impl Encode for Origin {
        #[inline]
        fn encode(&self, w: &mut Vec<u8>) {
            match self {
                Origin::Root(h) => {
                    w.push(0);
                    put_varint(w, *h);
                }
                Origin::Created(d) => {
                    w.push(1);
                    d.encode(w);
                }
            }
        }
    }

    impl Decode<'_> for Origin {
        #[inline]
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(match r.variant()? {
                0 => Origin::Root(r.u64()?),
                1 => Origin::Created(Dot::decode(r)?),
                _ => return Err(REJECTED),
            })
        }
    }

    impl Encode for ContainerId {
        #[inline]
        fn encode(&self, w: &mut Vec<u8>) {
            self.kind.encode(w);
            self.origin.encode(w);
        }
    }

    impl Decode<'_> for ContainerId {
        #[inline]
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(ContainerId {
                kind: ContainerKind::decode(r)?,
                origin: Origin::decode(r)?,
            })
        }
    }

    impl Encode for Item {
        fn encode(&self, w: &mut Vec<u8>) {
            match self {
                Item::Value(v) => {
                    w.push(0);
                    v.encode(w);
                }
                Item::Container(c) => {
                    w.push(1);
                    c.encode(w);
                }
            }
        }
    }

    impl Decode<'_> for Item {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(match r.variant()? {
                0 => Item::Value(Value::decode(r)?),
                1 => Item::Container(ContainerId::decode(r)?),
                _ => return Err(REJECTED),
            })
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::clock::ReplicaId;
    use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};

    /// Any value, edge cases weighted in.
    pub(crate) fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -2i64..2]
                .prop_map(Value::Int),
            any::<f64>().prop_map(Value::Float),
            ".{0,12}".prop_map(Value::Str),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Bytes),
        ]
    }

    /// Any container id.
    pub(crate) fn container_id() -> impl Strategy<Value = ContainerId> {
        let kind = proptest::sample::select(ContainerKind::ALL.to_vec());
        let origin = prop_oneof![
            any::<u64>().prop_map(Origin::Root),
            (any::<u64>(), any::<u64>())
                .prop_map(|(r, c)| Origin::Created(Dot::new(ReplicaId(r), c))),
        ];
        (kind, origin).prop_map(|(kind, origin)| ContainerId { kind, origin })
    }

    /// Any item.
    pub(crate) fn item() -> impl Strategy<Value = Item> {
        prop_oneof![
            value().prop_map(Item::Value),
            container_id().prop_map(Item::Container),
        ]
    }

    #[test]
    fn codec_matches_serde() {
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(0),
            Value::Int(-1),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(-0.0),
            Value::Float(f64::NAN),
            Value::Float(f64::MAX),
            Value::Str(String::new()),
            Value::Str("日本語 ✓ 🦀".into()),
            Value::Bytes(Vec::new()),
            Value::Bytes(vec![0, 255, 128]),
        ];
        for v in &values {
            assert_same_as_serde(v);
            assert_same_as_serde(&Item::Value(v.clone()));
        }
        assert_same_as_serde(&values.to_vec());
        for kind in [ContainerKind::Map, ContainerKind::Set] {
            for origin in [
                Origin::Root(0),
                Origin::Root(u64::MAX),
                Origin::Created(Dot::new(ReplicaId(u64::MAX), 0)),
            ] {
                let id = ContainerId { kind, origin };
                assert_same_as_serde(&kind);
                assert_same_as_serde(&origin);
                assert_same_as_serde(&id);
                assert_same_as_serde(&Item::Container(id));
            }
        }
        // Unknown variants, a bad bool, invalid UTF-8, a byte string cut short.
        for bytes in [
            &[6][..],
            &[1, 2],
            &[4, 2, 0xc3, 0x28],
            &[5, 3, 1],
            &[0x80, 0x80, 0x80, 0x80, 0x10],
        ] {
            assert_decodes_same::<Value>(bytes, &[0, 1]);
            assert_decodes_same::<Item>(bytes, &[0, 1]);
            assert_decodes_same::<ContainerId>(bytes, &[0]);
        }
    }

    proptest! {
        #[test]
        fn codec_matches_serde_on_any_item(it in item(), items in proptest::collection::vec(item(), 0..5)) {
            assert_same_as_serde(&it);
            assert_same_as_serde(&items);
        }
    }
}
