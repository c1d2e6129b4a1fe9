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
use crate::clock::ReplicaId;
use crate::sync::{Op, Update};
use crate::value::ContainerId;
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

    /// Logs a transaction made of one list or text operation (the author's events
    /// `first .. first + len` of `id`), with implicit dependencies and no names, applied to a
    /// document at `before`. Extending the last run allocates nothing.
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
        let next = Run {
            author,
            start,
            lamport,
            id,
            first,
            len,
            count: 1,
        };
        match self.entries.last_mut() {
            // Typing: the common case, checked first.
            Some(Entry::Run(run)) if run.continued_by(&next) => {
                run.count += 1;
                return;
            }
            Some(last @ Entry::One(_)) => {
                if let Some(run) = last.as_run().filter(|r| len > 0 && r.continued_by(&next)) {
                    *last = Entry::Run(Run { count: 2, ..run });
                    return;
                }
            }
            _ => {}
        }
        let t = TxnRec {
            author,
            start,
            lamport,
            deps: None,
            names: Vec::new(),
            ops: alloc::vec![OpRec::Seq { id, first, len }],
        };
        self.push_entry(Entry::One(Box::new(t)), before);
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
                    Entry::Run(r) => {
                        (1..=MAX).contains(&r.first)
                            && (1..=MAX).contains(&r.len)
                            && r.len
                                .checked_mul(r.count)
                                .is_some_and(|k| r.first + k <= MAX)
                    }
                };
            if !ok {
                return None;
            }
            let end = e.end();
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
                Entry::Run(r) => f(r.id, r.author, r.first, r.len.saturating_mul(r.count)),
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

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

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
        let all = sync::decode_updates(&a.encode_updates_since(&VersionVector::new())).unwrap();
        assert_eq!(all, sent);
        // Runs are broken only by the map writes, transactions, the three-char deletes and
        // the peer's edits: about six entries per 17 transactions.
        assert!(
            a.history.entries.len() <= 90,
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
}
