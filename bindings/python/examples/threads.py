"""Several threads edit one document and sync replicas at once; `python examples/threads.py`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from converge import Doc

shared = Doc(replica=100)
replicas = [Doc(replica=i + 1) for i in range(4)]


def work(i: int) -> int:
    doc = replicas[i]
    for n in range(1000):
        doc.counter("clicks").add(1)
        shared.list("log").append(f"{i}:{n}")
    # Large applies and saves release the GIL, so the other threads keep running.
    shared.apply_update(doc.encode_updates_since(shared.version()))
    return len(doc.save())


with ThreadPoolExecutor(4) as pool:
    sizes = list(pool.map(work, range(4)))

print("snapshot sizes", sizes)
print("clicks", shared.counter("clicks").value, "log entries", len(shared.list("log")))
assert shared.counter("clicks").value == 4000 and len(shared.list("log")) == 4000
