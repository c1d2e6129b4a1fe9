//! Applying remote updates: deduplication, causal buffering and the all-or-nothing commit.
//!
//! [`Doc::apply_update`](super::Doc::apply_update) and [`Doc::load`](super::Doc::load) feed
//! updates through [`Doc::ingest`]: an integration pass works out which updates are
//! duplicates, which are ready (applied, in a causal order, to a [`Stage`]) and which must
//! wait; only if every incoming update is valid is the stage committed, and otherwise it is
//! discarded (the lists and texts it took from the document rolled back to their
//! checkpoints). A buffered update from an earlier call that turns out invalid once its
//! dependencies arrive is dropped and the pass is redone without it.

use alloc::vec::Vec;

use super::history::{OpRec, TxnRec};
use super::stage::Stage;
use super::{ChangeEvent, ChangeOrigin, ContainerId, Doc, DocError, Origin, Result};
use crate::clock::ReplicaId;
use crate::sync::{InvalidUpdate, Op, Update};
use crate::version::VersionVector;

/// An update's id: its author and first counter.
pub(super) type UpdateId = (ReplicaId, u64);

/// Where an update in an integration pass came from.
#[derive(Clone, Copy)]
enum Src {
    /// Key of an update in the document's pending buffer.
    Pending(UpdateId),
    /// Index into the incoming batch.
    New(usize),
}

/// Why an integration pass failed.
enum Fail {
    /// A buffered update is invalid: drop it and try again.
    Pending(UpdateId),
    /// An incoming update is invalid: the call fails.
    New(DocError),
}

fn fail(src: Src, e: DocError) -> Fail {
    match src {
        Src::Pending(i) => Fail::Pending(i),
        Src::New(_) => Fail::New(e),
    }
}

/// The outcome of an integration pass (beside the stage it applied the updates to), not yet
/// committed to the document.
struct Plan {
    lamport: u64,
    applied: Vec<Src>,
    remaining: Vec<Src>,
    duplicates: usize,
}

impl Doc {
    /// Validates, integrates and commits `incoming`, in Lamport order (a causal order); all or
    /// nothing.
    pub(super) fn ingest(&mut self, incoming: Vec<Update>) -> Result<ApplyReport> {
        for u in &incoming {
            u.check_shape()?;
        }
        let mut excluded: Vec<UpdateId> = Vec::new();
        let (stage, plan) = loop {
            // The lists and texts the incoming updates edit are edited in place, and rolled
            // back if the pass fails (anything else, and what buffered updates touch, is
            // copied on first touch). A lone update that is not ready will only be buffered.
            let mut stage = Stage::default();
            let may_apply = |u: &&Update| incoming.len() > 1 || u.is_ready(&self.version);
            for op in incoming.iter().filter(may_apply).flat_map(|u| &u.ops) {
                if let Op::List { list: id, .. } | Op::Text { text: id, .. } = op {
                    stage.take_sequence(&mut self.containers, *id);
                }
            }
            match self.integrate(&mut stage, &incoming, &excluded) {
                Ok(plan) => break (stage, plan),
                Err(f) => {
                    stage.discard(&mut self.containers);
                    match f {
                        Fail::Pending(k) => excluded.push(k),
                        Fail::New(e) => return Err(e),
                    }
                }
            }
        };
        self.commit_plan(incoming, stage, plan, excluded)
    }

    /// Works out what applying `incoming` does, applying it to `stage` but not changing the
    /// document.
    ///
    /// The incoming updates are tried first; the buffered ones only once something was
    /// applied (buffered updates are never ready at rest), so a message that only adds to
    /// the buffer costs time proportional to its own size.
    fn integrate(
        &self,
        stage: &mut Stage,
        incoming: &[Update],
        excluded: &[UpdateId],
    ) -> core::result::Result<Plan, Fail> {
        let get = |s: Src| match s {
            Src::Pending(k) => &self.pending[&k],
            Src::New(i) => &incoming[i],
        };
        let mut duplicates = 0;
        let mut ids: hashbrown::HashMap<UpdateId, usize> = hashbrown::HashMap::new();
        let mut cands: Vec<Src> = Vec::new();
        // Updates already applied: compared with the logged ones, rebuilt all at once below.
        let mut applied_dups: Vec<usize> = Vec::new();
        let conflict = |u: &Update| DocError::Conflict {
            author: u.author,
            start: u.start,
        };
        for (i, u) in incoming.iter().enumerate() {
            let src = Src::New(i);
            let key = (u.author, u.start);
            if self.version.get(u.author) >= u.start && self.history.starts_txn(u.author, u.start) {
                applied_dups.push(i);
                duplicates += 1;
                continue;
            }
            let known = (self.pending.get(&key).filter(|_| !excluded.contains(&key)))
                .or_else(|| ids.get(&key).map(|&i| &incoming[i]));
            if let Some(k) = known {
                if !k.same_as(u) {
                    return Err(fail(src, conflict(u)));
                }
                duplicates += 1;
                continue;
            }
            if self.version.get(u.author) >= u.start {
                return Err(fail(
                    src,
                    DocError::InvalidUpdate(InvalidUpdate::OverlapsKnownCounters),
                ));
            }
            ids.insert(key, i);
            cands.push(src);
        }
        if !applied_dups.is_empty() {
            let keys: Vec<UpdateId> = applied_dups
                .iter()
                .map(|&i| (incoming[i].author, incoming[i].start))
                .collect();
            let logged = self
                .history
                .updates_at(&keys, &self.containers, Some(stage));
            for &i in &applied_dups {
                let u = &incoming[i];
                if !logged
                    .get(&(u.author, u.start))
                    .is_some_and(|k| k.same_as(u))
                {
                    return Err(Fail::New(conflict(u)));
                }
            }
        }
        // Lamport order is a causal order (an update's dependencies have smaller Lamport
        // times), so one pass applies everything that can be applied. (Ids are unique, so
        // the order does not depend on the order of the candidates, the buffered ones included,
        // which come in hash-table order.)
        let order = |cands: &mut Vec<Src>| {
            crate::sort::sort_by_key(cands, |&s| {
                let u = get(s);
                (u.lamport, u.author, u.start)
            });
        };
        order(&mut cands);

        // What the plan has applied so far: the document's version and, over it, the
        // counters the applied updates reach (the version itself is not copied: with many
        // replicas it is long, and an update moves one entry).
        let mut ahead = VersionVector::new();
        let mut lamport = self.lamport;
        let mut applied = Vec::new();
        let mut with_pending = false;
        loop {
            let mut progress = false;
            let mut still = Vec::new();
            for src in cands {
                let u = get(src);
                if u.is_ready_over(&self.version, &ahead) {
                    let mut fresh = None;
                    for (i, op) in u.ops.iter().enumerate() {
                        stage
                            .apply_remote(
                                &self.containers,
                                self.replica,
                                u.dot(i),
                                u.stamp(i),
                                op,
                                fresh,
                            )
                            .map_err(|e| fail(src, e))?;
                        fresh = match op {
                            Op::Create { kind } => Some(ContainerId {
                                kind: *kind,
                                origin: Origin::Created(u.dot(i)),
                            }),
                            _ => None,
                        };
                    }
                    ahead.advance(u.author, u.end() - 1);
                    lamport = lamport.max(u.lamport + u.ops.len() as u64 - 1);
                    applied.push(src);
                    progress = true;
                } else if self.version.get_over(&ahead, u.author) >= u.start {
                    return Err(fail(
                        src,
                        DocError::InvalidUpdate(InvalidUpdate::OverlapsKnownCounters),
                    ));
                } else {
                    still.push(src);
                }
            }
            cands = still;
            if progress && !cands.is_empty() {
                continue;
            }
            if !with_pending && !applied.is_empty() && !self.pending.is_empty() {
                with_pending = true;
                cands.extend(
                    self.pending
                        .keys()
                        .filter(|k| !excluded.contains(k))
                        .map(|&k| Src::Pending(k)),
                );
                order(&mut cands);
                continue;
            }
            break;
        }
        Ok(Plan {
            lamport,
            applied,
            remaining: cands,
            duplicates,
        })
    }

    /// Charges the memory budget for the new updates kept (applied or buffered) and releases
    /// the rejected buffered ones; refuses if that would exceed the limit. A document with no
    /// limit counts nothing (measuring an update means encoding it).
    fn charge_budget(
        &mut self,
        incoming: &[Update],
        plan: &Plan,
        excluded: &[UpdateId],
    ) -> Result<()> {
        if !self.limited {
            return Ok(());
        }
        let added: usize = (plan.applied.iter().chain(&plan.remaining))
            .filter_map(|s| match s {
                Src::New(i) => Some(incoming[*i].encoded_len()),
                Src::Pending(_) => None,
            })
            .sum();
        let released: usize = (excluded.iter())
            .filter_map(|k| self.pending.get(k))
            .map(Update::encoded_len)
            .sum();
        if added > self.budget.available() + released {
            return Err(DocError::BudgetExceeded {
                requested: added,
                available: self.budget.available() + released,
            });
        }
        self.budget.release(released);
        self.budget
            .try_reserve(added)
            .map_err(|_| DocError::BudgetExceeded {
                requested: added,
                available: self.budget.available(),
            })
    }

    fn commit_plan(
        &mut self,
        incoming: Vec<Update>,
        mut stage: Stage,
        plan: Plan,
        excluded: Vec<UpdateId>,
    ) -> Result<ApplyReport> {
        if let Err(e) = self.charge_budget(&incoming, &plan, &excluded) {
            stage.discard(&mut self.containers);
            return Err(e);
        }

        let shrinks =
            !excluded.is_empty() || plan.applied.iter().any(|s| matches!(s, Src::Pending(_)));
        for k in &excluded {
            self.pending.remove(k);
        }
        let mut incoming: Vec<Option<Update>> = incoming.into_iter().map(Some).collect();
        let applied = plan.applied.len();
        // The document's version moves with each update logged, as its record expects.
        for s in plan.applied {
            let u = match s {
                Src::Pending(k) => self.pending.remove(&k),
                Src::New(i) => incoming[i].take(),
            };
            if let Some(u) = u {
                self.publish(&u.names);
                let (author, end) = (u.author, u.end());
                let rec = TxnRec {
                    author: u.author,
                    start: u.start,
                    lamport: u.lamport,
                    deps: Some(u.deps),
                    names: u.names,
                    ops: u.ops.into_iter().map(OpRec::of).collect(),
                };
                self.history.push(rec, &self.version);
                self.version.advance(author, end - 1);
            }
        }
        for s in plan.remaining {
            if let Src::New(i) = s {
                if let Some(u) = incoming[i].take() {
                    self.pending_needs.merge(&u.deps);
                    self.pending.insert((u.author, u.start), u);
                }
            }
        }
        let changes = stage.finish(&mut self.containers);
        self.lamport = plan.lamport;

        if shrinks {
            self.pending_needs = VersionVector::new();
            for u in self.pending.values() {
                self.pending_needs.merge(&u.deps);
            }
        }
        let missing: VersionVector = self
            .pending_needs
            .iter()
            .filter(|&(r, c)| c > self.version.get(r))
            .collect();
        let event = ChangeEvent {
            origin: ChangeOrigin::Remote,
            changes,
        };
        if self.queue_events && !event.is_empty() {
            self.events.push(event.clone());
        }
        Ok(ApplyReport {
            applied,
            duplicates: plan.duplicates,
            pending: self.pending.len(),
            missing,
            rejected: excluded.len(),
            event,
        })
    }
}

/// What [`Doc::apply_update`](Doc::apply_update) did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Updates applied by this call (new ones, and buffered ones they unblocked).
    pub applied: usize,
    /// Updates in the message that were already applied or already buffered.
    pub duplicates: usize,
    /// Updates buffered after this call because something they depend on is missing.
    pub pending: usize,
    /// What the buffered updates wait for: the least version vector that would make them all
    /// ready (empty when nothing is pending). Ask a peer for
    /// `encode_updates_since(&my_version)` to get it.
    pub missing: VersionVector,
    /// Buffered updates from earlier calls dropped because, once their dependencies arrived,
    /// they turned out to be invalid.
    pub rejected: usize,
    /// What the applied updates changed.
    pub event: ChangeEvent,
}

impl ApplyReport {
    /// Whether nothing is left pending.
    pub fn is_complete(&self) -> bool {
        self.pending == 0
    }
}

#[cfg(test)]
mod tests {
    use crate::clock::ReplicaId;
    use crate::doc::{ContainerId, ContainerKind, Doc, Value};
    use crate::sync;
    use crate::version::VersionVector;

    /// A forged update whose Lamport time equals that of an update it depends on (an honest
    /// one's is larger) is applied after it, and the history logs it after it: the document
    /// still saves and loads. (The `apply_update` fuzzer found this broken by a log order
    /// that sorted concurrent updates by author whatever their dependencies.)
    #[test]
    fn an_update_depending_on_one_of_equal_lamport_time_is_logged_after_it() {
        let m = ContainerId::root("m", ContainerKind::Map);
        let mut high = Doc::new(ReplicaId(5));
        high.map_set(m, "a", Value::Int(1)).unwrap();
        let first = high.encode_updates_since(&VersionVector::new());
        let mut low = Doc::new(ReplicaId(2));
        low.apply_update(&first).unwrap();
        let before = low.version();
        low.map_set(m, "b", Value::Int(2)).unwrap();
        let mut second = sync::decode_updates(&low.encode_updates_since(&before)).unwrap();
        let dep = sync::decode_updates(&first).unwrap();
        assert!(second[0].lamport > dep[0].lamport);
        second[0].lamport = dep[0].lamport;
        let both = sync::encode_updates(&[dep[0].clone(), second[0].clone()]);

        let mut fresh = Doc::new(ReplicaId(9));
        fresh.apply_update(&both).unwrap();
        assert_eq!(fresh.map_keys(m).unwrap().len(), 2);
        let loaded = Doc::load(&fresh.save().unwrap()).unwrap();
        assert_eq!(loaded.roots(), fresh.roots());
    }
}
