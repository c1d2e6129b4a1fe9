//! `Doc::load` on hostile bytes: never panics; whatever loads saves and loads back to the same
//! tree, and resends its history without panicking. Mode byte: 0 = raw bytes, odd = a genuine
//! state snapshot, even = a genuine history export, each with bytes XORed in at chosen
//! positions.
#![no_main]

use std::sync::OnceLock;

use converge::doc::{ContainerId, ContainerKind, Doc, Value};
use converge::{ReplicaId, VersionVector};
use libfuzzer_sys::fuzz_target;

fn genuine(history: bool) -> &'static [u8] {
    static SAVED: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    let (snapshot, export) = SAVED.get_or_init(|| {
        let mut d = Doc::new(ReplicaId(3));
        let map = ContainerId::root("m", ContainerKind::Map);
        let list = ContainerId::root("l", ContainerKind::List);
        d.map_set(map, "a", Value::Int(-4)).unwrap();
        let inner = d
            .map_insert_container(map, "t", ContainerKind::Text)
            .unwrap();
        d.text_insert(inner, 0, "héllo").unwrap();
        d.text_delete(inner, 1..3).unwrap();
        d.list_insert(list, 0, Value::Null).unwrap();
        d.list_insert(list, 1, Value::from("x")).unwrap();
        d.list_delete(list, 0..1).unwrap();
        d.counter_add(ContainerId::root("c", ContainerKind::Counter), 5)
            .unwrap();
        d.register_set(
            ContainerId::root("r", ContainerKind::Register),
            Value::Float(0.5),
        )
        .unwrap();
        (d.save().unwrap(), d.save_history().unwrap())
    });
    if history { export } else { snapshot }
}

fuzz_target!(|data: &[u8]| {
    let input: Vec<u8> = match data.split_first() {
        Some((&0, rest)) => rest.to_vec(),
        Some((&mode, rest)) => {
            let mut snapshot = genuine(mode % 2 == 0).to_vec();
            for edit in rest.chunks_exact(3) {
                let pos = u16::from_le_bytes([edit[0], edit[1]]) as usize % snapshot.len();
                snapshot[pos] ^= edit[2];
            }
            snapshot
        }
        None => return,
    };
    if let Ok(doc) = Doc::load(&input) {
        let saved = doc.save().expect("save a loaded doc");
        let again = Doc::load(&saved).expect("load what we saved");
        assert_eq!(again.roots(), doc.roots());
        let all = doc.encode_updates_since(&VersionVector::new());
        let _ = Doc::new(ReplicaId(9)).apply_update(&all);
    }
});
