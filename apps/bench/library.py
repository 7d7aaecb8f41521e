"""`longagent bench library`: ingest throughput of a document library, and search latency.

Generates `docs` text documents of about `kb` KB each (paragraphs of common English
words, each document with a few distinct names), adds them to a fresh library twice,
once with MiniLM vectors and once without (full-text index only), with the bundled
model's tokenizer sizing 512-token chunks, and times `Library.add` (load, split, embed,
write, index). Then times `search` (hybrid, or BM25 alone) over the whole library.
The tokenizer and the embedder are loaded before any timing. Prints a table and writes
bench-results/library.json. Set LONGAGENT_THREADS to fix the CPU threads.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "that",
    "with",
    "as",
    "by",
    "at",
    "from",
    "his",
    "her",
    "their",
    "this",
    "which",
    "river",
    "city",
    "council",
    "report",
    "engine",
    "garden",
    "market",
    "winter",
    "harbor",
    "bridge",
    "library",
    "museum",
    "contract",
    "budget",
    "school",
    "railway",
    "valley",
    "doctor",
    "letter",
    "company",
    "music",
    "station",
    "island",
    "northern",
    "ancient",
    "modern",
    "quiet",
    "early",
    "large",
    "small",
    "public",
    "private",
    "green",
    "famous",
]
_NAMES = ["Ada", "Bruno", "Chen", "Dagny", "Emeka", "Farida", "Goran", "Hana", "Ivo", "Juno"]


def make_documents(folder: Path, count: int, kb: int, seed: int = 0) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        paragraphs, size = [], 0
        while size < kb * 1000:
            name = f"{rng.choice(_NAMES)} {rng.choice(_NAMES)}son{i}"
            words = [rng.choice(_WORDS) for _ in range(rng.randint(40, 90))]
            text = f"{name} " + " ".join(words).capitalize() + "."
            paragraphs.append(text)
            size += len(text) + 2
        path = folder / f"doc{i:04d}.txt"
        path.write_text("\n\n".join(paragraphs) + "\n")
        paths.append(path)
    return paths


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(
    docs: int = typer.Option(100, help="Documents to generate and add."),
    kb: int = typer.Option(10, help="Size of each document in KB."),
    queries: int = typer.Option(20, help="Searches to time per library."),
    out: Path = typer.Option(Path("bench-results/library.json"), help="Where the JSON goes."),
) -> None:
    from longagent.apps import checks

    checks.at_least("--docs", docs, 1)
    checks.at_most("--docs", docs, 100_000)
    checks.at_least("--kb", kb, 1)
    checks.at_most("--kb", kb, 10_000)
    checks.at_least("--queries", queries, 1)
    checks.writable_file(out, "--out")

    from rich.console import Console
    from rich.table import Table

    from longagent.apps.library_cmd import _embedder, token_counter
    from longagent.config import get_settings
    from longagent.memory.library import Library

    settings = get_settings()
    console = Console()
    with console.status("loading the tokenizer and the embedder"):
        count_tokens = token_counter(settings)
        embedder = _embedder(settings)
        embedder.embed(["warm up"])
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-library-") as tmp:
        paths = make_documents(Path(tmp) / "docs", docs, kb)
        total = sum(p.stat().st_size for p in paths)
        for label, chosen in (("MiniLM vectors", embedder), ("no vectors", None)):
            library = Library(
                Path(tmp) / "home",
                "vectors" if chosen else "plain",
                embedder=chosen,
                count_tokens=count_tokens,
                settings=settings,
            )
            with console.status(f"adding {docs} documents ({label})"):
                report = library.add([Path(tmp) / "docs"])
            rng = random.Random(1)
            latencies = []
            for _ in range(queries):
                query = f"{rng.choice(_NAMES)} {rng.choice(_WORDS)} {rng.choice(_WORDS)}"
                started = time.perf_counter()
                library.search(query, k=10)
                latencies.append((time.perf_counter() - started) * 1000)
            info = library.info()
            rows.append(
                {
                    "library": label,
                    "documents": report.count("added"),
                    "chunks": report.chunks,
                    "mb": total / 1e6,
                    "seconds": report.seconds,
                    "mb_per_s": total / 1e6 / report.seconds,
                    "chunks_per_s": report.chunks / report.seconds,
                    "disk_mb": info["disk_bytes"] / 1e6,
                    "search_p50_ms": statistics.median(latencies),
                    "search_p95_ms": _percentile(latencies, 0.95),
                }
            )
    table = Table(
        "library", "docs", "chunks", "MB", "s", "MB/s", "chunks/s", "disk MB", "search p50/p95 ms"
    )
    for row in rows:
        table.add_row(
            row["library"],
            str(row["documents"]),
            str(row["chunks"]),
            f"{row['mb']:.2f}",
            f"{row['seconds']:.1f}",
            f"{row['mb_per_s']:.3f}",
            f"{row['chunks_per_s']:.1f}",
            f"{row['disk_mb']:.1f}",
            f"{row['search_p50_ms']:.0f} / {row['search_p95_ms']:.0f}",
        )
    console.print(table)
    load = os.getloadavg()
    meta = {
        "threads": settings.threads,
        "cpus": os.cpu_count(),
        "load_average": load,
        "machine": platform.machine(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    console.print(f"[dim]threads {settings.threads}, load average {load[0]:.1f}; wrote {out}[/]")
