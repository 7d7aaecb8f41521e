"""`longagent bench serve-memory`: bad options are one clear line, and a short run against
the real `longagent serve` (bundled model, its own process) reports the server's memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from longagent.apps.cli import run


@pytest.mark.parametrize(
    "argv",
    [
        ["--questions", "-1"],
        ["--chat-turns", "3"],
        ["--settle", "-1"],
        ["--document", "/no/such/file.txt"],
        ["--model", "no-such-model"],
    ],
    ids=["questions", "chat-turns", "settle", "document", "model"],
)
def test_bad_options_are_one_line_and_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["bench", "serve-memory", *argv, "--out-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
def test_a_short_run_reports_the_server_s_memory(tmp_path: Path) -> None:
    document = tmp_path / "museum.txt"
    document.write_text(
        "The Harbor Museum stands on the old quay of Renda. It was founded in 1921 by "
        "Marta Ilves, a ship's captain who collected maps.\n"
    )
    argv = ["bench", "serve-memory", "--document", str(document), "--questions", "2"]
    argv += ["--chat-turns", "0", "--settle", "0", "--timeout", "600", "--out-dir", str(tmp_path)]
    assert run(argv) == 0
    row = json.loads((tmp_path / "serve-memory.json").read_text())
    assert row["statuses"] == ["done", "done"]
    for moment in ("idle", "after", "settled"):
        assert row[moment]["VmRSS"] > 0 and row[moment]["RssAnon"] > 0
    api = row["settled"]["api"]
    assert 0 <= api["prefix_cache_bytes"] <= api["prefix_cache_limit_bytes"]
    assert api["prepared_documents"] == 1 and api["jobs"] == 2
    assert row["peak"] >= max(row[m]["VmRSS"] for m in ("idle", "after", "settled"))
