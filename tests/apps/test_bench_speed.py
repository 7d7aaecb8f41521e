"""`longagent bench speed` end to end on the real model, on a tiny document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_second_question_reuses_the_first_ones_prefill(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from longagent.apps.cli import app

    result = CliRunner().invoke(
        app,
        ["bench", "speed", "--lengths", "1k", "--reading", "relevance", "--out-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    (record,) = json.loads((tmp_path / "speed-relevance.json").read_text())["results"]
    first, second = record["first"], record["second"]
    assert record["chunks"] >= 2
    for asked in (first, second):
        assert asked["model_calls"] >= 1 and 0 < asked["model_seconds"] <= asked["seconds"]
        assert 0 < asked["forward_seconds"] <= asked["model_seconds"]
    assert second["cached_prompt_tokens"] > 0  # the chunks' KV came from the first question
    assert "two questions over one document" in result.output
