"""The one-time GGUF conversion: two processes at once convert once; the result is reused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
from longagent.llm.gguf_cache import converted_dir
from longagent.llm.registry import REGISTRY
print("RESULT", converted_dir(REGISTRY["smollm2-135m"].path(), Path(sys.argv[1])), flush=True)
"""


def run_converters(cache: Path, count: int) -> list[str]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(cache)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    return outputs


@pytest.mark.slow
def test_two_processes_convert_once_and_the_cache_is_reused(tmp_path: Path) -> None:
    outputs = run_converters(tmp_path, 2)
    assert sum(out.count("converting ") for out in outputs) == 1
    results = {line for out in outputs for line in out.splitlines() if line.startswith("RESULT")}
    assert len(results) == 1
    converted = Path(results.pop().removeprefix("RESULT "))
    config = json.loads((converted / "config.json").read_text())
    assert "quantization_config" not in config and config["max_position_embeddings"] == 8192
    assert not list(converted.parent.glob(".converting-*"))  # no half-written leftovers

    (again,) = run_converters(tmp_path, 1)
    assert "converting " not in again and str(converted) in again
