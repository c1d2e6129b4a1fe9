//! A profiling driver: replays one trace `runs` times into converge so `perf record` sees only
//! the engine. `cargo run --release -p converge-benches --bin text_profile [trace] [runs]`
//! (`concurrent` for friendsforever, `decode:<trace>` / `encode:<trace>` for the history codec,
//! `write:<trace>` for writing the state snapshot (`size:<trace>` prints its bytes),
//! `snapshot:<trace>` for the state snapshot load (timed by stage), `load:<trace>` for the
//! load + `to_string` alone and `string:<trace>` for `to_string` alone (for `perf record`),
//! `split:<trace>` for load and the first `to_string` after it timed apart (best single run),
//! `cold:<trace>` for `to_string` after a loop of random branches has retrained the branch
//! predictor (best single run: what a caller that does other work in between sees),
//! `coldload:<trace>` for load + `to_string` after the same,
//! `history:<trace>` for its section sizes,
//! `dt:<trace>` / `rope:<trace>` for the peers, so `perf stat` can compare cycles,
//! `doc:<trace>` / `docauto:<trace>` for the trace typed into a `Doc`'s text container with
//! one explicit transaction per trace transaction / one implicit transaction per edit,
//! `docone:<trace>` for every edit in one transaction (a binding's batch call),
//! `docload:<trace>` for that document's `save` size and `load` + text time (`docload:synth-<n>`
//! for the synthetic concurrent trace of `n` agents, one `Doc` per author), `docfollow:<trace>`
//! for a second document applying each transaction's update as it is committed).
//! Concurrent integration: `b34` (B3.4: 1,540 replicas insert one element at 0 of an empty
//! list, a fresh replica applies all updates in one batch), `b34one` (the same, one `apply`
//! per update), `same` (1,540 replicas type a word at one position of a shared text), `rand`
//! (1,540 replicas insert a word at a random position of a shared text), `b22` (B2.2: two
//! replicas type 6,000 chars each at random positions, then exchange updates), `keys` (one
//! update encoded per keystroke, as B1 does), `docarray` (B1.9 through a `Doc`: 6,000 numbers
//! inserted into a list in one call, then the update encoded), `docarray:insert` (the insert
//! alone), `dockeys` (B1.1 through a `Doc`: 6,000 appended characters, each one's update
//! encoded as it is committed), `docmap` / `docmap:each` (B3.1 through a `Doc`: 1,540
//! replicas set one key, a fresh document applies their merged updates / each update alone;
//! `docmap:list`: B3.4, each replica inserts one string at the start of a list instead),
//! `doctexts:<n>` (`n` texts in a list, written in one update and each edited again in a
//! second one; a fresh document applies both).

use std::hint::black_box;

use converge::doc::{ContainerId, ContainerKind, Doc, Value};
use converge::list::{List, SequenceOps, Text};
use converge::{ReplicaId, VersionVector};
use converge_benches::synth::{concurrent_trace, measured_shapes};
use converge_benches::{load_trace, replay_concurrent, replay_converge, replay_doc, scramble};

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
    if let Some(f) = concurrent_mode(&name) {
        for _ in 0..runs {
            f();
        }
        return;
    }
    if let Some(part) = name.strip_prefix("docmap") {
        let map = ContainerId::root("map", ContainerKind::Map);
        let list = ContainerId::root("list", ContainerKind::List);
        let updates: Vec<Vec<u8>> = (0..1540)
            .map(|i| {
                let mut d = Doc::new(ReplicaId(i + 1));
                if part == ":list" {
                    d.list_insert(list, 0, Value::Str(i.to_string()))
                        .expect("a list");
                } else {
                    d.map_set(map, "k", Value::Int(i as i64)).expect("a map");
                }
                d.encode_updates_since(&VersionVector::new())
            })
            .collect();
        for _ in 0..runs {
            let mut doc = Doc::new(ReplicaId(5000));
            if part == ":each" {
                for u in &updates {
                    doc.apply_update(u).expect("valid");
                }
            } else {
                let refs: Vec<&[u8]> = updates.iter().map(Vec::as_slice).collect();
                let merged = Doc::merge_updates(&refs).expect("valid");
                doc.apply_update(&merged).expect("valid");
            }
            black_box(doc);
        }
        return;
    }
    if let Some(n) = name.strip_prefix("doctexts:") {
        // N texts nested in a list, each edited once more in one transaction; a second
        // document applies that update (so N lists or texts move into one update's stage).
        let n: usize = n.parse().expect("doctexts:<count>");
        let list = ContainerId::root("items", ContainerKind::List);
        let mut a = Doc::new(ReplicaId(1));
        a.begin().expect("no transaction open");
        let texts: Vec<ContainerId> = (0..n)
            .map(|i| {
                let t = (a.list_insert_container(list, i, ContainerKind::Text)).expect("a list");
                a.text_insert(t, 0, "hello").expect("a text");
                t
            })
            .collect();
        a.commit().expect("no memory limit");
        let first = a.encode_updates_since(&VersionVector::new());
        let before = a.version();
        a.begin().expect("no transaction open");
        for t in &texts {
            a.text_insert(*t, 0, "x").expect("a text");
        }
        a.commit().expect("no memory limit");
        let second = a.encode_updates_since(&before);
        for _ in 0..runs {
            let mut b = Doc::new(ReplicaId(2));
            b.apply_update(&first).expect("valid");
            b.apply_update(&second).expect("valid");
            black_box(b);
        }
        return;
    }
    if name == "dockeys" {
        let text = ContainerId::root("text", ContainerKind::Text);
        for _ in 0..runs {
            let mut doc = Doc::new(ReplicaId(1));
            let mut sent = doc.version();
            for i in 0..6000 {
                doc.text_insert(text, i, "k").expect("in range");
                black_box(doc.encode_updates_since(&sent));
                sent = doc.version();
            }
            black_box(doc);
        }
        return;
    }
    if let Some(part) = name.strip_prefix("docarray") {
        let list = ContainerId::root("list", ContainerKind::List);
        let values: Vec<Value> = (0..6000).map(|i| Value::Int(i * 7919 % 10_007)).collect();
        for _ in 0..runs {
            let mut doc = Doc::new(ReplicaId(1));
            let before = doc.version();
            doc.list_insert_batch(list, 0, &values).expect("in range");
            if part != ":insert" {
                black_box(doc.encode_updates_since(&before));
            }
            black_box(doc);
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("docfollow:") {
        // A second document follows the editing one, applying each committed transaction's
        // update as it is made (a live viewer or collaborator).
        use converge::doc::{ContainerId, ContainerKind, Doc};
        let trace = load_trace(trace);
        let text = ContainerId::root("text", ContainerKind::Text);
        for _ in 0..runs {
            let (mut doc, mut follower) = (Doc::new(ReplicaId(1)), Doc::new(ReplicaId(2)));
            for txn in &trace.txns {
                let before = doc.version();
                doc.begin().expect("no transaction open");
                for converge_benches::Patch(pos, del, ins) in &txn.patches {
                    doc.text_splice(text, *pos, *del, ins)
                        .expect("edit in range");
                }
                doc.commit().expect("no memory limit");
                let update = doc.encode_updates_since(&before);
                follower.apply_update(&update).expect("a valid update");
            }
            assert_eq!(follower.text(text).ok(), Some(trace.end_content.clone()));
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("docload:") {
        let doc = match trace.strip_prefix("synth-") {
            Some(n) => {
                let agents: usize = n.parse().expect("synth-<agents>");
                let (_, shape, seed) = measured_shapes()
                    .into_iter()
                    .find(|(_, s, _)| s.agents == agents)
                    .expect("a measured shape with that many agents");
                converge_benches::replay_concurrent_doc(&concurrent_trace(shape, seed))
                    .swap_remove(0)
            }
            None => replay_doc(&load_trace(trace), true),
        };
        let bytes = doc.save().expect("no transaction open");
        let text = converge::doc::ContainerId::root("text", converge::doc::ContainerKind::Text);
        let t = std::time::Instant::now();
        for _ in 0..runs {
            let loaded = converge::doc::Doc::load(&bytes).expect("own save loads");
            black_box(loaded.text(text).expect("a text"));
        }
        let per = t.elapsed().as_secs_f64() * 1e3 / runs.max(1) as f64;
        eprintln!("save {} B, load + text {per:.1} ms", bytes.len());
        return;
    }
    if let Some(trace) = name.strip_prefix("docone:") {
        // Every patch in one transaction: what a binding's batch call does.
        let trace = load_trace(trace);
        let text = converge::doc::ContainerId::root("text", converge::doc::ContainerKind::Text);
        for _ in 0..runs {
            let mut doc = converge::doc::Doc::new(ReplicaId(1));
            doc.begin().expect("no transaction open");
            // The trace's own patches, not a copy (`Trace::patches` clones every string).
            for txn in &trace.txns {
                for converge_benches::Patch(pos, del, ins) in &txn.patches {
                    doc.text_splice(text, *pos, *del, ins)
                        .expect("edit in range");
                }
            }
            doc.commit().expect("no memory limit");
            black_box(doc);
        }
        return;
    }
    for (prefix, explicit) in [("doc:", true), ("docauto:", false)] {
        if let Some(trace) = name.strip_prefix(prefix) {
            let trace = load_trace(trace);
            for _ in 0..runs {
                black_box(replay_doc(&trace, explicit));
            }
            return;
        }
    }
    if let Some(trace) = name.strip_prefix("decode:") {
        let bytes = replay_converge(&load_trace(trace).patches()).encode();
        for _ in 0..runs {
            black_box(converge::list::Text::decode(&bytes).unwrap());
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("load:") {
        let bytes = replay_converge(&load_trace(trace).patches()).snapshot();
        for _ in 0..runs {
            black_box(Text::decode_snapshot(&bytes).unwrap().to_string());
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("split:") {
        let bytes = replay_converge(&load_trace(trace).patches()).snapshot();
        let (mut a, mut b, mut c) = (f64::MAX, f64::MAX, f64::MAX);
        for _ in 0..runs {
            let t0 = std::time::Instant::now();
            let t = Text::decode_snapshot(&bytes).unwrap();
            let t1 = std::time::Instant::now();
            let s = t.to_string();
            let t2 = std::time::Instant::now();

            drop(black_box(t));
            drop(black_box(s));
            let t3 = std::time::Instant::now();
            a = a.min((t1 - t0).as_secs_f64() * 1e6);
            b = b.min((t2 - t1).as_secs_f64() * 1e6);
            c = c.min((t3 - t2).as_secs_f64() * 1e6);
        }
        eprintln!("load {a:.1} us, to_string {b:.1} us, drop {c:.1} us");
        return;
    }
    if let Some(trace) = name.strip_prefix("string:") {
        let doc = replay_converge(&load_trace(trace).patches());
        for _ in 0..runs {
            black_box(doc.to_string());
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("coldload:") {
        let bytes = replay_converge(&load_trace(trace).patches()).snapshot();
        let mut junk = vec![0u64; 200_000];
        let mut best = f64::MAX;
        for i in 0..runs {
            scramble(&mut junk, i);
            let t = std::time::Instant::now();
            black_box(Text::decode_snapshot(&bytes).unwrap().to_string());
            best = best.min(t.elapsed().as_secs_f64() * 1e6);
        }
        eprintln!("cold load + to_string {best:.1} us");
        return;
    }
    if let Some(trace) = name.strip_prefix("cold:") {
        let doc = replay_converge(&load_trace(trace).patches());
        let mut junk = vec![0u64; 200_000];
        let mut best = f64::MAX;
        for i in 0..runs {
            scramble(&mut junk, i);
            let t = std::time::Instant::now();
            black_box(doc.to_string());
            best = best.min(t.elapsed().as_secs_f64() * 1e6);
        }
        eprintln!("cold to_string {best:.1} us");
        return;
    }
    if let Some(trace) = name.strip_prefix("snapshot:") {
        let bytes = replay_converge(&load_trace(trace).patches()).snapshot();
        // Best batch mean of 20 batches, so one noisy stretch does not decide.
        let best = |f: &mut dyn FnMut()| {
            let per = (runs / 20).max(1);
            (0..20)
                .map(|_| {
                    let t = std::time::Instant::now();
                    for _ in 0..per {
                        f();
                    }
                    t.elapsed().as_secs_f64() * 1e6 / per as f64
                })
                .fold(f64::MAX, f64::min)
        };
        let us = best(&mut || {
            black_box(Text::decode_snapshot(&bytes).unwrap().to_string());
        });
        eprintln!("load + to_string {us:.1} us");
        let loaded = Text::decode_snapshot(&bytes).unwrap();
        let replayed = Text::decode(&Text::decode_snapshot(&bytes).unwrap().encode()).unwrap();
        for (what, t) in [("loaded", &loaded), ("from history", &replayed)] {
            let us = best(&mut || {
                black_box(t.to_string());
            });
            eprintln!("  to_string of a replica {what}: {us:.1} us");
        }
        let stages = ["wire", "+ content, ids", "+ log", "+ order, tree"];
        for (k, stage) in stages.iter().enumerate() {
            let us = best(&mut || {
                black_box(Text::debug_decode_snapshot_until(&bytes, k as u8).unwrap());
            });
            eprintln!("  {stage}: {us:.1} us");
        }
        return;
    }
    if let Some(agents) = name.strip_prefix("synthetic:") {
        let agents: usize = agents.parse().expect("synthetic:<agents>");
        let (_, shape, seed) = (measured_shapes().into_iter())
            .find(|(_, s, _)| s.agents == agents)
            .expect("a measured shape with that many agents");
        let trace = concurrent_trace(shape, seed);
        for _ in 0..runs {
            black_box(replay_concurrent(&trace));
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("history:") {
        let doc = if trace == "friendsforever" {
            replay_concurrent(&load_trace(trace)).swap_remove(0)
        } else {
            replay_converge(&load_trace(trace).patches())
        };
        println!("{}\n{}", doc.debug_stats(), doc.debug_history());
        return;
    }
    if let Some(trace) = name.strip_prefix("encode:") {
        let doc = replay_converge(&load_trace(trace).patches());
        for _ in 0..runs {
            black_box(doc.encode());
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("write:") {
        let doc = replay_converge(&load_trace(trace).patches());
        for _ in 0..runs {
            black_box(doc.snapshot());
        }
        return;
    }
    if let Some(trace) = name.strip_prefix("size:") {
        let doc = replay_converge(&load_trace(trace).patches());
        println!("{trace}: snapshot {} bytes", doc.snapshot().len());
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

/// A small xorshift generator (the inputs only need to be reproducible).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Updates of `m` replicas that each start from `base` (an update) and insert one word
/// chosen by `edit`.
fn many_updates(m: u64, base: &[u8], edit: impl Fn(&mut Text, u64)) -> Vec<Vec<u8>> {
    (1..=m)
        .map(|r| {
            let mut d = Text::new(ReplicaId(r));
            if !base.is_empty() {
                d.apply(&converge::decode(base).unwrap()).unwrap();
            }
            let v = d.version();
            edit(&mut d, r);
            converge::encode(&d.ops_since(&v))
        })
        .collect()
}

fn apply_all(doc: &mut Text, updates: &[Vec<u8>]) {
    let mut all = SequenceOps::<String>::default();
    for u in updates {
        let ops: SequenceOps<String> = converge::decode(u).unwrap();
        all.ops.extend(ops.ops);
    }
    assert!(doc.apply(&all).unwrap().is_complete());
}

fn concurrent_mode(name: &str) -> Option<Box<dyn Fn()>> {
    const M: u64 = 1540;
    let base = {
        let mut d = Text::new(ReplicaId(0));
        d.insert(0, &"0123456789".repeat(10)).unwrap();
        converge::encode(&d.ops_since(&VersionVector::new()))
    };
    Some(match name {
        "b34" | "b34one" => {
            let updates: Vec<Vec<u8>> = (0..M)
                .map(|i| {
                    let mut d = List::<String>::new(ReplicaId(i + 1));
                    d.insert(0, i.to_string()).unwrap();
                    converge::encode(&d.ops_since(&VersionVector::new()))
                })
                .collect();
            let one = name == "b34one";
            Box::new(move || {
                let mut doc = List::<String>::new(ReplicaId(M + 2));
                if one {
                    for u in &updates {
                        let ops: SequenceOps<Vec<String>> = converge::decode(u).unwrap();
                        assert!(doc.apply(&ops).unwrap().is_complete());
                    }
                } else {
                    let mut all = SequenceOps::<Vec<String>>::default();
                    for u in &updates {
                        let ops: SequenceOps<Vec<String>> = converge::decode(u).unwrap();
                        all.ops.extend(ops.ops);
                    }
                    assert!(doc.apply(&all).unwrap().is_complete());
                }
                black_box(doc.len());
            })
        }
        "same" | "rand" => {
            let same = name == "same";
            let updates = many_updates(M, &base, |d, r| {
                let pos = if same {
                    50
                } else {
                    Rng(r * 0x9e37_79b9_7f4a_7c15).below(d.len() + 1)
                };
                d.insert(pos, &format!("w{r}-")).unwrap();
            });
            let base = base.clone();
            Box::new(move || {
                let mut doc = Text::new(ReplicaId(M + 2));
                apply_all(&mut doc, std::slice::from_ref(&base));
                apply_all(&mut doc, &updates);
                black_box(doc.len());
            })
        }
        "keys" => Box::new(|| {
            // B1.1's pattern: one update per keystroke.
            let mut d = Text::new(ReplicaId(1));
            let mut sent = VersionVector::new();
            for _ in 0..6000 {
                d.insert(d.len(), "k").unwrap();
                black_box(converge::encode(&d.ops_since(&sent)));
                sent = d.version();
            }
        }),
        "b22" | "b22load" => {
            let load = name == "b22load";
            let mut rng = Rng(0x2545_f491_4f6c_dd1d);
            let mut edits = |abc: u8| {
                let mut len = 100;
                (0..6000)
                    .map(|_| {
                        let pos = rng.below(len + 1);
                        len += 1;
                        (pos, char::from(abc + rng.below(26) as u8).to_string())
                    })
                    .collect::<Vec<_>>()
            };
            let (ea, eb) = (edits(b'a'), edits(b'A'));
            Box::new(move || {
                let mut d1 = Text::new(ReplicaId(1));
                d1.insert(0, &"0123456789".repeat(10)).unwrap();
                let mut d2 = Text::new(ReplicaId(2));
                d2.apply(&d1.ops_since(&VersionVector::new())).unwrap();
                let (v1, v2) = (d1.version(), d2.version());
                for (p, s) in &ea {
                    d1.insert(*p, s).unwrap();
                }
                for (p, s) in &eb {
                    d2.insert(*p, s).unwrap();
                }
                let u1 = converge::encode(&d1.ops_since(&v1));
                let u2 = converge::encode(&d2.ops_since(&v2));
                apply_all(&mut d1, std::slice::from_ref(&u2));
                apply_all(&mut d2, std::slice::from_ref(&u1));
                assert_eq!(d1.len(), d2.len());
                if std::env::var("STATS").is_ok() {
                    eprintln!("update bytes: {} and {}", u1.len(), u2.len());
                }
                if load {
                    let t = std::time::Instant::now();
                    let bytes = d1.encode();
                    eprintln!("encode {:?}", t.elapsed());
                    let t = std::time::Instant::now();
                    for _ in 0..20 {
                        black_box(Text::decode(&bytes).unwrap());
                    }
                    eprintln!("load {:?}", t.elapsed() / 20);
                }
                black_box((u1.len(), u2.len()));
            })
        }
        _ => return None,
    })
}
