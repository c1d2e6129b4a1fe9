//! [`ConvergeError`]: the kernel's [`DocError`] as one uniffi error enum.

use core::fmt;

use converge::doc::DocError;

/// Why a call failed: one variant per [`DocError::code`], each with the kernel's message.
///
/// Kotlin sees a sealed `ConvergeException` class with one subclass per variant
/// (`ConvergeException.Decode`, ...); Swift sees `enum ConvergeError: Error`. Whenever a
/// document call fails, the document is exactly as it was before it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
#[uniffi(flat_error)]
pub enum ConvergeError {
    /// `DECODE`: the bytes are not a well-formed update, snapshot or version.
    Decode(String),
    /// `OUT_OF_BOUNDS`: a position or range lies outside a list or text (or is negative).
    OutOfBounds(String),
    /// `INVALID_POSITION`: a UTF-16 position falls inside a surrogate pair.
    InvalidPosition(String),
    /// `WRONG_KIND`: the container is of another kind than the operation needs.
    WrongKind(String),
    /// `UNKNOWN_CONTAINER`: no operation seen so far created the container.
    UnknownContainer(String),
    /// `INVALID_UPDATE`: an update breaks the protocol.
    InvalidUpdate(String),
    /// `CONFLICT`: an update reuses a known update's id with different content.
    Conflict(String),
    /// `BUDGET_EXCEEDED`: the document's memory limit would be exceeded.
    BudgetExceeded(String),
    /// `TOO_DEEP`: containers would nest deeper than the kernel's limit.
    TooDeep(String),
    /// `TRANSACTION_OPEN`: `begin` during a transaction, or a sync call during one.
    TransactionOpen(String),
    /// `NO_TRANSACTION`: `commit` without an open transaction.
    NoTransaction(String),
    /// A failure this binding does not know yet (a newer kernel's code); the message starts
    /// with the code.
    Other(String),
}

impl ConvergeError {
    /// The stable code, as [`DocError::code`] spells it.
    pub fn code(&self) -> &str {
        match self {
            ConvergeError::Decode(_) => "DECODE",
            ConvergeError::OutOfBounds(_) => "OUT_OF_BOUNDS",
            ConvergeError::InvalidPosition(_) => "INVALID_POSITION",
            ConvergeError::WrongKind(_) => "WRONG_KIND",
            ConvergeError::UnknownContainer(_) => "UNKNOWN_CONTAINER",
            ConvergeError::InvalidUpdate(_) => "INVALID_UPDATE",
            ConvergeError::Conflict(_) => "CONFLICT",
            ConvergeError::BudgetExceeded(_) => "BUDGET_EXCEEDED",
            ConvergeError::TooDeep(_) => "TOO_DEEP",
            ConvergeError::TransactionOpen(_) => "TRANSACTION_OPEN",
            ConvergeError::NoTransaction(_) => "NO_TRANSACTION",
            ConvergeError::Other(m) => m.split(':').next().unwrap_or(m),
        }
    }

    /// `OUT_OF_BOUNDS` for a negative position, which the kernel's `usize` cannot carry.
    pub(crate) fn negative(what: &str, value: i64) -> Self {
        ConvergeError::OutOfBounds(format!("{what} {value} is negative"))
    }
}

impl From<DocError> for ConvergeError {
    fn from(e: DocError) -> Self {
        let m = e.to_string();
        match e.code() {
            "DECODE" => ConvergeError::Decode(m),
            "OUT_OF_BOUNDS" => ConvergeError::OutOfBounds(m),
            "INVALID_POSITION" => ConvergeError::InvalidPosition(m),
            "WRONG_KIND" => ConvergeError::WrongKind(m),
            "UNKNOWN_CONTAINER" => ConvergeError::UnknownContainer(m),
            "INVALID_UPDATE" => ConvergeError::InvalidUpdate(m),
            "CONFLICT" => ConvergeError::Conflict(m),
            "BUDGET_EXCEEDED" => ConvergeError::BudgetExceeded(m),
            "TOO_DEEP" => ConvergeError::TooDeep(m),
            "TRANSACTION_OPEN" => ConvergeError::TransactionOpen(m),
            "NO_TRANSACTION" => ConvergeError::NoTransaction(m),
            code => ConvergeError::Other(format!("{code}: {m}")),
        }
    }
}

impl From<converge::DecodeError> for ConvergeError {
    fn from(e: converge::DecodeError) -> Self {
        DocError::from(e).into()
    }
}

impl fmt::Display for ConvergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvergeError::Decode(m)
            | ConvergeError::OutOfBounds(m)
            | ConvergeError::InvalidPosition(m)
            | ConvergeError::WrongKind(m)
            | ConvergeError::UnknownContainer(m)
            | ConvergeError::InvalidUpdate(m)
            | ConvergeError::Conflict(m)
            | ConvergeError::BudgetExceeded(m)
            | ConvergeError::TooDeep(m)
            | ConvergeError::TransactionOpen(m)
            | ConvergeError::NoTransaction(m)
            | ConvergeError::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConvergeError {}

/// `Result` with [`ConvergeError`].
pub(crate) type Result<T, E = ConvergeError> = core::result::Result<T, E>;
