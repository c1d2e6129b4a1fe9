//! Container states and the staging area every change goes through.
//!
//! A [`Stage`] holds the containers a transaction or an incoming update touches, away from
//! the document. Operations are applied there; only when all of them succeed does the
//! document take them back ([`Stage::finish`]). So a failed local edit or a bad remote update
//! leaves the document exactly as it was. Most staged containers are private copies, made
//! once per container per stage. A list or text a local edit targets is moved in instead,
//! with a [`Checkpoint`] that the document rolls it back to if the transaction does not
//! commit ([`State::rollback`]), so a transaction costs time in its edits, not in the size of
//! the document.
//!
//! The state CRDTs of the kernel do the merging: `LwwMap` (map entries), `List`/`Text` (the
//! sequence engine), `PNCounter`, `LwwRegister`, `AwSet`.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::error::DocError;
use super::event::{Change, Changed};
use super::node::Node;
use crate::Crdt;
use crate::clock::{Dot, ReplicaId, Timestamp};
use crate::counter::PNCounter;
use crate::list::{Checkpoint, List, Text};
use crate::map::LwwMap;
use crate::register::LwwRegister;
use crate::set::AwSet;
use crate::sync::{InvalidUpdate, Op};
use crate::value::{ContainerId, ContainerKind, Item, Origin, Value};

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
    Set(AwSet<Value>),
}

impl State {
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

    pub(crate) fn empty(kind: ContainerKind, replica: ReplicaId) -> State {
        match kind {
            ContainerKind::Map => State::Map(LwwMap::new()),
            ContainerKind::List => State::List(Box::new(List::new(replica))),
            ContainerKind::Text => State::Text(Box::new(Text::new(replica))),
            ContainerKind::Counter => State::Counter(PNCounter::new()),
            ContainerKind::Register => State::Register(LwwRegister::default()),
            ContainerKind::Set => State::Set(AwSet::new()),
        }
    }
}

/// How deep containers may nest (a root is at depth 0). Deeper trees are refused, so that
/// walking, printing or dropping a materialized [`Node`] tree cannot exhaust the stack.
pub const MAX_DEPTH: u16 = 128;

/// All containers of a document, and the depth of each nested one.
#[derive(Default)]
pub(crate) struct Containers {
    states: BTreeMap<ContainerId, State>,
    depths: BTreeMap<ContainerId, u16>,
}

impl Containers {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn get(&self, id: &ContainerId) -> Option<&State> {
        self.states.get(id)
    }

    /// The state of `id`, made with `empty` if `id` is a root not held yet (`None` for a
    /// nested container not held); the flag says whether it was made.
    pub(crate) fn get_or_insert_root(
        &mut self,
        id: ContainerId,
        empty: impl FnOnce() -> State,
    ) -> Option<(&mut State, bool)> {
        use alloc::collections::btree_map::Entry;
        match self.states.entry(id) {
            Entry::Occupied(e) => Some((e.into_mut(), false)),
            Entry::Vacant(e) if id.is_root() => Some((e.insert(empty()), true)),
            Entry::Vacant(_) => None,
        }
    }

    pub(crate) fn insert(&mut self, id: ContainerId, st: State) {
        self.states.insert(id, st);
    }

    pub(crate) fn remove(&mut self, id: &ContainerId) -> Option<State> {
        self.states.remove(id)
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = &ContainerId> + '_ {
        self.states.keys()
    }

    /// Nesting depth of `id`: 0 for roots (and for containers it does not hold).
    pub(crate) fn depth(&self, id: ContainerId) -> u16 {
        self.depths.get(&id).copied().unwrap_or(0)
    }

    /// Inserts `st` as container `id` at nesting depth `depth`.
    pub(crate) fn insert_at_depth(&mut self, id: ContainerId, st: State, depth: u16) {
        if depth > 0 {
            self.depths.insert(id, depth);
        }
        self.states.insert(id, st);
    }

    /// Every container with its state and depth, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ContainerId, &State, u16)> + '_ {
        self.states
            .iter()
            .map(|(id, st)| (*id, st, self.depth(*id)))
    }
}

/// The touched containers (copies, or moved-in sequences) plus what is needed to describe
/// the change.
#[derive(Default)]
pub(crate) struct Stage {
    pub(crate) staged: BTreeMap<ContainerId, State>,
    /// Map keys written or removed by remote operations, per map.
    keys: BTreeSet<(ContainerId, String)>,
    /// Depths of the containers attached in this stage.
    depths: BTreeMap<ContainerId, u16>,
    /// For a local transaction: its changes, tracked edit by edit. `None` for remote updates,
    /// whose changes are found by comparing them with the committed containers.
    pub(crate) local: Option<LocalTrack>,
    /// The lists and texts moved in from the document rather than copied, each with the
    /// checkpoint it returns to if the stage is discarded.
    moved: Vec<(ContainerId, Checkpoint)>,
}

/// The visible effect of local edits, recorded as they are made, so that committing costs
/// time proportional to the edits rather than to the containers' size (and so the committed
/// container may be moved into the stage instead of copied).
#[derive(Default)]
pub(crate) struct LocalTrack {
    /// Each touched map key with its value before the transaction.
    keys: BTreeMap<(ContainerId, String), Option<Item>>,
    /// Per list or text, the smallest range covering all edits: (start, removed, inserted).
    ranges: BTreeMap<ContainerId, (usize, usize, usize)>,
    /// Per counter, the net amount added.
    counters: BTreeMap<ContainerId, i128>,
    /// Per register, its value before the transaction.
    registers: BTreeMap<ContainerId, Option<Value>>,
    /// Per touched set element, whether it was in the set before the transaction.
    sets: BTreeMap<(ContainerId, Value), bool>,
}

/// Extends the covering range `cover` (in the coordinates before the transaction, and the
/// current ones) with an edit that replaces `del` positions at `pos` with `ins` new ones.
pub(crate) fn compose_range(
    cover: Option<(usize, usize, usize)>,
    pos: usize,
    del: usize,
    ins: usize,
) -> (usize, usize, usize) {
    match cover {
        None => (pos, del, ins),
        Some((start, removed, inserted)) => {
            // The union of the covered range and the edited one, in current coordinates.
            let lo = start.min(pos);
            let hi = (start + inserted).max(pos + del);
            // Outside the cover, old and current positions differ by `removed - inserted`.
            (lo, hi - lo - inserted + removed, hi - lo - del + ins)
        }
    }
}

fn wrong(container: ContainerId, expected: ContainerKind) -> DocError {
    DocError::WrongKind {
        container,
        expected,
    }
}

impl Stage {
    /// A stage for a local transaction, which tracks its changes edit by edit.
    pub(crate) fn local() -> Stage {
        Stage {
            local: Some(LocalTrack::default()),
            ..Stage::default()
        }
    }

    /// Moves `id` out of `base` into the stage with a checkpoint, if it is a list or text not
    /// staged yet; returns whether it did. Edits then change it in place: [`finish`] hands
    /// it back, [`discard`] rolls it back first, and [`diff`] reads its change from its own
    /// history instead of comparing it with a copy.
    ///
    /// [`finish`]: Self::finish
    /// [`discard`]: Self::discard
    /// [`diff`]: Self::diff
    pub(crate) fn take_sequence(&mut self, base: &mut Containers, id: ContainerId) -> bool {
        if self.staged.contains_key(&id) {
            return false;
        }
        let Some(cp) = base.get(&id).and_then(State::checkpoint) else {
            return false;
        };
        let Some(st) = base.remove(&id) else {
            return false;
        };
        self.staged.insert(id, st);
        self.moved.push((id, cp));
        true
    }

    /// Drops a stage that will not be committed: the lists and texts moved in go back to the
    /// document, rolled back to their checkpoints; copies are dropped.
    pub(crate) fn discard(mut self, base: &mut Containers) {
        for (id, cp) in core::mem::take(&mut self.moved) {
            if let Some(mut st) = self.staged.remove(&id) {
                st.rollback(cp);
                base.insert(id, st);
            }
        }
    }

    /// The staged copy of `id`, made on first touch. A root springs into existence empty; a
    /// nested container must have been created before.
    pub(crate) fn get_mut(
        &mut self,
        base: &Containers,
        id: ContainerId,
        replica: ReplicaId,
    ) -> Result<&mut State, DocError> {
        use alloc::collections::btree_map::Entry;
        match self.staged.entry(id) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let st = match base.get(&id) {
                    Some(s) => s.clone(),
                    None if id.is_root() => State::empty(id.kind, replica),
                    None => return Err(DocError::UnknownContainer(id)),
                };
                Ok(e.insert(st))
            }
        }
    }

    /// The current (staged or committed) state of `id`, if it exists.
    pub(crate) fn get<'a>(&'a self, base: &'a Containers, id: ContainerId) -> Option<&'a State> {
        self.staged.get(&id).or_else(|| base.get(&id))
    }

    /// Whether `id` exists (staged or committed), roots always do.
    pub(crate) fn exists(&self, base: &Containers, id: ContainerId) -> bool {
        id.is_root() || self.get(base, id).is_some()
    }

    /// Checks the nested containers among `items`: at most one, and it must be `fresh`, the
    /// container created by the operation right before. So every nested container has exactly
    /// one parent, created before it, and the containers form a tree (no cycles, no sharing).
    fn check_items<'a>(
        items: impl Iterator<Item = &'a Item>,
        fresh: Option<ContainerId>,
    ) -> Result<Option<ContainerId>, DocError> {
        let mut seen = 0;
        for item in items {
            if let Item::Container(c) = item {
                seen += 1;
                if seen > 1 || Some(*c) != fresh {
                    return Err(if c.is_root() {
                        DocError::InvalidUpdate(InvalidUpdate::NestedRoot)
                    } else {
                        DocError::UnknownContainer(*c)
                    });
                }
            }
        }
        Ok(if seen == 1 { fresh } else { None })
    }

    /// Records the depth of `child`, attached under `parent`, refusing trees deeper than
    /// [`MAX_DEPTH`].
    pub(crate) fn attach(
        &mut self,
        base: &Containers,
        parent: ContainerId,
        child: Option<ContainerId>,
    ) -> Result<(), DocError> {
        let Some(child) = child else { return Ok(()) };
        let parent_depth = self
            .depths
            .get(&parent)
            .copied()
            .unwrap_or_else(|| base.depth(parent));
        let depth = parent_depth + 1;
        if depth > MAX_DEPTH {
            return Err(DocError::TooDeep { limit: MAX_DEPTH });
        }
        self.depths.insert(child, depth);
        Ok(())
    }

    /// Records that `key` of `map` was written.
    pub(crate) fn touch_key(&mut self, map: ContainerId, key: &str) {
        self.keys.insert((map, key.into()));
    }

    /// Applies one remote operation with id `dot` and timestamp `ts`.
    pub(crate) fn apply_remote(
        &mut self,
        base: &Containers,
        replica: ReplicaId,
        dot: Dot,
        ts: Timestamp,
        op: &Op,
        fresh: Option<ContainerId>,
    ) -> Result<(), DocError> {
        let author = dot.replica;
        match op {
            Op::Create { kind } => {
                let id = ContainerId {
                    kind: *kind,
                    origin: Origin::Created(dot),
                };
                if self.get(base, id).is_some() {
                    return Err(DocError::InvalidUpdate(InvalidUpdate::CreatedTwice));
                }
                self.staged.insert(id, State::empty(*kind, replica));
            }
            Op::MapSet { map, key, value } => {
                let child = Self::check_items(core::iter::once(value), fresh)?;
                self.attach(base, *map, child)?;
                match self.get_mut(base, *map, replica)? {
                    State::Map(m) => {
                        m.insert_at(ts, key.clone(), value.clone());
                    }
                    _ => return Err(wrong(*map, ContainerKind::Map)),
                }
                self.touch_key(*map, key);
            }
            Op::MapDelete { map, key } => {
                match self.get_mut(base, *map, replica)? {
                    State::Map(m) => {
                        m.remove_at(ts, key);
                    }
                    _ => return Err(wrong(*map, ContainerKind::Map)),
                }
                self.touch_key(*map, key);
            }
            Op::List { list, ops } => {
                check_seq_authors(ops.ops.iter().map(|o| o.id()), author)?;
                let child = Self::check_items(
                    ops.ops.iter().flat_map(|o| match o {
                        crate::list::SequenceOp::Insert { content, .. } => content.as_slice(),
                        _ => &[],
                    }),
                    fresh,
                )?;
                self.attach(base, *list, child)?;
                match self.get_mut(base, *list, replica)? {
                    State::List(l) => {
                        let r = l.apply(ops).map_err(|_| bad_seq())?;
                        seq_report_ok(&r)?;
                    }
                    _ => return Err(wrong(*list, ContainerKind::List)),
                }
            }
            Op::Text { text, ops } => {
                check_seq_authors(ops.ops.iter().map(|o| o.id()), author)?;
                match self.get_mut(base, *text, replica)? {
                    State::Text(t) => {
                        let r = t.apply(ops).map_err(|_| bad_seq())?;
                        seq_report_ok(&r)?;
                    }
                    _ => return Err(wrong(*text, ContainerKind::Text)),
                }
            }
            Op::Counter { counter, amount } => match self.get_mut(base, *counter, replica)? {
                State::Counter(c) => {
                    c.add(author, *amount);
                }
                _ => return Err(wrong(*counter, ContainerKind::Counter)),
            },
            Op::Register { register, value } => match self.get_mut(base, *register, replica)? {
                State::Register(r) => {
                    r.set_at(ts, value.clone());
                }
                _ => return Err(wrong(*register, ContainerKind::Register)),
            },
            Op::Set { set, delta } => {
                if delta.inserts().iter().any(|(_, d)| d.replica != author) {
                    return Err(DocError::InvalidUpdate(InvalidUpdate::ForeignAuthor));
                }
                match self.get_mut(base, *set, replica)? {
                    State::Set(s) => s.merge_delta(delta),
                    _ => return Err(wrong(*set, ContainerKind::Set)),
                }
            }
        }
        Ok(())
    }

    /// Records the value of `key` of `map` before its first local write.
    pub(crate) fn note_key(&mut self, base: &Containers, map: ContainerId, key: &str) {
        let before = match self.get(base, map) {
            Some(State::Map(m)) => m.get(&String::from(key)).cloned(),
            _ => None,
        };
        if let Some(t) = &mut self.local {
            t.keys.entry((map, key.into())).or_insert(before);
        }
    }

    /// Records a local sequence edit: `del` positions at `pos` replaced by `ins`.
    pub(crate) fn note_range(&mut self, id: ContainerId, pos: usize, del: usize, ins: usize) {
        if let Some(t) = &mut self.local {
            let cover = t.ranges.get(&id).copied();
            t.ranges.insert(id, compose_range(cover, pos, del, ins));
        }
    }

    /// Records a local counter increment.
    pub(crate) fn note_counter(&mut self, id: ContainerId, amount: i64) {
        if let Some(t) = &mut self.local {
            *t.counters.entry(id).or_insert(0) += i128::from(amount);
        }
    }

    /// Records the register's value before its first local write.
    pub(crate) fn note_register(&mut self, base: &Containers, id: ContainerId) {
        let before = match self.get(base, id) {
            Some(State::Register(r)) => r.get().cloned(),
            _ => None,
        };
        if let Some(t) = &mut self.local {
            t.registers.entry(id).or_insert(before);
        }
    }

    /// Records whether each of `values` was in the set before the first local edit of it.
    pub(crate) fn note_set(&mut self, base: &Containers, id: ContainerId, values: &[Value]) {
        let Some(State::Set(s)) = self.staged.get(&id).or_else(|| base.get(&id)) else {
            if let Some(t) = &mut self.local {
                for v in values {
                    t.sets.entry((id, v.clone())).or_insert(false);
                }
            }
            return;
        };
        if let Some(t) = &mut self.local {
            for v in values {
                t.sets
                    .entry((id, v.clone()))
                    .or_insert_with(|| s.contains(v));
            }
        }
    }

    /// The changes of a local transaction, from what was tracked (see [`LocalTrack`]).
    fn local_changes(&self, t: &LocalTrack) -> Vec<Change> {
        let mut by_id: BTreeMap<ContainerId, Changed> = BTreeMap::new();
        for ((map, key), before) in &t.keys {
            let now = match self.staged.get(map) {
                Some(State::Map(m)) => m.get(key),
                _ => None,
            };
            if now != before.as_ref() {
                if let Changed::Keys(keys) = by_id
                    .entry(*map)
                    .or_insert_with(|| Changed::Keys(Vec::new()))
                {
                    keys.push(key.clone());
                }
            }
        }
        for (id, &(start, removed, inserted)) in &t.ranges {
            if removed > 0 || inserted > 0 {
                by_id.insert(
                    *id,
                    Changed::Range {
                        start,
                        removed,
                        inserted,
                    },
                );
            }
        }
        for (id, net) in &t.counters {
            if *net != 0 {
                by_id.insert(*id, Changed::Value);
            }
        }
        for (id, before) in &t.registers {
            let now = match self.staged.get(id) {
                Some(State::Register(r)) => r.get(),
                _ => None,
            };
            if now != before.as_ref() {
                by_id.insert(*id, Changed::Value);
            }
        }
        for ((id, v), before) in &t.sets {
            let now = matches!(self.staged.get(id), Some(State::Set(s)) if s.contains(v));
            if now != *before {
                by_id.insert(*id, Changed::Value);
            }
        }
        by_id
            .into_iter()
            .map(|(container, what)| Change { container, what })
            .collect()
    }

    /// Describes how the staged copies differ from `base`, then moves them into `base`.
    pub(crate) fn finish(mut self, base: &mut Containers) -> Vec<Change> {
        let changes = match self.local.take() {
            Some(t) => self.local_changes(&t),
            None => self.diff(base),
        };
        for (id, st) in self.staged {
            base.insert(id, st);
        }
        base.depths.extend(self.depths);
        changes
    }

    /// How the staged containers differ from `base` (the state before), one entry per
    /// changed container, in container-id order. A list or text moved in reports the range
    /// its events since the checkpoint touched ([`State::change_since`]).
    pub(crate) fn diff(&mut self, base: &Containers) -> Vec<Change> {
        let mut out = Vec::new();
        for (id, new) in &mut self.staged {
            let old = base.get(id);
            if let Some(&(_, cp)) = self.moved.iter().find(|(m, _)| m == id) {
                if let Some(what) = new.change_since(cp) {
                    out.push(Change {
                        container: *id,
                        what,
                    });
                }
                continue;
            }
            let what = match &*new {
                State::Map(m) => {
                    let keys: Vec<String> = self
                        .keys
                        .range((*id, String::new())..)
                        .take_while(|(c, _)| c == id)
                        .filter(|(_, k)| {
                            let before = match old {
                                Some(State::Map(o)) => o.get(k),
                                _ => None,
                            };
                            before != m.get(k)
                        })
                        .map(|(_, k)| k.clone())
                        .collect();
                    (!keys.is_empty()).then_some(Changed::Keys(keys))
                }
                State::List(l) => {
                    let before: Vec<&Item> = match old {
                        Some(State::List(o)) => o.iter().collect(),
                        _ => Vec::new(),
                    };
                    let after: Vec<&Item> = l.iter().collect();
                    range_diff(&before, &after)
                }
                State::Text(t) => {
                    let before = match old {
                        Some(State::Text(o)) => o.to_string(),
                        _ => String::new(),
                    };
                    text_diff(&before, &t.to_string())
                }
                State::Counter(c) => {
                    let before = match old {
                        Some(State::Counter(o)) => o.value(),
                        _ => 0,
                    };
                    (before != c.value()).then_some(Changed::Value)
                }
                State::Register(r) => {
                    let before = match old {
                        Some(State::Register(o)) => o.get(),
                        _ => None,
                    };
                    (before != r.get()).then_some(Changed::Value)
                }
                State::Set(s) => {
                    let changed = match old {
                        Some(State::Set(o)) => o != s,
                        _ => !s.is_empty(),
                    };
                    changed.then_some(Changed::Value)
                }
            };
            if let Some(what) = what {
                out.push(Change {
                    container: *id,
                    what,
                });
            }
        }
        out
    }
}

fn bad_seq() -> DocError {
    DocError::InvalidUpdate(InvalidUpdate::SequenceRejected)
}

fn check_seq_authors(ids: impl Iterator<Item = Dot>, author: ReplicaId) -> Result<(), DocError> {
    for id in ids {
        if id.replica != author {
            return Err(DocError::InvalidUpdate(InvalidUpdate::ForeignAuthor));
        }
    }
    Ok(())
}

/// A remote update is applied after everything it depends on, so each of its sequence
/// operations must apply in full and be new.
fn seq_report_ok(r: &crate::list::ApplyReport) -> Result<(), DocError> {
    if !r.missing.is_empty() {
        return Err(DocError::InvalidUpdate(InvalidUpdate::UnknownItems));
    }
    if r.invalid > 0 || r.duplicates > 0 {
        return Err(bad_seq());
    }
    Ok(())
}

/// Length of the common prefix of `a` and `b`: 64-byte blocks compared with `memcmp` first.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let blocks = a
        .chunks_exact(64)
        .zip(b.chunks_exact(64))
        .take_while(|(x, y)| x == y)
        .count();
    let skip = blocks * 64;
    skip + a[skip..]
        .iter()
        .zip(&b[skip..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Length of the common suffix of `a` and `b`.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let blocks = a
        .rchunks_exact(64)
        .zip(b.rchunks_exact(64))
        .take_while(|(x, y)| x == y)
        .count();
    let skip = blocks * 64;
    skip + a[..a.len() - skip]
        .iter()
        .rev()
        .zip(b[..b.len() - skip].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// [`range_diff`] for text, in chars, comparing bytes (a byte-identical prefix or suffix of
/// two strings is cut back to a char boundary, which is then one in both).
fn text_diff(a: &str, b: &str) -> Option<Changed> {
    let mut prefix = common_prefix(a.as_bytes(), b.as_bytes());
    while !a.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let mut suffix = common_suffix(ra.as_bytes(), rb.as_bytes());
    while !ra.is_char_boundary(ra.len() - suffix) || !rb.is_char_boundary(rb.len() - suffix) {
        suffix -= 1;
    }
    let removed = ra[..ra.len() - suffix].chars().count();
    let inserted = rb[..rb.len() - suffix].chars().count();
    (removed > 0 || inserted > 0).then(|| Changed::Range {
        start: a[..prefix].chars().count(),
        removed,
        inserted,
    })
}

/// The smallest single range covering the difference between `a` and `b`.
fn range_diff<T: PartialEq>(a: &[T], b: &[T]) -> Option<Changed> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let removed = ra.len() - suffix;
    let inserted = rb.len() - suffix;
    (removed > 0 || inserted > 0).then_some(Changed::Range {
        start: prefix,
        removed,
        inserted,
    })
}

/// Materializes `id` and everything nested in it. Missing roots read as empty; a missing
/// nested container (which a valid document never has) reads as an empty one of its kind.
pub(crate) fn node(base: &Containers, stage: Option<&Stage>, id: ContainerId) -> Node {
    let st = match stage {
        Some(s) => s.get(base, id),
        None => base.get(&id),
    };
    let item_node = |it: &Item| match it {
        Item::Value(v) => Node::Value(v.clone()),
        Item::Container(c) => node(base, stage, *c),
    };
    match st {
        Some(State::Map(m)) => {
            Node::Map(m.iter().map(|(k, v)| (k.clone(), item_node(v))).collect())
        }
        Some(State::List(l)) => Node::List(l.iter().map(item_node).collect()),
        Some(State::Text(t)) => Node::Text(t.to_string()),
        Some(State::Counter(c)) => Node::Counter(c.value()),
        Some(State::Register(r)) => Node::Register(r.get().cloned()),
        Some(State::Set(s)) => {
            let mut v: Vec<Value> = s.iter().cloned().collect();
            v.sort();
            Node::Set(v)
        }
        None => empty_node(id.kind),
    }
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
