"""Load and replay editing traces in the format of ``shared/traces/`` (josephg/editing-traces):
gzipped (or plain) JSON ``{"startContent", "endContent", "txns": [{"patches": [[pos, del,
"text"], ...], "agent"?, "parents"?}]}``, positions in code points.

>>> from converge import traces
>>> trace = traces.load("automerge-paper.json.gz")      # doctest: +SKIP
>>> doc = traces.replay(trace)                          # checks the final text  # doctest: +SKIP

Sequential traces are applied patch by patch to one document. Concurrent traces (``"kind":
"concurrent"``) are replayed with one replica per agent: before each transaction its agent's
replica receives exactly the updates of the transaction's ancestors, then the replicas are
merged. Only the binding's public API is used.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from converge._native import Doc, Text

__all__ = ["Patch", "Txn", "Trace", "ReplayMismatch", "load", "parse", "patches", "replay"]

Patch = tuple[int, int, str]
"""``(pos, delete_count, inserted_text)``, positions in code points."""


@dataclass(frozen=True)
class Txn:
    """One transaction: its patches, and for concurrent traces its agent and parents."""

    patches: list[Patch]
    agent: int = 0
    parents: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Trace:
    """A parsed trace."""

    start_content: str
    end_content: str
    txns: list[Txn]
    concurrent: bool = False
    num_agents: int = 1

    @property
    def patch_count(self) -> int:
        """Number of patches in all transactions."""
        return sum(len(t.patches) for t in self.txns)


class ReplayMismatch(AssertionError):
    """The replayed text differs from the trace's ``endContent``."""


def parse(data: dict[str, Any]) -> Trace:
    """A trace from its decoded JSON."""
    concurrent = data.get("kind") == "concurrent"
    txns = [
        Txn(
            patches=[(int(p[0]), int(p[1]), str(p[2])) for p in t["patches"]],
            agent=int(t.get("agent", 0)),
            parents=[int(x) for x in t.get("parents", [])],
        )
        for t in data["txns"]
    ]
    return Trace(
        start_content=str(data.get("startContent", "")),
        end_content=str(data["endContent"]),
        txns=txns,
        concurrent=concurrent,
        num_agents=int(data.get("numAgents", 1)),
    )


def load(path: str | os.PathLike[str]) -> Trace:
    """Reads a trace file (gzipped when its name ends in ``.gz``)."""
    p = os.fspath(path)
    if p.endswith(".gz"):
        with gzip.open(p, "rt", encoding="utf-8") as f:
            return parse(json.load(f))
    with open(p, encoding="utf-8") as f:
        return parse(json.load(f))


def patches(trace: Trace) -> Iterator[Patch]:
    """Every patch of a sequential trace, in order."""
    for t in trace.txns:
        yield from t.patches


def _apply(text: Text, ps: list[Patch], mode: Literal["batch", "each"]) -> None:
    if mode == "batch":
        text.apply_patches(ps)
        return
    for pos, delete, insert in ps:
        if delete:
            text.delete(pos, delete)
        if insert:
            text.insert(pos, insert)


def replay(
    trace: Trace,
    *,
    name: str = "text",
    mode: Literal["batch", "each"] = "batch",
    check: bool = True,
) -> Doc:
    """Replays ``trace`` into root text ``name`` of a new document and returns it.

    ``mode="batch"`` sends a sequential trace's patches in one ``apply_patches`` call (one
    transaction) and each transaction of a concurrent trace in one call;
    ``"each"`` makes one ``insert``/``delete`` call per patch. With ``check`` the final text
    must equal ``endContent`` (else :class:`ReplayMismatch`).
    """
    doc = _replay_concurrent(trace, name, mode) if trace.concurrent else _replay_seq(trace, name, mode)
    if check:
        got = str(doc.text(name))
        if got != trace.end_content:
            raise ReplayMismatch(
                f"replayed text ({len(got)} chars) differs from endContent "
                f"({len(trace.end_content)} chars)"
            )
    return doc


def _replay_seq(trace: Trace, name: str, mode: Literal["batch", "each"]) -> Doc:
    doc = Doc(1)
    text = doc.text(name)
    if trace.start_content:
        text.insert(0, trace.start_content)
    if mode == "batch":
        text.apply_patches(patches(trace))
    else:
        for t in trace.txns:
            _apply(text, t.patches, mode)
    return doc


def _replay_concurrent(trace: Trace, name: str, mode: Literal["batch", "each"]) -> Doc:
    base = Doc(1_000_000)
    if trace.start_content:
        base.text(name).insert(0, trace.start_content)
    start = base.encode_updates_since()
    replicas: dict[int, Doc] = {}
    seen: dict[int, set[int]] = {}
    updates: list[bytes] = []
    for i, txn in enumerate(trace.txns):
        doc = replicas.get(txn.agent)
        if doc is None:
            doc = Doc(txn.agent + 1)
            doc.apply_update(start)
            replicas[txn.agent] = doc
            seen[txn.agent] = set()
        have = seen[txn.agent]
        # The ancestors this replica lacks (every ancestor of a seen transaction is seen).
        need: set[int] = set()
        stack = [p for p in txn.parents if p not in have]
        while stack:
            j = stack.pop()
            if j in need:
                continue
            need.add(j)
            stack.extend(p for p in trace.txns[j].parents if p not in have and p not in need)
        for j in sorted(need):
            doc.apply_update(updates[j])
        have.update(need)
        before = doc.version()
        _apply(doc.text(name), txn.patches, mode)
        updates.append(doc.encode_updates_since(before))
        have.add(i)
    merged = Doc(1_000_001)
    merged.apply_update(start)
    merged.apply_update(Doc.merge_updates(updates))
    return merged
