//! Integration tests for `converge`, in one binary.

mod fixed;
mod list_props;
mod list_traces;
mod state_laws;
mod state_unit;
mod wire;
