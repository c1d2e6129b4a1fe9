//! Counter containers: an integer that replicas add to and subtract from ([`PNCounter`]).

use alloc::vec::Vec;

use super::{Stamp, State, StateWire};
use crate::counter::PNCounter;
use crate::doc::event::{Change, Changed};
use crate::doc::{ContainerId, ContainerKind, Doc, Node, Result, check_kind};
use crate::encoding::{decode_codec as decode, encode_codec as encode};
use crate::sync::Op;

pub(super) fn apply(c: &mut PNCounter, at: Stamp, amount: i64) {
    c.add(at.dot.replica, amount);
}

pub(super) fn diff(old: Option<&PNCounter>, new: &PNCounter) -> Option<Changed> {
    let before = old.map_or(0, PNCounter::value);
    (before != new.value()).then_some(Changed::Value)
}

pub(super) fn node(c: &PNCounter) -> Node {
    Node::Counter(c.value())
}

pub(super) fn to_wire(c: &PNCounter) -> StateWire {
    StateWire::Counter(encode(c))
}

pub(super) fn from_wire(b: &[u8]) -> Result<State> {
    Ok(State::Counter(decode(b)?))
}

pub(super) fn view(b: &[u8]) -> Result<Node> {
    Ok(Node::Counter(decode::<PNCounter>(b)?.value()))
}

/// A local transaction's counter steps: the net amount added, per counter.
///
/// A log of the amounts added (steps of the counter the row before is about are summed into
/// that row), sorted and summed per counter only when the changes are read (see
/// [`MapTrack`](super::MapTrack) for why not a sorted map).
#[derive(Default)]
pub(crate) struct CounterTrack(Vec<(ContainerId, i128)>);

impl CounterTrack {
    /// Forgets everything tracked.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// Records `amount` added to `id`.
    fn note(&mut self, id: ContainerId, amount: i64) {
        match self.0.last_mut() {
            Some((c, net)) if *c == id => *net += i128::from(amount),
            _ => self.0.push((id, i128::from(amount))),
        }
    }

    /// The counters whose net change is not zero.
    pub(crate) fn changes(&mut self, out: &mut Vec<Change>) {
        crate::sort::sort_by(&mut self.0, |a, b| a.0 < b.0);
        let mut rows = self.0.iter().peekable();
        while let Some(&(id, mut net)) = rows.next() {
            while let Some((_, more)) = rows.next_if(|(c, _)| *c == id) {
                net += more;
            }
            if net != 0 {
                out.push(Change {
                    container: id,
                    what: Changed::Value,
                });
            }
        }
    }
}

impl Doc {
    /// Adds `amount` (negative to subtract) to `counter`.
    pub fn counter_add(&mut self, counter: ContainerId, amount: i64) -> Result<()> {
        check_kind(counter, ContainerKind::Counter)?;
        self.edit(Some(counter), |txn, base, r| {
            Self::record(txn, base, r, Op::Counter { counter, amount }, None)?;
            if let Some(t) = txn.stage.track() {
                t.counter.note(counter, amount);
            }
            Ok(())
        })
    }

    /// The value of `counter`.
    pub fn counter(&self, counter: ContainerId) -> Result<i64> {
        Ok(match self.read(counter, ContainerKind::Counter)? {
            Some(State::Counter(c)) => c.value(),
            _ => 0,
        })
    }
}
