"""Convergence through the binding: any delivery order, duplicates, partitions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from converge import Doc, sim, testing


def assert_same(docs: list[Doc]) -> None:
    first = docs[0]
    for d in docs[1:]:
        assert d.version() == first.version()
        assert sim.canonical(d.to_py()) == sim.canonical(first.to_py())


@settings(max_examples=150, deadline=None)
@given(testing.sessions(replicas=3))
def test_any_delivery_order_and_duplication_converges(session: testing.Session) -> None:
    docs = testing.run_session(session)
    assert_same(docs)
    # Reloading a snapshot gives the same state.
    again = Doc.load(docs[0].save())
    want = sim.canonical(docs[0].to_py())
    assert sim.canonical(again.to_py()) == want
    assert sim.canonical(Doc.load(docs[0].save_history()).to_py()) == want


@settings(max_examples=60, deadline=None)
@given(st.lists(testing.edit_lists(8), min_size=2, max_size=4))
def test_merged_updates_equal_individual_updates(per_replica: list[list[sim.Edit]]) -> None:
    docs = [sim.new_replica(i + 1) for i in range(len(per_replica))]
    messages = []
    for doc, edits in zip(docs, per_replica):
        for e in edits:
            sim.apply_edit(doc, e)
        messages.append(doc.encode_updates_since())
    one = sim.new_replica(100)
    one.apply_update(Doc.merge_updates(messages))
    many = sim.new_replica(101)
    for m in reversed(messages):
        many.apply_update(m)
    assert sim.canonical(one.to_py()) == sim.canonical(many.to_py())
    assert one.version() == many.version()


def test_canonical_equality_is_the_kernels() -> None:
    nan = float("nan")
    assert sim.canonical({"a": [nan]}) == sim.canonical({"a": [nan]})
    assert sim.canonical([0.0]) != sim.canonical([-0.0])
    assert sim.canonical([True]) != sim.canonical([1]) != sim.canonical([1.0])


def test_fixed_seed_simulations_converge() -> None:
    for seed in range(8):
        result = sim.simulate(seed, replicas=4, steps=150, drop=0.2, duplicate=0.2, partition=0.05)
        assert result.converged
        assert result.stats.edits == 150 and result.stats.delivered > 0


def test_simulation_is_deterministic() -> None:
    a = sim.simulate(3, replicas=3, steps=80)
    b = sim.simulate(3, replicas=3, steps=80)
    assert a.docs[0].save() == b.docs[0].save()
    assert a.stats == b.stats


def test_network_without_healing_can_differ() -> None:
    # The check is not vacuous: before anti-entropy, dropped messages leave replicas apart.
    net = sim.Network(3, seed=1, drop=0.9, duplicate=0.0, partition=0.0)
    for _ in range(30):
        net.step()
    assert not net.converged()
    net.heal()
    assert net.converged()


def test_nan_values_converge() -> None:
    # Found by Hypothesis: NaN != NaN in Python, but the kernel's values compare by bits.
    e = sim.Edit(op="map_set", key="a", value=float("nan"))
    docs = testing.run_session(testing.Session(rounds=[[[e], [], []]], orders=[[0, 1, 2]] * 3))
    assert_same(docs)
