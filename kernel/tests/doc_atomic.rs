//! Atomic apply: truncated, corrupted, forged and oversized updates and snapshots return a
//! typed error and leave the document byte-for-byte unchanged (its `save()` output is
//! compared before and after every failed call).
//!
//! Forged updates are built with a mirror of the update format (`docs/sync.md`), which a test
//! below pins to the real encoding.

use converge::doc::{ContainerId, ContainerKind, Doc, DocError, Item, Origin, Value};
use converge::list::{SequenceOp, SequenceOps};
use converge::set::AwSetDelta;
use converge::{DecodeError, Dot, ReplicaId, VersionVector};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

const A: ReplicaId = ReplicaId(1);
const B: ReplicaId = ReplicaId(2);
const EVE: ReplicaId = ReplicaId(66);

/// Mirror of one update operation (same variants, same order).
#[derive(Clone, Debug, Serialize, Deserialize)]
enum WireOp {
    Create {
        kind: ContainerKind,
    },
    MapSet {
        map: ContainerId,
        key: String,
        value: Item,
    },
    MapDelete {
        map: ContainerId,
        key: String,
    },
    List {
        list: ContainerId,
        ops: SequenceOps<Vec<Item>>,
    },
    Text {
        text: ContainerId,
        ops: SequenceOps<String>,
    },
    Counter {
        counter: ContainerId,
        amount: i64,
    },
    Register {
        register: ContainerId,
        value: Value,
    },
    Set {
        set: ContainerId,
        delta: AwSetDelta<Value>,
    },
}

/// An operation whose container kind is a raw byte, to write kinds that do not exist.
#[derive(Clone, Debug, Serialize)]
enum RawOp {
    Create { kind: u8 },
}

/// Mirror of one update.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct WireUpdate<O> {
    author: ReplicaId,
    start: u64,
    lamport: u64,
    deps: VersionVector,
    names: Vec<String>,
    ops: Vec<O>,
}

const HEADER: [u8; 5] = [b'C', b'V', b'D', 2, 1];

fn unpack(bytes: &[u8]) -> Vec<WireUpdate<WireOp>> {
    assert_eq!(bytes[..5], HEADER);
    postcard::from_bytes(&bytes[5..]).expect("mirror matches the format")
}

fn pack<O: Serialize>(updates: &[WireUpdate<O>]) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    out.extend(postcard::to_allocvec(updates).unwrap());
    out
}

fn root(name: &str, kind: ContainerKind) -> ContainerId {
    ContainerId::root(name, kind)
}

/// A document with history in every container kind, and a message with more of it.
fn fixture() -> (Doc, Vec<u8>, Doc) {
    let (m, l, t) = (
        root("m", ContainerKind::Map),
        root("l", ContainerKind::List),
        root("t", ContainerKind::Text),
    );
    let (c, r, s) = (
        root("c", ContainerKind::Counter),
        root("r", ContainerKind::Register),
        root("s", ContainerKind::Set),
    );
    let mut a = Doc::new(A);
    a.text_insert(t, 0, "base").unwrap();
    a.map_set(m, "k", Value::Int(1)).unwrap();
    let mut b = Doc::new(B);
    b.apply_update(&a.encode_updates_since(&b.version()))
        .unwrap();
    b.counter_add(c, 1).unwrap();

    let since = a.version();
    let item = a.list_insert_container(l, 0, ContainerKind::Map).unwrap();
    let title = a
        .map_insert_container(item, "title", ContainerKind::Text)
        .unwrap();
    a.text_insert(title, 0, "nested").unwrap();
    a.text_splice(t, 1, 2, "AS").unwrap();
    a.map_set(m, "k", Value::from("two")).unwrap();
    a.map_delete(m, "gone").unwrap();
    a.counter_add(c, -4).unwrap();
    a.register_set(r, Value::Bytes(vec![1, 2])).unwrap();
    a.set_add_batch(s, &[Value::Int(1), Value::Float(0.5)])
        .unwrap();
    a.set_remove(s, &Value::Int(1)).unwrap();
    a.list_insert_batch(l, 1, &[Value::Null, Value::Bool(true)])
        .unwrap();
    let msg = a.encode_updates_since(&since);
    (b, msg, a)
}

/// Applies `bytes` to `doc`, expecting an error and no change at all.
fn assert_rejected(doc: &mut Doc, bytes: &[u8]) -> DocError {
    let before = doc.save().unwrap();
    let (version, roots) = (doc.version(), doc.roots());
    let err = doc
        .apply_update(bytes)
        .expect_err("the update must be rejected");
    assert_eq!(
        doc.save().unwrap(),
        before,
        "a failed apply changed the document ({err})"
    );
    assert_eq!(doc.version(), version);
    // The containers too (lists and texts are edited in place and rolled back).
    assert_eq!(
        doc.roots(),
        roots,
        "a failed apply changed a container ({err})"
    );
    err
}

#[test]
fn doc_atomic_mirror_matches_the_real_encoding() {
    let (_, msg, _) = fixture();
    let updates = unpack(&msg);
    assert_eq!(updates.len(), 11);
    assert_eq!(pack(&updates), msg);
}

#[test]
fn doc_atomic_every_truncation_is_rejected_unchanged() {
    let (mut b, msg, _) = fixture();
    b.queue_events(true);
    for len in 0..msg.len() {
        assert_rejected(&mut b, &msg[..len]);
    }
    assert!(b.take_events().is_empty());
    // The whole message is fine.
    assert_eq!(b.apply_update(&msg).unwrap().applied, 11);
}

#[test]
fn doc_atomic_corrupted_bytes_apply_fully_or_not_at_all() {
    let (b, msg, a) = fixture();
    let mut genuine = Doc::load(&b.save().unwrap()).unwrap();
    genuine.apply_update(&msg).unwrap();
    let mut rejected = 0;
    for i in 0..msg.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = msg.clone();
            bad[i] ^= mask;
            let mut doc = Doc::load(&b.save().unwrap()).unwrap();
            let (before, roots) = (doc.save().unwrap(), doc.roots());
            match doc.apply_update(&bad) {
                Err(_) => {
                    rejected += 1;
                    assert_eq!(doc.save().unwrap(), before, "byte {i} ^ {mask:#x}");
                    assert_eq!(doc.roots(), roots, "byte {i} ^ {mask:#x}");
                    // And it goes on as if the bad message had never come.
                    doc.apply_update(&msg).unwrap();
                    assert_eq!(doc.roots(), genuine.roots(), "byte {i} ^ {mask:#x}");
                    assert_eq!(doc.save().unwrap(), genuine.save().unwrap());
                }
                Ok(_) => {
                    // Whatever was accepted is a consistent document: it saves, loads back
                    // identical, and still syncs with the genuine author.
                    let saved = doc.save().unwrap();
                    let again = Doc::load(&saved).unwrap();
                    assert_eq!(again.roots(), doc.roots());
                    let _ = doc.apply_update(&a.encode_updates_since(&doc.version()));
                }
            }
        }
    }
    assert!(rejected > msg.len(), "most corruptions must be caught");
}

#[test]
fn doc_atomic_envelope_errors_are_typed() {
    let (mut b, msg, _) = fixture();
    let mut bad_magic = msg.clone();
    bad_magic[0] = b'X';
    assert_eq!(
        assert_rejected(&mut b, &bad_magic),
        DocError::Decode(DecodeError::BadMagic)
    );
    let mut bad_version = msg.clone();
    bad_version[3] = 9;
    assert_eq!(
        assert_rejected(&mut b, &bad_version),
        DocError::Decode(DecodeError::UnknownVersion { found: 9 })
    );
    let mut trailing = msg.clone();
    trailing.push(0);
    assert_eq!(
        assert_rejected(&mut b, &trailing),
        DocError::Decode(DecodeError::TrailingBytes { count: 1 })
    );
    // A snapshot is not an update message.
    let snapshot = b.save().unwrap();
    assert!(matches!(
        assert_rejected(&mut b, &snapshot),
        DocError::Decode(_)
    ));
    // A length prefix claiming 2^62 updates fails on the input's end, without allocating
    // for the claim.
    let mut huge = HEADER.to_vec();
    huge.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    assert!(matches!(
        assert_rejected(&mut b, &huge),
        DocError::Decode(_)
    ));
}

#[test]
fn doc_atomic_unknown_container_kind_is_a_decode_error() {
    let (mut b, _, _) = fixture();
    let forged = WireUpdate {
        author: EVE,
        start: 1,
        lamport: 1,
        deps: VersionVector::new(),
        names: Vec::new(),
        ops: vec![RawOp::Create { kind: 6 }],
    };
    assert!(matches!(
        assert_rejected(&mut b, &pack(&[forged])),
        DocError::Decode(_)
    ));
}

/// A genuine update from `EVE` that the forgeries below start from: it depends on nothing the
/// fixture's `b` lacks.
fn eve_update(b: &Doc) -> WireUpdate<WireOp> {
    let mut eve = Doc::load(&b.save().unwrap()).unwrap();
    // Re-home the copy as replica EVE by syncing into a fresh document.
    let mut fresh = Doc::new(EVE);
    fresh
        .apply_update(&eve.encode_updates_since(&VersionVector::new()))
        .unwrap();
    eve = fresh;
    let since = eve.version();
    eve.text_insert(root("t", ContainerKind::Text), 2, "eve")
        .unwrap();
    let mut u = unpack(&eve.encode_updates_since(&since));
    assert_eq!(u.len(), 1);
    u.pop().unwrap()
}

/// A forgery: its name, how it changes a genuine update, and the error it must cause.
fn with_op(u: &mut WireUpdate<WireOp>, op: WireOp) {
    u.ops = vec![op];
}

type Case = (
    &'static str,
    Box<dyn Fn(&mut WireUpdate<WireOp>)>,
    fn(&DocError) -> bool,
);

#[test]
fn doc_atomic_forged_updates_are_rejected_unchanged() {
    let (mut b, _, _) = fixture();
    let good = eve_update(&b);
    let text_ops = match &good.ops[0] {
        WireOp::Text { ops, .. } => ops.clone(),
        other => panic!("expected a text op, got {other:?}"),
    };
    let nowhere = ContainerId {
        kind: ContainerKind::Map,
        origin: Origin::Created(Dot::new(ReplicaId(99), 7)),
    };
    let cases: Vec<Case> = vec![
        ("no operations", Box::new(|u| u.ops.clear()), |e| {
            matches!(e, DocError::InvalidUpdate(_))
        }),
        ("counters out of order", Box::new(|u| u.start += 5), |e| {
            matches!(e, DocError::InvalidUpdate(_))
        }),
        ("counter zero", Box::new(|u| u.start = 0), |e| {
            matches!(e, DocError::InvalidUpdate(_))
        }),
        ("Lamport zero", Box::new(|u| u.lamport = 0), |e| {
            matches!(e, DocError::InvalidUpdate(_))
        }),
        (
            "Lamport time near overflow",
            Box::new(|u| u.lamport = u64::MAX - 1),
            |e| matches!(e, DocError::InvalidUpdate(_)),
        ),
        (
            "counter overflow",
            Box::new(|u| {
                u.start = u64::MAX;
                u.deps.advance(u.author, u64::MAX - 1);
            }),
            |e| matches!(e, DocError::InvalidUpdate(_)),
        ),
        (
            "id pointing at nothing",
            Box::new(move |u| {
                with_op(
                    u,
                    WireOp::MapSet {
                        map: nowhere,
                        key: "k".into(),
                        value: Item::Value(Value::Null),
                    },
                )
            }),
            |e| matches!(e, DocError::UnknownContainer(_)),
        ),
        (
            "nested reference to a container created elsewhere",
            Box::new(move |u| {
                with_op(
                    u,
                    WireOp::MapSet {
                        map: root("m", ContainerKind::Map),
                        key: "k".into(),
                        value: Item::Container(nowhere),
                    },
                )
            }),
            |e| matches!(e, DocError::UnknownContainer(_)),
        ),
        (
            "root nested in a map",
            Box::new(|u| {
                with_op(
                    u,
                    WireOp::MapSet {
                        map: root("m", ContainerKind::Map),
                        key: "k".into(),
                        value: Item::Container(root("other", ContainerKind::Text)),
                    },
                )
            }),
            |e| matches!(e, DocError::InvalidUpdate(_)),
        ),
        (
            "container nested in itself",
            Box::new(|u| {
                let me = ContainerId {
                    kind: ContainerKind::Map,
                    origin: Origin::Created(Dot::new(u.author, u.start + 1)),
                };
                u.ops = vec![
                    WireOp::Create {
                        kind: ContainerKind::Map,
                    },
                    WireOp::MapSet {
                        map: me,
                        key: "self".into(),
                        value: Item::Container(ContainerId {
                            kind: ContainerKind::Map,
                            origin: Origin::Created(Dot::new(u.author, u.start)),
                        }),
                    },
                    WireOp::MapSet {
                        map: ContainerId {
                            kind: ContainerKind::Map,
                            origin: Origin::Created(Dot::new(u.author, u.start)),
                        },
                        key: "loop".into(),
                        value: Item::Container(ContainerId {
                            kind: ContainerKind::Map,
                            origin: Origin::Created(Dot::new(u.author, u.start)),
                        }),
                    },
                ];
            }),
            |e| matches!(e, DocError::UnknownContainer(_)),
        ),
        (
            "operation on the wrong kind",
            Box::new(|u| {
                with_op(
                    u,
                    WireOp::Register {
                        register: ContainerId {
                            kind: ContainerKind::Map,
                            origin: root("m", ContainerKind::Map).origin,
                        },
                        value: Value::Null,
                    },
                )
            }),
            |e| matches!(e, DocError::WrongKind { .. }),
        ),
        (
            "text operation attributed to another replica",
            Box::new(move |u| {
                let mut ops = text_ops.clone();
                if let SequenceOp::Insert { id, .. } = &mut ops.ops[0] {
                    id.replica = A;
                }
                with_op(
                    u,
                    WireOp::Text {
                        text: root("t", ContainerKind::Text),
                        ops,
                    },
                )
            }),
            |e| matches!(e, DocError::InvalidUpdate(_)),
        ),
        (
            "text origin pointing at nothing",
            Box::new(move |u| {
                let mut ops = match &u.ops[0] {
                    WireOp::Text { ops, .. } => ops.clone(),
                    _ => unreachable!(),
                };
                if let SequenceOp::Insert { origin_left, .. } = &mut ops.ops[0] {
                    *origin_left = Some(Dot::new(ReplicaId(99), 1000));
                }
                with_op(
                    u,
                    WireOp::Text {
                        text: root("t", ContainerKind::Text),
                        ops,
                    },
                )
            }),
            |e| matches!(e, DocError::InvalidUpdate(_)),
        ),
        (
            "set insert attributed to another replica",
            Box::new(|u| {
                let mut other = converge::AwSet::new();
                let delta = other.insert(A, Value::Int(5));
                with_op(
                    u,
                    WireOp::Set {
                        set: root("s", ContainerKind::Set),
                        delta,
                    },
                )
            }),
            |e| matches!(e, DocError::InvalidUpdate(_)),
        ),
    ];
    let header_forgeries = 6;
    for (n, (name, forge, expected)) in cases.into_iter().enumerate() {
        let mut u = good.clone();
        forge(&mut u);
        let err = assert_rejected(&mut b, &pack(&[u.clone()]));
        assert!(expected(&err), "{name}: unexpected error {err:?}");
        if n >= header_forgeries {
            // Sent right after the genuine update it follows, in one message, the bad
            // operation sinks the whole message: the genuine update is not applied either.
            u.start = good.start + good.ops.len() as u64;
            u.deps.advance(u.author, u.start - 1);
            u.lamport = good.lamport + good.ops.len() as u64;
            let err = assert_rejected(&mut b, &pack(&[good.clone(), u]));
            assert!(expected(&err), "{name} (bundled): unexpected error {err:?}");
        }
    }
    // The genuine update itself applies.
    assert_eq!(b.apply_update(&pack(&[good])).unwrap().applied, 1);
}

#[test]
fn doc_atomic_conflicting_and_overlapping_ids_are_rejected() {
    let (mut b, msg, _) = fixture();
    b.apply_update(&msg).unwrap();
    let mut updates = unpack(&msg);
    // Same id as a known update, different content.
    let mut conflict = updates[0].clone();
    conflict.lamport += 1;
    assert!(matches!(
        assert_rejected(&mut b, &pack(&[conflict])),
        DocError::Conflict { author: A, .. }
    ));
    // Starts in the middle of a known update's counters.
    let multi = updates
        .iter()
        .position(|u| u.ops.len() > 1)
        .expect("the fixture has a multi-op update");
    let mut overlap = updates.remove(multi);
    overlap.start += 1;
    overlap.deps.advance(overlap.author, overlap.start - 1);
    overlap.ops.pop();
    assert!(matches!(
        assert_rejected(&mut b, &pack(&[overlap])),
        DocError::InvalidUpdate(_)
    ));
}

#[test]
fn doc_atomic_invalid_buffered_update_is_dropped_when_ready() {
    let (b, _, _) = fixture();
    let mut good = eve_update(&b);
    // Make EVE's update depend on a second EVE update that has not arrived.
    let mut first = good.clone();
    first.ops = vec![WireOp::Counter {
        counter: root("c", ContainerKind::Counter),
        amount: 1,
    }];
    good.start += 1;
    good.deps.advance(EVE, 1);
    good.lamport += 1;
    let mut forged = good.clone();
    forged.ops = vec![WireOp::Counter {
        counter: ContainerId {
            kind: ContainerKind::Counter,
            origin: Origin::Created(Dot::new(ReplicaId(99), 1)),
        },
        amount: 5,
    }];

    let mut doc = Doc::load(&b.save().unwrap()).unwrap();
    let r = doc.apply_update(&pack(&[forged])).unwrap();
    assert_eq!((r.applied, r.pending), (0, 1));
    let r = doc.apply_update(&pack(&[first.clone()])).unwrap();
    assert_eq!((r.applied, r.pending, r.rejected), (1, 0, 1));
    // The genuine second update still applies afterwards.
    let r = doc.apply_update(&pack(&[good])).unwrap();
    assert_eq!(r.applied, 1);
    assert_eq!(doc.counter(root("c", ContainerKind::Counter)).unwrap(), 2);
}

#[test]
fn doc_atomic_memory_budget_refuses_what_does_not_fit() {
    let (b, msg, _) = fixture();
    let saved = b.save().unwrap();
    let used = Doc::load(&saved).unwrap().memory_used();
    assert!(used > 0);
    // Room for the current history plus a little: the big message does not fit.
    let mut tight = Doc::load_with_memory_limit(&saved, used + 64).unwrap();
    let err = assert_rejected(&mut tight, &msg);
    assert!(matches!(err, DocError::BudgetExceeded { .. }), "{err:?}");
    // Neither does a snapshot larger than the limit.
    assert!(matches!(
        Doc::load_with_memory_limit(&saved, used / 2),
        Err(DocError::BudgetExceeded { .. })
    ));
    // With room it applies, and the charge grows.
    let mut roomy = Doc::load_with_memory_limit(&saved, used + msg.len() * 2).unwrap();
    roomy.apply_update(&msg).unwrap();
    assert!(roomy.memory_used() > used);
    // Local edits are charged too, and refused when the budget is spent.
    let mut full = Doc::with_memory_limit(A, 40);
    let l = root("l", ContainerKind::List);
    let big: Vec<Value> = (0..50).map(Value::Int).collect();
    let before = full.save().unwrap();
    assert!(matches!(
        full.list_insert_batch(l, 0, &big),
        Err(DocError::BudgetExceeded { .. })
    ));
    assert_eq!(full.save().unwrap(), before);
    assert_eq!(full.list_len(l).unwrap(), 0);
    // So is an explicit transaction, whose text goes back to where it began.
    let t = root("t", ContainerKind::Text);
    let mut small = Doc::with_memory_limit(A, 200);
    small.text_insert(t, 0, "kept").unwrap();
    let before = small.save().unwrap();
    small.begin().unwrap();
    small.text_delete(t, 0..2).unwrap();
    small.text_insert(t, 2, &"x".repeat(300)).unwrap();
    assert!(matches!(
        small.commit(),
        Err(DocError::BudgetExceeded { .. })
    ));
    assert_eq!(small.save().unwrap(), before);
    assert_eq!(small.text(t).unwrap(), "kept");
    small.text_insert(t, 4, "!").unwrap();
    assert_eq!(small.text(t).unwrap(), "kept!");
}

#[test]
fn doc_atomic_bad_snapshots_fail_to_load() {
    let (b, _, _) = fixture();
    let saved = b.save().unwrap();
    for len in 0..saved.len() {
        assert!(Doc::load(&saved[..len]).is_err(), "prefix {len} loaded");
    }
    let mut msg = saved.clone();
    msg[4] = 1; // an update message is not a snapshot
    assert!(Doc::load(&msg).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn doc_atomic_arbitrary_bytes_never_panic_or_change_state(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (mut b, _, _) = fixture();
        let before = b.save().unwrap();
        let mut with_header = HEADER.to_vec();
        with_header.extend(&bytes);
        for input in [&bytes, &with_header] {
            if b.apply_update(input).is_err() {
                prop_assert_eq!(b.save().unwrap(), before.clone());
            }
            let _ = Doc::load(input);
        }
    }
}

#[test]
fn doc_atomic_nesting_is_limited() {
    use converge::doc::MAX_DEPTH;
    let m = root("m", ContainerKind::Map);
    // Locally: MAX_DEPTH levels fit, one more is refused without changing anything.
    let mut a = Doc::new(A);
    a.begin().unwrap();
    let mut parent = m;
    for _ in 0..MAX_DEPTH {
        parent = a
            .map_insert_container(parent, "k", ContainerKind::Map)
            .unwrap();
    }
    a.commit().unwrap();
    let before = a.save().unwrap();
    assert_eq!(
        a.map_insert_container(parent, "k", ContainerKind::Map),
        Err(DocError::TooDeep { limit: MAX_DEPTH })
    );
    assert_eq!(a.save().unwrap(), before);
    let mut b = Doc::new(B);
    b.apply_update(&a.encode_updates_since(&b.version()))
        .unwrap();
    assert_eq!(a.to_tree(m), b.to_tree(m));

    // A forged update nesting one level deeper than allowed is rejected.
    let mut ops = Vec::new();
    let mut parent = m;
    for i in 0..=u64::from(MAX_DEPTH) {
        let child = ContainerId {
            kind: ContainerKind::Map,
            origin: Origin::Created(Dot::new(EVE, 1 + 2 * i)),
        };
        ops.push(WireOp::Create {
            kind: ContainerKind::Map,
        });
        ops.push(WireOp::MapSet {
            map: parent,
            key: "deep".into(),
            value: Item::Container(child),
        });
        parent = child;
    }
    let forged = WireUpdate {
        author: EVE,
        start: 1,
        lamport: 1,
        deps: VersionVector::new(),
        names: Vec::new(),
        ops,
    };
    assert_eq!(
        assert_rejected(&mut b, &pack(std::slice::from_ref(&forged))),
        DocError::TooDeep { limit: MAX_DEPTH }
    );
    // One level less is fine.
    let mut ok = forged;
    ok.ops.truncate(ok.ops.len() - 2);
    assert_eq!(b.apply_update(&pack(&[ok])).unwrap().applied, 1);
}
