//! Prints the text CRDT figures recorded in `perf/text.md`: ns per patch (best of N runs),
//! heap held after a replay (counting allocator), encoded size, and load (+ `to_string`) time,
//! for converge (the bare engine `list::Text`, and the `Doc` users edit through: one
//! `text_insert`/`text_delete` per patch, implicit transactions, `save()`, `Doc::load` + `text`)
//! and, where they have an equivalent, diamond-types 1.0 and jumprope; then the concurrent
//! friendsforever replay (engine, one `Doc` per author exchanging update bytes, and yrs), its
//! encoded size and its load (+ `to_string`) time; then the load table: converge's state
//! snapshot (`TextSnapshot` and editable load), its history load, the `Doc`'s load, and
//! Loro 1.17's snapshot load, all in this process on the same traces; finally the `Doc`'s
//! figures as ratios to the engine's and the peers' (the targets of issue 16).
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

use converge::doc::Doc;
use converge::list::{Text, TextSnapshot};
use converge_benches::{
    CountingAlloc, SEQUENTIAL, allocated_bytes, best_round_robin, doc_history, doc_text,
    load_trace, replay_concurrent, replay_concurrent_doc, replay_concurrent_loro,
    replay_concurrent_yrs, replay_converge, replay_diamond, replay_doc_edits, replay_jumprope,
    replay_loro, yrs_load, yrs_text,
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

/// `Doc::load` + the root text, as a user opening a saved document reads it.
fn doc_load_text(bytes: &[u8]) -> String {
    let mut doc = Doc::load(bytes).expect("own save loads");
    let text = doc_text(&mut doc);
    doc.text(text).expect("a text container")
}

/// The `Doc`'s figures on one trace beside the engine's and the peers' (the issue 16 targets).
#[derive(Default)]
struct Targets {
    name: &'static str,
    /// Replay time: Doc, engine, diamond-types (sequential) or yrs (concurrent).
    doc_time: Duration,
    engine_time: Duration,
    peer_time: Duration,
    /// Heap held after the replay: Doc, engine (sequential only).
    doc_heap: usize,
    engine_heap: usize,
    /// `save()` bytes, the history export if any, and the peers' sizes: Loro's snapshot
    /// (sequential) or yrs' full-state update (concurrent), diamond-types' encoding.
    doc_saved: usize,
    doc_history: Option<usize>,
    peer_saved: usize,
    dt_bytes: Option<usize>,
    /// Load + read: Doc, and Loro's snapshot (sequential) or yrs' update (concurrent).
    doc_load: Duration,
    peer_load: Duration,
}

/// One row of the load table: converge's snapshot (`TextSnapshot`, editable load), its history
/// load and the heap the loaded replica holds, the `Doc`'s load from `saved` (its `save()`
/// bytes), and Loro's snapshot load; times are best of `runs`, every loaded text is checked
/// against `expected`. Returns the `Doc`'s and Loro's load + text times.
fn load_row(
    name: &str,
    doc: &Text,
    saved: &[u8],
    loro_doc: &loro::LoroDoc,
    expected: &str,
    runs: usize,
) -> (Duration, Duration) {
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
    assert_eq!(doc_load_text(saved), expected);

    // Round robin, so every load runs in the same conditions (allocator state, caches, branch
    // history): timed one after another in blocks, the figures depended on which ran before.
    let [t_view, t_edit, t_hist, t_doc, t_loro] = best_round_robin(
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
                black_box(doc_load_text(saved));
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
        "| {name} | {} | {} | {:.3} ms | {:.3} ms | {:.3} ms | {heap} | {} | {:.3} ms | {} | {:.3} ms |",
        history.len(),
        snapshot.len(),
        ms(t_view),
        ms(t_edit),
        ms(t_hist),
        saved.len(),
        ms(t_doc),
        loro_snap.len(),
        ms(t_loro)
    );
    (t_doc, t_loro)
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
    let mut targets = Vec::new();
    for name in SEQUENTIAL {
        let trace = load_trace(name);
        let patches = trace.patches();
        let n = patches.len() as f64;
        let mut row = Targets {
            name,
            ..Targets::default()
        };

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
        (row.engine_time, row.engine_heap) = (t, heap);

        // The same patches through the document: one call per insert or delete.
        let t = best(runs, || replay_doc_edits(&patches));
        let (mut ddoc, heap) = held(|| replay_doc_edits(&patches));
        let text = doc_text(&mut ddoc);
        assert_eq!(ddoc.text(text).expect("text"), trace.end_content);
        let saved = ddoc.save().expect("no transaction open");
        let history = doc_history(&ddoc);
        if let Some(history) = &history {
            assert_eq!(doc_load_text(history), trace.end_content);
        }
        drop(ddoc);
        let load = best(runs, || doc_load_text(&saved));
        println!(
            "| {name} | converge Doc | {:.0} | {} | {}{} | {:.3} ms |",
            t.as_nanos() as f64 / n,
            heap,
            saved.len(),
            history
                .as_ref()
                .map_or(String::new(), |h| format!(" (history {})", h.len())),
            load.as_secs_f64() * 1e3
        );
        row.doc_time = t;
        row.doc_heap = heap;
        row.doc_saved = saved.len();
        row.doc_history = history.as_ref().map(Vec::len);

        let doc_again = doc;
        let loro_doc = replay_loro(&patches);
        assert_eq!(loro_doc.get_text("text").to_string(), trace.end_content);
        for_load.push((
            name,
            doc_again.clone(),
            saved,
            loro_doc,
            trace.end_content.clone(),
        ));

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
        row.peer_time = t;
        row.dt_bytes = Some(dt_bytes.len());
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
        targets.push(row);
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
    let mut row = Targets {
        name: "friendsforever",
        engine_time: t,
        ..Targets::default()
    };

    // One `Doc` per author, updates exchanged as bytes; and yrs, replayed the same way.
    assert!(trace.end_content.is_ascii(), "yrs counts UTF-8 bytes");
    let t = best(runs, || replay_concurrent_doc(&trace));
    let mut docs = replay_concurrent_doc(&trace);
    for doc in &mut docs {
        let text = doc_text(doc);
        assert_eq!(doc.text(text).expect("text"), trace.end_content);
    }
    let saved = docs[0].save().expect("no transaction open");
    let history = doc_history(&docs[0]);
    if let Some(history) = &history {
        assert_eq!(doc_load_text(history), trace.end_content);
    }
    drop(docs);
    let load = best(runs, || doc_load_text(&saved));
    println!(
        "friendsforever through one converge Doc per author (updates as bytes): replay {:.2} ms, save() {} bytes{}, Doc::load + text {:.3} ms",
        t.as_secs_f64() * 1e3,
        saved.len(),
        history
            .as_ref()
            .map_or(String::new(), |h| format!(", history {} bytes", h.len())),
        load.as_secs_f64() * 1e3
    );
    (row.doc_time, row.doc_saved, row.doc_history) =
        (t, saved.len(), history.as_ref().map(Vec::len));
    let t = best(runs, || replay_concurrent_yrs(&trace));
    let yrs_docs = replay_concurrent_yrs(&trace);
    assert!(yrs_docs.iter().all(|d| yrs_text(d) == trace.end_content));
    let update = {
        use yrs::{ReadTxn, Transact};
        (yrs_docs[0].transact()).encode_state_as_update_v1(&yrs::StateVector::default())
    };
    drop(yrs_docs);
    assert_eq!(yrs_text(&yrs_load(&update)), trace.end_content);
    let [t_doc, t_yrs] = best_round_robin(
        runs,
        [
            &mut || {
                black_box(doc_load_text(&saved));
            },
            &mut || {
                black_box(yrs_text(&yrs_load(&update)));
            },
        ],
    );
    println!(
        "friendsforever through yrs 0.28 (one Doc per author): replay {:.2} ms, full-state update {} bytes; load + text, round robin: converge Doc {:.3} ms, yrs {:.3} ms",
        t.as_secs_f64() * 1e3,
        update.len(),
        t_doc.as_secs_f64() * 1e3,
        t_yrs.as_secs_f64() * 1e3
    );
    (row.peer_time, row.peer_saved) = (t, update.len());
    (row.doc_load, row.peer_load) = (t_doc, t_yrs);
    let concurrent = row;

    let loro_doc = replay_concurrent_loro(&trace);
    assert_eq!(loro_doc.get_text("text").to_string(), trace.end_content);
    for_load.push((
        "friendsforever",
        reps.into_iter().next().expect("one replica"),
        saved,
        loro_doc,
        trace.end_content.clone(),
    ));

    println!(
        "\nload + text (best of {runs}): converge snapshot view = `TextSnapshot::decode` \
         (the shown text and version; the replica is loaded by `to_text`); converge \
         editable = `Text::decode_snapshot` + `to_string`; converge history = `Text::decode` + \
         `to_string`; converge Doc = `Doc::load` of its `save()` + `text`; Loro = \
         `LoroDoc::from_snapshot` + `get_text(\"text\").to_string()`\n"
    );
    println!(
        "| trace | converge history B | converge snapshot B | converge snapshot view | converge editable from snapshot | converge history load | converge heap after load | converge Doc save B | converge Doc load | Loro snapshot B | Loro snapshot load |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (name, doc, saved, loro_doc, expected) in &for_load {
        let (t_doc, t_loro) = load_row(name, doc, saved, loro_doc, expected, runs);
        if let Some(row) = targets.iter_mut().find(|r| r.name == *name) {
            row.peer_saved = loro_doc
                .export(loro::ExportMode::Snapshot)
                .expect("loro snapshot")
                .len();
            (row.doc_load, row.peer_load) = (t_doc, t_loro);
        }
    }
    print_targets(&targets, &concurrent);
}

/// The `Doc`'s figures as ratios, beside the targets of issue 16 (below 1: the `Doc` is
/// faster or smaller).
fn print_targets(sequential: &[Targets], concurrent: &Targets) {
    let ratio = |a: f64, b: f64| format!("{:.2}×", a / b);
    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "\nconverge Doc against the engine and the peers (sequential: one edit per call, \
         implicit transactions; Loro figures from the load table above)\n"
    );
    println!(
        "| trace | Doc ÷ engine time (target ≤ 1.5) | Doc ÷ diamond-types time (≤ 0.8) | Doc heap ÷ engine heap (≤ 1.25) | Doc save ÷ Loro snapshot B (≤ 0.8) | Doc history ÷ diamond-types B (≤ 1) | Doc load + text ÷ Loro's (≤ 1) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in sequential {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            ratio(secs(r.doc_time), secs(r.engine_time)),
            ratio(secs(r.doc_time), secs(r.peer_time)),
            ratio(r.doc_heap as f64, r.engine_heap as f64),
            ratio(r.doc_saved as f64, r.peer_saved as f64),
            match (r.doc_history, r.dt_bytes) {
                (Some(h), Some(dt)) => ratio(h as f64, dt as f64),
                _ => "no history export yet".into(),
            },
            ratio(secs(r.doc_load), secs(r.peer_load)),
        );
    }
    let c = concurrent;
    println!(
        "\n| trace | Doc ÷ engine replay | Doc ÷ yrs replay (≤ 0.5) | Doc save ÷ yrs full-state update B (≤ 1) | Doc load + text ÷ yrs (≤ 1) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {} | {} | {} | {} |",
        c.name,
        ratio(secs(c.doc_time), secs(c.engine_time)),
        ratio(secs(c.doc_time), secs(c.peer_time)),
        ratio(c.doc_saved as f64, c.peer_saved as f64),
        ratio(secs(c.doc_load), secs(c.peer_load)),
    );
}
