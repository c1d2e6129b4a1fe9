//! The document layer's error type.

use core::fmt;

use crate::clock::ReplicaId;
use crate::encoding::DecodeError;
use crate::error::Error;
use crate::sync::InvalidUpdate;
use crate::value::{ContainerId, ContainerKind};

/// What went wrong in a document operation. Whenever one of these is returned, the document is
/// exactly as it was before the call (its [`save`](super::Doc::save) bytes are unchanged).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DocError {
    /// The bytes are not a well-formed update or snapshot (truncated, bad header, bad
    /// postcard, unknown container kind, ...).
    Decode(DecodeError),
    /// A position or range lies outside a list or text.
    OutOfBounds {
        /// The offending position (or range end).
        index: usize,
        /// The length at the time.
        len: usize,
    },
    /// A UTF-16 position falls inside a surrogate pair.
    InvalidPosition,
    /// The container id names a different kind of container than the operation needs.
    WrongKind {
        /// The container.
        container: ContainerId,
        /// The kind the operation needs.
        expected: ContainerKind,
    },
    /// The container id points at nothing: no operation seen so far created it.
    UnknownContainer(ContainerId),
    /// An update breaks the protocol: counters out of order or overlapping known ones,
    /// operations attributed to another replica, sequence operations that do not fit, ...
    InvalidUpdate(InvalidUpdate),
    /// An update reuses the id of a known update with different content.
    Conflict {
        /// The author of both updates.
        author: ReplicaId,
        /// Their first counter.
        start: u64,
    },
    /// Keeping the update would exceed the document's memory budget.
    BudgetExceeded {
        /// Bytes the update needs.
        requested: usize,
        /// Bytes still available.
        available: usize,
    },
    /// Containers would nest deeper than the limit.
    TooDeep {
        /// The deepest nesting allowed.
        limit: u16,
    },
    /// [`begin`](super::Doc::begin) while a transaction is open, or a sync call
    /// ([`apply_update`](super::Doc::apply_update), [`save`](super::Doc::save)) during one.
    TransactionOpen,
    /// [`commit`](super::Doc::commit) without an open transaction.
    NoTransaction,
    /// A saved document is well formed but inconsistent, so it was not loaded.
    BadSnapshot(BadSnapshot),
    /// A list or text would pass the engine's capacity (2³¹ − 1 items in one run, 2³² − 2
    /// events in all).
    CapacityExceeded,
}

/// What is inconsistent in a saved document: the reason inside [`DocError::BadSnapshot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BadSnapshot {
    /// The transaction index is not a causal history (gaps, overlaps, unknown dependencies,
    /// empty transactions, counters out of range).
    TransactionIndex,
    /// A container id is listed twice, or its nesting depth does not fit its origin.
    ContainerId,
    /// A container's state is not of its id's kind.
    ContainerKind,
    /// A nested container that a map or list refers to is missing, a root, at the wrong depth
    /// or referred to twice.
    NestedContainer,
    /// The transaction index refers to a container or events the document does not hold.
    IndexReference,
    /// A root name is listed twice.
    DuplicateName,
    /// A buffered update is already applied or listed twice.
    BufferedUpdate,
}

impl BadSnapshot {
    /// What the reason says, in words.
    pub fn as_str(self) -> &'static str {
        match self {
            BadSnapshot::TransactionIndex => "the transaction index is not a causal history",
            BadSnapshot::ContainerId => "bad container id or depth",
            BadSnapshot::ContainerKind => "container state of the wrong kind",
            BadSnapshot::NestedContainer => "a nested container is missing or misplaced",
            BadSnapshot::IndexReference => "the transaction index refers to missing events",
            BadSnapshot::DuplicateName => "a root name is listed twice",
            BadSnapshot::BufferedUpdate => "a buffered update is applied or listed twice",
        }
    }
}

impl DocError {
    /// A stable, upper-case code naming the variant (`"DECODE"`, `"OUT_OF_BOUNDS"`, ...).
    /// Bindings expose it as the `code` of their host error, so every language reports the
    /// same code for the same failure.
    pub fn code(&self) -> &'static str {
        match self {
            DocError::Decode(_) => "DECODE",
            DocError::OutOfBounds { .. } => "OUT_OF_BOUNDS",
            DocError::InvalidPosition => "INVALID_POSITION",
            DocError::WrongKind { .. } => "WRONG_KIND",
            DocError::UnknownContainer(_) => "UNKNOWN_CONTAINER",
            DocError::InvalidUpdate(_) => "INVALID_UPDATE",
            DocError::Conflict { .. } => "CONFLICT",
            DocError::BudgetExceeded { .. } => "BUDGET_EXCEEDED",
            DocError::TooDeep { .. } => "TOO_DEEP",
            DocError::TransactionOpen => "TRANSACTION_OPEN",
            DocError::NoTransaction => "NO_TRANSACTION",
            DocError::CapacityExceeded => "CAPACITY_EXCEEDED",
            DocError::BadSnapshot(_) => "BAD_SNAPSHOT",
        }
    }
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocError::Decode(e) => write!(f, "bad document bytes: {e}"),
            DocError::OutOfBounds { index, len } => {
                write!(f, "position {index} is out of bounds for length {len}")
            }
            DocError::InvalidPosition => f.write_str("position splits a surrogate pair"),
            DocError::WrongKind {
                container,
                expected,
            } => write!(f, "container {container:?} is not a {expected:?}"),
            DocError::UnknownContainer(c) => write!(f, "no container {c:?} in this document"),
            DocError::InvalidUpdate(why) => write!(f, "invalid update: {why}"),
            DocError::Conflict { author, start } => write!(
                f,
                "update {}:{start} conflicts with a known update of the same id",
                author.0
            ),
            DocError::BudgetExceeded {
                requested,
                available,
            } => write!(
                f,
                "memory budget exceeded: requested {requested} bytes, {available} available"
            ),
            DocError::TooDeep { limit } => {
                write!(f, "containers may nest at most {limit} levels deep")
            }
            DocError::TransactionOpen => f.write_str("a transaction is open"),
            DocError::NoTransaction => f.write_str("no transaction is open"),
            DocError::CapacityExceeded => f.write_str("the list or text is full"),
            DocError::BadSnapshot(why) => write!(f, "inconsistent snapshot: {}", why.as_str()),
        }
    }
}

impl core::error::Error for DocError {}

impl From<crate::sync::SyncError> for DocError {
    fn from(e: crate::sync::SyncError) -> Self {
        use crate::sync::SyncError;
        match e {
            SyncError::Decode(e) => DocError::Decode(e),
            SyncError::Invalid(why) => DocError::InvalidUpdate(why),
            SyncError::Conflict { author, start } => DocError::Conflict { author, start },
        }
    }
}

impl From<DecodeError> for DocError {
    fn from(e: DecodeError) -> Self {
        DocError::Decode(e)
    }
}

impl From<Error> for DocError {
    fn from(e: Error) -> Self {
        match e {
            Error::OutOfBounds { index, len } => DocError::OutOfBounds { index, len },
            Error::BudgetExceeded {
                requested,
                available,
            } => DocError::BudgetExceeded {
                requested,
                available,
            },
            Error::InvalidOperation => DocError::InvalidPosition,
            Error::CapacityExceeded => DocError::CapacityExceeded,
            Error::MissingDependencies { .. } => {
                DocError::InvalidUpdate(InvalidUpdate::UnknownItems)
            }
        }
    }
}
