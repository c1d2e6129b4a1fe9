//! Test item types: drop-counting values of several sizes, so that both free-list layouts of the
//! arena (links inside vacant slots, or on a side stack for types under four bytes) are covered.

use std::cell::Cell;
use std::fmt::Debug;

thread_local! {
    /// Live values of the counted types on this thread (created plus cloned minus dropped).
    static LIVE: Cell<i64> = const { Cell::new(0) };
    /// When non-zero, the clone that brings this down to zero panics.
    static CLONES_UNTIL_PANIC: Cell<u32> = const { Cell::new(0) };
    /// Value whose drop panics, if any.
    static PANIC_ON_DROP: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Counted values alive on this thread.
pub(crate) fn live() -> i64 {
    LIVE.with(Cell::get)
}

/// Resets the counter of live values and disarms the panic triggers.
pub(crate) fn reset_counters() {
    LIVE.with(|c| c.set(0));
    CLONES_UNTIL_PANIC.with(|c| c.set(0));
    PANIC_ON_DROP.with(|c| c.set(None));
}

/// Makes the `n`-th clone from now on (1-based) panic.
pub(crate) fn panic_on_clone(n: u32) {
    CLONES_UNTIL_PANIC.with(|c| c.set(n));
}

/// Makes dropping the value `v` panic (once).
pub(crate) fn panic_on_drop(v: u64) {
    PANIC_ON_DROP.with(|c| c.set(Some(v)));
}

fn created() {
    LIVE.with(|c| c.set(c.get() + 1));
}

fn cloning() {
    CLONES_UNTIL_PANIC.with(|c| match c.get() {
        0 => {}
        1 => {
            c.set(0);
            panic!("clone panics on purpose");
        }
        n => c.set(n - 1),
    });
}

fn dropped(v: u64) {
    LIVE.with(|c| c.set(c.get() - 1));
    if PANIC_ON_DROP.with(|c| c.get()) == Some(v) {
        PANIC_ON_DROP.with(|c| c.set(None));
        panic!("drop panics on purpose");
    }
}

/// An arena item: made from a `u64`, reads back as a `u64` (possibly truncated).
pub(crate) trait Item: Clone + Debug {
    /// Whether values of this type are counted by [`live`].
    const COUNTED: bool;
    fn new(v: u64) -> Self;
    fn value(&self) -> u64;
}

macro_rules! counted {
    ($(#[$m:meta])* $name:ident($inner:ty)) => {
        $(#[$m])*
        #[derive(Debug, PartialEq)]
        pub(crate) struct $name(pub $inner);

        impl Item for $name {
            const COUNTED: bool = true;
            fn new(v: u64) -> Self {
                created();
                Self(v as $inner)
            }
            fn value(&self) -> u64 {
                self.0 as u64
            }
        }

        impl Clone for $name {
            fn clone(&self) -> Self {
                cloning();
                created();
                Self(self.0)
            }
        }

        impl Drop for $name {
            fn drop(&mut self) {
                dropped(self.0 as u64);
            }
        }
    };
}

counted!(
    /// Eight bytes: vacant slots hold the free-list link.
    Big(u64)
);
counted!(
    /// Two bytes: the free list lives on a side stack.
    Small(u16)
);

/// Five bytes with alignment 1: the link is stored unaligned.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Odd(pub [u8; 5]);

impl Item for Odd {
    const COUNTED: bool = false;
    fn new(v: u64) -> Self {
        let b = v.to_le_bytes();
        Self([b[0], b[1], b[2], b[3], b[4]])
    }
    fn value(&self) -> u64 {
        let mut b = [0; 8];
        b[..5].copy_from_slice(&self.0);
        u64::from_le_bytes(b)
    }
}

impl Item for u8 {
    const COUNTED: bool = false;
    fn new(v: u64) -> Self {
        v as u8
    }
    fn value(&self) -> u64 {
        u64::from(*self)
    }
}

/// Zero-sized: the arena stores nothing but bits and the free stack.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Zst;

impl Item for Zst {
    const COUNTED: bool = false;
    fn new(_: u64) -> Self {
        Zst
    }
    fn value(&self) -> u64 {
        0
    }
}
