//! `converge.Doc`: the document, its roots, transactions, sync and persistence.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::thread;

use converge::doc::ApplyReport as KernelReport;
use converge::doc::{ContainerKind, Doc, DocError};
use converge::{ReplicaId, VersionVector};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::containers::handle;
use crate::convert::{self, check};
use crate::events::{Subscription, deliver};
use crate::shared::{DETACH_BYTES, Inner, Shared};

/// A replicated document of named root containers. Thread-safe: every method may be called
/// from any thread; long kernel work (`apply_update`, `load`, `save`, `merge_updates` on large
/// inputs) runs with the GIL released.
#[pyclass(frozen, module = "converge", name = "Doc")]
pub(crate) struct PyDoc {
    shared: Shared,
}

impl PyDoc {
    pub(crate) fn from_shared(shared: Shared) -> Self {
        PyDoc { shared }
    }

    fn root<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        kind: ContainerKind,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = self.shared.with(py, |s| s.doc.root(name, kind));
        handle(py, &self.shared, id)
    }
}

fn random_replica() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // RandomState is seeded from the OS per process and per instance.
    RandomState::new().hash_one(nanos).max(1)
}

fn decode_version(py: Python<'_>, bytes: &[u8]) -> PyResult<VersionVector> {
    check(
        py,
        converge::decode::<VersionVector>(bytes).map_err(DocError::from),
    )
}

#[pymethods]
impl PyDoc {
    /// An empty document. `replica` is this replica's id (random when omitted; every replica
    /// editing a document needs its own). `memory_limit` caps the history kept, in bytes.
    #[new]
    #[pyo3(signature = (replica = None, *, memory_limit = None))]
    fn new(replica: Option<u64>, memory_limit: Option<usize>) -> Self {
        let replica = ReplicaId(replica.unwrap_or_else(random_replica));
        let doc = match memory_limit {
            Some(limit) => Doc::with_memory_limit(replica, limit),
            None => Doc::new(replica),
        };
        PyDoc::from_shared(Inner::new(doc))
    }

    /// Restores a document from `save()` or `save_history()` output (any bytes-like object).
    /// Raises a `ConvergeError` subclass for bad bytes.
    #[staticmethod]
    fn load(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let bytes = convert::buffer(data)?;
        let doc = if bytes.len() >= DETACH_BYTES {
            py.detach(|| Doc::load(&bytes))
        } else {
            Doc::load(&bytes)
        };
        Ok(PyDoc::from_shared(Inner::new(check(py, doc)?)))
    }

    /// Combines update messages into one (any iterable of bytes-like objects).
    #[staticmethod]
    fn merge_updates<'py>(
        py: Python<'py>,
        updates: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let objs: Vec<Bound<'py, PyAny>> = updates.try_iter()?.collect::<PyResult<_>>()?;
        let bufs: Vec<Cow<'_, [u8]>> = objs.iter().map(convert::buffer).collect::<PyResult<_>>()?;
        let refs: Vec<&[u8]> = bufs.iter().map(|b| b.as_ref()).collect();
        let total: usize = refs.iter().map(|b| b.len()).sum();
        let merged = if total >= DETACH_BYTES {
            py.detach(|| Doc::merge_updates(&refs))
        } else {
            Doc::merge_updates(&refs)
        };
        Ok(PyBytes::new(py, &check(py, merged)?))
    }

    /// This replica's id.
    #[getter]
    fn replica(&self, py: Python<'_>) -> u64 {
        self.shared.with(py, |s| s.doc.replica().0)
    }

    /// Root text `name`.
    fn text<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.root(py, name, ContainerKind::Text)
    }

    /// Root map `name`.
    fn map<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.root(py, name, ContainerKind::Map)
    }

    /// Root list `name`.
    fn list<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.root(py, name, ContainerKind::List)
    }

    /// Root counter `name`.
    fn counter<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.root(py, name, ContainerKind::Counter)
    }

    /// Root register `name`.
    fn register<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.root(py, name, ContainerKind::Register)
    }

    /// Root set `name`.
    fn set<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        self.root(py, name, ContainerKind::Set)
    }

    /// Root container `name` of `kind` (`"text"`, `"map"`, `"list"`, `"counter"`,
    /// `"register"`, `"set"`): the same handle as `doc.text(name)` and friends.
    #[pyo3(name = "root")]
    fn root_of<'py>(&self, py: Python<'py>, name: &str, kind: &str) -> PyResult<Bound<'py, PyAny>> {
        let kind = convert::kind(kind)?;
        self.root(py, name, kind)
    }

    /// The document as plain Python data: every non-empty root by name.
    fn to_py<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let roots = self.shared.with(py, |s| s.doc.named_roots());
        let d = PyDict::new(py);
        for (name, node) in &roots {
            d.set_item(name, convert::node_to_py(py, node)?)?;
        }
        Ok(d)
    }

    /// The version vector of everything applied, encoded (pass to `encode_updates_since`).
    fn version<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let v = self.shared.with(py, |s| converge::encode(&s.doc.version()));
        PyBytes::new(py, &v)
    }

    /// The updates a peer at `since` (an encoded version; everything when omitted) lacks, as
    /// one message for `apply_update`.
    #[pyo3(signature = (since = None))]
    fn encode_updates_since<'py>(
        &self,
        py: Python<'py>,
        since: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let since = match since {
            Some(obj) => decode_version(py, &convert::buffer(obj)?)?,
            None => VersionVector::new(),
        };
        let bytes = self.shared.with(py, |s| s.doc.encode_updates_since(&since));
        Ok(PyBytes::new(py, &bytes))
    }

    /// Applies an update message (idempotent, any order; updates whose dependencies are
    /// missing wait in a buffer). On error the document is unchanged.
    fn apply_update(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<ApplyReport> {
        let bytes = convert::buffer(data)?;
        let bytes: &[u8] = &bytes;
        let r = if bytes.len() >= DETACH_BYTES {
            self.shared.with_detached(py, |s| s.doc.apply_update(bytes))
        } else {
            self.shared.with(py, |s| s.doc.apply_update(bytes))
        };
        let report = check(py, r)?;
        deliver(py, &self.shared)?;
        Ok(ApplyReport::from_kernel(&report))
    }

    /// A compact state snapshot for `Doc.load` (the GIL is released while it is written).
    fn save<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let r = self.shared.with_detached(py, |s| s.doc.save());
        Ok(PyBytes::new(py, &check(py, r)?))
    }

    /// The whole history in its smallest form (the best transfer to a peer that has nothing);
    /// `Doc.load` accepts it too. The GIL is released while it is written.
    fn save_history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let r = self.shared.with_detached(py, |s| s.doc.save_history());
        Ok(PyBytes::new(py, &check(py, r)?))
    }

    /// Opens a transaction owned by the calling thread (other threads' calls wait for it).
    fn begin(&self, py: Python<'_>) -> PyResult<()> {
        let me = thread::current().id();
        let r = self.shared.with(py, |s| {
            s.doc.begin()?;
            s.owner = Some(me);
            Ok(())
        });
        check(py, r)
    }

    /// Commits the open transaction as one update (and one event).
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        let r = self.shared.with(py, |s| {
            let r = s.doc.commit();
            if !s.doc.in_transaction() {
                s.owner = None;
            }
            r
        });
        self.shared.transaction_ended();
        check(py, r)?;
        deliver(py, &self.shared)
    }

    /// Discards the open transaction's edits (nothing happens if none is open).
    fn rollback(&self, py: Python<'_>) {
        self.shared.with(py, |s| {
            s.doc.rollback();
            s.owner = None;
        });
        self.shared.transaction_ended();
    }

    /// Whether a transaction is open.
    #[getter]
    fn in_transaction(&self, py: Python<'_>) -> bool {
        self.shared.with(py, |s| s.doc.in_transaction())
    }

    /// `with doc.transaction():` commits the block's edits as one update, or rolls them back
    /// if the block raises.
    fn transaction(&self) -> Transaction {
        Transaction {
            doc: PyDoc::from_shared(self.shared.clone()),
        }
    }

    /// Calls `callback(event)` after every committed change and applied update, once the call
    /// that caused it has returned. Returns a `Subscription`; call it to unsubscribe.
    fn subscribe(&self, py: Python<'_>, callback: Bound<'_, PyAny>) -> PyResult<Subscription> {
        if !callback.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "callback must be callable",
            ));
        }
        let id = self.shared.subscribe(py, callback.unbind());
        Ok(Subscription {
            shared: self.shared.clone(),
            id,
        })
    }

    /// Updates buffered until their dependencies arrive.
    #[getter]
    fn pending_count(&self, py: Python<'_>) -> usize {
        self.shared.with(py, |s| s.doc.pending_count())
    }

    /// Bytes of history charged to the memory limit.
    #[getter]
    fn memory_used(&self, py: Python<'_>) -> usize {
        self.shared.with(py, |s| s.doc.memory_used())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let replica = self.replica(py);
        format!("<converge.Doc replica={replica}>")
    }
}

/// The context manager `Doc.transaction()` returns.
#[pyclass(frozen, module = "converge", name = "Transaction")]
pub(crate) struct Transaction {
    doc: PyDoc,
}

#[pymethods]
impl Transaction {
    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().doc.begin(slf.py())?;
        Ok(slf)
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        ty: Option<Bound<'_, PyAny>>,
        _value: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if ty.is_some() {
            self.doc.rollback(py);
        } else {
            self.doc.commit(py)?;
        }
        Ok(false)
    }
}

/// What `Doc.apply_update` did.
#[pyclass(frozen, module = "converge", name = "ApplyReport", get_all)]
pub(crate) struct ApplyReport {
    /// Updates applied by this call (new ones, and buffered ones they unblocked).
    applied: usize,
    /// Updates already applied or already buffered.
    duplicates: usize,
    /// Updates buffered because something they depend on is missing.
    pending: usize,
    /// The encoded version the buffered updates wait for (empty version when none).
    missing: Py<PyBytes>,
    /// Buffered updates dropped as invalid once their dependencies arrived.
    rejected: usize,
}

impl ApplyReport {
    fn from_kernel(r: &KernelReport) -> Self {
        Python::attach(|py| ApplyReport {
            applied: r.applied,
            duplicates: r.duplicates,
            pending: r.pending,
            missing: PyBytes::new(py, &converge::encode(&r.missing)).unbind(),
            rejected: r.rejected,
        })
    }
}

#[pymethods]
impl ApplyReport {
    /// Whether nothing is left pending.
    #[getter]
    fn complete(&self) -> bool {
        self.pending == 0
    }

    fn __repr__(&self) -> String {
        format!(
            "<converge.ApplyReport applied={} duplicates={} pending={} rejected={}>",
            self.applied, self.duplicates, self.pending, self.rejected
        )
    }
}
