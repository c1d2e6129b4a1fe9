//! A profiling driver: replays one trace `runs` times into converge so `perf record` sees only
//! the engine. `cargo run --release -p converge-benches --bin text_profile [trace] [runs]`
//! (`concurrent` for friendsforever, `decode:<trace>` / `encode:<trace>` for the history codec,
//! `dt:<trace>` / `rope:<trace>` for the peers, so `perf stat` can compare cycles).

use std::hint::black_box;

use converge_benches::{load_trace, replay_concurrent, replay_converge};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "automerge-paper".into());
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    if name == "concurrent" {
        let trace = load_trace("friendsforever");
        for _ in 0..runs {
            black_box(replay_concurrent(&trace));
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("decode:") {
        let bytes = replay_converge(&load_trace(trace).patches()).encode();
        for _ in 0..runs {
            black_box(converge::list::Text::decode(&bytes).unwrap());
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("encode:") {
        let doc = replay_converge(&load_trace(trace).patches());
        for _ in 0..runs {
            black_box(doc.encode());
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("dt:") {
        let patches = load_trace(trace).patches();
        for _ in 0..runs {
            black_box(converge_benches::replay_diamond(&patches));
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("rope:") {
        let patches = load_trace(trace).patches();
        for _ in 0..runs {
            black_box(converge_benches::replay_jumprope(&patches));
        }
        return;
    }
    let patches = load_trace(&name).patches();
    for _ in 0..runs {
        black_box(replay_converge(&patches));
    }
    if std::env::var("STATS").is_ok() {
        eprintln!("{}", replay_converge(&patches).debug_stats());
    }
}
