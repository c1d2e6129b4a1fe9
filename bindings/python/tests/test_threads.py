"""Objects used from several threads at once: edits, syncs, reads, transactions, and
objects created on one thread dropped on another."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from converge import Doc, sim


def test_concurrent_edits_and_syncs() -> None:
    docs = [sim.new_replica(i + 1) for i in range(4)]
    shared = sim.new_replica(99)
    barrier = threading.Barrier(4)

    def worker(i: int) -> None:
        doc = docs[i]
        barrier.wait()
        for n in range(200):
            doc.text("text").insert(0, str(i))
            doc.counter("counter").add(1)
            shared.list("list").append(i * 1000 + n)  # one doc edited by every thread
            if n % 20 == 0:
                other = docs[(i + 1) % 4]
                # Sync with a neighbour that another thread is editing at the same time.
                other.apply_update(doc.encode_updates_since(other.version()))
                shared.apply_update(doc.encode_updates_since(shared.version()))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(worker, range(4)))
    sim.sync_all(docs + [shared])
    first = docs[0].to_py()
    for d in docs[1:] + [shared]:
        assert d.to_py()["text"] == first["text"]
    assert docs[0].counter("counter").value == 800
    assert len(str(docs[0].text("text"))) == 800
    got = [x for x in shared.list("list").to_py() if isinstance(x, int)]
    assert sorted(got) == sorted(i * 1000 + n for i in range(4) for n in range(200))


def test_transactions_are_isolated_per_thread() -> None:
    doc = Doc(1)
    t = doc.text("t")
    inside = threading.Event()
    release = threading.Event()
    seen: list[str] = []

    def writer() -> None:
        with doc.transaction():
            t.insert(0, "AAA")
            inside.set()
            release.wait(5)
            t.insert(3, "BBB")

    def other() -> None:
        inside.wait(5)
        # Waits for the writer's transaction to end; never lands inside it.
        t.insert(0, "x")
        seen.append(str(t))

    a = threading.Thread(target=writer)
    b = threading.Thread(target=other)
    a.start()
    b.start()
    inside.wait(5)
    release.set()
    a.join(10)
    b.join(10)
    assert not a.is_alive() and not b.is_alive()
    assert seen == ["xAAABBB"]


def test_large_apply_and_save_release_the_gil() -> None:
    src = Doc(1)
    src.text("t").apply_patches([(i, 0, "abcdefgh") for i in range(0, 80_000, 8)])
    data = src.encode_updates_since()
    counter = {"ticks": 0}
    stop = threading.Event()

    def ticker() -> None:
        while not stop.is_set():
            counter["ticks"] += 1

    th = threading.Thread(target=ticker)
    th.start()
    try:
        for i in range(5):
            d = Doc(i + 2)
            d.apply_update(data)
            Doc.load(d.save())
    finally:
        stop.set()
        th.join()
    assert counter["ticks"] > 0


def test_objects_dropped_on_another_thread() -> None:
    made: list[object] = []

    def make() -> None:
        d = Doc(1)
        made.extend([d, d.text("t"), d.map("m"), d.subscribe(lambda e: None)])

    th = threading.Thread(target=make)
    th.start()
    th.join()
    t = made[1]
    assert str(t) == ""
    made.clear()  # dropped here, on the main thread: no error
