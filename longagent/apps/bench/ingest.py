"""`longagent bench ingest`: peak memory and seconds to load and split a document, by size.

What `longagent ask` does before any model call: `load` a text file and `split` it into
member chunks with the real tokenizer (SmolLM2's, read from its GGUF file) at the default
chunk size. Each size runs in a fresh child process, so its peak RSS (from `wait4`) is
its own; the baseline is the child's RSS after imports and the tokenizer, before the
document, and the peak (VmHWM, reset at the baseline) covers load + split only. The text is the pydoc corpus of `bench chunking`. This is what the default
`LONGAGENT_MAX_DOCUMENT_BYTES` is chosen from. Prints a table and writes
bench-results/ingest.json.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import typer


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(path: str, chunk_tokens: int) -> None:
    """In the child: load and split `path`; print the timings and baseline as JSON."""
    from transformers import AutoTokenizer

    from longagent.chunking import load, split
    from longagent.config import get_settings
    from longagent.llm.registry import REGISTRY

    gguf = REGISTRY["smollm2-135m"].path()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)

    def count_tokens(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    count_tokens("warm up")
    baseline = _status_mb("VmRSS")
    # Reset the peak (VmHWM) so it covers load + split only, not the tokenizer's loading.
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    start = time.perf_counter()
    document = load(Path(path), settings=get_settings(max_document_bytes=2**40))
    loaded = time.perf_counter()
    chunks = split(document, count_tokens, chunk_tokens)
    done = time.perf_counter()
    print(json.dumps({"baseline_mb": baseline, "peak_mb": _status_mb("VmHWM"),
                      "load_s": loaded - start, "split_s": done - loaded,
                      "chunks": len(chunks)}))  # fmt: skip


def _measure(path: Path, chunk_tokens: int, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryFile() as out:
        code = "import sys; from longagent.apps.bench.ingest import child; "
        code += "child(sys.argv[1], int(sys.argv[2]))"
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(chunk_tokens)],
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = out.read().decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": f"timed out after {timeout:.0f} s or failed"}
    return json.loads(lines[-1]) | {"process_peak_mb": usage.ru_maxrss / 1024}


def main(
    sizes: str = typer.Option("1,5,10,25,50", help="Comma-separated file sizes in MB."),
    chunk_tokens: int = typer.Option(0, help="Member chunk size (default: LongAgent's)."),
    timeout: float = typer.Option(1800, help="Most seconds for one size."),
    out_dir: Path = typer.Option("bench-results", help="Where ingest.json is written."),
) -> None:
    """Peak RSS and seconds of load + split against input size."""
    from longagent.apps import checks

    megabytes = checks.float_list("--sizes", sizes, 0.001, 1000)
    checks.at_least("--chunk-tokens", chunk_tokens, 0)
    checks.at_least("--timeout", timeout, 1)
    checks.writable_dir(out_dir, "--out-dir")
    from rich.console import Console
    from rich.table import Table

    from longagent.agents.profiles import PROFILES
    from longagent.apps.bench.chunking import build_corpus

    chunk_tokens = chunk_tokens or PROFILES["small"].chunk_tokens
    console = Console()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="longagent-ingest-") as tmp:
        with console.status("building the text"):
            corpus = build_corpus(int(max(megabytes) * 1_000_000))
        for mb in megabytes:
            path = Path(tmp) / f"doc-{mb:g}mb.txt"
            path.write_bytes(corpus.encode("utf-8")[: int(mb * 1_000_000)])
            with console.status(f"{mb:g} MB: load + split"):
                row = {"mb": mb} | _measure(path, chunk_tokens, timeout)
            path.unlink()
            rows.append(row)
            console.print(row)
    table = Table(title=f"load + split at {chunk_tokens} tokens per chunk, one process per size")
    for column in ("MB", "peak RSS MB", "baseline MB", "growth / input", "load s", "split s",
                   "chunks", "process peak MB"):  # fmt: skip
        table.add_column(column, justify="right")
    for row in rows:
        if "error" in row:
            table.add_row(f"{row['mb']:g}", row["error"], "", "", "", "", "", "")
            continue
        growth = (row["peak_mb"] - row["baseline_mb"]) / row["mb"]
        table.add_row(f"{row['mb']:g}", f"{row['peak_mb']:.0f}", f"{row['baseline_mb']:.0f}",
                      f"{growth:.1f}x", f"{row['load_s']:.1f}", f"{row['split_s']:.1f}",
                      str(row["chunks"]), f"{row['process_peak_mb']:.0f}")  # fmt: skip
    console.print(table)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    (out_dir / "ingest.json").write_text(
        json.dumps({"machine": machine, "chunk_tokens": chunk_tokens, "rows": rows}, indent=1)
    )
    console.print(f"written: {out_dir / 'ingest.json'}")
