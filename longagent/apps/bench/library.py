"""`longagent bench library`: ingest throughput of a document library, and ranking latency
from a thousand to a million chunks.

Ingest: generates text documents of about `kb` KB each (paragraphs of common English
words, each document with a few distinct names; 1,000 of 50 KB are ~10M tokens) and adds
them to fresh libraries, with MiniLM passage vectors and without (full-text index only),
the bundled model's tokenizer sizing 512-token chunks; times `Library.add` (load, split,
embed, write, index). Embedding is slow on a CPU, so with vectors only the first
`embed_docs` documents are added (the same documents as the first of every larger set);
a larger row with vectors is EXTRAPOLATED (its no-vector time plus the measured embedding
seconds per passage times its passages) and marked so in the table and the JSON.

Ranking: p50/p95 of `Library.search` over the whole library at each `--chunks` size, BM25
alone, hybrid with exact vector search, and hybrid with an IVF_PQ vector index from
`index_min` chunks on. Those libraries hold SYNTHETIC chunks (generated text, random unit
vectors) written through the library's own write path; see `library_scale.py`.

The tokenizer and the embedder are loaded before any timing. Prints two tables and writes
bench-results/library.json. Set LONGAGENT_THREADS to fix the CPU threads. A quick run:
`longagent bench library --docs 5 --kb 4 --chunks 500 --chunks 2000 --index-min 2000`.
"""

from __future__ import annotations

import json
import os
import platform
import random
import tempfile
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


def main(
    docs: list[int] = typer.Option([100, 1000], help="Documents to ingest (repeat: 1 row each)."),
    kb: int = typer.Option(50, help="Size of each generated document in KB."),
    embed_docs: int = typer.Option(
        100, help="Embed at most this many documents; larger rows with vectors are extrapolated."
    ),
    chunks: list[int] = typer.Option(
        [1_000, 100_000, 1_000_000], help="Library sizes (chunks) for the ranking rows."
    ),
    passages: int = typer.Option(
        0, help="Synthetic vectors per chunk (0: as many as the ingest measured, else 4)."
    ),
    index_min: int = typer.Option(
        100_000, help="Also time search with an IVF_PQ vector index from this many chunks."
    ),
    queries: int = typer.Option(20, help="Searches to time per row."),
    out: Path = typer.Option(Path("bench-results/library.json"), help="Where the JSON goes."),
) -> None:
    from longagent.apps import checks

    for value in docs:
        checks.at_least("--docs", value, 1)
        checks.at_most("--docs", value, 100_000)
    for value in chunks:
        checks.at_least("--chunks", value, 1)
        checks.at_most("--chunks", value, 10_000_000)
    checks.at_least("--kb", kb, 1)
    checks.at_most("--kb", kb, 10_000)
    checks.at_least("--embed-docs", embed_docs, 0)
    checks.at_least("--passages", passages, 0)
    checks.at_most("--passages", passages, 64)
    checks.at_least("--queries", queries, 1)
    checks.writable_file(out, "--out")

    from rich.console import Console

    from longagent.apps.bench.library_scale import ranking_rows
    from longagent.apps.library_cmd import _embedder, token_counter
    from longagent.config import get_settings

    settings = get_settings()
    console = Console()
    with console.status("loading the tokenizer and the embedder"):
        count_tokens = token_counter(settings)
        embedder = _embedder(settings)
        embedder.embed(["warm up"])
    with tempfile.TemporaryDirectory(prefix="bench-library-") as tmp:
        ingest = ingest_rows(Path(tmp), docs, kb, embed_docs, embedder, count_tokens, console)
        measured = [r["passages_per_chunk"] for r in ingest if r["vectors"] and r["measured"]]
        per_chunk = passages or (round(measured[0]) if measured else 4)
        ranking = ranking_rows(
            Path(tmp) / "scale",
            chunks,
            embedder=embedder,
            queries=queries,
            passages=per_chunk,
            chars=2_400,
            index_min=index_min,
            status=console.status,
            on_row=lambda row: console.print(
                f"[dim]{row['chunks']:,} chunks, {row['search']}: p50 {row['p50_ms']:.0f} ms, "
                f"p95 {row['p95_ms']:.0f} ms (write {row['write_s']:.0f} s, optimize "
                f"{row['optimize_s']:.0f} s, index {row['index_s'] or 0:.0f} s)[/]"
            ),
        )
    print_tables(Console(width=max(console.width, 130)), ingest, ranking)
    load = os.getloadavg()
    meta = {
        "threads": settings.threads,
        "cpus": os.cpu_count(),
        "load_average": load,
        "machine": platform.machine(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "ingest": ingest, "ranking": ranking}, indent=2))
    console.print(f"[dim]threads {settings.threads}, load average {load[0]:.1f}; wrote {out}[/]")


def _add(root: Path, name: str, folder: Path, embedder: Any, count_tokens: Any) -> dict[str, Any]:
    """Add every file of `folder` to a fresh library; its measured row."""
    import pyarrow.compute as pc

    from longagent.memory.library import Library

    library = Library(root, name, embedder=embedder, count_tokens=count_tokens)
    report = library.add([folder])
    scan = library.chunks_table.search().select(
        ["token_count", "vector"] if embedder is not None else ["token_count"]
    )
    table = scan.limit(None).to_arrow()
    vectors = (
        float(pc.mean(pc.list_value_length(table.column("vector"))).as_py())
        if embedder is not None
        else 0.0
    )
    return {
        "documents": report.count("added"),
        "vectors": embedder is not None,
        "measured": True,
        "chunks": report.chunks,
        "tokens": int(pc.sum(table.column("token_count")).as_py()),
        "passages_per_chunk": vectors,
        "mb": report.bytes / 1e6,
        "seconds": report.seconds,
        "mb_per_s": report.bytes / 1e6 / report.seconds,
        "chunks_per_s": report.chunks / report.seconds,
        "disk_mb": library.info()["disk_bytes"] / 1e6,
    }


def ingest_rows(
    root: Path,
    sizes: list[int],
    kb: int,
    embed_docs: int,
    embedder: Any,
    count_tokens: Any,
    console: Any,
) -> list[dict[str, Any]]:
    """Measured rows without vectors for every size, with vectors up to `embed_docs`
    documents (and at `embed_docs` itself: the sample), and extrapolated rows with vectors
    above it."""
    paths = make_documents(root / "docs", max(sizes), kb)
    rows: list[dict[str, Any]] = []
    sample = min(embed_docs, max(sizes))
    for size in sorted(set(sizes) | ({sample} if sample else set())):
        folder = root / f"set{size}"
        folder.mkdir()
        for path in paths[:size]:
            os.link(path, folder / path.name)
        with console.status(f"adding {size} documents (no vectors)"):
            plain = _add(root / "home", f"plain{size}", folder, None, count_tokens)
        rows.append(plain)
        if size <= embed_docs:
            with console.status(f"adding {size} documents (MiniLM vectors)"):
                rows.append(_add(root / "home", f"vectors{size}", folder, embedder, count_tokens))
    for size in sorted(set(sizes)):
        if size <= embed_docs:
            continue
        done = [r for r in rows if r["vectors"] and r["documents"] <= embed_docs]
        plain = next(r for r in rows if not r["vectors"] and r["documents"] == size)
        if not done:
            continue  # nothing embedded to extrapolate from (--embed-docs 0)
        embedded = max(done, key=lambda r: r["documents"])
        base = next(r for r in rows if not r["vectors"] and r["documents"] == embedded["documents"])
        embed_s_per_chunk = (embedded["seconds"] - base["seconds"]) / embedded["chunks"]
        seconds = plain["seconds"] + embed_s_per_chunk * plain["chunks"]
        rows.append(
            plain
            | {
                "vectors": True,
                "measured": False,
                "extrapolated_from": embedded["documents"],
                "passages_per_chunk": embedded["passages_per_chunk"],
                "seconds": seconds,
                "mb_per_s": plain["mb"] / seconds,
                "chunks_per_s": plain["chunks"] / seconds,
                "disk_mb": None,
            }
        )
    return rows


def print_tables(console: Any, ingest: list[dict[str, Any]], ranking: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(
        "docs", "vectors", "chunks", "tokens", "MB", "s", "MB/s", "chunks/s", "disk MB", "",
        title="ingest (Library.add)",
    )  # fmt: skip
    for row in sorted(ingest, key=lambda r: (r["documents"], r["vectors"])):
        how = "measured" if row["measured"] else f"EXTRAPOLATED from {row['extrapolated_from']}"
        vectors = f"{row['passages_per_chunk']:.1f}/chunk" if row["vectors"] else "none"
        disk = "" if row["disk_mb"] is None else f"{row['disk_mb']:.1f}"
        table.add_row(
            str(row["documents"]), vectors, f"{row['chunks']:,}", f"{row['tokens']:,}",
            f"{row['mb']:.1f}", f"{row['seconds']:.1f}", f"{row['mb_per_s']:.3f}",
            f"{row['chunks_per_s']:.1f}", disk, how,
        )  # fmt: skip
    console.print(table)
    table = Table(
        "chunks", "vectors", "search", "p50 ms", "p95 ms", "write s", "index s",
        title="ranking latency, whole library (SYNTHETIC chunks and vectors, real queries)",
    )  # fmt: skip
    for row in ranking:
        index = "" if row["index_s"] is None else f"{row['index_s']:.0f}"
        table.add_row(
            f"{row['chunks']:,}", f"{row['vectors_per_chunk']}/chunk", row["search"],
            f"{row['p50_ms']:.0f}", f"{row['p95_ms']:.0f}",
            f"{row['write_s'] + row['optimize_s']:.0f}", index,
        )  # fmt: skip
    console.print(table)
