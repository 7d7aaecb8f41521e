"""Memory store benchmark: insert rate and search latency (p50/p95) per store size.

Embedding 100K texts with MiniLM on a few CPU cores takes far too long for a benchmark,
so `real` distinct texts get real MiniLM embeddings and the rest of each store is random
unit vectors paired with random texts. Search cost does not depend on where a vector came
from; queries are real embedded texts. Query embedding is timed on its own and excluded
from the search latencies.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from pathlib import Path

_WORDS = [
    "river",
    "mountain",
    "engine",
    "contract",
    "budget",
    "garden",
    "protein",
    "orbit",
    "ledger",
    "violin",
    "harbor",
    "tariff",
    "glacier",
    "neuron",
    "sermon",
    "pigment",
    "vaccine",
    "canyon",
    "ballot",
    "satellite",
    "copper",
    "treaty",
    "bakery",
    "circuit",
    "fossil",
    "lantern",
    "migraine",
    "opera",
    "pension",
    "quartz",
    "rocket",
    "saddle",
    "thunder",
    "tunnel",
    "umbrella",
    "vendor",
    "walnut",
    "yacht",
    "zebra",
    "anchor",
    "blanket",
    "cathedral",
    "dragon",
    "falcon",
    "gallery",
    "hammer",
    "island",
    "jungle",
    "kettle",
    "lemon",
    "magnet",
    "needle",
    "oyster",
    "parrot",
    "quilt",
    "ribbon",
    "spider",
    "timber",
    "unicorn",
    "velvet",
    "whistle",
]
_VERBS = [
    "found",
    "moved",
    "signed",
    "painted",
    "repaired",
    "sold",
    "measured",
    "bought",
    "studied",
    "carried",
]
_PEOPLE = ["Ines", "Maria", "Tomas", "Aiko", "Kwame", "Priya", "Lars", "Chen", "Noor", "Diego"]


def _sentence(rng: random.Random) -> str:
    words = rng.sample(_WORDS, 4)
    return (
        f"{rng.choice(_PEOPLE)} {rng.choice(_VERBS)} the {words[0]} near the {words[1]} "
        f"in {rng.randint(1900, 2030)}, then the {words[2]} and the {words[3]} "
        f"(note {rng.randint(0, 10**6)})."
    )


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def main(
    sizes: str = "10000,100000",
    queries: int = 200,
    real: int = 2000,
    batch: int = 1000,
    ann: bool = False,
    out: Path = Path("bench-results/memory.json"),
) -> None:
    """Insert rows/s and vector, full-text and hybrid search latency per store size.

    With --ann the store builds an IVF-PQ vector index (else vector search is exact);
    recall@10 of vector search against exact numpy search is reported either way."""
    from longagent.apps import checks

    size_list = checks.int_list("--sizes", sizes, low=1)
    checks.at_least("--queries", queries, 1)
    checks.at_least("--real", real, 1)
    checks.at_least("--batch", batch, 1)
    checks.writable_file(out, "--out")
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from longagent.memory import ArchivalEntry, MemoryStore, MiniLMEmbedder

    console = Console()
    if console.width < 120:  # a pipe or a narrow terminal: keep the table on one line each
        console = Console(width=120)
    rng = random.Random(0)
    nprng = np.random.default_rng(0)
    embedder = MiniLMEmbedder()

    real = min(real, max(size_list))
    real_texts = [_sentence(rng) for _ in range(real)]
    started = time.perf_counter()
    real_vectors = embedder.embed(real_texts)
    embed_rate = real / (time.perf_counter() - started)
    query_texts = [_sentence(rng) for _ in range(queries)]
    embed_times = []
    query_vectors = []
    for text in query_texts:
        t0 = time.perf_counter()
        query_vectors.append(embedder.embed([text])[0])
        embed_times.append(time.perf_counter() - t0)
    console.print(
        f"{real} texts embedded with {embedder.name} ({embed_rate:.0f} texts/s); "
        "the rest of each store is random unit vectors with random texts."
    )

    results = []
    for size in size_list:
        with tempfile.TemporaryDirectory(prefix="longagent-bench-memory-") as home:
            store = MemoryStore(home, embedder)
            insert_seconds = 0.0
            all_ids: list[str] = []
            all_vectors: list[np.ndarray] = []
            for start in range(0, size, batch):
                n = min(batch, size - start)
                texts, vectors = [], []
                for i in range(start, start + n):
                    if i < real:
                        texts.append(real_texts[i])
                        vectors.append(real_vectors[i])
                    else:
                        texts.append(_sentence(rng))
                        v = nprng.standard_normal(embedder.dim).astype(np.float32)
                        vectors.append(v / np.linalg.norm(v))
                tags = [rng.choice(("family", "work", "travel", "health")) for _ in range(n)]
                records = [
                    ArchivalEntry(text=t, tags=[tag], source="bench")
                    for t, tag in zip(texts, tags, strict=True)
                ]
                stacked = np.stack(vectors)
                t0 = time.perf_counter()
                all_ids += store.archival.add(records, vectors=stacked)
                insert_seconds += time.perf_counter() - t0
                all_vectors.append(stacked)
            if ann:  # trained once, on the full table, by this optimize (timed with it)
                store.vector_index_rows = size
            t0 = time.perf_counter()
            store.optimize()  # fold the tail into the indexes before timing searches
            optimize_seconds = time.perf_counter() - t0

            row: dict[str, float | int] = {
                "entries": size,
                "insert_rows_per_s": size / insert_seconds,
                "optimize_s": optimize_seconds,
            }
            matrix = np.concatenate(all_vectors)
            found = 0
            for text, vector in zip(query_texts, query_vectors, strict=True):
                exact = {all_ids[i] for i in np.argsort(-(matrix @ vector))[:10]}
                hits = store.archival.search(text, mode="vector", vector=vector, limit=10)
                found += len(exact & {h.record.id for h in hits})
            row["vector_recall_at_10"] = found / (10 * len(query_texts))
            for mode in ("vector", "fts", "hybrid"):
                times = []
                for text, vector in zip(query_texts, query_vectors, strict=True):
                    t0 = time.perf_counter()
                    store.archival.search(text, mode=mode, vector=vector, limit=10)  # type: ignore[arg-type]
                    times.append(time.perf_counter() - t0)
                row[f"{mode}_p50_ms"], row[f"{mode}_p95_ms"] = _percentiles(times)
            times = []
            for text, vector in zip(query_texts, query_vectors, strict=True):
                t0 = time.perf_counter()
                store.archival.search(text, vector=vector, tags=["work"], limit=10, offset=10)
                times.append(time.perf_counter() - t0)
            row["hybrid_filtered_p50_ms"], row["hybrid_filtered_p95_ms"] = _percentiles(times)
            results.append(row)
            console.print(f"{size} entries done")

    table = Table(title="memory store (LanceDB, archival tier, limit 10)")
    for column in (
        "entries",
        "insert rows/s",
        "optimize s",
        "vector recall@10",
        "vector p50/p95 ms",
        "fts p50/p95 ms",
        "hybrid p50/p95 ms",
        "hybrid+tag, page 2 p50/p95 ms",
    ):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(
            f"{r['entries']:,}",
            f"{r['insert_rows_per_s']:,.0f}",
            f"{r['optimize_s']:.2f}",
            f"{r['vector_recall_at_10']:.3f}",
            *(
                f"{r[f'{m}_p50_ms']:.1f} / {r[f'{m}_p95_ms']:.1f}"
                for m in ("vector", "fts", "hybrid", "hybrid_filtered")
            ),
        )
    console.print(table)
    embed_p50, embed_p95 = _percentiles(embed_times)
    console.print(
        f"query embedding ({embedder.name}, CPU), not included above: "
        f"p50 {embed_p50:.1f} ms, p95 {embed_p95:.1f} ms"
    )

    out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "memory",
        "note": (
            f"{real} texts embedded with {embedder.name}; the rest random unit vectors "
            "with random texts. Latencies exclude query embedding. "
            + ("IVF-PQ vector index" if ann else "Exact vector search (no ANN index)")
            + "; FTS is LanceDB's native inverted index; hybrid is RRF of the two."
        ),
        "queries": queries,
        "ann": ann,
        "batch": batch,
        "embed_texts_per_s": embed_rate,
        "query_embed_p50_ms": embed_p50,
        "query_embed_p95_ms": embed_p95,
        "results": results,
    }
    out.write_text(json.dumps(report, indent=2))
    console.print(f"wrote {out}")
