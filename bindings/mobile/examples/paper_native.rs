//! The native side of the mobile benchmark: automerge-paper typed into the kernel's `Doc`
//! directly (no FFI), the way the Kotlin benchmark types it through the binding.
//! `cargo run --release -p converge-ffi --example paper_native -- <trace.json.gz> [runs]`
//! prints `percall_ms=<best> txn_ms=<best> splice_batch_ms=<best> ffi_batch_rust_ms=<best>
//! patches=<n>` (one implicit transaction per patch; every patch in one transaction; one
//! `text_splice_batch` call, which is what the batch call makes; the batch call's Rust side).
//!
//! A timed run is what the Kotlin benchmark times too: a new `Doc`, the patches as `&str`
//! with char positions (no conversion per call, no listener), and reading the final text.

use std::io::Read;
use std::time::Instant;

use converge::ReplicaId;
use converge::doc::{ContainerId, ContainerKind, Doc};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("path of automerge-paper.json.gz");
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let mut json = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("trace file"))
        .read_to_string(&mut json)
        .expect("gzipped UTF-8");
    let trace: serde_json::Value = serde_json::from_str(&json).expect("trace JSON");
    let end = trace["endContent"].as_str().expect("endContent").to_owned();
    let mut patches: Vec<(usize, usize, String)> = Vec::new();
    for txn in trace["txns"].as_array().expect("txns") {
        for p in txn["patches"].as_array().expect("patches") {
            let n = |i: usize| p[i].as_u64().expect("number") as usize;
            patches.push((n(0), n(1), p[2].as_str().expect("text").to_owned()));
        }
    }
    let text = ContainerId::root("text", ContainerKind::Text);
    let mut batch = f64::MAX;
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut doc = Doc::new(ReplicaId(1));
        let all = patches.iter().map(|(p, d, s)| (*p, *d, s.as_str()));
        doc.text_splice_batch(text, all).expect("patches in range");
        let out = doc.text(text).expect("a text");
        batch = batch.min(t0.elapsed().as_secs_f64() * 1e3);
        assert_eq!(out, end, "final text");
    }
    let mut best = [f64::MAX; 2];
    for _ in 0..runs {
        for (mode, slot) in best.iter_mut().enumerate() {
            let t0 = Instant::now();
            let mut doc = Doc::new(ReplicaId(1));
            if mode == 1 {
                doc.begin().expect("no transaction open");
            }
            for (pos, del, ins) in &patches {
                doc.text_splice(text, *pos, *del, ins)
                    .expect("patch in range");
            }
            if mode == 1 {
                doc.commit().expect("no memory limit");
            }
            let out = doc.text(text).expect("a text");
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            assert_eq!(out, end, "final text");
            *slot = slot.min(ms);
        }
    }
    // The binding's Rust side without the JVM: the batch call's bytes (encoded here, outside
    // the timing, as the Kotlin layer encodes them) through `converge_ffi`'s `DocText`.
    let bytes = encode_patches(&patches);
    let mut ffi = f64::MAX;
    for _ in 0..runs {
        let t0 = Instant::now();
        let doc = converge_ffi::Doc::new(1);
        let t = doc.text("text");
        t.apply_patches_encoded(bytes.clone())
            .expect("patches in range");
        let out = t.value().expect("a text");
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        assert_eq!(out, end, "final text");
        ffi = ffi.min(ms);
    }
    println!(
        "percall_ms={:.1} txn_ms={:.1} splice_batch_ms={:.1} ffi_batch_rust_ms={:.1} patches={}",
        best[0],
        best[1],
        batch,
        ffi,
        patches.len()
    );
}

/// The patches in the batch call's format (`src/edits.rs`): LEB128 position, delete count,
/// UTF-8 length, then the UTF-8 bytes.
fn encode_patches(patches: &[(usize, usize, String)]) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, mut v: usize) {
        while v >= 0x80 {
            out.push((v & 0x7f) as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut out = Vec::new();
    for (pos, del, ins) in patches {
        put(&mut out, *pos);
        put(&mut out, *del);
        put(&mut out, ins.len());
        out.extend_from_slice(ins.as_bytes());
    }
    out
}
