//! List containers: a sequence of values and nested containers, on the sequence engine
//! ([`List`]); see `sequence` for what lists share with texts.

use alloc::vec::Vec;
use core::ops::Range;

use super::sequence::{check_authors, check_report, rejected};
use super::{Stamp, State, StateWire};
use crate::doc::event::Changed;
use crate::doc::{
    ContainerId, ContainerKind, Doc, DocError, Item, Node, Result, Value, check_kind,
};
use crate::list::{List, SequenceOp, SequenceOps};

pub(super) fn apply(l: &mut List<Item>, at: Stamp, ops: &SequenceOps<Vec<Item>>) -> Result<()> {
    check_authors(ops.ops.iter().map(|o| o.id()), at.dot.replica)?;
    let report = l.apply(ops).map_err(|_| rejected())?;
    check_report(&report)
}

/// The elements a list operation inserts.
pub(super) fn carried_items(ops: &SequenceOps<Vec<Item>>) -> impl Iterator<Item = &Item> + '_ {
    ops.ops.iter().flat_map(|o| match o {
        SequenceOp::Insert { content, .. } => content.as_slice(),
        _ => &[],
    })
}

/// The smallest single range covering the difference between `old` and `new`.
pub(super) fn diff(old: Option<&List<Item>>, new: &List<Item>) -> Option<Changed> {
    let before: Vec<&Item> = old.map(|o| o.iter().collect()).unwrap_or_default();
    let after: Vec<&Item> = new.iter().collect();
    range_diff(&before, &after)
}

fn range_diff<T: PartialEq>(a: &[T], b: &[T]) -> Option<Changed> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let removed = ra.len() - suffix;
    let inserted = rb.len() - suffix;
    (removed > 0 || inserted > 0).then_some(Changed::Range {
        start: prefix,
        removed,
        inserted,
    })
}

pub(super) fn node(l: &List<Item>, item: impl FnMut(&Item) -> Node) -> Node {
    Node::List(l.iter().map(item).collect())
}

/// Lists are saved as their compact history (the engine has no state snapshot for them yet).
pub(super) fn to_wire(l: &List<Item>) -> StateWire {
    StateWire::ListHistory(l.encode_wire())
}

pub(super) fn from_wire(b: &[u8], replica: crate::clock::ReplicaId) -> Result<State> {
    Ok(State::List(alloc::boxed::Box::new(List::decode_wire(
        b,
        Some(replica),
    )?)))
}

pub(super) fn view(b: &[u8], item: impl FnMut(&Item) -> Result<Node>) -> Result<Node> {
    let l = List::decode_wire(b, None)?;
    Ok(Node::List(l.iter().map(item).collect::<Result<_>>()?))
}

impl Doc {
    /// Inserts `value` before position `index` of `list`.
    pub fn list_insert(&mut self, list: ContainerId, index: usize, value: Value) -> Result<()> {
        self.list_insert_batch(list, index, core::slice::from_ref(&value))
    }

    /// Inserts `values` before position `index` of `list`, as one run.
    pub fn list_insert_batch(
        &mut self,
        list: ContainerId,
        index: usize,
        values: &[Value],
    ) -> Result<()> {
        check_kind(list, ContainerKind::List)?;
        if values.is_empty() {
            return Ok(());
        }
        let items: Vec<Item> = values.iter().cloned().map(Item::Value).collect();
        self.seq_edit(list, |st| {
            list_of(st)?.insert_batch(index, &items)?;
            Ok((index, 0))
        })
    }

    /// Appends `values` at the end of `list`.
    pub fn list_push_batch(&mut self, list: ContainerId, values: &[Value]) -> Result<()> {
        let len = self.list_len(list)?;
        self.list_insert_batch(list, len, values)
    }

    /// Creates a new empty container of `kind` before position `index` of `list`; returns its
    /// id.
    pub fn list_insert_container(
        &mut self,
        list: ContainerId,
        index: usize,
        kind: ContainerKind,
    ) -> Result<ContainerId> {
        check_kind(list, ContainerKind::List)?;
        let len = self.list_len(list)?;
        if index > len {
            return Err(DocError::OutOfBounds { index, len });
        }
        self.edit(None, |txn, base, r| {
            let id = Self::create(txn, base, r, kind)?;
            txn.stage.attach(base, list, Some(id))?;
            Self::seq_edit_txn(txn, base, r, list, |st| {
                list_of(st)?.insert(index, Item::Container(id))?;
                Ok((index, 0))
            })?;
            Ok(id)
        })
    }

    /// Deletes the elements of `list` in `range`.
    pub fn list_delete(&mut self, list: ContainerId, range: Range<usize>) -> Result<()> {
        check_kind(list, ContainerKind::List)?;
        let span = (range.start, range.end.saturating_sub(range.start));
        self.seq_edit(list, |st| {
            list_of(st)?.delete(range)?;
            Ok(span)
        })
    }

    /// Number of elements of `list`.
    pub fn list_len(&self, list: ContainerId) -> Result<usize> {
        Ok(match self.read(list, ContainerKind::List)? {
            Some(State::List(l)) => l.len(),
            _ => 0,
        })
    }

    /// Element `index` of `list`.
    pub fn list_get(&self, list: ContainerId, index: usize) -> Result<Option<Item>> {
        Ok(match self.read(list, ContainerKind::List)? {
            Some(State::List(l)) => l.get(index).cloned(),
            _ => None,
        })
    }

    /// The elements of `list` in order.
    pub fn list_items(&self, list: ContainerId) -> Result<Vec<Item>> {
        Ok(match self.read(list, ContainerKind::List)? {
            Some(State::List(l)) => l.to_vec(),
            _ => Vec::new(),
        })
    }
}

/// The list engine of a state that [`seq_edit`](Doc::seq_edit) gives a list edit.
fn list_of(st: &mut State) -> crate::Result<&mut List<Item>> {
    match st {
        State::List(l) => Ok(l),
        _ => Err(crate::Error::InvalidOperation),
    }
}
