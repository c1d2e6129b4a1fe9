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
//! All `unsafe` code sits in one crate-private module, `raw`; the crate root denies
//! `unsafe_code` everywhere else. `raw` owns the arena's slot storage (`Vec<MaybeUninit<T>>`, an
//! occupancy bitset, a free list threaded through vacant slots) and offers only safe functions to
//! the rest of the crate. Its invariants are listed at the top of the module and checked by
//! [`Arena::check_invariants`]; every `unsafe` block names the invariant that makes it sound, and
//! every `unsafe fn` has a `# Safety` section. The tests (model tests against a `Vec<Option<T>>`,
//! drop counting, a panicking `Clone` and a panicking `Drop`) run under Miri.
//!
//! Ideas borrowed, not code: a raw table under a safe skin (hashbrown), giving the value back on
//! failure (heapless), a free list stored in vacant slots (slab-style arenas).
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

extern crate alloc;

mod arena;
mod budget;
#[allow(unsafe_code)] // the one module allowed to use `unsafe`; see "Safety story" above
mod raw;
mod scratch;

pub use arena::{Arena, Idx, IntoIter, Iter, IterMut, ReserveError};
pub use budget::{Budget, BudgetExceeded};
pub use scratch::{Scratch, ScratchVec};
