//! Saving and loading a whole document: state snapshots and history exports.
//!
//! Both formats hold the same sections (see `docs/wire-format.md`, "Document snapshots"):
//! the owner's replica id, the root names, every container, the transaction index (see the
//! `history` module) and the buffered updates. They differ in how lists and texts are kept:
//!
//! * a **snapshot** ([`Doc::save`]) keeps each text as its state snapshot (the document order
//!   as it is, so loading builds it without replaying anything; see `list::snapshot`);
//! * a **history export** ([`Doc::save_history`]) keeps each list and text as its compact op
//!   history, the smallest form, which loading replays in the engine.
//!
//! Lists are kept as their compact history in both (the list engine has no state snapshot
//! yet); maps, counters, registers and sets as their state.
//!
//! [`Doc::load`] reads either and checks every section before it builds anything: each
//! container's own encoding (metered decode, invariants), kinds, nesting depths and parent
//! links, the transaction index against the version it implies, every index reference into a
//! list's or text's op log, the names, and the buffered updates. A snapshot that fails any
//! check is a [`DocError`]; no half-loaded document is ever returned.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::history::{Entry, History, OpRec};
use super::state::{Containers, MAX_DEPTH, State};
use super::{ContainerId, ContainerKind, Doc, DocError, Item, Origin, Result};
use crate::clock::ReplicaId;
use crate::encoding::{DecodeError, decode, encode};
use crate::list::{List, Text};
use crate::sync::{self, KIND_HISTORY, KIND_SNAPSHOT, Op, Update};
use crate::version::VersionVector;

/// How one container is kept. Each payload is the container's own enveloped encoding.
#[derive(Serialize, Deserialize)]
enum StateWire {
    /// `LwwMap<String, Item>`.
    Map(Vec<u8>),
    /// `List<Item>`'s compact history.
    ListHistory(Vec<u8>),
    /// `Text`'s state snapshot.
    TextSnapshot(Vec<u8>),
    /// `Text`'s compact history.
    TextHistory(Vec<u8>),
    /// `PNCounter`.
    Counter(Vec<u8>),
    /// `LwwRegister<Value>`.
    Register(Vec<u8>),
    /// `AwSet<Value>`.
    Set(Vec<u8>),
}

#[derive(Serialize, Deserialize)]
struct ContainerWire {
    id: ContainerId,
    /// 0 for roots.
    depth: u16,
    state: StateWire,
}

/// The saved document, as written (borrowing the index and the buffer).
#[derive(Serialize)]
struct DocWireRef<'a> {
    replica: ReplicaId,
    /// Each known root name, with whether an applied update carries it.
    names: Vec<(&'a str, bool)>,
    containers: Vec<ContainerWire>,
    history: &'a [Entry],
    pending: Vec<&'a Update>,
}

/// The saved document, as read: the same fields as [`DocWireRef`].
#[derive(Deserialize)]
struct DocWire {
    replica: ReplicaId,
    names: Vec<(String, bool)>,
    containers: Vec<ContainerWire>,
    history: Vec<Entry>,
    pending: Vec<Update>,
}

fn corrupt(why: &'static str) -> DocError {
    DocError::Decode(DecodeError::Invalid(why))
}

impl Doc {
    /// A state snapshot of the whole document (containers as they are, the transaction index
    /// and the buffered updates), which [`Doc::load`] turns back into an equal, editable
    /// document without replaying its history. Fails during a transaction.
    pub fn save(&self) -> Result<Vec<u8>> {
        self.write(KIND_SNAPSHOT)
    }

    /// The smallest export of the whole document: like [`save`](Doc::save), but lists and
    /// texts are kept as their compact op history, which [`Doc::load`] replays. Fails during
    /// a transaction.
    pub fn save_history(&self) -> Result<Vec<u8>> {
        self.write(KIND_HISTORY)
    }

    fn write(&self, kind: u8) -> Result<Vec<u8>> {
        if self.txn.is_some() {
            return Err(DocError::TransactionOpen);
        }
        let containers = self
            .containers
            .iter()
            .map(|(id, st, depth)| ContainerWire {
                id,
                depth,
                state: match st {
                    State::Map(m) => StateWire::Map(encode(m)),
                    State::List(l) => StateWire::ListHistory(l.encode()),
                    State::Text(t) if kind == KIND_SNAPSHOT => {
                        StateWire::TextSnapshot(t.snapshot())
                    }
                    State::Text(t) => StateWire::TextHistory(t.encode()),
                    State::Counter(c) => StateWire::Counter(encode(c)),
                    State::Register(r) => StateWire::Register(encode(r)),
                    State::Set(s) => StateWire::Set(encode(s)),
                },
            })
            .collect();
        let wire = DocWireRef {
            replica: self.replica,
            names: (self.names.iter())
                .map(|(h, n)| (n.as_str(), self.published.contains(h)))
                .collect(),
            containers,
            history: self.history.entries(),
            pending: self.pending.values().collect(),
        };
        Ok(sync::frame(kind, &wire))
    }

    /// Restores a document from [`save`](Doc::save) or [`save_history`](Doc::save_history)
    /// output, with the saved replica id, checking everything first (see the module docs).
    pub fn load(bytes: &[u8]) -> Result<Doc> {
        Self::load_with_memory_limit(bytes, usize::MAX)
    }

    /// [`load`](Doc::load) with a memory limit (see [`Doc::with_memory_limit`]); the
    /// snapshot's size is charged to it.
    pub fn load_with_memory_limit(bytes: &[u8], limit: usize) -> Result<Doc> {
        if bytes.len() > limit {
            return Err(DocError::BudgetExceeded {
                requested: bytes.len(),
                available: limit,
            });
        }
        let kind = match bytes.get(4) {
            Some(&k) if k == KIND_HISTORY => KIND_HISTORY,
            _ => KIND_SNAPSHOT,
        };
        let wire: DocWire = sync::unframe(bytes, kind)?;
        let (history, version, lamport) =
            History::from_entries(wire.history).ok_or(corrupt("inconsistent transaction index"))?;
        let containers = load_containers(wire.containers, wire.replica, &version)?;
        check_references(&history, &containers)?;

        let mut doc = Doc::with_memory_limit(wire.replica, limit);
        for (name, published) in wire.names {
            let Origin::Root(h) = ContainerId::root(&name, ContainerKind::Map).origin else {
                continue;
            };
            if doc.names.insert(h, name).is_some() {
                return Err(corrupt("a root name is listed twice"));
            }
            if published {
                doc.published.insert(h);
            }
        }
        for u in wire.pending {
            u.check_shape()?;
            if version.get(u.author) >= u.start
                || doc.pending.insert((u.author, u.start), u).is_some()
            {
                return Err(corrupt("a buffered update is applied or listed twice"));
            }
        }
        for u in doc.pending.values() {
            doc.pending_needs.merge(&u.deps);
        }
        if doc.budget.try_reserve(bytes.len()).is_err() {
            return Err(DocError::BudgetExceeded {
                requested: bytes.len(),
                available: limit,
            });
        }
        doc.containers = containers;
        doc.history = history;
        doc.version = version;
        doc.lamport = lamport;
        Ok(doc)
    }
}

/// Decodes and checks every container: kinds, ids, depths, and that every nested container
/// an item refers to exists, one level below its parent, referred to at most once.
fn load_containers(
    wire: Vec<ContainerWire>,
    replica: ReplicaId,
    version: &VersionVector,
) -> Result<Containers> {
    let mut out = Containers::new();
    for c in wire {
        let ok_depth = match c.id.origin {
            Origin::Root(_) => c.depth == 0,
            Origin::Created(dot) => {
                (1..=MAX_DEPTH).contains(&c.depth)
                    && dot.counter > 0
                    && dot.counter <= version.get(dot.replica)
            }
        };
        if !ok_depth || out.get(&c.id).is_some() {
            return Err(corrupt("bad container id or depth"));
        }
        let st = match (c.id.kind, c.state) {
            (ContainerKind::Map, StateWire::Map(b)) => State::Map(decode(&b)?),
            (ContainerKind::List, StateWire::ListHistory(b)) => {
                State::List(Box::new(List::decode_as(&b, replica)?))
            }
            (ContainerKind::Text, StateWire::TextSnapshot(b)) => {
                State::Text(Box::new(Text::decode_snapshot_as(&b, replica)?))
            }
            (ContainerKind::Text, StateWire::TextHistory(b)) => {
                State::Text(Box::new(Text::decode_as(&b, replica)?))
            }
            (ContainerKind::Counter, StateWire::Counter(b)) => State::Counter(decode(&b)?),
            (ContainerKind::Register, StateWire::Register(b)) => State::Register(decode(&b)?),
            (ContainerKind::Set, StateWire::Set(b)) => State::Set(decode(&b)?),
            _ => return Err(corrupt("container state of the wrong kind")),
        };
        out.insert_at_depth(c.id, st, c.depth);
    }
    let mut parents: BTreeSet<ContainerId> = BTreeSet::new();
    for (_, st, depth) in out.iter() {
        let items: Vec<&Item> = match st {
            State::Map(m) => m.iter().map(|(_, v)| v).collect(),
            State::List(l) => l.iter().collect(),
            _ => Vec::new(),
        };
        for child in items.into_iter().filter_map(Item::as_container) {
            let fits = !child.is_root()
                && out.get(&child).is_some()
                && out.depth_of(child) == depth + 1
                && parents.insert(child);
            if !fits {
                return Err(corrupt("a nested container is missing or misplaced"));
            }
        }
    }
    Ok(out)
}

/// Checks that every index entry refers to containers the document holds: each list or text
/// reference to events the container's engine has, each other operation to an existing
/// container of its kind, each creation to the container it created.
fn check_references(history: &History, containers: &Containers) -> Result<()> {
    let mut engine_versions: BTreeMap<ContainerId, VersionVector> = BTreeMap::new();
    let mut bad = false;
    history.for_each_seq(|id, author, first, len| {
        let v = engine_versions
            .entry(id)
            .or_insert_with(|| match containers.get(&id) {
                Some(State::Text(t)) => t.version(),
                Some(State::List(l)) => l.version(),
                _ => VersionVector::new(),
            });
        let known = matches!(containers.get(&id), Some(State::Text(_) | State::List(_)));
        if !known || (len > 0 && (first == 0 || v.get(author) < first + len - 1)) {
            bad = true;
        }
    });
    for e in history.entries() {
        let Entry::One(t) = e else { continue };
        for (i, op) in t.ops.iter().enumerate() {
            let OpRec::Other(op) = op else { continue };
            let ok = match op {
                Op::Create { kind } => {
                    let dot = crate::clock::Dot::new(t.author, t.start + i as u64);
                    let id = ContainerId {
                        kind: *kind,
                        origin: Origin::Created(dot),
                    };
                    containers.get(&id).is_some()
                }
                Op::List { .. } | Op::Text { .. } => false,
                _ => op
                    .container()
                    .is_some_and(|c| c.is_root() || containers.get(&c).is_some()),
            };
            bad |= !ok;
        }
    }
    if bad {
        return Err(corrupt("the transaction index refers to missing events"));
    }
    Ok(())
}
