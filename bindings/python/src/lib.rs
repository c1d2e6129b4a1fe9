//! Python bindings for the converge CRDT kernel, importable as `converge` (the native part is
//! `converge._native`; the pure-Python package around it adds the exception hierarchy and the
//! harness helpers). Conversions and host idiom only: every CRDT rule lives in the kernel.

mod containers;
mod convert;
mod doc;
mod events;
mod shared;

use converge::doc::{ContainerKind, Doc};
use pyo3::prelude::*;

/// Benchmark baseline (used by `bench.py`): replays `(pos, delete, insert)` patches into root
/// text `"text"` of a kernel `Doc` in Rust alone, with no Python call per patch, and returns
/// `(seconds, final text)`. `batch`: all patches in one `text_splice_batch` call (what
/// `Text.apply_patches` does); otherwise one `text_delete`/`text_insert` call per patch, each
/// committing by itself (what one Python call per patch does). Only the replay is timed; the
/// GIL is released.
#[pyfunction]
fn _replay_native(
    py: Python<'_>,
    patches: Vec<(usize, usize, String)>,
    batch: bool,
) -> PyResult<(f64, String)> {
    let r = py.detach(move || {
        let mut doc = Doc::new(converge::ReplicaId(1));
        let text = doc.root("text", ContainerKind::Text);
        let start = std::time::Instant::now();
        if batch {
            let all = patches.iter().map(|(p, d, s)| (*p, *d, s.as_str()));
            doc.text_splice_batch(text, all)?;
        } else {
            for (pos, del, ins) in &patches {
                if *del > 0 {
                    doc.text_delete(text, *pos..*pos + *del)?;
                }
                if !ins.is_empty() {
                    doc.text_insert(text, *pos, ins)?;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        Ok((secs, doc.text(text)?))
    });
    convert::check(py, r)
}

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
    m.add_function(wrap_pyfunction!(_replay_native, m)?)?;
    Ok(())
}
