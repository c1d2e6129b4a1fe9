//! Maps: [`LwwMap`] (last writer wins per key, in [`lww`]) and [`OrMap`] (add-wins keys,
//! nested CRDT values, in [`or`]). Each file's docs describe its semantics and invariants.

pub mod lww;
pub mod or;

pub use lww::LwwMap;
pub use or::{OrMap, OrMapDelta};
