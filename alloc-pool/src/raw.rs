//! Raw slot storage behind [`Arena`](crate::Arena): the only module of this crate with `unsafe`.
//!
//! [`RawArena<T>`] owns three things:
//!
//! - `slots: Vec<MaybeUninit<T>>`: one slot per index ever handed out, so a live value costs
//!   exactly `size_of::<T>()` (no enum tag, no padding added by the arena);
//! - `occupied: Vec<u64>`: one bit per slot, set while the slot holds a live value;
//! - a LIFO free list of vacated slots. When `T` is at least four bytes the list is intrusive: a
//!   free slot stores the `u32` index of the next free slot in its first four bytes (written
//!   unaligned, since `T` may have alignment 1). Smaller types keep the list in `free_stack`,
//!   whose capacity is grown together with `slots` so that `remove` never allocates.
//!
//! Invariants (checked by [`RawArena::check_invariants`]):
//!
//! 1. `occupied.len() == slots.len().div_ceil(64)` and no bit at a position `>= slots.len()` is set.
//! 2. Bit `i` is set exactly when `slots[i]` holds an initialized `T` owned by this arena.
//! 3. `len` is the number of set bits.
//! 4. Every vacant slot below `slots.len()` is on the free list exactly once, and nothing else
//!    is; an intrusive link is stored in every vacant slot.
//! 5. `slots.len() <= MAX_SLOTS`, so every index and `NIL` fit in a `u32` and differ.
//! 6. Without the intrusive list, `free_stack.capacity() >= slots.len()`.
//!
//! Dropping or clearing the arena drops live values only. If a value's `Drop` panics, the values
//! not yet dropped are leaked (never dropped twice), and the arena is left empty.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::marker::PhantomData;
use core::mem::{self, MaybeUninit};
use core::ptr;

/// End-of-list marker of the intrusive free list; never a valid slot index (invariant 5).
const NIL: u32 = u32::MAX;

/// Most slots an arena may hold: every index is below `u32::MAX - 1`, so it fits in a `u32`,
/// differs from [`NIL`], and `index + 1` (the handle's non-zero encoding) fits in a `u32` too.
/// (On targets whose `usize` is narrower than 32 bits the cast truncates to `usize::MAX - 1`,
/// more than any `Vec` of non-zero-sized values can hold there anyway.)
pub(crate) const MAX_SLOTS: usize = (u32::MAX - 1) as usize;

/// Why storage could not grow. The arena is unchanged in both cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GrowError {
    /// The requested size exceeds [`MAX_SLOTS`] or `isize::MAX` bytes.
    CapacityOverflow,
    /// The global allocator refused the request.
    OutOfMemory,
}

/// Grows `v` so that it can hold `total` elements without reallocating (amortized growth).
fn reserve_total<U>(v: &mut Vec<U>, total: usize) -> Result<(), GrowError> {
    if total <= v.capacity() {
        return Ok(());
    }
    if Layout::array::<U>(total).is_err() {
        return Err(GrowError::CapacityOverflow);
    }
    v.try_reserve(total - v.len())
        .map_err(|_| GrowError::OutOfMemory)
}

/// The bit for slot `i`: word index and mask.
#[inline(always)]
const fn bit(i: usize) -> (usize, u64) {
    (i / 64, 1u64 << (i % 64))
}

/// Slot storage with an occupancy bitset and a free list; see the module docs for invariants.
pub(crate) struct RawArena<T> {
    slots: Vec<MaybeUninit<T>>,
    occupied: Vec<u64>,
    /// Head of the intrusive free list (used when [`Self::INTRUSIVE`]).
    free_head: u32,
    /// Free slot indices, top = next to reuse (used when not [`Self::INTRUSIVE`]).
    free_stack: Vec<u32>,
    len: usize,
    /// The arena owns (and drops) values of type `T`.
    _owns: PhantomData<T>,
}

impl<T> RawArena<T> {
    /// Whether a vacant slot is big enough to hold its own free-list link.
    const INTRUSIVE: bool = mem::size_of::<T>() >= mem::size_of::<u32>();

    pub(crate) const fn new() -> Self {
        Self {
            slots: Vec::new(),
            occupied: Vec::new(),
            free_head: NIL,
            free_stack: Vec::new(),
            len: 0,
            _owns: PhantomData,
        }
    }

    /// Live values.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slots that fit before the slot vector must grow.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.capacity().min(MAX_SLOTS)
    }

    /// Whether slot `i` holds a live value. Out-of-range indices are simply not live.
    #[inline(always)]
    pub(crate) fn is_occupied(&self, i: usize) -> bool {
        let (w, m) = bit(i);
        match self.occupied.get(w) {
            Some(word) => word & m != 0,
            None => false,
        }
    }

    /// The live value in slot `i`.
    ///
    /// # Safety
    ///
    /// Slot `i` must be occupied (`self.is_occupied(i)`).
    #[inline(always)]
    unsafe fn get_unchecked(&self, i: usize) -> &T {
        debug_assert!(self.is_occupied(i), "slot {i} is not occupied");
        // SAFETY: the caller guarantees bit `i` is set, so `i < slots.len()` (invariant 1) and
        // the slot is initialized (invariant 2).
        unsafe { self.slots.get_unchecked(i).assume_init_ref() }
    }

    /// The live value in slot `i`, mutably.
    ///
    /// # Safety
    ///
    /// Slot `i` must be occupied (`self.is_occupied(i)`).
    #[inline(always)]
    unsafe fn get_unchecked_mut(&mut self, i: usize) -> &mut T {
        debug_assert!(self.is_occupied(i), "slot {i} is not occupied");
        // SAFETY: as in `get_unchecked`; `&mut self` makes the reference unique.
        unsafe { self.slots.get_unchecked_mut(i).assume_init_mut() }
    }

    /// The value in slot `i`, if live: one bounds check on the bitset and one bit test.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        if self.is_occupied(i) {
            // SAFETY: just checked that slot `i` is occupied.
            Some(unsafe { self.get_unchecked(i) })
        } else {
            None
        }
    }

    /// The value in slot `i` mutably, if live.
    #[inline(always)]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if self.is_occupied(i) {
            // SAFETY: just checked that slot `i` is occupied.
            Some(unsafe { self.get_unchecked_mut(i) })
        } else {
            None
        }
    }

    /// Two distinct live values mutably at once; `None` if `a == b` or either is not live.
    pub(crate) fn get2_mut(&mut self, a: usize, b: usize) -> Option<(&mut T, &mut T)> {
        if a == b || !self.is_occupied(a) || !self.is_occupied(b) {
            return None;
        }
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        // Both are occupied, so `lo < hi < slots.len()` (invariant 1): the split is in range.
        let (left, right) = self.slots.split_at_mut(hi);
        // SAFETY: slots `lo` and `hi` are occupied, hence initialized (invariant 2); they live in
        // the disjoint halves `left[lo]` and `right[0]`, so the two references do not alias.
        let (x, y) = unsafe {
            (
                left.get_unchecked_mut(lo).assume_init_mut(),
                right.get_unchecked_mut(0).assume_init_mut(),
            )
        };
        Some(if a < b { (x, y) } else { (y, x) })
    }

    /// Stores `value` in the most recently vacated slot, or in a new slot at the end. Gives the
    /// value back if storage cannot grow; never aborts and never panics.
    #[inline]
    pub(crate) fn insert(&mut self, value: T) -> Result<usize, T> {
        let i = match self.pop_free() {
            Some(i) => i,
            None => {
                if self.grow_for_push().is_err() {
                    return Err(value);
                }
                let i = self.slots.len();
                // Capacity was reserved above, so neither push reallocates.
                self.slots.push(MaybeUninit::uninit());
                if i % 64 == 0 {
                    self.occupied.push(0);
                }
                i
            }
        };
        self.slots[i].write(value);
        let (w, m) = bit(i);
        self.occupied[w] |= m;
        self.len += 1;
        Ok(i)
    }

    /// Takes the value out of slot `i` and puts the slot on the free list.
    pub(crate) fn remove(&mut self, i: usize) -> Option<T> {
        if !self.is_occupied(i) {
            return None;
        }
        let (w, m) = bit(i);
        self.occupied[w] &= !m;
        self.len -= 1;
        // SAFETY: the bit was set, so the slot was initialized (invariant 2); clearing the bit
        // first means this is the only read that takes ownership of the value.
        let value = unsafe { self.slots.get_unchecked(i).assume_init_read() };
        self.push_free(i);
        Some(value)
    }

    /// Makes room so that `additional` more inserts do not allocate.
    pub(crate) fn try_reserve(&mut self, additional: usize) -> Result<(), GrowError> {
        let vacant = self.slots.len() - self.len;
        let new_slots = additional.saturating_sub(vacant);
        if new_slots == 0 {
            return Ok(());
        }
        let total = self
            .slots
            .len()
            .checked_add(new_slots)
            .filter(|&n| n <= MAX_SLOTS)
            .ok_or(GrowError::CapacityOverflow)?;
        self.reserve_slots(total)
    }

    /// Drops every live value and forgets every slot, keeping the allocations.
    pub(crate) fn clear(&mut self) {
        // Take the bitset first: from here on no slot is marked live, so if a value's `Drop`
        // panics below, the remaining values leak instead of being dropped twice later.
        let mut bits = mem::take(&mut self.occupied);
        self.len = 0;
        self.free_head = NIL;
        self.free_stack.clear();
        // `MaybeUninit` has no drop glue: this only sets the length to zero. The values stay in
        // the (still allocated) buffer until dropped below.
        self.slots.clear();
        if mem::needs_drop::<T>() {
            let base = self.slots.as_mut_ptr();
            for i in SetBits::new(&bits) {
                // SAFETY: bit `i` was set, so slot `i` was below the old length (invariant 1) and
                // held a live value (invariant 2). Clearing the vector did not touch the buffer,
                // `base` was taken after it and covers the whole allocation, and each index is
                // visited once, so each value is dropped exactly once.
                unsafe { ptr::drop_in_place(base.add(i).cast::<T>()) };
            }
        }
        bits.clear();
        self.occupied = bits;
    }

    /// Removes (and drops) every live value for which `keep` returns `false`, in slot order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(usize, &mut T) -> bool) {
        for w in 0..self.occupied.len() {
            let mut word = self.occupied[w];
            while word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                // SAFETY: bit `i` was set in the copy of word `w` taken above; only slots at
                // earlier indices or slot `i` itself have been removed since, so it is still live.
                let value = unsafe { self.get_unchecked_mut(i) };
                if !keep(i, value) {
                    // Dropped after the arena is consistent again, so a panicking `Drop` is safe.
                    drop(self.remove(i));
                }
            }
        }
    }

    /// The lowest live slot index `>= start`, if any.
    pub(crate) fn next_occupied(&self, start: usize) -> Option<usize> {
        let (mut w, _) = bit(start);
        // Bits below `start` in its own word are masked off.
        let mut word = *self.occupied.get(w)? & (u64::MAX << (start % 64));
        while word == 0 {
            w += 1;
            word = *self.occupied.get(w)?;
        }
        Some(w * 64 + word.trailing_zeros() as usize)
    }

    /// Live values with their slot indices, in slot order.
    pub(crate) fn iter(&self) -> RawIter<'_, T> {
        RawIter {
            slots: &self.slots,
            bits: SetBits::new(&self.occupied),
            remaining: self.len,
        }
    }

    /// Live values mutably with their slot indices, in slot order.
    pub(crate) fn iter_mut(&mut self) -> RawIterMut<'_, T> {
        RawIterMut {
            rest: &mut self.slots,
            rest_start: 0,
            bits: SetBits::new(&self.occupied),
            remaining: self.len,
        }
    }

    /// Panics if an invariant from the module docs does not hold.
    pub(crate) fn check_invariants(&self) {
        let n = self.slots.len();
        assert!(n <= MAX_SLOTS, "more slots than MAX_SLOTS");
        assert_eq!(self.occupied.len(), n.div_ceil(64), "bitset length");
        if n % 64 != 0 {
            let last = *self.occupied.last().expect("non-empty");
            assert_eq!(last >> (n % 64), 0, "bits set past the last slot");
        }
        let live: usize = self.occupied.iter().map(|w| w.count_ones() as usize).sum();
        assert_eq!(live, self.len, "len does not match the bitset");

        let mut on_list = alloc::vec![false; n];
        let mut listed = 0usize;
        let mut visit = |i: usize| {
            assert!(i < n, "free list index {i} out of range");
            assert!(!self.is_occupied(i), "free list holds live slot {i}");
            assert!(!on_list[i], "slot {i} is on the free list twice");
            on_list[i] = true;
            listed += 1;
        };
        if Self::INTRUSIVE {
            assert!(
                self.free_stack.is_empty(),
                "free stack used by an intrusive arena"
            );
            let mut at = self.free_head;
            while at != NIL {
                let i = at as usize;
                visit(i);
                // SAFETY: `visit` checked that `i` is in range and vacant, and vacant slots of an
                // intrusive arena hold a link.
                at = unsafe { read_link(&self.slots[i]) };
            }
        } else {
            assert_eq!(
                self.free_head, NIL,
                "free head used by a non-intrusive arena"
            );
            assert!(
                self.free_stack.capacity() >= n,
                "free stack may need to allocate"
            );
            self.free_stack.iter().for_each(|&i| visit(i as usize));
        }
        assert_eq!(
            listed,
            n - self.len,
            "vacant slots missing from the free list"
        );
    }

    /// Puts vacant slot `i` on top of the free list.
    #[inline]
    fn push_free(&mut self, i: usize) {
        debug_assert!(!self.is_occupied(i) && i < self.slots.len());
        // `i < slots.len() <= MAX_SLOTS`, so `i` fits in a `u32` and is not `NIL`.
        let link = i as u32;
        if Self::INTRUSIVE {
            write_link(&mut self.slots[i], self.free_head);
            self.free_head = link;
        } else {
            debug_assert!(self.free_stack.len() < self.free_stack.capacity());
            self.free_stack.push(link);
        }
    }

    /// Takes the most recently vacated slot off the free list.
    #[inline]
    fn pop_free(&mut self) -> Option<usize> {
        if Self::INTRUSIVE {
            if self.free_head == NIL {
                return None;
            }
            let i = self.free_head as usize;
            debug_assert!(!self.is_occupied(i) && i < self.slots.len());
            // SAFETY: the head of the free list is a vacant slot below `slots.len()`, and vacant
            // slots of an intrusive arena hold a link (invariant 4).
            self.free_head = unsafe { read_link(self.slots.get_unchecked(i)) };
            Some(i)
        } else {
            self.free_stack.pop().map(|i| i as usize)
        }
    }

    /// Reserves room for one more slot at the end, leaving the arena unchanged on failure.
    #[cold]
    fn grow_for_push(&mut self) -> Result<(), GrowError> {
        if self.slots.len() >= MAX_SLOTS {
            return Err(GrowError::CapacityOverflow);
        }
        self.reserve_slots(self.slots.len() + 1)
    }

    /// Grows every vector so that `total` slots fit (`total <= MAX_SLOTS`).
    fn reserve_slots(&mut self, total: usize) -> Result<(), GrowError> {
        debug_assert!(total <= MAX_SLOTS);
        reserve_total(&mut self.slots, total)?;
        reserve_total(&mut self.occupied, total.div_ceil(64))?;
        if !Self::INTRUSIVE {
            reserve_total(&mut self.free_stack, total)?;
        }
        Ok(())
    }
}

impl<T> Drop for RawArena<T> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<T: Clone> Clone for RawArena<T> {
    /// Clones the live values and the free list, so the clone reuses slots in the same order.
    fn clone(&self) -> Self {
        let n = self.slots.len();
        let mut out = Self {
            slots: Vec::with_capacity(n),
            occupied: alloc::vec![0; self.occupied.len()],
            free_head: self.free_head,
            free_stack: Vec::new(),
            // Stays 0 until the end: if a `clone` panics, `Drop` only looks at the bitset.
            len: 0,
            _owns: PhantomData,
        };
        if !Self::INTRUSIVE {
            out.free_stack.reserve_exact(n);
            out.free_stack.extend_from_slice(&self.free_stack);
        }
        for (i, slot) in self.slots.iter().enumerate() {
            if self.is_occupied(i) {
                // SAFETY: bit `i` is set, so the slot is initialized (invariant 2).
                let value = unsafe { slot.assume_init_ref() }.clone();
                out.slots.push(MaybeUninit::new(value));
                let (w, m) = bit(i);
                out.occupied[w] |= m;
            } else {
                let mut vacant = MaybeUninit::uninit();
                if Self::INTRUSIVE {
                    // SAFETY: slot `i` is vacant, and vacant slots of an intrusive arena hold a
                    // link (invariant 4).
                    write_link(&mut vacant, unsafe { read_link(slot) });
                }
                out.slots.push(vacant);
            }
        }
        out.len = self.len;
        out
    }
}

/// Reads the free-list link stored in a vacant slot.
///
/// # Safety
///
/// `T` must be at least four bytes and `slot` must hold a link written by [`write_link`] (that
/// is, be a vacant slot of an intrusive arena).
#[inline]
unsafe fn read_link<T>(slot: &MaybeUninit<T>) -> u32 {
    debug_assert!(mem::size_of::<T>() >= mem::size_of::<u32>());
    // SAFETY: the slot spans at least four bytes (caller), which were initialized by
    // `write_link`; the read is unaligned because `T` may be less aligned than `u32`.
    unsafe { slot.as_ptr().cast::<u32>().read_unaligned() }
}

/// Stores a free-list link in the first four bytes of a slot that holds no live value.
#[inline]
fn write_link<T>(slot: &mut MaybeUninit<T>, next: u32) {
    assert!(mem::size_of::<T>() >= mem::size_of::<u32>());
    // SAFETY: the slot is writable for `size_of::<T>() >= 4` bytes (asserted; the assertion is
    // resolved at compile time) and any bytes are valid in a `MaybeUninit`; the write is unaligned
    // because `T` may be less aligned than `u32`.
    unsafe { slot.as_mut_ptr().cast::<u32>().write_unaligned(next) }
}

/// Indices of the set bits of a bitset, ascending.
#[derive(Clone)]
struct SetBits<'a> {
    words: core::slice::Iter<'a, u64>,
    word: u64,
    base: usize,
}

impl<'a> SetBits<'a> {
    fn new(words: &'a [u64]) -> Self {
        Self {
            words: words.iter(),
            word: 0,
            // The first word loaded moves `base` to 0.
            base: 0usize.wrapping_sub(64),
        }
    }
}

impl Iterator for SetBits<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.word == 0 {
            self.word = *self.words.next()?;
            self.base = self.base.wrapping_add(64);
        }
        let i = self.base + self.word.trailing_zeros() as usize;
        self.word &= self.word - 1;
        Some(i)
    }
}

/// Iterator over live slots: `(index, &value)` in slot order.
pub(crate) struct RawIter<'a, T> {
    slots: &'a [MaybeUninit<T>],
    bits: SetBits<'a>,
    remaining: usize,
}

impl<T> Clone for RawIter<'_, T> {
    fn clone(&self) -> Self {
        Self {
            slots: self.slots,
            bits: self.bits.clone(),
            remaining: self.remaining,
        }
    }
}

impl<'a, T> Iterator for RawIter<'a, T> {
    type Item = (usize, &'a T);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let i = self.bits.next()?;
        self.remaining -= 1;
        debug_assert!(i < self.slots.len());
        // SAFETY: bit `i` is set, so `i < slots.len()` (invariant 1) and the slot is initialized
        // (invariant 2); the shared borrow of the arena keeps it so for `'a`.
        Some((i, unsafe { self.slots.get_unchecked(i).assume_init_ref() }))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

/// Iterator over live slots: `(index, &mut value)` in slot order.
///
/// Each step splits the yielded slot off the front of `rest`, so the references it hands out
/// are disjoint by construction.
pub(crate) struct RawIterMut<'a, T> {
    rest: &'a mut [MaybeUninit<T>],
    /// Slot index of `rest[0]`.
    rest_start: usize,
    bits: SetBits<'a>,
    remaining: usize,
}

impl<'a, T> Iterator for RawIterMut<'a, T> {
    type Item = (usize, &'a mut T);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let i = self.bits.next()?;
        self.remaining -= 1;
        let rest = mem::take(&mut self.rest);
        // Indices ascend and `i < slots.len()` (invariant 1), so slot `i` is in `rest`.
        let (slot, tail) = rest.get_mut(i - self.rest_start..)?.split_first_mut()?;
        self.rest = tail;
        self.rest_start = i + 1;
        // SAFETY: bit `i` is set, so the slot is initialized (invariant 2); the exclusive borrow
        // of the arena keeps it so for `'a`, and the slot is no longer reachable through `rest`.
        Some((i, unsafe { slot.assume_init_mut() }))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}
