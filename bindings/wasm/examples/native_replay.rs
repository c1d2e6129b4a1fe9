//! The native baseline for `bench/run.mjs`: replays patches through `converge::doc::Doc` in
//! Rust, the way the npm package's batch entry point does in WebAssembly, and prints the time.
//!
//! Input on stdin, one patch per line: `pos del hex(inserted UTF-8)` (positions in chars).
//! Output: `per-call <ms>` (each patch its own implicit transaction) and `batch <ms>` (all
//! patches in one transaction, as `text.applyPatches`), then the final text's length.
//!
//! `cargo run --release -p converge-wasm --example native_replay < patches.txt`

use std::io::Read;
use std::time::Instant;

use converge::ReplicaId;
use converge::doc::{ContainerKind, Doc};

fn unhex(s: &str) -> String {
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect();
    String::from_utf8(bytes).expect("UTF-8")
}

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    let patches: Vec<(usize, usize, String)> = input
        .lines()
        .map(|l| {
            let mut f = l.split(' ');
            let pos = f.next().and_then(|x| x.parse().ok()).expect("pos");
            let del = f.next().and_then(|x| x.parse().ok()).expect("del");
            (pos, del, unhex(f.next().unwrap_or("")))
        })
        .collect();
    for batch in [false, true] {
        let mut doc = Doc::new(ReplicaId(1));
        let text = doc.root("text", ContainerKind::Text);
        let t = Instant::now();
        if batch {
            doc.begin().expect("no transaction open");
        }
        for (pos, del, ins) in &patches {
            doc.text_splice(text, *pos, *del, ins)
                .expect("patch in range");
        }
        if batch {
            doc.commit().expect("commit");
        }
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let len = doc.text_len(text).expect("text");
        println!("{} {ms:.1} {len}", if batch { "batch" } else { "per-call" });
    }
}
