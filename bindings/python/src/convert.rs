//! Conversions between Python objects and kernel values, errors and bytes.

use std::borrow::Cow;

use converge::doc::{ContainerKind, DocError, Node, Value};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString,
};

/// The kernel error as the matching `converge.errors` exception (with its `code`).
pub(crate) fn doc_err(py: Python<'_>, e: DocError) -> PyErr {
    static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let message = e.to_string();
    let made = FACTORY
        .get_or_try_init(py, || {
            py.import("converge.errors")?
                .getattr("error_for_code")
                .map(Bound::unbind)
        })
        .and_then(|f| f.bind(py).call1((e.code(), message.as_str())));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(import_failed) => import_failed,
    }
}

/// Converts a kernel result, raising its error as a Python exception.
pub(crate) fn check<T>(py: Python<'_>, r: Result<T, DocError>) -> PyResult<T> {
    r.map_err(|e| doc_err(py, e))
}

/// Bytes from any object supporting the buffer protocol. `bytes` is borrowed, anything else
/// (`bytearray`, `memoryview`, `array`, numpy arrays, ...) is copied once.
pub(crate) fn buffer<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    if obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "expected a bytes-like object, not str",
        ));
    }
    // memoryview() accepts exactly the objects with the buffer protocol.
    let copied = PyMemoryView::from(obj)
        .and_then(|view| view.call_method0("tobytes"))
        .map_err(|_| PyTypeError::new_err("expected a bytes-like object"))?;
    Ok(Cow::Owned(copied.cast::<PyBytes>()?.as_bytes().to_vec()))
}

/// A Python scalar as a kernel value: `None`, `bool`, `int` (64-bit), `float`, `str`, or any
/// bytes-like object.
pub(crate) fn value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        Ok(Value::Null)
    } else if let Ok(b) = obj.cast::<PyBool>() {
        Ok(Value::Bool(b.is_true()))
    } else if obj.is_instance_of::<PyInt>() {
        Ok(Value::Int(obj.extract()?))
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        Ok(Value::Float(f.value()))
    } else if let Ok(s) = obj.cast::<PyString>() {
        Ok(Value::Str(s.to_cow()?.into_owned()))
    } else if let Ok(b) = buffer(obj) {
        Ok(Value::Bytes(b.into_owned()))
    } else {
        Err(PyTypeError::new_err(format!(
            "converge stores None, bool, int, float, str or bytes, not {}",
            obj.get_type().name()?
        )))
    }
}

/// Converts every element of an iterable to a value.
pub(crate) fn values(obj: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    obj.try_iter()?.map(|v| value(&v?)).collect()
}

/// A kernel value as a Python object.
pub(crate) fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::Bytes(b) => PyBytes::new(py, b).into_any(),
    })
}

/// A materialized tree as plain Python data: maps become `dict`, lists and sets `list`, text
/// `str`, counters `int`, registers their value or `None`.
pub(crate) fn node_to_py<'py>(py: Python<'py>, node: &Node) -> PyResult<Bound<'py, PyAny>> {
    Ok(match node {
        Node::Value(v) => value_to_py(py, v)?,
        Node::Map(m) => {
            let d = PyDict::new(py);
            for (k, v) in m {
                d.set_item(k, node_to_py(py, v)?)?;
            }
            d.into_any()
        }
        Node::List(l) => {
            let items = l
                .iter()
                .map(|n| node_to_py(py, n))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Node::Text(t) => PyString::new(py, t).into_any(),
        Node::Counter(c) => c.into_pyobject(py)?.into_any(),
        Node::Register(r) => match r {
            Some(v) => value_to_py(py, v)?,
            None => py.None().into_bound(py),
        },
        Node::Set(s) => {
            let items = s
                .iter()
                .map(|v| value_to_py(py, v))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
    })
}

/// A container kind from its lower-case name.
pub(crate) fn kind(name: &str) -> PyResult<ContainerKind> {
    Ok(match name {
        "map" => ContainerKind::Map,
        "list" => ContainerKind::List,
        "text" => ContainerKind::Text,
        "counter" => ContainerKind::Counter,
        "register" => ContainerKind::Register,
        "set" => ContainerKind::Set,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown container kind {other:?} (map, list, text, counter, register, set)"
            )));
        }
    })
}

/// Resolves a possibly negative Python index against `len` (no bounds check above).
pub(crate) fn index(i: isize, len: usize) -> usize {
    if i < 0 {
        // A negative index past the start stays past the end, so the kernel reports it.
        len.checked_sub(i.unsigned_abs()).unwrap_or(usize::MAX)
    } else {
        i.unsigned_abs()
    }
}
