"""Two replicas edit a shared document and sync; run with `python examples/quickstart.py`."""

from __future__ import annotations

from converge import Doc, Event

alice, bob = Doc(replica=1), Doc(replica=2)

# Named roots: text, map, list, counter, register, set.
title = alice.text("title")
title.insert(0, "Shopping")
todo = alice.map("todo")
todo["owner"] = "alice"
items = todo.insert_container("items", "list")
items.extend(["milk", "eggs"])

# Bob learns everything Alice has (root names included), then both edit concurrently.
bob.apply_update(alice.encode_updates_since(bob.version()))
bob_events: list[Event] = []
unsubscribe = bob.subscribe(bob_events.append)

with alice.transaction():  # one update, one event
    title.append(" list")
    items.append("bread")
bob.text("title").insert(0, "My ")

# Exchange what each lacks: any order, duplicates are harmless.
bob.apply_update(alice.encode_updates_since(bob.version()))
alice.apply_update(bob.encode_updates_since(alice.version()))
unsubscribe()

assert alice.to_py() == bob.to_py()
print(alice.to_py())
print([(e.origin, [c.kind for c in e.changes]) for e in bob_events])

# Persist and restore.
restored = Doc.load(alice.save())
print(str(restored.text("title")))
