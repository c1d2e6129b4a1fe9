//! The native baseline for `bench/run.mjs`: replays patches through `converge::doc::Doc` in
//! Rust, the way the npm package's batch entry point does in WebAssembly, and prints the time.
//!
//! Input on stdin, one patch per line: `pos del hex(inserted UTF-8)` (positions in chars).
//! Output, one line each with the final text's length: `per-call <ms>` (each patch its own
//! implicit transaction), `batch <ms>` (all patches in one transaction), `splice-batch <ms>`
//! (all patches in one `Doc::text_splice_batch` call, the kernel's batch), `utf16-batch <ms>`
//! (the same through `text_delete_utf16` / `text_insert_utf16`, the calls the binding makes)
//! and `binding-batch <ms>` (the binding's own `RawDoc::text_apply_patches`, compiled
//! natively: what `text.applyPatches` runs, without WebAssembly). The last two take the
//! positions as UTF-16 offsets, which equal char positions for an ASCII trace.
//!
//! `cargo run --release -p converge-wasm --example native_replay [MODE...] < patches.txt`
//! (modes named as in the output; all of them when none is given, e.g. `binding-batch` alone
//! for an instruction count under callgrind).

use std::io::Read;
use std::time::Instant;

use converge::ReplicaId;
use converge::doc::{ContainerKind, Doc};
use converge_wasm::RawDoc;

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
    let modes: Vec<String> = std::env::args().skip(1).collect();
    let want = |m: &str| modes.is_empty() || modes.iter().any(|x| x == m);
    for batch in [false, true] {
        if !want(if batch { "batch" } else { "per-call" }) {
            continue;
        }
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

    if want("splice-batch") {
        splice_batch(&patches);
    }
    if want("utf16-batch") {
        utf16_batch(&patches);
    }
    if want("binding-batch") {
        binding_batch(&patches);
    }
}

fn splice_batch(patches: &[(usize, usize, String)]) {
    let mut doc = Doc::new(ReplicaId(1));
    let text = doc.root("text", ContainerKind::Text);
    let t = Instant::now();
    let all = patches.iter().map(|(p, d, s)| (*p, *d, s.as_str()));
    doc.text_splice_batch(text, all).expect("patches in range");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("splice-batch {ms:.1} {}", doc.text_len(text).expect("text"));
}

fn utf16_batch(patches: &[(usize, usize, String)]) {
    let mut doc = Doc::new(ReplicaId(1));
    let text = doc.root("text", ContainerKind::Text);
    let t = Instant::now();
    doc.begin().expect("no transaction open");
    for (pos, del, ins) in patches {
        if *del > 0 {
            doc.text_delete_utf16(text, *pos..*pos + *del)
                .expect("patch in range");
        }
        if !ins.is_empty() {
            doc.text_insert_utf16(text, *pos, ins)
                .expect("patch in range");
        }
    }
    doc.commit().expect("commit");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("utf16-batch {ms:.1} {}", doc.text_len(text).expect("text"));
}

fn binding_batch(patches: &[(usize, usize, String)]) {
    // Packed as `Text.applyPatches` packs them in JS (the JS figure also times the packing).
    let mut ops = Vec::with_capacity(patches.len() * 3);
    let mut joined = String::new();
    for (pos, del, ins) in patches {
        ops.extend([*pos as u32, *del as u32, ins.encode_utf16().count() as u32]);
        joined.push_str(ins);
    }
    let mut raw = RawDoc::new(1);
    let h = raw.root("text", ContainerKind::Text as u8).expect("root");
    let t = Instant::now();
    raw.text_apply_patches(h, &ops, &joined)
        .expect("patches apply");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "binding-batch {ms:.1} {}",
        raw.text(h).expect("text").chars().count()
    );
}
