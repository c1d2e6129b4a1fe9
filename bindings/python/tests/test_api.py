"""Every method of the Python API, its protocols and its error paths."""

from __future__ import annotations

import array
import pickle
import sys

import pytest

import converge
from converge import (
    ConvergeError,
    Counter,
    DecodeError,
    Doc,
    List,
    Map,
    OutOfBoundsError,
    Register,
    Set,
    Text,
    TransactionOpenError,
    NoTransactionError,
    WrongKindError,
)


def test_text_protocols() -> None:
    doc = Doc(1)
    t = doc.text("t")
    assert isinstance(t, Text) and t.kind == "text" and t.name == "t"
    assert str(t) == "" and len(t) == 0
    t.insert(0, "hello")
    t.append(" world")
    t += "!"
    assert str(t) == "hello world!" and t.to_py() == "hello world!"
    assert len(t) == 12
    assert t[0] == "h" and t[-1] == "!" and t[0:5] == "hello" and t[::2] == "hlowrd"
    assert "world" in t and "xyz" not in t
    assert list(t) == list("hello world!")
    del t[-1]
    del t[0:6]
    assert str(t) == "world"
    t[0:1] = "W"
    t[-1] = "D"
    assert str(t) == "WorlD"
    t.delete(1, 3)
    assert str(t) == "WD"
    t.splice(1, 0, "--")
    t.splice(0, 1)
    assert str(t) == "--D"
    t.insert(-1, "+")
    assert str(t) == "--+D"


def test_text_unicode_and_utf16() -> None:
    t = Doc(1).text("t")
    t.insert(0, "a🙂b")
    assert len(t) == 3 and t.len_utf16() == 4 and t[1] == "🙂"
    t.insert_utf16(3, "x")
    assert str(t) == "a🙂xb"
    t.delete_utf16(1, 3)
    assert str(t) == "axb"
    u = Doc(1).text("u")
    u.insert(0, "🙂")
    before = u.doc.save()
    with pytest.raises(converge.InvalidPositionError) as e:
        u.insert_utf16(1, "x")  # inside the surrogate pair
    assert e.value.code == "INVALID_POSITION" and u.doc.save() == before


def test_apply_patches() -> None:
    doc = Doc(1)
    t = doc.text("t")
    events: list[converge.Event] = []
    doc.subscribe(events.append)
    t.apply_patches([(0, 0, "hello"), (5, 0, " world"), (0, 1, "H"), (5, 6, "")])
    assert str(t) == "Hello"
    # One transaction: one update, one event covering every patch.
    assert len(events) == 1
    assert [c.range for c in events[0].changes] == [(0, 0, 5)]
    # A failing patch undoes the ones before it, outside a transaction and inside one.
    before = doc.save()
    with pytest.raises(OutOfBoundsError):
        t.apply_patches([(0, 0, "abc"), (100, 0, "x")])
    assert str(t) == "Hello" and doc.save() == before and len(events) == 1
    with doc.transaction():
        t.insert(0, ">")
        with pytest.raises(OutOfBoundsError):
            t.apply_patches([(0, 1, ""), (100, 0, "x")])
        assert str(t) == ">Hello"
        t.apply_patches([(0, 1, ""), (5, 0, "!")])
    assert str(t) == "Hello!" and len(events) == 2
    with pytest.raises(TypeError):
        t.apply_patches([[0, 0, "x"]])  # type: ignore[list-item]
    # A malformed patch fails before any patch is applied.
    for bad in ((0, 0), (0, 0, 5), (0, 0, "a", "b"), ("0", 0, "a")):
        with pytest.raises(TypeError):
            t.apply_patches([(0, 0, "never"), bad])  # type: ignore[list-item]
    with pytest.raises(OverflowError):
        t.apply_patches([(0, 0, "never"), (-1, 0, "x")])
    assert str(t) == "Hello!" and len(events) == 2
    # Inserted strings of any width are cut at the right places.
    t.apply_patches([(0, 6, "h\u00e9llo \U0001f600!"), (1, 1, "E"), (6, 1, "\u4e16")])
    assert str(t) == "hEllo \u4e16!"
    # Deletions between them take no text (the cut stays where the last insert ended).
    t.apply_patches([(0, 0, "\u00e9"), (3, 1, ""), (1, 0, "\U0001f600x"), (0, 1, ""), (2, 0, "\u4e16")])
    assert str(t) == "\U0001f600x\u4e16hElo \u4e16!"


def test_map_protocols() -> None:
    doc = Doc(1)
    m = doc.map("m")
    assert isinstance(m, Map) and len(m) == 0
    m["int"] = 1
    m["float"] = 1.5
    m["str"] = "s"
    m["bytes"] = b"\x00\x01"
    m["buf"] = bytearray(b"ab")
    m["view"] = memoryview(b"cd")
    m["arr"] = array.array("B", [1, 2])
    m["none"] = None
    m["bool"] = True
    assert m["buf"] == b"ab" and m["view"] == b"cd" and m["arr"] == b"\x01\x02"
    assert m["bool"] is True and m["none"] is None and m["int"] == 1
    assert "int" in m and "nope" not in m
    assert sorted(m) == m.keys() == sorted(m.keys())
    assert dict(m.items()) == dict(zip(m.keys(), m.values()))
    assert m.get("nope") is None and m.get("nope", 5) == 5 and m.get("int", 5) == 1
    with pytest.raises(KeyError):
        m["nope"]
    with pytest.raises(KeyError):
        del m["nope"]
    del m["int"]
    assert "int" not in m
    m.delete("int")  # no error for an absent key
    m.delete("str")
    assert "str" not in m
    m.update({"a": 1, "b": 2})
    m.update([("c", 3)])
    assert (m["a"], m["b"], m["c"]) == (1, 2, 3)
    with pytest.raises(TypeError):
        m["obj"] = object()  # type: ignore[assignment]
    with pytest.raises(OverflowError):
        m["big"] = 2**64
    from collections.abc import MutableMapping

    assert isinstance(m, MutableMapping)


def test_list_protocols() -> None:
    doc = Doc(1)
    lst = doc.list("l")
    lst.append(1)
    lst.extend([2, 3, 4])
    lst.insert(0, 0)
    lst.insert(-1, 3.5)
    assert lst.to_py() == [0, 1, 2, 3, 3.5, 4]
    assert len(lst) == 6 and lst[0] == 0 and lst[-1] == 4 and lst[1:3] == [1, 2]
    assert 3.5 in lst and 99 not in lst
    assert list(lst) == [0, 1, 2, 3, 3.5, 4]
    lst[0] = "zero"
    assert lst[0] == "zero" and len(lst) == 6
    del lst[0]
    del lst[0:2]
    assert lst.to_py() == [3, 3.5, 4]
    assert lst.pop() == 4 and lst.pop(0) == 3 and lst.to_py() == [3.5]
    lst.insert_many(0, ["a", "b"])
    lst.delete(0, 1)
    assert lst.to_py() == ["b", 3.5]
    with pytest.raises(IndexError):
        lst[10]
    with pytest.raises(IndexError):
        lst.pop(10)
    with pytest.raises(OutOfBoundsError) as e:
        lst.insert(10, 1)
    assert e.value.code == "OUT_OF_BOUNDS"
    with pytest.raises(ValueError):
        del lst[::2]


def test_counter_register_set() -> None:
    doc = Doc(1)
    c = doc.counter("c")
    assert isinstance(c, Counter) and c.value == 0
    c.add(5)
    c.add()
    c += 2
    c -= 10
    assert int(c) == -2 and c.to_py() == -2
    r = doc.register("r")
    assert isinstance(r, Register) and r.value is None
    r.set("v")
    assert r.value == "v" and r.to_py() == "v"
    s = doc.set("s")
    assert isinstance(s, Set)
    s.add(3)
    s.update([1, "a", b"b", True, 1])
    assert len(s) == 5 and 1 in s and True in s and 2 not in s
    assert s.to_py() == [True, 1, 3, "a", b"b"] and list(s) == s.to_py()
    s.discard(99)
    s.remove(3)
    with pytest.raises(KeyError):
        s.remove(3)
    s.difference_update([1, "a"])
    assert s.to_py() == [True, b"b"]


def test_nested_containers_and_to_py() -> None:
    doc = Doc(1)
    m = doc.map("root")
    inner = m.insert_container("todo", "list")
    assert isinstance(inner, List) and inner.name is None
    item = inner.append_container("map")
    item["title"] = "write tests"
    done = item.insert_container("done", "register")
    done.set(False)
    t = inner.insert_container(0, "text")
    t.insert(0, "note")
    assert m["todo"] == inner and hash(m["todo"]) == hash(inner)
    assert doc.to_py() == {"root": {"todo": ["note", {"done": False, "title": "write tests"}]}}
    assert m.to_py() == doc.to_py()["root"]
    other = Doc(2)
    other.apply_update(doc.encode_updates_since())
    assert other.to_py() == doc.to_py()
    assert "nested" in repr(inner) and repr(m) == '<converge.Map "root">'


def test_handles_compare_by_document_and_container() -> None:
    a, b = Doc(1), Doc(1)
    assert a.text("t") == a.text("t")
    assert a.text("t") != a.text("u")
    assert a.text("t") != b.text("t")
    assert a.text("t").doc.replica == 1


def test_roots_of_different_kinds_are_distinct() -> None:
    doc = Doc(1)
    assert doc.root("x", "text") == doc.text("x") and doc.root("x", "set") == doc.set("x")
    with pytest.raises(ValueError):
        doc.root("x", "tree")
    doc.text("x").insert(0, "a")
    doc.counter("x").add(1)
    assert doc.to_py() == {"x:text": "a", "x:counter": 1}


def test_transactions() -> None:
    doc = Doc(1)
    t = doc.text("t")
    events: list[converge.Event] = []
    doc.subscribe(events.append)
    with doc.transaction():
        t.insert(0, "a")
        t.insert(1, "b")
        assert doc.in_transaction and str(t) == "ab"
        assert events == []
    assert not doc.in_transaction and str(t) == "ab" and len(events) == 1
    with pytest.raises(RuntimeError):
        with doc.transaction():
            t.insert(0, "zz")
            raise RuntimeError("boom")
    assert str(t) == "ab" and len(events) == 1
    doc.begin()
    with pytest.raises(TransactionOpenError):
        doc.begin()
    with pytest.raises(TransactionOpenError):
        doc.save()
    with pytest.raises(TransactionOpenError):
        doc.apply_update(Doc(2).encode_updates_since())
    doc.rollback()
    with pytest.raises(NoTransactionError) as e:
        doc.commit()
    assert e.value.code == "NO_TRANSACTION"
    doc.begin()
    t.insert(0, "c")
    doc.commit()
    assert str(t) == "cab"


def test_events() -> None:
    a, b = Doc(1), Doc(2)
    seen: list[tuple[str, str, object]] = []

    def on_change(event: converge.Event) -> None:
        for c in event.changes:
            detail: object = c.range if c.kind == "range" else c.keys
            seen.append((event.origin, c.kind, detail))
        # Callbacks run after the call returned: the document is free to read and edit.
        assert str(b.text("t")) is not None

    sub = b.subscribe(on_change)
    a.text("t").insert(0, "hi")
    a.map("m")["k"] = 1
    b.apply_update(a.encode_updates_since())
    assert ("remote", "range", (0, 0, 2)) in seen and ("remote", "keys", ["k"]) in seen
    b.counter("c").add(1)
    assert seen[-1] == ("local", "value", [])
    assert sub() is True and sub.unsubscribe() is False
    b.counter("c").add(1)
    assert seen[-1] == ("local", "value", []) and len(seen) == 3
    with pytest.raises(TypeError):
        b.subscribe(5)  # type: ignore[arg-type]


def test_event_callback_may_edit_and_errors_are_unraisable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = Doc(1)
    log: list[str] = []

    def echo(event: converge.Event) -> None:
        c = event.changes[0]
        if isinstance(c.target, Text) and str(c.target) == "a":
            c.target.append("b")  # a nested edit: delivered by that call
        log.append(str(doc.text("t")))

    with doc.subscribe(echo):
        doc.text("t").insert(0, "a")
    assert log == ["ab", "ab"]
    doc.text("t").insert(0, "x")
    assert log == ["ab", "ab"]

    def bad(event: converge.Event) -> None:
        raise ValueError("callback failed")

    doc.subscribe(bad)
    reported: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    doc.text("t").insert(0, "y")
    assert len(reported) == 1 and isinstance(reported[0], ValueError)
    assert str(doc.text("t")) == "yxab"


def test_sync_and_bytes() -> None:
    a, b = Doc(1), Doc(2)
    a.text("t").insert(0, "hello")
    v0 = b.version()
    assert isinstance(v0, bytes)
    up = a.encode_updates_since(b.version())
    r = b.apply_update(memoryview(up))
    assert (r.applied, r.duplicates, r.pending, r.rejected, r.complete) == (1, 0, 0, 0, True)
    assert b.apply_update(bytearray(up)).duplicates == 1
    b.text("t").append("!")
    a.apply_update(b.encode_updates_since(a.version()))
    assert a.version() == b.version() and str(a.text("t")) == "hello!"
    assert a.encode_updates_since(a.version()) == Doc(9).encode_updates_since()
    merged = Doc.merge_updates([a.encode_updates_since(), b.encode_updates_since(v0)])
    c = Doc(3)
    c.text("t")
    c.apply_update(merged)
    assert str(c.text("t")) == "hello!"


def test_out_of_order_updates_wait_for_dependencies() -> None:
    a, b = Doc(1), Doc(2)
    t = a.text("t")
    t.insert(0, "a")
    first = a.encode_updates_since()
    v = a.version()
    t.insert(1, "b")
    second = a.encode_updates_since(v)
    r = b.apply_update(second)
    assert r.pending == 1 and not r.complete and b.pending_count == 1 and len(r.missing) > 0
    r = b.apply_update(first)
    assert r.applied == 2 and b.pending_count == 0
    assert str(b.text("t")) == "ab"


def test_save_load_roundtrip() -> None:
    doc = Doc(42)
    doc.text("t").insert(0, "x" * 50_000)  # large enough to release the GIL
    doc.list("l").extend(range(100))
    data = doc.save()
    loaded = Doc.load(data)
    assert loaded.replica == 42
    assert loaded.to_py() == doc.to_py()
    assert Doc.load(bytearray(data)).save() == data
    history = doc.save_history()
    from_history = Doc.load(history)
    assert from_history.to_py() == doc.to_py() and from_history.version() == doc.version()


def test_root_names_travel() -> None:
    a = Doc(1)
    a.map("todo")["x"] = 1
    b = Doc(2)
    b.apply_update(a.encode_updates_since())
    assert b.to_py() == {"todo": {"x": 1}}
    assert Doc.load(a.save()).to_py() == {"todo": {"x": 1}}


@pytest.mark.parametrize(
    "bad",
    [b"", b"garbage", b"\x00" * 64, bytes(range(256))],
)
def test_bad_bytes_raise_typed_errors_and_change_nothing(bad: bytes) -> None:
    doc = Doc(1)
    doc.text("t").insert(0, "keep")
    before = doc.save()
    with pytest.raises(ConvergeError) as e:
        doc.apply_update(bad)
    assert isinstance(e.value, Exception) and e.value.code in {"DECODE", "INVALID_UPDATE"}
    assert doc.save() == before
    with pytest.raises(ConvergeError):
        Doc.load(bad)
    with pytest.raises(ConvergeError):
        doc.encode_updates_since(bad + b"\xff\xff")
    with pytest.raises(ConvergeError):
        Doc.merge_updates([bad + b"\xff"])


def test_truncated_and_corrupted_updates_change_nothing() -> None:
    src = Doc(1)
    src.text("t").insert(0, "hello")
    src.map("m")["k"] = [1][0]
    good = src.encode_updates_since()
    doc = Doc(2)
    doc.text("t").insert(0, "mine")
    before = doc.save()
    for cut in range(len(good)):
        with pytest.raises(ConvergeError):
            doc.apply_update(good[:cut])
        assert doc.save() == before
    for i in range(len(good)):
        flipped = bytearray(good)
        flipped[i] ^= 0xFF
        try:
            doc.apply_update(bytes(flipped))
        except ConvergeError:
            assert doc.save() == before
        else:
            before = doc.save()  # a flip that still decodes is a valid, different update


def test_bytes_inputs_reject_str_and_objects() -> None:
    with pytest.raises(TypeError):
        Doc(1).apply_update("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Doc.load(5)  # type: ignore[arg-type]


def test_error_hierarchy() -> None:
    for cls in (
        converge.DecodeError,
        converge.OutOfBoundsError,
        converge.InvalidPositionError,
        converge.WrongKindError,
        converge.UnknownContainerError,
        converge.InvalidUpdateError,
        converge.ConflictError,
        converge.BudgetExceededError,
        converge.TooDeepError,
        converge.TransactionOpenError,
        converge.NoTransactionError,
    ):
        assert issubclass(cls, ConvergeError) and issubclass(cls, Exception)
        assert cls.code.isupper()
    assert issubclass(DecodeError, ValueError) and issubclass(OutOfBoundsError, IndexError)
    assert issubclass(WrongKindError, TypeError)
    unknown = converge.errors.error_for_code("SOMETHING_NEW", "msg")
    assert type(unknown) is ConvergeError and unknown.code == "SOMETHING_NEW"


def test_memory_limit() -> None:
    doc = Doc(1, memory_limit=64)
    t = doc.text("t")
    before = doc.save()
    with pytest.raises(converge.BudgetExceededError) as e:
        t.insert(0, "x" * 1000)
    assert e.value.code == "BUDGET_EXCEEDED" and doc.save() == before
    assert doc.memory_used <= 64


def test_unknown_kind_and_random_replicas() -> None:
    with pytest.raises(ValueError):
        Doc(1).map("m").insert_container("k", "tree")  # type: ignore[call-overload]
    assert Doc().replica != Doc().replica


def test_objects_are_not_picklable_by_accident() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Doc(1))
