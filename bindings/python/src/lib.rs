//! Python bindings for the converge CRDT kernel, importable as `converge` (the native part is
//! `converge._native`; the pure-Python package around it adds the exception hierarchy and the
//! harness helpers). Conversions and host idiom only: every CRDT rule lives in the kernel.

mod containers;
mod convert;
mod doc;
mod events;
mod shared;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<doc::PyDoc>()?;
    m.add_class::<doc::Transaction>()?;
    m.add_class::<doc::ApplyReport>()?;
    m.add_class::<containers::Text>()?;
    m.add_class::<containers::Map>()?;
    m.add_class::<containers::List>()?;
    m.add_class::<containers::Counter>()?;
    m.add_class::<containers::Register>()?;
    m.add_class::<containers::Set>()?;
    m.add_class::<events::Event>()?;
    m.add_class::<events::Change>()?;
    m.add_class::<events::Subscription>()?;
    Ok(())
}
