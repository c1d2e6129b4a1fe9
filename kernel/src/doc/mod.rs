//! Documents: named root containers of every kind, nested containers, transactions, change
//! events, and delta sync.
//!
//! A [`Doc`] is a tree of containers (maps, lists, texts, counters, registers, sets) whose
//! leaves are [`Value`]s. Roots are named ([`ContainerId::root`]) and exist implicitly on every
//! replica; nested containers are created inside a map entry or a list element. Containers are
//! named by small `Copy` [`ContainerId`]s, never by borrowed handles, so every call below takes
//! and returns owned data and can be exposed across an FFI boundary as is.
//!
//! Local edits are grouped into **transactions** ([`Doc::begin`] ... [`Doc::commit`]); an
//! edit outside a transaction is a transaction of its own. A committed transaction is one
//! update (see [`crate::sync`]) and one [`ChangeEvent`]. Peers exchange version vectors and
//! updates: [`Doc::version`], [`Doc::encode_updates_since`], [`Doc::apply_update`].
//!
//! Invariants:
//!
//! * every change goes through a staging area and is swapped in only when all of it
//!   succeeded, so a failed call changes nothing. Lists and texts that local edits or remote
//!   updates change are moved into the stage with a checkpoint, and rolled back to it if the
//!   change does not commit (no copy). Other containers are copied on first touch, except
//!   that a single edit outside a transaction, which checks its arguments before changing
//!   anything, moves its one container;
//! * updates are applied exactly once each, in causal order; the rest are buffered;
//! * the containers form a tree: a nested container is attached once, by the operation right
//!   after the one that created it.
//!
//! ```
//! use converge::ReplicaId;
//! use converge::doc::{ContainerId, ContainerKind, Doc, Value};
//!
//! let todo = ContainerId::root("todo", ContainerKind::List);
//! let mut alice = Doc::new(ReplicaId(1));
//! let mut bob = Doc::new(ReplicaId(2));
//!
//! alice.list_insert(todo, 0, Value::from("milk"))?;
//! bob.list_insert(todo, 0, Value::from("eggs"))?;
//!
//! // Each sends what the other lacks.
//! let to_bob = alice.encode_updates_since(&bob.version());
//! let to_alice = bob.encode_updates_since(&alice.version());
//! bob.apply_update(&to_bob)?;
//! alice.apply_update(&to_alice)?;
//! assert_eq!(alice.to_tree(todo), bob.to_tree(todo));
//! assert_eq!(alice.list_len(todo)?, 2);
//! # Ok::<(), converge::doc::DocError>(())
//! ```

mod apply;
mod error;
mod event;
mod history;
mod node;
mod snapshot;
mod state;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::ops::Range;

use converge_pool::Budget;

pub use self::error::{BadSnapshot, DocError};
pub use self::event::{Change, ChangeEvent, ChangeOrigin, Changed};
pub use self::node::Node;
pub use self::snapshot::DocView;
pub use self::state::MAX_DEPTH;
pub use crate::sync::InvalidUpdate;
pub use crate::value::{ContainerId, ContainerKind, Item, Origin, Value};

use self::history::{History, OpRec, TxnRec};
use self::state::{Containers, Stage, State};
use crate::clock::{Dot, ReplicaId, Timestamp};
use crate::sync::{self, Op, Update};
use crate::version::VersionVector;

/// `Result` with [`DocError`].
pub type Result<T, E = DocError> = core::result::Result<T, E>;

/// An open transaction: staged containers and the operations recorded so far.
struct Txn {
    stage: Stage,
    /// Its operations so far; list and text edits as references to their events, consecutive
    /// ones on one container merged into one operation.
    ops: Vec<OpRec>,
    /// The first counter of the update this transaction will become.
    start: u64,
    /// The Lamport time of its first operation.
    lamport: u64,
}

impl Txn {
    /// Records that the last edit added the author's events `first .. first + len` to list
    /// or text `id`: extends the last operation when it is a reference to the events right
    /// before, on the same container.
    fn push_seq(&mut self, id: ContainerId, first: u64, len: u64) {
        if let Some(OpRec::Seq {
            id: last,
            first: f,
            len: l,
        }) = self.ops.last_mut()
        {
            if *last == id && *f + *l == first {
                *l += len;
                return;
            }
        }
        self.ops.push(OpRec::Seq { id, first, len });
    }

    fn next_dot(&self, replica: ReplicaId) -> Dot {
        Dot::new(replica, self.start + self.ops.len() as u64)
    }

    fn next_stamp(&self, replica: ReplicaId) -> Timestamp {
        Timestamp::new(self.lamport + self.ops.len() as u64, replica)
    }
}

pub use self::apply::ApplyReport;
use self::apply::UpdateId;

/// A collaborative document; see the [module docs](self).
pub struct Doc {
    replica: ReplicaId,
    containers: Containers,
    version: VersionVector,
    /// The greatest Lamport time seen.
    lamport: u64,
    /// Every applied transaction, without its bytes (see the `history` module).
    history: History,
    /// Updates waiting for their dependencies.
    pending: BTreeMap<UpdateId, Update>,
    /// Pointwise maximum of the buffered updates' dependencies.
    pending_needs: VersionVector,
    txn: Option<Txn>,
    /// Queued change events, when `queue_events` is on.
    events: Vec<ChangeEvent>,
    queue_events: bool,
    /// Charged with the encoded size of every update applied or buffered while a limit is
    /// set, and with the size of the snapshot a document was loaded from.
    budget: Budget,
    /// Whether the budget has a real limit (so a commit can fail).
    limited: bool,
    /// Names of the root containers, by the hash their ids carry.
    names: BTreeMap<u64, String>,
    /// The hashes of the names some applied update carries (so no later one needs to).
    published: BTreeSet<u64>,
}

impl Doc {
    /// An empty document whose local edits are attributed to `replica`. Every replica editing
    /// a document must use its own id.
    pub fn new(replica: ReplicaId) -> Self {
        Self::with_memory_limit(replica, usize::MAX)
    }

    /// An empty document that keeps at most `bytes` of update history (applied and buffered,
    /// counted by encoded size). An update that would exceed it is refused with
    /// [`DocError::BudgetExceeded`]. The materialized state is proportional to the history.
    pub fn with_memory_limit(replica: ReplicaId, bytes: usize) -> Self {
        Doc {
            replica,
            containers: Containers::new(),
            version: VersionVector::new(),
            lamport: 0,
            history: History::default(),
            pending: BTreeMap::new(),
            pending_needs: VersionVector::new(),
            txn: None,
            events: Vec::new(),
            queue_events: false,
            budget: Budget::new(bytes),
            limited: bytes != usize::MAX,
            names: BTreeMap::new(),
            published: BTreeSet::new(),
        }
    }

    /// The root container called `name` of kind `kind` (the same id as
    /// [`ContainerId::root`]), remembering the name so that [`named_roots`](Doc::named_roots)
    /// shows it.
    pub fn root(&mut self, name: &str, kind: ContainerKind) -> ContainerId {
        let id = ContainerId::root(name, kind);
        if let Origin::Root(hash) = id.origin {
            self.names.entry(hash).or_insert_with(|| name.into());
        }
        id
    }

    /// The name of root container `id`, if this document knows it.
    pub fn root_name(&self, id: ContainerId) -> Option<&str> {
        match id.origin {
            Origin::Root(hash) => self.names.get(&hash).map(String::as_str),
            Origin::Created(_) => None,
        }
    }

    /// Every non-empty root container's tree keyed by its name: the document as JSON sees it.
    /// A root whose name this document does not know is keyed `#` and its 16-hex-digit hash;
    /// when roots of different kinds share a name, each is keyed `name:kind`
    /// (see [`ContainerKind::name`]).
    pub fn named_roots(&self) -> BTreeMap<String, Node> {
        root_keys(self.roots(), |id| self.root_name(id))
    }

    /// The replica local edits are attributed to.
    pub fn replica(&self) -> ReplicaId {
        self.replica
    }

    /// Every update applied so far, as a version vector (buffered updates are not included).
    pub fn version(&self) -> VersionVector {
        self.version.clone()
    }

    /// Number of buffered updates waiting for their dependencies.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Bytes charged to the memory budget: the encoded size of the updates applied or
    /// buffered while a limit is set (a document with no limit skips counting them), plus
    /// the size of the snapshot it was loaded from.
    pub fn memory_used(&self) -> usize {
        self.budget.used()
    }

    /// Turns the event queue on or off (off by default, so a document nobody listens to does
    /// not accumulate events). While on, every committed local transaction (including single
    /// edits) and every `apply_update` that changed something queues its [`ChangeEvent`] for
    /// [`take_events`](Doc::take_events). Turning it off drops what is queued.
    pub fn queue_events(&mut self, on: bool) {
        self.queue_events = on;
        if !on {
            self.events = Vec::new();
        }
    }

    /// The queued change events since the last call, oldest first (see
    /// [`queue_events`](Doc::queue_events)).
    pub fn take_events(&mut self) -> Vec<ChangeEvent> {
        core::mem::take(&mut self.events)
    }

    // ------------------------------------------------------------------ transactions

    /// Opens a transaction: the following edits are applied together by [`commit`] as one
    /// update with one change event, or not at all ([`rollback`]). Reads see the edits.
    ///
    /// [`commit`]: Doc::commit
    /// [`rollback`]: Doc::rollback
    pub fn begin(&mut self) -> Result<()> {
        if self.txn.is_some() {
            return Err(DocError::TransactionOpen);
        }
        self.txn = Some(Txn {
            stage: Stage::local(),
            ops: Vec::new(),
            start: self.version.get(self.replica) + 1,
            lamport: self.lamport + 1,
        });
        Ok(())
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.txn.is_some()
    }

    /// Discards the open transaction's edits (nothing happens if none is open).
    pub fn rollback(&mut self) {
        if let Some(txn) = self.txn.take() {
            txn.stage.discard(&mut self.containers);
        }
    }

    /// Commits the open transaction as one update; returns its change event (also queued for
    /// [`take_events`](Doc::take_events) when the queue is on). A transaction with no edits
    /// commits nothing.
    pub fn commit(&mut self) -> Result<ChangeEvent> {
        let Txn {
            stage,
            ops,
            start,
            lamport,
        } = self.txn.take().ok_or(DocError::NoTransaction)?;
        if ops.is_empty() {
            // Nothing changed, but containers moved into the stage go back.
            stage.finish(&mut self.containers);
            return Ok(ChangeEvent {
                origin: ChangeOrigin::Local,
                changes: Vec::new(),
            });
        }
        let names = self.names_to_publish(&ops);
        if self.limited {
            let replica = self.replica;
            let size = Update {
                author: replica,
                start,
                lamport,
                deps: self.version.clone(),
                names: names.clone(),
                ops: (ops.iter())
                    .map(|op| op.to_op(replica, &self.containers, Some(&stage)))
                    .collect(),
            }
            .encoded_len();
            if self.budget.try_reserve(size).is_err() {
                stage.discard(&mut self.containers);
                return Err(DocError::BudgetExceeded {
                    requested: size,
                    available: self.budget.available(),
                });
            }
        }
        let changes = stage.finish(&mut self.containers);
        let n = ops.len() as u64;
        self.publish(&names);
        let rec = TxnRec {
            author: self.replica,
            start,
            lamport,
            deps: None,
            names,
            ops,
        };
        self.history.push(rec, &self.version);
        self.version.advance(self.replica, start + n - 1);
        self.lamport = self.lamport.max(lamport + n - 1);
        let event = ChangeEvent {
            origin: ChangeOrigin::Local,
            changes,
        };
        if self.queue_events {
            self.events.push(event.clone());
        }
        Ok(event)
    }

    /// The names of the roots `ops` touch that no applied update carries yet, once each.
    fn names_to_publish(&self, ops: &[OpRec]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in ops.iter().filter_map(OpRec::container) {
            if let (true, Origin::Root(h)) = (self.needs_publish(id), id.origin) {
                let name = &self.names[&h];
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
        out
    }

    /// Learns the root names an applied update carries.
    fn publish(&mut self, names: &[String]) {
        for name in names {
            if let Origin::Root(h) = ContainerId::root(name, ContainerKind::Map).origin {
                self.names.entry(h).or_insert_with(|| name.clone());
                self.published.insert(h);
            }
        }
    }

    /// Runs `f` inside the open transaction, or inside a fresh one committed right after.
    ///
    /// `target` is the one container a single-container edit changes. On first touch it is
    /// moved into the stage instead of copied when that is safe:
    ///
    /// * a list or text always, with a checkpoint to roll it back to (see
    ///   [`Stage::take_sequence`]), so a transaction costs time proportional to its edits,
    ///   not to the document;
    /// * any other container outside a transaction and without a memory limit (so the commit
    ///   cannot fail): such an edit checks its arguments before changing anything, so on
    ///   error the untouched container is moved back.
    fn edit<R>(
        &mut self,
        target: Option<ContainerId>,
        f: impl FnOnce(&mut Txn, &Containers, ReplicaId) -> Result<R>,
    ) -> Result<R> {
        let replica = self.replica;
        let auto = self.txn.is_none();
        if auto {
            self.begin()?;
        }
        let txn = self.txn.as_mut().ok_or(DocError::NoTransaction)?;
        let moved = match target {
            Some(id) if !txn.stage.take_sequence(&mut self.containers, id) => {
                let take = auto && !self.limited && !txn.stage.staged.contains_key(&id);
                match take.then(|| self.containers.remove(&id)).flatten() {
                    Some(st) => {
                        txn.stage.staged.insert(id, st);
                        Some(id)
                    }
                    None => None,
                }
            }
            _ => None,
        };
        match f(txn, &self.containers, replica) {
            Ok(r) => {
                if auto {
                    self.commit()?;
                }
                Ok(r)
            }
            Err(e) => {
                if let Some(id) = moved {
                    if let Some(st) = txn.stage.staged.remove(&id) {
                        self.containers.insert(id, st);
                    }
                }
                if auto {
                    self.rollback();
                }
                Err(e)
            }
        }
    }

    /// Records and applies a non-sequence operation in `txn`.
    fn record(
        txn: &mut Txn,
        base: &Containers,
        replica: ReplicaId,
        op: Op,
        fresh: Option<ContainerId>,
    ) -> Result<()> {
        let (dot, ts) = (txn.next_dot(replica), txn.next_stamp(replica));
        txn.stage.apply_remote(base, replica, dot, ts, &op, fresh)?;
        txn.ops.push(OpRec::Other(op));
        Ok(())
    }

    /// Records the creation of a nested container of `kind`; returns its id.
    fn create(
        txn: &mut Txn,
        base: &Containers,
        replica: ReplicaId,
        kind: ContainerKind,
    ) -> Result<ContainerId> {
        let id = ContainerId {
            kind,
            origin: Origin::Created(txn.next_dot(replica)),
        };
        Self::record(txn, base, replica, Op::Create { kind }, None)?;
        Ok(id)
    }

    // ------------------------------------------------------------------ map edits

    /// Sets `key` of `map` to `value`.
    pub fn map_set(&mut self, map: ContainerId, key: &str, value: Value) -> Result<()> {
        check_kind(map, ContainerKind::Map)?;
        self.edit(Some(map), |txn, base, r| {
            txn.stage.note_key(base, map, key);
            let op = Op::MapSet {
                map,
                key: key.into(),
                value: Item::Value(value),
            };
            Self::record(txn, base, r, op, None)
        })
    }

    /// Sets many entries of `map` in one transaction (a repeated key keeps its last value).
    pub fn map_set_batch(&mut self, map: ContainerId, entries: &[(String, Value)]) -> Result<()> {
        check_kind(map, ContainerKind::Map)?;
        self.edit(Some(map), |txn, base, r| {
            for (k, v) in entries {
                txn.stage.note_key(base, map, k);
                let op = Op::MapSet {
                    map,
                    key: k.clone(),
                    value: Item::Value(v.clone()),
                };
                Self::record(txn, base, r, op, None)?;
            }
            Ok(())
        })
    }

    /// Creates a new empty container of `kind` under `key` of `map`; returns its id.
    pub fn map_insert_container(
        &mut self,
        map: ContainerId,
        key: &str,
        kind: ContainerKind,
    ) -> Result<ContainerId> {
        check_kind(map, ContainerKind::Map)?;
        self.edit(None, |txn, base, r| {
            if !txn.stage.exists(base, map) {
                return Err(DocError::UnknownContainer(map));
            }
            txn.stage.note_key(base, map, key);
            let id = Self::create(txn, base, r, kind)?;
            let op = Op::MapSet {
                map,
                key: key.into(),
                value: Item::Container(id),
            };
            Self::record(txn, base, r, op, Some(id))?;
            Ok(id)
        })
    }

    /// Removes `key` from `map` (a no-op if absent, but still an operation).
    pub fn map_delete(&mut self, map: ContainerId, key: &str) -> Result<()> {
        check_kind(map, ContainerKind::Map)?;
        self.edit(Some(map), |txn, base, r| {
            txn.stage.note_key(base, map, key);
            let op = Op::MapDelete {
                map,
                key: key.into(),
            };
            Self::record(txn, base, r, op, None)
        })
    }

    // ------------------------------------------------------------------ list edits

    /// Runs a local edit on the staged list, which replaces `del` elements at `pos` with
    /// `ins` new ones, and records the operations it produced.
    #[allow(clippy::too_many_arguments)]
    fn list_edit(
        txn: &mut Txn,
        base: &Containers,
        replica: ReplicaId,
        list: ContainerId,
        (pos, del, ins): (usize, usize, usize),
        f: impl FnOnce(&mut crate::list::List<Item>) -> crate::Result<()>,
    ) -> Result<()> {
        let State::List(l) = txn.stage.get_mut(base, list, replica)? else {
            return Err(DocError::WrongKind {
                container: list,
                expected: ContainerKind::List,
            });
        };
        let before = l.checkpoint();
        f(l)?;
        if let Some((first, len)) = l.events_after(before) {
            txn.push_seq(list, first.counter, len);
            txn.stage.note_range(list, pos, del, ins);
        }
        Ok(())
    }

    /// Inserts `value` before position `index` of `list`.
    pub fn list_insert(&mut self, list: ContainerId, index: usize, value: Value) -> Result<()> {
        self.list_insert_batch(list, index, core::slice::from_ref(&value))
    }

    /// Inserts `values` before position `index` of `list`, as one run.
    pub fn list_insert_batch(
        &mut self,
        list: ContainerId,
        index: usize,
        values: &[Value],
    ) -> Result<()> {
        check_kind(list, ContainerKind::List)?;
        if values.is_empty() {
            return Ok(());
        }
        let items: Vec<Item> = values.iter().cloned().map(Item::Value).collect();
        if self.can_edit_now(list) {
            return self.seq_edit_now(list, |st| match st {
                State::List(l) => l.insert_batch(index, &items).map(|()| (index, 0)),
                _ => Err(crate::Error::InvalidOperation),
            });
        }
        self.edit(Some(list), |txn, base, r| {
            Self::list_edit(txn, base, r, list, (index, 0, items.len()), |l| {
                l.insert_batch(index, &items)
            })
        })
    }

    /// Appends `values` at the end of `list`.
    pub fn list_push_batch(&mut self, list: ContainerId, values: &[Value]) -> Result<()> {
        let len = self.list_len(list)?;
        self.list_insert_batch(list, len, values)
    }

    /// Creates a new empty container of `kind` before position `index` of `list`; returns its
    /// id.
    pub fn list_insert_container(
        &mut self,
        list: ContainerId,
        index: usize,
        kind: ContainerKind,
    ) -> Result<ContainerId> {
        check_kind(list, ContainerKind::List)?;
        let len = self.list_len(list)?;
        if index > len {
            return Err(DocError::OutOfBounds { index, len });
        }
        self.edit(None, |txn, base, r| {
            let id = Self::create(txn, base, r, kind)?;
            txn.stage.attach(base, list, Some(id))?;
            Self::list_edit(txn, base, r, list, (index, 0, 1), |l| {
                l.insert(index, Item::Container(id))
            })?;
            Ok(id)
        })
    }

    /// Deletes the elements of `list` in `range`.
    pub fn list_delete(&mut self, list: ContainerId, range: Range<usize>) -> Result<()> {
        check_kind(list, ContainerKind::List)?;
        let span = (range.start, range.end.saturating_sub(range.start), 0);
        if self.can_edit_now(list) {
            return self.seq_edit_now(list, |st| match st {
                State::List(l) => l.delete(range).map(|()| (span.0, span.1)),
                _ => Err(crate::Error::InvalidOperation),
            });
        }
        self.edit(Some(list), |txn, base, r| {
            Self::list_edit(txn, base, r, list, span, |l| l.delete(range))
        })
    }

    // ------------------------------------------------------------------ text edits

    /// Runs a local edit on the staged text and records the operations it produced. `f`
    /// returns what it did in chars: `del` chars at `pos` replaced by `ins` new ones.
    fn text_edit(
        &mut self,
        text: ContainerId,
        f: impl FnOnce(&mut crate::list::Text) -> crate::Result<(usize, usize)>,
    ) -> Result<()> {
        check_kind(text, ContainerKind::Text)?;
        if self.can_edit_now(text) {
            return self.seq_edit_now(text, |st| match st {
                State::Text(t) => f(t),
                _ => Err(crate::Error::InvalidOperation),
            });
        }
        self.edit(Some(text), |txn, base, r| {
            let State::Text(t) = txn.stage.get_mut(base, text, r)? else {
                return Err(DocError::WrongKind {
                    container: text,
                    expected: ContainerKind::Text,
                });
            };
            let before = t.checkpoint();
            let (pos, del) = f(t)?;
            if let Some((first, len)) = t.events_after(before) {
                // Every event of a local edit deletes one of `del` positions or inserts.
                let ins = (len as usize).saturating_sub(del);
                txn.push_seq(text, first.counter, len);
                txn.stage.note_range(text, pos, del, ins);
            }
            Ok(())
        })
    }

    /// A single list or text edit outside a transaction in a document with no memory limit,
    /// so its commit cannot fail: the container is edited in place (an edit checks its arguments before
    /// it changes anything, and is rolled back to its checkpoint should it fail later), and
    /// the transaction is logged as a reference to its events, with no staging and no
    /// operations built. What [`edit`](Self::edit) and [`commit`](Self::commit) would do,
    /// for the edit users make most.
    fn seq_edit_now(
        &mut self,
        id: ContainerId,
        f: impl FnOnce(&mut State) -> crate::Result<(usize, usize)>,
    ) -> Result<()> {
        let replica = self.replica;
        let (t, created) = self
            .containers
            .get_or_insert_root(id, || State::empty(id.kind, replica))
            .ok_or(DocError::UnknownContainer(id))?;
        let Some(cp) = t.checkpoint() else {
            return Err(DocError::UnknownContainer(id));
        };
        let edited = f(t);
        let events = t.events_after(cp);
        let ((pos, del), (first, len)) = match (edited, events) {
            (Ok(span), Some(events)) => (span, events),
            (result, _) => {
                // An error, or nothing changed (an empty insert).
                t.rollback(cp);
                if created {
                    self.containers.remove(&id);
                }
                return result.map(|_| ()).map_err(DocError::from);
            }
        };
        // Every event of a local edit is a deletion of one of `del` positions or an insertion.
        let ins = (len as usize).saturating_sub(del);
        let (start, lamport) = (self.version.get(self.replica) + 1, self.lamport + 1);
        self.history.push_seq(
            self.replica,
            start,
            lamport,
            id,
            first.counter,
            len,
            &self.version,
        );
        self.version.advance(self.replica, start);
        self.lamport = lamport;
        if self.queue_events && (del > 0 || ins > 0) {
            self.events.push(ChangeEvent {
                origin: ChangeOrigin::Local,
                changes: alloc::vec![Change {
                    container: id,
                    what: Changed::Range {
                        start: pos,
                        removed: del,
                        inserted: ins,
                    },
                }],
            });
        }
        Ok(())
    }

    /// Whether an edit of list or text `id` may take [`seq_edit_now`](Self::seq_edit_now).
    fn can_edit_now(&self, id: ContainerId) -> bool {
        self.txn.is_none() && !self.limited && !self.needs_publish(id)
    }

    /// Whether an edit of `id` must carry its root name (see [`names_to_publish`]).
    ///
    /// [`names_to_publish`]: Self::names_to_publish
    fn needs_publish(&self, id: ContainerId) -> bool {
        match id.origin {
            Origin::Root(h) => !self.published.contains(&h) && self.names.contains_key(&h),
            Origin::Created(_) => false,
        }
    }

    /// Inserts `s` at char position `pos` of `text`.
    pub fn text_insert(&mut self, text: ContainerId, pos: usize, s: &str) -> Result<()> {
        self.text_edit(text, |t| {
            t.insert(pos, s)?;
            Ok((pos, 0))
        })
    }

    /// Deletes the chars of `text` in `range`.
    pub fn text_delete(&mut self, text: ContainerId, range: Range<usize>) -> Result<()> {
        self.text_edit(text, |t| {
            let span = (range.start, range.end.saturating_sub(range.start));
            t.delete(range)?;
            Ok(span)
        })
    }

    /// Replaces `del` chars at `pos` of `text` with `s`.
    pub fn text_splice(
        &mut self,
        text: ContainerId,
        pos: usize,
        del: usize,
        s: &str,
    ) -> Result<()> {
        self.text_edit(text, |t| {
            t.splice(pos, del, s)?;
            Ok((pos, del))
        })
    }

    /// [`text_insert`](Doc::text_insert) at a UTF-16 offset (what JavaScript strings count).
    /// An offset inside a surrogate pair is [`DocError::InvalidPosition`].
    pub fn text_insert_utf16(&mut self, text: ContainerId, pos16: usize, s: &str) -> Result<()> {
        self.text_edit(text, |t| {
            let pos = t.utf16_to_char(pos16)?;
            t.insert(pos, s)?;
            Ok((pos, 0))
        })
    }

    /// [`text_delete`](Doc::text_delete) of a UTF-16 range.
    pub fn text_delete_utf16(&mut self, text: ContainerId, range16: Range<usize>) -> Result<()> {
        self.text_edit(text, |t| {
            let start = t.utf16_to_char(range16.start)?;
            let end = t.utf16_to_char(range16.end)?;
            t.delete(start..end)?;
            Ok((start, end.saturating_sub(start)))
        })
    }

    /// Length of `text` in UTF-16 code units.
    pub fn text_len_utf16(&self, text: ContainerId) -> Result<usize> {
        Ok(match self.read(text, ContainerKind::Text)? {
            Some(State::Text(t)) => t.len_utf16(),
            _ => 0,
        })
    }

    // ------------------------------------------------------------------ counter, register, set

    /// Adds `amount` (negative to subtract) to `counter`.
    pub fn counter_add(&mut self, counter: ContainerId, amount: i64) -> Result<()> {
        check_kind(counter, ContainerKind::Counter)?;
        self.edit(Some(counter), |txn, base, r| {
            Self::record(txn, base, r, Op::Counter { counter, amount }, None)?;
            txn.stage.note_counter(counter, amount);
            Ok(())
        })
    }

    /// Writes `value` to `register`.
    pub fn register_set(&mut self, register: ContainerId, value: Value) -> Result<()> {
        check_kind(register, ContainerKind::Register)?;
        self.edit(Some(register), |txn, base, r| {
            txn.stage.note_register(base, register);
            Self::record(txn, base, r, Op::Register { register, value }, None)
        })
    }

    fn set_edit(
        &mut self,
        set: ContainerId,
        touched: &[Value],
        f: impl FnOnce(&mut crate::set::AwSet<Value>, ReplicaId) -> crate::set::AwSetDelta<Value>,
    ) -> Result<()> {
        check_kind(set, ContainerKind::Set)?;
        self.edit(Some(set), |txn, base, r| {
            if !matches!(txn.stage.get_mut(base, set, r)?, State::Set(_)) {
                return Err(DocError::WrongKind {
                    container: set,
                    expected: ContainerKind::Set,
                });
            }
            txn.stage.note_set(base, set, touched);
            let Ok(State::Set(s)) = txn.stage.get_mut(base, set, r) else {
                return Err(DocError::UnknownContainer(set));
            };
            let delta = f(s, r);
            if !delta.is_empty() {
                txn.ops.push(OpRec::Other(Op::Set { set, delta }));
            }
            Ok(())
        })
    }

    /// Adds `value` to `set`.
    pub fn set_add(&mut self, set: ContainerId, value: Value) -> Result<()> {
        let touched = [value];
        self.set_edit(set, &touched, |s, r| {
            let [value] = &touched;
            s.insert(r, value.clone())
        })
    }

    /// Adds every element of `values` to `set`, as one operation.
    pub fn set_add_batch(&mut self, set: ContainerId, values: &[Value]) -> Result<()> {
        self.set_edit(set, values, |s, r| s.insert_batch(r, values))
    }

    /// Removes `value` from `set` (the additions of it this replica has seen).
    pub fn set_remove(&mut self, set: ContainerId, value: &Value) -> Result<()> {
        self.set_edit(set, core::slice::from_ref(value), |s, _| s.remove(value))
    }

    /// Removes every element of `values` from `set`, as one operation.
    pub fn set_remove_batch(&mut self, set: ContainerId, values: &[Value]) -> Result<()> {
        self.set_edit(set, values, |s, _| s.remove_batch(values))
    }

    // ------------------------------------------------------------------ reads

    /// The current state of `id` (the open transaction's copy first), checked against `kind`.
    fn read(&self, id: ContainerId, kind: ContainerKind) -> Result<Option<&State>> {
        check_kind(id, kind)?;
        let st = match &self.txn {
            Some(t) => t.stage.get(&self.containers, id),
            None => self.containers.get(&id),
        };
        if st.is_none() && !id.is_root() {
            return Err(DocError::UnknownContainer(id));
        }
        Ok(st)
    }

    /// The item under `key` of `map`.
    pub fn map_get(&self, map: ContainerId, key: &str) -> Result<Option<Item>> {
        Ok(match self.read(map, ContainerKind::Map)? {
            Some(State::Map(m)) => m.get(&String::from(key)).cloned(),
            _ => None,
        })
    }

    /// The live keys of `map`, ascending.
    pub fn map_keys(&self, map: ContainerId) -> Result<Vec<String>> {
        Ok(match self.read(map, ContainerKind::Map)? {
            Some(State::Map(m)) => m.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        })
    }

    /// The live entries of `map`, by ascending key.
    pub fn map_entries(&self, map: ContainerId) -> Result<Vec<(String, Item)>> {
        Ok(match self.read(map, ContainerKind::Map)? {
            Some(State::Map(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => Vec::new(),
        })
    }

    /// Number of elements of `list`.
    pub fn list_len(&self, list: ContainerId) -> Result<usize> {
        Ok(match self.read(list, ContainerKind::List)? {
            Some(State::List(l)) => l.len(),
            _ => 0,
        })
    }

    /// Element `index` of `list`.
    pub fn list_get(&self, list: ContainerId, index: usize) -> Result<Option<Item>> {
        Ok(match self.read(list, ContainerKind::List)? {
            Some(State::List(l)) => l.get(index).cloned(),
            _ => None,
        })
    }

    /// The elements of `list` in order.
    pub fn list_items(&self, list: ContainerId) -> Result<Vec<Item>> {
        Ok(match self.read(list, ContainerKind::List)? {
            Some(State::List(l)) => l.to_vec(),
            _ => Vec::new(),
        })
    }

    /// The content of `text`.
    pub fn text(&self, text: ContainerId) -> Result<String> {
        Ok(match self.read(text, ContainerKind::Text)? {
            Some(State::Text(t)) => t.to_string(),
            _ => String::new(),
        })
    }

    /// Length of `text` in chars.
    pub fn text_len(&self, text: ContainerId) -> Result<usize> {
        Ok(match self.read(text, ContainerKind::Text)? {
            Some(State::Text(t)) => t.len(),
            _ => 0,
        })
    }

    /// The value of `counter`.
    pub fn counter(&self, counter: ContainerId) -> Result<i64> {
        Ok(match self.read(counter, ContainerKind::Counter)? {
            Some(State::Counter(c)) => c.value(),
            _ => 0,
        })
    }

    /// The value of `register` (`None` if never written).
    pub fn register(&self, register: ContainerId) -> Result<Option<Value>> {
        Ok(match self.read(register, ContainerKind::Register)? {
            Some(State::Register(r)) => r.get().cloned(),
            _ => None,
        })
    }

    /// The elements of `set`, ascending.
    pub fn set_values(&self, set: ContainerId) -> Result<Vec<Value>> {
        Ok(match self.read(set, ContainerKind::Set)? {
            Some(State::Set(s)) => {
                let mut v: Vec<Value> = s.iter().cloned().collect();
                v.sort();
                v
            }
            _ => Vec::new(),
        })
    }

    /// Whether `set` contains `value`.
    pub fn set_contains(&self, set: ContainerId, value: &Value) -> Result<bool> {
        Ok(match self.read(set, ContainerKind::Set)? {
            Some(State::Set(s)) => s.contains(value),
            _ => false,
        })
    }

    /// A JSON-like snapshot of `id` and everything nested in it.
    pub fn to_tree(&self, id: ContainerId) -> Node {
        state::node(&self.containers, self.txn.as_ref().map(|t| &t.stage), id)
    }

    /// Every non-empty root container with its tree, by id (an empty root reads the same as
    /// one never touched), including the open transaction's edits. Two replicas that have
    /// applied the same updates return equal maps.
    pub fn roots(&self) -> BTreeMap<ContainerId, Node> {
        let staged = self.txn.as_ref().map(|t| t.stage.staged.keys());
        self.containers
            .keys()
            .chain(staged.into_iter().flatten())
            .filter(|id| id.is_root())
            .map(|id| (*id, self.to_tree(*id)))
            .filter(|(_, node)| !node.is_empty())
            .collect()
    }

    // ------------------------------------------------------------------ sync

    /// The updates this document has applied that a peer at `since` lacks, as one message
    /// for [`apply_update`](Doc::apply_update).
    ///
    /// The updates are rebuilt from the containers' op logs and the index of transactions
    /// (no update bytes are kept), in the order they were applied here (a causal order).
    /// Costs time proportional to the updates sent, plus a logarithm of the history per
    /// replica. A resent update is the update its author sent, operation for operation; a
    /// list or text operation may be split differently where the receiving replica's runs
    /// differ from the author's, with the same events.
    pub fn encode_updates_since(&self, since: &VersionVector) -> Vec<u8> {
        let stage = self.txn.as_ref().map(|t| &t.stage);
        let updates = (self.history).updates_since(since, &self.version, &self.containers, stage);
        sync::encode_updates(&updates.iter().collect::<Vec<_>>())
    }

    /// Combines update messages into one; see [`sync::merge_updates`].
    pub fn merge_updates(messages: &[&[u8]]) -> Result<Vec<u8>> {
        Ok(sync::merge_updates(messages)?)
    }

    /// Applies a message from [`encode_updates_since`](Doc::encode_updates_since) (or
    /// [`merge_updates`](Doc::merge_updates)). Idempotent and order-independent: known
    /// updates are skipped, updates whose dependencies are missing are buffered (see
    /// [`ApplyReport::pending`] and [`ApplyReport::missing`]) and applied as soon as a later
    /// call supplies what they need.
    ///
    /// On error nothing changes: the message is validated and applied to private copies
    /// first. Fails during a transaction with [`DocError::TransactionOpen`].
    pub fn apply_update(&mut self, bytes: &[u8]) -> Result<ApplyReport> {
        if self.txn.is_some() {
            return Err(DocError::TransactionOpen);
        }
        if bytes.len() > self.budget.available() {
            return Err(DocError::BudgetExceeded {
                requested: bytes.len(),
                available: self.budget.available(),
            });
        }
        let incoming = sync::decode_updates(bytes)?;
        self.ingest(incoming, true)
    }
}

/// Keys `roots` by name as [`Doc::named_roots`] describes, with `name_of` giving the names.
fn root_keys<'a>(
    roots: BTreeMap<ContainerId, Node>,
    name_of: impl Fn(ContainerId) -> Option<&'a str>,
) -> BTreeMap<String, Node> {
    let mut uses: BTreeMap<Option<&str>, usize> = BTreeMap::new();
    for id in roots.keys() {
        *uses.entry(name_of(*id)).or_default() += 1;
    }
    roots
        .into_iter()
        .map(|(id, node)| {
            let key = match (name_of(id), id.origin) {
                (Some(n), _) if uses[&Some(n)] == 1 => n.to_string(),
                (Some(n), _) => alloc::format!("{n}:{}", id.kind.name()),
                (None, Origin::Root(h)) => alloc::format!("#{h:016x}"),
                (None, Origin::Created(_)) => String::new(),
            };
            (key, node)
        })
        .collect()
}

fn check_kind(id: ContainerId, expected: ContainerKind) -> Result<()> {
    if id.kind != expected {
        return Err(DocError::WrongKind {
            container: id,
            expected,
        });
    }
    Ok(())
}

impl core::fmt::Debug for Doc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Doc")
            .field("replica", &self.replica)
            .field("version", &self.version)
            .field("roots", &self.roots())
            .field("pending", &self.pending.len())
            .finish()
    }
}
