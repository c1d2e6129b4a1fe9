"""The exceptions converge raises, rooted at :class:`ConvergeError`.

Each kernel error code (``DocError::code()`` in Rust) has one subclass, whose ``code`` class
attribute is that string; it also derives from the closest built-in exception, so
``except IndexError`` catches an out-of-bounds position and ``except ValueError`` catches bad
bytes. Whenever one of these is raised by an edit, ``apply_update`` or ``load``, the document
is exactly as it was before the call.
"""

from __future__ import annotations

__all__ = [
    "ConvergeError",
    "DecodeError",
    "OutOfBoundsError",
    "InvalidPositionError",
    "WrongKindError",
    "UnknownContainerError",
    "InvalidUpdateError",
    "ConflictError",
    "BudgetExceededError",
    "TooDeepError",
    "TransactionOpenError",
    "NoTransactionError",
    "error_for_code",
]


class ConvergeError(Exception):
    """Base class of every error converge raises. ``code`` names the kernel error."""

    code: str = "UNKNOWN"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class DecodeError(ConvergeError, ValueError):
    """The bytes are not a well-formed update, version or snapshot."""

    code = "DECODE"


class OutOfBoundsError(ConvergeError, IndexError):
    """A position or range lies outside a list or text."""

    code = "OUT_OF_BOUNDS"


class InvalidPositionError(ConvergeError, ValueError):
    """A UTF-16 position falls inside a surrogate pair."""

    code = "INVALID_POSITION"


class WrongKindError(ConvergeError, TypeError):
    """The container is of another kind than the operation needs."""

    code = "WRONG_KIND"


class UnknownContainerError(ConvergeError, LookupError):
    """The container handle points at nothing this document has seen."""

    code = "UNKNOWN_CONTAINER"


class InvalidUpdateError(ConvergeError, ValueError):
    """An update breaks the protocol (well-formed bytes, impossible content)."""

    code = "INVALID_UPDATE"


class ConflictError(ConvergeError):
    """An update reuses the id of a known update with different content."""

    code = "CONFLICT"


class BudgetExceededError(ConvergeError):
    """Keeping the update would exceed the document's memory budget."""

    code = "BUDGET_EXCEEDED"


class TooDeepError(ConvergeError, ValueError):
    """Containers would nest deeper than the kernel allows."""

    code = "TOO_DEEP"


class TransactionOpenError(ConvergeError, RuntimeError):
    """A transaction is open (``begin`` twice, or a sync call during one)."""

    code = "TRANSACTION_OPEN"


class NoTransactionError(ConvergeError, RuntimeError):
    """``commit`` without an open transaction."""

    code = "NO_TRANSACTION"


class BadSnapshotError(ConvergeError, ValueError):
    """Saved bytes are well formed but inconsistent, so they were not loaded."""

    code = "BAD_SNAPSHOT"


class CapacityExceededError(ConvergeError):
    """A list or text would pass the engine's capacity."""

    code = "CAPACITY_EXCEEDED"


_BY_CODE: dict[str, type[ConvergeError]] = {
    cls.code: cls
    for cls in (
        DecodeError,
        OutOfBoundsError,
        InvalidPositionError,
        WrongKindError,
        UnknownContainerError,
        InvalidUpdateError,
        ConflictError,
        BudgetExceededError,
        TooDeepError,
        TransactionOpenError,
        NoTransactionError,
        BadSnapshotError,
        CapacityExceededError,
    )
}


def error_for_code(code: str, message: str) -> ConvergeError:
    """The exception for kernel error ``code`` (a plain :class:`ConvergeError` carrying the
    code for a code this version does not know)."""
    cls = _BY_CODE.get(code)
    if cls is None:
        return ConvergeError(message, code)
    return cls(message)
