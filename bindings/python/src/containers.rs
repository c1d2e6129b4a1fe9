//! Container handles: `Text`, `Map`, `List`, `Counter`, `Register`, `Set`. A handle is a
//! container id plus the document's shared state; it follows the Python protocol of the
//! closest built-in type and forwards each call to one kernel method.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use converge::doc::{ContainerId, ContainerKind, Doc, DocError, Item, Origin, Value};
use pyo3::exceptions::{PyIndexError, PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyIterator, PyList, PySlice, PyString, PyTuple};

use crate::convert::{self, check};
use crate::doc::PyDoc;
use crate::events::deliver;
use crate::shared::Shared;

type DocResult<T> = Result<T, DocError>;

/// What every handle holds.
#[derive(Clone)]
pub(crate) struct Handle {
    pub(crate) shared: Shared,
    pub(crate) id: ContainerId,
}

impl Handle {
    /// Runs a read on the document.
    fn read<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Doc, ContainerId) -> DocResult<T> + Send,
    ) -> PyResult<T> {
        let id = self.id;
        let r = self.shared.with(py, |s| f(&s.doc, id));
        check(py, r)
    }

    /// Runs an edit, then delivers the change events it caused.
    fn edit<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Doc, ContainerId) -> DocResult<T> + Send,
    ) -> PyResult<T> {
        let id = self.id;
        let r = self.shared.with(py, |s| f(&mut s.doc, id));
        let r = check(py, r)?;
        deliver(py, &self.shared)?;
        Ok(r)
    }

    fn item_to_py<'py>(&self, py: Python<'py>, item: &Item) -> PyResult<Bound<'py, PyAny>> {
        match item {
            Item::Value(v) => convert::value_to_py(py, v),
            Item::Container(id) => handle(py, &self.shared, *id),
        }
    }

    fn eq(&self, other: &Handle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared) && self.id == other.id
    }

    fn hash(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.id.hash(&mut h);
        h.finish()
    }

    fn describe(&self, py: Python<'_>, class: &str) -> String {
        let id = self.id;
        let name = self
            .shared
            .with(py, |s| s.doc.root_name(id).map(str::to_owned));
        match name {
            Some(n) => format!("<converge.{class} {n:?}>"),
            None => match id.origin {
                Origin::Created(dot) => {
                    format!(
                        "<converge.{class} nested {}@{}>",
                        dot.replica.0, dot.counter
                    )
                }
                Origin::Root(hash) => format!("<converge.{class} #{hash:016x}>"),
            },
        }
    }
}

/// Runs `f` as one transaction unless one is open already (then it joins it): a batch call
/// either applies whole or, on error, not at all.
pub(crate) fn atomically<T>(
    doc: &mut Doc,
    f: impl FnOnce(&mut Doc) -> DocResult<T>,
) -> DocResult<T> {
    if doc.in_transaction() {
        return f(doc);
    }
    doc.begin()?;
    match f(doc) {
        Ok(v) => {
            doc.commit()?;
            Ok(v)
        }
        Err(e) => {
            doc.rollback();
            Err(e)
        }
    }
}

/// The handle object for container `id`, of the class its kind names.
pub(crate) fn handle<'py>(
    py: Python<'py>,
    shared: &Shared,
    id: ContainerId,
) -> PyResult<Bound<'py, PyAny>> {
    let h = Handle {
        shared: shared.clone(),
        id,
    };
    Ok(match id.kind {
        ContainerKind::Map => Bound::new(py, Map(h))?.into_any(),
        ContainerKind::List => Bound::new(py, List(h))?.into_any(),
        ContainerKind::Text => Bound::new(py, Text(h))?.into_any(),
        ContainerKind::Counter => Bound::new(py, Counter(h))?.into_any(),
        ContainerKind::Register => Bound::new(py, Register(h))?.into_any(),
        ContainerKind::Set => Bound::new(py, Set(h))?.into_any(),
    })
}

/// A Python index or slice, resolved against a length.
enum Pick {
    One(usize),
    Range(usize, usize),
}

fn pick(key: &Bound<'_, PyAny>, len: usize, allow_step: bool) -> PyResult<Pick> {
    if let Ok(slice) = key.cast::<PySlice>() {
        let ix = slice.indices(isize::try_from(len).unwrap_or(isize::MAX))?;
        if ix.step != 1 && !allow_step {
            return Err(PyValueError::new_err("converge slices take no step"));
        }
        let start = ix.start.unsigned_abs();
        let stop = ix.stop.max(ix.start).unsigned_abs();
        return Ok(Pick::Range(start, stop));
    }
    let i: isize = key
        .extract()
        .map_err(|_| PyTypeError::new_err("indices must be integers or slices"))?;
    let at = convert::index(i, len);
    if at >= len {
        return Err(PyIndexError::new_err("index out of range"));
    }
    Ok(Pick::One(at))
}

/// Methods every handle has: identity, the document, a plain-data copy.
macro_rules! common_methods {
    ($class:ident, $name:literal) => {
        #[pymethods]
        impl $class {
            /// The container kind's name (`"text"`, `"map"`, ...).
            #[getter]
            fn kind(&self) -> &'static str {
                self.0.id.kind.name()
            }

            /// The document this container belongs to.
            #[getter]
            fn doc(&self) -> PyDoc {
                PyDoc::from_shared(self.0.shared.clone())
            }

            /// The root name, or `None` for a nested container.
            #[getter]
            fn name(&self, py: Python<'_>) -> Option<String> {
                let id = self.0.id;
                self.0
                    .shared
                    .with(py, |s| s.doc.root_name(id).map(str::to_owned))
            }

            /// The container and everything nested in it as plain Python data.
            fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                let id = self.0.id;
                let node = self.0.shared.with(py, |s| s.doc.to_tree(id));
                convert::node_to_py(py, &node)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other.cast::<$class>().is_ok_and(|o| self.0.eq(&o.get().0))
            }

            fn __hash__(&self) -> u64 {
                self.0.hash()
            }

            fn __repr__(&self, py: Python<'_>) -> String {
                self.0.describe(py, $name)
            }
        }
    };
}

// ---------------------------------------------------------------------------------- Text

/// Collaborative plain text. Positions count Unicode code points (Python `str` indices);
/// the `*_utf16` methods count UTF-16 code units.
#[pyclass(frozen, module = "converge", name = "Text")]
pub(crate) struct Text(pub(crate) Handle);

common_methods!(Text, "Text");

#[pymethods]
impl Text {
    fn __str__(&self, py: Python<'_>) -> PyResult<String> {
        self.0.read(py, |d, id| d.text(id))
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.0.read(py, |d, id| d.text_len(id))
    }

    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<String> {
        let s = self.__str__(py)?;
        let text = PyString::new(py, &s);
        text.get_item(key)?.extract()
    }

    fn __contains__(&self, py: Python<'_>, needle: &str) -> PyResult<bool> {
        Ok(self.__str__(py)?.contains(needle))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        PyString::new(py, &self.__str__(py)?).try_iter()
    }

    /// Deletes one character or a slice (`del text[2:5]`).
    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let len = self.__len__(py)?;
        match pick(key, len, false)? {
            Pick::One(i) => self.0.edit(py, |d, id| d.text_delete(id, i..i + 1)),
            Pick::Range(a, b) => self.0.edit(py, |d, id| d.text_delete(id, a..b)),
        }
    }

    /// Replaces a slice with a string (`text[0:5] = "Hello"`).
    fn __setitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>, value: &str) -> PyResult<()> {
        let len = self.__len__(py)?;
        let (a, b) = match pick(key, len, false)? {
            Pick::One(i) => (i, i + 1),
            Pick::Range(a, b) => (a, b),
        };
        let value = value.to_owned();
        self.0
            .edit(py, move |d, id| d.text_splice(id, a, b - a, &value))
    }

    fn __iadd__(&self, py: Python<'_>, s: &str) -> PyResult<()> {
        self.append(py, s)
    }

    /// Inserts `s` at code point `pos` (negative counts from the end).
    fn insert(&self, py: Python<'_>, pos: isize, s: &str) -> PyResult<()> {
        self.0.edit(py, |d, id| {
            let at = match usize::try_from(pos) {
                Ok(at) => at,
                Err(_) => convert::index(pos, d.text_len(id)?),
            };
            d.text_insert(id, at, s)
        })
    }

    /// Appends `s` at the end.
    fn append(&self, py: Python<'_>, s: &str) -> PyResult<()> {
        self.0.edit(py, |d, id| {
            let at = d.text_len(id)?;
            d.text_insert(id, at, s)
        })
    }

    /// Deletes `length` code points starting at `pos`.
    fn delete(&self, py: Python<'_>, pos: usize, length: usize) -> PyResult<()> {
        let end = pos.saturating_add(length);
        self.0.edit(py, |d, id| d.text_delete(id, pos..end))
    }

    /// Replaces `delete` code points at `pos` with `insert`.
    #[pyo3(signature = (pos, delete, insert = ""))]
    fn splice(&self, py: Python<'_>, pos: usize, delete: usize, insert: &str) -> PyResult<()> {
        self.0
            .edit(py, |d, id| d.text_splice(id, pos, delete, insert))
    }

    /// Applies many `(pos, delete, insert)` patches in one call (one crossing into Rust), in
    /// order, each position as of the patches before it, as the kernel's batch splice: one
    /// transaction (or part of the open one), one event, all or nothing.
    fn apply_patches(&self, py: Python<'_>, patches: &Bound<'_, PyAny>) -> PyResult<()> {
        // Copied out while attached to Python (the edit may run detached). The inserted
        // strings are joined by Python and encoded once: one UTF-8 buffer for all of them,
        // not one `bytes` object per patch (the stable ABI of Python 3.9 lends no UTF-8
        // buffer of a `str`).
        let mut list: Vec<(usize, usize, usize)> = Vec::new();
        let mut texts: Vec<Bound<'_, PyString>> = Vec::new();
        if let Ok(l) = patches.cast::<PyList>() {
            list.reserve(l.len());
        }
        for p in patches.try_iter()? {
            let (pos, del, ins) = read_patch(&p?)?;
            let chars = ins.len()?;
            if chars > 0 {
                texts.push(ins);
            }
            list.push((pos, del, chars));
        }
        let joined = PyString::new(py, "").call_method1("join", (texts,))?;
        let utf8 = joined.cast::<PyString>()?.encode_utf8()?;
        let bad = || PyValueError::new_err("inserted text is not valid UTF-8");
        let inserted = std::str::from_utf8(utf8.as_bytes())
            .map_err(|_| bad())?
            .to_owned();
        // Where each patch's text ends, in bytes (chars are bytes in ASCII text).
        let ends: Vec<usize> = if inserted.is_ascii() {
            list.iter()
                .scan(0, |end, p| {
                    *end += p.2;
                    Some(*end)
                })
                .collect()
        } else {
            let mut cuts = inserted
                .char_indices()
                .map(|(i, _)| i)
                .skip(1)
                .chain([inserted.len()]);
            let mut end = 0;
            list.iter()
                .map(|p| {
                    if p.2 > 0 {
                        end = cuts.nth(p.2 - 1).unwrap_or(inserted.len());
                    }
                    end
                })
                .collect()
        };
        self.0.edit(py, move |d, id| {
            let mut start = 0;
            let patches = list.iter().zip(&ends).map(|(&(pos, del, _), &end)| {
                let ins = &inserted[start..end];
                start = end;
                (pos, del, ins)
            });
            d.text_splice_batch(id, patches)
        })
    }

    /// Inserts `s` at UTF-16 offset `pos16`.
    fn insert_utf16(&self, py: Python<'_>, pos16: usize, s: &str) -> PyResult<()> {
        self.0.edit(py, |d, id| d.text_insert_utf16(id, pos16, s))
    }

    /// Deletes UTF-16 code units `start..end`.
    fn delete_utf16(&self, py: Python<'_>, start: usize, end: usize) -> PyResult<()> {
        self.0.edit(py, |d, id| d.text_delete_utf16(id, start..end))
    }

    /// The length in UTF-16 code units.
    fn len_utf16(&self, py: Python<'_>) -> PyResult<usize> {
        self.0.read(py, |d, id| d.text_len_utf16(id))
    }
}

/// Reads one `(pos, delete, insert)` patch.
fn read_patch<'py>(p: &Bound<'py, PyAny>) -> PyResult<(usize, usize, Bound<'py, PyString>)> {
    let bad = || PyTypeError::new_err("a patch is a tuple (pos, delete, insert)");
    let t = p.cast::<PyTuple>().map_err(|_| bad())?;
    if t.len() != 3 {
        return Err(bad());
    }
    let ins = t.get_item(2)?.cast_into::<PyString>().map_err(|_| bad())?;
    Ok((
        t.get_borrowed_item(0)?.extract()?,
        t.get_borrowed_item(1)?.extract()?,
        ins,
    ))
}

// ----------------------------------------------------------------------------------- Map

/// String keys to values or nested containers; concurrent writes to a key: last writer wins.
#[pyclass(frozen, module = "converge", name = "Map", mapping)]
pub(crate) struct Map(pub(crate) Handle);

common_methods!(Map, "Map");

#[pymethods]
impl Map {
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.0.read(py, |d, id| d.map_keys(id).map(|k| k.len()))
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        match self.0.read(py, |d, id| d.map_get(id, key))? {
            Some(item) => self.0.item_to_py(py, &item),
            None => Err(PyKeyError::new_err(key.to_owned())),
        }
    }

    fn __setitem__(&self, py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = convert::value(value)?;
        self.0.edit(py, |d, id| d.map_set(id, key, v))
    }

    fn __delitem__(&self, py: Python<'_>, key: &str) -> PyResult<()> {
        if !self.__contains__(py, key)? {
            return Err(PyKeyError::new_err(key.to_owned()));
        }
        self.0.edit(py, |d, id| d.map_delete(id, key))
    }

    fn __contains__(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        Ok(self.0.read(py, |d, id| d.map_get(id, key))?.is_some())
    }

    /// Deletes `key` whether or not it is present (a delete of an absent key is still an
    /// operation that replicates: it removes any concurrent write it has seen).
    fn delete(&self, py: Python<'_>, key: &str) -> PyResult<()> {
        self.0.edit(py, |d, id| d.map_delete(id, key))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.keys(py)?.try_iter()
    }

    /// The keys, ascending (a snapshot).
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let keys = self.0.read(py, |d, id| d.map_keys(id))?;
        PyList::new(py, keys)
    }

    /// The values in key order (a snapshot; nested containers as handles).
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let entries = self.0.read(py, |d, id| d.map_entries(id))?;
        let vals = entries
            .iter()
            .map(|(_, item)| self.0.item_to_py(py, item))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, vals)
    }

    /// `(key, value)` pairs in key order (a snapshot).
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let entries = self.0.read(py, |d, id| d.map_entries(id))?;
        let pairs = entries
            .iter()
            .map(|(k, item)| {
                PyTuple::new(
                    py,
                    [
                        k.into_pyobject(py)?.into_any(),
                        self.0.item_to_py(py, item)?,
                    ],
                )
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, pairs)
    }

    /// The value at `key`, or `default`.
    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match self.0.read(py, |d, id| d.map_get(id, key))? {
            Some(item) => self.0.item_to_py(py, &item),
            None => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }

    /// Sets every entry of a mapping (or iterable of pairs) as one batch.
    fn update(&self, py: Python<'_>, entries: &Bound<'_, PyAny>) -> PyResult<()> {
        let pairs = if entries.hasattr("items")? {
            entries.call_method0("items")?
        } else {
            entries.clone()
        };
        let mut batch: Vec<(String, Value)> = Vec::new();
        for pair in pairs.try_iter()? {
            let (k, v): (String, Bound<'_, PyAny>) = pair?.extract()?;
            batch.push((k, convert::value(&v)?));
        }
        self.0.edit(py, |d, id| d.map_set_batch(id, &batch))
    }

    /// Creates a nested container of `kind` at `key` and returns its handle.
    fn insert_container<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        kind: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kind = convert::kind(kind)?;
        let id = self
            .0
            .edit(py, |d, id| d.map_insert_container(id, key, kind))?;
        handle(py, &self.0.shared, id)
    }
}

// ---------------------------------------------------------------------------------- List

/// An ordered list of values or nested containers.
#[pyclass(frozen, module = "converge", name = "List", sequence)]
pub(crate) struct List(pub(crate) Handle);

common_methods!(List, "List");

#[pymethods]
impl List {
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.0.read(py, |d, id| d.list_len(id))
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if key.is_instance_of::<PySlice>() {
            let items = self.all(py)?;
            return items.as_any().get_item(key);
        }
        let i: isize = key
            .extract()
            .map_err(|_| PyTypeError::new_err("list indices must be integers or slices"))?;
        let item = self.0.read(py, |d, id| {
            let at = convert::index(i, d.list_len(id)?);
            d.list_get(id, at)
        })?;
        match item {
            Some(item) => self.0.item_to_py(py, &item),
            None => Err(PyIndexError::new_err("list index out of range")),
        }
    }

    /// Replaces the element at an index (a delete and an insert, as one transaction).
    fn __setitem__(&self, py: Python<'_>, index: isize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = convert::value(value)?;
        self.0.edit(py, |d, id| {
            let at = convert::index(index, d.list_len(id)?);
            atomically(d, |d| {
                d.list_delete(id, at..at.saturating_add(1))?;
                d.list_insert(id, at, v)
            })
        })
    }

    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let len = self.__len__(py)?;
        let (a, b) = match pick(key, len, false)? {
            Pick::One(i) => (i, i + 1),
            Pick::Range(a, b) => (a, b),
        };
        self.0.edit(py, |d, id| d.list_delete(id, a..b))
    }

    fn __contains__(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<bool> {
        self.all(py)?.contains(value)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.all(py)?.try_iter()
    }

    /// Inserts `value` before `index` (negative counts from the end).
    fn insert(&self, py: Python<'_>, index: isize, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = convert::value(value)?;
        self.0.edit(py, |d, id| {
            let at = match usize::try_from(index) {
                Ok(at) => at,
                Err(_) => convert::index(index, d.list_len(id)?),
            };
            d.list_insert(id, at, v)
        })
    }

    /// Appends `value`.
    fn append(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = convert::value(value)?;
        self.0.edit(py, |d, id| d.list_push_batch(id, &[v]))
    }

    /// Appends every element of an iterable as one batch.
    fn extend(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let vs = convert::values(values)?;
        self.0.edit(py, |d, id| d.list_push_batch(id, &vs))
    }

    /// Inserts every element of an iterable at `index` as one batch.
    fn insert_many(&self, py: Python<'_>, index: usize, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let vs = convert::values(values)?;
        self.0.edit(py, |d, id| d.list_insert_batch(id, index, &vs))
    }

    /// Removes and returns the element at `index` (the last by default).
    #[pyo3(signature = (index = -1))]
    fn pop<'py>(&self, py: Python<'py>, index: isize) -> PyResult<Bound<'py, PyAny>> {
        let item = self.0.edit(py, |d, id| {
            let len = d.list_len(id)?;
            let at = convert::index(index, len);
            let item = d.list_get(id, at)?;
            if item.is_some() {
                d.list_delete(id, at..at + 1)?;
            }
            Ok(item)
        })?;
        match item {
            Some(item) => self.0.item_to_py(py, &item),
            None => Err(PyIndexError::new_err("pop index out of range")),
        }
    }

    /// Deletes elements `start..end`.
    fn delete(&self, py: Python<'_>, start: usize, end: usize) -> PyResult<()> {
        self.0.edit(py, |d, id| d.list_delete(id, start..end))
    }

    /// Creates a nested container of `kind` before `index` and returns its handle.
    fn insert_container<'py>(
        &self,
        py: Python<'py>,
        index: usize,
        kind: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let kind = convert::kind(kind)?;
        let id = self
            .0
            .edit(py, |d, id| d.list_insert_container(id, index, kind))?;
        handle(py, &self.0.shared, id)
    }

    /// Appends a nested container of `kind` and returns its handle.
    fn append_container<'py>(&self, py: Python<'py>, kind: &str) -> PyResult<Bound<'py, PyAny>> {
        let kind = convert::kind(kind)?;
        let id = self.0.edit(py, |d, id| {
            let at = d.list_len(id)?;
            d.list_insert_container(id, at, kind)
        })?;
        handle(py, &self.0.shared, id)
    }
}

impl List {
    /// Every element as a Python list (a snapshot).
    fn all<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self.0.read(py, |d, id| d.list_items(id))?;
        let objs = items
            .iter()
            .map(|i| self.0.item_to_py(py, i))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, objs)
    }
}

// ------------------------------------------------------------------------------- Counter

/// A counter: concurrent increments and decrements add up.
#[pyclass(frozen, module = "converge", name = "Counter")]
pub(crate) struct Counter(pub(crate) Handle);

common_methods!(Counter, "Counter");

#[pymethods]
impl Counter {
    /// The current value.
    #[getter]
    fn value(&self, py: Python<'_>) -> PyResult<i64> {
        self.0.read(py, |d, id| d.counter(id))
    }

    fn __int__(&self, py: Python<'_>) -> PyResult<i64> {
        self.value(py)
    }

    /// Adds `amount` (negative to subtract).
    #[pyo3(signature = (amount = 1))]
    fn add(&self, py: Python<'_>, amount: i64) -> PyResult<()> {
        self.0.edit(py, |d, id| d.counter_add(id, amount))
    }

    fn __iadd__(&self, py: Python<'_>, amount: i64) -> PyResult<()> {
        self.add(py, amount)
    }

    fn __isub__(&self, py: Python<'_>, amount: i64) -> PyResult<()> {
        let neg = amount
            .checked_neg()
            .ok_or_else(|| PyValueError::new_err("amount out of range"))?;
        self.add(py, neg)
    }
}

// ------------------------------------------------------------------------------ Register

/// One value; concurrent writes: last writer wins.
#[pyclass(frozen, module = "converge", name = "Register")]
pub(crate) struct Register(pub(crate) Handle);

common_methods!(Register, "Register");

#[pymethods]
impl Register {
    /// The value (`None` if never written).
    #[getter]
    fn value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.0.read(py, |d, id| d.register(id))? {
            Some(v) => convert::value_to_py(py, &v),
            None => Ok(py.None().into_bound(py)),
        }
    }

    /// Writes `value`.
    fn set(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = convert::value(value)?;
        self.0.edit(py, |d, id| d.register_set(id, v))
    }
}

// ----------------------------------------------------------------------------------- Set

/// A set of values; a concurrent add wins over a remove. Iterates in ascending order
/// (`None < bool < int < float < str < bytes`). `True` and `1` are different elements.
#[pyclass(frozen, module = "converge", name = "Set")]
pub(crate) struct Set(pub(crate) Handle);

common_methods!(Set, "Set");

#[pymethods]
impl Set {
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.0.read(py, |d, id| d.set_values(id).map(|v| v.len()))
    }

    fn __contains__(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<bool> {
        let v = convert::value(value)?;
        self.0.read(py, |d, id| d.set_contains(id, &v))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyIterator>> {
        self.to_py(py)?.try_iter()
    }

    /// Adds `value`.
    fn add(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = convert::value(value)?;
        self.0.edit(py, |d, id| d.set_add(id, v))
    }

    /// Removes `value` if present.
    fn discard(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = convert::value(value)?;
        self.0.edit(py, |d, id| d.set_remove(id, &v))
    }

    /// Removes `value`; `KeyError` if absent.
    fn remove(&self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let v = convert::value(value)?;
        let present = self.0.edit(py, |d, id| {
            let present = d.set_contains(id, &v)?;
            if present {
                d.set_remove(id, &v)?;
            }
            Ok(present)
        })?;
        if present {
            Ok(())
        } else {
            Err(PyKeyError::new_err(value.clone().unbind()))
        }
    }

    /// Adds every element of an iterable as one batch.
    fn update(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let vs = convert::values(values)?;
        self.0.edit(py, |d, id| d.set_add_batch(id, &vs))
    }

    /// Removes every element of an iterable as one batch.
    fn difference_update(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        let vs = convert::values(values)?;
        self.0.edit(py, |d, id| d.set_remove_batch(id, &vs))
    }
}
