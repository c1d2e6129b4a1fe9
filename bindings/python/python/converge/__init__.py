"""converge: a performance-first CRDT kernel, for Python.

>>> from converge import Doc
>>> a, b = Doc(1), Doc(2)
>>> a.text("title").insert(0, "Hello")
>>> b.apply_update(a.encode_updates_since()).applied
1
>>> str(b.text("title"))
'Hello'

Every class is safe to use from any thread. See ``converge.traces``, ``converge.sim`` and
``converge.testing`` for the harness helpers.
"""

from __future__ import annotations

from collections.abc import MutableMapping, MutableSequence

from converge._native import (
    ApplyReport,
    Change,
    Counter,
    Doc,
    Event,
    List,
    Map,
    Register,
    Set,
    Subscription,
    Text,
    Transaction,
)
from converge.errors import (
    BudgetExceededError,
    ConflictError,
    ConvergeError,
    DecodeError,
    InvalidPositionError,
    InvalidUpdateError,
    NoTransactionError,
    BadSnapshotError,
    CapacityExceededError,
    OutOfBoundsError,
    TooDeepError,
    TransactionOpenError,
    UnknownContainerError,
    WrongKindError,
)

# Containers follow the protocols of these ABCs; registering makes isinstance checks agree.
MutableMapping.register(Map)
MutableSequence.register(List)

__all__ = [
    "ApplyReport",
    "BudgetExceededError",
    "Change",
    "ConflictError",
    "ConvergeError",
    "Counter",
    "DecodeError",
    "Doc",
    "Event",
    "InvalidPositionError",
    "InvalidUpdateError",
    "List",
    "Map",
    "NoTransactionError",
    "BadSnapshotError",
    "CapacityExceededError",
    "OutOfBoundsError",
    "Register",
    "Set",
    "Subscription",
    "Text",
    "TooDeepError",
    "Transaction",
    "TransactionOpenError",
    "UnknownContainerError",
    "WrongKindError",
]
