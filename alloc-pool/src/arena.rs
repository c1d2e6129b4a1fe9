//! A typed-handle arena with free-list reuse.

use alloc::vec::Vec;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::num::NonZeroU32;
use core::ops::{Index, IndexMut};

use crate::budget::Budget;

/// A `Copy` handle to a value in an [`Arena<T>`]. Four bytes; `Option<Idx<T>>` is four too.
pub struct Idx<T> {
    raw: NonZeroU32,
    _ty: PhantomData<fn() -> T>,
}

impl<T> Idx<T> {
    /// The handle for slot `index`. Panics if `index >= u32::MAX`.
    #[inline]
    pub fn from_index(index: usize) -> Self {
        let raw = u32::try_from(index + 1).expect("arena index overflow");
        Self {
            raw: NonZeroU32::new(raw).expect("index + 1 is non-zero"),
            _ty: PhantomData,
        }
    }

    /// The slot index this handle points at.
    #[inline]
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

enum Slot<T> {
    Occupied(T),
    Free { next: u32 },
}

const NO_FREE: u32 = u32::MAX;

/// A vector of `T` addressed by [`Idx<T>`] handles, reusing removed slots.
///
/// Handles are not generation-checked: after `remove`, an old handle may point at a new value.
pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    free_head: u32,
    len: usize,
    max_items: usize,
}

impl<T> Arena<T> {
    /// An empty arena with no item limit.
    pub const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free_head: NO_FREE,
            len: 0,
            max_items: u32::MAX as usize - 1,
        }
    }

    /// An empty arena with room for `cap` items before reallocating.
    pub fn with_capacity(cap: usize) -> Self {
        let mut a = Self::new();
        a.slots.reserve(cap);
        a
    }

    /// An empty arena that holds at most `max_items` live items.
    pub fn with_limit(max_items: usize) -> Self {
        let mut a = Self::new();
        a.max_items = max_items.min(u32::MAX as usize - 1);
        a
    }

    /// Stores `value`. Panics only if the arena's item limit is reached; see
    /// [`try_alloc`](Self::try_alloc) for the non-panicking form.
    #[inline]
    pub fn alloc(&mut self, value: T) -> Idx<T> {
        match self.try_alloc(value) {
            Ok(i) => i,
            Err(_) => panic!("arena item limit reached"),
        }
    }

    /// Stores `value`, or gives it back if the item limit is reached.
    #[inline]
    pub fn try_alloc(&mut self, value: T) -> Result<Idx<T>, T> {
        if self.len >= self.max_items {
            return Err(value);
        }
        self.len += 1;
        if self.free_head != NO_FREE {
            let i = self.free_head as usize;
            match core::mem::replace(&mut self.slots[i], Slot::Occupied(value)) {
                Slot::Free { next } => self.free_head = next,
                Slot::Occupied(_) => unreachable!("free list points at an occupied slot"),
            }
            Ok(Idx::from_index(i))
        } else {
            self.slots.push(Slot::Occupied(value));
            Ok(Idx::from_index(self.slots.len() - 1))
        }
    }

    /// Stores `value` after reserving its size in `budget`; gives it back if either the
    /// budget or the item limit is exhausted (nothing is reserved then).
    pub fn try_alloc_budgeted(&mut self, value: T, budget: &mut Budget) -> Result<Idx<T>, T> {
        let bytes = core::mem::size_of::<T>().max(1);
        if budget.try_reserve(bytes).is_err() {
            return Err(value);
        }
        self.try_alloc(value).inspect_err(|_| budget.release(bytes))
    }

    /// The value at `idx`, if it is live.
    #[inline]
    pub fn get(&self, idx: Idx<T>) -> Option<&T> {
        match self.slots.get(idx.index()) {
            Some(Slot::Occupied(v)) => Some(v),
            _ => None,
        }
    }

    /// The value at `idx` mutably, if it is live.
    #[inline]
    pub fn get_mut(&mut self, idx: Idx<T>) -> Option<&mut T> {
        match self.slots.get_mut(idx.index()) {
            Some(Slot::Occupied(v)) => Some(v),
            _ => None,
        }
    }

    /// Whether `idx` points at a live value.
    #[inline]
    pub fn contains(&self, idx: Idx<T>) -> bool {
        self.get(idx).is_some()
    }

    /// Removes and returns the value at `idx`; its slot is reused by a later alloc.
    pub fn remove(&mut self, idx: Idx<T>) -> Option<T> {
        let i = idx.index();
        match self.slots.get(i) {
            Some(Slot::Occupied(_)) => {}
            _ => return None,
        }
        let old = core::mem::replace(
            &mut self.slots[i],
            Slot::Free {
                next: self.free_head,
            },
        );
        self.free_head = i as u32;
        self.len -= 1;
        match old {
            Slot::Occupied(v) => Some(v),
            Slot::Free { .. } => None,
        }
    }

    /// Number of live values.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no value is live.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Slots allocated (live or free) before the backing vector must grow.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// Removes every value, keeping the allocation.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.free_head = NO_FREE;
        self.len = 0;
    }

    /// Live values with their handles, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Idx<T>, &T)> + '_ {
        self.slots.iter().enumerate().filter_map(|(i, s)| match s {
            Slot::Occupied(v) => Some((Idx::from_index(i), v)),
            Slot::Free { .. } => None,
        })
    }

    /// Live values mutably with their handles, in slot order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Idx<T>, &mut T)> + '_ {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Slot::Occupied(v) => Some((Idx::from_index(i), v)),
                Slot::Free { .. } => None,
            })
    }
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> Clone for Arena<T> {
    fn clone(&self) -> Self {
        Self {
            slots: self
                .slots
                .iter()
                .map(|s| match s {
                    Slot::Occupied(v) => Slot::Occupied(v.clone()),
                    Slot::Free { next } => Slot::Free { next: *next },
                })
                .collect(),
            free_head: self.free_head,
            len: self.len,
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
    #[inline]
    fn index(&self, idx: Idx<T>) -> &T {
        self.get(idx).expect("stale or foreign arena handle")
    }
}

impl<T> IndexMut<Idx<T>> for Arena<T> {
    #[inline]
    fn index_mut(&mut self, idx: Idx<T>) -> &mut T {
        self.get_mut(idx).expect("stale or foreign arena handle")
    }
}
