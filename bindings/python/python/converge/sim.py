"""A seeded N-replica network simulation over the binding: random edits, messages that are
dropped, duplicated, delayed (so reordered) and cut by partitions, then healing and a
convergence check. The same seed gives the same run; a failure names its seed.

>>> from converge import sim
>>> result = sim.simulate(seed=7, replicas=3, steps=100)
>>> result.converged
True

Edits are plain data (:class:`Edit`), valid whatever the document holds: positions are taken
modulo the current length when applied. ``converge.testing`` draws the same edits from
Hypothesis.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from converge._native import Doc, List

if TYPE_CHECKING:
    from converge._native import ValueIn

__all__ = [
    "OPS",
    "Edit",
    "apply_edit",
    "random_edit",
    "Network",
    "SimResult",
    "DivergenceError",
    "simulate",
    "sync_all",
    "new_replica",
    "canonical",
]

Op = Literal[
    "text_insert",
    "text_delete",
    "map_set",
    "map_delete",
    "list_insert",
    "list_delete",
    "counter_add",
    "register_set",
    "set_add",
    "set_remove",
    "nested_push",
]
OPS: tuple[Op, ...] = (
    "text_insert",
    "text_delete",
    "map_set",
    "map_delete",
    "list_insert",
    "list_delete",
    "counter_add",
    "register_set",
    "set_add",
    "set_remove",
    "nested_push",
)


@dataclass(frozen=True)
class Edit:
    """One edit on the roots ``"text"``, ``"map"``, ``"list"``, ``"counter"``,
    ``"register"`` and ``"set"``. ``pos`` is reduced modulo the length (plus one for inserts)
    when applied; ``length`` bounds a delete; ``nested_push`` appends ``value`` to a nested list
    at ``map[key]``, creating it when absent."""

    op: Op
    pos: int = 0
    length: int = 1
    key: str = "k"
    value: ValueIn = None
    text: str = "x"


ROOTS = ("text", "map", "list", "counter", "register", "set")


def new_replica(replica: int) -> Doc:
    """A document with handles to the roots the edits use (``to_py()`` shows a root only once
    it holds something, on every replica alike)."""
    doc = Doc(replica)
    doc.text("text")
    doc.map("map")
    doc.list("list")
    doc.counter("counter")
    doc.register("register")
    doc.set("set")
    return doc


def apply_edit(doc: Doc, edit: Edit) -> None:
    """Applies ``edit`` to ``doc``."""
    op = edit.op
    if op == "text_insert":
        t = doc.text("text")
        t.insert(edit.pos % (len(t) + 1), edit.text)
    elif op == "text_delete":
        t = doc.text("text")
        n = len(t)
        if n:
            pos = edit.pos % n
            t.delete(pos, min(edit.length, n - pos))
    elif op == "map_set":
        doc.map("map")[edit.key] = edit.value
    elif op == "map_delete":
        m = doc.map("map")
        if edit.key in m:
            del m[edit.key]
    elif op == "list_insert":
        lst = doc.list("list")
        lst.insert(edit.pos % (len(lst) + 1), edit.value)
    elif op == "list_delete":
        lst = doc.list("list")
        n = len(lst)
        if n:
            pos = edit.pos % n
            lst.delete(pos, pos + min(edit.length, n - pos))
    elif op == "counter_add":
        doc.counter("counter").add(edit.pos)
    elif op == "register_set":
        doc.register("register").set(edit.value)
    elif op == "set_add":
        doc.set("set").add(edit.value)
    elif op == "set_remove":
        doc.set("set").discard(edit.value)
    elif op == "nested_push":
        m = doc.map("map")
        inner = m.get(edit.key)
        if not isinstance(inner, List):
            inner = m.insert_container(edit.key, "list")
        inner.append(edit.value)
    else:  # pragma: no cover - Op is closed
        raise ValueError(f"unknown op {op!r}")


_WORDS = ("a", "b", "ab", "xyz", "é", "日本", "🙂", "")
_KEYS = ("a", "b", "c", "d")


def random_edit(rng: random.Random) -> Edit:
    """A random edit drawn from ``rng``."""
    value: ValueIn = rng.choice(
        [None, True, rng.randint(-5, 5), rng.random(), rng.choice(_WORDS), bytes([rng.randint(0, 255)])]
    )
    return Edit(
        op=rng.choice(OPS),
        pos=rng.randint(-3, 40),
        length=rng.randint(1, 4),
        key=rng.choice(_KEYS),
        value=value,
        text=rng.choice(_WORDS[:-1]),
    )


def canonical(data: object) -> object:
    """``to_py()`` output in a form whose ``==`` is the kernel's value equality: floats compare
    by bits (``nan == nan``, ``-0.0 != 0.0``) and ``True``, ``1`` and ``1.0`` stay apart."""
    if isinstance(data, dict):
        return {k: canonical(v) for k, v in data.items()}
    if isinstance(data, list):
        return [canonical(v) for v in data]
    if isinstance(data, float):
        return ("float", data.hex())
    return (type(data).__name__, data)


class DivergenceError(AssertionError):
    """Replicas hold different states after healing."""


def sync_all(docs: Sequence[Doc]) -> None:
    """Brings every replica up to date with every other (pairwise delta sync)."""
    for a in docs:
        for b in docs:
            if a is not b:
                b.apply_update(a.encode_updates_since(b.version()))


@dataclass
class Stats:
    """What a simulation did."""

    edits: int = 0
    sent: int = 0
    dropped: int = 0
    duplicated: int = 0
    delivered: int = 0
    partitions: int = 0


@dataclass
class SimResult:
    """A finished simulation: its replicas (healed) and what happened."""

    seed: int
    docs: list[Doc]
    stats: Stats
    converged: bool


@dataclass(order=True)
class _Msg:
    at: int
    seq: int
    dst: int = field(compare=False)
    data: bytes = field(compare=False)


class Network:
    """N replicas exchanging delta updates over an unreliable network. Each edit's update is
    broadcast to every other replica; each copy may be dropped, duplicated, or delayed by up
    to ``max_delay`` steps (so delivery order is shuffled). A partition splits the replicas in
    two groups and drops messages between them until it heals."""

    def __init__(
        self,
        replicas: int,
        seed: int,
        *,
        drop: float = 0.1,
        duplicate: float = 0.1,
        max_delay: int = 5,
        partition: float = 0.02,
        edit: Callable[[random.Random], Edit] = random_edit,
    ) -> None:
        if replicas < 1:
            raise ValueError("need at least one replica")
        self.rng = random.Random(seed)
        self.seed = seed
        self.docs = [new_replica(i + 1) for i in range(replicas)]
        self.drop = drop
        self.duplicate = duplicate
        self.max_delay = max_delay
        self.partition = partition
        self.make_edit = edit
        self.now = 0
        self.queue: list[_Msg] = []
        self.seq = 0
        self.group: list[int] = [0] * replicas
        self.stats = Stats()

    def _send(self, src: int, data: bytes) -> None:
        for dst in range(len(self.docs)):
            if dst == src:
                continue
            self.stats.sent += 1
            if self.group[src] != self.group[dst] or self.rng.random() < self.drop:
                self.stats.dropped += 1
                continue
            copies = 2 if self.rng.random() < self.duplicate else 1
            self.stats.duplicated += copies - 1
            for _ in range(copies):
                self.seq += 1
                at = self.now + self.rng.randint(0, self.max_delay)
                heapq.heappush(self.queue, _Msg(at, self.seq, dst, data))

    def _deliver_due(self) -> None:
        while self.queue and self.queue[0].at <= self.now:
            msg = heapq.heappop(self.queue)
            self.docs[msg.dst].apply_update(msg.data)
            self.stats.delivered += 1

    def step(self) -> None:
        """One tick: maybe change the partition, one replica edits and broadcasts, due
        messages arrive."""
        self.now += 1
        if self.rng.random() < self.partition:
            if any(self.group):
                self.group = [0] * len(self.docs)
            else:
                self.group = [self.rng.randint(0, 1) for _ in self.docs]
                self.stats.partitions += 1
        src = self.rng.randrange(len(self.docs))
        doc = self.docs[src]
        before = doc.version()
        apply_edit(doc, self.make_edit(self.rng))
        self.stats.edits += 1
        self._send(src, doc.encode_updates_since(before))
        self._deliver_due()

    def heal(self) -> None:
        """Ends partitions, delivers every message in flight, then runs anti-entropy (each
        replica sends each other what it lacks) so dropped messages are recovered."""
        self.group = [0] * len(self.docs)
        while self.queue:
            self.now = self.queue[0].at
            self._deliver_due()
        sync_all(self.docs)

    def converged(self) -> bool:
        """Whether every replica holds the same version and the same content."""
        first = self.docs[0]
        want = canonical(first.to_py())
        return all(
            d.version() == first.version() and canonical(d.to_py()) == want
            for d in self.docs[1:]
        )


def simulate(seed: int, replicas: int = 3, steps: int = 200, **options: float) -> SimResult:
    """Runs ``steps`` ticks of a :class:`Network`, heals it and checks convergence (raises
    :class:`DivergenceError` naming the seed if the replicas differ). ``options`` go to
    :class:`Network` (``drop``, ``duplicate``, ``max_delay``, ``partition``)."""
    net = Network(
        replicas,
        seed,
        drop=options.get("drop", 0.1),
        duplicate=options.get("duplicate", 0.1),
        max_delay=int(options.get("max_delay", 5)),
        partition=options.get("partition", 0.02),
    )
    for _ in range(steps):
        net.step()
    net.heal()
    ok = net.converged()
    if not ok:
        raise DivergenceError(f"replicas diverged (seed={seed}, replicas={replicas}, steps={steps})")
    return SimResult(seed=seed, docs=net.docs, stats=net.stats, converged=ok)

