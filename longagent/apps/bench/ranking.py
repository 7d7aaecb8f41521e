"""`longagent bench ranking`: does the search read the passage that holds the answer?

For each lookup of the natural suite, the document's passages are ranked for the question
as the search ranks them (BM25 fused with MiniLM, `agents/ranking.py`) and read in that
order; a hit at k means a passage among the first k readings holds the question's gold
evidence sentence. No language model runs: this measures the ranking alone, separately
from whether a reader can answer from the passage. Prints a table and writes
bench-results/ranking.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import typer

DEPTHS = (4, 12, 30)  # the first search wave, both waves (profile search_waves), deeper


def main(
    split: str = typer.Option(
        "dev", help="natural split: 'dev', 'test', 'blind' to 'blind13', or 'all'."
    ),
    chunk_tokens: int = typer.Option(512, min=32, help="Member chunk size in tokens."),
    out_dir: Path = typer.Option(Path("bench-results"), help="Where ranking.json goes."),
) -> None:
    from rich.console import Console
    from rich.table import Table

    from longagent.agents.ranking import PassageIndex, readings
    from longagent.apps import checks
    from longagent.apps.bench.natural_data import Split, document_text, load_questions
    from longagent.apps.library_cmd import token_counter
    from longagent.chunking import Document
    from longagent.chunking import split as split_document
    from longagent.config import Settings
    from longagent.memory.embedder import MiniLMEmbedder

    checks.one_of("--split", split, (*get_args(Split), "all"))
    checks.writable_dir(out_dir, "--out-dir")
    count_tokens = token_counter(Settings())
    embedder = MiniLMEmbedder()
    indexes: dict[str, PassageIndex] = {}
    records: list[dict[str, Any]] = []
    for question in load_questions(None if split == "all" else split):  # type: ignore[arg-type]
        if question.kind != "lookup":
            continue
        if question.document not in indexes:
            document = Document.create(document_text(question.document))
            chunks = split_document(document, count_tokens, chunk_tokens)
            indexes[question.document] = PassageIndex(chunks, embedder)
        index = indexes[question.document]
        read = [" ".join(index.text(p).split()) for p in readings(index, question.question)]
        evidence = [" ".join(e.split()) for e in question.evidence]
        position = next((i for i, t in enumerate(read) if any(e in t for e in evidence)), None)
        records.append({"id": question.id, "position": position, "passages": len(read)})
    table = Table(title=f"search ranking on natural {split}: gold evidence among the first k")
    table.add_column("lookups", justify="right")
    for k in DEPTHS:
        table.add_column(f"k={k}", justify="right")
    n = len(records)
    hits = {
        k: sum(r["position"] is not None and r["position"] < k for r in records) for k in DEPTHS
    }
    table.add_row(str(n), *(f"{hits[k]} ({100 * hits[k] / max(n, 1):.0f}%)" for k in DEPTHS))
    Console().print(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ranking.json").write_text(
        json.dumps(
            {"split": split, "chunk_tokens": chunk_tokens, "hits": hits, "records": records},
            indent=1,
        )
    )
