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

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::error::BadSnapshot;
use super::history::{Entry, History, OpRec};
use super::state::{Containers, MAX_DEPTH, State, StateWire, op_kind};
use super::{
    ContainerId, ContainerKind, Doc, DocError, Item, Node, Origin, Result, RootName, RootNames,
};
use crate::clock::ReplicaId;
use crate::encoding::DecodeError;
use crate::encoding::codec::{Decode, Encode, Reader};
use crate::sync::{self, KIND_HISTORY, KIND_SNAPSHOT, Op, Update};
use crate::version::VersionVector;

#[derive(Serialize, Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
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
#[derive(Serialize, Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct DocWire {
    replica: ReplicaId,
    names: Vec<(String, bool)>,
    containers: Vec<ContainerWire>,
    history: Vec<Entry>,
    pending: Vec<Update>,
}

impl Encode for ContainerWire {
    fn encode(&self, w: &mut Vec<u8>) {
        self.id.encode(w);
        self.depth.encode(w);
        self.state.encode(w);
    }
}

impl Decode<'_> for ContainerWire {
    fn decode(r: &mut Reader<'_>) -> core::result::Result<Self, DecodeError> {
        Ok(ContainerWire {
            id: Decode::decode(r)?,
            depth: r.u16()?,
            state: Decode::decode(r)?,
        })
    }
}

impl Encode for DocWireRef<'_> {
    fn encode(&self, w: &mut Vec<u8>) {
        self.replica.encode(w);
        self.names.encode(w);
        self.containers.encode(w);
        self.history.encode(w);
        self.pending.encode(w);
    }
}

/// For the tests' round trips; saving writes a [`DocWireRef`].
#[cfg(test)]
impl Encode for DocWire {
    fn encode(&self, w: &mut Vec<u8>) {
        self.replica.encode(w);
        self.names.encode(w);
        self.containers.encode(w);
        self.history.encode(w);
        self.pending.encode(w);
    }
}

impl Decode<'_> for DocWire {
    fn decode(r: &mut Reader<'_>) -> core::result::Result<Self, DecodeError> {
        Ok(DocWire {
            replica: Decode::decode(r)?,
            names: Decode::decode(r)?,
            containers: Decode::decode(r)?,
            history: Decode::decode(r)?,
            pending: Decode::decode(r)?,
        })
    }
}

fn corrupt(why: BadSnapshot) -> DocError {
    DocError::BadSnapshot(why)
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
        if self.txn.open {
            return Err(DocError::TransactionOpen);
        }
        Ok(sync::frame(kind, &self.wire(kind)))
    }

    /// The sections [`write`](Self::write) saves.
    fn wire(&self, kind: u8) -> DocWireRef<'_> {
        let containers = self
            .containers
            .iter()
            .map(|(id, st, depth)| ContainerWire {
                id,
                depth,
                state: st.to_wire(kind == KIND_SNAPSHOT),
            })
            .collect();
        DocWireRef {
            replica: self.replica,
            names: self.names_by_hash(),
            containers,
            history: self.history.entries(),
            pending: self.pending_by_id(),
        }
    }

    /// Each known root name with whether an applied update carries it, in the order of the
    /// names' hashes (the order the bytes have always had).
    fn names_by_hash(&self) -> Vec<(&str, bool)> {
        let mut names: Vec<(u64, &str, bool)> = (self.names.iter())
            .map(|(&h, n)| (h, n.name.as_str(), n.published))
            .collect();
        crate::sort::sort_by_key(&mut names, |n| n.0);
        names.into_iter().map(|(_, n, p)| (n, p)).collect()
    }

    /// The buffered updates in id order (the order the bytes have always had).
    fn pending_by_id(&self) -> Vec<&Update> {
        let mut pending: Vec<&Update> = self.pending.values().collect();
        crate::sort::sort_by_key(&mut pending, |u| (u.author, u.start));
        pending
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
        let wire = read_wire(bytes)?;
        let (history, version, lamport) =
            History::from_entries(wire.history).ok_or(corrupt(BadSnapshot::TransactionIndex))?;
        let containers = load_containers(wire.containers, wire.replica, &version)?;
        check_references(&history, &containers)?;

        let mut doc = Doc::with_memory_limit(wire.replica, limit);
        for (name, published) in wire.names {
            let Origin::Root(h) = ContainerId::root(&name, ContainerKind::Map).origin else {
                continue;
            };
            if doc.names.insert(h, RootName { name, published }).is_some() {
                return Err(corrupt(BadSnapshot::DuplicateName));
            }
        }
        for u in wire.pending {
            u.check_shape()?;
            if version.get(u.author) >= u.start
                || doc.pending.insert((u.author, u.start), u).is_some()
            {
                return Err(corrupt(BadSnapshot::BufferedUpdate));
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

/// A read-only view of a saved document ([`Doc::save`] or [`Doc::save_history`] output):
/// reads values without building an editable document. A text kept as a state snapshot is
/// read through [`TextSnapshot`](crate::list::TextSnapshot), which checks the text as shown
/// and skips the op log; other containers are decoded (and checked) when read. Nothing here
/// checks the transaction index: use [`Doc::load`] to edit or sync.
pub struct DocView {
    /// The root names by hash (the document's map type; whether a name is published does
    /// not matter here).
    names: RootNames,
    containers: BTreeMap<ContainerId, StateWire>,
}

impl core::fmt::Debug for DocView {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DocView")
            .field("containers", &self.containers.len())
            .finish()
    }
}

impl DocView {
    /// Reads the framing and the sections of a saved document.
    pub fn parse(bytes: &[u8]) -> Result<DocView> {
        let wire = read_wire(bytes)?;
        let mut names = RootNames::new();
        for (name, published) in wire.names {
            if let Origin::Root(h) = ContainerId::root(&name, ContainerKind::Map).origin {
                names.insert(h, RootName { name, published });
            }
        }
        let containers = wire
            .containers
            .into_iter()
            .map(|c| (c.id, c.state))
            .collect();
        Ok(DocView { names, containers })
    }

    /// The content of text `id` (empty if the document never wrote it).
    pub fn text(&self, id: ContainerId) -> Result<String> {
        match self.containers.get(&id).map(StateWire::text) {
            None => Ok(String::new()),
            Some(Some(text)) => text,
            Some(None) => Err(DocError::WrongKind {
                container: id,
                expected: ContainerKind::Text,
            }),
        }
    }

    /// A JSON-like tree of `id` and everything nested in it, as [`Doc::to_tree`] gives it.
    pub fn to_tree(&self, id: ContainerId) -> Result<Node> {
        self.node(id, 0)
    }

    /// Every non-empty root by name, as [`Doc::named_roots`] gives it.
    pub fn named_roots(&self) -> Result<BTreeMap<String, Node>> {
        let mut roots = Vec::new();
        for id in self.containers.keys().filter(|id| id.is_root()) {
            let node = self.node(*id, 0)?;
            if !node.is_empty() {
                roots.push((*id, node));
            }
        }
        Ok(super::root_keys(roots, |id| match id.origin {
            Origin::Root(h) => self.names.get(&h).map(|n| n.name.as_str()),
            Origin::Created(_) => None,
        }))
    }

    fn node(&self, id: ContainerId, depth: u16) -> Result<Node> {
        if depth > MAX_DEPTH {
            return Err(DocError::TooDeep { limit: MAX_DEPTH });
        }
        let item = |it: &Item| match it {
            Item::Value(v) => Ok(Node::Value(v.clone())),
            Item::Container(c) => self.node(*c, depth + 1),
        };
        let Some(st) = self.containers.get(&id) else {
            return Ok(super::state::empty_node(id.kind));
        };
        st.view(item)
    }
}

/// The sections of a state snapshot or a history export (the kind byte says which).
fn read_wire(bytes: &[u8]) -> Result<DocWire> {
    let kind = match bytes.get(4) {
        Some(&KIND_HISTORY) => KIND_HISTORY,
        _ => KIND_SNAPSHOT,
    };
    Ok(sync::unframe(bytes, kind)?)
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
            return Err(corrupt(BadSnapshot::ContainerId));
        }
        let st = State::from_wire(c.id.kind, &c.state, replica)?;
        out.insert_at_depth(c.id, st, c.depth);
    }
    // Each container's place in `ids` (in id order, as `iter` gives them) marks whether a
    // parent refers to it already.
    let ids = container_ids(&out);
    let mut has_parent = alloc::vec![false; ids.len()];
    for (_, st, depth) in out.iter() {
        let items = st.items();
        for child in items.into_iter().filter_map(Item::as_container) {
            let fits = !child.is_root()
                && out.depth(child) == depth + 1
                && ids
                    .binary_search(&child)
                    .is_ok_and(|k| !core::mem::replace(&mut has_parent[k], true));
            if !fits {
                return Err(corrupt(BadSnapshot::NestedContainer));
            }
        }
    }
    Ok(out)
}

/// The ids of `containers`, in id order.
fn container_ids(containers: &Containers) -> Vec<ContainerId> {
    containers.iter().map(|(id, _, _)| id).collect()
}

/// Checks that every index entry refers to containers the document holds: each list or text
/// reference to events the container's engine has, each other operation to an existing
/// container of its kind, each creation to the container it created.
fn check_references(history: &History, containers: &Containers) -> Result<()> {
    // By each container's place in `ids`: its engine's version, once asked for, and whether a
    // logged operation created it.
    let ids = container_ids(containers);
    let mut engine_versions: Vec<Option<VersionVector>> = alloc::vec![None; ids.len()];
    let mut created = alloc::vec![false; ids.len()];
    let mut bad = false;
    history.for_each_seq(|id, author, first, len| {
        let v = match (ids.binary_search(&id), containers.get(&id)) {
            (Ok(k), Some(State::Text(t))) => engine_versions[k].get_or_insert_with(|| t.version()),
            (Ok(k), Some(State::List(l))) => engine_versions[k].get_or_insert_with(|| l.version()),
            _ => {
                bad = true;
                return;
            }
        };
        let last = first.checked_add(len.saturating_sub(1));
        if len > 0 && (first == 0 || last.is_none_or(|l| v.get(author) < l)) {
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
                    // Every nested container was created by a logged operation.
                    ids.binary_search(&id).map(|k| created[k] = true).is_ok()
                }
                Op::List { .. } | Op::Text { .. } => false,
                _ => op.container().is_some_and(|c| {
                    c.kind == op_kind(op) && (c.is_root() || containers.get(&c).is_some())
                }),
            };
            bad |= !ok;
        }
    }
    bad |= ids.iter().zip(&created).any(|(id, &c)| !id.is_root() && !c);
    if bad {
        return Err(corrupt(BadSnapshot::IndexReference));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::doc::Value;
    use crate::doc::history::Run;

    /// A document with a typing run, a nested container and a map write, saved.
    fn saved() -> (Doc, DocWire) {
        let mut d = Doc::new(ReplicaId(1));
        let t = d.root("t", ContainerKind::Text);
        let m = d.root("m", ContainerKind::Map);
        for i in 0..5 {
            d.text_insert(t, i, "a").unwrap();
        }
        let nested = d
            .map_insert_container(m, "n", ContainerKind::Counter)
            .unwrap();
        d.counter_add(nested, 2).unwrap();
        d.map_set(m, "k", Value::Int(1)).unwrap();
        let wire = sync::unframe(&d.save().unwrap(), KIND_SNAPSHOT).unwrap();
        (d, wire)
    }

    /// Loads `wire` (a tampered snapshot) into a document and expects `want`.
    fn assert_refused(wire: &DocWire, want: BadSnapshot) {
        let bytes = sync::frame(KIND_SNAPSHOT, wire);
        assert_eq!(Doc::load(&bytes).err(), Some(DocError::BadSnapshot(want)));
    }

    /// The read-only view shows what the document shows, from either format.
    #[test]
    fn view_reads_what_the_document_shows() {
        let (mut doc, _) = saved();
        let l = doc.root("l", ContainerKind::List);
        let inner = doc
            .list_insert_container(l, 0, ContainerKind::Text)
            .unwrap();
        doc.text_insert(inner, 0, "deep").unwrap();
        for bytes in [doc.save().unwrap(), doc.save_history().unwrap()] {
            let view = DocView::parse(&bytes).unwrap();
            assert_eq!(view.named_roots().unwrap(), doc.named_roots());
            let t = ContainerId::root("t", ContainerKind::Text);
            assert_eq!(view.text(t).unwrap(), doc.text(t).unwrap());
            assert_eq!(view.to_tree(l).unwrap(), doc.to_tree(l));
        }
        assert!(DocView::parse(b"CVD").is_err());
    }

    /// Hostile counts, counters and references in the transaction index are refused with a
    /// typed error, never an overflow, a panic or a document that cannot be used.
    #[test]
    fn tampered_indexes_are_refused() {
        let (doc, wire) = saved();
        let again = Doc::load(&sync::frame(KIND_SNAPSHOT, &wire)).unwrap();
        assert_eq!(again.roots(), doc.roots());
        // The first edit carries the root's name; the four after it are a run.
        let Some(Entry::Run(run)) = wire.history.get(1).cloned() else {
            panic!("typing is a run: {:?}", wire.history)
        };
        let varints = |vs: &[u64]| {
            let mut out = Vec::new();
            for &v in vs {
                out.extend(postcard::to_allocvec(&v).unwrap());
            }
            out
        };
        let other = ReplicaId(9);
        let runs: Vec<(Run, BadSnapshot)> = alloc::vec![
            (
                Run {
                    count: u64::MAX,
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    count: 0,
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    start: 0,
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    lamport: u64::MAX - 1,
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    len: 0,
                    events: 0,
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    len: 1 << 40,
                    tail: 1 << 40,
                    count: 1 << 40,
                    events: u64::MAX,
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            // Sizes that do not add up to the counts, overflow, or are cut short.
            (
                Run {
                    sizes: varints(&[1, 1]),
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    sizes: varints(&[1 << 62, 1 << 62]),
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    sizes: vec![0x80],
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    sizes: vec![0xff; 11],
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    sizes: varints(&[1; super::super::history::MAX_SIZES + 2]),
                    tail: 1,
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            // Dependencies on the author itself, on what was not known before, or unsorted.
            (
                Run {
                    deps: vec![(run.author, 0)],
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            (
                Run {
                    deps: vec![(other, 0)],
                    ..run.clone()
                },
                BadSnapshot::TransactionIndex,
            ),
            // More events than the text holds.
            (
                Run {
                    len: 2,
                    events: 8,
                    ..run.clone()
                },
                BadSnapshot::IndexReference,
            ),
        ];
        // The same sizes written as a pair and a shorter tail are the same run.
        let (_, mut w) = saved();
        w.history[1] = Entry::Run(Run {
            sizes: varints(&[1, 1]),
            tail: run.tail - 1,
            ..run.clone()
        });
        let same = Doc::load(&sync::frame(KIND_SNAPSHOT, &w)).unwrap();
        assert_eq!(
            same.encode_updates_since(&VersionVector::new()),
            doc.encode_updates_since(&VersionVector::new())
        );
        for (bad, want) in runs {
            let (_, mut w) = saved();
            w.history[1] = Entry::Run(bad);
            assert_refused(&w, want);
        }
        // The run as one transaction of as many operations, the first naming events far past
        // the text's last counter.
        let (_, mut w) = saved();
        let mut ops = alloc::vec![OpRec::Seq {
            id: run.id,
            first: u64::MAX,
            len: 5,
        }];
        ops.extend((1..run.count).map(|k| OpRec::Seq {
            id: run.id,
            first: run.first + k,
            len: 1,
        }));
        w.history[1] = Entry::One(Box::new(crate::doc::history::TxnRec {
            author: run.author,
            start: run.start,
            lamport: run.lamport,
            deps: None,
            names: vec![],
            ops,
        }));
        assert_refused(&w, BadSnapshot::IndexReference);
        let (_, mut w) = saved();
        let last = w.history.len() - 1;
        if let Entry::One(t) = &mut w.history[last] {
            if let OpRec::Other(Op::MapSet { map, .. }) = &mut t.ops[0] {
                map.kind = ContainerKind::Set;
            }
        }
        assert_refused(&w, BadSnapshot::IndexReference);
        // A nested container no logged operation created.
        let (_, mut w) = saved();
        for e in &mut w.history {
            if let Entry::One(t) = e {
                for op in &mut t.ops {
                    if matches!(op, OpRec::Other(Op::Create { .. })) {
                        let counter = ContainerId::root("c", ContainerKind::Counter);
                        *op = OpRec::Other(Op::Counter { counter, amount: 0 });
                    }
                }
            }
        }
        assert_refused(&w, BadSnapshot::IndexReference);
    }

    /// The saved sections encode as serde + postcard encode them, and decode the same.
    #[test]
    fn codec_matches_serde() {
        use crate::encoding::codec::tests::assert_same_as_serde;

        let (mut doc, _) = saved();
        let s = doc.root("s", ContainerKind::Set);
        doc.set_add(s, Value::Str("ü🦀".into())).unwrap();
        let r = doc.root("r", ContainerKind::Register);
        doc.register_set(r, Value::Float(-0.5)).unwrap();
        let l = doc.root("l", ContainerKind::List);
        doc.list_insert(l, 0, Value::Bytes(vec![0, 255])).unwrap();
        // An update that waits for another one, so `pending` is not empty.
        let mut other = Doc::new(ReplicaId(u64::MAX));
        other
            .text_insert(ContainerId::root("t", ContainerKind::Text), 0, "x")
            .unwrap();
        let before = other.version();
        other
            .text_insert(ContainerId::root("t", ContainerKind::Text), 1, "y")
            .unwrap();
        doc.apply_update(&other.encode_updates_since(&before))
            .unwrap();
        assert_eq!(doc.pending_count(), 1);
        for kind in [KIND_SNAPSHOT, KIND_HISTORY] {
            let wire = doc.wire(kind);
            let bytes = postcard::to_allocvec(&wire).unwrap();
            assert_eq!(crate::encoding::codec::to_vec(&wire), bytes);
            let read: DocWire = sync::unframe(&doc.write(kind).unwrap(), kind).unwrap();
            assert_same_as_serde(&read);
            read.containers.iter().for_each(assert_same_as_serde);
            read.containers
                .iter()
                .for_each(|c| assert_same_as_serde(&c.state));
        }
    }

    /// The saved bytes do not depend on the order the roots were named in.
    #[test]
    fn save_is_independent_of_naming_order() {
        let names: Vec<String> = (0..40).map(|i| alloc::format!("root{i}")).collect();
        let save = |order: &mut dyn Iterator<Item = &String>| {
            let mut d = Doc::new(ReplicaId(1));
            for n in order {
                d.root(n, ContainerKind::Map);
            }
            (d.save().unwrap(), d.save_history().unwrap())
        };
        let forward = save(&mut names.iter());
        assert_eq!(save(&mut names.iter().rev()), forward);
        let loaded = Doc::load(&forward.0).unwrap();
        assert_eq!(
            (loaded.save().unwrap(), loaded.save_history().unwrap()),
            forward
        );
    }

    /// A nested container that is missing, or that two containers refer to, is refused.
    #[test]
    fn bad_nesting_is_refused() {
        let (_, mut w) = saved();
        w.containers.retain(|c| c.id.is_root());
        assert_refused(&w, BadSnapshot::NestedContainer);
        let (_, mut w) = saved();
        let m = ContainerId::root("m", ContainerKind::Map);
        let map = w.containers.iter().find(|c| c.id == m).unwrap();
        let mut copy: ContainerWire =
            postcard::from_bytes(&postcard::to_allocvec(map).unwrap()).unwrap();
        copy.id = ContainerId::root("m2", ContainerKind::Map);
        w.containers.push(copy);
        assert_refused(&w, BadSnapshot::NestedContainer);
    }
}
