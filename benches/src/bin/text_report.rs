//! Prints the text CRDT figures recorded in `perf/text.md`: ns per patch (best of N runs),
//! heap held after a replay (counting allocator), encoded size, and load (+ `to_string`) time,
//! for converge and, where they have an equivalent, diamond-types 1.0 and jumprope; then the
//! concurrent friendsforever replay, its encoded size and its load (+ `to_string`) time;
//! finally the load table: converge's state snapshot (`TextSnapshot` and editable load), its
//! history load, and Loro 1.17's snapshot load, all in this process on the same traces.
//!
//! The load comparison with Loro here is in-process (the heap shaped by everything that ran
//! before), which measured Loro 15–40% slower than its own process does; `load_compare` times
//! each loader in a process of its own and is the comparison of record (perf/text.md).
//!
//! ```text
//! cargo run --release -p converge-benches --bin text_report [runs]
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use converge::list::{Text, TextSnapshot};
use converge_benches::{
    CountingAlloc, SEQUENTIAL, allocated_bytes, best_round_robin, load_trace, replay_concurrent,
    replay_concurrent_loro, replay_converge, replay_diamond, replay_jumprope, replay_loro,
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

/// One row of the load table: converge's snapshot (`TextSnapshot`, editable load), its history
/// load and the heap the loaded replica holds, and Loro's snapshot load; times are best of
/// `runs`, every loaded text is checked against `expected`.
fn load_row(name: &str, doc: &Text, loro_doc: &loro::LoroDoc, expected: &str, runs: usize) {
    let history = doc.encode();
    let snapshot = doc.snapshot();
    let view = TextSnapshot::decode(&snapshot).expect("own snapshot");
    assert_eq!(view.as_str(), expected);
    assert_eq!(
        Text::decode_snapshot(&snapshot)
            .expect("editable")
            .to_string(),
        expected
    );
    let loro_snap = loro_doc
        .export(loro::ExportMode::Snapshot)
        .expect("loro snapshot");
    let loro_back = loro::LoroDoc::from_snapshot(&loro_snap).expect("loro load");
    assert_eq!(loro_back.get_text("text").to_string(), expected);
    let (loaded, heap) = held(|| Text::decode(&history).expect("history"));
    drop(loaded);

    // Round robin, so every load runs in the same conditions (allocator state, caches, branch
    // history): timed one after another in blocks, the figures depended on which ran before.
    let [t_view, t_edit, t_hist, t_loro] = best_round_robin(
        runs,
        [
            // The shown text and the snapshot's bytes, held until dropped here.
            &mut || {
                black_box(TextSnapshot::decode(&snapshot).expect("view"));
            },
            &mut || {
                black_box(
                    Text::decode_snapshot(&snapshot)
                        .expect("editable")
                        .to_string(),
                );
            },
            &mut || {
                black_box(Text::decode(&history).expect("history").to_string());
            },
            &mut || {
                black_box(
                    loro::LoroDoc::from_snapshot(&loro_snap)
                        .expect("loro load")
                        .get_text("text")
                        .to_string(),
                );
            },
        ],
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| {name} | {} | {} | {:.3} ms | {:.3} ms | {:.3} ms | {heap} | {} | {:.3} ms |",
        history.len(),
        snapshot.len(),
        ms(t_view),
        ms(t_edit),
        ms(t_hist),
        loro_snap.len(),
        ms(t_loro)
    );
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
    let mut for_load = Vec::new();
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
            "| {name} | converge | {:.0} | {} | {} | {:.3} ms |",
            t.as_nanos() as f64 / n,
            heap,
            bytes.len(),
            load.as_secs_f64() * 1e3
        );
        let doc_again = doc;
        let loro_doc = replay_loro(&patches);
        assert_eq!(loro_doc.get_text("text").to_string(), trace.end_content);
        for_load.push((name, doc_again.clone(), loro_doc, trace.end_content.clone()));

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
            "| {name} | diamond-types 1.0 | {:.0} | {} | {} | {:.3} ms |",
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
        let rope_str = best(runs, || rope.to_string());
        let conv_str = best(runs, || doc_again.to_string());
        println!(
            "| {name} | to_string only | converge {:.3} ms, jumprope {:.3} ms | | | |",
            conv_str.as_secs_f64() * 1e3,
            rope_str.as_secs_f64() * 1e3
        );
        drop(rope);
    }
    let trace = load_trace("friendsforever");
    let t = best(runs, || replay_concurrent(&trace));
    let reps = replay_concurrent(&trace);
    assert!(reps.iter().all(|r| r.to_string() == trace.end_content));
    let patches: usize = trace.txns.iter().map(|t| t.patches.len()).sum();
    let bytes = reps[0].encode();
    let back = Text::decode(&bytes).unwrap();
    assert_eq!(back.to_string(), trace.end_content);
    assert_eq!(back.version(), reps[0].version());
    let load = best(runs, || Text::decode(&bytes).unwrap().to_string());
    println!(
        "\nfriendsforever (concurrent, {} agents, {} txns, {patches} patches): converge replay {:.2} ms, encoded {} bytes, load + to_string {:.3} ms",
        reps.len(),
        trace.txns.len(),
        t.as_secs_f64() * 1e3,
        bytes.len(),
        load.as_secs_f64() * 1e3
    );
    let loro_doc = replay_concurrent_loro(&trace);
    assert_eq!(loro_doc.get_text("text").to_string(), trace.end_content);
    for_load.push((
        "friendsforever",
        reps.into_iter().next().expect("one replica"),
        loro_doc,
        trace.end_content.clone(),
    ));

    println!(
        "\nload + text (best of {runs}): converge snapshot view = `TextSnapshot::decode` \
         (the shown text and version; the replica is loaded by `to_text`); converge \
         editable = `Text::decode_snapshot` + `to_string`; converge history = `Text::decode` + \
         `to_string`; Loro = `LoroDoc::from_snapshot` + `get_text(\"text\").to_string()`\n"
    );
    println!(
        "| trace | converge history B | converge snapshot B | converge snapshot view | converge editable from snapshot | converge history load | converge heap after load | Loro snapshot B | Loro snapshot load |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, doc, loro_doc, expected) in &for_load {
        load_row(name, doc, loro_doc, expected, runs);
    }
}
