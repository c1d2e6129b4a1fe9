//! Deterministic arena tests: small enough for Miri.

use std::panic::{AssertUnwindSafe, catch_unwind};

use converge_pool::{Arena, Budget, Idx, ReserveError};

use crate::support::{
    Big, Item, Odd, Small, Zst, live, panic_on_clone, panic_on_drop, reset_counters,
};

fn values<T: Item>(arena: &Arena<T>) -> Vec<(usize, u64)> {
    arena.iter().map(|(i, v)| (i.index(), v.value())).collect()
}

/// Removed slots are reused most recent first; iteration stays in slot order.
fn reuse_and_order<T: Item>() {
    let mut a = Arena::new();
    let h: Vec<Idx<T>> = (0..5).map(|v| a.alloc(T::new(v))).collect();
    assert_eq!(
        h.iter().map(|i| i.index()).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(a.remove(h[1]).map(|v| v.value()), Some(T::new(1).value()));
    assert_eq!(a.remove(h[3]).map(|v| v.value()), Some(T::new(3).value()));
    assert!(a.remove(h[3]).is_none(), "second remove of the same handle");
    assert!(!a.contains(h[1]) && a.get(h[3]).is_none());
    assert_eq!(a.len(), 3);
    a.check_invariants();

    let x = a.alloc(T::new(10));
    let y = a.alloc(T::new(11));
    let z = a.alloc(T::new(12));
    assert_eq!((x.index(), y.index(), z.index()), (3, 1, 5));
    assert_eq!(
        values(&a),
        [0, 11, 2, 10, 4, 12]
            .iter()
            .enumerate()
            .map(|(i, &v)| (i, T::new(v).value()))
            .collect::<Vec<_>>()
    );
    assert_eq!(a.iter().len(), 6);
    a.check_invariants();
}

#[test]
fn reuse_and_order_all_layouts() {
    reset_counters();
    reuse_and_order::<Big>();
    reuse_and_order::<Small>();
    reuse_and_order::<Odd>();
    reuse_and_order::<u8>();
    reuse_and_order::<Zst>();
    assert_eq!(live(), 0, "every counted value was dropped exactly once");
}

#[test]
fn iteration_crosses_bitset_words() {
    let mut a = Arena::new();
    for v in 0..200u64 {
        a.alloc(v);
    }
    for i in (0..200).filter(|i| i % 7 != 0) {
        a.remove(Idx::from_index(i));
    }
    let expected: Vec<u64> = (0..200).filter(|i| i % 7 == 0).collect();
    assert_eq!(a.iter().map(|(_, v)| *v).collect::<Vec<_>>(), expected);
    for (i, v) in a.iter_mut() {
        *v += i.index() as u64;
    }
    assert_eq!(
        a.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        expected.iter().map(|v| v * 2).collect::<Vec<_>>()
    );
    a.check_invariants();
}

fn drop_counts<T: Item>() {
    reset_counters();
    let mut a = Arena::new();
    let h: Vec<Idx<T>> = (0..70).map(|v| a.alloc(T::new(v))).collect();
    assert_eq!(live(), 70);
    let removed = a.remove(h[5]).unwrap();
    assert_eq!(
        live(),
        70,
        "remove hands the value out instead of dropping it"
    );
    drop(removed);
    assert_eq!(live(), 69);
    a.retain(|i, _| i.index() % 2 == 0);
    assert_eq!(live(), a.len() as i64);
    assert_eq!(a.len(), 35);
    a.check_invariants();
    a.clear();
    assert_eq!(live(), 0);
    assert!(a.is_empty());
    assert_eq!(a.alloc(T::new(1)).index(), 0, "handles restart after clear");
    a.alloc(T::new(2));
    a.remove(Idx::from_index(0));
    drop(a);
    assert_eq!(live(), 0, "dropping the arena drops only live values");
}

#[test]
fn drop_counts_big() {
    drop_counts::<Big>();
}

#[test]
fn drop_counts_small() {
    drop_counts::<Small>();
}

fn clone_independence<T: Item>() {
    reset_counters();
    let mut a = Arena::new();
    let h: Vec<Idx<T>> = (0..6).map(|v| a.alloc(T::new(v))).collect();
    a.remove(h[2]);
    a.remove(h[4]);
    let mut b = a.clone();
    b.check_invariants();
    assert_eq!(values(&a), values(&b));
    assert_eq!(live(), 8);
    // Same free-list order in the clone.
    assert_eq!(a.alloc(T::new(40)).index(), b.alloc(T::new(41)).index());
    *b.get_mut(h[0]).unwrap() = T::new(99);
    b.remove(h[1]);
    assert_eq!(a.get(h[0]).unwrap().value(), T::new(0).value());
    assert!(a.contains(h[1]));
    drop(a);
    assert_eq!(live(), b.len() as i64);
    drop(b);
    assert_eq!(live(), 0);
}

#[test]
fn clone_is_independent() {
    clone_independence::<Big>();
    clone_independence::<Small>();
}

#[test]
fn clone_that_panics_leaks_nothing() {
    reset_counters();
    let mut a = Arena::new();
    for v in 0..10 {
        a.alloc(Big::new(v));
    }
    a.remove(Idx::from_index(3));
    panic_on_clone(5);
    let r = catch_unwind(AssertUnwindSafe(|| a.clone()));
    assert!(r.is_err());
    assert_eq!(
        live(),
        9,
        "the four finished clones were dropped during unwinding"
    );
    a.check_invariants();
    drop(a);
    assert_eq!(live(), 0);
}

#[test]
fn drop_that_panics_never_double_drops() {
    reset_counters();
    let mut a = Arena::new();
    for v in 0..10 {
        a.alloc(Big::new(v));
    }
    panic_on_drop(4);
    let r = catch_unwind(AssertUnwindSafe(|| a.clear()));
    assert!(r.is_err());
    // Values 0..=4 were dropped (4 panicked inside its drop); 5..10 are leaked, not dropped.
    assert_eq!(live(), 5);
    assert!(a.is_empty());
    a.check_invariants();
    assert_eq!(a.alloc(Big::new(1)).index(), 0, "the arena is usable again");
    drop(a);
    assert_eq!(live(), 5);
}

#[test]
fn limit_gives_values_back() {
    reset_counters();
    let mut a = Arena::with_limit(2);
    assert_eq!(a.item_limit(), 2);
    let x = a.try_alloc(Big::new(1)).unwrap();
    a.try_alloc(Big::new(2)).unwrap();
    let back = a.try_alloc(Big::new(3)).unwrap_err();
    assert_eq!(back.value(), 3);
    assert_eq!(a.len(), 2);
    a.remove(x);
    assert_eq!(a.try_alloc(back).unwrap(), x);
    assert_eq!(
        a.try_reserve(1),
        Err(ReserveError::ItemLimit {
            requested: 3,
            limit: 2
        })
    );
    drop(a);
    assert_eq!(live(), 0);
}

#[test]
#[should_panic(expected = "limit")]
fn alloc_panics_at_limit() {
    let mut a = Arena::with_limit(1);
    a.alloc(1u32);
    a.alloc(2u32);
}

#[test]
fn budget_accounting() {
    let per = Arena::<u64>::bytes_per_item();
    assert_eq!(per, 8);
    assert_eq!(Arena::<Zst>::bytes_per_item(), 1);
    let mut budget = Budget::new(3 * per);
    let mut a = Arena::new();
    let h: Vec<Idx<u64>> = (0..3)
        .map(|v| a.try_alloc_budgeted(v, &mut budget).unwrap())
        .collect();
    assert_eq!(budget.used(), 3 * per);
    assert_eq!(a.try_alloc_budgeted(7, &mut budget), Err(7));
    assert_eq!(budget.used(), 3 * per, "a refused alloc reserves nothing");
    assert_eq!(a.remove_budgeted(h[1], &mut budget), Some(1));
    assert_eq!(a.remove_budgeted(h[1], &mut budget), None);
    assert_eq!(budget.available(), per);
    assert_eq!(a.try_alloc_budgeted(7, &mut budget), Ok(h[1]));
    assert_eq!(budget.available(), 0);

    // The item limit refuses first: the budget reservation is rolled back.
    let mut limited = Arena::with_limit(0);
    let mut roomy = Budget::new(100);
    assert_eq!(limited.try_alloc_budgeted(5u64, &mut roomy), Err(5));
    assert_eq!(roomy.used(), 0);
}

#[test]
fn try_reserve_then_allocs_do_not_grow() {
    let mut a: Arena<u64> = Arena::new();
    a.try_reserve(100).unwrap();
    let cap = a.capacity();
    assert!(cap >= 100);
    for v in 0..100 {
        a.try_alloc(v).unwrap();
    }
    assert_eq!(a.capacity(), cap);
    // Vacant slots count towards a reservation.
    for i in 0..50 {
        a.remove(Idx::from_index(i));
    }
    a.try_reserve(50).unwrap();
    assert_eq!(a.capacity(), cap);
    a.check_invariants();
}

#[test]
fn try_reserve_reports_overflow() {
    // 2^31 items of 2^32 bytes is more than isize::MAX bytes: refused before allocating.
    let mut a: Arena<[u8; 1 << 32]> = Arena::new();
    assert_eq!(a.try_reserve(1 << 31), Err(ReserveError::CapacityOverflow));
    let mut b: Arena<u8> = Arena::new();
    assert_eq!(
        b.try_reserve(usize::MAX),
        Err(ReserveError::ItemLimit {
            requested: usize::MAX,
            limit: b.item_limit()
        })
    );
    assert_eq!(b.capacity(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "asks the real allocator for petabytes")]
fn try_reserve_reports_out_of_memory_instead_of_aborting() {
    let mut a: Arena<[u8; 1 << 20]> = Arena::new();
    assert_eq!(a.try_reserve(1 << 31), Err(ReserveError::OutOfMemory));
    assert_eq!(a.capacity(), 0);
    a.try_reserve(1).unwrap();
    assert!(a.capacity() >= 1);
}

#[test]
fn get2_mut_gives_disjoint_values() {
    let mut a = Arena::new();
    let x = a.alloc(1);
    let y = a.alloc(2);
    let z = a.alloc(3);
    a.remove(z);
    {
        let (p, q) = a.get2_mut(y, x).unwrap();
        std::mem::swap(p, q);
    }
    assert_eq!((a[x], a[y]), (2, 1));
    assert!(a.get2_mut(x, x).is_none());
    assert!(a.get2_mut(x, z).is_none());
}

#[test]
fn index_and_handles() {
    assert_eq!(size_of::<Idx<String>>(), 4);
    assert_eq!(size_of::<Option<Idx<String>>>(), 4);
    let max = u32::MAX as usize - 1;
    assert_eq!(Idx::<u8>::from_index(max).index(), max);
    assert!(Idx::<u8>::try_from_index(max + 1).is_none());
    let mut a = Arena::new();
    let i = a.alloc(String::from("x"));
    a[i].push('y');
    assert_eq!(a[i], "xy");
    assert_eq!(format!("{a:?}"), r#"{Idx(0): "xy"}"#);
    let total: usize = (&a).into_iter().map(|(_, s)| s.len()).sum();
    assert_eq!(total, 2);
}

#[test]
#[should_panic(expected = "stale")]
fn index_with_stale_handle_panics() {
    let mut a = Arena::new();
    let i = a.alloc(1u32);
    a.remove(i);
    let _ = a[i];
}

#[test]
fn into_iter_moves_values_out_in_slot_order() {
    reset_counters();
    let mut a = Arena::new();
    for v in 0..130 {
        a.alloc(Big::new(v));
    }
    a.retain(|i, _| i.index() % 3 != 1);
    let mut it = a.into_iter();
    assert_eq!(it.len(), 87);
    let first: Vec<(usize, u64)> = it
        .by_ref()
        .take(50)
        .map(|(i, v)| (i.index(), v.value()))
        .collect();
    let want: Vec<(usize, u64)> = (0..130u64)
        .filter(|i| i % 3 != 1)
        .map(|i| (i as usize, i))
        .take(50)
        .collect();
    assert_eq!(first, want);
    assert_eq!(live(), 37, "yielded values were dropped by the caller");
    drop(it);
    assert_eq!(live(), 0, "the rest were dropped with the iterator");
}

#[test]
fn arenas_are_send_and_sync_like_their_items() {
    fn send_sync<X: Send + Sync>() {}
    send_sync::<Arena<u64>>();
    send_sync::<converge_pool::Iter<'static, u64>>();
    send_sync::<converge_pool::IterMut<'static, u64>>();
    send_sync::<converge_pool::IntoIter<u64>>();
    send_sync::<Idx<std::rc::Rc<u8>>>();
}
