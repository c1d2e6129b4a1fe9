//! Benchmarks for converge (see perf/README.md).
