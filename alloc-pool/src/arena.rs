//! A typed-handle arena: the safe skin over [`raw`](crate::raw).
//!
//! Owns the handle type [`Idx<T>`], the item limit and the budget accounting; slot storage and
//! every `unsafe` operation live in the crate-private `raw` module.
//!
//! Invariants: `len() <= item_limit()`; a handle returned by `alloc` stays valid until that
//! value is removed or the arena is cleared. Handles are not generation-checked: after
//! `remove`, an old handle may point at a newer value stored in the reused slot.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::num::NonZeroU32;
use core::ops::{Index, IndexMut};

use crate::budget::Budget;
use crate::raw::{GrowError, MAX_SLOTS, RawArena, RawIter, RawIterMut};

/// A `Copy` handle to a value in an [`Arena<T>`]. Four bytes; `Option<Idx<T>>` is four too.
///
/// Handles are local to one arena and one process: convert to stable ids before anything goes
/// over the wire.
pub struct Idx<T> {
    raw: NonZeroU32,
    _ty: PhantomData<fn() -> T>,
}

const _: () = assert!(core::mem::size_of::<Idx<u64>>() == 4);
const _: () = assert!(core::mem::size_of::<Option<Idx<u64>>>() == 4);

impl<T> Idx<T> {
    /// The handle for slot `index`. Panics if `index >= u32::MAX`.
    #[inline]
    #[track_caller]
    pub fn from_index(index: usize) -> Self {
        Self::try_from_index(index).expect("arena index overflow")
    }

    /// The handle for slot `index`, or `None` if `index >= u32::MAX`.
    #[inline]
    pub fn try_from_index(index: usize) -> Option<Self> {
        let raw = u32::try_from(index.checked_add(1)?).ok()?;
        Some(Self {
            raw: NonZeroU32::new(raw)?,
            _ty: PhantomData,
        })
    }

    /// The slot index this handle points at.
    #[inline(always)]
    pub fn index(self) -> usize {
        (self.raw.get() - 1) as usize
    }
}

impl<T> Clone for Idx<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Idx<T> {}
impl<T> PartialEq for Idx<T> {
    fn eq(&self, o: &Self) -> bool {
        self.raw == o.raw
    }
}
impl<T> Eq for Idx<T> {}
impl<T> PartialOrd for Idx<T> {
    fn partial_cmp(&self, o: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Idx<T> {
    fn cmp(&self, o: &Self) -> core::cmp::Ordering {
        self.raw.cmp(&o.raw)
    }
}
impl<T> Hash for Idx<T> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.raw.hash(h)
    }
}
impl<T> fmt::Debug for Idx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Idx({})", self.index())
    }
}

/// Why [`Arena::try_reserve`] could not make room. The arena is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReserveError {
    /// The arena's item limit would be exceeded.
    ItemLimit {
        /// Live items the reservation would need room for in total.
        requested: usize,
        /// The arena's item limit.
        limit: usize,
    },
    /// The size would exceed what handles can address (`u32::MAX - 1` slots) or what the platform
    /// can allocate (`isize::MAX` bytes).
    CapacityOverflow,
    /// The allocator refused the request.
    OutOfMemory,
}

impl fmt::Display for ReserveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReserveError::ItemLimit { requested, limit } => write!(
                f,
                "arena item limit exceeded: room for {requested} items requested, limit is {limit}"
            ),
            ReserveError::CapacityOverflow => f.write_str("arena capacity overflow"),
            ReserveError::OutOfMemory => f.write_str("out of memory while growing an arena"),
        }
    }
}

impl core::error::Error for ReserveError {}

impl From<GrowError> for ReserveError {
    fn from(e: GrowError) -> Self {
        match e {
            GrowError::CapacityOverflow => ReserveError::CapacityOverflow,
            GrowError::OutOfMemory => ReserveError::OutOfMemory,
        }
    }
}

/// A vector of `T` addressed by [`Idx<T>`] handles, reusing removed slots.
///
/// A live value costs `size_of::<T>()` bytes plus one bit. The most recently removed slot is
/// reused first; iteration visits live values in slot order. Handles are not generation-checked:
/// after `remove`, an old handle may point at a new value.
///
/// Because the arena drops its values itself (stable Rust has no `#[may_dangle]`), borrowed
/// data put into it must strictly outlive it, which `Vec` does not require:
///
/// ```compile_fail
/// let mut arena = converge_pool::Arena::new();
/// let text = String::from("declared after the arena, so dropped before it");
/// arena.alloc(text.as_str());
/// ```
///
/// ```
/// use converge_pool::Arena;
///
/// let mut arena = Arena::new();
/// let a = arena.alloc("a");
/// let b = arena.alloc("b");
/// assert_eq!(arena.remove(a), Some("a"));
/// let c = arena.alloc("c"); // reuses the slot `a` had
/// assert_eq!(c.index(), a.index());
/// assert_eq!(arena.iter().map(|(_, v)| *v).collect::<Vec<_>>(), ["c", "b"]);
/// assert_eq!(arena[b], "b");
/// ```
pub struct Arena<T> {
    raw: RawArena<T>,
    max_items: usize,
}

impl<T> Arena<T> {
    /// An empty arena with no item limit (beyond the `u32::MAX - 1` slots handles address).
    pub const fn new() -> Self {
        Self {
            raw: RawArena::new(),
            max_items: MAX_SLOTS,
        }
    }

    /// An empty arena with room for `cap` items before reallocating.
    pub fn with_capacity(cap: usize) -> Self {
        let mut a = Self::new();
        a.reserve(cap);
        a
    }

    /// An empty arena that holds at most `max_items` live items.
    pub fn with_limit(max_items: usize) -> Self {
        let mut a = Self::new();
        a.max_items = max_items.min(MAX_SLOTS);
        a
    }

    /// The most live items this arena accepts.
    #[inline]
    pub fn item_limit(&self) -> usize {
        self.max_items
    }

    /// Bytes that [`try_alloc_budgeted`](Self::try_alloc_budgeted) charges per item:
    /// `size_of::<T>()`, at least 1 so that zero-sized items are still bounded.
    #[inline]
    pub const fn bytes_per_item() -> usize {
        let size = core::mem::size_of::<T>();
        if size == 0 { 1 } else { size }
    }

    /// Stores `value`. Panics if the item limit is reached or memory runs out; see
    /// [`try_alloc`](Self::try_alloc) for the non-panicking form.
    #[inline]
    #[track_caller]
    pub fn alloc(&mut self, value: T) -> Idx<T> {
        match self.try_alloc(value) {
            Ok(i) => i,
            Err(_) => alloc_failed(),
        }
    }

    /// Stores `value`, or gives it back if the item limit is reached or memory cannot be
    /// allocated. Never panics, never aborts.
    #[inline]
    pub fn try_alloc(&mut self, value: T) -> Result<Idx<T>, T> {
        if self.raw.len() >= self.max_items {
            return Err(value);
        }
        // `insert` keeps every slot index below `MAX_SLOTS`, so every index has a handle.
        self.raw.insert(value).map(Idx::from_index)
    }

    /// Stores `value` after reserving [`bytes_per_item`](Self::bytes_per_item) in `budget`;
    /// gives it back if the budget, the item limit or memory is exhausted (nothing is reserved
    /// then). Release with [`remove_budgeted`](Self::remove_budgeted).
    pub fn try_alloc_budgeted(&mut self, value: T, budget: &mut Budget) -> Result<Idx<T>, T> {
        let bytes = Self::bytes_per_item();
        if budget.try_reserve(bytes).is_err() {
            return Err(value);
        }
        self.try_alloc(value).inspect_err(|_| budget.release(bytes))
    }

    /// Makes room for `additional` more items, so that that many `try_alloc` calls succeed
    /// without allocating. Fails without changing anything if the item limit would be exceeded
    /// or memory cannot be allocated; never aborts.
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), ReserveError> {
        let requested = self.raw.len().saturating_add(additional);
        if requested > self.max_items {
            return Err(ReserveError::ItemLimit {
                requested,
                limit: self.max_items,
            });
        }
        self.raw.try_reserve(additional).map_err(ReserveError::from)
    }

    /// Like [`try_reserve`](Self::try_reserve) but panics on failure.
    #[track_caller]
    pub fn reserve(&mut self, additional: usize) {
        if let Err(e) = self.try_reserve(additional) {
            panic!("{e}");
        }
    }

    /// The value at `idx`, if it is live.
    #[inline(always)]
    pub fn get(&self, idx: Idx<T>) -> Option<&T> {
        self.raw.get(idx.index())
    }

    /// The value at `idx` mutably, if it is live.
    #[inline(always)]
    pub fn get_mut(&mut self, idx: Idx<T>) -> Option<&mut T> {
        self.raw.get_mut(idx.index())
    }

    /// Two different live values mutably at once (in argument order); `None` if `a == b` or
    /// either is not live.
    pub fn get2_mut(&mut self, a: Idx<T>, b: Idx<T>) -> Option<(&mut T, &mut T)> {
        self.raw.get2_mut(a.index(), b.index())
    }

    /// Whether `idx` points at a live value.
    #[inline(always)]
    pub fn contains(&self, idx: Idx<T>) -> bool {
        self.raw.is_occupied(idx.index())
    }

    /// Removes and returns the value at `idx`; its slot is the next one reused.
    pub fn remove(&mut self, idx: Idx<T>) -> Option<T> {
        self.raw.remove(idx.index())
    }

    /// Removes the value at `idx` and releases the bytes
    /// [`try_alloc_budgeted`](Self::try_alloc_budgeted) reserved for it.
    pub fn remove_budgeted(&mut self, idx: Idx<T>, budget: &mut Budget) -> Option<T> {
        let value = self.raw.remove(idx.index())?;
        budget.release(Self::bytes_per_item());
        Some(value)
    }

    /// Keeps only the values for which `keep` returns `true`, visiting them in slot order.
    /// Removed values are dropped and their slots reused later, the highest index first.
    pub fn retain(&mut self, mut keep: impl FnMut(Idx<T>, &mut T) -> bool) {
        self.raw.retain(|i, v| keep(Idx::from_index(i), v));
    }

    /// Number of live values.
    #[inline]
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether no value is live.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.raw.len() == 0
    }

    /// Slots allocated (live or free) before the backing vector must grow.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// Removes (and drops) every value, keeping the allocation. Handles start again at index 0.
    pub fn clear(&mut self) {
        self.raw.clear();
    }

    /// Live values with their handles, in slot order.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            inner: self.raw.iter(),
        }
    }

    /// Live values mutably with their handles, in slot order.
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        IterMut {
            inner: self.raw.iter_mut(),
        }
    }

    /// Panics if the arena's internal invariants do not hold. For tests and fuzzers: a correct
    /// program never sees it panic.
    pub fn check_invariants(&self) {
        self.raw.check_invariants();
        assert!(self.len() <= self.max_items, "more items than the limit");
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn alloc_failed() -> ! {
    panic!("arena item limit reached or out of memory")
}

#[cold]
#[inline(never)]
#[track_caller]
fn stale_handle(index: usize) -> ! {
    panic!("arena handle {index} is stale or from another arena")
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Clone for Arena<T> {
    /// An independent copy that also reuses freed slots in the same order as the original.
    fn clone(&self) -> Self {
        Self {
            raw: self.raw.clone(),
            max_items: self.max_items,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Arena<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<T> Index<Idx<T>> for Arena<T> {
    type Output = T;
    #[inline(always)]
    #[track_caller]
    fn index(&self, idx: Idx<T>) -> &T {
        match self.get(idx) {
            Some(v) => v,
            None => stale_handle(idx.index()),
        }
    }
}

impl<T> IndexMut<Idx<T>> for Arena<T> {
    #[inline(always)]
    #[track_caller]
    fn index_mut(&mut self, idx: Idx<T>) -> &mut T {
        match self.raw.get_mut(idx.index()) {
            Some(v) => v,
            None => stale_handle(idx.index()),
        }
    }
}

/// Iterator over `(handle, &value)` in slot order; see [`Arena::iter`].
pub struct Iter<'a, T> {
    inner: RawIter<'a, T>,
}

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = (Idx<T>, &'a T);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(i, v)| (Idx::from_index(i), v))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}
impl<T> FusedIterator for Iter<'_, T> {}

/// Iterator over `(handle, &mut value)` in slot order; see [`Arena::iter_mut`].
pub struct IterMut<'a, T> {
    inner: RawIterMut<'a, T>,
}

impl<'a, T> Iterator for IterMut<'a, T> {
    type Item = (Idx<T>, &'a mut T);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(i, v)| (Idx::from_index(i), v))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T> ExactSizeIterator for IterMut<'_, T> {}
impl<T> FusedIterator for IterMut<'_, T> {}

/// Owning iterator over `(handle, value)` in slot order; see [`Arena::into_iter`]. Values not
/// yet yielded are dropped with the iterator.
pub struct IntoIter<T> {
    raw: RawArena<T>,
    next: usize,
}

impl<T> Iterator for IntoIter<T> {
    type Item = (Idx<T>, T);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let i = self.raw.next_occupied(self.next)?;
        self.next = i + 1;
        let value = self.raw.remove(i)?;
        Some((Idx::from_index(i), value))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.len(), Some(self.raw.len()))
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}
impl<T> FusedIterator for IntoIter<T> {}

impl<T> IntoIterator for Arena<T> {
    type Item = (Idx<T>, T);
    type IntoIter = IntoIter<T>;
    /// Moves the live values out with their handles, in slot order.
    fn into_iter(self) -> IntoIter<T> {
        IntoIter {
            raw: self.raw,
            next: 0,
        }
    }
}

impl<'a, T> IntoIterator for &'a Arena<T> {
    type Item = (Idx<T>, &'a T);
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Arena<T> {
    type Item = (Idx<T>, &'a mut T);
    type IntoIter = IterMut<'a, T>;
    fn into_iter(self) -> IterMut<'a, T> {
        self.iter_mut()
    }
}
