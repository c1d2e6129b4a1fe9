//! Documented behaviour of the state CRDTs, one scenario per test.

use converge::{
    AwSet, CausalContext, Crdt, DecodeError, Dot, GCounter, LwwMap, LwwRegister, MvRegister, OrMap,
    PNCounter, ReplicaId, Timestamp, decode, encode,
};

const A: ReplicaId = ReplicaId(1);
const B: ReplicaId = ReplicaId(2);
const C: ReplicaId = ReplicaId(3);

#[test]
fn aw_set_add_wins_over_concurrent_remove() {
    let mut a = AwSet::new();
    a.insert(A, 7u32);
    let mut b = a.clone();
    // b removes the element it saw; a concurrently re-inserts it.
    let rm = b.remove(&7);
    let add = a.insert(A, 7);
    assert!(!b.contains(&7));
    a.merge_delta(&rm);
    b.merge_delta(&add);
    assert!(a.contains(&7));
    assert!(b.contains(&7));
    assert_eq!(a, b);
}

#[test]
fn aw_set_remove_of_seen_insert_sticks() {
    let mut a = AwSet::new();
    let add = a.insert(A, "x");
    let mut b = AwSet::new();
    b.merge_delta(&add);
    let rm = b.remove(&"x");
    a.merge_delta(&rm);
    // Re-delivering the old insert must not resurrect the element.
    a.merge_delta(&add);
    b.merge_delta(&add);
    assert!(!a.contains(&"x") && !b.contains(&"x"));
    assert_eq!(a, b);
}

#[test]
fn aw_set_concurrent_inserts_both_survive_a_remove_of_one() {
    let mut a = AwSet::new();
    let mut b = AwSet::new();
    let da = a.insert(A, 1u8);
    let db = b.insert(B, 1u8);
    let mut c = AwSet::new();
    c.merge_delta(&da);
    let rm = c.remove(&1); // saw only a's insert
    for s in [&mut a, &mut b] {
        s.merge_delta(&da);
        s.merge_delta(&db);
        s.merge_delta(&rm);
    }
    assert!(a.contains(&1), "b's unseen insert keeps the element");
    assert_eq!(a, b);
    assert_eq!(a.dot_count(), 1);
}

#[test]
fn aw_set_removal_does_not_grow_state() {
    let mut a = AwSet::new();
    a.insert(A, 0u64);
    let mut b = a.clone();
    let small = encode(&a).len();
    for round in 1..=200u64 {
        let add = a.insert_batch(A, &[round, round + 1000, round + 2000]);
        b.merge_delta(&add);
        let rm = b.remove_batch(&[round, round + 1000, round + 2000]);
        a.merge_delta(&rm);
    }
    for s in [&a, &b] {
        assert_eq!(s.len(), 1);
        assert_eq!(s.dot_count(), 1, "no dots kept for removed elements");
        assert!(s.context().cloud().is_empty(), "context compacted");
        assert_eq!(s.context().version_vector().len(), 1);
        s.check_invariants().unwrap();
    }
    assert_eq!(a, b);
    // Only the counter's varint grew: a few bytes, not 600 removed elements' worth.
    assert!(
        encode(&a).len() <= small + 2,
        "{} vs {}",
        encode(&a).len(),
        small
    );
}

#[test]
fn aw_set_out_of_order_deltas_converge_and_compact() {
    let mut a = AwSet::new();
    let d1 = a.insert(A, 'p');
    let d2 = a.insert(A, 'q');
    let d3 = a.remove(&'p');
    let mut b = AwSet::new();
    b.merge_delta(&d2);
    assert!(!b.context().cloud().is_empty(), "dot 2 seen before dot 1");
    b.merge_delta(&d3); // the remove observed dot 1
    assert!(b.context().cloud().is_empty());
    b.merge_delta(&d1); // the late insert stays removed
    assert_eq!(a, b);
    assert!(!b.contains(&'p') && b.contains(&'q'));
}

#[test]
fn lww_register_ties_break_by_replica_id() {
    let mut a = LwwRegister::new();
    let mut b = LwwRegister::new();
    let da = a.set(A, "a");
    let db = b.set(B, "b");
    assert_eq!(
        da.timestamp().unwrap().lamport,
        db.timestamp().unwrap().lamport
    );
    a.merge_delta(&db);
    b.merge_delta(&da);
    assert_eq!(a.get(), Some(&"b"));
    assert_eq!(b.get(), Some(&"b"));
    // A later write by the lower replica wins: Lamport comes first.
    let d = a.set(A, "a2");
    b.merge_delta(&d);
    assert_eq!(b.get(), Some(&"a2"));
}

#[test]
fn lww_register_set_at_older_timestamp_loses() {
    let mut r = LwwRegister::new();
    r.set_at(Timestamp::new(10, A), 1);
    r.set_at(Timestamp::new(5, C), 2);
    assert_eq!(r.get(), Some(&1));
    assert_eq!(r.next_timestamp(B), Timestamp::new(11, B));
}

#[test]
fn pn_counter_goes_negative() {
    let mut a = PNCounter::new();
    let mut b = PNCounter::new();
    let d1 = a.inc(A, 3);
    let d2 = b.dec(B, 5);
    let d3 = b.add(B, -4);
    a.merge_batch(&[d2, d3]);
    b.merge_delta(&d1);
    assert_eq!(a.value(), -6);
    assert_eq!(a, b);
}

#[test]
fn g_counter_counts_every_replica_once() {
    let mut a = GCounter::new();
    let d = a.inc(A, 4);
    let mut b = GCounter::new();
    b.inc(B, 1);
    b.merge_delta(&d);
    b.merge_delta(&d);
    a.merge(&b);
    assert_eq!(a.value(), 5);
    assert_eq!(a.get(A), 4);
    assert_eq!(a.inc(A, 0), GCounter::new());
}

#[test]
fn mv_register_keeps_concurrent_values_until_resolved() {
    let mut a = MvRegister::new();
    let mut b = MvRegister::new();
    let da = a.set(A, "x");
    let db = b.set(B, "y");
    a.merge_delta(&db);
    b.merge_delta(&da);
    assert_eq!(a.len(), 2);
    assert_eq!(a.get(), None);
    let mut vals: Vec<_> = a.values().copied().collect();
    vals.sort();
    assert_eq!(vals, ["x", "y"]);
    assert_eq!(a, b);
    let fix = b.set(B, "z");
    a.merge_delta(&fix);
    assert_eq!(a.get(), Some(&"z"));
    assert_eq!(a, b);
}

#[test]
fn lww_map_remove_leaves_a_tombstone_that_beats_older_writes() {
    let mut a = LwwMap::new();
    let old = a.insert(A, 1u8, "one");
    let mut b = a.clone();
    let rm = b.remove(B, &1);
    assert_eq!((b.len(), b.tombstones()), (0, 1));
    let mut c = LwwMap::new();
    c.merge_delta(&rm);
    c.merge_delta(&old); // arrives late, older than the remove
    assert!(!c.contains_key(&1));
    // Once every replica has passed the remove's Lamport time, the tombstone can go.
    assert_eq!(c.purge_tombstones(rm.timestamp(&1).unwrap().lamport), 1);
    assert_eq!(c.tombstones(), 0);
}

#[test]
fn lww_map_batch_ops() {
    let mut m = LwwMap::new();
    m.insert_batch(A, &[(1u8, 10u32), (2, 20), (1, 11)]);
    assert_eq!(m.get_batch(&[1, 2, 3]), [Some(11), Some(20), None]);
    m.update_batch(B, &[2, 3], |_, v| v.copied().unwrap_or(0) + 1);
    assert_eq!(m.get_batch(&[2, 3]), [Some(21), Some(1)]);
    m.remove_batch(A, &[1, 9]);
    assert_eq!(m.contains_keys(&[1, 2, 3, 9]), [false, true, true, false]);
}

#[test]
fn or_map_nested_merge_joins_values() {
    let mut a: OrMap<&str, PNCounter> = OrMap::new();
    let mut b: OrMap<&str, PNCounter> = OrMap::new();
    let da = a.update(A, "votes", |c| c.clone().inc(A, 2));
    let db = b.update(B, "votes", |c| c.clone().dec(B, 5));
    let db2 = b.update(B, "votes", |c| c.clone().dec(B, 1));
    a.merge_batch(&[db, db2]);
    b.merge_delta(&da);
    assert_eq!(a.get(&"votes").unwrap().value(), -4);
    assert_eq!(a, b);
    assert_eq!(a.contributions(&"votes").unwrap().len(), 2);
    assert_eq!(a.get_with(&"votes", |c| c.value()), Some(-4));
    assert_eq!(a.get_with(&"none", |c| c.value()), None);
}

#[test]
fn or_map_nested_sets_and_add_wins_keys() {
    let mut a: OrMap<u8, AwSet<u8>> = OrMap::new();
    let d0 = a.update(A, 1, |s| s.clone().insert(A, 10));
    let mut b: OrMap<u8, AwSet<u8>> = OrMap::new();
    b.merge_delta(&d0);
    // b removes the key; a concurrently adds to the nested set.
    let rm = b.remove(&1);
    let upd = a.update(A, 1, |s| s.clone().insert(A, 11));
    a.merge_delta(&rm);
    b.merge_delta(&upd);
    assert_eq!(a, b);
    let set = a.get(&1).expect("concurrent update keeps the key");
    assert!(set.contains(&11));
    // A remove that saw everything deletes the key and leaves no contribution behind.
    let rm2 = a.remove(&1);
    b.merge_delta(&rm2);
    assert!(b.is_empty());
    assert!(b.context().cloud().is_empty());
    assert_eq!(a, b);
}

#[test]
fn or_map_remove_resets_value() {
    let mut m: OrMap<u8, GCounter> = OrMap::new();
    m.update(A, 0, |c| c.clone().inc(A, 5));
    m.remove(&0);
    m.update(A, 0, |c| c.clone().inc(A, 1));
    assert_eq!(m.get(&0).unwrap().value(), 1);
}

#[test]
fn causal_context_is_exported_and_compacts() {
    let mut c = CausalContext::new();
    c.insert(Dot::new(A, 2));
    assert!(!c.contains(Dot::new(A, 1)));
    c.insert(Dot::new(A, 1));
    assert!(c.cloud().is_empty());
    assert_eq!(c.version_vector().get(A), 2);
}

#[test]
fn decoding_rejects_broken_invariants() {
    // An AwSet whose element dot lies outside its context.
    let mut s = AwSet::new();
    s.insert(A, 5u8);
    let mut bytes = encode(&s);
    // Payload: [entries: len, (5, [len, (replica, counter)])], ctx: [vv: len, (1, 1)], cloud: 0
    // Bump the element's counter (the byte after the replica id 1 in the dots list).
    let pos = bytes.len() - 5; // ..., dot.replica=1, dot.counter=1, vv_len=1, 1, 1, cloud_len=0
    assert_eq!(bytes[pos], 1);
    bytes[pos] = 9;
    assert!(matches!(
        decode::<AwSet<u8>>(&bytes),
        Err(DecodeError::Malformed | DecodeError::Invalid(_))
    ));
    // A counter with a zero total.
    let mut g = GCounter::new();
    g.inc(A, 1);
    let mut bytes = encode(&g);
    let last = bytes.len() - 1;
    bytes[last] = 0;
    assert!(decode::<GCounter>(&bytes).is_err());
}

#[test]
fn new_crdts_are_bottom() {
    let s: AwSet<u64> = AwSet::new();
    let m: LwwMap<u64, u64> = LwwMap::new();
    let o: OrMap<u64, GCounter> = OrMap::new();
    assert!(s.is_bottom() && m.is_bottom() && o.is_bottom());
    assert!(GCounter::new().is_bottom() && MvRegister::<u8>::new().is_bottom());
}

#[test]
fn or_map_recreated_key_does_not_reuse_nested_dots() {
    // r inserts x into the set under key 1; t sees it and removes x (t's contribution now
    // remembers r's nested insert). s removes the key while t concurrently adds z. r sees only
    // s's removal and re-creates the key by inserting y. y must survive t's contribution.
    let (r, t) = (A, C); // s removes keys, which needs no replica id
    let mut mr: OrMap<u8, AwSet<u8>> = OrMap::new();
    let d_x = mr.update(r, 1, |v| v.clone().insert(r, b'x'));
    let mut mt: OrMap<u8, AwSet<u8>> = OrMap::new();
    mt.merge_delta(&d_x);
    let d_rm_x = mt.update(t, 1, |v| v.clone().remove(&b'x'));
    let mut ms = mt.clone();
    let d_rm_key = ms.remove(&1);
    let d_z = mt.update(t, 1, |v| v.clone().insert(t, b'z'));
    mr.merge_delta(&d_rm_x);
    mr.merge_delta(&d_rm_key);
    assert!(!mr.contains_key(&1));
    let d_y = mr.update(r, 1, |v| v.clone().insert(r, b'y'));
    mr.merge_delta(&d_z);
    mt.merge_delta(&d_rm_key);
    mt.merge_delta(&d_y);
    assert_eq!(mr, mt);
    let set = mr.get(&1).expect("t's concurrent update keeps the key");
    assert!(
        set.contains(&b'y'),
        "re-created insert must not read as removed"
    );
    assert!(set.contains(&b'z'));
    assert!(!set.contains(&b'x'));
}

#[test]
fn decoding_extreme_counters_does_not_panic() {
    // Hand-written postcard payloads with u64::MAX counters in the version vector and cloud.
    fn envelope(tag: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = b"CVG\x01".to_vec();
        out.push(tag);
        out.push(payload.len() as u8);
        out.extend_from_slice(payload);
        out
    }
    let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    // AwSet<u8>: no entries; ctx = (vv [(1, MAX)], cloud [(1, 5, 7)]): the range lies below
    // the vector's top, which must be rejected without overflowing `MAX + 1`.
    let mut p = vec![0, 1, 1];
    p.extend_from_slice(&max);
    p.extend_from_slice(&[1, 1, 5, 7]);
    let tag = converge::TypeTag::AwSet.as_u8();
    assert!(decode::<AwSet<u8>>(&envelope(tag, &p)).is_err());
    // Same with an empty cloud: valid, and the set still works at the edge.
    let mut p = vec![0, 1, 1];
    p.extend_from_slice(&max);
    p.push(0);
    let mut s = decode::<AwSet<u8>>(&envelope(tag, &p)).expect("valid");
    let mut t = s.clone();
    t.merge(&s);
    s.merge_delta(&t.remove(&1));
    assert_eq!(s, t);
    // Counters saturate rather than overflow at the edge.
    s.insert(A, 5);
    s.insert_batch(A, &[6, 7]);
    let mut m: OrMap<u8, AwSet<u8>> = OrMap::new();
    m.update(A, 1, |v| v.insert_delta(A, 2));
    m.merge(&OrMap::new());
    assert!(s.contains(&5) && s.contains(&7) && m.contains_key(&1));
}
