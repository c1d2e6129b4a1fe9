//! Numbering: the local versions of events and their global ids.
//!
//! Every event (an inserted item or a deletion) gets a *local version* `lv`, dense and in the
//! order this replica learnt of it (a causal order). Over the wire an event is a [`Dot`]: the
//! replica that made it and that replica's counter. [`Ids`] maps one to the other, keeping
//! both directions as runs (consecutive events of one replica with consecutive lvs are one
//! run), and numbers replicas with dense *agent* indices that are local like lvs.
//!
//! Invariants ([`Ids::check_invariants`] checks the lv total, the highest counters and the
//! replica order):
//! * the lv runs are sorted, contiguous from 0 and cover `0..next_lv` exactly once;
//! * each agent's runs are sorted by counter and contiguous from counter 1 up to the highest
//!   counter seen, so an agent's events are exactly counters `1..=seen`;
//! * `sorted` lists every agent once, in replica order, and `by_replica` is either empty (few
//!   agents) or the exact inverse of `replicas`.

use alloc::vec::Vec;

use hashbrown::HashMap;

use super::super::content::reserve_frugal;
use super::super::ops::{pack_ids, unpack_ids};
use super::super::tree::NONE;
use crate::clock::{Dot, ReplicaId};
use crate::encoding::DecodeError;
use crate::sort::sort;
use crate::version::VersionVector;

/// Consecutive counters of one agent with consecutive lvs.
#[derive(Clone, Copy, Debug)]
struct AgentRun {
    counter: u64,
    lv: u32,
    len: u32,
}

/// Consecutive lvs made by one agent with consecutive counters.
#[derive(Clone, Copy, Debug)]
pub(super) struct LvRun {
    pub(super) lv: u32,
    pub(super) agent: u32,
    pub(super) counter: u64,
    pub(super) len: u32,
}

/// Up to this many replicas, a linear scan finds one faster than hashing.
const LINEAR_AGENTS: usize = 8;

/// `lv` ↔ `(replica, counter)`.
#[derive(Clone, Debug, Default)]
pub(super) struct Ids {
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

impl Ids {
    /// The lv the next event gets: how many events there are.
    pub(super) fn next_lv(&self) -> u32 {
        self.next_lv
    }

    /// The replicas met, indexed by agent.
    pub(super) fn replicas(&self) -> &[ReplicaId] {
        &self.replicas
    }

    /// The replica of `agent`.
    pub(super) fn replica(&self, agent: u32) -> ReplicaId {
        self.replicas[agent as usize]
    }

    /// How many lv runs there are (for debug statistics).
    pub(super) fn lv_runs(&self) -> usize {
        self.lvs.len()
    }

    #[inline]
    pub(super) fn agent(&self, r: ReplicaId) -> Option<u32> {
        if self.replicas.len() <= LINEAR_AGENTS {
            self.replicas.iter().position(|&x| x == r).map(|i| i as u32)
        } else {
            self.by_replica.get(&r).copied()
        }
    }
    pub(super) fn agent_or_insert(&mut self, r: ReplicaId) -> u32 {
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
    pub(super) fn seen(&self, agent: u32) -> u64 {
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
    pub(super) fn seen_replica(&self, r: ReplicaId) -> u64 {
        self.agent(r).map_or(0, |a| self.seen(a))
    }
    /// Assigns lvs to `len` events `counter..` of `agent` (counter must be `seen + 1`).
    pub(super) fn push(&mut self, agent: u32, counter: u64, len: u32) -> u32 {
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
    pub(super) fn lv_run(&self, lv: u32) -> &LvRun {
        let i = self.lvs.partition_point(|r| r.lv <= lv) - 1;
        &self.lvs[i]
    }
    pub(super) fn dot(&self, lv: u32) -> Dot {
        let r = self.lv_run(lv);
        Dot::new(
            self.replicas[r.agent as usize],
            r.counter + u64::from(lv - r.lv),
        )
    }
    /// The replica of event `lv`, trying lv run `*hint` and its successor before a binary
    /// search; leaves the found run's index in `hint`.
    #[inline]
    pub(super) fn replica_near(&self, lv: u32, hint: &mut usize) -> ReplicaId {
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
    pub(super) fn lv_of(&self, agent: u32, counter: u64) -> Option<(u32, u32)> {
        let runs = &self.runs[agent as usize];
        let i = runs
            .partition_point(|r| r.counter <= counter)
            .checked_sub(1)?;
        let r = runs[i];
        let off = counter - r.counter;
        (off < u64::from(r.len)).then(|| (r.lv + off as u32, r.len - off as u32))
    }
    /// The lv ranges of the events that `since` lacks and (when given) `until` holds, sorted
    /// and disjoint.
    pub(super) fn lv_ranges_between(
        &self,
        since: &VersionVector,
        until: Option<&VersionVector>,
    ) -> Vec<(u32, u32)> {
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        let none = VersionVector::new();
        let ends = (self.zip_sorted(until.unwrap_or(&none)))
            .map(|(_, c)| until.map_or(u64::MAX, |_| c.saturating_add(1)));
        // One merge pass over the agents and both vectors, in replica order.
        for ((a, seen_by_since), end) in self.zip_sorted(since).zip(ends) {
            // Counters `from..end` of this replica; most are usually seen up to date.
            let from = seen_by_since.saturating_add(1);
            if from >= end || from > self.seen(a) {
                continue;
            }
            let runs = &self.runs[a as usize];
            let i = runs.partition_point(|r| r.counter + u64::from(r.len) <= from);
            for r in runs[i..].iter().take_while(|r| r.counter < end) {
                let skip = from.saturating_sub(r.counter) as u32;
                let cut = (r.counter + u64::from(r.len)).saturating_sub(end) as u32;
                ranges.push((r.lv + skip, r.lv + r.len - cut));
            }
        }
        sort(&mut ranges);
        ranges
    }
    /// The replica of each run of consecutive events, packed by [`pack_ids`] (the `ids`
    /// section of the history and of a state snapshot).
    pub(super) fn packed(&self) -> Vec<u8> {
        let runs: Vec<(u32, u32)> = self.lvs.iter().map(|r| (r.agent, r.len)).collect();
        pack_ids(&runs, self.replicas.len())
    }
    /// Registers `replicas` as agents `0..` of an empty id map; a replica listed twice is an
    /// error.
    pub(super) fn register(
        &mut self,
        replicas: &[ReplicaId],
    ) -> core::result::Result<(), DecodeError> {
        for (i, r) in replicas.iter().enumerate() {
            if self.agent_or_insert(*r) as usize != i {
                return Err(DecodeError::Invalid("duplicate replica"));
            }
        }
        Ok(())
    }
    /// Fills an empty id map from a snapshot's replicas and packed id runs (which number
    /// every event).
    #[inline(never)]
    pub(super) fn load(&mut self, replicas: &[ReplicaId], ids: &[u8]) -> Result<(), DecodeError> {
        let bad = DecodeError::Invalid;
        self.register(replicas)?;
        for (agent, len) in unpack_ids(ids, replicas.len())? {
            if agent as usize >= replicas.len() {
                return Err(bad("bad id run"));
            }
            if u64::from(self.next_lv) + u64::from(len) >= u64::from(NONE) {
                return Err(bad("too many events"));
            }
            let counter = self.seen(agent) + 1;
            self.push(agent, counter, len);
        }
        Ok(())
    }
    pub(super) fn version(&self) -> VersionVector {
        VersionVector::from_entries(
            (self.sorted.iter()).map(|&a| (self.replicas[a as usize], self.seen(a))),
        )
    }
    /// Forgets the ids of events from `lv` on and every agent numbered `agents` or higher
    /// (the replicas met since: agents are numbered in the order they are met).
    pub(super) fn truncate(&mut self, lv: u32, agents: usize) {
        cut_runs(&mut self.lvs, lv, |r| (r.lv, &mut r.len));
        self.replicas.truncate(agents);
        self.runs.truncate(agents);
        self.seen.truncate(agents);
        self.sorted.retain(|&a| (a as usize) < agents);
        if self.replicas.len() <= LINEAR_AGENTS {
            self.by_replica.clear();
        } else {
            self.by_replica.retain(|_, a| (*a as usize) < agents);
        }
        for (runs, seen) in self.runs.iter_mut().zip(&mut self.seen) {
            cut_runs(runs, lv, |r| (r.lv, &mut r.len));
            *seen = runs.last().map_or(0, |r| r.counter + u64::from(r.len) - 1);
        }
        self.next_lv = lv;
    }
    /// Panics unless the invariants in the module docs hold.
    pub(super) fn check_invariants(&self) {
        let lvs: u64 = self.lvs.iter().map(|r| u64::from(r.len)).sum();
        assert_eq!(lvs, u64::from(self.next_lv), "every lv has an id");
        for (a, runs) in self.runs.iter().enumerate() {
            let last = runs.last().map_or(0, |r| r.counter + u64::from(r.len) - 1);
            assert_eq!(self.seen[a], last, "agent {a}'s highest counter");
        }
        let by_replica = |w: &[u32]| self.replicas[w[0] as usize] < self.replicas[w[1] as usize];
        assert!(
            self.sorted.len() == self.replicas.len() && self.sorted.windows(2).all(by_replica),
            "agents in replica order"
        );
    }
}

/// Cuts a list of runs sorted by first event at event `lv`: runs starting at or after it go,
/// a run straddling it is shortened. (The op log's runs are cut the same way.)
pub(super) fn cut_runs<R>(runs: &mut Vec<R>, lv: u32, key: impl Fn(&mut R) -> (u32, &mut u32)) {
    while let Some(last) = runs.last_mut() {
        let (start, len) = key(last);
        if start < lv {
            *len = (*len).min(lv - start);
            break;
        }
        runs.pop();
    }
}
