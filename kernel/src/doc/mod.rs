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
//!   succeeded, so a failed call changes nothing. Lists and texts are never copied: local
//!   edits change them in place and remote updates move them into the stage, with a
//!   checkpoint to roll them back to if the change does not commit. Other containers are
//!   copied on first touch, except that a single edit outside a transaction, which checks its
//!   arguments before changing anything, moves its one container;
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
mod stage;
mod state;

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use converge_pool::Budget;

pub use self::error::{BadSnapshot, DocError};
pub use self::event::{Change, ChangeEvent, ChangeOrigin, Changed};
pub use self::node::Node;
pub use self::snapshot::DocView;
pub use self::state::MAX_DEPTH;
pub use crate::sync::InvalidUpdate;
pub use crate::value::{ContainerId, ContainerKind, Item, Origin, Value};

use self::history::{History, OpRec, TxnRec};
use self::stage::Stage;
use self::state::{Containers, State};
use crate::clock::{Dot, ReplicaId, Timestamp};
use crate::sync::{self, Op, Update};
use crate::version::VersionVector;

/// `Result` with [`DocError`].
pub type Result<T, E = DocError> = core::result::Result<T, E>;

/// What [`Doc::edit`] opened: whether it began the transaction, and the container it moved
/// into the stage (to move back if the edit fails).
#[derive(Clone, Copy)]
struct EditOpen {
    auto: bool,
    moved: Option<ContainerId>,
}

/// The document's local transaction: whether one is open, its staged containers and the
/// operations recorded so far. A document keeps one for its whole life: closing it leaves the
/// stage empty and keeps the operation vector's memory, so a transaction per keystroke
/// allocates no collections of its own.
struct Txn {
    open: bool,
    /// Empty while closed.
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
    /// A closed transaction.
    fn new() -> Txn {
        Txn {
            open: false,
            stage: Stage::local(),
            ops: Vec::new(),
            start: 0,
            lamport: 0,
        }
    }

    /// Opens it: its update will start at counter `start` and Lamport time `lamport`.
    fn begin(&mut self, start: u64, lamport: u64) {
        self.open = true;
        self.start = start;
        self.lamport = lamport;
    }

    /// Closes it; its stage must have been finished or discarded. The operation vector is
    /// kept for the next transaction unless it grew large (a batch rolled back, say), which
    /// would hold its memory for nothing.
    fn close(&mut self) {
        const KEEP: usize = 16;
        self.open = false;
        if self.ops.capacity() > KEEP {
            self.ops = Vec::new();
        } else {
            self.ops.clear();
        }
    }

    /// The transaction, if open.
    fn if_open(&self) -> Option<&Txn> {
        self.open.then_some(self)
    }

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
    /// Updates waiting for their dependencies (a hash table: looked up, and saved in id
    /// order only after a sort, see `save`).
    pending: Updates,
    /// Pointwise maximum of the buffered updates' dependencies.
    pending_needs: VersionVector,
    txn: Txn,
    /// Queued change events, when `queue_events` is on.
    events: Vec<ChangeEvent>,
    queue_events: bool,
    /// Charged with the encoded size of every update applied or buffered while a limit is
    /// set, and with the size of the snapshot a document was loaded from.
    budget: Budget,
    /// Whether the budget has a real limit (so a commit can fail).
    limited: bool,
    /// Names of the root containers, by the hash their ids carry (a hash table: looked up,
    /// and saved in hash order only after a sort, see `save`).
    names: RootNames,
}

/// Updates by id.
pub(crate) type Updates = hashbrown::HashMap<UpdateId, Update>;

/// Root names by the hash their ids carry.
pub(crate) type RootNames = hashbrown::HashMap<u64, RootName>;

/// A root container's name, as a document knows it.
pub(crate) struct RootName {
    pub(crate) name: String,
    /// Whether some applied update carries the name (so no later one needs to).
    pub(crate) published: bool,
}

impl RootName {
    /// `name`, not carried by any applied update yet.
    fn new(name: &str) -> RootName {
        RootName {
            name: name.into(),
            published: false,
        }
    }
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
            pending: Updates::new(),
            pending_needs: VersionVector::new(),
            txn: Txn::new(),
            events: Vec::new(),
            queue_events: false,
            budget: Budget::new(bytes),
            limited: bytes != usize::MAX,
            names: RootNames::new(),
        }
    }

    /// The root container called `name` of kind `kind` (the same id as
    /// [`ContainerId::root`]), remembering the name so that [`named_roots`](Doc::named_roots)
    /// shows it.
    pub fn root(&mut self, name: &str, kind: ContainerKind) -> ContainerId {
        let id = ContainerId::root(name, kind);
        if let Origin::Root(hash) = id.origin {
            self.names
                .entry(hash)
                .or_insert_with(|| RootName::new(name));
        }
        id
    }

    /// The name of root container `id`, if this document knows it.
    pub fn root_name(&self, id: ContainerId) -> Option<&str> {
        match id.origin {
            Origin::Root(hash) => self.names.get(&hash).map(|n| n.name.as_str()),
            Origin::Created(_) => None,
        }
    }

    /// Every non-empty root container's tree keyed by its name: the document as JSON sees it.
    /// A root whose name this document does not know is keyed `#` and its 16-hex-digit hash;
    /// when roots of different kinds share a name, each is keyed `name:kind`
    /// (see [`ContainerKind::name`]).
    pub fn named_roots(&self) -> BTreeMap<String, Node> {
        root_keys(self.root_trees(), |id| self.root_name(id))
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
        if self.txn.open {
            return Err(DocError::TransactionOpen);
        }
        self.txn
            .begin(self.version.get(self.replica) + 1, self.lamport + 1);
        Ok(())
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.txn.open
    }

    /// Discards the open transaction's edits (nothing happens if none is open).
    pub fn rollback(&mut self) {
        if self.txn.open {
            self.txn.stage.discard(&mut self.containers);
            self.txn.close();
        }
    }

    /// Commits the open transaction as one update; returns its change event (also queued for
    /// [`take_events`](Doc::take_events) when the queue is on). A transaction with no edits
    /// commits nothing.
    pub fn commit(&mut self) -> Result<ChangeEvent> {
        let Txn {
            open,
            start,
            lamport,
            ..
        } = self.txn;
        if !open {
            return Err(DocError::NoTransaction);
        }
        if self.txn.ops.is_empty() {
            // Nothing changed, but containers moved into the stage go back.
            self.txn.stage.finish(&mut self.containers);
            self.txn.close();
            return Ok(ChangeEvent {
                origin: ChangeOrigin::Local,
                changes: Vec::new(),
            });
        }
        let names = self.names_to_publish(&self.txn.ops);
        if self.limited {
            let (replica, txn) = (self.replica, &self.txn);
            let size = Update {
                author: replica,
                start,
                lamport,
                deps: self.version.clone(),
                names: names.clone(),
                ops: (txn.ops.iter())
                    .map(|op| op.to_op(replica, &self.containers, Some(&txn.stage)))
                    .collect(),
            }
            .encoded_len();
            if self.budget.try_reserve(size).is_err() {
                self.txn.stage.discard(&mut self.containers);
                self.txn.close();
                return Err(DocError::BudgetExceeded {
                    requested: size,
                    available: self.budget.available(),
                });
            }
        }
        let changes = self.txn.stage.finish(&mut self.containers);
        let n = self.txn.ops.len() as u64;
        self.publish(&names);
        match (self.txn.ops.as_slice(), names.is_empty()) {
            // One list or text operation (a keystroke): logged as `push` would, but with no
            // record built, and the operation vector kept for the next transaction.
            (&[OpRec::Seq { id, first, len }], true) => {
                let (history, replica) = (&mut self.history, self.replica);
                history.push_seq(replica, start, lamport, id, first, len, &self.version);
            }
            _ => {
                let rec = TxnRec {
                    author: self.replica,
                    start,
                    lamport,
                    deps: None,
                    names,
                    ops: core::mem::take(&mut self.txn.ops),
                };
                self.history.push(rec, &self.version);
            }
        }
        self.txn.close();
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
                let name = &self.names[&h].name;
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
        out
    }

    /// Whether an edit of `id` must carry its root name (see [`names_to_publish`]).
    ///
    /// [`names_to_publish`]: Self::names_to_publish
    fn needs_publish(&self, id: ContainerId) -> bool {
        match id.origin {
            Origin::Root(h) => self.names.get(&h).is_some_and(|n| !n.published),
            Origin::Created(_) => false,
        }
    }

    /// Learns the root names an applied update carries.
    fn publish(&mut self, names: &[String]) {
        for name in names {
            if let Origin::Root(h) = ContainerId::root(name, ContainerKind::Map).origin {
                let known = self.names.entry(h).or_insert_with(|| RootName::new(name));
                known.published = true;
            }
        }
    }

    /// Runs `f` inside the open transaction, or inside a fresh one committed right after.
    ///
    /// `f` gets the document's containers mutably only to edit lists and texts in place
    /// (see [`seq_edit_txn`](Self::seq_edit_txn)); everything else it stages.
    ///
    /// `target` is the one container a single-container edit of another kind (a map, counter,
    /// register or set) changes. It is moved into the stage instead of copied outside a
    /// transaction and without a memory limit (so the commit cannot fail): such an edit
    /// checks its arguments before changing anything, so on error the untouched container is
    /// moved back.
    fn edit<R>(
        &mut self,
        target: Option<ContainerId>,
        f: impl FnOnce(&mut Txn, &mut Containers, ReplicaId) -> Result<R>,
    ) -> Result<R> {
        // The generic part is only the call: opening and closing are shared by every edit.
        let open = self.edit_open(target)?;
        let r = f(&mut self.txn, &mut self.containers, self.replica);
        self.edit_close(open, r.is_ok())?;
        r
    }

    /// Opens [`edit`](Self::edit): begins a transaction if none is open and moves `target`
    /// into the stage when that is safe.
    fn edit_open(&mut self, target: Option<ContainerId>) -> Result<EditOpen> {
        let auto = !self.txn.open;
        if auto {
            self.begin()?;
        }
        let txn = &mut self.txn;
        let moved = match target {
            Some(id) if auto && !self.limited && !txn.stage.staged.contains(&id) => {
                let st = self.containers.remove(&id);
                st.map(|st| {
                    txn.stage.staged.insert(id, st);
                    id
                })
            }
            _ => None,
        };
        Ok(EditOpen { auto, moved })
    }

    /// Closes [`edit`](Self::edit): commits the transaction it began, or after a failed edit
    /// moves the untouched container back and rolls that transaction back.
    fn edit_close(&mut self, open: EditOpen, ok: bool) -> Result<()> {
        if ok {
            if open.auto {
                self.commit()?;
            }
            return Ok(());
        }
        if let Some(id) = open.moved {
            if let Some(st) = self.txn.stage.staged.remove(&id) {
                self.containers.insert(id, st);
            }
        }
        if open.auto {
            self.rollback();
        }
        Ok(())
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

    // ------------------------------------------------------------------ reads

    /// The current state of `id` (the open transaction's copy first), checked against `kind`.
    fn read(&self, id: ContainerId, kind: ContainerKind) -> Result<Option<&State>> {
        check_kind(id, kind)?;
        let st = match self.txn.if_open() {
            Some(t) => t.stage.get(&self.containers, id),
            None => self.containers.get(&id),
        };
        if st.is_none() && !id.is_root() {
            return Err(DocError::UnknownContainer(id));
        }
        Ok(st)
    }

    /// A JSON-like snapshot of `id` and everything nested in it.
    pub fn to_tree(&self, id: ContainerId) -> Node {
        stage::node(&self.containers, self.txn.if_open().map(|t| &t.stage), id)
    }

    /// Every non-empty root container with its tree, by id (an empty root reads the same as
    /// one never touched), including the open transaction's edits. Two replicas that have
    /// applied the same updates return equal maps.
    pub fn roots(&self) -> BTreeMap<ContainerId, Node> {
        let mut roots = BTreeMap::new();
        // Inserted one by one: `collect` would bring a sort and a bulk build into every build.
        for (id, node) in self.root_trees() {
            roots.insert(id, node);
        }
        roots
    }

    /// [`roots`](Doc::roots) as a list in id order (which `named_roots` uses, so that a binding
    /// that only asks for names compiles no B-tree keyed by container id).
    fn root_trees(&self) -> Vec<(ContainerId, Node)> {
        let staged = self.txn.if_open().map(|t| t.stage.staged.keys());
        let mut ids: Vec<ContainerId> = (self.containers.keys())
            .chain(staged.into_iter().flatten())
            .filter(|id| id.is_root())
            .copied()
            .collect();
        // Each source is in id order; a root both held and staged comes twice.
        crate::sort::sort(&mut ids);
        ids.dedup();
        (ids.into_iter())
            .filter_map(|id| {
                let node = self.to_tree(id);
                (!node.is_empty()).then_some((id, node))
            })
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
        let stage = self.txn.if_open().map(|t| &t.stage);
        let updates = (self.history).updates_since(since, &self.version, &self.containers, stage);
        sync::encode_updates(&updates)
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
        if self.txn.open {
            return Err(DocError::TransactionOpen);
        }
        if bytes.len() > self.budget.available() {
            return Err(DocError::BudgetExceeded {
                requested: bytes.len(),
                available: self.budget.available(),
            });
        }
        let incoming = sync::decode_updates(bytes)?;
        self.ingest(incoming)
    }
}

/// Keys `roots` (in id order) by name as [`Doc::named_roots`] describes, with `name_of` giving
/// the names.
fn root_keys<'a>(
    roots: Vec<(ContainerId, Node)>,
    name_of: impl Fn(ContainerId) -> Option<&'a str>,
) -> BTreeMap<String, Node> {
    // The names in order, to tell a name one root has from one several roots share.
    let mut names: Vec<&str> = roots.iter().filter_map(|(id, _)| name_of(*id)).collect();
    crate::sort::sort(&mut names);
    let shared = |n: &str| {
        let at = names.partition_point(|m| *m < n);
        names.get(at + 1) == Some(&n)
    };
    let mut named = BTreeMap::new();
    for (id, node) in roots {
        let key = match (name_of(id), id.origin) {
            (Some(n), _) if !shared(n) => n.to_string(),
            (Some(n), _) => alloc::format!("{n}:{}", id.kind.name()),
            (None, Origin::Root(h)) => alloc::format!("#{h:016x}"),
            (None, Origin::Created(_)) => String::new(),
        };
        named.insert(key, node);
    }
    named
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
