//! The text engine's own decoders on hostile bytes: `SequenceOps` (the packed wire form),
//! `Text::decode` (full history) and `Text::decode_snapshot` / `TextSnapshot` (state). Every
//! input is either decoded or rejected with a typed error; whatever decodes keeps the engine's
//! invariants and applies or is rejected without a panic. A replica loaded from a snapshot
//! also keeps editing and merging without a panic, re-encodes, and its order check
//! (`replays_to_same_order`, which a forged order of concurrent inserts fails) never panics.
//!
//! The first input byte picks the mode. Even modes feed the rest as raw bytes; odd modes take
//! a genuine message and XOR bytes into it at positions the input chooses, so the fuzzer
//! reaches past the headers: 0/1 ops, 2/3 history, 4/5 snapshot.
#![no_main]

use std::sync::OnceLock;

use converge::list::{SequenceOps, Text, TextSnapshot};
use converge::{ReplicaId, VersionVector};
use libfuzzer_sys::fuzz_target;

/// A replica with a short history: typing, a backspace run, and a concurrent edit merged in.
fn base() -> Text {
    let mut a = Text::new(ReplicaId(1));
    a.insert(0, "hello wörld").unwrap();
    a.delete(3..5).unwrap();
    let mut b = Text::new(ReplicaId(2));
    b.apply(&a.ops_since(&VersionVector::new())).unwrap();
    b.insert(2, "XY🙂").unwrap();
    a.insert(2, "ab").unwrap();
    a.apply(&b.ops_since(&a.version())).unwrap();
    a
}

struct Genuine {
    ops: Vec<u8>,
    history: Vec<u8>,
    snapshot: Vec<u8>,
}

fn genuine() -> &'static Genuine {
    static G: OnceLock<Genuine> = OnceLock::new();
    G.get_or_init(|| {
        let a = base();
        Genuine {
            ops: converge::encode(&a.ops_since(&VersionVector::new())),
            history: a.encode(),
            snapshot: a.snapshot(),
        }
    })
}

/// `msg` with bytes of `edits` XORed in: pairs of (position byte, mask byte).
fn mutate(msg: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut out = msg.to_vec();
    for pair in edits.chunks_exact(2) {
        let i = usize::from(pair[0]) % out.len();
        out[i] ^= pair[1];
    }
    if edits.len() % 2 == 1 {
        // An odd tail also truncates, to reach the "cut short" paths.
        out.truncate(usize::from(edits[edits.len() - 1]) % (out.len() + 1));
    }
    out
}

fn check_ops(bytes: &[u8]) {
    let Ok(ops) = converge::decode::<SequenceOps<String>>(bytes) else {
        return;
    };
    for start in [Text::new(ReplicaId(3)), base()] {
        let mut t = start;
        let _ = t.apply(&ops);
        t.check_invariants();
        let s = t.to_string();
        assert_eq!(s.chars().count(), t.len());
    }
}

fn check_history(bytes: &[u8]) {
    if let Ok(t) = Text::decode(bytes) {
        t.check_invariants();
        assert_eq!(t.to_string().chars().count(), t.len());
        // A decoded replica re-encodes and decodes to the same text.
        let again = Text::decode(&t.encode()).expect("a decoded replica re-encodes");
        assert_eq!(again.to_string(), t.to_string());
    }
}

fn check_snapshot(bytes: &[u8]) {
    // The view reads only the envelope, the shown text and the ids; the replica it loads
    // must be what `decode_snapshot` loads, with the text that was shown.
    let loaded = Text::decode_snapshot(bytes);
    let Ok(view) = TextSnapshot::decode(bytes) else {
        return;
    };
    let shown = view.as_str().to_owned();
    assert_eq!(shown.chars().count(), view.len());
    let Ok(mut t) = view.to_text_as(ReplicaId(9)) else {
        return;
    };
    let direct = loaded.expect("a replica the view loads loads directly");
    assert_eq!(direct.to_string(), shown);
    assert_eq!(direct.version(), *view.version());
    t.check_invariants();
    assert_eq!(t.to_string(), shown);
    let same_order = t.replays_to_same_order();
    // The loaded replica keeps working: its snapshot and history load again, it edits, and
    // it merges with the genuine replica both ways.
    let again = Text::decode_snapshot(&t.snapshot()).expect("a loaded replica re-snapshots");
    assert_eq!(again.to_string(), shown);
    // The history replays its ops, so it restores the order only when the snapshot's order is
    // the replayed one.
    let back = Text::decode(&t.encode()).expect("a loaded replica re-encodes");
    if same_order {
        assert_eq!(back.to_string(), shown);
    }
    let mid = t.len() / 2;
    t.insert(mid, "zz").unwrap();
    t.delete(0..t.len().min(1)).unwrap();
    let mut g = base();
    let _ = t.apply(&g.ops_since(&t.version()));
    let _ = g.apply(&t.ops_since(&g.version()));
    t.check_invariants();
    g.check_invariants();
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let g = genuine();
    match mode % 6 {
        0 => check_ops(rest),
        1 => check_ops(&mutate(&g.ops, rest)),
        2 => check_history(rest),
        3 => check_history(&mutate(&g.history, rest)),
        4 => check_snapshot(rest),
        _ => check_snapshot(&mutate(&g.snapshot, rest)),
    }
});
