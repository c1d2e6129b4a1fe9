//! The containers of a document: one module per kind, and the enum that names them.
//!
//! Each kind's module is the one home of everything the document does with that kind: its
//! local edits and reads (an `impl Doc` block), how a remote operation applies to its state,
//! how a change to it is described in a [`ChangeEvent`](super::ChangeEvent), what it reads as
//! ([`Node`]) and how it is saved and loaded. This module holds what all kinds share: the
//! [`State`] enum, with one arm per kind, whose methods send each of those steps to the kind's
//! module; the saved form [`StateWire`]; and [`Containers`], all containers of a document.
//!
//! | kind | module | state CRDT |
//! | --- | --- | --- |
//! | map | `map` | `LwwMap<String, Item>` |
//! | list | `list` (and `sequence`, shared with text) | `List<Item>` |
//! | text | `text` (and `sequence`) | `Text` |
//! | counter | `counter` | `PNCounter` |
//! | register | `register` | `LwwRegister<Value>` |
//! | set | `set` | `AwSet<Value>` |
//!
//! Adding a kind means a module here and an arm of [`State`] and of [`StateWire`], plus the
//! kind's names in the layers below the document: a [`ContainerKind`], the wire [`Op`] that
//! carries its operations, and a [`Node`] arm.

mod counter;
mod list;
mod map;
mod register;
mod sequence;
mod set;
mod text;

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::error::{BadSnapshot, DocError};
use super::event::Changed;
use super::node::Node;
use crate::clock::{Dot, ReplicaId, Timestamp};
use crate::counter::PNCounter;
use crate::list::{Checkpoint, List, Text};
use crate::map::LwwMap;
use crate::register::LwwRegister;
use crate::set::AwSet;
use crate::sync::Op;
use crate::value::{ContainerId, ContainerKind, Item, Value};

pub(crate) use self::counter::CounterTrack;
pub(crate) use self::map::{MapTrack, written_key};
pub(crate) use self::register::RegisterTrack;
pub(crate) use self::sequence::SequenceTrack;
pub(crate) use self::set::SetTrack;

/// The state of one container.
#[derive(Clone)]
pub(crate) enum State {
    Map(LwwMap<String, Item>),
    /// Boxed, as is `Text`: the stage moves states in and out of maps on every edit, and the
    /// sequence engine is hundreds of bytes wide.
    List(Box<List<Item>>),
    Text(Box<Text>),
    Counter(PNCounter),
    Register(LwwRegister<Value>),
    /// Boxed: the widest state, which would widen every slot of [`Containers`] by a third.
    Set(Box<AwSet<Value>>),
}

/// How one container is saved. Each payload is the kind's own enveloped encoding.
#[derive(Serialize, Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(crate) enum StateWire {
    /// `LwwMap<String, Item>`.
    Map(#[serde(with = "crate::encoding::byte_buf")] Vec<u8>),
    /// `List<Item>`'s compact history.
    ListHistory(#[serde(with = "crate::encoding::byte_buf")] Vec<u8>),
    /// `Text`'s state snapshot.
    TextSnapshot(#[serde(with = "crate::encoding::byte_buf")] Vec<u8>),
    /// `Text`'s compact history.
    TextHistory(#[serde(with = "crate::encoding::byte_buf")] Vec<u8>),
    /// `PNCounter`.
    Counter(#[serde(with = "crate::encoding::byte_buf")] Vec<u8>),
    /// `LwwRegister<Value>`.
    Register(#[serde(with = "crate::encoding::byte_buf")] Vec<u8>),
    /// `AwSet<Value>`.
    Set(#[serde(with = "crate::encoding::byte_buf")] Vec<u8>),
}

impl crate::encoding::codec::Encode for StateWire {
    fn encode(&self, w: &mut Vec<u8>) {
        let (variant, bytes) = match self {
            StateWire::Map(b) => (0, b),
            StateWire::ListHistory(b) => (1, b),
            StateWire::TextSnapshot(b) => (2, b),
            StateWire::TextHistory(b) => (3, b),
            StateWire::Counter(b) => (4, b),
            StateWire::Register(b) => (5, b),
            StateWire::Set(b) => (6, b),
        };
        w.push(variant);
        crate::encoding::codec::put_bytes(w, bytes);
    }
}

impl crate::encoding::codec::Decode<'_> for StateWire {
    fn decode(
        r: &mut crate::encoding::codec::Reader<'_>,
    ) -> core::result::Result<Self, crate::encoding::DecodeError> {
        let make = match r.variant()? {
            0 => StateWire::Map,
            1 => StateWire::ListHistory,
            2 => StateWire::TextSnapshot,
            3 => StateWire::TextHistory,
            4 => StateWire::Counter,
            5 => StateWire::Register,
            6 => StateWire::Set,
            _ => return Err(crate::encoding::REJECTED),
        };
        Ok(make(r.bytes()?.to_vec()))
    }
}

/// How a remote (or recorded local) operation is stamped: its author's id for it and its
/// Lamport time.
#[derive(Clone, Copy)]
pub(crate) struct Stamp {
    pub(crate) dot: Dot,
    pub(crate) ts: Timestamp,
}

impl State {
    /// A container of `kind` that was never written, owned by `replica`.
    pub(crate) fn empty(kind: ContainerKind, replica: ReplicaId) -> State {
        match kind {
            ContainerKind::Map => State::Map(LwwMap::new()),
            ContainerKind::List => State::List(Box::new(List::new(replica))),
            ContainerKind::Text => State::Text(Box::new(Text::new(replica))),
            ContainerKind::Counter => State::Counter(PNCounter::new()),
            ContainerKind::Register => State::Register(LwwRegister::default()),
            ContainerKind::Set => State::Set(Box::new(AwSet::new())),
        }
    }

    /// For a list or text, the point to roll it back to (see [`rollback`](Self::rollback)).
    pub(crate) fn checkpoint(&self) -> Option<Checkpoint> {
        match self {
            State::List(l) => Some(l.checkpoint()),
            State::Text(t) => Some(t.checkpoint()),
            _ => None,
        }
    }

    /// For a list or text, the first event learnt since `cp` and how many were learnt.
    pub(crate) fn events_after(&self, cp: Checkpoint) -> Option<(Dot, u64)> {
        match self {
            State::List(l) => l.events_after(cp),
            State::Text(t) => t.events_after(cp),
            _ => None,
        }
    }

    /// For a list or text, the visible change since `cp`, taken from it by
    /// [`checkpoint`](Self::checkpoint).
    pub(crate) fn change_since(&mut self, cp: Checkpoint) -> Option<Changed> {
        let (start, removed, inserted) = match self {
            State::List(l) => l.change_since(cp),
            State::Text(t) => t.change_since(cp),
            _ => None,
        }?;
        Some(Changed::Range {
            start,
            removed,
            inserted,
        })
    }

    /// Rolls a list or text back to `cp`, taken from it by [`checkpoint`](Self::checkpoint):
    /// every operation applied since is forgotten.
    pub(crate) fn rollback(&mut self, cp: Checkpoint) {
        match self {
            State::List(l) => l.rollback(cp),
            State::Text(t) => t.rollback(cp),
            _ => {}
        }
    }

    /// Applies operation `op` of container `id`, stamped `at`. An operation of another kind
    /// than the container's is [`DocError::WrongKind`].
    pub(crate) fn apply(&mut self, id: ContainerId, at: Stamp, op: &Op) -> Result<(), DocError> {
        match (self, op) {
            (State::Map(m), Op::MapSet { key, value, .. }) => {
                map::apply(m, at, key, Some(value));
                Ok(())
            }
            (State::Map(m), Op::MapDelete { key, .. }) => {
                map::apply(m, at, key, None);
                Ok(())
            }
            (State::List(l), Op::List { ops, .. }) => list::apply(l, at, ops),
            (State::Text(t), Op::Text { ops, .. }) => text::apply(t, at, ops),
            (State::Counter(c), Op::Counter { amount, .. }) => {
                counter::apply(c, at, *amount);
                Ok(())
            }
            (State::Register(r), Op::Register { value, .. }) => {
                register::apply(r, at, value);
                Ok(())
            }
            (State::Set(s), Op::Set { delta, .. }) => set::apply(s, at, delta),
            (_, op) => Err(DocError::WrongKind {
                container: id,
                expected: op_kind(op),
            }),
        }
    }

    /// How this state differs from `old`, the same container before (`None` if it did not
    /// exist). `keys` are the map keys remote operations wrote, for a map.
    pub(crate) fn diff<'a>(
        &self,
        old: Option<&State>,
        keys: impl Iterator<Item = &'a String>,
    ) -> Option<Changed> {
        match (self, old) {
            (State::Map(m), Some(State::Map(o))) => map::diff(Some(o), m, keys),
            (State::Map(m), _) => map::diff(None, m, keys),
            (State::List(l), Some(State::List(o))) => list::diff(Some(o), l),
            (State::List(l), _) => list::diff(None, l),
            (State::Text(t), Some(State::Text(o))) => text::diff(Some(o), t),
            (State::Text(t), _) => text::diff(None, t),
            (State::Counter(c), Some(State::Counter(o))) => counter::diff(Some(o), c),
            (State::Counter(c), _) => counter::diff(None, c),
            (State::Register(r), Some(State::Register(o))) => register::diff(Some(o), r),
            (State::Register(r), _) => register::diff(None, r),
            (State::Set(s), Some(State::Set(o))) => set::diff(Some(o), s),
            (State::Set(s), _) => set::diff(None, s),
        }
    }

    /// What this container reads as, with `item` materializing its map entries or list
    /// elements.
    pub(crate) fn node(&self, item: impl FnMut(&Item) -> Node) -> Node {
        match self {
            State::Map(m) => map::node(m, item),
            State::List(l) => list::node(l, item),
            State::Text(t) => text::node(t),
            State::Counter(c) => counter::node(c),
            State::Register(r) => register::node(r),
            State::Set(s) => set::node(s),
        }
    }

    /// The items a map or list holds (where nested containers hang).
    pub(crate) fn items(&self) -> Vec<&Item> {
        match self {
            State::Map(m) => m.iter().map(|(_, v)| v).collect(),
            State::List(l) => l.iter().collect(),
            State::Text(_) | State::Counter(_) | State::Register(_) | State::Set(_) => Vec::new(),
        }
    }

    /// The saved form: texts as a state snapshot when `snapshot`, else as their history.
    pub(crate) fn to_wire(&self, snapshot: bool) -> StateWire {
        match self {
            State::Map(m) => map::to_wire(m),
            State::List(l) => list::to_wire(l),
            State::Text(t) => text::to_wire(t, snapshot),
            State::Counter(c) => counter::to_wire(c),
            State::Register(r) => register::to_wire(r),
            State::Set(s) => set::to_wire(s),
        }
    }

    /// Builds (and checks) a container of `kind` from its saved form.
    pub(crate) fn from_wire(
        kind: ContainerKind,
        wire: &StateWire,
        replica: ReplicaId,
    ) -> Result<State, DocError> {
        match (kind, wire) {
            (ContainerKind::Map, StateWire::Map(b)) => map::from_wire(b),
            (ContainerKind::List, StateWire::ListHistory(b)) => list::from_wire(b, replica),
            (ContainerKind::Text, StateWire::TextSnapshot(_) | StateWire::TextHistory(_)) => {
                text::from_wire(wire, replica)
            }
            (ContainerKind::Counter, StateWire::Counter(b)) => counter::from_wire(b),
            (ContainerKind::Register, StateWire::Register(b)) => register::from_wire(b),
            (ContainerKind::Set, StateWire::Set(b)) => set::from_wire(b),
            _ => Err(DocError::BadSnapshot(BadSnapshot::ContainerKind)),
        }
    }
}

impl StateWire {
    /// What the saved container reads as, decoded (and checked) without building its state
    /// where the kind allows (a text snapshot is read as it is shown).
    pub(crate) fn view(
        &self,
        item: impl FnMut(&Item) -> Result<Node, DocError>,
    ) -> Result<Node, DocError> {
        match self {
            StateWire::Map(b) => map::view(b, item),
            StateWire::ListHistory(b) => list::view(b, item),
            StateWire::TextSnapshot(_) | StateWire::TextHistory(_) => {
                Ok(Node::Text(text::view(self)?))
            }
            StateWire::Counter(b) => counter::view(b),
            StateWire::Register(b) => register::view(b),
            StateWire::Set(b) => set::view(b),
        }
    }

    /// The content of a saved text (`None` for another kind).
    pub(crate) fn text(&self) -> Option<Result<String, DocError>> {
        match self {
            StateWire::TextSnapshot(_) | StateWire::TextHistory(_) => Some(text::view(self)),
            _ => None,
        }
    }
}

/// The kind of container `op` edits (for a creation, a map: what its id is attached to).
pub(crate) fn op_kind(op: &Op) -> ContainerKind {
    match op {
        Op::MapSet { .. } | Op::MapDelete { .. } | Op::Create { .. } => ContainerKind::Map,
        Op::List { .. } => ContainerKind::List,
        Op::Text { .. } => ContainerKind::Text,
        Op::Counter { .. } => ContainerKind::Counter,
        Op::Register { .. } => ContainerKind::Register,
        Op::Set { .. } => ContainerKind::Set,
    }
}

/// The items `op` writes into its container: where a nested container may be attached.
pub(crate) fn carried_items(op: &Op) -> impl Iterator<Item = &Item> + '_ {
    let (map, list) = match op {
        Op::MapSet { value, .. } => (Some(value), None),
        Op::List { ops, .. } => (None, Some(list::carried_items(ops))),
        _ => (None, None),
    };
    map.into_iter().chain(list.into_iter().flatten())
}

/// What a container of `kind` that was never written reads as.
pub(crate) fn empty_node(kind: ContainerKind) -> Node {
    match kind {
        ContainerKind::Map => Node::Map(BTreeMap::new()),
        ContainerKind::List => Node::List(Vec::new()),
        ContainerKind::Text => Node::Text(String::new()),
        ContainerKind::Counter => Node::Counter(0),
        ContainerKind::Register => Node::Register(None),
        ContainerKind::Set => Node::Set(Vec::new()),
    }
}

/// Empties `map`. An empty map is left alone: clearing even an empty B-tree walks it, and a
/// transaction's stage clears several, most of them empty.
pub(crate) fn clear_map<K, V>(map: &mut BTreeMap<K, V>) {
    if !map.is_empty() {
        map.clear();
    }
}

/// How deep containers may nest (a root is at depth 0). Deeper trees are refused, so that
/// walking, printing or dropping a materialized [`Node`] tree cannot exhaust the stack.
pub const MAX_DEPTH: u16 = 128;

/// A set of containers, each with its nesting depth: all containers of a document, or the
/// ones a stage holds (see [`Stage`](crate::doc::stage::Stage)).
///
/// A container lent to a stage ([`remove`](Self::remove)) leaves an empty slot behind, which
/// [`insert`](Self::insert) fills again: a transaction that moves a text out and back does
/// not reshape the map (no node freed and allocated again per edit). The depth lives in the
/// slot, so a document and its stages share one map type (one B-tree compiled into a binary
/// for all of them).
#[derive(Default)]
pub(crate) struct Containers {
    slots: BTreeMap<ContainerId, Slot>,
}

/// One container of [`Containers`]: its state (`None` while lent out) and its nesting depth
/// (0 for roots; in a stage, 0 unless the stage attached it).
struct Slot {
    state: Option<State>,
    depth: u16,
}

impl Slot {
    const EMPTY: Slot = Slot {
        state: None,
        depth: 0,
    };
}

impl Containers {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn get(&self, id: &ContainerId) -> Option<&State> {
        self.slots.get(id).and_then(|s| s.state.as_ref())
    }

    /// Whether `id` is held (not lent out).
    pub(crate) fn contains(&self, id: &ContainerId) -> bool {
        self.get(id).is_some()
    }

    /// The state of `id`, to edit in place (a list or text a local transaction edits).
    pub(crate) fn get_mut(&mut self, id: &ContainerId) -> Option<&mut State> {
        self.slots.get_mut(id).and_then(|s| s.state.as_mut())
    }

    /// The state slot of `id`, made empty if there is none (an empty slot reads as no
    /// container, and [`absorb`](Self::absorb) skips it).
    pub(crate) fn slot_mut(&mut self, id: ContainerId) -> &mut Option<State> {
        &mut self.slots.entry(id).or_insert(Slot::EMPTY).state
    }

    /// The state of `id`, made with `empty` if `id` is a root not held yet (`None` for a
    /// nested container not held); the flag says whether it was made.
    pub(crate) fn get_or_insert_root(
        &mut self,
        id: ContainerId,
        empty: impl FnOnce() -> State,
    ) -> Option<(&mut State, bool)> {
        if !id.is_root() {
            return self.get_mut(&id).map(|st| (st, false));
        }
        let slot = self.slot_mut(id);
        let created = slot.is_none();
        Some((slot.get_or_insert_with(empty), created))
    }

    /// Puts `st` in as container `id`, keeping the depth its slot has.
    pub(crate) fn insert(&mut self, id: ContainerId, st: State) {
        *self.slot_mut(id) = Some(st);
    }

    /// Takes the state of `id` out, leaving its slot empty.
    pub(crate) fn remove(&mut self, id: &ContainerId) -> Option<State> {
        self.slots.get_mut(id)?.state.take()
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &ContainerId> + '_ {
        self.slots
            .iter()
            .filter_map(|(id, s)| s.state.as_ref().map(|_| id))
    }

    /// Nesting depth of `id`: 0 for roots (and for containers it does not hold).
    pub(crate) fn depth(&self, id: ContainerId) -> u16 {
        self.slots.get(&id).map_or(0, |s| s.depth)
    }

    /// Records that `id` is nested at `depth`.
    pub(crate) fn set_depth(&mut self, id: ContainerId, depth: u16) {
        self.slots.entry(id).or_insert(Slot::EMPTY).depth = depth;
    }

    /// Inserts `st` as container `id` at nesting depth `depth`.
    pub(crate) fn insert_at_depth(&mut self, id: ContainerId, st: State, depth: u16) {
        self.slots.insert(
            id,
            Slot {
                state: Some(st),
                depth,
            },
        );
    }

    /// Whether no slot is left (held or lent out).
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Forgets every container.
    pub(crate) fn clear(&mut self) {
        clear_map(&mut self.slots);
    }

    /// Moves every container of `other` (a committed stage) in, replacing the states held
    /// under the same ids, with the depths `other` recorded (see [`set_depth`]); `other` is
    /// left empty.
    ///
    /// [`set_depth`]: Self::set_depth
    pub(crate) fn absorb(&mut self, other: &mut Containers) {
        for (id, Slot { state, depth }) in core::mem::take(&mut other.slots) {
            if state.is_none() && depth == 0 {
                continue;
            }
            let Some(slot) = self.slots.get_mut(&id) else {
                self.slots.insert(id, Slot { state, depth });
                continue;
            };
            if state.is_some() {
                slot.state = state;
            }
            if depth > 0 {
                slot.depth = depth;
            }
        }
    }

    /// Every container with its state and depth, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ContainerId, &State, u16)> + '_ {
        self.slots
            .iter()
            .filter_map(|(id, s)| Some((*id, s.state.as_ref()?, s.depth)))
    }

    /// Every container with its state, to edit, by id.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (ContainerId, &mut State)> + '_ {
        self.slots
            .iter_mut()
            .filter_map(|(id, s)| Some((*id, s.state.as_mut()?)))
    }
}
