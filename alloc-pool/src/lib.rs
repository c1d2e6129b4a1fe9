//! Memory building blocks for the converge CRDT kernel. This crate knows nothing about CRDTs.
//!
//! Three pieces:
//!
//! - [`Arena<T>`] with [`Idx<T>`] handles: values in one vector, addressed by four-byte `Copy`
//!   handles (`Option<Idx<T>>` is four bytes too) instead of `Box`/`Rc` pointers. A live value
//!   costs `size_of::<T>()` plus one occupancy bit; removed slots are reused, most recent first;
//!   iteration runs in slot order. Growth is fallible on request: [`Arena::try_alloc`] gives the
//!   value back and [`Arena::try_reserve`] returns an error instead of aborting.
//! - [`Scratch`]: a bump allocator for the temporaries of one batch (sorting, deduplicating,
//!   merging), reset after the batch so the next one reuses the same memory.
//! - [`Budget`]: a byte cap a document carries so that untrusted input cannot make it allocate
//!   without bound; going over is an `Err` ([`BudgetExceeded`]), never a panic or an abort.
//!
//! # Safety story
//!
//! All `unsafe` code sits in one crate-private module, `raw`, which owns the arena's slot storage
//! (`Vec<MaybeUninit<T>>`, an occupancy bitset and a free list threaded through vacant slots) and
//! exposes only safe functions. Its invariants are written at the top of that module and checked
//! by [`Arena::check_invariants`]; every `unsafe` block states which invariant makes it sound.
//! Everything else, including the [`Arena`] API, is safe code over that core: the pattern
//! hashbrown uses (a raw table under a safe map). The test suite runs under Miri, including a
//! type that counts its drops and one whose `Clone` panics.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

mod arena;
mod budget;
mod raw;
mod scratch;

pub use arena::{Arena, Idx, Iter, IterMut, ReserveError};
pub use budget::{Budget, BudgetExceeded};
pub use scratch::{Scratch, ScratchVec};
