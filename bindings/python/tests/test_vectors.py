"""The shared golden vectors (``vectors/`` at the repository root, written by Rust): replaying
each session through the Python API must give the same bytes, and every way of reading them
back must give the same JSON view."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import pytest

from converge import ConvergeError, Doc

if TYPE_CHECKING:
    from converge._native import Container, PyData

VECTORS = Path(os.environ.get("CONVERGE_VECTORS", Path(__file__).resolve().parents[3] / "vectors"))
SESSIONS = sorted(p for p in VECTORS.glob("*.json") if not p.name.startswith(("merge-", "errors")))
MERGES = sorted(VECTORS.glob("merge-*.json"))

Json = Union[None, bool, int, float, str, list["Json"], dict[str, "Json"]]


def test_vectors_are_present() -> None:
    # With CI set, a missing vectors folder fails instead of silently testing nothing.
    if not SESSIONS or not MERGES:
        if os.environ.get("CI"):
            pytest.fail(f"no golden vectors in {VECTORS}")
        pytest.skip(f"no golden vectors in {VECTORS}")
    assert (VECTORS / "errors.json").is_file()


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def value_in(v: Json) -> None | bool | int | float | str | bytes:
    if isinstance(v, dict):
        return bytes.fromhex(str(v["$bytes"]))
    assert not isinstance(v, list)
    return v


def tagged(x: PyData | Json) -> object:
    """A form where 2 != 2.0 != True and bytes are spelled like the vectors."""
    if isinstance(x, bytes):
        return ("bytes", x.hex())
    if isinstance(x, dict):
        if set(x) == {"$bytes"}:
            return ("bytes", x["$bytes"])
        return ("map", {k: tagged(v) for k, v in x.items()})
    if isinstance(x, list):
        return ("list", [tagged(v) for v in x])
    return (type(x).__name__, x)




def replay(doc: Doc, steps: list[dict[str, Any]]) -> None:
    aliases: dict[str, Container] = {}

    def target(t: dict[str, str]) -> Any:
        if "alias" in t:
            return aliases[t["alias"]]
        return doc.root(t["root"], t["kind"])

    for s in steps:
        op = s["op"]
        if op == "begin":
            doc.begin()
        elif op == "commit":
            doc.commit()
        elif op == "map_set":
            target(s["target"])[s["key"]] = value_in(s["value"])
        elif op == "map_delete":
            target(s["target"]).delete(s["key"])
        elif op == "map_insert_container":
            aliases[s["as"]] = target(s["target"]).insert_container(s["key"], s["kind"])
        elif op == "list_insert":
            target(s["target"]).insert(s["index"], value_in(s["value"]))
        elif op == "list_delete":
            target(s["target"]).delete(s["start"], s["end"])
        elif op == "list_insert_container":
            aliases[s["as"]] = target(s["target"]).insert_container(s["index"], s["kind"])
        elif op == "text_insert":
            target(s["target"]).insert(s["pos"], s["text"])
        elif op == "text_delete":
            target(s["target"]).delete(s["start"], s["end"] - s["start"])
        elif op == "counter_add":
            target(s["target"]).add(s["amount"])
        elif op == "register_set":
            target(s["target"]).set(value_in(s["value"]))
        elif op == "set_add":
            target(s["target"]).add(value_in(s["value"]))
        elif op == "set_remove":
            target(s["target"]).discard(value_in(s["value"]))
        else:
            raise AssertionError(f"unknown step op {op!r}")


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.stem)
def test_session_vector(path: Path) -> None:
    v = read(path)
    doc = Doc(v["replica"])
    replay(doc, v["steps"])
    assert doc.encode_updates_since().hex() == v["all_updates"]
    assert doc.version().hex() == v["version"]
    assert doc.save().hex() == v["snapshot"]
    assert doc.save_history().hex() == v["history"]
    want = tagged(v["json"])
    assert tagged(doc.to_py()) == want

    # Root names travel in the bytes: no reader names a root before reading the view.
    loaded = Doc.load(bytes.fromhex(v["snapshot"]))
    assert tagged(loaded.to_py()) == want
    assert loaded.version().hex() == v["version"]
    assert loaded.save().hex() == v["snapshot"]

    hist = Doc.load(bytes.fromhex(v["history"]))
    assert tagged(hist.to_py()) == want

    fresh = Doc(99)
    fresh.apply_update(bytes.fromhex(v["all_updates"]))
    assert tagged(fresh.to_py()) == want
    assert fresh.version().hex() == v["version"]


@pytest.mark.parametrize("path", MERGES, ids=lambda p: p.stem)
def test_merge_vector(path: Path) -> None:
    v = read(path)
    inputs = [bytes.fromhex(h) for h in v["inputs"]]
    orders = list(itertools.permutations(range(len(inputs))))
    if len(orders) > 24:
        orders = orders[:12] + orders[-12:]
    want = tagged(v["json"])
    for order in orders:
        doc = Doc(99)
        for i in order:
            doc.apply_update(inputs[i])
        assert doc.version().hex() == v["version"], order
        assert tagged(doc.to_py()) == want, order
    merged = Doc(99)
    merged.apply_update(Doc.merge_updates(inputs))
    assert tagged(merged.to_py()) == want


def error_cases() -> list[dict[str, Any]]:
    p = VECTORS / "errors.json"
    if not p.is_file():
        return []
    cases: list[dict[str, Any]] = read(p)["cases"]
    return cases


@pytest.mark.parametrize("case", error_cases(), ids=lambda c: str(c["name"]))
def test_error_vector(case: dict[str, Any]) -> None:
    bad = bytes.fromhex(case["bytes"])
    if case["call"] == "apply_update":
        doc = Doc(99)
        for s in case["setup"]:
            doc.apply_update(bytes.fromhex(s))
        before = doc.save()
        with pytest.raises(ConvergeError) as e:
            doc.apply_update(bad)
        assert doc.save() == before
    else:
        assert case["call"] == "load"
        with pytest.raises(ConvergeError) as e:
            Doc.load(bad)
    assert e.value.code == case["code"]
