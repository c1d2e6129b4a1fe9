//! Change events and subscriptions. Events are queued by the kernel while someone listens and
//! delivered here, after the call that caused them has released the document: a callback may
//! read and edit the document freely.

use converge::doc::{ChangeEvent, ChangeOrigin, Changed};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::containers::handle;
use crate::shared::Shared;

/// What one committed transaction, single edit or applied update changed.
#[pyclass(frozen, module = "converge", name = "Event")]
pub(crate) struct Event {
    /// `"local"` (a commit here) or `"remote"` (applied updates).
    #[pyo3(get)]
    origin: &'static str,
    /// One `Change` per changed container.
    #[pyo3(get)]
    changes: Py<PyList>,
}

#[pymethods]
impl Event {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "<converge.Event {} with {} changes>",
            self.origin,
            self.changes.bind(py).len()
        )
    }
}

/// What changed in one container.
#[pyclass(frozen, module = "converge", name = "Change")]
pub(crate) struct Change {
    /// The container's handle.
    #[pyo3(get)]
    target: Py<PyAny>,
    /// `"keys"` (a map), `"range"` (a list or text) or `"value"` (counter, register, set).
    #[pyo3(get)]
    kind: &'static str,
    /// The map keys that now read differently (empty unless `kind == "keys"`).
    #[pyo3(get)]
    keys: Vec<String>,
    /// `(start, removed, inserted)`: positions `start..start+removed` of the old content were
    /// replaced by `start..start+inserted` of the new one (`None` unless `kind == "range"`).
    #[pyo3(get)]
    range: Option<(usize, usize, usize)>,
}

#[pymethods]
impl Change {
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!(
            "<converge.Change {} of {}>",
            self.kind,
            self.target.bind(py).repr()?
        ))
    }
}

fn event_to_py(py: Python<'_>, shared: &Shared, event: ChangeEvent) -> PyResult<Py<Event>> {
    let mut changes = Vec::with_capacity(event.changes.len());
    for c in event.changes {
        let (kind, keys, range) = match c.what {
            Changed::Keys(keys) => ("keys", keys, None),
            Changed::Range {
                start,
                removed,
                inserted,
            } => ("range", Vec::new(), Some((start, removed, inserted))),
            Changed::Value => ("value", Vec::new(), None),
            _ => ("other", Vec::new(), None),
        };
        let target = handle(py, shared, c.container)?.unbind();
        changes.push(Py::new(
            py,
            Change {
                target,
                kind,
                keys,
                range,
            },
        )?);
    }
    let origin = match event.origin {
        ChangeOrigin::Local => "local",
        ChangeOrigin::Remote => "remote",
    };
    Py::new(
        py,
        Event {
            origin,
            changes: PyList::new(py, changes)?.unbind(),
        },
    )
}

/// Calls every subscriber with every queued event. No lock is held while callbacks run; an
/// exception a callback raises goes to `sys.unraisablehook` (the edit itself succeeded).
pub(crate) fn deliver(py: Python<'_>, shared: &Shared) -> PyResult<()> {
    let Some((events, callbacks)) = shared.pending_events(py) else {
        return Ok(());
    };
    for event in events {
        let obj = event_to_py(py, shared, event)?;
        for cb in &callbacks {
            if let Err(e) = cb.call1(py, (obj.clone_ref(py),)) {
                e.write_unraisable(py, Some(cb.bind(py)));
            }
        }
    }
    Ok(())
}

/// The handle `Doc.subscribe` returns: call it (or `unsubscribe()`) to stop the callbacks.
/// Also a context manager that unsubscribes on exit.
#[pyclass(frozen, module = "converge", name = "Subscription")]
pub(crate) struct Subscription {
    pub(crate) shared: Shared,
    pub(crate) id: u64,
}

#[pymethods]
impl Subscription {
    /// Stops the callbacks; returns whether this call removed the subscription.
    fn unsubscribe(&self, py: Python<'_>) -> bool {
        self.shared.unsubscribe(py, self.id)
    }

    fn __call__(&self, py: Python<'_>) -> bool {
        self.unsubscribe(py)
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _ty: Option<Bound<'_, PyAny>>,
        _value: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> bool {
        self.unsubscribe(py);
        false
    }
}
