"""`longagent bench memory` runs end to end on a tiny store and writes its JSON."""

from __future__ import annotations

import json
from pathlib import Path

from longagent.apps.bench.memory import main


def test_bench_memory_smoke(tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    main(sizes="150,300", queries=3, real=20, batch=100, out=out)
    report = json.loads(out.read_text())
    assert [r["entries"] for r in report["results"]] == [150, 300]
    for row in report["results"]:
        assert row["insert_rows_per_s"] > 0
        for mode in ("vector", "fts", "hybrid", "hybrid_filtered"):
            assert 0 < row[f"{mode}_p50_ms"] <= row[f"{mode}_p95_ms"]
    assert "random unit vectors" in report["note"]
