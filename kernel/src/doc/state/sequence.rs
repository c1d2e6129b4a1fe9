//! What lists and texts share: both are the sequence engine (`list::List`, `list::Text`),
//! edited in place with a checkpoint to roll back to, their transactions logged as references
//! to their events, their changes described as one range.

use alloc::vec::Vec;

use super::{Containers, State};
use crate::clock::{Dot, ReplicaId};
use crate::doc::event::{Change, ChangeEvent, ChangeOrigin, Changed};
use crate::doc::{ContainerId, Doc, DocError, Result, Txn};
use crate::list::{ApplyReport, Checkpoint};
use crate::sync::InvalidUpdate;

/// Checks that every event of a remote sequence operation is by its update's author.
pub(super) fn check_authors(ids: impl Iterator<Item = Dot>, author: ReplicaId) -> Result<()> {
    for id in ids {
        if id.replica != author {
            return Err(DocError::InvalidUpdate(InvalidUpdate::ForeignAuthor));
        }
    }
    Ok(())
}

/// A remote update is applied after everything it depends on, so each of its sequence
/// operations must apply in full and be new.
pub(super) fn check_report(r: &ApplyReport) -> Result<()> {
    if !r.missing.is_empty() {
        return Err(DocError::InvalidUpdate(InvalidUpdate::UnknownItems));
    }
    if r.invalid > 0 || r.duplicates > 0 {
        return Err(rejected());
    }
    Ok(())
}

pub(super) fn rejected() -> DocError {
    DocError::InvalidUpdate(InvalidUpdate::SequenceRejected)
}

/// What a local transaction did to one list or text.
#[derive(Clone, Copy)]
struct SeqEdits {
    /// The smallest range covering its edits, as (start, removed, inserted).
    cover: (usize, usize, usize),
    /// For a list or text edited in place in the document (not in the stage), the checkpoint
    /// from before the transaction's first edit of it: where a rollback returns it to.
    in_place: Option<Checkpoint>,
}

/// A local transaction's list and text edits, per container ([`SeqEdits`]). The first
/// container edited is kept inline, so a transaction editing one (the common case: a
/// keystroke) allocates nothing. The others are a log of runs, one per stretch of edits of
/// one container (an edit of the container the last run is about extends that run), merged
/// per container only when read: a sorted map here would compile a B-tree of its own into
/// every binary.
#[derive(Default)]
pub(crate) struct SequenceTrack {
    first: Option<(ContainerId, SeqEdits)>,
    rest: Vec<(ContainerId, SeqEdits)>,
}

impl SequenceTrack {
    /// Forgets everything tracked.
    pub(crate) fn clear(&mut self) {
        self.first = None;
        self.rest.clear();
    }

    /// Records a local edit of `id`: `del` positions at `pos` replaced by `ins`. `in_place`
    /// is the checkpoint taken just before the edit when `id` is edited in place; it is kept
    /// if this is the transaction's first edit of `id`.
    pub(super) fn note(
        &mut self,
        id: ContainerId,
        pos: usize,
        del: usize,
        ins: usize,
        in_place: Option<Checkpoint>,
    ) {
        // An empty cover at `pos` composes to the edit itself.
        let fresh = SeqEdits {
            cover: (pos, 0, 0),
            in_place,
        };
        let edits = match (&mut self.first, self.rest.last_mut()) {
            (Some((first, edits)), _) if *first == id => edits,
            (Some(_), Some((last, edits))) if *last == id => edits,
            (Some(_), _) => {
                self.rest.push((id, fresh));
                &mut self.rest.last_mut().expect("just pushed").1
            }
            (None, _) => &mut self.first.insert((id, fresh)).1,
        };
        edits.cover = compose_range(Some(edits.cover), pos, del, ins);
    }

    /// Calls `f` with every edited container and its edits, the first one first, then the
    /// others by id: the runs of one container composed in order, with the checkpoint of the
    /// first.
    fn for_each(&self, mut f: impl FnMut(ContainerId, SeqEdits)) {
        if let Some((id, edits)) = self.first {
            f(id, edits);
        }
        if self.rest.is_empty() {
            return;
        }
        let mut rest = self.rest.clone();
        // Stable: the runs of one container stay in the order they were made.
        crate::sort::sort_by(&mut rest, |a, b| a.0 < b.0);
        let mut runs = rest.into_iter().peekable();
        while let Some((id, mut edits)) = runs.next() {
            while let Some((_, run)) = runs.next_if(|(c, _)| *c == id) {
                let (pos, del, ins) = run.cover;
                edits.cover = compose_range(Some(edits.cover), pos, del, ins);
            }
            f(id, edits);
        }
    }

    /// The range each edited container changed (in no particular order).
    pub(crate) fn changes(&self, out: &mut Vec<Change>) {
        self.for_each(|container, edits| {
            let (start, removed, inserted) = edits.cover;
            if removed > 0 || inserted > 0 {
                out.push(Change {
                    container,
                    what: Changed::Range {
                        start,
                        removed,
                        inserted,
                    },
                });
            }
        });
    }

    /// The lists and texts edited in place, each with the checkpoint a rollback returns it to.
    pub(crate) fn in_place(&self) -> Vec<(ContainerId, Checkpoint)> {
        let mut out = Vec::new();
        self.for_each(|id, edits| {
            if let Some(cp) = edits.in_place {
                out.push((id, cp));
            }
        });
        out
    }
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

/// What a local list or text edit changed: `del` positions at `pos` replaced by `ins` new
/// ones, or (`ins: None`) by every event it made beyond the `del` deletions. A batch of edits
/// gives the range covering them all ([`compose_range`]), with `ins` set.
pub(super) struct Span {
    pub(super) pos: usize,
    pub(super) del: usize,
    pub(super) ins: Option<usize>,
}

impl From<(usize, usize)> for Span {
    fn from((pos, del): (usize, usize)) -> Span {
        Span {
            pos,
            del,
            ins: None,
        }
    }
}

impl Span {
    /// The inserted count, given the `events` the edit made.
    fn inserted(&self, events: u64) -> usize {
        self.ins
            .unwrap_or_else(|| (events as usize).saturating_sub(self.del))
    }
}

/// Drops the root `id` an edit in `txn` staged but did not change (out of the edit functions,
/// which are compiled once per edit closure).
#[cold]
fn unstage(txn: &mut Txn, id: ContainerId) {
    txn.stage.staged.remove(&id);
}

impl Doc {
    /// Runs a local edit `f` of list or text `id` in the open transaction (or a fresh one),
    /// and records the events it produced as one reference. `f` edits the staged state and
    /// returns what it changed (a [`Span`], or `(pos, del)`: `del` positions at `pos`
    /// replaced, every event beyond the `del` deletions an insertion). Should `f` fail after
    /// changing something, its changes are rolled back.
    pub(super) fn seq_edit<S: Into<Span>>(
        &mut self,
        id: ContainerId,
        f: impl FnOnce(&mut State) -> crate::Result<S>,
    ) -> Result<()> {
        if self.can_edit_now(id) {
            return self.seq_edit_now(id, f);
        }
        self.edit(None, |txn, base, r| Self::seq_edit_txn(txn, base, r, id, f))
    }

    /// [`seq_edit`](Self::seq_edit) inside transaction `txn`. A list or text the document
    /// holds is edited in place, where it is (no move into the stage and back): the local
    /// track keeps its checkpoint from before the transaction's first edit, for
    /// [`Stage::discard`](crate::doc::stage::Stage::discard) to roll it back to. One the
    /// transaction staged (a root it made, a nested container it created) is edited in the
    /// stage.
    pub(super) fn seq_edit_txn<S: Into<Span>>(
        txn: &mut Txn,
        base: &mut Containers,
        replica: ReplicaId,
        id: ContainerId,
        f: impl FnOnce(&mut State) -> crate::Result<S>,
    ) -> Result<()> {
        let staged = txn.stage.staged.contains(&id);
        // `created`: a root this edit brings into being (in neither the document nor the stage).
        let (st, in_place, created) = match base.get_mut(&id) {
            Some(st) if !staged => (st, true, false),
            found => {
                let created = found.is_none() && !staged;
                (txn.stage.get_mut(base, id, replica)?, false, created)
            }
        };
        let Some(before) = st.checkpoint() else {
            return Err(DocError::WrongKind {
                container: id,
                expected: id.kind,
            });
        };
        let span: Span = match f(st) {
            Ok(span) => span.into(),
            Err(e) => {
                // A single edit fails before changing anything; a batch may fail midway.
                st.rollback(before);
                if created {
                    unstage(txn, id);
                }
                return Err(e.into());
            }
        };
        let Some((first, len)) = st.events_after(before) else {
            // Nothing changed (an empty insert): a root this edit made goes again, as it does
            // outside a transaction.
            if created {
                unstage(txn, id);
            }
            return Ok(());
        };
        let ins = span.inserted(len);
        txn.push_seq(id, first.counter, len);
        if let Some(t) = txn.stage.track() {
            t.seq
                .note(id, span.pos, span.del, ins, in_place.then_some(before));
        }
        Ok(())
    }

    /// A single list or text edit outside a transaction in a document with no memory limit,
    /// so its commit cannot fail: the container is edited in place (an edit checks its
    /// arguments before it changes anything, and is rolled back to its checkpoint should it
    /// fail later), and the transaction is logged as a reference to its events, with no
    /// staging and no operations built. What [`edit`](Self::edit) and
    /// [`commit`](Self::commit) would do, for the edit users make most.
    fn seq_edit_now<S: Into<Span>>(
        &mut self,
        id: ContainerId,
        f: impl FnOnce(&mut State) -> crate::Result<S>,
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
        let (span, (first, len)): (Span, _) = match (edited, events) {
            (Ok(span), Some(events)) => (span.into(), events),
            (result, _) => {
                // An error, or nothing changed (an empty insert).
                t.rollback(cp);
                if created {
                    self.containers.remove(&id);
                }
                return result.map(|_| ()).map_err(DocError::from);
            }
        };
        let Span { pos, del, .. } = span;
        let ins = span.inserted(len);
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
        if self.queue_events {
            self.queue_seq_event(id, pos, del, ins);
        }
        Ok(())
    }

    /// Queues the event of a single list or text edit: `del` positions at `pos` replaced by
    /// `ins`. Every committed edit queues its event, as `commit` does; one whose operations
    /// cancel out (a batch that inserts and deletes the same char) changes nothing. (Out of
    /// [`seq_edit_now`](Self::seq_edit_now), which is compiled once per edit closure.)
    fn queue_seq_event(&mut self, id: ContainerId, pos: usize, del: usize, ins: usize) {
        let change = Change {
            container: id,
            what: Changed::Range {
                start: pos,
                removed: del,
                inserted: ins,
            },
        };
        self.events.push(ChangeEvent {
            origin: ChangeOrigin::Local,
            changes: (del > 0 || ins > 0).then_some(change).into_iter().collect(),
        });
    }

    /// Whether an edit of list or text `id` may take [`seq_edit_now`](Self::seq_edit_now).
    fn can_edit_now(&self, id: ContainerId) -> bool {
        !self.txn.open && !self.limited && !self.needs_publish(id)
    }
}

#[cfg(test)]
mod tests {
    use super::compose_range;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Edits `(pos, del, ins)` made from `raw` that are valid, in turn, on a sequence of
    /// `len` elements (each clamped to the length it meets).
    fn valid_edits(mut len: usize, raw: &[(usize, usize, usize)]) -> Vec<(usize, usize, usize)> {
        let mut done = Vec::new();
        for &(p, d, i) in raw {
            let pos = p % (len + 1);
            let del = d % (len - pos + 1);
            len = len - del + i;
            done.push((pos, del, i));
        }
        done
    }

    proptest! {
        /// Composing a run of edits into its own cover first, then into the cover of the edits
        /// before (what `SequenceTrack` does with the runs of one container), gives the cover
        /// composing every edit in turn gives.
        #[test]
        fn composing_runs_is_composing_their_edits(
            len in 0usize..20,
            raw in proptest::collection::vec((0usize..30, 0usize..5, 0usize..4), 1..12),
            split in 0usize..12,
        ) {
            let done = valid_edits(len, &raw);
            let split = split % done.len();
            let one_by_one = done.iter().fold(None, |c, &(p, d, i)| Some(compose_range(c, p, d, i)));
            let cover = |es: &[(usize, usize, usize)]| {
                es.iter().fold(None, |c, &(p, d, i)| Some(compose_range(c, p, d, i)))
            };
            let (head, tail) = done.split_at(split);
            let by_runs = match (cover(head), cover(tail)) {
                (h, Some((p, d, i))) => Some(compose_range(h, p, d, i)),
                (h, None) => h,
            };
            prop_assert_eq!(by_runs, one_by_one);
        }
    }
}
