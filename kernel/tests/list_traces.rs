//! Replays of the real editing traces in `../shared/traces` (never copied into the repo).
//!
//! Sequential traces are typed into one `Text` and must end at `endContent` exactly, also
//! after an encode → decode round trip. Concurrent traces get one replica per agent; each
//! transaction runs on its agent's replica after pulling exactly its parents' merged version
//! from the other replicas (`ops_since` + `apply_until`), and after a final full exchange every
//! replica must equal `endContent`. Along the way replicas are replaced by decoded copies of
//! their own encoding, so the replay also checks that a loaded replica keeps merging. Every
//! final state also round-trips through a state snapshot (`Text::snapshot`).

use std::io::Read;

use converge::doc::{Changed, ContainerId, ContainerKind, Doc};
use converge::list::{Text, TextSnapshot};
use converge::{ReplicaId, VersionVector};
use serde::Deserialize;

const TRACES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces");

#[derive(Deserialize)]
struct Trace {
    #[serde(rename = "startContent", default)]
    start_content: String,
    #[serde(rename = "endContent")]
    end_content: String,
    #[serde(rename = "numAgents", default)]
    num_agents: Option<usize>,
    txns: Vec<Txn>,
}

#[derive(Deserialize)]
struct Txn {
    #[serde(default)]
    parents: Vec<usize>,
    #[serde(default)]
    agent: usize,
    patches: Vec<(usize, usize, String)>,
}

fn load(name: &str) -> Trace {
    let path = format!("{TRACES}/{name}");
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .expect("gunzip trace");
    serde_json::from_str(&json).expect("parse trace")
}

fn apply_patches(t: &mut Text, patches: &[(usize, usize, String)]) {
    for (pos, del, ins) in patches {
        if *del > 0 {
            t.delete(*pos..*pos + *del).expect("delete in range");
        }
        if !ins.is_empty() {
            t.insert(*pos, ins).expect("insert in range");
        }
    }
}

fn replay_sequential(name: &str) {
    replay_sequential_trace(name, &load(name));
}

fn replay_sequential_trace(name: &str, trace: &Trace) {
    let mut t = Text::new(ReplicaId(7));
    t.insert(0, &trace.start_content).unwrap();
    for (i, txn) in trace.txns.iter().enumerate() {
        apply_patches(&mut t, &txn.patches);
        if i % 20_000 == 0 || std::env::var("CHECK_ALL").is_ok() {
            if std::env::var("CHECK_ALL").is_ok() {
                eprintln!("step {i} {:?}", txn.patches);
            }
            t.check_invariants();
        }
    }
    t.check_invariants();
    assert_eq!(t.len(), trace.end_content.chars().count());
    assert_eq!(t.len_utf16(), trace.end_content.encode_utf16().count());
    assert!(
        t.to_string() == trace.end_content,
        "{name}: final text differs"
    );

    let bytes = t.encode();
    let back = Text::decode(&bytes).expect("decode own encoding");
    back.check_invariants();
    assert!(
        back.to_string() == trace.end_content,
        "{name}: decoded text differs"
    );
    assert_eq!(back.version(), t.version());
    // The loaded replica holds the same op log: it encodes to the same bytes.
    assert!(back.encode() == bytes, "{name}: re-encoded history differs");
    check_snapshot(name, &t, &trace.end_content);
}

/// The state snapshot of `t` (whose text is `expected`): the view shows the text, and the
/// editable replica built from it equals `t` — same text, version and op log (it encodes to
/// the same history bytes), and its order is the one a replay of that log gives.
fn check_snapshot(name: &str, t: &Text, expected: &str) {
    let bytes = t.snapshot();
    let view = TextSnapshot::decode(&bytes).expect("decode own snapshot");
    assert!(view.as_str() == expected, "{name}: snapshot view differs");
    assert_eq!(view.len(), t.len());
    assert_eq!(view.len_utf16(), t.len_utf16());
    assert_eq!(view.version(), &t.version());
    let back = view.to_text().expect("load the viewed snapshot");
    back.check_invariants();
    assert!(back.replays_to_same_order(), "{name}: snapshot order");
    assert!(t.replays_to_same_order(), "{name}: replica order");
    assert!(
        back.encode() == t.encode(),
        "{name}: op log from snapshot differs"
    );
    assert!(
        back.to_string() == expected,
        "{name}: replica from snapshot differs"
    );
    assert_eq!(back.version(), t.version());
    assert_eq!(back.replica(), t.replica());
}

#[test]
fn automerge_paper() {
    replay_sequential("automerge-paper.json.gz");
}

#[test]
fn seph_blog1() {
    replay_sequential("seph-blog1.json.gz");
}

#[test]
fn json_crdt_patch() {
    replay_sequential("json-crdt-patch.json.gz");
}

/// A sequential trace typed into a `Doc`, one transaction per trace transaction, with a second
/// `Doc` applying each transaction's update as it is committed. Both end at `endContent`, and
/// so does a `Doc` loaded from the follower's save. Every 1009th transaction is first made and
/// rolled back, which must leave the text and version as they were, and the follower's change
/// event for it must describe its edit.
fn replay_through_docs(name: &str) {
    let trace = load(name);
    let text = ContainerId::root("text", ContainerKind::Text);
    let (mut doc, mut follower) = (Doc::new(ReplicaId(1)), Doc::new(ReplicaId(2)));
    doc.text_insert(text, 0, &trace.start_content).unwrap();
    let splice = |d: &mut Doc, patches: &[(usize, usize, String)]| {
        d.begin().unwrap();
        for (pos, del, ins) in patches {
            d.text_splice(text, *pos, *del, ins).expect("edit in range");
        }
    };
    let mut before = VersionVector::new();
    for (i, txn) in trace.txns.iter().enumerate() {
        let sample = i % 1009 == 0;
        let old = sample.then(|| doc.text(text).unwrap());
        if sample {
            splice(&mut doc, &txn.patches);
            doc.rollback();
            assert_eq!(doc.version(), before, "{name}: txn {i} rolled back");
            assert!(doc.text(text).ok() == old, "{name}: txn {i} rolled back");
        }
        splice(&mut doc, &txn.patches);
        doc.commit().unwrap();
        let report = (follower.apply_update(&doc.encode_updates_since(&before))).unwrap();
        assert_eq!(report.applied, 1, "{name}: txn {i}");
        if let Some(old) = old {
            let (old, new): (Vec<char>, Vec<char>) = (
                old.chars().collect(),
                follower.text(text).unwrap().chars().collect(),
            );
            match report.event.get(text) {
                Some(&Changed::Range {
                    start,
                    removed,
                    inserted,
                }) => assert!(
                    start + removed <= old.len()
                        && start + inserted <= new.len()
                        && old[..start] == new[..start]
                        && old[start + removed..] == new[start + inserted..],
                    "{name}: txn {i}: the event does not describe the edit"
                ),
                other => assert!(old == new, "{name}: txn {i}: event {other:?}"),
            }
        }
        before = doc.version();
    }
    for d in [
        &doc,
        &follower,
        &Doc::load(&follower.save().unwrap()).unwrap(),
    ] {
        assert!(
            d.text(text).unwrap() == trace.end_content,
            "{name}: doc text"
        );
    }
}

#[test]
fn sequential_traces_through_docs() {
    for name in [
        "json-crdt-patch.json.gz",
        "seph-blog1.json.gz",
        "automerge-paper.json.gz",
    ] {
        replay_through_docs(name);
    }
}

/// Replays a concurrent trace with one replica per agent; see the module docs.
fn replay_concurrent(name: &str) {
    replay_concurrent_trace(name, &load(name));
}

fn replay_concurrent_trace(name: &str, trace: &Trace) {
    let agents = trace
        .num_agents
        .unwrap_or(0)
        .max(trace.txns.iter().map(|t| t.agent + 1).max().unwrap_or(1));
    let mut reps: Vec<Text> = (0..agents)
        .map(|a| Text::new(ReplicaId(a as u64 + 1)))
        .collect();
    let mut start_version = VersionVector::new();
    if !trace.start_content.is_empty() {
        reps[0].insert(0, &trace.start_content).unwrap();
        start_version = reps[0].version();
    }
    let mut after: Vec<VersionVector> = Vec::with_capacity(trace.txns.len());
    for (i, txn) in trace.txns.iter().enumerate() {
        let mut target = start_version.clone();
        for &p in &txn.parents {
            target.merge(&after[p]);
        }
        let r = txn.agent;
        assert!(
            target.dominates(&reps[r].version()),
            "txn {i}: agent {r} would have to forget its own state"
        );
        // Pull from the replica of each parent's agent (it has seen the parent's version:
        // replicas only grow), and the start content from agent 0.
        let mut have = reps[r].version();
        let sources = txn
            .parents
            .iter()
            .map(|&p| (trace.txns[p].agent, &after[p]));
        for (q, version) in std::iter::once((0, &start_version)).chain(sources) {
            if q == r || have.dominates(version) {
                continue;
            }
            let ops = reps[q].ops_since(&have);
            let report = reps[r].apply_until(&ops, &target).unwrap();
            assert!(
                report.missing.is_empty() && report.invalid == 0,
                "txn {i}: {report:?}"
            );
            have = reps[r].version();
        }
        assert_eq!(reps[r].version(), target, "txn {i}: parents reached");
        apply_patches(&mut reps[r], &txn.patches);
        after.push(reps[r].version());
        if i % 5_000 == 0 {
            reps[r].check_invariants();
        }
        if i % 2_000 == 1_000 {
            // Continue from a decoded copy: loading must keep everything merging needs.
            let back = Text::decode(&reps[r].encode()).expect("decode mid-replay");
            back.check_invariants();
            assert_eq!(
                back.version(),
                reps[r].version(),
                "txn {i}: decoded version"
            );
            assert!(
                back.to_string() == reps[r].to_string(),
                "txn {i}: decoded text"
            );
            reps[r] = back;
        }
    }
    // Final full exchange: everyone pulls from everyone.
    for r in 0..agents {
        for other in 0..agents {
            if other != r {
                let ops = reps[other].ops_since(&reps[r].version());
                let report = reps[r].apply(&ops).unwrap();
                assert!(report.is_complete(), "{report:?}");
            }
        }
    }
    for (a, rep) in reps.iter().enumerate() {
        rep.check_invariants();
        assert!(
            rep.to_string() == trace.end_content,
            "{name}: replica {a} differs from endContent"
        );
    }
    let bytes = reps[0].encode();
    let back = Text::decode(&bytes).expect("decode");
    back.check_invariants();
    assert!(back.encode() == bytes, "{name}: re-encoded history differs");
    assert!(
        back.to_string() == trace.end_content,
        "{name}: decoded text differs"
    );
    check_snapshot(name, &reps[0], &trace.end_content);
}

#[test]
fn friendsforever_concurrent() {
    replay_concurrent("friendsforever.json.gz");
}

/// Any other trace placed in the traces directory (the format's other published traces, or
/// new recordings) replays too: concurrent ones (with `numAgents` or any parents) as above,
/// the rest sequentially.
#[test]
fn every_other_trace() {
    let known = [
        "automerge-paper.json.gz",
        "seph-blog1.json.gz",
        "json-crdt-patch.json.gz",
        "friendsforever.json.gz",
    ];
    let dir = std::fs::read_dir(TRACES).unwrap_or_else(|e| panic!("read {TRACES}: {e}"));
    let mut names: Vec<String> = dir
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".json.gz") && !known.contains(&n.as_str()))
        .collect();
    names.sort();
    for name in names {
        let trace = load(&name);
        if trace.num_agents.is_some() || trace.txns.iter().any(|t| !t.parents.is_empty()) {
            replay_concurrent_trace(&name, &trace);
        } else {
            replay_sequential_trace(&name, &trace);
        }
    }
}

/// One `text_splice_batch` call over a whole trace makes exactly what the same splices made
/// one at a time in one transaction make: the same update, history and change event, and a
/// save that loads to the same history. (The batch hands typing and deletion runs to the
/// engine whole; this checks that nothing else can tell. A state snapshot may still split
/// runs of deleted items differently: automerge-paper's is 67 bytes smaller.) The UTF-16
/// batch too.
#[test]
fn batch_splices_equal_splices_one_at_a_time() {
    let text = ContainerId::root("text", ContainerKind::Text);
    for name in [
        "json-crdt-patch.json.gz",
        "seph-blog1.json.gz",
        "automerge-paper.json.gz",
    ] {
        let trace = load(name);
        let patches: Vec<_> = trace.txns.iter().flat_map(|t| &t.patches).collect();
        let start = || {
            let mut d = Doc::new(ReplicaId(1));
            d.text_insert(text, 0, &trace.start_content).unwrap();
            d.queue_events(true);
            d
        };
        let (mut one, mut batch, mut batch16) = (start(), start(), start());
        one.begin().unwrap();
        for (pos, del, ins) in &patches {
            one.text_splice(text, *pos, *del, ins).unwrap();
        }
        one.commit().unwrap();
        batch
            .text_splice_batch(text, patches.iter().map(|(p, d, s)| (*p, *d, s.as_str())))
            .unwrap();
        let utf16 = |t: &Doc, pos: usize| -> usize {
            t.text(text)
                .unwrap()
                .chars()
                .take(pos)
                .map(char::len_utf16)
                .sum()
        };
        // The trace counts chars; the UTF-16 batch gets the same splices in UTF-16 units
        // (equal for a text without chars outside the BMP, which every trace here is).
        assert_eq!(
            utf16(&one, usize::MAX),
            one.text_len(text).unwrap(),
            "{name}"
        );
        batch16
            .text_splice_batch_utf16(text, patches.iter().map(|(p, d, s)| (*p, *d, s.as_str())))
            .unwrap();
        let empty = VersionVector::new();
        let events = one.take_events();
        assert_eq!(events.len(), 1, "{name}");
        for (d, how) in [(&mut batch, "batch"), (&mut batch16, "UTF-16 batch")] {
            assert!(d.text(text).unwrap() == trace.end_content, "{name}: {how}");
            assert!(
                d.encode_updates_since(&empty) == one.encode_updates_since(&empty),
                "{name}: {how}: update"
            );
            let history = one.save_history().unwrap();
            assert!(
                d.save_history().unwrap() == history,
                "{name}: {how}: saved history"
            );
            let loaded = Doc::load(&d.save().unwrap()).unwrap();
            assert!(
                loaded.save_history().unwrap() == history,
                "{name}: {how}: loaded"
            );
            assert_eq!(d.take_events(), events, "{name}: {how}: event");
        }
    }
}
