//! Text CRDT benchmarks on the real editing traces, converge next to diamond-types 1.0 and
//! jumprope (a plain rope: the floor for any CRDT). Run:
//!
//! ```text
//! cargo bench -p converge-benches --bench text -- --warm-up-time 0.5 --measurement-time 2
//! ```

use converge::list::Text;
use converge::{ReplicaId, VersionVector};
use converge_benches::{
    SEQUENTIAL, load_trace, replay_concurrent, replay_converge, replay_diamond, replay_jumprope,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diamond_types::list::ListCRDT;
use diamond_types::list::encoding::EncodeOptions;
use std::hint::black_box;

fn sequential(c: &mut Criterion) {
    for name in SEQUENTIAL {
        let trace = load_trace(name);
        let patches = trace.patches();
        let mut g = c.benchmark_group(format!("text/{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(patches.len() as u64));

        // One local call per patch.
        g.bench_function("converge/local", |b| {
            b.iter(|| black_box(replay_converge(&patches)))
        });
        // The whole history as one batch of remote operations, applied in one call.
        let doc = replay_converge(&patches);
        assert_eq!(doc.to_string(), trace.end_content);
        let ops = doc.ops_since(&VersionVector::new());
        g.bench_function("converge/apply_batch", |b| {
            b.iter(|| {
                let mut t = Text::new(ReplicaId(2));
                t.apply(&ops).unwrap();
                black_box(t)
            })
        });
        let bytes = doc.encode();
        g.bench_function("converge/decode", |b| {
            b.iter(|| black_box(Text::decode(&bytes).unwrap()))
        });

        g.bench_function("diamond_types/local", |b| {
            b.iter(|| black_box(replay_diamond(&patches)))
        });
        let dt = replay_diamond(&patches);
        let dt_bytes = dt.oplog.encode(EncodeOptions::default());
        g.bench_function("diamond_types/load", |b| {
            b.iter(|| black_box(ListCRDT::load_from(&dt_bytes).unwrap()))
        });

        g.bench_function("jumprope/local", |b| {
            b.iter(|| black_box(replay_jumprope(&patches)))
        });
        g.finish();
    }
}

fn concurrent(c: &mut Criterion) {
    let trace = load_trace("friendsforever");
    let mut g = c.benchmark_group("text/friendsforever");
    g.sample_size(10);
    g.bench_function("converge/replay_concurrent", |b| {
        b.iter(|| black_box(replay_concurrent(&trace)))
    });
    g.finish();
}

criterion_group!(benches, sequential, concurrent);
criterion_main!(benches);
