//! `Doc::apply_update` on hostile bytes: any input is either applied or rejected with a typed
//! error, and a rejected update leaves the document byte-for-byte as it was.
//!
//! The first input byte picks the mode: 0 feeds the rest as raw bytes; anything else takes a
//! genuine update from another replica and XORs bytes into it at positions the input chooses,
//! so the fuzzer reaches the decoder's and validator's deep paths, not just the header check.
#![no_main]

use std::sync::OnceLock;

use converge::doc::{ContainerId, ContainerKind, Doc, Value};
use converge::{ReplicaId, VersionVector};
use libfuzzer_sys::fuzz_target;

fn seeded() -> Doc {
    let mut d = Doc::new(ReplicaId(7));
    let map = ContainerId::root("m", ContainerKind::Map);
    let text = ContainerId::root("t", ContainerKind::Text);
    d.map_set(map, "k", Value::Int(1)).unwrap();
    d.text_insert(text, 0, "hello").unwrap();
    d
}

/// Updates from a second replica that edits every container kind, including nested ones.
fn genuine_update() -> &'static [u8] {
    static UPDATE: OnceLock<Vec<u8>> = OnceLock::new();
    UPDATE.get_or_init(|| {
        let base = seeded();
        // Same history, a different writer.
        let mut other = Doc::new(ReplicaId(9));
        other
            .apply_update(&base.encode_updates_since(&VersionVector::new()))
            .unwrap();
        let map = ContainerId::root("m", ContainerKind::Map);
        let text = ContainerId::root("t", ContainerKind::Text);
        let list = ContainerId::root("l", ContainerKind::List);
        other.begin().unwrap();
        other.map_set(map, "k", Value::from("two")).unwrap();
        other.text_insert(text, 5, ", world").unwrap();
        other.text_delete(text, 0..1).unwrap();
        other.list_insert(list, 0, Value::Float(1.5)).unwrap();
        let inner = other
            .list_insert_container(list, 1, ContainerKind::Map)
            .unwrap();
        other
            .map_set(inner, "x", Value::Bytes(vec![1, 2, 3]))
            .unwrap();
        other.commit().unwrap();
        other
            .counter_add(ContainerId::root("c", ContainerKind::Counter), -3)
            .unwrap();
        other
            .set_add(
                ContainerId::root("s", ContainerKind::Set),
                Value::Bool(true),
            )
            .unwrap();
        other.encode_updates_since(&base.version())
    })
}

fuzz_target!(|data: &[u8]| {
    let input: Vec<u8> = match data.split_first() {
        Some((&0, rest)) => rest.to_vec(),
        Some((_, rest)) => {
            let mut update = genuine_update().to_vec();
            for edit in rest.chunks_exact(3) {
                let pos = u16::from_le_bytes([edit[0], edit[1]]) as usize % update.len();
                update[pos] ^= edit[2];
            }
            update
        }
        None => return,
    };
    let mut doc = seeded();
    let before = doc.save().expect("save");
    match doc.apply_update(&input) {
        Ok(_) => {
            // Whatever was accepted must survive a save/load round trip.
            let saved = doc.save().expect("save after apply");
            let loaded = Doc::load(&saved).expect("load what we saved");
            assert_eq!(loaded.roots(), doc.roots());
        }
        Err(_) => assert_eq!(
            doc.save().expect("save"),
            before,
            "failed apply changed the doc"
        ),
    }
});
