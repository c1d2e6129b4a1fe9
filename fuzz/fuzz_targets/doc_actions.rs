//! Random edits on three replicas with random, partial syncs: always valid inputs (indices are
//! wrapped), so the fuzzer explores behaviour rather than parse errors. After a full sync every
//! replica must hold the same tree.
#![no_main]

use arbitrary::Arbitrary;
use converge::ReplicaId;
use converge::doc::{ContainerId, ContainerKind, Doc, Value};
use libfuzzer_sys::fuzz_target;

const REPLICAS: usize = 3;

#[derive(Arbitrary, Debug)]
enum Action {
    MapSet { r: u8, key: u8, value: i64 },
    MapDelete { r: u8, key: u8 },
    ListInsert { r: u8, pos: u16, value: i64 },
    ListDelete { r: u8, pos: u16, len: u8 },
    TextInsert { r: u8, pos: u16, s: String },
    TextDelete { r: u8, pos: u16, len: u8 },
    CounterAdd { r: u8, by: i32 },
    RegisterSet { r: u8, value: bool },
    SetAdd { r: u8, value: u8 },
    SetRemove { r: u8, value: u8 },
    Sync { from: u8, to: u8 },
}

fn roots() -> [ContainerId; 6] {
    [
        ContainerId::root("map", ContainerKind::Map),
        ContainerId::root("list", ContainerKind::List),
        ContainerId::root("text", ContainerKind::Text),
        ContainerId::root("counter", ContainerKind::Counter),
        ContainerId::root("register", ContainerKind::Register),
        ContainerId::root("set", ContainerKind::Set),
    ]
}

fn sync(docs: &mut [Doc], from: usize, to: usize) {
    if from == to {
        return;
    }
    let bytes = docs[from].encode_updates_since(&docs[to].version());
    docs[to]
        .apply_update(&bytes)
        .expect("a peer's own update applies");
}

fuzz_target!(|actions: Vec<Action>| {
    let [map, list, text, counter, register, set] = roots();
    let mut docs: Vec<Doc> = (0..REPLICAS)
        .map(|i| Doc::new(ReplicaId(i as u64 + 1)))
        .collect();
    let pick = |r: u8| r as usize % REPLICAS;
    for action in actions.into_iter().take(256) {
        match action {
            Action::MapSet { r, key, value } => {
                docs[pick(r)]
                    .map_set(map, &format!("k{}", key % 8), Value::Int(value))
                    .unwrap();
            }
            Action::MapDelete { r, key } => {
                let _ = docs[pick(r)].map_delete(map, &format!("k{}", key % 8));
            }
            Action::ListInsert { r, pos, value } => {
                let d = &mut docs[pick(r)];
                let len = d.list_len(list).unwrap();
                d.list_insert(list, pos as usize % (len + 1), Value::Int(value))
                    .unwrap();
            }
            Action::ListDelete { r, pos, len } => {
                let d = &mut docs[pick(r)];
                let n = d.list_len(list).unwrap();
                if n > 0 {
                    let start = pos as usize % n;
                    let end = (start + len as usize % 4 + 1).min(n);
                    d.list_delete(list, start..end).unwrap();
                }
            }
            Action::TextInsert { r, pos, s } => {
                let d = &mut docs[pick(r)];
                let n = d.text_len(text).unwrap();
                let s: String = s.chars().take(16).collect();
                d.text_insert(text, pos as usize % (n + 1), &s).unwrap();
            }
            Action::TextDelete { r, pos, len } => {
                let d = &mut docs[pick(r)];
                let n = d.text_len(text).unwrap();
                if n > 0 {
                    let start = pos as usize % n;
                    let end = (start + len as usize % 8 + 1).min(n);
                    d.text_delete(text, start..end).unwrap();
                }
            }
            Action::CounterAdd { r, by } => docs[pick(r)].counter_add(counter, by as i64).unwrap(),
            Action::RegisterSet { r, value } => docs[pick(r)]
                .register_set(register, Value::Bool(value))
                .unwrap(),
            Action::SetAdd { r, value } => docs[pick(r)]
                .set_add(set, Value::Int((value % 16) as i64))
                .unwrap(),
            Action::SetRemove { r, value } => docs[pick(r)]
                .set_remove(set, &Value::Int((value % 16) as i64))
                .unwrap(),
            Action::Sync { from, to } => sync(&mut docs, pick(from), pick(to)),
        }
    }
    // Anti-entropy: everyone sends everyone what they lack, twice around.
    for _ in 0..2 {
        for from in 0..REPLICAS {
            for to in 0..REPLICAS {
                sync(&mut docs, from, to);
            }
        }
    }
    let first = docs[0].roots();
    for d in &docs[1..] {
        assert_eq!(d.roots(), first, "replicas diverged after full sync");
        assert_eq!(d.version(), docs[0].version());
    }
});
