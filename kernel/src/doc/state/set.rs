//! Set containers: values added and removed, an add winning over a concurrent remove
//! ([`AwSet`]).

use alloc::vec::Vec;

use super::{Containers, Stamp, State, StateWire};
use crate::Crdt;
use crate::doc::event::{Change, Changed};
use crate::doc::history::OpRec;
use crate::doc::{ContainerId, ContainerKind, Doc, DocError, Node, Result, Value, check_kind};
use crate::encoding::{decode_codec as decode, encode_codec as encode};
use crate::set::{AwSet, AwSetDelta};
use crate::sync::{InvalidUpdate, Op};

/// Merges a remote set operation: a delta whose additions are all by its author.
pub(super) fn apply(s: &mut AwSet<Value>, at: Stamp, delta: &AwSetDelta<Value>) -> Result<()> {
    if delta
        .inserts()
        .iter()
        .any(|(_, d)| d.replica != at.dot.replica)
    {
        return Err(DocError::InvalidUpdate(InvalidUpdate::ForeignAuthor));
    }
    s.merge_delta(delta);
    Ok(())
}

pub(super) fn diff(old: Option<&AwSet<Value>>, new: &AwSet<Value>) -> Option<Changed> {
    let changed = match old {
        Some(o) => o != new,
        None => !new.is_empty(),
    };
    changed.then_some(Changed::Value)
}

/// The elements in ascending order.
fn sorted(s: &AwSet<Value>) -> Vec<Value> {
    let mut v: Vec<Value> = s.iter().cloned().collect();
    crate::sort::sort(&mut v);
    v
}

pub(super) fn node(s: &AwSet<Value>) -> Node {
    Node::Set(sorted(s))
}

pub(super) fn to_wire(s: &AwSet<Value>) -> StateWire {
    StateWire::Set(encode(s))
}

pub(super) fn from_wire(b: &[u8]) -> Result<State> {
    Ok(State::Set(alloc::boxed::Box::new(decode(b)?)))
}

pub(super) fn view(b: &[u8]) -> Result<Node> {
    Ok(Node::Set(sorted(&decode(b)?)))
}

/// A local transaction's set edits: per touched element, whether it was in the set before.
///
/// A log, one row per touched element and edit, sorted and reduced to the first row per
/// element only when the changes are read (see [`MapTrack`](super::MapTrack) for why not a
/// sorted map).
#[derive(Default)]
pub(crate) struct SetTrack(Vec<(ContainerId, Value, bool)>);

impl SetTrack {
    /// Forgets everything tracked.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// Records whether each of `values` was in set `id` before its first edit (`current` is
    /// the set as it is).
    fn note(&mut self, current: Option<&State>, id: ContainerId, values: &[Value]) {
        let set = match current {
            Some(State::Set(s)) => Some(s),
            _ => None,
        };
        for v in values {
            let before = set.is_some_and(|s| s.contains(v));
            self.0.push((id, v.clone(), before));
        }
    }

    /// The sets where some touched element ends up in or out differently, once each.
    pub(crate) fn changes(&mut self, staged: &Containers, out: &mut Vec<Change>) {
        // Stable: the first row of each element (whether it was in before) stays first.
        crate::sort::sort_by(&mut self.0, |a, b| (a.0, &a.1) < (b.0, &b.1));
        let mut prev: Option<(ContainerId, &Value)> = None;
        for (id, v, before) in &self.0 {
            if prev.replace((*id, v)) == Some((*id, v)) {
                continue;
            }
            let now = matches!(staged.get(id), Some(State::Set(s)) if s.contains(v));
            // The elements of one set are neighbours here: report the set once.
            let reported = out.last().is_some_and(|c| c.container == *id);
            if now != *before && !reported {
                out.push(Change {
                    container: *id,
                    what: Changed::Value,
                });
            }
        }
    }
}

impl Doc {
    fn set_edit(
        &mut self,
        set: ContainerId,
        touched: &[Value],
        f: impl FnOnce(&mut AwSet<Value>, crate::clock::ReplicaId) -> AwSetDelta<Value>,
    ) -> Result<()> {
        check_kind(set, ContainerKind::Set)?;
        self.edit(Some(set), |txn, base, r| {
            txn.stage.get_mut(base, set, r)?;
            txn.stage
                .note(base, set, |t, cur| t.set.note(cur, set, touched));
            let Ok(State::Set(s)) = txn.stage.get_mut(base, set, r) else {
                return Err(DocError::UnknownContainer(set));
            };
            let delta = f(s, r);
            if !delta.is_empty() {
                txn.ops.push(OpRec::Other(Op::Set { set, delta }));
            }
            Ok(())
        })
    }

    /// Adds `value` to `set`.
    pub fn set_add(&mut self, set: ContainerId, value: Value) -> Result<()> {
        let touched = [value];
        self.set_edit(set, &touched, |s, r| {
            let [value] = &touched;
            s.insert(r, value.clone())
        })
    }

    /// Adds every element of `values` to `set`, as one operation.
    pub fn set_add_batch(&mut self, set: ContainerId, values: &[Value]) -> Result<()> {
        self.set_edit(set, values, |s, r| s.insert_batch(r, values))
    }

    /// Removes `value` from `set` (the additions of it this replica has seen).
    pub fn set_remove(&mut self, set: ContainerId, value: &Value) -> Result<()> {
        self.set_edit(set, core::slice::from_ref(value), |s, _| s.remove(value))
    }

    /// Removes every element of `values` from `set`, as one operation.
    pub fn set_remove_batch(&mut self, set: ContainerId, values: &[Value]) -> Result<()> {
        self.set_edit(set, values, |s, _| s.remove_batch(values))
    }

    /// The elements of `set`, ascending.
    pub fn set_values(&self, set: ContainerId) -> Result<Vec<Value>> {
        Ok(match self.read(set, ContainerKind::Set)? {
            Some(State::Set(s)) => sorted(s),
            _ => Vec::new(),
        })
    }

    /// Whether `set` contains `value`.
    pub fn set_contains(&self, set: ContainerId, value: &Value) -> Result<bool> {
        Ok(match self.read(set, ContainerKind::Set)? {
            Some(State::Set(s)) => s.contains(value),
            _ => false,
        })
    }
}
