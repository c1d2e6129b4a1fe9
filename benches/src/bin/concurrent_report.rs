//! Concurrent histories, converge against yrs 0.28 and Loro 1.17 in the same run: the shipped
//! friendsforever trace and synthetic traces of other shapes ([`converge_benches::synth`]:
//! more authors, longer branches, rarer or more frequent merges). For each: the replay (one
//! replica per agent, each transaction made at its parents' merged version, then a full
//! exchange), the encoded full history, and loading it into a fresh replica + reading the
//! text. Every replica of every library is checked against `endContent`.
//!
//! Times are the best of `runs` rounds, each round running the libraries in turn in this
//! process (so they share allocator state and caches alike). The figures are recorded in
//! `perf/concurrent.md`.
//!
//! ```text
//! cargo run --release -p converge-benches --bin concurrent_report [runs]
//! cargo run --release -p converge-benches --bin concurrent_report -- --write DIR
//! cargo run -p converge-benches --bin concurrent_report -- --smoke   # small traces, once (CI)
//! ```
//!
//! `--write DIR` writes the synthetic traces to `DIR/synthetic-<agents>.json.gz` in the
//! shared traces' format and measures nothing (the kernel's trace tests replay any trace
//! placed beside the shipped ones).

use std::hint::black_box;
use std::time::Duration;

use converge::list::Text;
use converge_benches::synth::{concurrent_trace, measured_shapes};
use converge_benches::{
    Trace, best_round_robin, load_trace, replay_concurrent, replay_concurrent_loro,
    replay_concurrent_yrs, yrs_load, yrs_text,
};

/// Milliseconds with `digits` decimals.
fn ms(d: Duration, digits: usize) -> String {
    format!("{:.*}", digits, d.as_secs_f64() * 1e3)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, dir] = args.as_slice()
        && flag == "--write"
    {
        for (_, shape, seed) in measured_shapes() {
            let path =
                std::path::Path::new(dir).join(format!("synthetic-{}.json.gz", shape.agents));
            concurrent_trace(shape, seed)
                .write_gz(&path)
                .expect("write trace");
            println!("wrote {}", path.display());
        }
        return;
    }
    // `--smoke`: one round on synthetic traces of 1,500 transactions (CI).
    let smoke = args.first().is_some_and(|a| a == "--smoke");
    let runs: usize = match args.first() {
        Some(_) if smoke => 1,
        Some(n) => n.parse().expect("runs: a number"),
        None => 5,
    };
    let mut traces: Vec<(String, Trace)> =
        vec![("friendsforever".into(), load_trace("friendsforever"))];
    for (name, mut shape, seed) in measured_shapes() {
        if smoke {
            shape.txns = 1_500;
        }
        traces.push((
            format!(
                "{name} ({} agents, merge {}‰)",
                shape.agents, shape.merge_per_mille
            ),
            concurrent_trace(shape, seed),
        ));
    }
    if smoke {
        println!("smoke run: checks every result; its times are not measurements\n");
    }
    println!("best of {runs} rounds, libraries in turn in one process; times in ms\n");
    println!(
        "| trace | txns | merges | final chars | converge replay | yrs replay | Loro replay | converge history B | yrs v1 B | yrs v2 B | Loro updates B | converge load | yrs load | Loro load |"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (name, trace) in &traces {
        row(name, trace, runs);
    }
}

/// One table row: replays, sizes and loads of `trace`, every result checked.
fn row(name: &str, trace: &Trace, runs: usize) {
    let ascii = (trace.txns.iter().flat_map(|t| &t.patches)).all(|p| p.2.is_ascii());
    assert!(
        ascii,
        "yrs counts positions in bytes: the trace must be ASCII"
    );
    let expected = &trace.end_content;
    let reps = replay_concurrent(trace);
    assert!(reps.iter().all(|r| r.to_string() == *expected), "converge");
    let docs = replay_concurrent_yrs(trace);
    assert!(docs.iter().all(|d| yrs_text(d) == *expected), "yrs");
    // Loro's replay here exports and imports a counter range per peer and transaction, which
    // takes minutes with 8 agents; it is measured on the two-agent traces only.
    let loro = (trace.agents() <= 2).then(|| replay_concurrent_loro(trace));
    if let Some(loro) = &loro {
        assert_eq!(loro.get_text("text").to_string(), *expected, "Loro");
    }

    let ours = reps[0].encode();
    let (yrs_v1, yrs_v2) = {
        use yrs::{ReadTxn, Transact};
        let txn = docs[0].transact();
        let empty = yrs::StateVector::default();
        (
            txn.encode_state_as_update_v1(&empty),
            txn.encode_state_as_update_v2(&empty),
        )
    };
    let loro_bytes = loro.as_ref().map(|d| {
        d.export(loro::ExportMode::all_updates())
            .expect("loro export")
    });
    let load_ours = || Text::decode(&ours).expect("history").to_string();
    let load_yrs = || yrs_text(&yrs_load(&yrs_v1));
    let load_loro = |bytes: &[u8]| {
        let doc = loro::LoroDoc::new();
        doc.import(bytes).expect("loro import");
        doc.get_text("text").to_string()
    };
    assert_eq!(load_ours(), *expected);
    assert_eq!(load_yrs(), *expected);
    if let Some(bytes) = &loro_bytes {
        assert_eq!(load_loro(bytes), *expected);
    }
    drop((reps, docs, loro));

    let [r_ours, r_yrs, r_loro] = best_round_robin(
        runs,
        [
            &mut || drop(black_box(replay_concurrent(trace))),
            &mut || drop(black_box(replay_concurrent_yrs(trace))),
            &mut || {
                if loro_bytes.is_some() {
                    drop(black_box(replay_concurrent_loro(trace)));
                }
            },
        ],
    );
    let [l_ours, l_yrs, l_loro] = best_round_robin(
        runs * 20,
        [
            &mut || drop(black_box(load_ours())),
            &mut || drop(black_box(load_yrs())),
            &mut || {
                if let Some(bytes) = &loro_bytes {
                    drop(black_box(load_loro(bytes)));
                }
            },
        ],
    );
    let loro_or_dash = |v: String| {
        if loro_bytes.is_some() {
            v
        } else {
            "–".into()
        }
    };
    let merges = trace.txns.iter().filter(|t| t.parents.len() > 1).count();
    println!(
        "| {name} | {} | {merges} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        trace.txns.len(),
        expected.len(),
        ms(r_ours, 2),
        ms(r_yrs, 2),
        loro_or_dash(ms(r_loro, 2)),
        ours.len(),
        yrs_v1.len(),
        yrs_v2.len(),
        loro_or_dash(loro_bytes.as_ref().map_or(0, Vec::len).to_string()),
        ms(l_ours, 3),
        ms(l_yrs, 3),
        loro_or_dash(ms(l_loro, 3)),
    );
}
