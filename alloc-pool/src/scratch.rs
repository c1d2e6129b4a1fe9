//! Bump-allocated scratch space for per-batch temporaries.
//!
//! Owns one [`bumpalo::Bump`]. Everything allocated in it lives until the next
//! [`Scratch::reset`], which needs `&mut self`, so the borrow checker guarantees that no
//! [`ScratchVec`] outlives the batch it was made for. Values in scratch vectors are dropped
//! when the vector is dropped, as with `Vec`; the memory itself is reclaimed by `reset`.

use bumpalo::Bump;

/// A growable vector living in a [`Scratch`] arena.
pub type ScratchVec<'a, T> = bumpalo::collections::Vec<'a, T>;

/// Scratch space for one batch: allocate freely, then [`reset`](Scratch::reset) to reuse the
/// memory for the next batch without returning it to the system allocator.
///
/// ```
/// use converge_pool::Scratch;
///
/// let mut scratch = Scratch::new();
/// for batch in [[3u64, 1, 3, 2], [9, 9, 8, 7]] {
///     let ids = scratch.sorted_dedup(&batch);
///     assert!(ids.windows(2).all(|w| w[0] < w[1]));
///     drop(ids);
///     scratch.reset(); // the next batch reuses the same memory
/// }
/// ```
#[derive(Default)]
pub struct Scratch {
    bump: Bump,
}

impl Scratch {
    /// Empty scratch space (no memory until first use).
    pub fn new() -> Self {
        Self { bump: Bump::new() }
    }

    /// Scratch space with `bytes` preallocated.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            bump: Bump::with_capacity(bytes),
        }
    }

    /// A new empty vector in this scratch space.
    pub fn vec<T>(&self) -> ScratchVec<'_, T> {
        ScratchVec::new_in(&self.bump)
    }

    /// A new vector with room for `cap` elements.
    pub fn vec_with_capacity<T>(&self, cap: usize) -> ScratchVec<'_, T> {
        ScratchVec::with_capacity_in(cap, &self.bump)
    }

    /// `items` sorted by `key`, keeping only the first item (in input order) of each key.
    ///
    /// Which duplicate survives is part of the contract, so replicas that merge the same batch
    /// agree on the result whatever the sort algorithm. `key` is called once per item (like
    /// `sort_by_cached_key`); keys and items are copied into scratch space, nothing touches the
    /// global allocator. Costs `O(n log n)` time and `n` keys plus `n` positions of scratch.
    ///
    /// ```
    /// use converge_pool::Scratch;
    ///
    /// let scratch = Scratch::new();
    /// let ops = [(2, "b"), (1, "a"), (2, "b-dup"), (0, "z")];
    /// let merged = scratch.sorted_dedup_by_key(&ops, |op| op.0);
    /// assert_eq!(&merged[..], &[(0, "z"), (1, "a"), (2, "b")]);
    /// ```
    pub fn sorted_dedup_by_key<T: Clone, K: Ord>(
        &self,
        items: &[T],
        mut key: impl FnMut(&T) -> K,
    ) -> ScratchVec<'_, T> {
        // Allocate the output first, so that the key table is the most recent allocation and
        // dropping it below hands its memory straight back to the bump allocator.
        let mut out = self.vec_with_capacity(items.len());
        let mut keyed: ScratchVec<'_, (K, usize)> = self.vec_with_capacity(items.len());
        keyed.extend(items.iter().enumerate().map(|(pos, item)| (key(item), pos)));
        // Positions make every entry distinct, so an unstable sort gives the one stable order.
        keyed.sort_unstable();
        keyed.dedup_by(|later, first| later.0 == first.0);
        out.extend(keyed.iter().map(|&(_, pos)| items[pos].clone()));
        drop(keyed);
        out
    }

    /// The union of `a` and `b`, both already sorted by `key`, in one linear pass: the same
    /// result as [`sorted_dedup_by_key`](Self::sorted_dedup_by_key) over `a` followed by `b`
    /// (so on equal keys the item from `a` wins, and within one input the first one).
    ///
    /// If an input is not sorted by `key`, the output is still a sequence of clones of input
    /// items but neither sorted nor free of duplicates (checked by a debug assertion).
    ///
    /// ```
    /// use converge_pool::Scratch;
    ///
    /// let scratch = Scratch::new();
    /// let local = [(1, "local"), (4, "local")];
    /// let remote = [(1, "remote"), (2, "remote"), (2, "remote-dup")];
    /// let merged = scratch.merge_sorted_by_key(&local, &remote, |e| e.0);
    /// assert_eq!(&merged[..], &[(1, "local"), (2, "remote"), (4, "local")]);
    /// ```
    pub fn merge_sorted_by_key<T: Clone, K: Ord>(
        &self,
        a: &[T],
        b: &[T],
        mut key: impl FnMut(&T) -> K,
    ) -> ScratchVec<'_, T> {
        debug_assert!(
            a.windows(2).all(|w| key(&w[0]) <= key(&w[1])),
            "`a` is not sorted"
        );
        debug_assert!(
            b.windows(2).all(|w| key(&w[0]) <= key(&w[1])),
            "`b` is not sorted"
        );
        let mut out = self.vec_with_capacity(a.len() + b.len());
        let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
        let mut last: Option<K> = None;
        loop {
            let item = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if key(x) <= key(y) => a.next(),
                (Some(_), Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, _) => b.next(),
            };
            let Some(item) = item else { break };
            let k = key(item);
            if last.as_ref() != Some(&k) {
                out.push(item.clone());
                last = Some(k);
            }
        }
        out
    }

    /// `items` sorted, with duplicates removed.
    ///
    /// Meant for types whose equal values are indistinguishable (ids, integers, dots); among
    /// values that compare equal but differ otherwise, which one survives is unspecified. Use
    /// [`sorted_dedup_by_key`](Self::sorted_dedup_by_key) when it matters.
    pub fn sorted_dedup<T: Clone + Ord>(&self, items: &[T]) -> ScratchVec<'_, T> {
        let mut out = self.vec_with_capacity(items.len());
        out.extend_from_slice(items);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The underlying bump allocator.
    pub fn bump(&self) -> &Bump {
        &self.bump
    }

    /// Frees everything allocated since the last reset, keeping the largest chunk for reuse.
    pub fn reset(&mut self) {
        self.bump.reset();
    }

    /// Bytes currently held from the system allocator.
    pub fn allocated_bytes(&self) -> usize {
        self.bump.allocated_bytes()
    }
}

impl core::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scratch")
            .field("allocated_bytes", &self.allocated_bytes())
            .finish()
    }
}
