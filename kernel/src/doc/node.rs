//! The read-only, JSON-like [`Node`] tree a document materializes into.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::value::Value;

/// A read-only, JSON-like snapshot of a container and everything nested in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// A scalar (map entry or list element).
    Value(Value),
    /// A map's live entries, by key.
    Map(BTreeMap<String, Node>),
    /// A list's elements in order.
    List(Vec<Node>),
    /// A text's content.
    Text(String),
    /// A counter's value.
    Counter(i64),
    /// A register's value (`None` if never written).
    Register(Option<Value>),
    /// A set's elements in ascending order.
    Set(Vec<Value>),
}

impl Node {
    /// Whether this is an empty container (or a register never written, or a zero counter):
    /// what a container that was never touched reads as.
    pub fn is_empty(&self) -> bool {
        match self {
            Node::Value(_) => false,
            Node::Map(m) => m.is_empty(),
            Node::List(l) => l.is_empty(),
            Node::Text(t) => t.is_empty(),
            Node::Counter(c) => *c == 0,
            Node::Register(r) => r.is_none(),
            Node::Set(s) => s.is_empty(),
        }
    }
}
