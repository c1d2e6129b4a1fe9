//! Container handles: one object per kind, each holding the document's shared state and a
//! container id. Every method takes the document's lock once.

use std::collections::HashMap;
use std::sync::Arc;

use converge::doc::{self as k};

use crate::doc::{Shared, to_i32, to_usize};
use crate::edits;
use crate::error::Result;
use crate::value::{ContainerId, ContainerKind, Item, Node, Value};

fn values(values: Vec<Value>) -> Vec<k::Value> {
    values.into_iter().map(k::Value::from).collect()
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(uniffi::Object)]
        pub struct $name {
            shared: Arc<Shared>,
            id: k::ContainerId,
        }

        impl $name {
            pub(crate) fn new(shared: Arc<Shared>, id: k::ContainerId) -> Self {
                $name { shared, id }
            }
        }
    };
}

handle!(
    /// A text container; positions count Unicode scalar values (chars) unless the method
    /// says UTF-16.
    DocText
);
handle!(
    /// A map container: string keys to values or nested containers.
    DocMap
);
handle!(
    /// A list container of values and nested containers.
    DocList
);
handle!(
    /// A counter container.
    DocCounter
);
handle!(
    /// A register container holding one value.
    DocRegister
);
handle!(
    /// A set container of values.
    DocSet
);

#[uniffi::export]
impl DocText {
    /// This container's id.
    pub fn id(&self) -> ContainerId {
        self.id.into()
    }

    /// The text.
    pub fn value(&self) -> Result<String> {
        self.shared.read(|d| d.text(self.id))
    }

    /// Length in chars.
    pub fn len(&self) -> Result<i32> {
        self.shared.read(|d| d.text_len(self.id)).map(to_i32)
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Length in UTF-16 code units (what Kotlin's and Java's `String.length` count).
    pub fn len_utf16(&self) -> Result<i32> {
        self.shared.read(|d| d.text_len_utf16(self.id)).map(to_i32)
    }

    /// Inserts `s` at char position `pos`.
    pub fn insert(&self, pos: i32, s: &str) -> Result<()> {
        let pos = to_usize("position", pos)?;
        self.shared.edit(|d| Ok(d.text_insert(self.id, pos, s)?))
    }

    /// Deletes the chars in `start..end`.
    pub fn delete(&self, start: i32, end: i32) -> Result<()> {
        let (start, end) = (to_usize("start", start)?, to_usize("end", end)?);
        self.shared
            .edit(|d| Ok(d.text_delete(self.id, start..end)?))
    }

    /// Replaces `delete` chars at `pos` with `insert`.
    pub fn splice(&self, pos: i32, delete: i32, insert: &str) -> Result<()> {
        let (pos, del) = (to_usize("position", pos)?, to_usize("delete", delete)?);
        self.shared
            .edit(|d| Ok(d.text_splice(self.id, pos, del, insert)?))
    }

    /// Inserts `s` at UTF-16 offset `pos` (a Kotlin `String` index).
    pub fn insert_utf16(&self, pos: i32, s: &str) -> Result<()> {
        let pos = to_usize("position", pos)?;
        self.shared
            .edit(|d| Ok(d.text_insert_utf16(self.id, pos, s)?))
    }

    /// Deletes the UTF-16 range `start..end`.
    pub fn delete_utf16(&self, start: i32, end: i32) -> Result<()> {
        let (start, end) = (to_usize("start", start)?, to_usize("end", end)?);
        self.shared
            .edit(|d| Ok(d.text_delete_utf16(self.id, start..end)?))
    }

    /// Applies the patches packed in `patches` (the format of the `edits` module, written by
    /// the Kotlin and Swift `applyPatches`) in order in one call, as the kernel's batch splice:
    /// one transaction (or part of the open one), one event; if a patch fails, none is applied.
    pub fn apply_patches_encoded(&self, patches: Vec<u8>) -> Result<()> {
        // A malformed buffer is `DECODE` before any edit.
        edits::validate(&patches)?;
        let patches = edits::decode(&patches).filter_map(core::result::Result::ok);
        self.shared
            .edit(|d| Ok(d.text_splice_batch(self.id, patches)?))
    }

    /// Applies the edits packed in `edits` in order, each exactly as its own
    /// [`splice`](DocText::splice) call would (outside a transaction each commits by itself,
    /// with its own update and event), under one lock. Stops at the first failing edit: the
    /// ones before it stay applied (a malformed buffer is `DECODE` before any edit is applied).
    /// The Kotlin `TextEditor` flushes through this.
    pub fn splice_encoded(&self, edits: Vec<u8>) -> Result<()> {
        edits::validate(&edits)?;
        self.shared.edit(|d| {
            for e in edits::decode(&edits) {
                let (pos, del, s) = e.expect("validated above");
                d.text_splice(self.id, pos, del, s)?;
            }
            Ok(())
        })
    }

    /// A read-only copy of the text.
    pub fn to_node(&self) -> Node {
        Node::from(self.shared.peek(|d| d.to_tree(self.id)))
    }
}

#[uniffi::export]
impl DocMap {
    /// This container's id.
    pub fn id(&self) -> ContainerId {
        self.id.into()
    }

    /// The item at `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Item>> {
        let item = self.shared.read(|d| d.map_get(self.id, key))?;
        Ok(item.map(|i| Item::from_kernel(&self.shared, i)))
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: Value) -> Result<()> {
        self.shared
            .edit(|d| Ok(d.map_set(self.id, key, value.into())?))
    }

    /// Sets several keys in one call (one update and one event outside a transaction).
    pub fn set_all(&self, entries: HashMap<String, Value>) -> Result<()> {
        let entries: Vec<(String, k::Value)> =
            entries.into_iter().map(|(k, v)| (k, v.into())).collect();
        self.shared
            .edit(|d| Ok(d.map_set_batch(self.id, &entries)?))
    }

    /// Removes `key`.
    pub fn delete(&self, key: &str) -> Result<()> {
        self.shared.edit(|d| Ok(d.map_delete(self.id, key)?))
    }

    /// The live keys, ascending.
    pub fn keys(&self) -> Result<Vec<String>> {
        self.shared.read(|d| d.map_keys(self.id))
    }

    /// The live entries.
    pub fn entries(&self) -> Result<HashMap<String, Item>> {
        let entries = self.shared.read(|d| d.map_entries(self.id))?;
        Ok(entries
            .into_iter()
            .map(|(k, i)| (k, Item::from_kernel(&self.shared, i)))
            .collect())
    }

    /// Number of live keys.
    pub fn len(&self) -> Result<i32> {
        Ok(to_i32(self.keys()?.len()))
    }

    /// Whether the map has no live keys.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Puts a new, empty container of `kind` at `key` and returns its handle.
    pub fn insert_container(&self, key: &str, kind: ContainerKind) -> Result<Item> {
        let id = self
            .shared
            .edit(|d| Ok(d.map_insert_container(self.id, key, kind.into())?))?;
        Ok(Item::container(&self.shared, id))
    }

    /// A read-only copy of the map and everything in it.
    pub fn to_node(&self) -> Node {
        Node::from(self.shared.peek(|d| d.to_tree(self.id)))
    }
}

#[uniffi::export]
impl DocList {
    /// This container's id.
    pub fn id(&self) -> ContainerId {
        self.id.into()
    }

    /// Number of elements.
    pub fn len(&self) -> Result<i32> {
        self.shared.read(|d| d.list_len(self.id)).map(to_i32)
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// The element at `index`, if in range.
    pub fn get(&self, index: i32) -> Result<Option<Item>> {
        let Ok(i) = usize::try_from(index) else {
            return Ok(None);
        };
        let item = self.shared.read(|d| d.list_get(self.id, i))?;
        Ok(item.map(|i| Item::from_kernel(&self.shared, i)))
    }

    /// All elements in order.
    pub fn items(&self) -> Result<Vec<Item>> {
        let items = self.shared.read(|d| d.list_items(self.id))?;
        Ok(items
            .into_iter()
            .map(|i| Item::from_kernel(&self.shared, i))
            .collect())
    }

    /// Inserts `value` at `index`.
    pub fn insert(&self, index: i32, value: Value) -> Result<()> {
        let index = to_usize("index", index)?;
        self.shared
            .edit(|d| Ok(d.list_insert(self.id, index, value.into())?))
    }

    /// Inserts `values` at `index` in one call.
    pub fn insert_all(&self, index: i32, values: Vec<Value>) -> Result<()> {
        let index = to_usize("index", index)?;
        let values = self::values(values);
        self.shared
            .edit(|d| Ok(d.list_insert_batch(self.id, index, &values)?))
    }

    /// Appends `value`.
    pub fn push(&self, value: Value) -> Result<()> {
        self.push_all(vec![value])
    }

    /// Appends `values` in one call.
    pub fn push_all(&self, values: Vec<Value>) -> Result<()> {
        let values = self::values(values);
        self.shared
            .edit(|d| Ok(d.list_push_batch(self.id, &values)?))
    }

    /// Deletes the elements in `start..end`.
    pub fn delete(&self, start: i32, end: i32) -> Result<()> {
        let (start, end) = (to_usize("start", start)?, to_usize("end", end)?);
        self.shared
            .edit(|d| Ok(d.list_delete(self.id, start..end)?))
    }

    /// Inserts a new, empty container of `kind` at `index` and returns its handle.
    pub fn insert_container(&self, index: i32, kind: ContainerKind) -> Result<Item> {
        let index = to_usize("index", index)?;
        let id = self
            .shared
            .edit(|d| Ok(d.list_insert_container(self.id, index, kind.into())?))?;
        Ok(Item::container(&self.shared, id))
    }

    /// A read-only copy of the list and everything in it.
    pub fn to_node(&self) -> Node {
        Node::from(self.shared.peek(|d| d.to_tree(self.id)))
    }
}

#[uniffi::export]
impl DocCounter {
    /// This container's id.
    pub fn id(&self) -> ContainerId {
        self.id.into()
    }

    /// The counter's value.
    pub fn value(&self) -> Result<i64> {
        self.shared.read(|d| d.counter(self.id))
    }

    /// Adds `amount` (negative to subtract).
    pub fn add(&self, amount: i64) -> Result<()> {
        self.shared.edit(|d| Ok(d.counter_add(self.id, amount)?))
    }

    /// A read-only copy of the counter.
    pub fn to_node(&self) -> Node {
        Node::from(self.shared.peek(|d| d.to_tree(self.id)))
    }
}

#[uniffi::export]
impl DocRegister {
    /// This container's id.
    pub fn id(&self) -> ContainerId {
        self.id.into()
    }

    /// The value, if ever written.
    pub fn value(&self) -> Result<Option<Value>> {
        Ok(self.shared.read(|d| d.register(self.id))?.map(Value::from))
    }

    /// Writes `value`.
    pub fn set(&self, value: Value) -> Result<()> {
        self.shared
            .edit(|d| Ok(d.register_set(self.id, value.into())?))
    }

    /// A read-only copy of the register.
    pub fn to_node(&self) -> Node {
        Node::from(self.shared.peek(|d| d.to_tree(self.id)))
    }
}

#[uniffi::export]
impl DocSet {
    /// This container's id.
    pub fn id(&self) -> ContainerId {
        self.id.into()
    }

    /// The elements, ascending.
    pub fn values(&self) -> Result<Vec<Value>> {
        let v = self.shared.read(|d| d.set_values(self.id))?;
        Ok(v.into_iter().map(Value::from).collect())
    }

    /// Whether `value` is an element.
    pub fn contains(&self, value: Value) -> Result<bool> {
        let value = k::Value::from(value);
        self.shared.read(|d| d.set_contains(self.id, &value))
    }

    /// Adds `value`.
    pub fn add(&self, value: Value) -> Result<()> {
        self.shared.edit(|d| Ok(d.set_add(self.id, value.into())?))
    }

    /// Adds `values` in one call.
    pub fn add_all(&self, values: Vec<Value>) -> Result<()> {
        let values = self::values(values);
        self.shared.edit(|d| Ok(d.set_add_batch(self.id, &values)?))
    }

    /// Removes `value`.
    pub fn remove(&self, value: Value) -> Result<()> {
        let value = k::Value::from(value);
        self.shared.edit(|d| Ok(d.set_remove(self.id, &value)?))
    }

    /// Removes `values` in one call.
    pub fn remove_all(&self, values: Vec<Value>) -> Result<()> {
        let values = self::values(values);
        self.shared
            .edit(|d| Ok(d.set_remove_batch(self.id, &values)?))
    }

    /// A read-only copy of the set.
    pub fn to_node(&self) -> Node {
        Node::from(self.shared.peek(|d| d.to_tree(self.id)))
    }
}
