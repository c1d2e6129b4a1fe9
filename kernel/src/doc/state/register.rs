//! Register containers: one value, last writer wins ([`LwwRegister`]).

use alloc::vec::Vec;

use super::{Containers, Stamp, State, StateWire};
use crate::doc::event::{Change, Changed};
use crate::doc::{ContainerId, ContainerKind, Doc, Node, Result, Value, check_kind};
use crate::encoding::{decode_codec as decode, encode_codec as encode};
use crate::register::LwwRegister;
use crate::sync::Op;

pub(super) fn apply(r: &mut LwwRegister<Value>, at: Stamp, value: &Value) {
    r.set_at(at.ts, value.clone());
}

pub(super) fn diff(old: Option<&LwwRegister<Value>>, new: &LwwRegister<Value>) -> Option<Changed> {
    let before = old.and_then(LwwRegister::get);
    (before != new.get()).then_some(Changed::Value)
}

pub(super) fn node(r: &LwwRegister<Value>) -> Node {
    Node::Register(r.get().cloned())
}

pub(super) fn to_wire(r: &LwwRegister<Value>) -> StateWire {
    StateWire::Register(encode(r))
}

pub(super) fn from_wire(b: &[u8]) -> Result<State> {
    Ok(State::Register(decode(b)?))
}

pub(super) fn view(b: &[u8]) -> Result<Node> {
    Ok(Node::Register(
        decode::<LwwRegister<Value>>(b)?.get().cloned(),
    ))
}

/// A local transaction's register writes: each written register's value before it.
///
/// A log, one row per write (a write of the register the row before is about is dropped),
/// sorted and reduced to the first row per register only when the changes are read (see
/// [`MapTrack`](super::MapTrack) for why not a sorted map).
#[derive(Default)]
pub(crate) struct RegisterTrack(Vec<(ContainerId, Option<Value>)>);

impl RegisterTrack {
    /// Forgets everything tracked.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// Records the value of `id` before its first write (`current` is the register as it is).
    fn note(&mut self, current: Option<&State>, id: ContainerId) {
        if self.0.last().is_some_and(|(r, _)| *r == id) {
            return;
        }
        let before = match current {
            Some(State::Register(r)) => r.get().cloned(),
            _ => None,
        };
        self.0.push((id, before));
    }

    /// The registers whose value ends up different.
    pub(crate) fn changes(&mut self, staged: &Containers, out: &mut Vec<Change>) {
        // Stable: the first row of each register (its value before) stays first.
        crate::sort::sort_by(&mut self.0, |a, b| a.0 < b.0);
        let mut prev = None;
        for (id, before) in &self.0 {
            if prev.replace(*id) == Some(*id) {
                continue;
            }
            let now = match staged.get(id) {
                Some(State::Register(r)) => r.get(),
                _ => None,
            };
            if now != before.as_ref() {
                out.push(Change {
                    container: *id,
                    what: Changed::Value,
                });
            }
        }
    }
}

impl Doc {
    /// Writes `value` to `register`.
    pub fn register_set(&mut self, register: ContainerId, value: Value) -> Result<()> {
        check_kind(register, ContainerKind::Register)?;
        self.edit(Some(register), |txn, base, r| {
            txn.stage
                .note(base, register, |t, cur| t.register.note(cur, register));
            Self::record(txn, base, r, Op::Register { register, value }, None)
        })
    }

    /// The value of `register` (`None` if never written).
    pub fn register(&self, register: ContainerId) -> Result<Option<Value>> {
        Ok(match self.read(register, ContainerKind::Register)? {
            Some(State::Register(r)) => r.get().cloned(),
            _ => None,
        })
    }
}
