"""Fixtures the CLI tests share."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh LONGAGENT_HOME, one torch thread, and a wide terminal (no wrapped output)."""
    monkeypatch.setenv("LONGAGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LONGAGENT_THREADS", "1")
    monkeypatch.setenv("COLUMNS", "300")
    return tmp_path / "home"
