//! The document's history: an index of every applied transaction, without its bytes.
//!
//! A document must be able to resend any update it has applied
//! ([`Doc::encode_updates_since`](super::Doc::encode_updates_since)), compare a re-sent update
//! with the one it applied, and save its history. It keeps no update bytes for that. Each
//! transaction is remembered by its id, its Lamport time, its dependencies and, per
//! operation, either a reference into a list's or text's own op log (the author's event
//! counters `first .. first + len` in that container's engine, which keeps every event in its
//! compact history anyway) or, for the other kinds, the operation itself (a map write, a
//! counter step: small, and not kept elsewhere once overwritten).
//!
//! Three things keep the index small:
//!
//! * dependencies are stored only when they differ from the document's version just before
//!   the transaction was applied, which is never the case for a local transaction, and for a
//!   run of a peer's transactions only as the few other authors' counters they lower (the
//!   peer had not seen those yet);
//! * consecutive transactions that each hold one sequence operation on the same container,
//!   by one author with contiguous counters, Lamport times and events, are one [`Run`], their
//!   sizes run-length packed: typing is one entry however long, and editing of varying sizes
//!   (deleting a word, pasting) a few bytes per change of size;
//! * each author's entries are found through a vector of their positions, not a tree node
//!   per entry.
//!
//! Invariants: entries are in the order the transactions were applied (a causal order); each
//! author's transactions cover its counters `1 ..= version[author]` without gaps; the first
//! entry, and then an entry at least 32 entries and at least as many entries as there are
//! authors after the last one, has a checkpoint holding the version just before it. Finding
//! the implicit dependencies of an entry scans at most that many entries, no more than copying
//! the version costs anyway, and the checkpoints take memory in proportion to the entries
//! (a checkpoint every 32 entries held 1.2 MB for 1,540 one-write authors).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::state::{Containers, State};
use crate::clock::{PerReplica, ReplicaId};
use crate::sync::{Op, Update};
use crate::value::ContainerId;
use crate::version::VersionVector;

/// Entries between two version checkpoints, at least (and at least as many as the authors).
const CHECKPOINT_EVERY: usize = 32;

/// One operation of a logged transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum OpRec {
    /// A list or text operation: the author's events `first .. first + len` of container
    /// `id`'s engine.
    Seq {
        id: ContainerId,
        first: u64,
        len: u64,
    },
    /// Any other operation, as it was applied.
    Other(Op),
}

impl OpRec {
    /// The record of an applied operation. A list or text operation of an applied update
    /// holds only new events of its author, with contiguous counters (the document checks
    /// this when applying a remote one), so the lowest id and the event count name them.
    pub(crate) fn of(op: Op) -> OpRec {
        let (id, first, len) = match &op {
            Op::Text { text, ops } => (
                *text,
                ops.ops.iter().map(|o| o.id().counter).min(),
                ops.event_count(),
            ),
            Op::List { list, ops } => (
                *list,
                ops.ops.iter().map(|o| o.id().counter).min(),
                ops.event_count(),
            ),
            _ => return OpRec::Other(op),
        };
        OpRec::Seq {
            id,
            first: first.unwrap_or(0),
            len,
        }
    }
}

impl OpRec {
    /// The container the operation edits (`None` for a creation).
    pub(crate) fn container(&self) -> Option<ContainerId> {
        match self {
            OpRec::Seq { id, .. } => Some(*id),
            OpRec::Other(op) => op.container(),
        }
    }

    /// The operation itself, by `author`, its events read from the list or text they are in
    /// (in `stage`, when given, or `base`).
    pub(crate) fn to_op(
        &self,
        author: ReplicaId,
        base: &Containers,
        stage: Option<&super::stage::Stage>,
    ) -> Op {
        match self {
            OpRec::Seq { id, first, len } => seq_op(*id, author, *first, *len, base, stage),
            OpRec::Other(op) => op.clone(),
        }
    }
}

/// The operation holding `author`'s events `first .. first + len` of list or text `id`.
fn seq_op(
    id: ContainerId,
    author: ReplicaId,
    first: u64,
    len: u64,
    base: &Containers,
    stage: Option<&super::stage::Stage>,
) -> Op {
    let st = match stage {
        Some(s) => s.get(base, id),
        None => base.get(&id),
    };
    match st {
        Some(State::Text(t)) => Op::Text {
            text: id,
            ops: t.ops_of(author, first, len),
        },
        Some(State::List(l)) => Op::List {
            list: id,
            ops: l.ops_of(author, first, len),
        },
        // A checked history only refers to lists and texts it holds.
        _ => Op::Text {
            text: id,
            ops: Default::default(),
        },
    }
}

/// One logged transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct TxnRec {
    pub(crate) author: ReplicaId,
    pub(crate) start: u64,
    pub(crate) lamport: u64,
    /// `None` when equal to the document's version just before the transaction.
    pub(crate) deps: Option<VersionVector>,
    pub(crate) names: Vec<String>,
    pub(crate) ops: Vec<OpRec>,
}

/// Bytes of packed sizes a run holds at most (see [`Run::sizes`]): a run that would need more
/// ends, and the next transaction starts a new one. This bounds the scan that finds one
/// transaction of a run: at most a few dozen size changes, however long the run.
pub(crate) const MAX_SIZES: usize = 96;

/// `count` transactions, the `k`th of which has counter `start + k`, Lamport time
/// `lamport + k`, no names, and one sequence operation: the author's next events of container
/// `id` (the first transaction's from `first` on; each one's right after the one before).
/// Their dependencies are the document's version just before each, except for the other
/// authors listed in `deps`, whose counters are lower (the same for every transaction of the
/// run: the author had not seen those yet).
///
/// The transactions' sizes (events each) are run-length packed: typing one character at a
/// time is one pair, however long; a run of varying sizes keeps a varint pair per change.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Run {
    pub(crate) author: ReplicaId,
    pub(crate) start: u64,
    pub(crate) lamport: u64,
    pub(crate) id: ContainerId,
    pub(crate) first: u64,
    /// Transactions in the run.
    pub(crate) count: u64,
    /// Events of all of them together.
    pub(crate) events: u64,
    /// The events of each of the last `tail` transactions.
    pub(crate) len: u64,
    pub(crate) tail: u64,
    /// The sizes of the transactions before the last `tail`: varint pairs `(events each,
    /// transactions)`, in order, at most [`MAX_SIZES`] bytes.
    pub(crate) sizes: Vec<u8>,
    /// `(author, counter)` for each other author whose counter in the dependencies is lower
    /// than in the version just before, sorted by author.
    pub(crate) deps: Vec<(ReplicaId, u64)>,
}

/// An entry of the index.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Entry {
    One(Box<TxnRec>),
    Run(Run),
}

/// An entry as written (`docs/wire-format.md` §5.6), borrowing it. `Run` is the form of a
/// run of one size with implicit dependencies, as written before `Packed` existed (so such
/// runs keep their bytes, and older snapshots read the same); `Packed` is any other run, with
/// its counts implied by its sizes.
#[derive(Serialize)]
enum EntryRef<'a> {
    One(&'a TxnRec),
    Run {
        author: ReplicaId,
        start: u64,
        lamport: u64,
        id: ContainerId,
        first: u64,
        len: u64,
        count: u64,
    },
    Packed {
        author: ReplicaId,
        start: u64,
        lamport: u64,
        id: ContainerId,
        first: u64,
        #[serde(with = "crate::encoding::byte_buf")]
        sizes: &'a [u8],
        len: u64,
        tail: u64,
        deps: &'a [(ReplicaId, u64)],
    },
}

/// An entry as read: the same variants and fields as [`EntryRef`].
#[derive(Deserialize)]
enum EntryWire {
    One(Box<TxnRec>),
    Run {
        author: ReplicaId,
        start: u64,
        lamport: u64,
        id: ContainerId,
        first: u64,
        len: u64,
        count: u64,
    },
    Packed {
        author: ReplicaId,
        start: u64,
        lamport: u64,
        id: ContainerId,
        first: u64,
        #[serde(with = "crate::encoding::byte_buf")]
        sizes: Vec<u8>,
        len: u64,
        tail: u64,
        deps: Vec<(ReplicaId, u64)>,
    },
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Entry::One(t) => EntryRef::One(t),
            Entry::Run(r) if r.sizes.is_empty() && r.deps.is_empty() => EntryRef::Run {
                author: r.author,
                start: r.start,
                lamport: r.lamport,
                id: r.id,
                first: r.first,
                len: r.len,
                count: r.count,
            },
            Entry::Run(r) => EntryRef::Packed {
                author: r.author,
                start: r.start,
                lamport: r.lamport,
                id: r.id,
                first: r.first,
                sizes: &r.sizes,
                len: r.len,
                tail: r.tail,
                deps: &r.deps,
            },
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Entry {
    /// Reads an entry as written; see [`Entry::from_wire`].
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        EntryWire::deserialize(d).map(Entry::from_wire)
    }
}

impl Entry {
    /// The entry an [`EntryWire`] describes (both decoders share it). The counts a `Packed`
    /// run implies are summed with saturation, and [`History::from_entries`] checks them.
    fn from_wire(w: EntryWire) -> Entry {
        match w {
            EntryWire::One(t) => Entry::One(t),
            EntryWire::Run {
                author,
                start,
                lamport,
                id,
                first,
                len,
                count,
            } => Entry::Run(Run {
                author,
                start,
                lamport,
                id,
                first,
                count,
                events: len.saturating_mul(count),
                len,
                tail: count,
                sizes: Vec::new(),
                deps: Vec::new(),
            }),
            EntryWire::Packed {
                author,
                start,
                lamport,
                id,
                first,
                sizes,
                len,
                tail,
                deps,
            } => {
                let mut run = Run {
                    author,
                    start,
                    lamport,
                    id,
                    first,
                    count: tail,
                    events: len.saturating_mul(tail),
                    len,
                    tail,
                    sizes,
                    deps,
                };
                let (count, events) =
                    run.pairs()
                        .take(MAX_SIZES)
                        .fold((0u64, 0u64), |(c, e), (len, n)| {
                            (c.saturating_add(n), e.saturating_add(len.saturating_mul(n)))
                        });
                run.count = count;
                run.events = events;
                Entry::Run(run)
            }
        }
    }
}

impl Entry {
    fn author(&self) -> ReplicaId {
        match self {
            Entry::One(t) => t.author,
            Entry::Run(r) => r.author,
        }
    }

    fn start(&self) -> u64 {
        match self {
            Entry::One(t) => t.start,
            Entry::Run(r) => r.start,
        }
    }

    /// One past the author's last counter in this entry.
    fn end(&self) -> u64 {
        match self {
            Entry::One(t) => t.start.saturating_add(t.ops.len() as u64),
            Entry::Run(r) => r.start.saturating_add(r.count),
        }
    }

    /// The greatest Lamport time used.
    pub(crate) fn last_lamport(&self) -> u64 {
        match self {
            Entry::One(t) => (t.lamport).saturating_add((t.ops.len() as u64).saturating_sub(1)),
            Entry::Run(r) => r.lamport.saturating_add(r.count.saturating_sub(1)),
        }
    }
}

/// Appends `v` as a LEB128 varint.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 varint at `*at`, moving past it; `None` at the end or on more than 64 bits.
fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        let bits = u64::from(b & 0x7f);
        if shift == 63 && bits > 1 {
            return None;
        }
        v |= bits << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// `deps` as the other authors' counters it lowers below `before` (see [`Run::deps`]), if it
/// is `before` with only such counters lowered, and that list is no longer than `deps`.
/// (Every author of `before` missing from `deps` is on the list: for a first edit among many
/// concurrent ones the list grows with the authors, and runs of such lists were quadratic in
/// time and size; such a transaction keeps its dependencies as an entry of its own.)
fn deps_delta(
    deps: &VersionVector,
    before: &VersionVector,
    author: ReplicaId,
) -> Option<Vec<(ReplicaId, u64)>> {
    let longer = before.len().saturating_sub(deps.len()) > deps.len();
    if longer || !before.dominates(deps) || deps.get(author) != before.get(author) {
        return None;
    }
    Some(
        before
            .iter()
            .filter(|&(a, c)| a != author && deps.get(a) != c)
            .map(|(a, _)| (a, deps.get(a)))
            .collect(),
    )
}

/// `before` with the counters of `delta` lowered to theirs.
fn with_delta(before: &VersionVector, delta: &[(ReplicaId, u64)]) -> VersionVector {
    if delta.is_empty() {
        return before.clone();
    }
    VersionVector::from_entries(before.iter().map(|(a, c)| {
        match delta.binary_search_by_key(&a, |&(r, _)| r) {
            Ok(i) => (a, delta[i].1),
            Err(_) => (a, c),
        }
    }))
}

impl Run {
    /// The transaction `t` (applied at `before`) as a run of one, if it can be one.
    fn of(t: &TxnRec, before: &VersionVector) -> Option<Run> {
        let [OpRec::Seq { id, first, len }] = t.ops.as_slice() else {
            return None;
        };
        if *len == 0 || !t.names.is_empty() {
            return None;
        }
        let deps = match &t.deps {
            None => Vec::new(),
            Some(d) => deps_delta(d, before, t.author)?,
        };
        Some(Run::single(
            t.author, t.start, t.lamport, *id, *first, *len, deps,
        ))
    }

    fn single(
        author: ReplicaId,
        start: u64,
        lamport: u64,
        id: ContainerId,
        first: u64,
        len: u64,
        deps: Vec<(ReplicaId, u64)>,
    ) -> Run {
        Run {
            author,
            start,
            lamport,
            id,
            first,
            count: 1,
            events: len,
            len,
            tail: 1,
            sizes: Vec::new(),
            deps,
        }
    }

    /// Appends the transaction `next` (a run of one) if it continues this run; `false` if
    /// it does not (or the run is full).
    #[allow(clippy::too_many_arguments)]
    fn extend(
        &mut self,
        author: ReplicaId,
        start: u64,
        lamport: u64,
        id: ContainerId,
        first: u64,
        len: u64,
        deps: &[(ReplicaId, u64)],
    ) -> bool {
        let continues = author == self.author
            && id == self.id
            && len > 0
            && start == self.start + self.count
            && lamport == self.lamport + self.count
            && first == self.first + self.events
            && deps == self.deps.as_slice();
        if !continues {
            return false;
        }
        if len != self.len {
            // Two varints of at most 10 bytes each.
            if self.sizes.len() + 20 > MAX_SIZES {
                return false;
            }
            put_varint(&mut self.sizes, self.len);
            put_varint(&mut self.sizes, self.tail);
            self.len = len;
            self.tail = 0;
        }
        self.tail += 1;
        self.count += 1;
        self.events += len;
        true
    }

    /// The run's sizes as `(events each, transactions)` pairs, in order, the tail last.
    fn pairs(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut at = 0;
        core::iter::from_fn(move || {
            if at >= self.sizes.len() {
                return None;
            }
            Some((
                get_varint(&self.sizes, &mut at)?,
                get_varint(&self.sizes, &mut at)?,
            ))
        })
        .chain(core::iter::once((self.len, self.tail)))
    }

    /// Whether the run is well formed: sizes that add up to `count` transactions and
    /// `events` events, within the counter range, and dependencies lowering other authors'
    /// counters of `before` (the version just before the run).
    fn is_valid(&self, before: &VersionVector) -> bool {
        const MAX: u64 = crate::sync::MAX_COUNTER;
        if self.sizes.len() > MAX_SIZES || !(1..=MAX).contains(&self.first) {
            return false;
        }
        let deps_ok = self.deps.windows(2).all(|w| w[0].0 < w[1].0)
            && (self.deps.iter()).all(|&(a, c)| a != self.author && c < before.get(a));
        if !deps_ok {
            return false;
        }
        let (mut count, mut events, mut at) = (0u64, 0u64, 0usize);
        let mut add = |len: u64, n: u64| -> bool {
            // Each term is checked against 2^62 first: no sum below overflows.
            if !(1..=MAX).contains(&len) || !(1..=MAX).contains(&n) {
                return false;
            }
            match len.checked_mul(n) {
                Some(e) if e <= MAX => {
                    count += n;
                    events += e;
                    count <= MAX && events <= MAX
                }
                _ => false,
            }
        };
        while at < self.sizes.len() {
            let (Some(len), Some(n)) = (
                get_varint(&self.sizes, &mut at),
                get_varint(&self.sizes, &mut at),
            ) else {
                return false;
            };
            if !add(len, n) {
                return false;
            }
        }
        add(self.len, self.tail)
            && count == self.count
            && events == self.events
            && self.first + events <= MAX
    }
}

/// See the module docs.
#[derive(Clone, Default)]
pub(crate) struct History {
    entries: Vec<Entry>,
    /// Each author's entries, by index, in order (so in the order of their counters).
    index: PerReplica<usize>,
    /// `(i, v)`: `v` is the version just before entry `i`; by `i`, from 0 (see the module
    /// docs).
    checkpoints: Vec<(usize, VersionVector)>,
}

impl History {
    /// Logs `t`, applied to a document at `before`; extends the last run where it can.
    pub(crate) fn push(&mut self, mut t: TxnRec, before: &VersionVector) {
        if t.deps.as_ref() == Some(before) {
            t.deps = None;
        }
        let Some(run) = Run::of(&t, before) else {
            return self.push_entry(Entry::One(Box::new(t)), before);
        };
        if let Some(Entry::Run(last)) = self.entries.last_mut() {
            let Run {
                author,
                start,
                lamport,
                id,
                first,
                len,
                ..
            } = run;
            if last.extend(author, start, lamport, id, first, len, &run.deps) {
                return;
            }
        }
        self.push_entry(Entry::Run(run), before);
    }

    /// Logs a transaction made of one list or text operation (the author's events
    /// `first .. first + len` of `id`), with implicit dependencies and no names, applied to a
    /// document at `before`. Extending the last run allocates nothing (but for a change of
    /// size, now and then).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_seq(
        &mut self,
        author: ReplicaId,
        start: u64,
        lamport: u64,
        id: ContainerId,
        first: u64,
        len: u64,
        before: &VersionVector,
    ) {
        // Typing: the common case, checked first.
        if let Some(Entry::Run(run)) = self.entries.last_mut() {
            if run.extend(author, start, lamport, id, first, len, &[]) {
                return;
            }
        }
        let entry = if len > 0 {
            Entry::Run(Run::single(
                author,
                start,
                lamport,
                id,
                first,
                len,
                Vec::new(),
            ))
        } else {
            Entry::One(Box::new(TxnRec {
                author,
                start,
                lamport,
                deps: None,
                names: Vec::new(),
                ops: alloc::vec![OpRec::Seq { id, first, len }],
            }))
        };
        self.push_entry(entry, before);
    }

    fn push_entry(&mut self, entry: Entry, before: &VersionVector) {
        let i = self.entries.len();
        // See the module docs: the first entry, then at least 32 entries and at least as many
        // as there are authors apart.
        let due = (self.checkpoints.last())
            .is_none_or(|&(last, _)| i - last >= CHECKPOINT_EVERY.max(before.len()));
        if due {
            self.checkpoints.push((i, before.clone()));
        }
        self.index.list(entry.author()).push(i);
        self.entries.push(entry);
    }

    /// The entries, in the order applied.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Rebuilds the index from `entries` (as [`entries`](Self::entries) gave them), checking
    /// that they form a valid history: each author's counters contiguous from 1, each
    /// transaction's explicit dependencies known before it, and runs well formed. Returns
    /// the version and greatest Lamport time they reach.
    pub(crate) fn from_entries(entries: Vec<Entry>) -> Option<(History, VersionVector, u64)> {
        let mut h = History {
            entries: Vec::with_capacity(entries.len()),
            ..History::default()
        };
        let mut version = VersionVector::new();
        let mut lamport = 0u64;
        const MAX: u64 = crate::sync::MAX_COUNTER;
        for e in entries {
            let (author, start) = (e.author(), e.start());
            // Every sum below stays under 2^63: each term is checked against 2^62 first.
            let (n, lamport_at) = match &e {
                Entry::One(t) => (t.ops.len() as u64, t.lamport),
                Entry::Run(r) => (r.count, r.lamport),
            };
            let shape = n > 0
                && n <= MAX
                && (1..=MAX).contains(&start)
                && start + n <= MAX
                && (1..=MAX).contains(&lamport_at)
                && lamport_at + n <= MAX
                && version.get(author) == start - 1;
            let ok = shape
                && match &e {
                    Entry::One(t) => t
                        .deps
                        .as_ref()
                        .is_none_or(|d| d.get(author) == start - 1 && version.dominates(d)),
                    Entry::Run(r) => r.is_valid(&version),
                };
            if !ok {
                return None;
            }
            let end = e.end();
            h.push_entry(e, &version);
            version.advance(author, end - 1);
            lamport = lamport.max(h.entries[h.entries.len() - 1].last_lamport());
        }
        Some((h, version, lamport))
    }

    /// Calls `f` with each logged sequence reference `(container, author, first, len)`.
    pub(crate) fn for_each_seq(&self, mut f: impl FnMut(ContainerId, ReplicaId, u64, u64)) {
        for e in &self.entries {
            match e {
                Entry::Run(r) => f(r.id, r.author, r.first, r.events),
                Entry::One(t) => {
                    for op in &t.ops {
                        if let OpRec::Seq { id, first, len } = op {
                            f(*id, t.author, *first, *len);
                        }
                    }
                }
            }
        }
    }

    /// Where the transaction starting at counter `start` of `author` is: `Some` if one does
    /// (a transaction of a run included).
    pub(crate) fn starts_txn(&self, author: ReplicaId, start: u64) -> bool {
        match self.entry_with(author, start) {
            Some(i) => match &self.entries[i] {
                Entry::One(t) => t.start == start,
                Entry::Run(_) => true,
            },
            None => false,
        }
    }

    /// The index of the entry holding counter `c` of `author`.
    fn entry_with(&self, author: ReplicaId, c: u64) -> Option<usize> {
        let mine = self.index.get(author)?;
        let p = mine.partition_point(|&i| self.entries[i].start() <= c);
        let i = *mine.get(p.checked_sub(1)?)?;
        (self.entries[i].end() > c).then_some(i)
    }

    /// The transactions a document at `since` lacks, rebuilt as updates, in the order they
    /// were applied (a causal order). `base` (and `stage`, for containers a transaction has
    /// moved out of `base`) hold the lists and texts the operations refer to.
    pub(crate) fn updates_since(
        &self,
        since: &VersionVector,
        current: &VersionVector,
        base: &Containers,
        stage: Option<&super::stage::Stage>,
    ) -> Vec<Update> {
        // The first entry holding a counter `since` lacks, over every author.
        let first = current
            .iter()
            .filter(|&(a, c)| c > since.get(a))
            .filter_map(|(a, _)| self.entry_with(a, since.get(a) + 1))
            .min();
        let Some(first) = first else {
            return Vec::new();
        };
        let mut out = Vec::new();
        self.walk(first, |e, before| {
            let seen = since.get(e.author());
            if e.end() <= seen + 1 {
                return;
            }
            rebuild(e, before, seen + 1, base, stage, &mut out);
        });
        out
    }

    /// The logged transactions starting at each `(author, start)` of `ids` (each must start
    /// one, see [`starts_txn`](Self::starts_txn)), rebuilt as updates.
    pub(crate) fn updates_at(
        &self,
        ids: &[(ReplicaId, u64)],
        base: &Containers,
        stage: Option<&super::stage::Stage>,
    ) -> super::Updates {
        let mut out = super::Updates::new();
        let Some(first) = ids.iter().filter_map(|&(a, c)| self.entry_with(a, c)).min() else {
            return out;
        };
        let mut found = Vec::new();
        self.walk(first, |e, before| {
            let (a, s, end) = (e.author(), e.start(), e.end());
            for &(_, c) in ids
                .iter()
                .filter(|&&(r, c)| r == a && (s..end).contains(&c))
            {
                found.clear();
                rebuild(e, before, c, base, stage, &mut found);
                if let Some(u) = found.first().cloned() {
                    out.insert((a, c), u);
                }
            }
        });
        out
    }

    /// Calls `f(entry, version before it)` for every entry from `first` on.
    fn walk(&self, first: usize, mut f: impl FnMut(&Entry, &VersionVector)) {
        // The last checkpoint at or before `first` (entry 0 always has one).
        let j = self.checkpoints.partition_point(|c| c.0 <= first);
        let Some((at, v)) = j.checked_sub(1).and_then(|j| self.checkpoints.get(j)) else {
            return;
        };
        let mut version = v.clone();
        for (i, e) in self.entries.iter().enumerate().skip(*at) {
            if i >= first {
                f(e, &version);
            }
            version.advance(e.author(), e.end() - 1);
        }
    }
}

/// Appends the transactions of `e` (applied at `before`) from counter `from` on to `out`.
fn rebuild(
    e: &Entry,
    before: &VersionVector,
    from: u64,
    base: &Containers,
    stage: Option<&super::stage::Stage>,
    out: &mut Vec<Update>,
) {
    let seq = |id, author, first, len| seq_op(id, author, first, len, base, stage);
    match e {
        Entry::One(t) => {
            if t.start + t.ops.len() as u64 <= from {
                return;
            }
            out.push(Update {
                author: t.author,
                start: t.start,
                lamport: t.lamport,
                deps: t.deps.clone().unwrap_or_else(|| before.clone()),
                names: t.names.clone(),
                ops: t
                    .ops
                    .iter()
                    .map(|op| op.to_op(t.author, base, stage))
                    .collect(),
            });
        }
        Entry::Run(r) => {
            let skip = from.saturating_sub(r.start);
            let mut deps = with_delta(before, &r.deps);
            let (mut k, mut event) = (0u64, r.first);
            for (len, n) in r.pairs() {
                if k + n <= skip {
                    k += n;
                    event += len * n;
                    continue;
                }
                let j0 = skip.saturating_sub(k);
                for j in j0..n {
                    let at = r.start + k + j;
                    deps.advance(r.author, at - 1);
                    let last = at + 1 == r.start + r.count;
                    out.push(Update {
                        author: r.author,
                        start: at,
                        lamport: r.lamport + k + j,
                        // The run's last transaction takes the vector itself.
                        deps: if last {
                            core::mem::take(&mut deps)
                        } else {
                            deps.clone()
                        },
                        names: Vec::new(),
                        ops: alloc::vec![seq(r.id, r.author, event + j * len, len)],
                    });
                }
                k += n;
                event += len * n;
            }
        }
    }
}

// ------------------------------------------------------------------ the hand-written codec

mod codec {
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    use super::{Entry, EntryWire, OpRec, TxnRec};
    use crate::encoding::codec::{Decode, Encode, Reader, put_bytes, put_varint};
    use crate::encoding::{DecodeError, REJECTED};
    use crate::value::ContainerId;

    impl Encode for OpRec {
        fn encode(&self, w: &mut Vec<u8>) {
            match self {
                OpRec::Seq { id, first, len } => {
                    w.push(0);
                    id.encode(w);
                    put_varint(w, *first);
                    put_varint(w, *len);
                }
                OpRec::Other(op) => {
                    w.push(1);
                    op.encode(w);
                }
            }
        }
    }

    impl Decode<'_> for OpRec {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(match r.variant()? {
                0 => OpRec::Seq {
                    id: ContainerId::decode(r)?,
                    first: r.u64()?,
                    len: r.u64()?,
                },
                1 => OpRec::Other(Decode::decode(r)?),
                _ => return Err(REJECTED),
            })
        }
    }

    impl Encode for TxnRec {
        fn encode(&self, w: &mut Vec<u8>) {
            self.author.encode(w);
            put_varint(w, self.start);
            put_varint(w, self.lamport);
            self.deps.encode(w);
            self.names.encode(w);
            self.ops.encode(w);
        }
    }

    impl Decode<'_> for TxnRec {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            Ok(TxnRec {
                author: Decode::decode(r)?,
                start: r.u64()?,
                lamport: r.u64()?,
                deps: Decode::decode(r)?,
                names: Decode::decode(r)?,
                ops: Decode::decode(r)?,
            })
        }
    }

    /// Written as its `Serialize` impl writes it: a run of one size with implicit
    /// dependencies as `Run`, any other run as `Packed`.
    impl Encode for Entry {
        fn encode(&self, w: &mut Vec<u8>) {
            let r = match self {
                Entry::One(t) => {
                    w.push(0);
                    t.encode(w);
                    return;
                }
                Entry::Run(r) => r,
            };
            let packed = !(r.sizes.is_empty() && r.deps.is_empty());
            w.push(if packed { 2 } else { 1 });
            r.author.encode(w);
            put_varint(w, r.start);
            put_varint(w, r.lamport);
            r.id.encode(w);
            put_varint(w, r.first);
            if packed {
                put_bytes(w, &r.sizes);
                put_varint(w, r.len);
                put_varint(w, r.tail);
                r.deps.encode(w);
            } else {
                put_varint(w, r.len);
                put_varint(w, r.count);
            }
        }
    }

    impl Decode<'_> for Entry {
        fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
            let wire = match r.variant()? {
                0 => EntryWire::One(Box::<TxnRec>::decode(r)?),
                1 => EntryWire::Run {
                    author: Decode::decode(r)?,
                    start: r.u64()?,
                    lamport: r.u64()?,
                    id: ContainerId::decode(r)?,
                    first: r.u64()?,
                    len: r.u64()?,
                    count: r.u64()?,
                },
                2 => EntryWire::Packed {
                    author: Decode::decode(r)?,
                    start: r.u64()?,
                    lamport: r.u64()?,
                    id: ContainerId::decode(r)?,
                    first: r.u64()?,
                    sizes: r.bytes()?.to_vec(),
                    len: r.u64()?,
                    tail: r.u64()?,
                    deps: Decode::decode(r)?,
                },
                _ => return Err(REJECTED),
            };
            Ok(Entry::from_wire(wire))
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::Entry;
    use crate::clock::ReplicaId;
    use crate::doc::{ContainerKind, Doc, Value};
    use crate::sync::{self, Update};
    use crate::version::VersionVector;

    /// Every update a document sent as it committed is rebuilt later from the index and the
    /// containers byte for byte (sent again to a peer at any version), and after a save and
    /// a load (snapshot or history) it is rebuilt with the same events. Typing makes runs.
    #[test]
    fn rebuilt_updates_equal_the_ones_sent() {
        let mut a = Doc::new(ReplicaId(1));
        let mut b = Doc::new(ReplicaId(2));
        let (t, m) = (
            a.root("t", ContainerKind::Text),
            a.root("m", ContainerKind::Map),
        );
        let l = a.root("l", ContainerKind::List);
        let mut sent: Vec<Update> = Vec::new();
        let send = |from: &Doc, before: &VersionVector, to: &mut Doc, sent: &mut Vec<Update>| {
            let bytes = from.encode_updates_since(before);
            to.apply_update(&bytes).unwrap();
            sent.extend(sync::decode_updates(&bytes).unwrap());
        };
        for i in 0..200usize {
            let before = a.version();
            match i % 17 {
                3 => a.text_delete(t, 0..1).unwrap(),
                5 => a.map_set(m, "k", Value::Int(i as i64)).unwrap(),
                7 => {
                    a.begin().unwrap();
                    a.text_insert(t, 0, "ab").unwrap();
                    a.list_insert(l, 0, Value::Int(1)).unwrap();
                    a.text_delete(t, 1..3).unwrap();
                    a.commit().unwrap();
                }
                11 => {
                    let n = a.text_len(t).unwrap();
                    a.text_delete(t, n - 3..n).unwrap();
                }
                _ => {
                    let n = a.text_len(t).unwrap();
                    a.text_insert(t, n, "x").unwrap();
                }
            }
            send(&a, &before, &mut b, &mut sent);
            if i % 50 == 49 {
                // The peer edits too, so later updates have explicit dependencies.
                let before = b.version();
                b.text_insert(t, 0, "é").unwrap();
                send(&b, &before, &mut a, &mut sent);
            }
        }
        // Concurrent typing: each side's transactions reach the other with dependencies
        // lower than its version, and still form runs (of varying sizes).
        for round in 0..3 {
            let (va, vb) = (a.version(), b.version());
            for i in 0..6 {
                b.text_insert(t, i, if i % 2 == 0 { "é" } else { "bb" })
                    .unwrap();
                a.text_insert(t, 0, &"c".repeat(1 + i % 3)).unwrap();
            }
            let from_b = b.encode_updates_since(&vb);
            send(&a, &va, &mut b, &mut sent);
            a.apply_update(&from_b).unwrap();
            sent.extend(sync::decode_updates(&from_b).unwrap());
            assert_eq!(a.text(t).unwrap(), b.text(t).unwrap(), "round {round}");
        }
        assert!(a.history.entries.iter().any(|e| matches!(
            e,
            Entry::Run(r) if !r.deps.is_empty() && r.count == 6 && !r.sizes.is_empty()
        )));
        let all = sync::decode_updates(&a.encode_updates_since(&VersionVector::new())).unwrap();
        assert_eq!(all, sent);
        // Runs are broken only by the map writes, transactions, the three-char deletes and
        // the peer's edits: about six entries per 17 transactions.
        assert!(
            a.history.entries.len() <= 100,
            "{} entries",
            a.history.entries.len()
        );
        let mut typist = Doc::new(ReplicaId(3));
        for i in 0..1000 {
            typist.text_insert(t, i, "y").unwrap();
        }
        typist.text_delete(t, 500..501).unwrap();
        assert_eq!(typist.history.entries.len(), 1);

        for saved in [a.save().unwrap(), a.save_history().unwrap()] {
            let c = Doc::load(&saved).unwrap();
            assert_eq!(c.roots(), a.roots());
            assert_eq!(c.named_roots(), a.named_roots());
            let again = c.encode_updates_since(&VersionVector::new());
            let again = sync::decode_updates(&again).unwrap();
            assert_eq!(again.len(), sent.len());
            assert!(again.iter().zip(&sent).all(|(x, y)| x.same_as(y)));
            // From a version in the middle, too.
            let mid = sent[sent.len() / 2].deps.clone();
            let tail = sync::decode_updates(&c.encode_updates_since(&mid)).unwrap();
            assert!(tail.iter().all(|u| u.end() - 1 > mid.get(u.author)));
            assert!(tail.len() >= sent.len() / 2 - 4);
        }
    }

    /// Every entry of a document's index (single transactions, runs of one size and packed
    /// runs with dependencies) and the whole index encode as serde + postcard encode them and
    /// decode the same, corrupted or not.
    #[test]
    fn codec_matches_serde() {
        use crate::encoding::codec::tests::{assert_decodes_same, assert_same_as_serde};

        let mut a = Doc::new(ReplicaId(1));
        let mut b = Doc::new(ReplicaId(u64::MAX));
        let (t, m) = (
            a.root("t", ContainerKind::Text),
            a.root("m", ContainerKind::Map),
        );
        for i in 0..120usize {
            let before = a.version();
            match i % 13 {
                3 => a.text_delete(t, 0..1).unwrap(),
                5 => a.map_set(m, "ü", Value::Int(-(i as i64))).unwrap(),
                7 => a.text_insert(t, 0, "ab🦀").unwrap(),
                _ => {
                    let n = a.text_len(t).unwrap();
                    a.text_insert(t, n, "x").unwrap();
                }
            }
            b.apply_update(&a.encode_updates_since(&before)).unwrap();
            if i % 40 == 39 {
                let before = b.version();
                b.text_insert(t, 0, "é").unwrap();
                let c = b.root("c", ContainerKind::Counter);
                b.counter_add(c, -5).unwrap();
                a.apply_update(&b.encode_updates_since(&before)).unwrap();
            }
        }
        let packed =
            |e: &Entry| matches!(e, Entry::Run(r) if !(r.sizes.is_empty() && r.deps.is_empty()));
        let plain =
            |e: &Entry| matches!(e, Entry::Run(r) if r.sizes.is_empty() && r.deps.is_empty());
        assert!(
            a.history
                .entries()
                .iter()
                .chain(b.history.entries())
                .any(packed)
        );
        assert!(
            a.history
                .entries()
                .iter()
                .chain(b.history.entries())
                .any(plain)
        );
        for d in [&a, &b] {
            let entries: Vec<Entry> = d.history.entries().to_vec();
            assert!(entries.iter().any(|e| matches!(e, Entry::One(_))));
            assert!(entries.iter().any(|e| matches!(e, Entry::Run(_))));
            for e in &entries {
                assert_same_as_serde(e);
                if let Entry::One(t) = e {
                    assert_same_as_serde(&**t);
                    t.ops.iter().for_each(assert_same_as_serde);
                }
            }
            assert_same_as_serde(&entries);
        }
        for bytes in [
            &[3][..],
            &[0, 1, 1, 1, 1, 0, 0, 1, 2],
            &[2, 1, 1, 1, 0, 0, 1, 1, 9, 1],
        ] {
            assert_decodes_same::<Entry>(bytes, &[0]);
        }
    }
}
