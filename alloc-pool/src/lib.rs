//! Memory building blocks for the converge CRDT kernel: typed-handle arenas, bump scratch space
//! for per-batch temporaries, and a memory budget that turns "too much" into an `Err`.
//!
//! This crate knows nothing about CRDTs.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod arena;
mod budget;
mod scratch;

pub use arena::{Arena, Idx};
pub use budget::{Budget, BudgetExceeded};
pub use scratch::{Scratch, ScratchVec};
