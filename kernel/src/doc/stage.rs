//! The staging area every change goes through.
//!
//! A [`Stage`] holds the containers a transaction or an incoming update touches, away from
//! the document. Operations are applied there; only when all of them succeed does the
//! document take them back ([`Stage::finish`]). So a failed local edit or a bad remote update
//! leaves the document exactly as it was. Most staged containers are private copies, made
//! once per container per stage. Lists and texts are not copied: a local transaction edits
//! the ones the document holds in place, and an incoming update's are moved into the stage;
//! either way with a [`Checkpoint`] that the document rolls them back to if the change does
//! not commit ([`State::rollback`]), so a transaction costs time in its edits, not in the size
//! of the document.
//!
//! What is specific to a kind of container (applying its operations, describing its change,
//! tracking local edits) lives in that kind's module under `state`.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::DocError;
use super::event::Change;
use super::node::Node;
use super::state::{
    Containers, CounterTrack, MAX_DEPTH, MapTrack, RegisterTrack, SequenceTrack, SetTrack, Stamp,
    State, carried_items, empty_node, written_key,
};
use crate::clock::{Dot, ReplicaId, Timestamp};
use crate::list::Checkpoint;
use crate::sync::{InvalidUpdate, Op};
use crate::value::{ContainerId, Item, Origin};

/// The touched containers (copies, or moved-in sequences) plus what is needed to describe
/// the change and to roll back the lists and texts edited in place.
#[derive(Default)]
pub(crate) struct Stage {
    /// The staged containers, with the depths of those attached in this stage (0 for the
    /// others: their depth is the document's).
    pub(crate) staged: Containers,
    /// Map keys written or removed by remote operations: a log, one row per write (a write
    /// repeating the row before it is dropped), sorted and reduced to one row per key only
    /// by [`diff`](Self::diff) (a set here would compile a B-tree of its own; see
    /// [`MapTrack`]).
    keys: Vec<(ContainerId, String)>,
    /// For a local transaction: its changes, tracked edit by edit, and the checkpoints of the
    /// lists and texts it edits in place. `None` for remote updates, whose changes are found
    /// by comparing them with the committed containers.
    pub(crate) local: Option<LocalTrack>,
    /// The lists and texts an incoming update's stage moved in from the document rather than
    /// copied, each with the checkpoint it returns to if the stage is discarded.
    moved: Vec<(ContainerId, Checkpoint)>,
}

/// The visible effect of local edits, recorded as they are made, so that committing costs
/// time proportional to the edits rather than to the containers' size (and so the committed
/// container may be edited in place or moved into the stage instead of copied). One part per
/// kind, each kept by its kind's module.
#[derive(Default)]
pub(crate) struct LocalTrack {
    pub(crate) map: MapTrack,
    pub(crate) seq: SequenceTrack,
    pub(crate) counter: CounterTrack,
    pub(crate) register: RegisterTrack,
    pub(crate) set: SetTrack,
}

impl LocalTrack {
    /// Forgets everything tracked.
    fn clear(&mut self) {
        self.map.clear();
        self.seq.clear();
        self.counter.clear();
        self.register.clear();
        self.set.clear();
    }
}

impl Stage {
    /// A stage for a local transaction, which tracks its changes edit by edit.
    pub(crate) fn local() -> Stage {
        Stage {
            local: Some(LocalTrack::default()),
            ..Stage::default()
        }
    }

    /// Moves `id` out of `base` into the stage with a checkpoint, if it is a list or text not
    /// staged yet; returns whether it did (for incoming updates, which are integrated against
    /// an unchanged document; a local transaction edits its lists and texts in place). Edits
    /// then change it in place: [`finish`] hands it back, [`discard`] rolls it back first,
    /// and [`diff`] reads its change from its own history instead of comparing it with a
    /// copy.
    ///
    /// [`finish`]: Self::finish
    /// [`discard`]: Self::discard
    /// [`diff`]: Self::diff
    pub(crate) fn take_sequence(&mut self, base: &mut Containers, id: ContainerId) -> bool {
        if self.staged.contains(&id) {
            return false;
        }
        let Some(cp) = base.get(&id).and_then(State::checkpoint) else {
            return false;
        };
        let Some(st) = base.remove(&id) else {
            return false;
        };
        self.staged.insert(id, st);
        self.moved.push((id, cp));
        true
    }

    /// Drops what the stage holds, which will not be committed: the lists and texts moved in
    /// go back to the document, and those a local transaction edited in place stay there,
    /// all rolled back to their checkpoints; copies are dropped. The stage is left empty.
    pub(crate) fn discard(&mut self, base: &mut Containers) {
        for (id, cp) in self.moved.drain(..) {
            if let Some(mut st) = self.staged.remove(&id) {
                st.rollback(cp);
                base.insert(id, st);
            }
        }
        let in_place = self.local.as_ref().map(|t| t.seq.in_place());
        for (id, cp) in in_place.into_iter().flatten() {
            if let Some(st) = base.get_mut(&id) {
                st.rollback(cp);
            }
        }
        self.clear();
    }

    /// Empties the stage for its next use; a local stage stays one.
    fn clear(&mut self) {
        self.staged.clear();
        if !self.keys.is_empty() {
            self.keys.clear();
        }
        self.moved.clear();
        if let Some(t) = &mut self.local {
            t.clear();
        }
    }

    /// The staged copy of `id`, made on first touch. A root springs into existence empty; a
    /// nested container must have been created before.
    pub(crate) fn get_mut(
        &mut self,
        base: &Containers,
        id: ContainerId,
        replica: ReplicaId,
    ) -> Result<&mut State, DocError> {
        let slot = self.staged.slot_mut(id);
        if slot.is_none() {
            // An unknown container leaves an empty slot, which reads as nothing staged.
            *slot = Some(match base.get(&id) {
                Some(s) => s.clone(),
                None if id.is_root() => State::empty(id.kind, replica),
                None => return Err(DocError::UnknownContainer(id)),
            });
        }
        slot.as_mut().ok_or(DocError::UnknownContainer(id))
    }

    /// The current (staged or committed) state of `id`, if it exists.
    pub(crate) fn get<'a>(&'a self, base: &'a Containers, id: ContainerId) -> Option<&'a State> {
        self.staged.get(&id).or_else(|| base.get(&id))
    }

    /// Whether `id` exists (staged or committed), roots always do.
    pub(crate) fn exists(&self, base: &Containers, id: ContainerId) -> bool {
        id.is_root() || self.get(base, id).is_some()
    }

    /// Checks the nested containers among `items`: at most one, and it must be `fresh`, the
    /// container created by the operation right before. So every nested container has exactly
    /// one parent, created before it, and the containers form a tree (no cycles, no sharing).
    fn check_items<'a>(
        items: impl Iterator<Item = &'a Item>,
        fresh: Option<ContainerId>,
    ) -> Result<Option<ContainerId>, DocError> {
        let mut seen = 0;
        for item in items {
            if let Item::Container(c) = item {
                seen += 1;
                if seen > 1 || Some(*c) != fresh {
                    return Err(if c.is_root() {
                        DocError::InvalidUpdate(InvalidUpdate::NestedRoot)
                    } else {
                        DocError::UnknownContainer(*c)
                    });
                }
            }
        }
        Ok(if seen == 1 { fresh } else { None })
    }

    /// Records the depth of `child`, attached under `parent`, refusing trees deeper than
    /// [`MAX_DEPTH`].
    pub(crate) fn attach(
        &mut self,
        base: &Containers,
        parent: ContainerId,
        child: Option<ContainerId>,
    ) -> Result<(), DocError> {
        let Some(child) = child else { return Ok(()) };
        let parent_depth = match self.staged.depth(parent) {
            0 => base.depth(parent),
            attached => attached,
        };
        let depth = parent_depth + 1;
        if depth > MAX_DEPTH {
            return Err(DocError::TooDeep { limit: MAX_DEPTH });
        }
        self.staged.set_depth(child, depth);
        Ok(())
    }

    /// Applies one remote operation with id `dot` and timestamp `ts`; `fresh` is the
    /// container the operation right before created, if any.
    pub(crate) fn apply_remote(
        &mut self,
        base: &Containers,
        replica: ReplicaId,
        dot: Dot,
        ts: Timestamp,
        op: &Op,
        fresh: Option<ContainerId>,
    ) -> Result<(), DocError> {
        let Some(id) = op.container() else {
            // A creation: the container springs into existence empty.
            let Op::Create { kind } = op else {
                return Ok(());
            };
            let id = ContainerId {
                kind: *kind,
                origin: Origin::Created(dot),
            };
            if self.get(base, id).is_some() {
                return Err(DocError::InvalidUpdate(InvalidUpdate::CreatedTwice));
            }
            self.staged.insert(id, State::empty(*kind, replica));
            return Ok(());
        };
        let child = Self::check_items(carried_items(op), fresh)?;
        self.attach(base, id, child)?;
        self.get_mut(base, id, replica)?
            .apply(id, Stamp { dot, ts }, op)?;
        if let Some(key) = written_key(op) {
            if (self.keys.last()).is_none_or(|(m, k)| *m != id || k != key) {
                self.keys.push((id, key.into()));
            }
        }
        Ok(())
    }

    /// The local track, for recording an edit that needs no state to describe it (a list or
    /// text range, a counter's sum); `None` while applying remote updates.
    pub(crate) fn track(&mut self) -> Option<&mut LocalTrack> {
        self.local.as_mut()
    }

    /// Runs `note` with the local track and the current state of `id` (staged, or as
    /// committed), for recording what a local edit of `id` changes. Remote updates are not
    /// tracked (see [`diff`](Self::diff)).
    pub(crate) fn note(
        &mut self,
        base: &Containers,
        id: ContainerId,
        note: impl FnOnce(&mut LocalTrack, Option<&State>),
    ) {
        if let Some(t) = &mut self.local {
            note(t, self.staged.get(&id).or_else(|| base.get(&id)));
        }
    }

    /// The changes of a local transaction, from what was tracked (see [`LocalTrack`]), in
    /// container-id order. Each track holds containers of its own kinds only, and gives each
    /// of them at most one change.
    fn local_changes(&mut self) -> Vec<Change> {
        let Some(t) = &mut self.local else {
            return Vec::new();
        };
        let mut out = Vec::new();
        t.map.changes(&self.staged, &mut out);
        t.seq.changes(&mut out);
        t.counter.changes(&mut out);
        t.register.changes(&self.staged, &mut out);
        t.set.changes(&self.staged, &mut out);
        crate::sort::sort_by_key(&mut out, |c| c.container);
        out
    }

    /// Describes how the staged copies differ from `base`, then moves them into `base`,
    /// leaving the stage empty.
    pub(crate) fn finish(&mut self, base: &mut Containers) -> Vec<Change> {
        let changes = match self.local {
            Some(_) => self.local_changes(),
            None => self.diff(base),
        };
        if !self.staged.is_empty() {
            base.absorb(&mut self.staged);
        }
        self.clear();
        changes
    }

    /// How the staged containers differ from `base` (the state before), one entry per
    /// changed container, in container-id order. A list or text moved in reports the range
    /// its events since the checkpoint touched ([`State::change_since`]).
    pub(crate) fn diff(&mut self, base: &Containers) -> Vec<Change> {
        let mut out = Vec::new();
        // Both in container order, so one pass finds each staged container's checkpoint.
        crate::sort::sort_by_key(&mut self.moved, |&(id, _)| id);
        let mut moved = self.moved.iter().peekable();
        // In container order too, one row per key.
        crate::sort::sort_by(&mut self.keys, |a, b| (a.0, &a.1) < (b.0, &b.1));
        self.keys.dedup();
        let mut keys = self.keys.as_slice();
        for (id, new) in self.staged.iter_mut() {
            let old = base.get(&id);
            let skip = keys.iter().take_while(|(c, _)| *c < id).count();
            let mine = keys[skip..].iter().take_while(|(c, _)| *c == id).count();
            let (mine, rest) = keys[skip..].split_at(mine);
            keys = rest;
            while moved.next_if(|(m, _)| *m < id).is_some() {}
            if let Some(&(_, cp)) = moved.next_if(|(m, _)| *m == id) {
                if let Some(what) = new.change_since(cp) {
                    out.push(Change {
                        container: id,
                        what,
                    });
                }
                continue;
            }
            let what = new.diff(old, mine.iter().map(|(_, k)| k));
            if let Some(what) = what {
                out.push(Change {
                    container: id,
                    what,
                });
            }
        }
        out
    }
}

/// Materializes `id` and everything nested in it. Missing roots read as empty; a missing
/// nested container (which a valid document never has) reads as an empty one of its kind.
pub(crate) fn node(base: &Containers, stage: Option<&Stage>, id: ContainerId) -> Node {
    let st = match stage {
        Some(s) => s.get(base, id),
        None => base.get(&id),
    };
    let item_node = |it: &Item| match it {
        Item::Value(v) => Node::Value(v.clone()),
        Item::Container(c) => node(base, stage, *c),
    };
    match st {
        Some(st) => st.node(item_node),
        None => empty_node(id.kind),
    }
}
