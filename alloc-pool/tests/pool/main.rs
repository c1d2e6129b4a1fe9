//! Tests of converge-pool's public API. Everything except the proptests is small enough to run
//! under Miri (`cargo +nightly miri test -p converge-pool`).

mod arena;
mod budget;
mod model;
mod scratch;
mod support;
