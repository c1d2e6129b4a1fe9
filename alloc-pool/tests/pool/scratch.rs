//! Scratch space: batch helpers and reuse of memory across resets.

use std::collections::{BTreeMap, BTreeSet};

use converge_pool::Scratch;
use proptest::prelude::*;

use crate::support::{Big, Item, live, reset_counters};

/// Reference for `sorted_dedup_by_key`: first occurrence of each key, in key order.
fn first_by_key(items: &[(u8, u32)]) -> Vec<(u8, u32)> {
    let mut firsts = BTreeMap::new();
    for &(k, v) in items {
        firsts.entry(k).or_insert(v);
    }
    firsts.into_iter().collect()
}

#[test]
fn sorted_dedup_by_key_keeps_first_occurrence() {
    let scratch = Scratch::new();
    let items = [(3, 30), (1, 10), (3, 31), (2, 20), (1, 11), (3, 32), (0, 0)];
    let out = scratch.sorted_dedup_by_key(&items, |p| p.0);
    assert_eq!(&out[..], &first_by_key(&items)[..]);
    assert!(
        scratch
            .sorted_dedup_by_key(&[] as &[(u8, u32)], |p| p.0)
            .is_empty()
    );
}

#[test]
fn sorted_dedup_matches_btreeset() {
    let scratch = Scratch::new();
    let items = [5u32, 1, 5, 5, 0, 9, 1];
    let out = scratch.sorted_dedup(&items);
    let want: Vec<u32> = items
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(&out[..], &want[..]);
}

#[test]
fn dedup_drops_every_copy_it_makes() {
    reset_counters();
    let items: Vec<Big> = [4, 2, 4, 1].into_iter().map(Big::new).collect();
    let scratch = Scratch::new();
    let out = scratch.sorted_dedup_by_key(&items, Big::value);
    assert_eq!(out.iter().map(Big::value).collect::<Vec<_>>(), [1, 2, 4]);
    assert_eq!(live(), 7);
    drop(out);
    drop(items);
    assert_eq!(live(), 0);
}

#[test]
fn reset_reuses_memory_across_batches() {
    let mut scratch = Scratch::with_capacity(16 * 1024);
    let held = scratch.allocated_bytes();
    for batch in 0..5u64 {
        let mut v = scratch.vec_with_capacity::<u64>(100);
        v.extend((0..100).map(|i| i * batch));
        let mut w = scratch.vec::<u64>();
        w.extend_from_slice(&v[..10]);
        assert_eq!(w[9], 9 * batch);
        drop((v, w));
        scratch.reset();
        assert_eq!(
            scratch.allocated_bytes(),
            held,
            "batch {batch} needed a new chunk"
        );
    }
    assert!(scratch.bump().allocated_bytes() >= 16 * 1024);
    assert!(format!("{scratch:?}").starts_with("Scratch"));
}

#[test]
fn merge_of_sorted_runs_prefers_the_first_input() {
    let scratch = Scratch::new();
    let a = [(1u8, 10u32), (1, 11), (5, 50)];
    let b = [(0u8, 0u32), (1, 12), (5, 51), (7, 70)];
    let merged = scratch.merge_sorted_by_key(&a, &b, |p| p.0);
    assert_eq!(&merged[..], &[(0, 0), (1, 10), (5, 50), (7, 70)]);
    let empty: [(u8, u32); 0] = [];
    assert_eq!(
        &scratch.merge_sorted_by_key(&empty, &b, |p| p.0)[..],
        &first_by_key(&b)[..]
    );
}

proptest! {
    #[test]
    #[cfg_attr(miri, ignore)]
    fn merge_matches_sorted_dedup_of_concatenation(
        mut a in prop::collection::vec((0u8..16, any::<u32>()), 0..60),
        mut b in prop::collection::vec((0u8..16, any::<u32>()), 0..60),
    ) {
        a.sort_by_key(|p| p.0);
        b.sort_by_key(|p| p.0);
        let scratch = Scratch::new();
        let merged = scratch.merge_sorted_by_key(&a, &b, |p| p.0);
        let both: Vec<(u8, u32)> = a.iter().chain(&b).copied().collect();
        prop_assert_eq!(&merged[..], &first_by_key(&both)[..]);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn sorted_dedup_by_key_matches_reference(items in prop::collection::vec((0u8..16, any::<u32>()), 0..100)) {
        let mut scratch = Scratch::new();
        let out = scratch.sorted_dedup_by_key(&items, |p| p.0);
        prop_assert_eq!(&out[..], &first_by_key(&items)[..]);
        drop(out);
        scratch.reset();
        let out = scratch.sorted_dedup(&items);
        let want: Vec<(u8, u32)> = items.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        prop_assert_eq!(&out[..], &want[..]);
    }
}
