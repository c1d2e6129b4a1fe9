//! Property tests for every state CRDT: the join-semilattice laws, delta and batch
//! equivalences, batch operations against their single-item counterparts, and wire round trips.
//!
//! States come from simulated histories: three replicas apply random operations (including the
//! batch ones) and merge each other's full states at random points, recording every delta. So
//! the states tested are the ones real replicas reach, with concurrent inserts, removes and
//! overwrites.

use std::fmt::Debug;

use converge::{
    AwSet, Crdt, GCounter, LwwMap, LwwRegister, MvRegister, OrMap, PNCounter, ReplicaId, WireType,
    decode, encode,
};
use converge_pool::Scratch;
use proptest::prelude::*;

const REPLICAS: [ReplicaId; 3] = [ReplicaId(1), ReplicaId(2), ReplicaId(7)];

/// A CRDT under test: how a random step acts on it.
trait Model:
    Crdt<Delta: Debug + PartialEq + WireType + Default> + PartialEq + Debug + WireType
{
    fn op(&mut self, replica: ReplicaId, action: u8, key: u8, val: u8) -> Self::Delta;

    /// Joins delta `d` into the delta group `acc`.
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta);

    /// The type's own invariant check, where it has one.
    fn check(&self) {}
}

#[derive(Clone, Debug)]
struct Step {
    /// Merge `other`'s full state into `replica` instead of a local operation.
    sync: bool,
    replica: usize,
    other: usize,
    action: u8,
    key: u8,
    val: u8,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (
            0u8..4,
            0usize..3,
            0usize..3,
            any::<u8>(),
            0u8..6,
            any::<u8>(),
        )
            .prop_map(|(kind, replica, other, action, key, val)| Step {
                sync: kind == 0,
                replica,
                other,
                action,
                key,
                val,
            }),
        0..40,
    )
}

struct Run<T: Model> {
    states: [T; 3],
    deltas: Vec<T::Delta>,
}

fn simulate<T: Model>(steps: &[Step]) -> Run<T> {
    let mut states: [T; 3] = Default::default();
    let mut deltas = Vec::new();
    for s in steps {
        if s.sync {
            let src = states[s.other].clone();
            states[s.replica].merge(&src);
            states[s.replica].check();
        } else {
            let before = states[s.replica].clone();
            let d = states[s.replica].op(REPLICAS[s.replica], s.action, s.key, s.val);
            // The delta carries the operation's whole effect.
            let mut via_delta = before;
            via_delta.merge_delta(&d);
            assert_eq!(
                via_delta, states[s.replica],
                "pre-state ⊔ delta != post-state"
            );
            states[s.replica].check();
            deltas.push(d);
        }
    }
    Run { states, deltas }
}

fn join<T: Crdt>(x: &T, y: &T) -> T {
    let mut z = x.clone();
    z.merge(y);
    z
}

fn check_laws<T: Model>(steps: &[Step]) {
    let run = simulate::<T>(steps);
    let [a, b, c] = &run.states;

    // Join-semilattice laws.
    assert_eq!(join(a, b), join(b, a), "merge not commutative");
    assert_eq!(
        join(&join(a, b), c),
        join(a, &join(b, c)),
        "merge not associative"
    );
    assert_eq!(join(a, a), *a, "merge not idempotent");
    assert_eq!(join(&join(a, b), b), join(a, b), "merge not idempotent");

    // Delta merge == full-state merge: the deltas alone, in any order, rebuild the join of all
    // replicas' states.
    let all = join(&join(a, b), c);
    let mut fwd = T::default();
    for d in &run.deltas {
        fwd.merge_delta(d);
    }
    assert_eq!(fwd, all, "deltas in order != full-state merge");
    let mut rev = T::default();
    for d in run.deltas.iter().rev() {
        rev.merge_delta(d);
    }
    assert_eq!(rev, all, "deltas in reverse != full-state merge");
    fwd.check();
    rev.check();

    // merge_delta_owned == merge_delta.
    for start in [&T::default(), a] {
        let (mut by_ref, mut owned) = (start.clone(), start.clone());
        for d in &run.deltas {
            by_ref.merge_delta(d);
            owned.merge_delta_owned(d.clone());
        }
        assert_eq!(owned, by_ref, "merge_delta_owned != merge_delta");
    }

    // merge_batch == sequence of merge_delta, from any start, in any grouping.
    let reversed: Vec<T::Delta> = run.deltas.iter().rev().cloned().collect();
    for start in [&T::default(), a, b] {
        for ds in [&run.deltas, &reversed] {
            let mut seq = start.clone();
            for d in ds.iter() {
                seq.merge_delta(d);
            }
            let mut bat = start.clone();
            bat.merge_batch(ds);
            assert_eq!(bat, seq, "merge_batch != merge_delta sequence");
            let mut scratch = Scratch::new();
            let mut chunked = start.clone();
            for ch in ds.chunks(3) {
                chunked.merge_batch_in(ch, &mut scratch);
                scratch.reset();
            }
            assert_eq!(
                chunked, seq,
                "chunked merge_batch_in != merge_delta sequence"
            );
        }
    }

    // Deltas joined into groups have the effect of the deltas they join, in any order.
    for ds in [&run.deltas, &reversed] {
        let mut group = T::Delta::default();
        for d in ds.iter() {
            T::join_deltas(&mut group, d);
        }
        assert_eq!(decode::<T::Delta>(&encode(&group)).as_ref(), Ok(&group));
        for start in [&T::default(), a, b] {
            let mut seq = start.clone();
            for d in &run.deltas {
                seq.merge_delta(d);
            }
            let mut grouped = start.clone();
            grouped.merge_delta(&group);
            assert_eq!(grouped, seq, "delta group != its deltas");
        }
    }
    let half = run.deltas.len() / 2;
    let (front, back) = run.deltas.split_at(half);
    let (mut g1, mut g2) = (T::Delta::default(), T::Delta::default());
    front.iter().for_each(|d| T::join_deltas(&mut g1, d));
    back.iter().for_each(|d| T::join_deltas(&mut g2, d));
    let mut g12 = g1.clone();
    T::join_deltas(&mut g12, &g2);
    T::join_deltas(&mut g2, &g1);
    assert_eq!(g12, g2, "delta join not commutative");

    // Wire round trips, and canonical bytes for equal states.
    for s in [a, b, c, &all] {
        assert_eq!(decode::<T>(&encode(s)).as_ref(), Ok(s));
    }
    for d in &run.deltas {
        assert_eq!(decode::<T::Delta>(&encode(d)).as_ref(), Ok(d));
    }
    assert_eq!(encode(&join(a, b)), encode(&join(b, a)));
}

impl Model for GCounter {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn op(&mut self, r: ReplicaId, _: u8, _: u8, val: u8) -> GCounter {
        self.inc(r, u64::from(val % 4))
    }
}

impl Model for PNCounter {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn op(&mut self, r: ReplicaId, action: u8, _: u8, val: u8) -> PNCounter {
        match action % 3 {
            0 => self.inc(r, u64::from(val % 5)),
            1 => self.dec(r, u64::from(val % 5)),
            _ => self.add(r, i64::from(val as i8)),
        }
    }
}

impl Model for LwwRegister<u8> {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn op(&mut self, r: ReplicaId, _: u8, _: u8, val: u8) -> Self {
        self.set(r, val)
    }
}

impl Model for MvRegister<u8> {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn check(&self) {
        self.context().check_invariants().unwrap();
    }

    fn op(&mut self, r: ReplicaId, action: u8, _: u8, val: u8) -> Self {
        if action % 5 == 0 {
            self.clear()
        } else {
            self.set(r, val)
        }
    }
}

impl Model for AwSet<u8> {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn check(&self) {
        self.check_invariants().unwrap();
    }

    fn op(&mut self, r: ReplicaId, action: u8, key: u8, val: u8) -> Self::Delta {
        let other = val % 6;
        match action % 6 {
            0 | 1 => self.insert(r, key),
            2 => self.remove(&key),
            3 => self.insert_batch(r, &[key, other, key]),
            4 => self.remove_batch(&[key, other, key]),
            _ => {
                if val % 4 == 0 {
                    self.clear()
                } else {
                    self.insert(r, other)
                }
            }
        }
    }
}

impl Model for LwwMap<u8, u8> {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn op(&mut self, r: ReplicaId, action: u8, key: u8, val: u8) -> Self {
        let other = val % 6;
        match action % 6 {
            0 | 1 => self.insert(r, key, val),
            2 => self.remove(r, &key),
            3 => self.insert_batch(r, &[(key, val), (other, val), (key, val / 2)]),
            4 => self.remove_batch(r, &[key, other]),
            _ => self.update_batch(r, &[other, key], |_, v| v.copied().unwrap_or(0) ^ val),
        }
    }
}

impl Model for OrMap<u8, PNCounter> {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn check(&self) {
        self.check_invariants().unwrap();
    }

    fn op(&mut self, r: ReplicaId, action: u8, key: u8, val: u8) -> Self::Delta {
        let other = val % 6;
        match action % 6 {
            0 | 1 => self.update(r, key, |c| c.add_delta(r, i64::from(val as i8))),
            2 => self.remove(&key),
            3 => self.update_batch(r, &[key, other, key], |_, c| c.clone().inc(r, 1)),
            4 => self.remove_batch(&[key, other]),
            _ => {
                let mut nested = PNCounter::new();
                let d = nested.dec(r, u64::from(val % 3 + 1));
                self.insert_batch(r, &[(other, d)])
            }
        }
    }
}

impl Model for OrMap<u8, AwSet<u8>> {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn check(&self) {
        self.check_invariants().unwrap();
    }

    fn op(&mut self, r: ReplicaId, action: u8, key: u8, val: u8) -> Self::Delta {
        let elem = val % 4;
        match action % 5 {
            0 => self.update(r, key, |s| s.insert_delta(r, elem)),
            1 => self.update(r, key, |s| s.clone().insert(r, elem)),
            2 => self.update(r, key, |s| s.remove_delta(&elem)),
            3 => self.remove(&key),
            _ => self.update_batch(r, &[key, val % 6], |_, s| s.clone().insert(r, elem)),
        }
    }
}

impl Model for OrMap<u8, MvRegister<u8>> {
    fn join_deltas(acc: &mut Self::Delta, d: &Self::Delta) {
        acc.merge(d);
    }

    fn check(&self) {
        self.check_invariants().unwrap();
    }

    fn op(&mut self, r: ReplicaId, action: u8, key: u8, val: u8) -> Self::Delta {
        match action % 3 {
            0 => self.update(r, key, |m| m.set_delta(r, val)),
            1 => self.update(r, key, |m| m.clone().set(r, val)),
            _ => self.remove(&key),
        }
    }
}

proptest! {
    #[test]
    fn laws_g_counter(s in steps()) { check_laws::<GCounter>(&s); }

    #[test]
    fn laws_pn_counter(s in steps()) { check_laws::<PNCounter>(&s); }

    #[test]
    fn laws_lww_register(s in steps()) { check_laws::<LwwRegister<u8>>(&s); }

    #[test]
    fn laws_mv_register(s in steps()) { check_laws::<MvRegister<u8>>(&s); }

    #[test]
    fn laws_aw_set(s in steps()) { check_laws::<AwSet<u8>>(&s); }

    #[test]
    fn laws_lww_map(s in steps()) { check_laws::<LwwMap<u8, u8>>(&s); }

    #[test]
    fn laws_or_map_of_counters(s in steps()) { check_laws::<OrMap<u8, PNCounter>>(&s); }

    #[test]
    fn laws_or_map_of_sets(s in steps()) { check_laws::<OrMap<u8, AwSet<u8>>>(&s); }

    #[test]
    fn laws_or_map_of_mv_registers(s in steps()) { check_laws::<OrMap<u8, MvRegister<u8>>>(&s); }
}

fn keys() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(0u8..8, 0..12)
}

proptest! {
    #[test]
    fn aw_set_batches_equal_singles(s in steps(), items in keys(), gone in keys()) {
        let run = simulate::<AwSet<u8>>(&s);
        let [start, other, _] = run.states;
        let r = REPLICAS[0]; // the replica that owns `start`

        let mut one = start.clone();
        let mut many = start.clone();
        let mut via_one = other.clone();
        let mut via_many = other.clone();
        for &x in &items {
            via_one.merge_delta(&one.insert(r, x));
        }
        via_many.merge_delta(&many.insert_batch(r, &items));
        prop_assert_eq!(&one, &many);
        prop_assert_eq!(&via_one, &via_many);

        for x in &gone {
            via_one.merge_delta(&one.remove(x));
        }
        via_many.merge_delta(&many.remove_batch(&gone));
        prop_assert_eq!(&one, &many);
        prop_assert_eq!(&via_one, &via_many);

        let probe: Vec<u8> = (0..10).collect();
        let singles: Vec<bool> = probe.iter().map(|x| one.contains(x)).collect();
        prop_assert_eq!(many.contains_keys(&probe), singles);
    }

    #[test]
    fn lww_map_batches_equal_singles(
        s in steps(),
        items in prop::collection::vec((0u8..8, any::<u8>()), 0..12),
        upd in keys(),
        gone in keys(),
    ) {
        let run = simulate::<LwwMap<u8, u8>>(&s);
        let [start, other, _] = run.states;
        let r = REPLICAS[0]; // the replica that owns `start`

        let mut one = start.clone();
        let mut many = start.clone();
        let mut via_one = other.clone();
        let mut via_many = other.clone();
        for &(k, v) in &items {
            via_one.merge_delta(&one.insert(r, k, v));
        }
        via_many.merge_delta(&many.insert_batch(r, &items));
        prop_assert_eq!(&one, &many);
        prop_assert_eq!(&via_one, &via_many);

        let f = |k: &u8, v: Option<&u8>| v.copied().unwrap_or(*k).wrapping_mul(3);
        for k in &upd {
            let v = f(k, one.get(k));
            via_one.merge_delta(&one.insert(r, *k, v));
        }
        via_many.merge_delta(&many.update_batch(r, &upd, f));
        prop_assert_eq!(&one, &many);
        prop_assert_eq!(&via_one, &via_many);

        for k in &gone {
            via_one.merge_delta(&one.remove(r, k));
        }
        via_many.merge_delta(&many.remove_batch(r, &gone));
        prop_assert_eq!(&one, &many);
        prop_assert_eq!(&via_one, &via_many);

        let probe: Vec<u8> = (0..10).collect();
        let got: Vec<Option<u8>> = probe.iter().map(|k| one.get(k).copied()).collect();
        prop_assert_eq!(many.get_batch(&probe), got);
        let has: Vec<bool> = probe.iter().map(|k| one.contains_key(k)).collect();
        prop_assert_eq!(many.contains_keys(&probe), has);
    }

    #[test]
    fn or_map_batches_equal_singles(
        s in steps(),
        items in prop::collection::vec((0u8..8, 1u64..4), 0..12),
        upd in keys(),
        gone in keys(),
    ) {
        let run = simulate::<OrMap<u8, PNCounter>>(&s);
        let [start, other, _] = run.states;
        let r = REPLICAS[0]; // the replica that owns `start`
        let items: Vec<(u8, PNCounter)> = items
            .into_iter()
            .map(|(k, n)| (k, PNCounter::new().inc(r, n)))
            .collect();

        let mut one = start.clone();
        let mut many = start.clone();
        let mut via_one = other.clone();
        let mut via_many = other.clone();
        for (k, d) in &items {
            via_one.merge_delta(&one.insert(r, *k, d.clone()));
        }
        via_many.merge_delta(&many.insert_batch(r, &items));
        prop_assert_eq!(&one, &many);
        prop_assert_eq!(&via_one, &via_many);

        for k in &upd {
            via_one.merge_delta(&one.update(r, *k, |c| c.clone().dec(r, 2)));
        }
        via_many.merge_delta(&many.update_batch(r, &upd, |_, c| c.clone().dec(r, 2)));
        prop_assert_eq!(&one, &many);
        prop_assert_eq!(&via_one, &via_many);

        for k in &gone {
            via_one.merge_delta(&one.remove(k));
        }
        via_many.merge_delta(&many.remove_batch(&gone));
        prop_assert_eq!(&one, &many);
        prop_assert_eq!(&via_one, &via_many);

        let probe: Vec<u8> = (0..10).collect();
        let got: Vec<Option<i64>> = probe.iter().map(|k| one.get(k).map(|c| c.value())).collect();
        let batch: Vec<Option<i64>> =
            many.get_batch(&probe).into_iter().map(|c| c.map(|c| c.value())).collect();
        prop_assert_eq!(batch, got);
        let has: Vec<bool> = probe.iter().map(|k| one.contains_key(k)).collect();
        prop_assert_eq!(many.contains_keys(&probe), has);
    }

    #[test]
    fn counter_batch_merge_equals_singles(
        preload in 0u64..60,
        incs in prop::collection::vec((0u64..80, 1u64..9), 0..120),
    ) {
        // Deltas from up to 80 replicas (past the small-counter fast path), some superseded by
        // later deltas of the same replica, into a counter that already knows `preload` of them.
        let mut start = PNCounter::new();
        for r in 0..preload {
            start.inc(ReplicaId(1000 + r), r + 1);
        }
        let mut src: Vec<PNCounter> = vec![PNCounter::new(); 80];
        let deltas: Vec<PNCounter> = incs
            .iter()
            .map(|&(r, n)| {
                let src = &mut src[r as usize];
                if n % 2 == 0 {
                    src.inc(ReplicaId(r), n)
                } else {
                    src.dec(ReplicaId(r), n)
                }
            })
            .collect();
        let mut seq = start.clone();
        for d in &deltas {
            seq.merge_delta(d);
        }
        let mut bat = start.clone();
        bat.merge_batch(&deltas);
        prop_assert_eq!(&bat, &seq);
        let mut signed: i64 = start.value();
        for &(_, n) in &incs {
            signed += if n % 2 == 0 { n as i64 } else { -(n as i64) };
        }
        prop_assert_eq!(bat.value(), signed);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        // Well-formed envelope around random payload bytes, for each tag.
        fn wrap<T: WireType>(payload: &[u8]) -> Vec<u8> {
            let mut out = b"CVG\x01".to_vec();
            out.push(T::TAG.as_u8());
            out.push(payload.len() as u8);
            out.extend_from_slice(payload);
            out
        }
        let _ = decode::<GCounter>(&wrap::<GCounter>(&bytes));
        let _ = decode::<PNCounter>(&wrap::<PNCounter>(&bytes));
        let _ = decode::<MvRegister<u8>>(&wrap::<MvRegister<u8>>(&bytes));
        let _ = decode::<AwSet<u8>>(&wrap::<AwSet<u8>>(&bytes));
        let _ = decode::<LwwMap<u8, u8>>(&wrap::<LwwMap<u8, u8>>(&bytes));
        let _ = decode::<OrMap<u8, PNCounter>>(&wrap::<OrMap<u8, PNCounter>>(&bytes));
        if let Ok(s) = decode::<AwSet<u8>>(&wrap::<AwSet<u8>>(&bytes)) {
            prop_assert!(s.check_invariants().is_ok());
        }
        if let Ok(m) = decode::<OrMap<u8, AwSet<u8>>>(&wrap::<OrMap<u8, AwSet<u8>>>(&bytes)) {
            prop_assert!(m.check_invariants().is_ok());
        }
    }
}

/// A reference LWW map: a `BTreeMap` of newest writes, merged the obvious way.
type ModelMap = std::collections::BTreeMap<u16, (converge::Timestamp, Option<u8>)>;

fn model_merge(into: &mut ModelMap, from: &ModelMap) {
    for (k, w) in from {
        match into.get(k) {
            Some(cur) if cur.0 >= w.0 => {}
            _ => {
                into.insert(*k, *w);
            }
        }
    }
}

fn assert_matches_model(m: &LwwMap<u16, u8>, model: &ModelMap) {
    let live: Vec<(u16, u8)> = m.iter().map(|(k, v)| (*k, *v)).collect();
    let want: Vec<(u16, u8)> = model
        .iter()
        .filter_map(|(k, (_, v))| v.map(|v| (*k, v)))
        .collect();
    assert_eq!(live, want);
    assert_eq!(m.len(), want.len());
    assert_eq!(m.tombstones(), model.len() - want.len());
    for (k, (ts, _)) in model {
        assert_eq!(m.timestamp(k), Some(*ts));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Larger key spaces than the law tests, so the side buffer fills and folds and both merge
    /// strategies (binary search and linear) run; checked against a reference model.
    #[test]
    fn lww_map_matches_reference_model(
        ops in prop::collection::vec((0u8..6, 0u16..400, any::<u8>()), 0..300),
    ) {
        let (ra, rb) = (REPLICAS[0], REPLICAS[1]);
        let mut a: LwwMap<u16, u8> = LwwMap::new();
        let mut b: LwwMap<u16, u8> = LwwMap::new();
        let mut ma = ModelMap::new();
        let mut mb = ModelMap::new();
        for (kind, k, v) in ops {
            match kind {
                0 | 1 => {
                    let d = a.insert(ra, k, v);
                    ma.insert(k, (d.timestamp(&k).unwrap(), Some(v)));
                }
                2 => {
                    let d = b.insert(rb, k, v);
                    mb.insert(k, (d.timestamp(&k).unwrap(), Some(v)));
                }
                3 => {
                    if ma.get(&k).is_some_and(|w| w.1.is_some()) {
                        let d = a.remove(ra, &k);
                        ma.insert(k, (d.timestamp(&k).unwrap(), None));
                    } else {
                        prop_assert!(a.remove(ra, &k).is_bottom());
                    }
                }
                4 => {
                    let keys: Vec<(u16, u8)> = (0..(v % 40) as u16).map(|i| ((k + i * 7) % 400, v)).collect();
                    let d = b.insert_batch(rb, &keys);
                    for (k, _) in &keys {
                        mb.insert(*k, (d.timestamp(k).unwrap(), Some(v)));
                    }
                }
                _ => {
                    if v % 2 == 0 {
                        a.merge(&b);
                        model_merge(&mut ma, &mb);
                    } else {
                        b.merge(&a);
                        model_merge(&mut mb, &ma);
                    }
                }
            }
            assert_matches_model(&a, &ma);
            assert_matches_model(&b, &mb);
        }
        let back = decode::<LwwMap<u16, u8>>(&encode(&a));
        prop_assert_eq!(back.as_ref(), Ok(&a));
    }
}

/// Four replicas act and receive each other's deltas in a random order (not causal order,
/// with duplicates) and occasionally whole states; once everything is delivered, they all
/// hold the same state, equal to the join of everything.
fn converge_under_random_delivery<T: Model>(seed: u64, steps: usize) {
    let mut rng = seed | 1;
    let mut next = move |n: usize| {
        // xorshift64*
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        (rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    };
    let replicas = [ReplicaId(3), ReplicaId(5), ReplicaId(8), ReplicaId(13)];
    let mut states: Vec<T> = vec![T::default(); 4];
    let mut log: Vec<T::Delta> = Vec::new();
    for _ in 0..steps {
        let i = next(4);
        match next(10) {
            0..=4 => {
                let d = states[i].op(
                    replicas[i],
                    next(256) as u8,
                    next(12) as u8,
                    next(256) as u8,
                );
                log.push(d);
            }
            5..=8 if !log.is_empty() => {
                let d = &log[next(log.len())];
                states[i].merge_delta(d);
            }
            _ => {
                let j = next(4);
                let src = states[j].clone();
                states[i].merge(&src);
            }
        }
        states[i].check();
    }
    let mut everything = T::default();
    everything.merge_batch(&log);
    for s in &mut states {
        s.merge_batch(&log);
        s.check();
        assert_eq!(*s, everything);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn random_delivery_converges(seed in any::<u64>()) {
        converge_under_random_delivery::<GCounter>(seed, 150);
        converge_under_random_delivery::<PNCounter>(seed, 150);
        converge_under_random_delivery::<LwwRegister<u8>>(seed, 150);
        converge_under_random_delivery::<MvRegister<u8>>(seed, 150);
        converge_under_random_delivery::<AwSet<u8>>(seed, 300);
        converge_under_random_delivery::<LwwMap<u8, u8>>(seed, 300);
        converge_under_random_delivery::<OrMap<u8, PNCounter>>(seed, 300);
        converge_under_random_delivery::<OrMap<u8, AwSet<u8>>>(seed, 300);
        converge_under_random_delivery::<OrMap<u8, MvRegister<u8>>>(seed, 300);
    }
}

proptest! {
    /// The delta mutators (`*_delta(&self, ..)`) return exactly the delta of the mutating
    /// operation, from any reachable state.
    #[test]
    fn delta_mutators_match_operations(s in steps(), key in 0u8..8, val in any::<u8>()) {
        let r = REPLICAS[0];
        let n = u64::from(val % 5);

        let [g, _, _] = simulate::<GCounter>(&s).states;
        prop_assert_eq!(g.inc_delta(r, n), g.clone().inc(r, n));

        let [p, _, _] = simulate::<PNCounter>(&s).states;
        prop_assert_eq!(p.inc_delta(r, n), p.clone().inc(r, n));
        prop_assert_eq!(p.dec_delta(r, n), p.clone().dec(r, n));
        let signed = i64::from(val as i8);
        prop_assert_eq!(p.add_delta(r, signed), p.clone().add(r, signed));

        let [l, _, _] = simulate::<LwwRegister<u8>>(&s).states;
        prop_assert_eq!(l.set_delta(r, val), l.clone().set(r, val));

        let [m, _, _] = simulate::<MvRegister<u8>>(&s).states;
        prop_assert_eq!(m.set_delta(r, val), m.clone().set(r, val));

        let [a, _, _] = simulate::<AwSet<u8>>(&s).states;
        prop_assert_eq!(a.insert_delta(r, key), a.clone().insert(r, key));
        prop_assert_eq!(a.remove_delta(&key), a.clone().remove(&key));

        let [w, _, _] = simulate::<LwwMap<u8, u8>>(&s).states;
        prop_assert_eq!(w.insert_delta(r, key, val), w.clone().insert(r, key, val));
        prop_assert_eq!(w.remove_delta(r, &key), w.clone().remove(r, &key));
    }
}
