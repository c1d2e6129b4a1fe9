//! Snapshot load + text, converge against Loro 1.17, and (concurrent histories) history load +
//! text, converge against yrs 0.28, each loader timed in a process of its own; in both tables
//! also the converge `Doc` users open: `Doc::load` of its `save()` + `text` (the document
//! replayed one edit per call, or one `Doc` per author for the concurrent traces).
//!
//! In one process, a loader's time depends on what ran before it: `text_report`'s round robin
//! measured Loro's load 10–15% apart after a change to one of *our* loads earlier in the round
//! (perf/text.md, "Load, sixth round"). Here the parent writes every snapshot to a temporary
//! directory once, then starts one child process per loader and round, alternating loaders,
//! and keeps each loader's best. A child times its loader two ways:
//!
//! * **warm**: best of `runs` loads back to back (the branch predictor and caches trained by
//!   the same load);
//! * **cold**: best of `runs` loads, each right after [`scramble`] (a loop of random branches
//!   over 1.6 MB, which also evicts the caches), as when a program loads one document among
//!   other work.
//!
//! Each child runs twice over, with glibc's default heap and with one that keeps its pages
//! (see [`HEAPS`]). Every child checks its loaded text against the trace's final content
//! before timing. A child whose first load takes long (the `Doc` today) times fewer loads:
//! as many as fit in [`CHILD_BUDGET`], at least 3, at most `runs`.
//!
//! The snapshot table covers the sequential traces, friendsforever and the two- and
//! eight-agent synthetic traces of `concurrent_report` (their final state, one replica per
//! agent). The second table loads the full history of the concurrent ones: converge's
//! `Text::decode` against yrs applying its v1 state update to an empty document.
//!
//! ```text
//! cargo run --release -p converge-benches --bin load_compare [rounds] [runs]
//! cargo run -p converge-benches --bin load_compare -- --smoke   # one load each, shipped traces
//! ```

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use converge::doc::Doc;
use converge::list::{Text, TextSnapshot};
use converge_benches::synth::{concurrent_trace, measured_shapes};
use converge_benches::{
    SEQUENTIAL, Trace, doc_text, load_trace, replay_concurrent, replay_concurrent_doc,
    replay_concurrent_loro, replay_concurrent_yrs, replay_converge, replay_doc_edits, replay_loro,
    scramble, yrs_load, yrs_text,
};

/// The snapshot loaders compared: the name a child is given and the column it fills.
const LOADERS: [&str; 5] = ["view", "view_edit", "editable", "doc", "loro"];

/// The history loaders compared.
const HISTORY_LOADERS: [&str; 3] = ["history", "doc", "yrs"];

/// How long a child spends on each of its warm and cold series at most (see the module docs).
const CHILD_BUDGET: f64 = 2.0;

/// The two heaps the children run with: glibc's defaults, where freeing a large block can hand
/// its pages back to the OS so the next load faults them in again, and a heap that keeps its
/// pages (mmap and trim thresholds raised), as in a process that has run for a while. The
/// second compares the libraries' code; the first adds what each pays the OS.
const HEAPS: [(&str, Option<&str>); 2] = [
    (
        "glibc malloc defaults (fresh process: pages returned to the OS and faulted in again)",
        None,
    ),
    (
        "heap kept (GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456)",
        Some("glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=268435456"),
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(&args[1..]);
    }
    // `--smoke` (the test command): one load per loader, shipped traces only.
    let smoke = args.first().map(String::as_str) == Some("--smoke");
    let number =
        |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (rounds, runs) = if smoke {
        (1, 1)
    } else {
        (number(0, 5), number(1, 200))
    };
    let dir = std::env::temp_dir().join(format!("converge-load-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut snapshots: Vec<String> = Vec::new();
    // Smoke runs (debug builds) load the `Doc` of the two small traces only: its load replays
    // the whole update history today, seconds per trace unoptimized.
    for name in SEQUENTIAL {
        let with_doc = !smoke || name == "json-crdt-patch";
        write_snapshots(&dir, name, &load_trace(name), false, with_doc);
        snapshots.push(name.to_string());
    }
    let friends = load_trace("friendsforever");
    write_snapshots(&dir, "friendsforever", &friends, true, true);
    write_histories(&dir, "friendsforever", &friends);
    snapshots.push("friendsforever".to_string());
    let mut histories = vec!["friendsforever".to_string()];
    for (_, shape, seed) in measured_shapes()
        .into_iter()
        .filter(|(_, s, _)| s.agents <= 8 && !smoke)
    {
        let name = format!("synthetic-{}", shape.agents);
        let trace = concurrent_trace(shape, seed);
        write_snapshots(&dir, &name, &trace, true, true);
        write_histories(&dir, &name, &trace);
        snapshots.push(name.clone());
        histories.push(name);
    }

    println!(
        "snapshot load + text, each loader in its own process: best of {rounds} processes \
         (loaders alternated) × {runs} loads; warm = loads back to back, cold = each load after \
         a loop of random branches over 1.6 MB; view = `TextSnapshot::decode` (the text, no \
         replica), view + to_text = that, then `to_text` (the editable replica, checked against \
         the text shown), editable = `Text::decode_snapshot` + `to_string`, Doc = `Doc::load` of \
         the document's `save()` + `text` (fewer loads when one takes long: as many as fit in \
         {CHILD_BUDGET} s, at least 3), Loro = `LoroDoc::from_snapshot` + \
         `get_text(\"text\").to_string()`"
    );
    for (heap, tunables) in HEAPS {
        println!("\n{heap}\n");
        let labels = ["view", "view + to_text", "editable", "Doc", "Loro"];
        table(
            &dir,
            &snapshots,
            &LOADERS,
            &labels,
            &[(0, 4), (2, 4), (3, 4)],
            (rounds, runs),
            tunables,
        );
    }

    println!(
        "\nhistory load + text of concurrent traces, each loader in its own process, as above; \
         converge = `Text::decode` + `to_string`, Doc = `Doc::load` of the document's `save()` \
         (today its update history) + `text`, yrs = `apply_update` of its v1 state update to an \
         empty `Doc` + `get_string`"
    );
    for (heap, tunables) in HEAPS {
        println!("\n{heap}\n");
        let labels = ["converge", "Doc", "yrs"];
        table(
            &dir,
            &histories,
            &HISTORY_LOADERS,
            &labels,
            &[(0, 2), (1, 2)],
            (rounds, runs),
            tunables,
        );
    }
    std::fs::remove_dir_all(&dir).expect("remove the temporary directory");
}

/// Writes `<name>.history`, `<name>.yrs` (converge's encoded history, yrs's v1 state update)
/// and `<name>.txt` for the concurrent `trace` into `dir`.
fn write_histories(dir: &Path, name: &str, trace: &Trace) {
    let doc = replay_concurrent(trace).swap_remove(0);
    let yrs_doc = replay_concurrent_yrs(trace).swap_remove(0);
    assert_eq!(yrs_text(&yrs_doc), trace.end_content);
    let update = {
        use yrs::{ReadTxn, Transact};
        (yrs_doc.transact()).encode_state_as_update_v1(&yrs::StateVector::default())
    };
    let write = |ext: &str, bytes: &[u8]| {
        std::fs::write(dir.join(format!("{name}.{ext}")), bytes).expect("write a history");
    };
    write("history", &doc.encode());
    write("yrs", &update);
    write("txt", trace.end_content.as_bytes());
}

/// Writes `<name>.converge`, `<name>.loro` (the two snapshots), with `with_doc` `<name>.doc`
/// (the `Doc`'s `save()`), and `<name>.txt` (the final text) for `trace` (replayed one replica
/// per agent if `concurrent`) into `dir`.
fn write_snapshots(dir: &Path, name: &str, trace: &Trace, concurrent: bool, with_doc: bool) {
    let (doc, loro) = if concurrent {
        let doc = replay_concurrent(trace).swap_remove(0);
        (doc, replay_concurrent_loro(trace))
    } else {
        let patches = trace.patches();
        (replay_converge(&patches), replay_loro(&patches))
    };
    let saved = with_doc.then(|| {
        let mut doc = if concurrent {
            replay_concurrent_doc(trace).swap_remove(0)
        } else {
            replay_doc_edits(&trace.patches())
        };
        let text = doc_text(&mut doc);
        assert_eq!(doc.text(text).expect("a text container"), trace.end_content);
        doc.save().expect("no transaction open")
    });
    let loro_snapshot = loro
        .export(loro::ExportMode::Snapshot)
        .expect("loro snapshot");
    let write = |ext: &str, bytes: &[u8]| {
        std::fs::write(dir.join(format!("{name}.{ext}")), bytes).expect("write a snapshot");
    };
    write("converge", &doc.snapshot());
    write("loro", &loro_snapshot);
    if let Some(saved) = saved {
        write("doc", &saved);
    }
    write("txt", trace.end_content.as_bytes());
}

/// Prints one table: per trace in `names` (files under `dir`), each loader's best warm and
/// cold time (columns headed by `labels`) over `rounds` rounds of `runs` loads, each round
/// running one child per loader in turn; then, for each pair in `ratios`, the first loader's
/// times over the second's. A loader whose input file is missing (the `Doc`'s in smoke runs)
/// gets `–`.
fn table(
    dir: &Path,
    names: &[String],
    loaders: &[&str],
    labels: &[&str],
    ratios: &[(usize, usize)],
    (rounds, runs): (usize, usize),
    tunables: Option<&str>,
) {
    let mut head = String::from("| trace |");
    for l in labels {
        head += &format!(" {l} warm | {l} cold |");
    }
    for &(a, b) in ratios {
        let (a, b) = (labels[a], labels[b]);
        head += &format!(" {a} ÷ {b}, warm | {a} ÷ {b}, cold |");
    }
    println!("{head}");
    println!(
        "| --- |{}",
        " ---: |".repeat(2 * (labels.len() + ratios.len()))
    );
    for name in names {
        let mut best = vec![[f64::MAX; 2]; loaders.len()];
        for _ in 0..rounds {
            for (loader, best) in loaders.iter().zip(&mut best) {
                if *loader == "doc" && !dir.join(format!("{name}.doc")).exists() {
                    continue;
                }
                let [warm, cold] = run_child(&dir.join(name), loader, runs, tunables);
                best[0] = best[0].min(warm);
                best[1] = best[1].min(cold);
            }
        }
        let mut row = format!("| {name} |");
        let ran = |t: &[f64; 2]| t[0] < f64::MAX;
        for t @ [warm, cold] in &best {
            if ran(t) {
                row += &format!(" {warm:.1} µs | {cold:.1} µs |");
            } else {
                row += " – | – |";
            }
        }
        for &(a, b) in ratios {
            let (x, y) = (best[a], best[b]);
            if ran(&x) && ran(&y) {
                row += &format!(" {:.2}× | {:.2}× |", x[0] / y[0], x[1] / y[1]);
            } else {
                row += " – | – |";
            }
        }
        println!("{row}");
    }
}

/// Runs one child process; its `[warm, cold]` best times in µs.
fn run_child(prefix: &Path, loader: &str, runs: usize, tunables: Option<&str>) -> [f64; 2] {
    let mut command = Command::new(std::env::current_exe().expect("own path"));
    match tunables {
        Some(t) => command.env("GLIBC_TUNABLES", t),
        None => command.env_remove("GLIBC_TUNABLES"),
    };
    let out = command
        .arg("--child")
        .arg(prefix)
        .arg(loader)
        .arg(runs.to_string())
        .output()
        .expect("start a child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child {loader} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>());
    match (fields.next(), fields.next()) {
        (Some(Ok(warm)), Some(Ok(cold))) => [warm, cold],
        _ => panic!("child {loader} printed {text:?}"),
    }
}

/// A child: `<prefix> <loader> <runs>`; prints the warm and cold best times in µs.
fn child(args: &[String]) {
    let prefix = PathBuf::from(&args[0]);
    let loader = args[1].as_str();
    let runs: usize = args[2].parse().expect("runs");
    let read = |ext: &str| std::fs::read(prefix.with_extension(ext)).expect("read an input");
    let expected = String::from_utf8(read("txt")).expect("UTF-8 text");
    // Which file each loader reads, and how it loads it.
    let (ext, load): (&str, fn(&[u8]) -> String) = match loader {
        "view" => ("converge", |b| {
            TextSnapshot::decode(b).expect("view").into_string()
        }),
        "view_edit" => ("converge", |b| {
            let view = TextSnapshot::decode(b).expect("view");
            black_box(view.to_text().expect("replica from the view"));
            view.into_string()
        }),
        "editable" => ("converge", |b| {
            Text::decode_snapshot(b).expect("editable").to_string()
        }),
        "loro" => ("loro", |b| {
            let doc = loro::LoroDoc::from_snapshot(b).expect("loro load");
            doc.get_text("text").to_string()
        }),
        "history" => ("history", |b| Text::decode(b).expect("history").to_string()),
        "doc" => ("doc", |b| {
            let mut doc = Doc::load(b).expect("own save loads");
            let text = doc_text(&mut doc);
            doc.text(text).expect("a text container")
        }),
        "yrs" => ("yrs", |b| yrs_text(&yrs_load(b))),
        other => panic!("unknown loader {other}"),
    };
    let bytes = read(ext);
    let load = move || load(&bytes);
    let time = |f: &dyn Fn() -> String| {
        let t = Instant::now();
        black_box(f());
        t.elapsed().as_secs_f64() * 1e6
    };
    let t = Instant::now();
    assert_eq!(load(), expected, "{loader} loads the trace's text");
    let first = t.elapsed().as_secs_f64();
    let runs = runs.min(((CHILD_BUDGET / first) as usize).max(3));
    let warm = (0..runs).map(|_| time(&load)).fold(f64::MAX, f64::min);
    let mut junk = vec![0u64; 200_000];
    let cold = (0..runs)
        .map(|i| {
            scramble(&mut junk, i);
            time(&load)
        })
        .fold(f64::MAX, f64::min);
    println!("{warm} {cold}");
}
