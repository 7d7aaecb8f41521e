"""`longagent bench library` at tiny sizes, as a real subprocess: both tables print, the
JSON holds measured ingest rows, an extrapolated row marked as such, and ranking rows at
each size (flat, and with the IVF_PQ index from --index-min on)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ._cli_helpers import CLI, base_env


def test_bench_library_prints_and_writes_every_row(tmp_path: Path) -> None:
    out = tmp_path / "library.json"
    args = ["bench", "library", "--docs", "2", "--docs", "3", "--kb", "3", "--embed-docs", "2"]
    args += ["--chunks", "300", "--chunks", "600", "--index-min", "600", "--queries", "2"]
    done = subprocess.run(
        [*CLI, *args, "--out", str(out)],
        env=base_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "EXTRAPOLATED from 2" in done.stdout and "SYNTHETIC" in done.stdout
    result = json.loads(out.read_text())
    ingest = {(r["documents"], r["vectors"], r["measured"]) for r in result["ingest"]}
    assert ingest == {(2, False, True), (2, True, True), (3, False, True), (3, True, False)}
    measured = next(r for r in result["ingest"] if r["vectors"] and r["measured"])
    assert measured["chunks"] > 0 and measured["passages_per_chunk"] >= 1
    ranking = [(r["chunks"], r["search"]) for r in result["ranking"]]
    assert ranking == [
        (300, "BM25 only"),
        (300, "hybrid, flat vectors"),
        (600, "BM25 only"),
        (600, "hybrid, flat vectors"),
        (600, "hybrid, IVF_PQ index"),
    ]
    assert all(r["synthetic"] and r["p95_ms"] >= r["p50_ms"] > 0 for r in result["ranking"])


def test_bench_library_refuses_bad_sizes_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*CLI, "bench", "library", "--chunks", "0"],
        env=base_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--chunks" in done.stderr and "Traceback" not in done.stderr
