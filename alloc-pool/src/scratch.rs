//! Bump-allocated scratch space for per-batch temporaries.

use bumpalo::Bump;

/// A growable vector living in a [`Scratch`] arena.
pub type ScratchVec<'a, T> = bumpalo::collections::Vec<'a, T>;

/// Scratch space for one batch: allocate freely, then [`reset`](Scratch::reset) to reuse the
/// memory for the next batch without returning it to the system allocator.
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
