//! The kernel's error type for operations on CRDT values.
//!
//! Decoding bytes has its own enum, [`DecodeError`](crate::DecodeError), because a binding
//! usually reports "bad bytes from the network" differently from "bad call from the app".

use core::fmt;

/// What went wrong in a local or remote CRDT operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A position or range lies outside the value (`index` > `len`).
    OutOfBounds {
        /// The offending position (or range end).
        index: usize,
        /// The length of the value at the time.
        len: usize,
    },
    /// A fixed-capacity (no-alloc) value or arena is full; nothing was changed.
    CapacityExceeded,
    /// The memory budget would be exceeded; nothing was changed.
    BudgetExceeded {
        /// Bytes the operation asked for.
        requested: usize,
        /// Bytes still available in the budget.
        available: usize,
    },
    /// A remote operation refers to events this replica has not seen; it was not applied.
    MissingDependencies {
        /// How many referenced events are missing.
        missing: usize,
    },
    /// A remote operation contradicts what this replica already knows (for example, the same
    /// id with different content); it was not applied.
    InvalidOperation,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::OutOfBounds { index, len } => {
                write!(f, "position {index} is out of bounds for length {len}")
            }
            Error::CapacityExceeded => f.write_str("fixed capacity exceeded"),
            Error::BudgetExceeded {
                requested,
                available,
            } => write!(
                f,
                "memory budget exceeded: requested {requested} bytes, {available} available"
            ),
            Error::MissingDependencies { missing } => {
                write!(f, "operation depends on {missing} unseen event(s)")
            }
            Error::InvalidOperation => f.write_str("operation contradicts known history"),
        }
    }
}

impl core::error::Error for Error {}

/// `Result` with the kernel's [`Error`] as the default error type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
