//! The fixed-capacity (no-alloc) CRDTs: merge laws, agreement with an unbounded model, and
//! capacity behaviour (a failed operation changes nothing).

use std::collections::BTreeMap;

use converge::fixed::{BoundedVersionVector, FixedGCounter, FixedLwwRegister, FixedPNCounter};
use converge::{Dot, Error, ReplicaId, Timestamp, VersionVector};
use proptest::prelude::*;

const CAP: usize = 4;

/// Replica ids from a pool bigger than `CAP`, so capacity is hit regularly.
fn replica() -> impl Strategy<Value = ReplicaId> {
    (0u64..6).prop_map(ReplicaId)
}

/// Small amounts mostly, and the saturation edge sometimes.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0u64..20, 1 => Just(u64::MAX), 1 => any::<u64>()]
}

/// A counter built from random increments; increments that hit capacity are skipped.
fn gcounter() -> impl Strategy<Value = FixedGCounter<CAP>> {
    prop::collection::vec((replica(), amount()), 0..10).prop_map(|ops| {
        let mut c = FixedGCounter::new();
        for (r, by) in ops {
            let _ = c.inc(r, by);
        }
        c
    })
}

fn pncounter() -> impl Strategy<Value = FixedPNCounter<CAP>> {
    prop::collection::vec((replica(), amount(), any::<bool>()), 0..10).prop_map(|ops| {
        let mut c = FixedPNCounter::new();
        for (r, by, up) in ops {
            let _ = if up { c.inc(r, by) } else { c.dec(r, by) };
        }
        c
    })
}

fn bvv() -> impl Strategy<Value = BoundedVersionVector<CAP>> {
    prop::collection::vec((replica(), 0u64..50), 0..10).prop_map(|ops| {
        let mut v = BoundedVersionVector::new();
        for (r, c) in ops {
            let _ = v.advance(r, c);
        }
        v
    })
}

/// Registers written through their own Lamport clocks, as replicas would. Each (lamport,
/// replica) pair names exactly one value (`value = lamport * 10 + replica`), as it does in a
/// real system where a replica never reuses a timestamp.
fn register() -> impl Strategy<Value = FixedLwwRegister<u64>> {
    (0u64..6, replica()).prop_map(|(lamport, r)| {
        if lamport == 0 {
            FixedLwwRegister::new(0)
        } else {
            FixedLwwRegister::with_stamp(lamport * 10 + r.0, Timestamp::new(lamport, r))
        }
    })
}

/// `a ⊔ b`, or `None` if it does not fit.
fn join_g(a: &FixedGCounter<CAP>, b: &FixedGCounter<CAP>) -> Option<FixedGCounter<CAP>> {
    let mut out = a.clone();
    match out.merge(b) {
        Ok(()) => {
            out.check_invariants();
            Some(out)
        }
        Err(e) => {
            assert_eq!(e, Error::CapacityExceeded);
            assert_eq!(&out, a, "failed merge changed the counter");
            None
        }
    }
}

fn join_pn(a: &FixedPNCounter<CAP>, b: &FixedPNCounter<CAP>) -> Option<FixedPNCounter<CAP>> {
    let mut out = a.clone();
    match out.merge(b) {
        Ok(()) => {
            out.check_invariants();
            Some(out)
        }
        Err(e) => {
            assert_eq!(e, Error::CapacityExceeded);
            assert_eq!(&out, a, "failed merge changed the counter");
            None
        }
    }
}

fn join_v(
    a: &BoundedVersionVector<CAP>,
    b: &BoundedVersionVector<CAP>,
) -> Option<BoundedVersionVector<CAP>> {
    let mut out = a.clone();
    match out.merge(b) {
        Ok(()) => {
            out.check_invariants();
            Some(out)
        }
        Err(e) => {
            assert_eq!(e, Error::CapacityExceeded);
            assert_eq!(&out, a, "failed merge changed the vector");
            None
        }
    }
}

fn join_r(a: &FixedLwwRegister<u64>, b: &FixedLwwRegister<u64>) -> FixedLwwRegister<u64> {
    let mut out = a.clone();
    out.merge(b);
    out
}

/// Unbounded model of a grow-only counter: pointwise max of shares.
fn model_g(c: &FixedGCounter<CAP>) -> BTreeMap<ReplicaId, u64> {
    c.iter().collect()
}

fn model_join(
    a: &BTreeMap<ReplicaId, u64>,
    b: &BTreeMap<ReplicaId, u64>,
) -> BTreeMap<ReplicaId, u64> {
    let mut out = a.clone();
    for (&r, &c) in b {
        let e = out.entry(r).or_insert(0);
        *e = (*e).max(c);
    }
    out
}

proptest! {
    #[test]
    fn gcounter_merge_matches_model_or_fails_whole(a in gcounter(), b in gcounter()) {
        let model = model_join(&model_g(&a), &model_g(&b));
        match join_g(&a, &b) {
            Some(j) => {
                prop_assert_eq!(model_g(&j), model.clone());
                let sum = model.values().fold(0u64, |s, &c| s.saturating_add(c));
                prop_assert_eq!(j.value(), sum);
            }
            None => prop_assert!(model.len() > CAP),
        }
    }

    #[test]
    fn gcounter_merge_laws(a in gcounter(), b in gcounter(), c in gcounter()) {
        prop_assert_eq!(join_g(&a, &a), Some(a.clone()));
        prop_assert_eq!(join_g(&a, &b), join_g(&b, &a));
        let left = join_g(&a, &b).and_then(|ab| join_g(&ab, &c));
        let right = join_g(&b, &c).and_then(|bc| join_g(&a, &bc));
        // Associativity where both groupings fit; when the union of all three fits, both do.
        if let (Some(l), Some(r)) = (&left, &right) {
            prop_assert_eq!(l, r);
        }
        let all = model_join(&model_join(&model_g(&a), &model_g(&b)), &model_g(&c));
        prop_assert_eq!(left.is_some(), all.len() <= CAP);
        prop_assert_eq!(right.is_some(), all.len() <= CAP);
    }

    #[test]
    fn gcounter_increment_matches_model(ops in prop::collection::vec((replica(), amount()), 0..30)) {
        let mut c = FixedGCounter::<CAP>::new();
        let mut model = BTreeMap::new();
        for (r, by) in ops {
            let before = c.clone();
            match c.inc(r, by) {
                Ok(()) => {
                    if by != 0 {
                        let e = model.entry(r).or_insert(0u64);
                        *e = e.saturating_add(by);
                    }
                }
                Err(e) => {
                    prop_assert_eq!(e, Error::CapacityExceeded);
                    prop_assert_eq!(&c, &before);
                    prop_assert!(!model.contains_key(&r) && model.len() == CAP);
                }
            }
            c.check_invariants();
            prop_assert_eq!(model_g(&c), model.clone());
        }
    }

    #[test]
    fn pncounter_merge_laws(a in pncounter(), b in pncounter(), c in pncounter()) {
        prop_assert_eq!(join_pn(&a, &a), Some(a.clone()));
        prop_assert_eq!(join_pn(&a, &b), join_pn(&b, &a));
        let left = join_pn(&a, &b).and_then(|ab| join_pn(&ab, &c));
        let right = join_pn(&b, &c).and_then(|bc| join_pn(&a, &bc));
        if let (Some(l), Some(r)) = (&left, &right) {
            prop_assert_eq!(l, r);
        }
    }

    #[test]
    fn pncounter_value_is_increments_minus_decrements(c in pncounter()) {
        let exact = i128::from(c.increments().value()) - i128::from(c.decrements().value());
        let clamped = exact.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
        prop_assert_eq!(i128::from(c.value()), clamped);
    }

    #[test]
    fn pncounter_failed_merge_is_atomic(a in pncounter(), b in pncounter()) {
        // join_pn asserts "unchanged on failure"; here check failure happens exactly when one
        // side's union does not fit.
        let inc = model_join(&model_g(a.increments()), &model_g(b.increments()));
        let dec = model_join(&model_g(a.decrements()), &model_g(b.decrements()));
        prop_assert_eq!(join_pn(&a, &b).is_some(), inc.len() <= CAP && dec.len() <= CAP);
    }

    #[test]
    fn bvv_matches_unbounded_version_vector(ops in prop::collection::vec((replica(), 0u64..50, 0u8..3), 0..30)) {
        let mut v = BoundedVersionVector::<CAP>::new();
        let mut model = VersionVector::new();
        for (r, c, kind) in ops {
            let before = v.clone();
            let mut next = model.clone();
            let res = match kind {
                0 => { next.advance(r, c); v.advance(r, c).map(|_| None) }
                1 => { next.observe(Dot::new(r, c)); v.observe(Dot::new(r, c)).map(|_| None) }
                _ => { let d = next.next_dot(r); v.next_dot(r).map(|got| Some((got, d))) }
            };
            match res {
                Ok(dots) => {
                    if let Some((got, want)) = dots {
                        prop_assert_eq!(got, want);
                    }
                    model = next;
                }
                Err(e) => {
                    prop_assert_eq!(e, Error::CapacityExceeded);
                    prop_assert_eq!(&v, &before);
                    prop_assert!(next.len() > CAP);
                }
            }
            v.check_invariants();
            prop_assert_eq!(VersionVector::from(&v), model.clone());
            prop_assert_eq!(BoundedVersionVector::<CAP>::try_from(&model), Ok(v.clone()));
        }
    }

    #[test]
    fn bvv_merge_laws_and_order(a in bvv(), b in bvv(), c in bvv()) {
        prop_assert_eq!(join_v(&a, &a), Some(a.clone()));
        prop_assert_eq!(join_v(&a, &b), join_v(&b, &a));
        let left = join_v(&a, &b).and_then(|ab| join_v(&ab, &c));
        let right = join_v(&b, &c).and_then(|bc| join_v(&a, &bc));
        if let (Some(l), Some(r)) = (&left, &right) {
            prop_assert_eq!(l, r);
        }
        // The causal order agrees with the unbounded vector's.
        let (ua, ub) = (VersionVector::from(&a), VersionVector::from(&b));
        prop_assert_eq!(a.compare(&b), ua.compare(&ub));
        if let Some(j) = join_v(&a, &b) {
            prop_assert!(j.dominates(&a) && j.dominates(&b));
            let mut uj = ua.clone();
            uj.merge(&ub);
            prop_assert_eq!(VersionVector::from(&j), uj);
        }
    }

    #[test]
    fn register_merge_laws(a in register(), b in register(), c in register()) {
        prop_assert_eq!(join_r(&a, &a), a.clone());
        prop_assert_eq!(join_r(&a, &b), join_r(&b, &a));
        prop_assert_eq!(join_r(&join_r(&a, &b), &c), join_r(&a, &join_r(&b, &c)));
        let j = join_r(&a, &b);
        prop_assert_eq!(j.timestamp(), a.timestamp().max(b.timestamp()));
    }

    #[test]
    fn register_local_set_beats_everything_merged(a in register(), b in register(), r in replica(), v in any::<u64>()) {
        let mut x = join_r(&a, &b);
        let stamp = x.set(r, v).unwrap();
        prop_assert!(stamp > a.timestamp() && stamp > b.timestamp());
        prop_assert_eq!(*x.get(), v);
        // And it survives merging the old states back in.
        x.merge(&a);
        x.merge(&b);
        prop_assert_eq!(*x.get(), v);
    }
}

#[test]
fn gcounter_full_rejects_new_replica_but_accepts_known_one() {
    let mut c = FixedGCounter::<2>::new();
    c.inc(ReplicaId(1), 1).unwrap();
    c.inc(ReplicaId(2), 1).unwrap();
    assert_eq!(c.inc(ReplicaId(3), 1), Err(Error::CapacityExceeded));
    assert_eq!(c.value(), 2);
    c.inc(ReplicaId(1), 5).unwrap();
    assert_eq!(c.value(), 7);
    // Adding zero needs no entry, so it succeeds even when full.
    assert_eq!(c.inc(ReplicaId(3), 0), Ok(()));
    assert_eq!(c.len(), 2);
}

#[test]
fn gcounter_merge_across_capacities() {
    let mut small = FixedGCounter::<1>::new();
    let mut big = FixedGCounter::<8>::new();
    small.inc(ReplicaId(1), 4).unwrap();
    big.inc(ReplicaId(1), 2).unwrap();
    big.inc(ReplicaId(2), 3).unwrap();
    // big fits small's state; small cannot hold big's two replicas.
    big.merge(&small).unwrap();
    assert_eq!(big.value(), 7);
    assert_eq!(small.merge(&big), Err(Error::CapacityExceeded));
    assert_eq!(small.value(), 4);
}

#[test]
fn gcounter_share_saturates() {
    let mut c = FixedGCounter::<1>::new();
    c.inc(ReplicaId(1), u64::MAX).unwrap();
    c.inc(ReplicaId(1), 1).unwrap();
    assert_eq!(c.get(ReplicaId(1)), u64::MAX);
}

#[test]
fn pncounter_sides_have_own_capacity() {
    let mut c = FixedPNCounter::<1>::new();
    c.inc(ReplicaId(1), 3).unwrap();
    c.dec(ReplicaId(2), 1).unwrap();
    assert_eq!(c.inc(ReplicaId(2), 1), Err(Error::CapacityExceeded));
    assert_eq!(c.dec(ReplicaId(1), 1), Err(Error::CapacityExceeded));
    assert_eq!(c.value(), 2);
}

#[test]
fn pncounter_merge_checks_both_sides_before_changing_either() {
    let mut a = FixedPNCounter::<1>::new();
    a.inc(ReplicaId(1), 1).unwrap();
    a.dec(ReplicaId(1), 1).unwrap();
    let mut b = FixedPNCounter::<1>::new();
    b.inc(ReplicaId(1), 9).unwrap(); // fits on the increment side
    b.dec(ReplicaId(2), 1).unwrap(); // does not fit on the decrement side
    let before = a.clone();
    assert_eq!(a.merge(&b), Err(Error::CapacityExceeded));
    assert_eq!(a, before);
}

#[test]
fn bvv_next_dot_at_counter_limit_is_an_error() {
    let mut v = BoundedVersionVector::<1>::new();
    v.advance(ReplicaId(1), u64::MAX).unwrap();
    assert_eq!(v.next_dot(ReplicaId(1)), Err(Error::InvalidOperation));
    assert_eq!(v.get(ReplicaId(1)), u64::MAX);
}

#[test]
fn bvv_try_from_too_large_vector_fails() {
    let big: VersionVector = (1..=3).map(|r| (ReplicaId(r), r)).collect();
    assert_eq!(
        BoundedVersionVector::<2>::try_from(&big),
        Err(Error::CapacityExceeded)
    );
    assert_eq!(
        BoundedVersionVector::<3>::try_from(&big).map(|v| v.len()),
        Ok(3)
    );
}

#[test]
fn register_set_at_and_exhausted_clock() {
    let mut r = FixedLwwRegister::new(1u8);
    assert!(r.set_at(Timestamp::new(5, ReplicaId(1)), 2));
    assert!(!r.set_at(Timestamp::new(5, ReplicaId(0)), 3));
    assert!(r.set_at(Timestamp::new(5, ReplicaId(2)), 4));
    assert_eq!(*r.get(), 4);
    assert!(r.set_at(Timestamp::new(u64::MAX, ReplicaId(0)), 5));
    assert_eq!(r.set(ReplicaId(9), 6), Err(Error::InvalidOperation));
    assert_eq!(*r.get(), 5);
}
