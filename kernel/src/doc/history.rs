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
//! Two things keep the index small:
//!
//! * dependencies are stored only when they differ from the document's version just before
//!   the transaction was applied, which is never the case for a local transaction and rarely
//!   for updates streamed from a peer;
//! * consecutive transactions that each hold one sequence operation of the same size on the
//!   same container, by one author with contiguous counters and Lamport times and implicit
//!   dependencies, are one [`Run`]: typing is one entry, however long.
//!
//! Invariants: entries are in the order the transactions were applied (a causal order); each
//! author's transactions cover its counters `1 ..= version[author]` without gaps; every
//! 32nd entry has a checkpoint holding the version just before it, so that finding the
//! implicit dependencies of an entry costs at most 31 entries of scanning.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::state::{Containers, State};
use super::value::ContainerId;
use crate::clock::ReplicaId;
use crate::sync::{Op, Update};
use crate::version::VersionVector;

/// Entries between two version checkpoints.
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

/// `count` transactions, the `k`th of which has counter `start + k`, Lamport time
/// `lamport + k`, implicit dependencies, no names, and one sequence operation: the author's
/// events `first + k * len ..` (`len` of them) of container `id`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Run {
    pub(crate) author: ReplicaId,
    pub(crate) start: u64,
    pub(crate) lamport: u64,
    pub(crate) id: ContainerId,
    pub(crate) first: u64,
    pub(crate) len: u64,
    pub(crate) count: u64,
}

/// An entry of the index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum Entry {
    One(Box<TxnRec>),
    Run(Run),
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
            Entry::One(t) => t.start + t.ops.len() as u64,
            Entry::Run(r) => r.start + r.count,
        }
    }

    /// The greatest Lamport time used.
    pub(crate) fn last_lamport(&self) -> u64 {
        match self {
            Entry::One(t) => t.lamport + (t.ops.len() as u64).saturating_sub(1),
            Entry::Run(r) => r.lamport + r.count.saturating_sub(1),
        }
    }

    /// The transaction as a run of one, if it can start or extend a run.
    fn as_run(&self) -> Option<Run> {
        match self {
            Entry::Run(r) => Some(*r),
            Entry::One(t) => match (&t.deps, t.names.is_empty(), t.ops.as_slice()) {
                (None, true, [OpRec::Seq { id, first, len }]) if *len > 0 => Some(Run {
                    author: t.author,
                    start: t.start,
                    lamport: t.lamport,
                    id: *id,
                    first: *first,
                    len: *len,
                    count: 1,
                }),
                _ => None,
            },
        }
    }
}

impl Run {
    /// Whether `next` (a run of one) continues this run.
    fn continued_by(&self, next: &Run) -> bool {
        next.count == 1
            && next.author == self.author
            && next.id == self.id
            && next.len == self.len
            && next.start == self.start + self.count
            && next.lamport == self.lamport + self.count
            && next.first == self.first + self.count * self.len
    }
}

/// See the module docs.
#[derive(Clone, Default)]
pub(crate) struct History {
    entries: Vec<Entry>,
    /// `(author, first counter)` of each entry to its index.
    index: BTreeMap<(ReplicaId, u64), usize>,
    /// `checkpoints[j]`: the version just before entry `j * CHECKPOINT_EVERY`.
    checkpoints: Vec<VersionVector>,
}

impl History {
    /// Logs `t`, applied to a document at `before`; extends the last run where it can.
    pub(crate) fn push(&mut self, mut t: TxnRec, before: &VersionVector) {
        if t.deps.as_ref() == Some(before) {
            t.deps = None;
        }
        let entry = Entry::One(Box::new(t));
        if let (Some(next), Some(last)) = (entry.as_run(), self.entries.last_mut()) {
            if let Some(run) = last.as_run().filter(|r| r.continued_by(&next)) {
                *last = Entry::Run(Run {
                    count: run.count + 1,
                    ..run
                });
                return;
            }
        }
        self.push_entry(entry, before);
    }

    fn push_entry(&mut self, entry: Entry, before: &VersionVector) {
        let i = self.entries.len();
        if i % CHECKPOINT_EVERY == 0 {
            self.checkpoints.push(before.clone());
        }
        self.index.insert((entry.author(), entry.start()), i);
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
        let mut h = History::default();
        let mut version = VersionVector::new();
        let mut lamport = 0u64;
        for e in entries {
            let (author, start, end) = (e.author(), e.start(), e.end());
            let ok = match &e {
                Entry::One(t) => {
                    !t.ops.is_empty()
                        && t.lamport > 0
                        && t.deps
                            .as_ref()
                            .is_none_or(|d| d.get(author) == start - 1 && version.dominates(d))
                }
                Entry::Run(r) => r.count > 0 && r.lamport > 0 && r.first > 0,
            };
            let fits = start > 0
                && version.get(author) == start - 1
                && end <= crate::sync::MAX_COUNTER
                && e.last_lamport() < crate::sync::MAX_COUNTER;
            if !ok || !fits {
                return None;
            }
            let before = version.clone();
            version.advance(author, end - 1);
            lamport = lamport.max(e.last_lamport());
            h.push_entry(e, &before);
        }
        Some((h, version, lamport))
    }

    /// Calls `f` with each logged sequence reference `(container, author, first, len)`.
    pub(crate) fn for_each_seq(&self, mut f: impl FnMut(ContainerId, ReplicaId, u64, u64)) {
        for e in &self.entries {
            match e {
                Entry::Run(r) => f(r.id, r.author, r.first, r.len * r.count),
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
        let (_, &i) = self.index.range((author, 0)..=(author, c)).next_back()?;
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
        stage: Option<&super::state::Stage>,
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
        stage: Option<&super::state::Stage>,
    ) -> BTreeMap<(ReplicaId, u64), Update> {
        let mut out = BTreeMap::new();
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
        let j = first / CHECKPOINT_EVERY;
        let mut version = self.checkpoints[j].clone();
        for (i, e) in self.entries.iter().enumerate().skip(j * CHECKPOINT_EVERY) {
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
    stage: Option<&super::state::Stage>,
    out: &mut Vec<Update>,
) {
    let seq = |id: ContainerId, author: ReplicaId, first: u64, len: u64| {
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
    };
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
                    .map(|op| match op {
                        OpRec::Seq { id, first, len } => seq(*id, t.author, *first, *len),
                        OpRec::Other(op) => op.clone(),
                    })
                    .collect(),
            });
        }
        Entry::Run(r) => {
            let mut deps = before.clone();
            for k in from.saturating_sub(r.start)..r.count {
                deps.advance(r.author, r.start + k - 1);
                out.push(Update {
                    author: r.author,
                    start: r.start + k,
                    lamport: r.lamport + k,
                    deps: deps.clone(),
                    names: Vec::new(),
                    ops: alloc::vec![seq(r.id, r.author, r.first + k * r.len, r.len)],
                });
            }
        }
    }
}
