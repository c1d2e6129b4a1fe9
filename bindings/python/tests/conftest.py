"""Shared fixtures: where the repository's shared material lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def traces_dir() -> Path:
    """``shared/traces`` beside the repository root (or ``$CONVERGE_TRACES``)."""
    env = os.environ.get("CONVERGE_TRACES")
    return Path(env) if env else REPO.parent / "shared" / "traces"


@pytest.fixture
def traces_path() -> Path:
    d = traces_dir()
    if not d.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"traces folder {d} is missing")
        pytest.skip(f"traces folder {d} is missing")
    return d
