//! The sequence CRDT engine shared by [`Text`](super::Text) and [`List`](super::List).
//!
//! Numbering: every event (inserted item or deletion) gets a *local version* `lv`, dense and
//! in the order this replica learnt of it (a causal order). Inserted items also get an *item
//! number* `ilv`, dense in the same order, used by the span tree, the content store, origins
//! and delete targets. [`Ids`] maps `lv` ↔ [`Dot`].
//!
//! Integration of remote inserts follows FugueMax as formulated by diamond-types' `YjsMod`
//! (see `docs/architecture.md`): scan right from the left origin, comparing each concurrent
//! item's left and right origins with the new item's, ties broken by replica id.

mod checkpoint;
mod history;
mod state;

pub(crate) use self::checkpoint::Checkpoint;
pub(crate) use self::state::{StateParts, snapshot_version};

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use converge_pool::Idx;
use hashbrown::HashMap;

use super::content::{Store, reserve_frugal};
use super::ops::{ApplyReport, SequenceOp, SequenceOps, pack_ids};
use super::tree::{Counts, Cursor, Found, Leaf, MAX_SPAN, NONE, Span, Tree};
use crate::clock::{Dot, ReplicaId};
use crate::encoding::DecodeError;
use crate::error::{Error, Result};
use crate::version::VersionVector;

#[derive(Clone, Copy, Debug)]
struct AgentRun {
    counter: u64,
    lv: u32,
    len: u32,
}

#[derive(Clone, Copy, Debug)]
struct LvRun {
    lv: u32,
    agent: u32,
    counter: u64,
    len: u32,
}

/// `lv` ↔ `(replica, counter)`.
#[derive(Clone, Debug, Default)]
struct Ids {
    replicas: Vec<ReplicaId>,
    /// `replicas` inverted, filled once there are more than [`LINEAR_AGENTS`] of them.
    by_replica: HashMap<ReplicaId, u32>,
    /// Per agent, runs sorted by counter, contiguous from counter 1.
    runs: Vec<Vec<AgentRun>>,
    /// Per agent, the highest counter seen (0 for none).
    seen: Vec<u64>,
    /// The agents in replica order, so comparing with a version vector is one merge pass.
    sorted: Vec<u32>,
    /// All runs sorted by lv.
    lvs: Vec<LvRun>,
    next_lv: u32,
}

/// Up to this many leaves, integration locates items by walking the leaves rather than
/// building the item index.
const UNINDEXED_LEAVES: usize = 16;

/// Up to this many replicas, a linear scan finds one faster than hashing.
const LINEAR_AGENTS: usize = 8;

impl Ids {
    #[inline]
    fn agent(&self, r: ReplicaId) -> Option<u32> {
        if self.replicas.len() <= LINEAR_AGENTS {
            self.replicas.iter().position(|&x| x == r).map(|i| i as u32)
        } else {
            self.by_replica.get(&r).copied()
        }
    }
    fn agent_or_insert(&mut self, r: ReplicaId) -> u32 {
        if let Some(a) = self.agent(r) {
            return a;
        }
        self.replicas.push(r);
        if self.replicas.len() > LINEAR_AGENTS {
            if self.by_replica.is_empty() {
                for (i, &x) in self.replicas.iter().enumerate() {
                    self.by_replica.insert(x, i as u32);
                }
            } else {
                self.by_replica.insert(r, (self.replicas.len() - 1) as u32);
            }
        }
        self.runs.push(Vec::new());
        self.seen.push(0);
        let agent = (self.replicas.len() - 1) as u32;
        let at = (self.sorted).partition_point(|&a| self.replicas[a as usize] < r);
        self.sorted.insert(at, agent);
        agent
    }
    fn seen(&self, agent: u32) -> u64 {
        self.seen[agent as usize]
    }
    /// Each agent in replica order with the counter `vv` holds for its replica.
    fn zip_sorted<'a>(&'a self, vv: &'a VersionVector) -> impl Iterator<Item = (u32, u64)> + 'a {
        let mut entries = vv.iter().peekable();
        self.sorted.iter().map(move |&a| {
            let r = self.replicas[a as usize];
            while entries.next_if(|&(x, _)| x < r).is_some() {}
            (a, entries.next_if(|&(x, _)| x == r).map_or(0, |(_, c)| c))
        })
    }
    fn seen_replica(&self, r: ReplicaId) -> u64 {
        self.agent(r).map_or(0, |a| self.seen(a))
    }
    /// Assigns lvs to `len` events `counter..` of `agent` (counter must be `seen + 1`).
    fn push(&mut self, agent: u32, counter: u64, len: u32) -> u32 {
        let lv = self.next_lv;
        self.next_lv += len;
        self.seen[agent as usize] = counter + u64::from(len) - 1;
        let runs = &mut self.runs[agent as usize];
        match runs.last_mut() {
            Some(r) if r.lv + r.len == lv && r.len.checked_add(len).is_some() => r.len += len,
            _ => {
                reserve_frugal(runs, 1);
                runs.push(AgentRun { counter, lv, len })
            }
        }
        match self.lvs.last_mut() {
            Some(r)
                if r.agent == agent
                    && r.lv + r.len == lv
                    && r.counter + u64::from(r.len) == counter =>
            {
                r.len += len
            }
            _ => self.lvs.push(LvRun {
                lv,
                agent,
                counter,
                len,
            }),
        }
        lv
    }
    fn lv_run(&self, lv: u32) -> &LvRun {
        let i = self.lvs.partition_point(|r| r.lv <= lv) - 1;
        &self.lvs[i]
    }
    fn dot(&self, lv: u32) -> Dot {
        let r = self.lv_run(lv);
        Dot::new(
            self.replicas[r.agent as usize],
            r.counter + u64::from(lv - r.lv),
        )
    }
    /// The replica of event `lv`, trying lv run `*hint` and its successor before a binary
    /// search; leaves the found run's index in `hint`.
    #[inline]
    fn replica_near(&self, lv: u32, hint: &mut usize) -> ReplicaId {
        let contains = |i: usize| {
            self.lvs
                .get(i)
                .is_some_and(|r| r.lv <= lv && lv < r.lv + r.len)
        };
        if !contains(*hint) {
            if contains(*hint + 1) {
                *hint += 1;
            } else {
                *hint = self.lvs.partition_point(|r| r.lv <= lv) - 1;
            }
        }
        self.replicas[self.lvs[*hint].agent as usize]
    }
    /// The lv of `counter` of `agent` and how many consecutive counters follow in the same lv
    /// run (including it).
    fn lv_of(&self, agent: u32, counter: u64) -> Option<(u32, u32)> {
        let runs = &self.runs[agent as usize];
        let i = runs
            .partition_point(|r| r.counter <= counter)
            .checked_sub(1)?;
        let r = runs[i];
        let off = counter - r.counter;
        (off < u64::from(r.len)).then(|| (r.lv + off as u32, r.len - off as u32))
    }
    /// The replica of each run of consecutive events, packed by [`pack_ids`] (the `ids`
    /// section of the history and of a state snapshot).
    fn packed(&self) -> Vec<u8> {
        let runs: Vec<(u32, u32)> = self.lvs.iter().map(|r| (r.agent, r.len)).collect();
        pack_ids(&runs, self.replicas.len())
    }
    /// Registers `replicas` as agents `0..` of an empty id map; a replica listed twice is an
    /// error.
    fn register(&mut self, replicas: &[ReplicaId]) -> core::result::Result<(), DecodeError> {
        for (i, r) in replicas.iter().enumerate() {
            if self.agent_or_insert(*r) as usize != i {
                return Err(DecodeError::Invalid("duplicate replica"));
            }
        }
        Ok(())
    }
    fn version(&self) -> VersionVector {
        VersionVector::from_entries(
            (self.sorted.iter()).map(|&a| (self.replicas[a as usize], self.seen(a))),
        )
    }
}

#[derive(Clone, Copy, Debug)]
struct InsRun {
    lv: u32,
    ilv: u32,
    len: u32,
    ol: u32,
    or: u32,
}

#[derive(Clone, Copy, Debug)]
struct DelRun {
    lv: u32,
    len: u32,
    target: u32,
    rev: bool,
}

impl DelRun {
    /// The last target in run order.
    fn last_target(&self) -> u32 {
        if self.rev {
            self.target - (self.len - 1)
        } else {
            self.target + (self.len - 1)
        }
    }
}

enum Outcome {
    Applied(u64, u64),
    Duplicate(u64),
    /// Waiting for this event (the op applies once its replica's counter reaches it).
    Missing(Dot),
    Beyond(u64),
    Invalid,
}

/// The order in which [`Seq::apply`] first tries a batch's operations: the batch order,
/// except that each stretch of consecutive inserts with the same two origins is tried
/// highest replica id first.
///
/// Such inserts are concurrent (a replica that knew one of them would have typed between it
/// and an origin, so its origins would differ), and FugueMax orders siblings with equal
/// origins by replica id, lowest first. Integrating the highest first means each later one
/// lands right at the scan start, in front of the siblings already placed, instead of
/// scanning past all of them: `m` replicas inserting at one place cost `O(m)` scan steps
/// instead of `O(m²)`. Any order gives the same document (operations whose dependencies are
/// not yet applied wait in `apply`), so this only changes the cost.
fn integration_order<C>(ops: &[SequenceOp<C>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ops.len()).collect();
    let origins = |op: &SequenceOp<C>| match op {
        SequenceOp::Insert {
            origin_left,
            origin_right,
            ..
        } => Some((*origin_left, *origin_right)),
        SequenceOp::Delete { .. } => None,
    };
    let mut i = 0;
    while i < ops.len() {
        let mut j = i + 1;
        if let Some(key) = origins(&ops[i]) {
            while j < ops.len() && origins(&ops[j]) == Some(key) {
                j += 1;
            }
            if j - i > 1 {
                // Stable: ops of one replica (never equal origins when well formed) keep
                // their order.
                order[i..j].sort_by_key(|&k| core::cmp::Reverse(ops[k].id().replica));
            }
        }
        i = j;
    }
    order
}

/// Part of one run of the op log made by one replica, as [`Seq::for_each_piece`] walks them:
/// events `off..off + len` of `run`, the first of them `counter` of replica index `agent`.
#[derive(Clone, Copy, Debug)]
struct Piece<R> {
    run: R,
    off: u32,
    len: u32,
    agent: u32,
    counter: u64,
}

impl Piece<InsRun> {
    /// The item number of the piece's first item.
    fn ilv(&self) -> u32 {
        self.run.ilv + self.off
    }
    /// The left origin of the piece's first item: the run's, or the item before it in the run.
    fn ol(&self) -> u32 {
        if self.off == 0 {
            self.run.ol
        } else {
            self.ilv() - 1
        }
    }
}

impl Piece<DelRun> {
    /// The item the piece's first event deletes.
    fn first_target(&self) -> u32 {
        if self.run.rev {
            self.run.target - self.off
        } else {
            self.run.target + self.off
        }
    }
}

/// A [`Piece`] of an insert run or of a delete run.
#[derive(Clone, Copy, Debug)]
enum LogPiece {
    Insert(Piece<InsRun>),
    Delete(Piece<DelRun>),
}

/// The engine: span tree, content, operation log and ids. See the module docs.
#[derive(Clone, Debug)]
pub(crate) struct Seq<S> {
    pub(crate) tree: Tree,
    pub(crate) store: S,
    ins: Vec<InsRun>,
    dels: Vec<DelRun>,
    ids: Ids,
    replica: ReplicaId,
    me: Option<u32>,
    /// The leaf of the last local edit and the counts before it (typing fast path).
    cache: Option<(Idx<Leaf>, Counts)>,
    /// Where the last local insert ended, while nothing else has changed since.
    typing: Option<Typing>,
}

/// The state of an uninterrupted run of local typing: the next insert at visible position
/// `pos` continues the span at `cur` (which ends at item number `end`), keeping right origin
/// `or`.
#[derive(Clone, Copy, Debug)]
struct Typing {
    pos: usize,
    cur: Cursor,
    end: u32,
    or: u32,
    agent: u32,
}

impl<S: Store> Seq<S> {
    pub(crate) fn new(replica: ReplicaId) -> Self {
        Seq {
            tree: Tree::new(),
            store: S::default(),
            ins: Vec::new(),
            dels: Vec::new(),
            ids: Ids::default(),
            replica,
            me: None,
            cache: None,
            typing: None,
        }
    }

    pub(crate) fn replica(&self) -> ReplicaId {
        self.replica
    }

    /// An empty replica with this one's id, replicas (same agent numbers) and content: the
    /// starting point of a replay of this replica's op log.
    fn scratch(&self) -> Self
    where
        S: Clone,
    {
        let mut r = Seq::<S>::new(self.replica);
        r.store = self.store.clone();
        for rep in &self.ids.replicas {
            r.ids.agent_or_insert(*rep);
        }
        r
    }

    pub(crate) fn len(&self) -> usize {
        self.tree.total().vis
    }

    pub(crate) fn width(&self) -> usize {
        self.tree.total().wide
    }

    pub(crate) fn version(&self) -> VersionVector {
        self.ids.version()
    }

    fn me(&mut self) -> u32 {
        match self.me {
            Some(a) => a,
            None => {
                let a = self.ids.agent_or_insert(self.replica);
                self.me = Some(a);
                a
            }
        }
    }

    /// Visible item `pos`, using the typing cache when it applies.
    pub(crate) fn find_vis(&mut self, pos: usize) -> Option<Found> {
        if let Some((leaf, start)) = self.cache {
            if let Some(f) = self.tree.find_visible_in(leaf, start, pos, &self.store) {
                return Some(f);
            }
        }
        let f = self.tree.find_visible(pos, &self.store)?;
        self.cache = Some((f.cur.leaf, f.leaf_start));
        Some(f)
    }

    fn check_capacity(&self, events: usize) -> Result<u32> {
        let n = u32::try_from(events).map_err(|_| Error::CapacityExceeded)?;
        if n > MAX_SPAN
            || u64::from(self.ids.next_lv) + u64::from(n) >= u64::from(NONE)
            || self.store.items() as u64 + u64::from(n) >= u64::from(NONE)
        {
            return Err(Error::CapacityExceeded);
        }
        Ok(n)
    }

    // ---------------------------------------------------------------- local edits

    /// Inserts `n` items at visible position `pos`; `push` appends their content to the store.
    pub(crate) fn insert_local(
        &mut self,
        pos: usize,
        n: usize,
        push: impl FnOnce(&mut S),
    ) -> Result<()> {
        let len = self.len();
        if pos > len {
            return Err(Error::OutOfBounds { index: pos, len });
        }
        if n == 0 {
            return Ok(());
        }
        let n = self.check_capacity(n)?;
        let agent = self.me();
        let ilv = self.store.items() as u32;
        push(&mut self.store);
        self.insert_at(agent, pos, n, ilv);
        Ok(())
    }

    /// Inserts the `n` items whose content is stored at `ilv..` at visible position `pos`
    /// (checked by the caller) as the next events of `agent`.
    fn insert_at(&mut self, agent: u32, pos: usize, n: u32, ilv: u32) {
        let counter = self.ids.seen(agent) + 1;
        if let Some(ty) = self.typing.take() {
            if ty.pos == pos && ty.end == ilv && ty.agent == agent {
                // Typing fast path: extend the span we just typed into.
                let lv = self.ids.push(agent, counter, n);
                self.push_ins(lv, ilv, n, ilv - 1, ty.or);
                self.tree.extend_span(ty.cur, n, &self.store);
                self.typing = Some(Typing {
                    pos: pos + n as usize,
                    end: ilv + n,
                    ..ty
                });
                return;
            }
        }
        let (at, ol) = if pos == 0 {
            (self.tree.start(), NONE)
        } else {
            let f = self.find_vis(pos - 1).expect("pos - 1 < len");
            let s = self.tree.span(f.cur);
            (
                Cursor {
                    off: f.cur.off + 1,
                    ..f.cur
                },
                s.lv + f.cur.off,
            )
        };
        let or = self
            .tree
            .normalize(at)
            .map_or(NONE, |c| self.tree.span(c).lv + c.off);
        let lv = self.ids.push(agent, counter, n);
        self.push_ins(lv, ilv, n, ol, or);
        let leaves = self.tree.leaf_count();
        let c = self.tree.insert(at, Span::new(ilv, n, false), &self.store);
        self.after_edit(c.leaf, leaves);
        self.typing = Some(Typing {
            pos: pos + n as usize,
            cur: c,
            end: ilv + n,
            or,
            agent,
        });
    }

    fn after_edit(&mut self, leaf: Idx<Leaf>, leaves_before: usize) {
        match self.cache {
            Some((l, _)) if l == leaf && self.tree.leaf_count() == leaves_before => {}
            _ => self.cache = None,
        }
    }

    /// Deletes visible items `start..end`.
    pub(crate) fn delete_local(&mut self, start: usize, end: usize) -> Result<()> {
        let len = self.len();
        if end > len || start > end {
            return Err(Error::OutOfBounds {
                index: end.max(start),
                len,
            });
        }
        if start == end {
            return Ok(());
        }
        self.check_capacity(end - start)?;
        let agent = self.me();
        self.delete_at(agent, start, (end - start) as u32);
        Ok(())
    }

    /// Deletes `n` visible items from `start` (checked by the caller) as the next events of
    /// `agent`.
    fn delete_at(&mut self, agent: u32, start: usize, n: u32) {
        self.typing = None;
        let mut remaining = n;
        while remaining > 0 {
            let f = self.find_vis(start).expect("start < len");
            let leaves = self.tree.leaf_count();
            let (t, k, _) = self.tree.delete_at(f.cur, remaining, &self.store);
            self.after_edit(f.cur.leaf, leaves);
            let counter = self.ids.seen(agent) + 1;
            let lv = self.ids.push(agent, counter, k);
            self.push_del(lv, k, t, false);
            remaining -= k;
        }
    }

    /// Deletes the `n` visible items ending at position `last` (checked by the caller) the
    /// way repeated backspace from `last + 1` would: the first deletion event takes the item
    /// at `last`, the next one the item before it, and so on. One range walk instead of `n`
    /// single deletions.
    fn delete_back(&mut self, agent: u32, last: usize, n: u32) {
        self.typing = None;
        let start = last + 1 - n as usize;
        let mut pieces: Vec<(u32, u32)> = Vec::new();
        let mut remaining = n;
        while remaining > 0 {
            let f = self.find_vis(start).expect("start < len");
            let leaves = self.tree.leaf_count();
            let (t, k, _) = self.tree.delete_at(f.cur, remaining, &self.store);
            self.after_edit(f.cur.leaf, leaves);
            pieces.push((t, k));
            remaining -= k;
        }
        self.log_back_deletes(agent, &pieces);
    }

    /// Logs the deletions of a backspace run as backspace makes them: `pieces` are the
    /// deleted `(first item, count)` runs in document order, logged last run first, each run
    /// highest item first.
    fn log_back_deletes(&mut self, agent: u32, pieces: &[(u32, u32)]) {
        for &(t, k) in pieces.iter().rev() {
            let counter = self.ids.seen(agent) + 1;
            let lv = self.ids.push(agent, counter, k);
            self.push_del(lv, k, t + (k - 1), k > 1);
        }
    }

    fn push_ins(&mut self, lv: u32, ilv: u32, len: u32, ol: u32, or: u32) {
        if let Some(l) = self.ins.last_mut() {
            if l.lv + l.len == lv
                && l.ilv + l.len == ilv
                && ol == ilv.wrapping_sub(1)
                && l.or == or
                && l.len.checked_add(len).is_some_and(|x| x <= MAX_SPAN)
            {
                l.len += len;
                return;
            }
        }
        reserve_frugal(&mut self.ins, 1);
        self.ins.push(InsRun {
            lv,
            ilv,
            len,
            ol,
            or,
        });
    }

    fn push_del(&mut self, lv: u32, len: u32, target: u32, rev: bool) {
        if let Some(l) = self.dels.last_mut() {
            if l.lv + l.len == lv && l.len < MAX_SPAN - len {
                let last = l.last_target();
                if !l.rev && !rev && last.checked_add(1) == Some(target) {
                    l.len += len;
                    return;
                }
                if (rev || len == 1) && (l.rev || l.len == 1) && last.checked_sub(1) == Some(target)
                {
                    l.rev = true;
                    l.len += len;
                    return;
                }
            }
        }
        reserve_frugal(&mut self.dels, 1);
        self.dels.push(DelRun {
            lv,
            len,
            target,
            rev: rev && len > 1,
        });
    }

    /// Calls `f` with every piece of the op log in local order: each insert and delete run
    /// split where the replica making its events changes.
    fn for_each_piece(&self, mut f: impl FnMut(LogPiece)) {
        let (mut i, mut d) = (0, 0);
        while i < self.ins.len() || d < self.dels.len() {
            let take_ins =
                d >= self.dels.len() || (i < self.ins.len() && self.ins[i].lv < self.dels[d].lv);
            let (run_lv, run_len) = if take_ins {
                (self.ins[i].lv, self.ins[i].len)
            } else {
                (self.dels[d].lv, self.dels[d].len)
            };
            let mut lv = run_lv;
            while lv < run_lv + run_len {
                let idr = *self.ids.lv_run(lv);
                let len = (run_lv + run_len).min(idr.lv + idr.len) - lv;
                let (off, agent) = (lv - run_lv, idr.agent);
                let counter = idr.counter + u64::from(lv - idr.lv);
                f(if take_ins {
                    LogPiece::Insert(Piece {
                        run: self.ins[i],
                        off,
                        len,
                        agent,
                        counter,
                    })
                } else {
                    LogPiece::Delete(Piece {
                        run: self.dels[d],
                        off,
                        len,
                        agent,
                        counter,
                    })
                });
                lv += len;
            }
            if take_ins {
                i += 1;
            } else {
                d += 1;
            }
        }
    }

    // ---------------------------------------------------------------- lookups

    fn ins_by_ilv(&self, ilv: u32) -> &InsRun {
        // The newest run first: what a local edit or a sync of recent edits asks for.
        match self.ins.last() {
            Some(r) if r.ilv <= ilv => r,
            _ => &self.ins[self.ins.partition_point(|r| r.ilv <= ilv) - 1],
        }
    }

    /// [`ins_by_ilv`](Self::ins_by_ilv), trying run `*hint` and its successor first;
    /// leaves the found run's index in `hint`.
    #[inline]
    fn ins_near(&self, ilv: u32, hint: &mut usize) -> &InsRun {
        let contains = |i: usize| {
            self.ins
                .get(i)
                .is_some_and(|r| r.ilv <= ilv && ilv < r.ilv + r.len)
        };
        if !contains(*hint) {
            if contains(*hint + 1) {
                *hint += 1;
            } else {
                *hint = self.ins.partition_point(|r| r.ilv <= ilv) - 1;
            }
        }
        &self.ins[*hint]
    }

    fn ins_by_lv(&self, lv: u32) -> Option<&InsRun> {
        let r = match self.ins.last() {
            Some(r) if r.lv <= lv => r,
            _ => &self.ins[self.ins.partition_point(|r| r.lv <= lv).checked_sub(1)?],
        };
        (lv < r.lv + r.len).then_some(r)
    }

    fn del_by_lv(&self, lv: u32) -> Option<&DelRun> {
        let r = match self.dels.last() {
            Some(r) if r.lv <= lv => r,
            _ => &self.dels[self.dels.partition_point(|r| r.lv <= lv).checked_sub(1)?],
        };
        (lv < r.lv + r.len).then_some(r)
    }

    fn ilv_to_lv(&self, ilv: u32) -> u32 {
        let r = self.ins_by_ilv(ilv);
        r.lv + (ilv - r.ilv)
    }

    /// The item number of `dot`: `Ok(None)` if unknown, `Err` if it names a deletion.
    fn resolve(&self, dot: Dot) -> core::result::Result<Option<u32>, ()> {
        let Some(agent) = self.ids.agent(dot.replica) else {
            return Ok(None);
        };
        let Some((lv, _)) = self.ids.lv_of(agent, dot.counter) else {
            return Ok(None);
        };
        match self.ins_by_lv(lv) {
            Some(r) => Ok(Some(r.ilv + (lv - r.lv))),
            None => Err(()),
        }
    }

    // ---------------------------------------------------------------- integration

    fn raw_pos(&self, ilv: u32) -> usize {
        self.tree.raw_pos(ilv).expect("every item is in the tree")
    }

    /// Finds where a remote run with origins `ol`/`or` goes (FugueMax / YjsMod).
    fn integrate_cursor(&self, replica: ReplicaId, ol: u32, or: u32) -> Cursor {
        let start = if ol == NONE {
            self.tree.start()
        } else {
            let c = self.tree.locate(ol).expect("origin is in the tree");
            Cursor {
                off: c.off + 1,
                ..c
            }
        };
        let Some(mut cur) = self.tree.normalize(start) else {
            return start;
        };
        let mut left_pos: Option<isize> = None;
        let mut right_pos: Option<usize> = None;
        let mut scanning = false;
        let mut scan_start = cur;
        // The scan mostly meets items in item-number order (one run after the next), so the
        // run lookups start from the previous hit before falling back to a binary search.
        let mut run_hint = 0;
        let mut lv_hint = 0;
        loop {
            let span = self.tree.span(cur);
            let other = span.lv + cur.off;
            if other == or {
                break;
            }
            let run = *self.ins_near(other, &mut run_hint);
            let o_ol = if other == run.ilv { run.ol } else { other - 1 };
            // Length of the piece sharing `other`'s origins: to the end of the span or run.
            let mut piece_end = (span.end()).min(run.ilv + run.len);
            if or != NONE && or > other && or < piece_end {
                // Malformed input only: the right origin sits inside this run.
                cur.off = or - span.lv;
                break;
            }
            if o_ol == ol {
                // Same left origin: decide by right origins, then replica ids.
                if run.or == or {
                    let mine = replica;
                    let theirs = self
                        .ids
                        .replica_near(run.lv + (other - run.ilv), &mut lv_hint);
                    if mine < theirs {
                        break;
                    }
                    scanning = false;
                    // Siblings with the same origins that follow in this span (m replicas
                    // inserting at one place, integrated one at a time) get the same
                    // decision: skip those with lower replica ids in a tight loop over the
                    // op log instead of a tree step each.
                    while piece_end < span.end() {
                        let Some(&r) = self.ins.get(run_hint + 1) else {
                            break;
                        };
                        if r.ilv != piece_end
                            || r.ol != ol
                            || r.or != or
                            || (or >= r.ilv && or < r.ilv + r.len)
                            || replica < self.ids.replica_near(r.lv, &mut lv_hint)
                        {
                            break;
                        }
                        run_hint += 1;
                        piece_end = span.end().min(r.ilv + r.len);
                    }
                } else {
                    let rp = *right_pos.get_or_insert_with(|| {
                        if or == NONE {
                            usize::MAX
                        } else {
                            self.raw_pos(or)
                        }
                    });
                    let orp = if run.or == NONE {
                        usize::MAX
                    } else {
                        self.raw_pos(run.or)
                    };
                    if orp < rp {
                        if !scanning {
                            scanning = true;
                            scan_start = cur;
                        }
                    } else {
                        scanning = false;
                    }
                }
            } else if !(cur.off > 0 && o_ol == other - 1) {
                // The other item's left origin is elsewhere: compare positions.
                let lp = *left_pos.get_or_insert_with(|| {
                    if ol == NONE {
                        -1
                    } else {
                        self.raw_pos(ol) as isize
                    }
                });
                let olp = if o_ol == NONE {
                    -1
                } else {
                    self.raw_pos(o_ol) as isize
                };
                if olp < lp {
                    break;
                }
                // olp > lp: the other item is inside a subtree right of ours; keep going.
            }
            let next = Cursor {
                off: piece_end - span.lv,
                ..cur
            };
            match self.tree.normalize(next) {
                Some(c) => cur = c,
                None => {
                    if scanning {
                        return scan_start;
                    }
                    return next;
                }
            }
        }
        if scanning { scan_start } else { cur }
    }

    /// Integrates a remote run whose content is already in the store at `ilv..ilv + len`.
    fn integrate(&mut self, agent: u32, counter: u64, ilv: u32, len: u32, ol: u32, or: u32) {
        self.typing = None;
        // The scan compares item positions, and without the index every position is a walk
        // over all leaves: one integration could cost `O(scanned × document)`. Building the
        // flat index is one pass over the leaves; below a few leaves the walks are cheaper
        // than the index's 4 bytes per item (a decoded history whose few explicit ops sit in
        // long runs).
        if self.tree.leaf_count() > UNINDEXED_LEAVES {
            self.tree.ensure_index();
        }
        let replica = self.ids.replicas[agent as usize];
        let at = self.integrate_cursor(replica, ol, or);
        let lv = self.ids.push(agent, counter, len);
        self.push_ins(lv, ilv, len, ol, or);
        self.tree
            .insert(at, Span::new(ilv, len, false), &self.store);
        self.cache = None;
    }

    /// Marks items `ilv..ilv + len` deleted (already deleted ones stay deleted). Returns how
    /// many were visible.
    fn mark_deleted(&mut self, ilv: u32, len: u32) -> u32 {
        self.typing = None;
        let end = ilv + len;
        let mut t = ilv;
        let mut vis = 0;
        while t < end {
            let c = self.tree.locate(t).expect("target is in the tree");
            let (_, k, was) = self.tree.delete_at(c, end - t, &self.store);
            if was {
                vis += k;
            }
            t += k;
        }
        self.cache = None;
        vis
    }

    // ---------------------------------------------------------------- remote ops

    pub(crate) fn apply(
        &mut self,
        ops: &SequenceOps<S::Chunk>,
        limit: Option<&VersionVector>,
    ) -> Result<ApplyReport> {
        self.tree.ensure_index();
        let mut report = ApplyReport::default();
        // Ops blocked on an event wait under its replica with the counter they need; applying
        // an op of that replica wakes the ones it satisfied. Every op is retried at most once
        // per dependency, so any order costs about the same as causal order.
        let mut waiting: BTreeMap<ReplicaId, Vec<(u64, usize)>> = BTreeMap::new();
        let mut queue = integration_order(&ops.ops);
        queue.reverse();
        while let Some(i) = queue.pop() {
            let op = &ops.ops[i];
            match self.apply_one(op, limit)? {
                Outcome::Applied(k, beyond) => {
                    report.applied += k;
                    report.beyond_target += beyond;
                    let r = op.id().replica;
                    if let Some(list) = waiting.get_mut(&r) {
                        let seen = self.ids.seen_replica(r);
                        list.retain(|&(need, j)| {
                            if need <= seen {
                                queue.push(j);
                                false
                            } else {
                                true
                            }
                        });
                    }
                }
                Outcome::Duplicate(k) => report.duplicates += k,
                Outcome::Missing(dep) => waiting
                    .entry(dep.replica)
                    .or_default()
                    .push((dep.counter, i)),
                Outcome::Beyond(k) => report.beyond_target += k,
                Outcome::Invalid => report.invalid += 1,
            }
        }
        let mut stuck: Vec<usize> = waiting.into_values().flatten().map(|(_, i)| i).collect();
        stuck.sort_unstable();
        report.missing = stuck.iter().map(|&i| ops.ops[i].id()).collect();
        Ok(report)
    }

    /// Common checks on an op's own id range. Returns `(skip, take, beyond)` or an outcome.
    fn own_range(
        &self,
        id: Dot,
        n: u64,
        limit: Option<&VersionVector>,
    ) -> core::result::Result<(u64, u64, u64), Outcome> {
        if n == 0 || id.counter == 0 || id.counter.checked_add(n).is_none() {
            return Err(Outcome::Invalid);
        }
        let seen = self.ids.seen_replica(id.replica);
        if id.counter + n - 1 <= seen {
            return Err(Outcome::Duplicate(n));
        }
        if limit.is_some_and(|lim| id.counter > lim.get(id.replica)) {
            return Err(Outcome::Beyond(n));
        }
        if id.counter > seen + 1 {
            return Err(Outcome::Missing(Dot::new(id.replica, seen + 1)));
        }
        let skip = seen + 1 - id.counter;
        let mut take = n - skip;
        let mut beyond = 0;
        if let Some(lim) = limit {
            let allowed = lim.get(id.replica).saturating_sub(seen);
            if allowed == 0 {
                return Err(Outcome::Beyond(take));
            }
            if allowed < take {
                beyond = take - allowed;
                take = allowed;
            }
        }
        if self.check_capacity(take as usize).is_err() {
            return Err(Outcome::Invalid);
        }
        Ok((skip, take, beyond))
    }

    fn apply_one(
        &mut self,
        op: &SequenceOp<S::Chunk>,
        limit: Option<&VersionVector>,
    ) -> Result<Outcome> {
        match op {
            SequenceOp::Insert {
                id,
                origin_left,
                origin_right,
                content,
            } => {
                let n = S::chunk_len(content) as u64;
                let (skip, take, beyond) = match self.own_range(*id, n, limit) {
                    Ok(x) => x,
                    Err(o) => return Ok(o),
                };
                let left = if skip > 0 {
                    Some(Dot::new(id.replica, id.counter + skip - 1))
                } else {
                    *origin_left
                };
                let ol = match left.map(|d| (d, self.resolve(d))) {
                    None => NONE,
                    Some((_, Ok(Some(x)))) => x,
                    Some((d, Ok(None))) => return Ok(Outcome::Missing(d)),
                    Some((_, Err(()))) => return Ok(Outcome::Invalid),
                };
                let or = match origin_right.map(|d| (d, self.resolve(d))) {
                    None => NONE,
                    Some((_, Ok(Some(x)))) => x,
                    Some((d, Ok(None))) => return Ok(Outcome::Missing(d)),
                    Some((_, Err(()))) => return Ok(Outcome::Invalid),
                };
                let ilv = self.store.items() as u32;
                if skip == 0 && take == n {
                    self.store.push_chunk(content);
                } else {
                    let sub = S::chunk_sub(content, skip as usize, take as usize);
                    self.store.push_chunk(&sub);
                }
                let agent = self.ids.agent_or_insert(id.replica);
                self.integrate(agent, id.counter + skip, ilv, take as u32, ol, or);
                Ok(Outcome::Applied(take, beyond))
            }
            SequenceOp::Delete {
                id,
                len,
                target,
                reversed,
            } => {
                let (skip, take, beyond) = match self.own_range(*id, *len, limit) {
                    Ok(x) => x,
                    Err(o) => return Ok(o),
                };
                // Target counters, lowest first.
                let (lo, hi) = if *reversed {
                    let first = target.counter.checked_sub(skip);
                    match first.and_then(|f| f.checked_sub(take - 1).map(|lo| (lo, f))) {
                        Some(x) => x,
                        None => return Ok(Outcome::Invalid),
                    }
                } else {
                    match target
                        .counter
                        .checked_add(skip)
                        .and_then(|f| f.checked_add(take - 1).map(|hi| (f, hi)))
                    {
                        Some(x) => x,
                        None => return Ok(Outcome::Invalid),
                    }
                };
                if lo == 0 {
                    return Ok(Outcome::Invalid);
                }
                let Some(tagent) = self.ids.agent(target.replica) else {
                    return Ok(Outcome::Missing(Dot::new(target.replica, hi)));
                };
                if hi > self.ids.seen(tagent) {
                    return Ok(Outcome::Missing(Dot::new(target.replica, hi)));
                }
                // Map target counters to item-number pieces; all must be inserts.
                let mut pieces: Vec<(u32, u32)> = Vec::new();
                let mut c = lo;
                while c <= hi {
                    let (lv, avail) = self.ids.lv_of(tagent, c).expect("counter was seen");
                    let Some(r) = self.ins_by_lv(lv) else {
                        return Ok(Outcome::Invalid);
                    };
                    let in_run = r.lv + r.len - lv;
                    let k = u64::from(avail.min(in_run)).min(hi - c + 1) as u32;
                    pieces.push((r.ilv + (lv - r.lv), k));
                    c += u64::from(k);
                }
                let agent = self.ids.agent_or_insert(id.replica);
                let mut counter = id.counter + skip;
                // Record in op order: forward runs low to high, reversed runs high to low.
                if *reversed {
                    pieces.reverse();
                }
                for &(ilv, k) in &pieces {
                    let lv = self.ids.push(agent, counter, k);
                    counter += u64::from(k);
                    if *reversed {
                        self.push_del(lv, k, ilv + k - 1, true);
                    } else {
                        self.push_del(lv, k, ilv, false);
                    }
                    self.mark_deleted(ilv, k);
                }
                Ok(Outcome::Applied(take, beyond))
            }
        }
    }

    /// The ops of the events this replica has that `since` lacks and (when given) `until`
    /// holds, in local (causal) order.
    pub(crate) fn ops_between(
        &self,
        since: &VersionVector,
        until: Option<&VersionVector>,
    ) -> SequenceOps<S::Chunk> {
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        let none = VersionVector::new();
        let ends = (self.ids.zip_sorted(until.unwrap_or(&none)))
            .map(|(_, c)| until.map_or(u64::MAX, |_| c.saturating_add(1)));
        // One merge pass over the agents and both vectors, in replica order.
        for ((a, seen_by_since), end) in self.ids.zip_sorted(since).zip(ends) {
            // Counters `from..end` of this replica; most are usually seen up to date.
            let from = seen_by_since.saturating_add(1);
            if from >= end || from > self.ids.seen(a) {
                continue;
            }
            let runs = &self.ids.runs[a as usize];
            let i = runs.partition_point(|r| r.counter + u64::from(r.len) <= from);
            for r in runs[i..].iter().take_while(|r| r.counter < end) {
                let skip = from.saturating_sub(r.counter) as u32;
                let cut = (r.counter + u64::from(r.len)).saturating_sub(end) as u32;
                ranges.push((r.lv + skip, r.lv + r.len - cut));
            }
        }
        ranges.sort_unstable();
        self.ops_of_lvs(&ranges)
    }

    /// The ops of the events in the sorted, disjoint lv ranges `ranges`, in local order.
    fn ops_of_lvs(&self, ranges: &[(u32, u32)]) -> SequenceOps<S::Chunk> {
        let mut out = Vec::new();
        for &(a, b) in ranges {
            let mut lv = a;
            while lv < b {
                if let Some(r) = self.ins_by_lv(lv) {
                    let k = (r.lv + r.len).min(b) - lv;
                    // Keep each op inside one replica's contiguous counters.
                    let lr = self.ids.lv_run(lv);
                    let k = k.min(lr.lv + lr.len - lv);
                    let ilv = r.ilv + (lv - r.lv);
                    let ol = if lv == r.lv { r.ol } else { ilv - 1 };
                    out.push(SequenceOp::Insert {
                        id: self.ids.dot(lv),
                        origin_left: self.dot_of_ilv(ol),
                        origin_right: self.dot_of_ilv(r.or),
                        content: self.store.chunk(ilv, k),
                    });
                    lv += k;
                } else {
                    let r = *self
                        .del_by_lv(lv)
                        .expect("every lv is an insert or a delete");
                    let lr = self.ids.lv_run(lv);
                    let mut k = (r.lv + r.len).min(b).min(lr.lv + lr.len) - lv;
                    let off = lv - r.lv;
                    let mut t = if r.rev {
                        r.target - off
                    } else {
                        r.target + off
                    };
                    while k > 0 {
                        let ir = *self.ins_by_ilv(t);
                        let tlv = ir.lv + (t - ir.ilv);
                        let tr = self.ids.lv_run(tlv);
                        let piece = if r.rev {
                            k.min(t - ir.ilv + 1).min(tlv - tr.lv + 1)
                        } else {
                            k.min(ir.ilv + ir.len - t).min(tr.lv + tr.len - tlv)
                        };
                        out.push(SequenceOp::Delete {
                            id: self.ids.dot(lv),
                            len: u64::from(piece),
                            target: self.ids.dot(tlv),
                            reversed: r.rev && piece > 1,
                        });
                        lv += piece;
                        k -= piece;
                        t = if r.rev {
                            t.wrapping_sub(piece)
                        } else {
                            t + piece
                        };
                    }
                }
            }
        }
        SequenceOps { ops: out }
    }

    fn dot_of_ilv(&self, ilv: u32) -> Option<Dot> {
        (ilv != NONE).then(|| self.ids.dot(self.ilv_to_lv(ilv)))
    }

    // ---------------------------------------------------------------- checks

    pub(crate) fn debug_stats(&self) -> alloc::string::String {
        alloc::format!(
            "ins {} (cap {}), dels {} (cap {}), lvruns {}, items {}, {}",
            self.ins.len(),
            self.ins.capacity(),
            self.dels.len(),
            self.dels.capacity(),
            self.ids.lvs.len(),
            self.store.items(),
            self.tree.debug_stats()
        )
    }

    pub(crate) fn check_invariants(&self) {
        self.tree.check(&self.store);
        assert_eq!(
            self.tree.total().raw,
            self.store.items(),
            "tree holds every item"
        );
        let ins: u64 = self.ins.iter().map(|r| u64::from(r.len)).sum();
        let dels: u64 = self.dels.iter().map(|r| u64::from(r.len)).sum();
        assert_eq!(
            ins,
            self.store.items() as u64,
            "insert log covers every item"
        );
        assert_eq!(
            ins + dels,
            u64::from(self.ids.next_lv),
            "every lv is logged"
        );
        let lvs: u64 = self.ids.lvs.iter().map(|r| u64::from(r.len)).sum();
        assert_eq!(lvs, u64::from(self.ids.next_lv), "every lv has an id");
        for (a, runs) in self.ids.runs.iter().enumerate() {
            let last = runs.last().map_or(0, |r| r.counter + u64::from(r.len) - 1);
            assert_eq!(self.ids.seen[a], last, "agent {a}'s highest counter");
        }
        let by_replica =
            |w: &[u32]| self.ids.replicas[w[0] as usize] < self.ids.replicas[w[1] as usize];
        assert!(
            self.ids.sorted.len() == self.ids.replicas.len()
                && self.ids.sorted.windows(2).all(by_replica),
            "agents in replica order"
        );
        for w in self.ins.windows(2) {
            assert!(w[0].lv + w[0].len <= w[1].lv && w[0].ilv + w[0].len == w[1].ilv);
        }
        if let Some(ty) = self.typing {
            let s = self.tree.span(ty.cur);
            assert!(!s.deleted() && s.end() == ty.end, "typing span is current");
            let mut pos = self.tree.leaf_start(ty.cur.leaf).vis;
            for sp in &self.tree.leaf_spans(ty.cur.leaf)[..=ty.cur.idx] {
                pos += sp.vis() as usize;
            }
            assert_eq!(pos, ty.pos, "typing position is current");
        }
        if let Some((leaf, start)) = self.cache {
            assert_eq!(self.tree.leaf_start(leaf), start, "typing cache is current");
        }
    }
}
