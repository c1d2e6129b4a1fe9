//! Map containers: string keys to values or nested containers, last writer wins per key
//! ([`LwwMap`]).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::{Containers, Stamp, State, StateWire};
use crate::doc::event::{Change, Changed};
use crate::doc::{
    ContainerId, ContainerKind, Doc, DocError, Item, Node, Result, Value, check_kind,
};
use crate::encoding::{decode_codec as decode, encode_codec as encode};
use crate::map::LwwMap;
use crate::sync::Op;

/// Applies a remote write of `key` (`None` removes it).
pub(super) fn apply(m: &mut LwwMap<String, Item>, at: Stamp, key: &str, value: Option<&Item>) {
    match value {
        Some(v) => {
            m.insert_at(at.ts, key.into(), v.clone());
        }
        None => {
            m.remove_at(at.ts, &String::from(key));
        }
    }
}

/// The key a map operation writes (`None` for other operations).
pub(crate) fn written_key(op: &Op) -> Option<&str> {
    match op {
        Op::MapSet { key, .. } | Op::MapDelete { key, .. } => Some(key),
        _ => None,
    }
}

/// The `keys` (written by remote operations) whose entry differs between `old` and `new`.
pub(super) fn diff<'a>(
    old: Option<&LwwMap<String, Item>>,
    new: &LwwMap<String, Item>,
    keys: impl Iterator<Item = &'a String>,
) -> Option<Changed> {
    let changed: Vec<String> = keys
        .filter(|k| old.and_then(|o| o.get(k)) != new.get(k))
        .cloned()
        .collect();
    (!changed.is_empty()).then_some(Changed::Keys(changed))
}

pub(super) fn node(m: &LwwMap<String, Item>, mut item: impl FnMut(&Item) -> Node) -> Node {
    let mut map = BTreeMap::new();
    for (k, v) in m.iter() {
        map.insert(k.clone(), item(v));
    }
    Node::Map(map)
}

pub(super) fn to_wire(m: &LwwMap<String, Item>) -> StateWire {
    StateWire::Map(encode(m))
}

pub(super) fn from_wire(b: &[u8]) -> Result<State> {
    Ok(State::Map(decode(b)?))
}

pub(super) fn view(b: &[u8], mut item: impl FnMut(&Item) -> Result<Node>) -> Result<Node> {
    let m: LwwMap<String, Item> = decode(b)?;
    let mut out = BTreeMap::new();
    for (k, v) in m.iter() {
        out.insert(k.clone(), item(v)?);
    }
    Ok(Node::Map(out))
}

/// A local transaction's map writes: each touched key with its entry before the transaction.
///
/// A log, one row per write (a write repeating the row before it is dropped), sorted and
/// reduced to the first row per key only when the changes are read: a sorted map here would
/// compile a B-tree of its own into every binary, and the log costs one push per write.
#[derive(Default)]
pub(crate) struct MapTrack(Vec<(ContainerId, String, Option<Item>)>);

impl MapTrack {
    /// Forgets everything tracked.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }

    /// Records the entry of `key` before its first write (`current` is the map as it is).
    fn note(&mut self, current: Option<&State>, map: ContainerId, key: &str) {
        if (self.0.last()).is_some_and(|(m, k, _)| *m == map && k == key) {
            return;
        }
        let before = match current {
            Some(State::Map(m)) => m.get(&String::from(key)).cloned(),
            _ => None,
        };
        self.0.push((map, key.into(), before));
    }

    /// The keys whose entry ends up different, per map, in map order.
    pub(crate) fn changes(&mut self, staged: &Containers, out: &mut Vec<Change>) {
        // Stable: the first row of each key (its entry before the transaction) stays first.
        crate::sort::sort_by(&mut self.0, |a, b| (a.0, &a.1) < (b.0, &b.1));
        let mut prev: Option<(ContainerId, &str)> = None;
        for (map, key, before) in &self.0 {
            if prev == Some((*map, key.as_str())) {
                continue;
            }
            prev = Some((*map, key.as_str()));
            let now = match staged.get(map) {
                Some(State::Map(m)) => m.get(key),
                _ => None,
            };
            if now == before.as_ref() {
                continue;
            }
            // The keys of one map are neighbours here: extend its change, or start it.
            match out.last_mut() {
                Some(Change {
                    container,
                    what: Changed::Keys(keys),
                }) if container == map => keys.push(key.clone()),
                _ => out.push(Change {
                    container: *map,
                    what: Changed::Keys(alloc::vec![key.clone()]),
                }),
            }
        }
    }
}

impl Doc {
    /// Sets `key` of `map` to `value`.
    pub fn map_set(&mut self, map: ContainerId, key: &str, value: Value) -> Result<()> {
        self.map_set_batch_of(map, core::iter::once((key, value)))
    }

    /// Sets many entries of `map` in one transaction (a repeated key keeps its last value).
    pub fn map_set_batch(&mut self, map: ContainerId, entries: &[(String, Value)]) -> Result<()> {
        self.map_set_batch_of(map, entries.iter().map(|(k, v)| (k.as_str(), v.clone())))
    }

    fn map_set_batch_of<'k>(
        &mut self,
        map: ContainerId,
        entries: impl Iterator<Item = (&'k str, Value)>,
    ) -> Result<()> {
        check_kind(map, ContainerKind::Map)?;
        self.edit(Some(map), |txn, base, r| {
            for (key, value) in entries {
                txn.stage
                    .note(base, map, |t, cur| t.map.note(cur, map, key));
                let op = Op::MapSet {
                    map,
                    key: key.into(),
                    value: Item::Value(value),
                };
                Self::record(txn, base, r, op, None)?;
            }
            Ok(())
        })
    }

    /// Creates a new empty container of `kind` under `key` of `map`; returns its id.
    pub fn map_insert_container(
        &mut self,
        map: ContainerId,
        key: &str,
        kind: ContainerKind,
    ) -> Result<ContainerId> {
        check_kind(map, ContainerKind::Map)?;
        self.edit(None, |txn, base, r| {
            if !txn.stage.exists(base, map) {
                return Err(DocError::UnknownContainer(map));
            }
            txn.stage
                .note(base, map, |t, cur| t.map.note(cur, map, key));
            let id = Self::create(txn, base, r, kind)?;
            let op = Op::MapSet {
                map,
                key: key.into(),
                value: Item::Container(id),
            };
            Self::record(txn, base, r, op, Some(id))?;
            Ok(id)
        })
    }

    /// Removes `key` from `map` (a no-op if absent, but still an operation).
    pub fn map_delete(&mut self, map: ContainerId, key: &str) -> Result<()> {
        check_kind(map, ContainerKind::Map)?;
        self.edit(Some(map), |txn, base, r| {
            txn.stage
                .note(base, map, |t, cur| t.map.note(cur, map, key));
            let op = Op::MapDelete {
                map,
                key: key.into(),
            };
            Self::record(txn, base, r, op, None)
        })
    }

    /// The item under `key` of `map`.
    pub fn map_get(&self, map: ContainerId, key: &str) -> Result<Option<Item>> {
        Ok(match self.read(map, ContainerKind::Map)? {
            Some(State::Map(m)) => m.get(&String::from(key)).cloned(),
            _ => None,
        })
    }

    /// The live keys of `map`, ascending.
    pub fn map_keys(&self, map: ContainerId) -> Result<Vec<String>> {
        Ok(match self.read(map, ContainerKind::Map)? {
            Some(State::Map(m)) => m.iter().map(|(k, _)| k.clone()).collect(),
            _ => Vec::new(),
        })
    }

    /// The live entries of `map`, by ascending key.
    pub fn map_entries(&self, map: ContainerId) -> Result<Vec<(String, Item)>> {
        Ok(match self.read(map, ContainerKind::Map)? {
            Some(State::Map(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            _ => Vec::new(),
        })
    }
}
