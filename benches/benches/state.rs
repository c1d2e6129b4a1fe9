//! State-CRDT benchmarks: the seed library's headline workloads on converge, and counter,
//! LWW-map and OR-set merges on converge and the `crdts` crate side by side.
//!
//! Every workload checks, before it is timed, that both libraries produce the same result.
//! Run: `cargo bench -p converge-benches --bench state` (results: perf/state.md).

use std::collections::BTreeSet;
use std::hint::black_box;

use converge::{AwSet, Crdt, GCounter, LwwMap, PNCounter, ReplicaId};
use converge_benches::state_inputs::{crdts_lww_merge, lww_pair, set_pair, set_remove};
use crdts::{CmRDT, CvRDT};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

// ---------------------------------------------------------------- seed headline workloads

fn seed_workloads(c: &mut Criterion) {
    let mut g = c.benchmark_group("seed");
    let items: Vec<(u64, u64)> = (0..100).map(|i| (i * 7919, i)).collect();

    // Seed: 13.86 µs for a batch insert of 100 items.
    {
        let mut m = LwwMap::<u64, u64>::new();
        m.insert_batch(ReplicaId(1), &items);
        assert_eq!(m.len(), 100);
        assert_eq!(m.get(&(99 * 7919)), Some(&99));
    }
    g.bench_function("batch_insert_100", |b| {
        b.iter(|| {
            let mut m = LwwMap::<u64, u64>::new();
            let delta = m.insert_batch(ReplicaId(1), black_box(&items));
            black_box((m, delta))
        })
    });

    // Seed: 6.14 µs for creating 100 CRDTs. Measured two ways: 100 empty maps (converge's
    // constructors never allocate, so this is the constructor cost alone), and 100 add-wins
    // sets holding one element each (so the first allocation is included).
    g.bench_function("create_100_empty", |b| {
        b.iter(|| {
            let v: Vec<LwwMap<u64, u64>> = (0..100).map(|_| LwwMap::new()).collect();
            black_box(v)
        })
    });
    g.bench_function("create_100_one_element", |b| {
        b.iter(|| {
            let v: Vec<AwSet<u64>> = (0..100u64)
                .map(|i| {
                    let mut s = AwSet::new();
                    s.insert(ReplicaId(1), black_box(i));
                    s
                })
                .collect();
            black_box(v)
        })
    });

    // Seed: 4.89 µs for 100 merges (here: 100 counter deltas from 10 replicas into one).
    let deltas: Vec<PNCounter> = (0..100u64)
        .map(|i| {
            let mut c = PNCounter::default();
            for _ in 0..=i / 10 {
                c.inc(ReplicaId(i % 10), 1);
            }
            c
        })
        .collect();
    {
        let mut c = PNCounter::default();
        for d in &deltas {
            c.merge(d);
        }
        assert_eq!(c.value(), 10 * 10); // replica r ends at count 10 (its last delta)
    }
    g.bench_function("merge_100", |b| {
        b.iter(|| {
            let mut c = PNCounter::default();
            for d in black_box(&deltas) {
                c.merge(d);
            }
            black_box(c)
        })
    });
    g.finish();
}

// ---------------------------------------------------------------- counters vs crdts

// Two harness settings for the small merges, both reported in perf/state.md.
//
// `SmallInput`/`LargeInput` build thousands of cloned targets per batch and drop them all after
// it. glibc then hands the freed memory back to the kernel (its trim threshold is 128 KiB), so
// in the next batch every byte a merge allocates lands on a fresh page and pays a page fault:
// the timing then measures page zeroing in proportion to the bytes allocated, more than the
// merge. The `*_steady_heap` variants set up a batch small enough to stay under the trim
// threshold (32 counters; one 1,000-key map), the state of a long-running process whose heap
// pages stay mapped. Both libraries always run under the same setting.
const STEADY_SMALL: BatchSize = BatchSize::NumIterations(32);
const STEADY_ONE: BatchSize = BatchSize::NumIterations(1);

fn counter_pair(offset: u64, replicas: u64) -> (GCounter, crdts::GCounter<u64>) {
    let mut ours = GCounter::default();
    let mut theirs = crdts::GCounter::new();
    for r in offset..offset + replicas {
        ours.inc(ReplicaId(r), r + 1);
        theirs.apply(theirs.inc_many(r, r + 1));
    }
    (ours, theirs)
}

fn counter_merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("gcounter_merge_64_replicas");
    let (a, ta) = counter_pair(0, 64);
    let (b, tb) = counter_pair(32, 64);
    {
        let mut x = a.clone();
        x.merge(&b);
        let mut y = ta.clone();
        y.merge(tb.clone());
        assert_eq!(x.value().to_string(), y.read().to_string());
    }
    g.bench_function("converge", |bench| {
        bench.iter_batched_ref(
            || a.clone(),
            |x| x.merge(black_box(&b)),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("crdts", |bench| {
        bench.iter_batched_ref(
            || (ta.clone(), tb.clone()),
            |(x, y)| x.merge(std::mem::take(y)),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("converge_steady_heap", |bench| {
        bench.iter_batched_ref(|| a.clone(), |x| x.merge(black_box(&b)), STEADY_SMALL)
    });
    g.bench_function("crdts_steady_heap", |bench| {
        bench.iter_batched_ref(
            || (ta.clone(), tb.clone()),
            |(x, y)| x.merge(std::mem::take(y)),
            STEADY_SMALL,
        )
    });
    g.finish();
}

// ---------------------------------------------------------------- LWW map vs crdts

fn lww_map_merge(c: &mut Criterion) {
    for n in [1_000u64, 100_000] {
        let mut g = c.benchmark_group(format!("lww_map_merge_{n}"));
        if n > 10_000 {
            g.sample_size(10);
        }
        // Half the keys overlap; b's writes are newer and win on the overlap.
        let (a, ta) = lww_pair(1, 1, 0, n);
        let (b, tb) = lww_pair(2, 2, n / 2, n);
        {
            let mut x = a.clone();
            x.merge(&b);
            let mut y = ta.clone();
            crdts_lww_merge(&mut y, tb.clone());
            let mut xs: Vec<(u64, u64)> = x.iter().map(|(k, v)| (*k, *v)).collect();
            xs.sort_unstable();
            let ys: Vec<(u64, u64)> = y.iter().map(|(k, r)| (*k, r.val)).collect();
            assert_eq!(xs, ys);
            assert_eq!(xs.len() as u64, n + n / 2);
        }
        g.bench_function("converge", |bench| {
            bench.iter_batched_ref(
                || a.clone(),
                |x| x.merge(black_box(&b)),
                BatchSize::LargeInput,
            )
        });
        g.bench_function("crdts", |bench| {
            bench.iter_batched_ref(
                || (ta.clone(), tb.clone()),
                |(x, y)| crdts_lww_merge(x, std::mem::take(y)),
                BatchSize::LargeInput,
            )
        });
        if n <= 1_000 {
            g.bench_function("converge_steady_heap", |bench| {
                bench.iter_batched_ref(|| a.clone(), |x| x.merge(black_box(&b)), STEADY_ONE)
            });
            g.bench_function("crdts_steady_heap", |bench| {
                bench.iter_batched_ref(
                    || (ta.clone(), tb.clone()),
                    |(x, y)| crdts_lww_merge(x, std::mem::take(y)),
                    STEADY_ONE,
                )
            });
        }
        g.finish();
    }
}

// ---------------------------------------------------------------- OR-set vs crdts

fn aw_set_merge(c: &mut Criterion) {
    const N: u64 = 10_000;
    let mut g = c.benchmark_group("aw_set_merge_10000");
    let (a, ta) = set_pair(1, 0, N);
    let (mut b, mut tb) = set_pair(2, N / 2, N);
    // b also removes 1,000 of its own elements, so the merge has removals to process.
    let gone: Vec<u64> = (N / 2..N / 2 + 1_000).collect();
    set_remove(&mut b, &mut tb, &gone);
    {
        let mut x = a.clone();
        x.merge(&b);
        let mut y = ta.clone();
        y.merge(tb.clone());
        let xs: BTreeSet<u64> = x.iter().copied().collect();
        let ys: BTreeSet<u64> = y.read().val.into_iter().collect();
        assert_eq!(xs, ys);
        // a's copies of the overlap survive: b never saw them (add wins).
        assert_eq!(xs.len() as u64, N + N / 2);
    }
    g.bench_function("converge", |bench| {
        bench.iter_batched_ref(
            || a.clone(),
            |x| x.merge(black_box(&b)),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("crdts", |bench| {
        bench.iter_batched_ref(
            || (ta.clone(), tb.clone()),
            |(x, y)| x.merge(std::mem::take(y)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(
    benches,
    seed_workloads,
    counter_merge,
    lww_map_merge,
    aw_set_merge
);
criterion_main!(benches);
