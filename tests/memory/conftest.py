"""Fixtures: the real bundled embedder (loaded once per session) and fresh stores on
temporary directories. Nothing here is mocked."""

from __future__ import annotations

from pathlib import Path

import pytest

from longagent.memory import MemoryStore, MiniLMEmbedder


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    model = MiniLMEmbedder()
    model.embed(["warm up"])  # load now, so no single test pays for it
    return model


@pytest.fixture
def store(tmp_path: Path, embedder: MiniLMEmbedder) -> MemoryStore:
    with MemoryStore(tmp_path / "store", embedder) as s:
        yield s
