"""converge.traces on the shared real editing traces."""

from __future__ import annotations

from pathlib import Path

import pytest

from converge import traces


def test_concurrent_trace_replays_to_end_content(traces_path: Path) -> None:
    trace = traces.load(traces_path / "friendsforever.json.gz")
    assert trace.concurrent and trace.num_agents == 2
    doc = traces.replay(trace)
    assert str(doc.text("text")) == trace.end_content


@pytest.mark.parametrize("mode", ["batch", "each"])
def test_sequential_trace_replays_to_end_content(traces_path: Path, mode: str) -> None:
    trace = traces.load(traces_path / "json-crdt-patch.json.gz")
    doc = traces.replay(trace, mode="batch" if mode == "batch" else "each")
    assert str(doc.text("text")) == trace.end_content


def test_mismatch_is_reported() -> None:
    trace = traces.parse({"endContent": "abc", "txns": [{"patches": [[0, 0, "abd"]]}]})
    with pytest.raises(traces.ReplayMismatch):
        traces.replay(trace)
    assert str(traces.replay(trace, check=False).text("text")) == "abd"
