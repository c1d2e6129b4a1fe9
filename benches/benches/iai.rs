//! Instruction counts (iai-callgrind under valgrind) for converge's hot paths: applying a
//! batch of remote text operations, local typing, LWW-map merge, decoding, batch insert.
//! Counts are stable on a noisy shared machine where wall-clock times are not.
//!
//! ```text
//! cargo install --locked iai-callgrind-runner --version 0.16.1   # once; valgrind must be installed
//! cargo bench -p converge-benches --bench iai
//! ```
//!
//! Inputs are built in setup functions (not counted) from a fixed seed: a typing session of
//! 5,000 edits (runs of typed words, backspaces, cursor jumps), and maps of 10,000 keys. Each
//! benchmark returns its result so the work cannot be optimized away, and the setup
//! functions check the inputs (final text length, map sizes) so a broken input fails loudly.

use std::hint::black_box;

use converge::list::{List, SequenceOps, Text};
use converge::{Crdt, LwwMap, ReplicaId, Timestamp, VersionVector};
use iai_callgrind::{library_benchmark, library_benchmark_group, main};

/// A deterministic typing session: `(pos, delete, insert)` patches.
fn session(edits: usize) -> Vec<(usize, usize, String)> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut len, mut cursor) = (0usize, 0usize);
    let mut out = Vec::with_capacity(edits);
    while out.len() < edits {
        let r = next() % 100;
        if r < 5 && len > 0 {
            cursor = (next() % (len as u64 + 1)) as usize;
        } else if r < 20 && cursor > 0 {
            out.push((cursor - 1, 1, String::new()));
            cursor -= 1;
            len -= 1;
        } else {
            let c = (b'a' + (next() % 26) as u8) as char;
            out.push((cursor, 0, c.to_string()));
            cursor += 1;
            len += 1;
        }
    }
    out
}

fn typed(edits: usize) -> (Text, usize) {
    let mut t = Text::new(ReplicaId(1));
    let mut len = 0usize;
    for (pos, del, ins) in session(edits) {
        if del > 0 {
            t.delete(pos..pos + del).expect("in range");
            len -= del;
        }
        if !ins.is_empty() {
            t.insert(pos, &ins).expect("in range");
            len += ins.chars().count();
        }
    }
    assert_eq!(t.len(), len, "setup: typed text has the wrong length");
    (t, len)
}

fn setup_remote_ops() -> (SequenceOps<String>, usize) {
    let (t, len) = typed(5_000);
    (t.ops_since(&VersionVector::new()), len)
}

fn setup_session() -> Vec<(usize, usize, String)> {
    session(5_000)
}

fn setup_encoded() -> (Vec<u8>, usize) {
    let (t, len) = typed(5_000);
    (t.encode(), len)
}

fn lww(replica: u64, lamport: u64, start: u64, n: u64) -> LwwMap<u64, u64> {
    let mut m = LwwMap::new();
    let ts = Timestamp::new(lamport, ReplicaId(replica));
    for k in start..start + n {
        m.insert_at(ts, k, k * 10 + replica);
    }
    assert_eq!(m.len() as u64, n, "setup: map has the wrong size");
    m
}

fn setup_maps() -> (LwwMap<u64, u64>, LwwMap<u64, u64>) {
    (lww(1, 1, 0, 10_000), lww(2, 2, 5_000, 10_000))
}

fn setup_encoded_map() -> Vec<u8> {
    converge::encode(&lww(1, 1, 0, 10_000))
}

fn setup_items() -> Vec<(u64, u64)> {
    (0..100).map(|i| (i * 7919, i)).collect()
}

fn setup_values() -> Vec<u64> {
    (0..1_000).collect()
}

// A fresh replica applies another replica's whole history as one batch.
#[library_benchmark]
#[bench::typing_5000(setup_remote_ops())]
fn text_apply(input: (SequenceOps<String>, usize)) -> Text {
    let (ops, len) = input;
    let mut t = Text::new(ReplicaId(2));
    t.apply(&ops).expect("apply");
    assert_eq!(t.len(), len);
    black_box(t)
}

// Local edits, one call per patch.
#[library_benchmark]
#[bench::typing_5000(setup_session())]
fn text_local(patches: Vec<(usize, usize, String)>) -> Text {
    let mut t = Text::new(ReplicaId(1));
    for (pos, del, ins) in &patches {
        if *del > 0 {
            t.delete(*pos..*pos + *del).expect("in range");
        }
        if !ins.is_empty() {
            t.insert(*pos, ins).expect("in range");
        }
    }
    black_box(t)
}

// Decoding a text's full history.
#[library_benchmark]
#[bench::typing_5000(setup_encoded())]
fn text_decode(input: (Vec<u8>, usize)) -> Text {
    let (bytes, len) = input;
    let t = Text::decode(&bytes).expect("decodes");
    assert_eq!(t.len(), len);
    black_box(t)
}

// Merging two LWW maps of 10,000 keys, half shared.
#[library_benchmark]
#[bench::keys_10000(setup_maps())]
fn map_merge(maps: (LwwMap<u64, u64>, LwwMap<u64, u64>)) -> LwwMap<u64, u64> {
    let (mut a, b) = maps;
    a.merge(&b);
    assert_eq!(a.len(), 15_000);
    black_box(a)
}

// Decoding an LWW map of 10,000 keys.
#[library_benchmark]
#[bench::keys_10000(setup_encoded_map())]
fn map_decode(bytes: Vec<u8>) -> LwwMap<u64, u64> {
    let m: LwwMap<u64, u64> = converge::decode(&bytes).expect("decodes");
    assert_eq!(m.len(), 10_000);
    black_box(m)
}

// The seed library's headline: a batch insert of 100 items into an LWW map.
#[library_benchmark]
#[bench::items_100(setup_items())]
fn map_batch_insert(items: Vec<(u64, u64)>) -> (LwwMap<u64, u64>, LwwMap<u64, u64>) {
    let mut m = LwwMap::new();
    let delta = m.insert_batch(ReplicaId(1), &items);
    assert_eq!(m.len(), 100);
    black_box((m, delta))
}

// A batch insert of 1,000 values into a sequence list.
#[library_benchmark]
#[bench::values_1000(setup_values())]
fn list_batch_insert(values: Vec<u64>) -> List<u64> {
    let mut l = List::new(ReplicaId(1));
    l.insert_batch(0, &values).expect("in range");
    assert_eq!(l.len(), 1_000);
    black_box(l)
}

library_benchmark_group!(
    name = text;
    benchmarks = text_apply, text_local, text_decode
);

library_benchmark_group!(
    name = state;
    benchmarks = map_merge, map_decode, map_batch_insert, list_batch_insert
);

main!(library_benchmark_groups = text, state);
