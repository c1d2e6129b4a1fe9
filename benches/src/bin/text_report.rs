//! Prints the text CRDT figures recorded in `perf/text.md`: ns per patch (best of N runs),
//! heap held after a replay (counting allocator), encoded size, and load (+ `to_string`) time,
//! for converge and, where they have an equivalent, diamond-types 1.0 and jumprope.
//!
//! ```text
//! cargo run --release -p converge-benches --bin text_report [runs]
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use converge::list::Text;
use converge_benches::{
    CountingAlloc, SEQUENTIAL, allocated_bytes, load_trace, replay_concurrent, replay_converge,
    replay_diamond, replay_jumprope,
};
use diamond_types::list::ListCRDT;
use diamond_types::list::encoding::EncodeOptions;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .min()
        .expect("at least one run")
}

/// Heap bytes still held by the value `f` builds (allocations made and kept).
fn held<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = allocated_bytes();
    let v = f();
    (v, allocated_bytes().saturating_sub(before))
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!("best of {runs} runs; heap = bytes held after the replay (counting allocator)\n");
    println!(
        "| trace | engine | ns/patch | heap after replay | encoded bytes | load + to_string |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for name in SEQUENTIAL {
        let trace = load_trace(name);
        let patches = trace.patches();
        let n = patches.len() as f64;

        let t = best(runs, || replay_converge(&patches));
        let (doc, heap) = held(|| replay_converge(&patches));
        assert_eq!(doc.to_string(), trace.end_content);
        let bytes = doc.encode();
        let load = best(runs, || Text::decode(&bytes).unwrap().to_string());
        println!(
            "| {name} | converge | {:.0} | {} | {} | {:.2} ms |",
            t.as_nanos() as f64 / n,
            heap,
            bytes.len(),
            load.as_secs_f64() * 1e3
        );
        drop(doc);

        let t = best(runs, || replay_diamond(&patches));
        let (dt, heap) = held(|| replay_diamond(&patches));
        let dt_bytes = dt.oplog.encode(EncodeOptions::default());
        let load = best(runs, || {
            ListCRDT::load_from(&dt_bytes)
                .unwrap()
                .branch
                .content()
                .to_string()
        });
        println!(
            "| {name} | diamond-types 1.0 | {:.0} | {} | {} | {:.2} ms |",
            t.as_nanos() as f64 / n,
            heap,
            dt_bytes.len(),
            load.as_secs_f64() * 1e3
        );
        drop(dt);

        let t = best(runs, || replay_jumprope(&patches));
        let (rope, heap) = held(|| replay_jumprope(&patches));
        println!(
            "| {name} | jumprope (plain rope) | {:.0} | {} | – | – |",
            t.as_nanos() as f64 / n,
            heap
        );
        drop(rope);
    }
    let trace = load_trace("friendsforever");
    let t = best(runs, || replay_concurrent(&trace));
    let reps = replay_concurrent(&trace);
    assert!(reps.iter().all(|r| r.to_string() == trace.end_content));
    let patches: usize = trace.txns.iter().map(|t| t.patches.len()).sum();
    println!(
        "\nfriendsforever (concurrent, {} agents, {} txns, {patches} patches): converge replay {:.2} ms, encoded {} bytes",
        reps.len(),
        trace.txns.len(),
        t.as_secs_f64() * 1e3,
        reps[0].encode().len()
    );
}
