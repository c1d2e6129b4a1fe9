//! The kernel's one sort: a stable merge sort whose body is compiled once for every element
//! type and order.
//!
//! `slice::sort*` from core is instantiated anew for each element type and comparator
//! (driftsort or ipnsort, 3 to 8 KB of WebAssembly each); the kernel sorts some forty kinds
//! of rows, which made sorting about an eighth of the npm package's `.wasm`. Here only two
//! small pieces are generic: the check that the input is already in order (the common case:
//! rows collected from sorted maps and logs) and the final permutation. The merge sort itself
//! runs on positions through a `dyn` comparator, so there is one copy of it in a binary.
//!
//! The sort is stable, so it gives the result `slice::sort_by` gives, which is also a result
//! `slice::sort_unstable_by` may give. An input already in order costs one comparison per
//! element and no allocation; otherwise the sort allocates two position tables (`2 * len`
//! words) and pays an indirect call per comparison, so on large shuffled inputs it is slower
//! than core's. The kernel's callers sort small batches (merged rows, concurrent siblings,
//! updates of one merge), mostly already in order.

use alloc::vec::Vec;

/// Sorts `v` by `less` (a strict weak order: `less(a, b)` means `a` goes before `b`), keeping
/// equal elements in their order.
pub(crate) fn sort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    if v.windows(2).all(|w| !less(&w[1], &w[0])) {
        return;
    }
    let order = {
        let v = &*v;
        sorted_positions(v.len(), &mut |a, b| less(&v[a], &v[b]))
    };
    permute(v, order);
}

/// Sorts `v` by the key `key` gives, keeping elements with equal keys in their order.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a) < key(b));
}

/// Sorts `v` in ascending order.
pub(crate) fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, |a, b| a < b);
}

/// Positions `0..n` in sorted order by `less` on positions; equal positions keep their order.
/// Bottom-up merge sort over insertion-sorted runs of `RUN`.
fn sorted_positions(n: usize, less: &mut dyn FnMut(usize, usize) -> bool) -> Vec<usize> {
    const RUN: usize = 8;
    let mut a: Vec<usize> = (0..n).collect();
    for start in (0..n).step_by(RUN) {
        let end = n.min(start + RUN);
        for i in start + 1..end {
            let x = a[i];
            let mut j = i;
            while j > start && less(x, a[j - 1]) {
                a[j] = a[j - 1];
                j -= 1;
            }
            a[j] = x;
        }
    }
    let mut b = alloc::vec![0; n];
    let mut width = RUN;
    while width < n {
        for lo in (0..n).step_by(2 * width) {
            let mid = n.min(lo + width);
            let hi = n.min(lo + 2 * width);
            if mid == hi || !less(a[mid], a[mid - 1]) {
                b[lo..hi].copy_from_slice(&a[lo..hi]);
                continue;
            }
            let (mut i, mut j) = (lo, mid);
            for out in &mut b[lo..hi] {
                // Take from the right run only when strictly before: equal elements keep order.
                if j < hi && (i == mid || less(a[j], a[i])) {
                    *out = a[j];
                    j += 1;
                } else {
                    *out = a[i];
                    i += 1;
                }
            }
        }
        core::mem::swap(&mut a, &mut b);
        width *= 2;
    }
    a
}

/// Rearranges `v` so that `v[k]` becomes the old `v[order[k]]` (`order` is a permutation),
/// one swap per moved element.
fn permute<T>(v: &mut [T], mut order: Vec<usize>) {
    for start in 0..v.len() {
        let mut k = start;
        // A cycle start -> order[start] -> ...; positions done are marked `order[k] == k`.
        while order[k] != start && order[k] != k {
            let next = order[k];
            v.swap(k, next);
            order[k] = k;
            k = next;
        }
        order[k] = k;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    #[test]
    fn sorts_small_and_edge_inputs() {
        let mut empty: [u8; 0] = [];
        sort(&mut empty);
        let mut one = [7];
        sort(&mut one);
        assert_eq!(one, [7]);
        let mut v = vec![3, 1, 2];
        sort(&mut v);
        assert_eq!(v, [1, 2, 3]);
        let mut v: Vec<u32> = (0..100).rev().collect();
        sort(&mut v);
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn keeps_equal_keys_in_order() {
        let mut v: Vec<(u8, usize)> = (0..50).map(|i| ((i * 7 % 5) as u8, i)).collect();
        let mut want = v.clone();
        want.sort_by_key(|r| r.0);
        sort_by_key(&mut v, |r| r.0);
        assert_eq!(v, want);
    }

    proptest! {
        #[test]
        fn agrees_with_core_stable_sort(mut v in proptest::collection::vec((0u8..8, any::<u16>()), 0..300)) {
            let mut want = v.clone();
            want.sort_by_key(|r| r.0);
            sort_by_key(&mut v, |r| r.0);
            prop_assert_eq!(v, want);
        }

        #[test]
        fn sorts_strings(mut v in proptest::collection::vec("[a-c]{0,3}", 0..100)) {
            let mut want = v.clone();
            want.sort();
            sort(&mut v);
            prop_assert_eq!(v, want);
        }
    }
}
