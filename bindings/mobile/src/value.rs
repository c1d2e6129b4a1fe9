//! Values, container ids and read-only trees, converted between the kernel's types and
//! uniffi records and enums.
//!
//! Variant names avoid `Map`, `List` and `Value` inside enums that also carry those types,
//! because a nested Kotlin class of that name would shadow the type in the generated code.

use std::collections::HashMap;
use std::sync::Arc;

use converge::doc::{self as k};
use converge::{Dot, ReplicaId};

use crate::containers::{DocCounter, DocList, DocMap, DocRegister, DocSet, DocText};
use crate::doc::Shared;

/// A scalar stored in a map entry, list element, register or set.
#[derive(Clone, Debug, PartialEq, uniffi::Enum)]
pub enum Value {
    /// Null.
    Null,
    /// A boolean.
    Bool {
        /// The boolean.
        value: bool,
    },
    /// A signed 64-bit integer.
    Int {
        /// The integer.
        value: i64,
    },
    /// A 64-bit float.
    Float {
        /// The float.
        value: f64,
    },
    /// A string.
    Str {
        /// The string.
        value: String,
    },
    /// Raw bytes.
    Bytes {
        /// The bytes.
        value: Vec<u8>,
    },
}

impl From<Value> for k::Value {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => k::Value::Null,
            Value::Bool { value } => k::Value::Bool(value),
            Value::Int { value } => k::Value::Int(value),
            Value::Float { value } => k::Value::Float(value),
            Value::Str { value } => k::Value::Str(value),
            Value::Bytes { value } => k::Value::Bytes(value),
        }
    }
}

impl From<k::Value> for Value {
    fn from(v: k::Value) -> Self {
        match v {
            k::Value::Null => Value::Null,
            k::Value::Bool(value) => Value::Bool { value },
            k::Value::Int(value) => Value::Int { value },
            k::Value::Float(value) => Value::Float { value },
            k::Value::Str(value) => Value::Str { value },
            k::Value::Bytes(value) => Value::Bytes { value },
        }
    }
}

/// The kinds of container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ContainerKind {
    /// String keys to items, last writer wins per key.
    Map,
    /// An ordered list of items.
    List,
    /// Collaborative plain text.
    Text,
    /// A counter whose increments add up.
    Counter,
    /// One value, last writer wins.
    Register,
    /// A set of values, concurrent add wins over remove.
    Set,
}

impl From<ContainerKind> for k::ContainerKind {
    fn from(kind: ContainerKind) -> Self {
        match kind {
            ContainerKind::Map => k::ContainerKind::Map,
            ContainerKind::List => k::ContainerKind::List,
            ContainerKind::Text => k::ContainerKind::Text,
            ContainerKind::Counter => k::ContainerKind::Counter,
            ContainerKind::Register => k::ContainerKind::Register,
            ContainerKind::Set => k::ContainerKind::Set,
        }
    }
}

impl From<k::ContainerKind> for ContainerKind {
    fn from(kind: k::ContainerKind) -> Self {
        match kind {
            k::ContainerKind::Map => ContainerKind::Map,
            k::ContainerKind::List => ContainerKind::List,
            k::ContainerKind::Text => ContainerKind::Text,
            k::ContainerKind::Counter => ContainerKind::Counter,
            k::ContainerKind::Register => ContainerKind::Register,
            k::ContainerKind::Set => ContainerKind::Set,
        }
    }
}

/// Where a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ContainerOrigin {
    /// A root container, named by the 64-bit FNV-1a hash of its name.
    Root {
        /// The hash of the root's name.
        hash: u64,
    },
    /// A nested container, named by the operation that created it.
    Created {
        /// The replica that created it.
        replica: u64,
        /// That replica's operation counter.
        counter: u64,
    },
}

/// A container's identity: plain data, equal on every replica, valid across syncs. Compare
/// it with a handle's `id()` to find which container an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Record)]
pub struct ContainerId {
    /// Its kind.
    pub kind: ContainerKind,
    /// Where it comes from.
    pub origin: ContainerOrigin,
}

impl From<k::ContainerId> for ContainerId {
    fn from(id: k::ContainerId) -> Self {
        let origin = match id.origin {
            k::Origin::Root(hash) => ContainerOrigin::Root { hash },
            k::Origin::Created(dot) => ContainerOrigin::Created {
                replica: dot.replica.0,
                counter: dot.counter,
            },
        };
        ContainerId {
            kind: id.kind.into(),
            origin,
        }
    }
}

impl From<ContainerId> for k::ContainerId {
    fn from(id: ContainerId) -> Self {
        let origin = match id.origin {
            ContainerOrigin::Root { hash } => k::Origin::Root(hash),
            ContainerOrigin::Created { replica, counter } => k::Origin::Created(Dot {
                replica: ReplicaId(replica),
                counter,
            }),
        };
        k::ContainerId {
            kind: id.kind.into(),
            origin,
        }
    }
}

/// A map entry or list element: a scalar, or a handle to a nested container.
#[derive(Clone, uniffi::Enum)]
pub enum Item {
    /// A scalar value.
    Scalar {
        /// The value.
        value: Value,
    },
    /// A nested map.
    Map {
        /// Its handle.
        map: Arc<DocMap>,
    },
    /// A nested list.
    List {
        /// Its handle.
        list: Arc<DocList>,
    },
    /// A nested text.
    Text {
        /// Its handle.
        text: Arc<DocText>,
    },
    /// A nested counter.
    Counter {
        /// Its handle.
        counter: Arc<DocCounter>,
    },
    /// A nested register.
    Register {
        /// Its handle.
        register: Arc<DocRegister>,
    },
    /// A nested set.
    Set {
        /// Its handle.
        set: Arc<DocSet>,
    },
}

impl Item {
    /// A handle of the right kind for `id`.
    pub(crate) fn container(shared: &Arc<Shared>, id: k::ContainerId) -> Self {
        let shared = Arc::clone(shared);
        match id.kind {
            k::ContainerKind::Map => Item::Map {
                map: Arc::new(DocMap::new(shared, id)),
            },
            k::ContainerKind::List => Item::List {
                list: Arc::new(DocList::new(shared, id)),
            },
            k::ContainerKind::Text => Item::Text {
                text: Arc::new(DocText::new(shared, id)),
            },
            k::ContainerKind::Counter => Item::Counter {
                counter: Arc::new(DocCounter::new(shared, id)),
            },
            k::ContainerKind::Register => Item::Register {
                register: Arc::new(DocRegister::new(shared, id)),
            },
            k::ContainerKind::Set => Item::Set {
                set: Arc::new(DocSet::new(shared, id)),
            },
        }
    }

    /// The kernel's item as a host item.
    pub(crate) fn from_kernel(shared: &Arc<Shared>, item: k::Item) -> Self {
        match item {
            k::Item::Value(v) => Item::Scalar { value: v.into() },
            k::Item::Container(id) => Item::container(shared, id),
        }
    }
}

/// A read-only, JSON-like copy of a container and everything nested in it.
#[derive(Clone, Debug, PartialEq, uniffi::Enum)]
pub enum Node {
    /// A scalar (a map entry or list element).
    Scalar {
        /// The value.
        value: Value,
    },
    /// A map's live entries.
    MapEntries {
        /// Entries by key.
        entries: HashMap<String, Node>,
    },
    /// A list's elements in order.
    ListItems {
        /// The elements.
        items: Vec<Node>,
    },
    /// A text's content.
    Text {
        /// The text.
        text: String,
    },
    /// A counter's value.
    Counter {
        /// The value.
        value: i64,
    },
    /// A register's value (absent if never written).
    Register {
        /// The value.
        value: Option<Value>,
    },
    /// A set's elements in ascending order.
    SetValues {
        /// The elements.
        values: Vec<Value>,
    },
}

impl From<k::Node> for Node {
    fn from(n: k::Node) -> Self {
        match n {
            k::Node::Value(v) => Node::Scalar { value: v.into() },
            k::Node::Map(m) => Node::MapEntries {
                entries: m.into_iter().map(|(key, n)| (key, n.into())).collect(),
            },
            k::Node::List(l) => Node::ListItems {
                items: l.into_iter().map(Node::from).collect(),
            },
            k::Node::Text(text) => Node::Text { text },
            k::Node::Counter(value) => Node::Counter { value },
            k::Node::Register(v) => Node::Register {
                value: v.map(Value::from),
            },
            k::Node::Set(s) => Node::SetValues {
                values: s.into_iter().map(Value::from).collect(),
            },
        }
    }
}
