//! Integration tests for `converge`, in one binary.

mod doc_atomic;
mod doc_sim;
mod doc_sync;
mod fixed;
mod list_props;
mod list_snapshot;
mod list_traces;
mod state_laws;
mod state_unit;
mod vectors;
mod wire;
