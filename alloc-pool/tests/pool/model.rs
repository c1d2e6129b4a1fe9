//! Model test: the arena against a `Vec<Option<u64>>` plus a stack of vacated slots.
//!
//! Proptests are too slow for Miri; [`scripted_sequence_matches_model`] runs the same checker on
//! a fixed sequence there.

use converge_pool::{Arena, Idx};
use proptest::prelude::*;

use crate::support::{Big, Item, Odd, Small, Zst, live, reset_counters};

#[derive(Clone, Debug)]
pub(crate) enum Op {
    Alloc(u64),
    Remove(usize),
    Get(usize),
    Set(usize, u64),
    Swap(usize, usize),
    Retain(u8),
    Reserve(u8),
    Clear,
    /// Replace the arena by its clone (the free list must carry over).
    CloneSwap,
    /// Clone, scribble over the clone, drop it: the original must not change.
    CloneScribble,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u64>().prop_map(Op::Alloc),
        4 => any::<usize>().prop_map(Op::Remove),
        2 => any::<usize>().prop_map(Op::Get),
        2 => (any::<usize>(), any::<u64>()).prop_map(|(i, v)| Op::Set(i, v)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Op::Swap(i, j)),
        1 => any::<u8>().prop_map(Op::Retain),
        1 => any::<u8>().prop_map(Op::Reserve),
        1 => Just(Op::Clear),
        1 => Just(Op::CloneSwap),
        1 => Just(Op::CloneScribble),
    ]
}

/// The reference: slot contents and the LIFO stack of vacated slots.
#[derive(Default)]
struct Model {
    slots: Vec<Option<u64>>,
    free: Vec<usize>,
    limit: usize,
}

impl Model {
    fn len(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// A slot index derived from `sel`: mostly existing slots, sometimes just past the end.
    fn pick(&self, sel: usize) -> usize {
        sel % (self.slots.len() + 2)
    }

    fn remove(&mut self, i: usize) -> Option<u64> {
        let v = self.slots.get_mut(i)?.take()?;
        self.free.push(i);
        Some(v)
    }
}

fn check<T: Item>(arena: &Arena<T>, model: &Model) {
    arena.check_invariants();
    assert_eq!(arena.len(), model.len());
    let got: Vec<(usize, u64)> = arena.iter().map(|(i, v)| (i.index(), v.value())).collect();
    let want: Vec<(usize, u64)> = model
        .slots
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    assert_eq!(got, want);
    if T::COUNTED {
        assert_eq!(live(), model.len() as i64, "live values vs arena length");
    }
}

pub(crate) fn run<T: Item>(limit: usize, ops: &[Op]) {
    reset_counters();
    let mut arena: Arena<T> = Arena::with_limit(limit);
    let mut model = Model {
        limit,
        ..Model::default()
    };
    for op in ops {
        match *op {
            Op::Alloc(v) => {
                let item = T::new(v);
                let v = item.value();
                match arena.try_alloc(item) {
                    Ok(idx) => {
                        assert!(model.len() < model.limit);
                        let i = match model.free.pop() {
                            Some(i) => i,
                            None => {
                                model.slots.push(None);
                                model.slots.len() - 1
                            }
                        };
                        assert_eq!(idx.index(), i, "reuse order");
                        model.slots[i] = Some(v);
                    }
                    Err(back) => {
                        assert_eq!(model.len(), model.limit, "refused below the limit");
                        assert_eq!(back.value(), v, "the value came back");
                    }
                }
            }
            Op::Remove(sel) => {
                let i = model.pick(sel);
                let got = arena.remove(Idx::from_index(i)).map(|v| v.value());
                assert_eq!(got, model.remove(i));
            }
            Op::Get(sel) => {
                let i = model.pick(sel);
                let idx = Idx::from_index(i);
                let want = model.slots.get(i).copied().flatten();
                assert_eq!(arena.get(idx).map(T::value), want);
                assert_eq!(arena.contains(idx), want.is_some());
            }
            Op::Set(sel, v) => {
                let i = model.pick(sel);
                let item = T::new(v);
                let v = item.value();
                match arena.get_mut(Idx::from_index(i)) {
                    Some(slot) => {
                        *slot = item;
                        model.slots[i] = Some(v);
                    }
                    None => assert_eq!(model.slots.get(i).copied().flatten(), None),
                }
            }
            Op::Swap(a, b) => {
                let (i, j) = (model.pick(a), model.pick(b));
                let live = |k: usize| model.slots.get(k).copied().flatten().is_some();
                match arena.get2_mut(Idx::from_index(i), Idx::from_index(j)) {
                    Some((x, y)) => {
                        assert!(i != j && live(i) && live(j));
                        std::mem::swap(x, y);
                        model.slots.swap(i, j);
                    }
                    None => assert!(i == j || !live(i) || !live(j)),
                }
            }
            Op::Retain(m) => {
                let m = u64::from(m % 4) + 2;
                arena.retain(|_, v| v.value() % m != 0);
                for i in 0..model.slots.len() {
                    if model.slots[i].is_some_and(|v| v % m == 0) {
                        model.remove(i);
                    }
                }
            }
            Op::Reserve(n) => {
                let n = usize::from(n % 40);
                match arena.try_reserve(n) {
                    Ok(()) => assert!(model.len() + n <= model.limit),
                    Err(_) => assert!(model.len() + n > model.limit),
                }
            }
            Op::Clear => {
                arena.clear();
                model.slots.clear();
                model.free.clear();
            }
            Op::CloneSwap => {
                let copy = arena.clone();
                if T::COUNTED {
                    assert_eq!(live(), 2 * model.len() as i64);
                }
                copy.check_invariants();
                let pairs = |a: &Arena<T>| -> Vec<(usize, u64)> {
                    a.iter().map(|(i, v)| (i.index(), v.value())).collect()
                };
                assert_eq!(pairs(&copy), pairs(&arena));
                arena = copy;
            }
            Op::CloneScribble => {
                let mut copy = arena.clone();
                for (_, v) in copy.iter_mut() {
                    *v = T::new(12345);
                }
                if let Some((first, _)) = copy.iter().next() {
                    copy.remove(first);
                }
                let _ = copy.try_alloc(T::new(777));
                drop(copy);
            }
        }
        check(&arena, &model);
    }
    drop(arena);
    if T::COUNTED {
        assert_eq!(
            live(),
            0,
            "dropping the arena dropped every live value once"
        );
    }
}

/// A fixed sequence through every operation, for Miri.
#[test]
fn scripted_sequence_matches_model() {
    let mut ops = Vec::new();
    for k in 0..90u64 {
        ops.push(Op::Alloc(k * 3));
        if k % 3 == 0 {
            ops.push(Op::Remove((k * 7) as usize));
        }
        if k % 10 == 0 {
            ops.push(Op::Swap(k as usize, 1));
            ops.push(Op::Set(k as usize / 2, k));
            ops.push(Op::Get(k as usize));
        }
        if k % 25 == 0 {
            // Several vacant slots, so the clone has a free list longer than one to carry over.
            ops.extend([1, 3, 5, 7].map(|d| Op::Remove(k as usize / 2 + d)));
            ops.push(Op::CloneSwap);
            ops.push(Op::CloneScribble);
            ops.push(Op::Reserve(30));
            ops.push(Op::Retain(k as u8));
        }
    }
    ops.push(Op::Clear);
    ops.extend((0..5).map(Op::Alloc));
    for limit in [usize::MAX, 40] {
        run::<Big>(limit, &ops);
        run::<Small>(limit, &ops);
        run::<Odd>(limit, &ops);
        run::<u8>(limit, &ops);
        run::<Zst>(limit, &ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    #[cfg_attr(miri, ignore)]
    fn big_matches_model(limit in 0usize..40, ops in prop::collection::vec(op(), 0..200)) {
        run::<Big>(limit, &ops);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn small_matches_model(limit in 0usize..40, ops in prop::collection::vec(op(), 0..200)) {
        run::<Small>(limit, &ops);
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn odd_and_tiny_match_model(ops in prop::collection::vec(op(), 0..200)) {
        run::<Odd>(usize::MAX, &ops);
        run::<u8>(usize::MAX, &ops);
        run::<Zst>(usize::MAX, &ops);
    }
}
