"""Hypothesis strategies for property tests of code built on converge: random edits (the
:class:`converge.sim.Edit` data, valid in any state) and delivery schedules (which message
arrives when, with duplicates). Needs ``hypothesis`` (``pip install converge[testing]``).

>>> from hypothesis import given
>>> from converge import sim, testing
>>> @given(testing.sessions(replicas=3))
... def test_converges(session: testing.Session) -> None:
...     docs = testing.run_session(session)
...     want = sim.canonical(docs[0].to_py())   # NaN-safe, type-strict equality
...     assert all(sim.canonical(d.to_py()) == want for d in docs)
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from converge._native import Doc
from converge.sim import OPS, Edit, apply_edit, new_replica

__all__ = [
    "values",
    "edits",
    "edit_lists",
    "schedules",
    "Session",
    "sessions",
    "run_session",
]


def values() -> st.SearchStrategy[None | bool | int | float | str | bytes]:
    """Scalars a container stores (64-bit ints, any float including NaN, any text)."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=True),
        st.text(max_size=8),
        st.binary(max_size=8),
    )


def edits() -> st.SearchStrategy[Edit]:
    """One :class:`~converge.sim.Edit` of any kind."""
    return st.builds(
        Edit,
        op=st.sampled_from(OPS),
        pos=st.integers(min_value=-5, max_value=64),
        length=st.integers(min_value=1, max_value=6),
        key=st.sampled_from(["a", "b", "c", "ü"]),
        value=values(),
        text=st.text(min_size=1, max_size=5),
    )


def edit_lists(max_size: int = 12) -> st.SearchStrategy[list[Edit]]:
    """A list of edits."""
    return st.lists(edits(), max_size=max_size)


def schedules(messages: int, max_duplicates: int = 2) -> st.SearchStrategy[list[int]]:
    """A delivery order of message indexes ``0..messages``: every message at least once, some
    up to ``max_duplicates`` more times, in any order."""
    extra = st.lists(st.integers(0, max(messages - 1, 0)), max_size=messages * max_duplicates)
    return st.tuples(st.permutations(list(range(messages))), extra).flatmap(
        lambda pe: st.permutations(list(pe[0]) + (pe[1] if messages else []))
    )


@dataclass(frozen=True)
class Session:
    """Each replica's edits, in rounds (one update message per replica per round), and the
    order in which each replica receives the other replicas' messages."""

    rounds: list[list[list[Edit]]]
    """``rounds[r][i]``: replica ``i``'s edits in round ``r``."""
    orders: list[list[int]]
    """``orders[i]``: the messages replica ``i`` receives, as indexes into all messages."""


@st.composite
def sessions(
    draw: st.DrawFn, replicas: int = 3, max_rounds: int = 3, max_edits: int = 5
) -> Session:
    """A random multi-replica session with arbitrary delivery orders and duplicates."""
    n_rounds = draw(st.integers(1, max_rounds))
    rounds = [
        [draw(edit_lists(max_edits)) for _ in range(replicas)] for _ in range(n_rounds)
    ]
    messages = n_rounds * replicas
    orders = [draw(schedules(messages)) for _ in range(replicas)]
    return Session(rounds=rounds, orders=orders)


def run_session(session: Session) -> list[Doc]:
    """Plays a :class:`Session`: in each round every replica applies its edits and emits one
    update; afterwards each replica receives every message in its drawn order (its own
    included, as a duplicate). Returns the replicas."""
    replicas = len(session.rounds[0])
    docs = [new_replica(i + 1) for i in range(replicas)]
    messages: list[bytes] = []
    for round_edits in session.rounds:
        for doc, doc_edits in zip(docs, round_edits):
            before = doc.version()
            for e in doc_edits:
                apply_edit(doc, e)
            messages.append(doc.encode_updates_since(before))
    for doc, order in zip(docs, session.orders):
        for m in order:
            doc.apply_update(messages[m])
    return docs
