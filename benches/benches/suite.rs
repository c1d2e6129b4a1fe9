//! The community crdt-benchmarks suite (B1–B4) and the state merges (S1–S3) on converge (the
//! bare engine, `converge`, and the document, `converge_Doc`), under criterion. The workloads are the `compare` command's own (benches/src/compare/), so each
//! iteration verifies its result exactly as the side-by-side run does; criterion times the
//! same timed section the workload reports.
//!
//! `cargo bench -p converge-benches --bench suite`.
//! Peers are timed side by side by `cargo run --release -p converge-benches --bin compare`.

#[allow(dead_code)]
#[path = "../src/compare/mod.rs"]
mod compare;

use std::time::Duration;

use compare::Cap;
use compare::workloads::{Sizes, suite};
use converge_benches::CountingAlloc;
use criterion::{Criterion, criterion_group, criterion_main};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn crdt_benchmarks(c: &mut Criterion) {
    let sizes = Sizes {
        n: 6000,
        b4_prefix: None,
        b4_times: 100,
    };
    let mut workloads = suite(&sizes);
    workloads.extend(compare::state::workloads(sizes.n));
    for workload in workloads {
        let mut group = c.benchmark_group(workload.id.replace('.', "_"));
        group.sample_size(10);
        for (lib, run) in &workload.runs {
            if !lib.starts_with("converge") {
                continue;
            }
            group.bench_function(lib.replace(' ', "_"), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        match run(&Cap::new(Duration::from_secs(120))) {
                            Ok(measured) => total += measured.time,
                            Err(failure) => panic!("{} {lib} gave {failure:?}", workload.id),
                        }
                    }
                    total
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, crdt_benchmarks);
criterion_main!(benches);
