//! Remote apply: taking a batch of operations from another replica.
//!
//! Each op is checked against what this replica has seen of its author: an op whose events
//! are all known is a duplicate, an op that skips counters or names an event not yet known
//! waits (the batch may hold what it needs, in any order), and the new part of the rest is
//! resolved to item numbers and integrated. An op that can never apply (malformed ids,
//! a delete naming a deletion) is counted invalid, never a panic.
//!
//! Invariants: an op applies only once every event it depends on has (the author's earlier
//! counters, its origins, its targets), so the log stays causal; each event applies at most
//! once; and with a `limit`, no event beyond it applies. The [`ApplyReport`] counts every
//! event or op of the batch exactly once.

use alloc::vec::Vec;

use super::super::content::Store;
use super::super::ops::{ApplyReport, SequenceOp, SequenceOps};
use super::super::tree::{NONE, Widths};
use super::{Core, Seq};
use crate::clock::{Dot, PerReplica};
use crate::error::Result;
use crate::sort::{sort, sort_by_key};
use crate::version::VersionVector;

/// What became of one op (counts are events).
enum Outcome {
    /// Applied this many events; this many more were beyond the limit.
    Applied(u64, u64),
    /// Every event was known already.
    Duplicate(u64),
    /// Waiting for this event (the op applies once its replica's counter reaches it).
    Missing(Dot),
    /// Every new event is beyond the limit.
    Beyond(u64),
    /// Malformed: it can never apply.
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
                sort_by_key(&mut order[i..j], |&k| {
                    core::cmp::Reverse(ops[k].id().replica)
                });
            }
        }
        i = j;
    }
    order
}

impl<S: Store> Seq<S> {
    /// Applies the events of `ops` that are new here, whatever order the ops come in,
    /// except those beyond `limit` (when given) and the ops whose dependencies are missing;
    /// the report counts each kind.
    pub(crate) fn apply(
        &mut self,
        ops: &SequenceOps<S::Chunk>,
        limit: Option<&VersionVector>,
    ) -> Result<ApplyReport> {
        self.core.tree.ensure_index();
        let mut report = ApplyReport::default();
        // Ops blocked on an event wait under its replica with the counter they need; applying
        // an op of that replica wakes the ones it satisfied. Every op is retried at most once
        // per dependency, so any order costs about the same as causal order.
        let mut waiting: PerReplica<(u64, usize)> = PerReplica::default();
        let mut queue = integration_order(&ops.ops);
        queue.reverse();
        while let Some(i) = queue.pop() {
            let op = &ops.ops[i];
            match self.apply_one(op, limit)? {
                Outcome::Applied(k, beyond) => {
                    report.applied += k;
                    report.beyond_target += beyond;
                    let r = op.id().replica;
                    if let Some(list) = waiting.get_mut(r) {
                        let seen = self.core.ids.seen_replica(r);
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
                Outcome::Missing(dep) => waiting.list(dep.replica).push((dep.counter, i)),
                Outcome::Beyond(k) => report.beyond_target += k,
                Outcome::Invalid => report.invalid += 1,
            }
        }
        let mut stuck: Vec<usize> = waiting
            .into_lists()
            .into_iter()
            .flatten()
            .map(|(_, i)| i)
            .collect();
        sort(&mut stuck);
        report.missing = stuck.iter().map(|&i| ops.ops[i].id()).collect();
        Ok(report)
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
                let run = match self
                    .core
                    .new_run(*id, n, *origin_left, *origin_right, limit)
                {
                    Ok(x) => x,
                    Err(o) => return Ok(o),
                };
                let ilv = self.store.items() as u32;
                if run.skip == 0 && run.take == n {
                    self.store.push_chunk(content);
                } else {
                    let sub = S::chunk_sub(content, run.skip as usize, run.take as usize);
                    self.store.push_chunk(&sub);
                }
                let agent = self.core.ids.agent_or_insert(id.replica);
                let counter = id.counter + run.skip;
                let w = self.store.widths();
                (self.core).integrate(agent, counter, ilv, run.take as u32, run.ol, run.or, w);
                Ok(Outcome::Applied(run.take, run.beyond))
            }
            SequenceOp::Delete {
                id,
                len,
                target,
                reversed,
            } => Ok(self.core.apply_delete(
                *id,
                *len,
                *target,
                *reversed,
                limit,
                self.store.widths(),
            )),
        }
    }
}

/// The new part of a remote insert op, resolved: its events `skip..skip + take` apply now
/// (`beyond` more are beyond the limit), between items `ol` and `or`.
struct NewRun {
    skip: u64,
    take: u64,
    beyond: u64,
    ol: u32,
    or: u32,
}

impl Core {
    /// Common checks on an op's own id range. Returns `(skip, take, beyond)` or an outcome.
    /// (Inlined, as [`new_run`](Self::new_run) is: out of line, the two calls cost an op
    /// applied alone about 80 instructions, 1.2% of `text_profile b34one` under callgrind.)
    #[inline(always)]
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

    /// The checks of [`Seq::apply_one`] on a remote insert of `n` items: its new part with
    /// its origins resolved to item numbers, or what became of it. (Inlined into each
    /// store's `apply_one`: see [`own_range`](Self::own_range).)
    #[inline(always)]
    fn new_run(
        &self,
        id: Dot,
        n: u64,
        origin_left: Option<Dot>,
        origin_right: Option<Dot>,
        limit: Option<&VersionVector>,
    ) -> core::result::Result<NewRun, Outcome> {
        let (skip, take, beyond) = self.own_range(id, n, limit)?;
        let left = if skip > 0 {
            Some(Dot::new(id.replica, id.counter + skip - 1))
        } else {
            origin_left
        };
        let ol = match left.map(|d| (d, self.resolve(d))) {
            None => NONE,
            Some((_, Ok(Some(x)))) => x,
            Some((d, Ok(None))) => return Err(Outcome::Missing(d)),
            Some((_, Err(()))) => return Err(Outcome::Invalid),
        };
        let or = match origin_right.map(|d| (d, self.resolve(d))) {
            None => NONE,
            Some((_, Ok(Some(x)))) => x,
            Some((d, Ok(None))) => return Err(Outcome::Missing(d)),
            Some((_, Err(()))) => return Err(Outcome::Invalid),
        };
        Ok(NewRun {
            skip,
            take,
            beyond,
            ol,
            or,
        })
    }

    /// Applies the new part of a remote delete op (of `len` events from `id`, deleting the
    /// items of `target` on, or down from it if `reversed`) to a store of widths `w`.
    fn apply_delete(
        &mut self,
        id: Dot,
        len: u64,
        target: Dot,
        reversed: bool,
        limit: Option<&VersionVector>,
        w: Widths<'_>,
    ) -> Outcome {
        let (skip, take, beyond) = match self.own_range(id, len, limit) {
            Ok(x) => x,
            Err(o) => return o,
        };
        // Target counters, lowest first.
        let (lo, hi) = if reversed {
            let first = target.counter.checked_sub(skip);
            match first.and_then(|f| f.checked_sub(take - 1).map(|lo| (lo, f))) {
                Some(x) => x,
                None => return Outcome::Invalid,
            }
        } else {
            match target
                .counter
                .checked_add(skip)
                .and_then(|f| f.checked_add(take - 1).map(|hi| (f, hi)))
            {
                Some(x) => x,
                None => return Outcome::Invalid,
            }
        };
        if lo == 0 {
            return Outcome::Invalid;
        }
        let Some(tagent) = self.ids.agent(target.replica) else {
            return Outcome::Missing(Dot::new(target.replica, hi));
        };
        if hi > self.ids.seen(tagent) {
            return Outcome::Missing(Dot::new(target.replica, hi));
        }
        // Map target counters to item-number pieces; all must be inserts.
        let mut pieces: Vec<(u32, u32)> = Vec::new();
        let mut c = lo;
        while c <= hi {
            let (lv, avail) = self.ids.lv_of(tagent, c).expect("counter was seen");
            let Some(r) = self.log.ins_by_lv(lv) else {
                return Outcome::Invalid;
            };
            let in_run = r.lv + r.len - lv;
            let k = u64::from(avail.min(in_run)).min(hi - c + 1) as u32;
            pieces.push((r.ilv + (lv - r.lv), k));
            c += u64::from(k);
        }
        let agent = self.ids.agent_or_insert(id.replica);
        let mut counter = id.counter + skip;
        // Record in op order: forward runs low to high, reversed runs high to low.
        if reversed {
            pieces.reverse();
        }
        for &(ilv, k) in &pieces {
            let lv = self.ids.push(agent, counter, k);
            counter += u64::from(k);
            if reversed {
                self.log.push_del(lv, k, ilv + k - 1, true);
            } else {
                self.log.push_del(lv, k, ilv, false);
            }
            self.mark_deleted(ilv, k, w);
        }
        Outcome::Applied(take, beyond)
    }

    /// The item number of `dot`: `Ok(None)` if unknown, `Err` if it names a deletion.
    fn resolve(&self, dot: Dot) -> core::result::Result<Option<u32>, ()> {
        let Some(agent) = self.ids.agent(dot.replica) else {
            return Ok(None);
        };
        let Some((lv, _)) = self.ids.lv_of(agent, dot.counter) else {
            return Ok(None);
        };
        match self.log.ins_by_lv(lv) {
            Some(r) => Ok(Some(r.ilv + (lv - r.lv))),
            None => Err(()),
        }
    }
}
