"""`longagent bench shapes`: list and overview questions over five real documents (a
man page each for grep, find and wget, Python's regex HOWTO in HTML, less's manual as a
PDF), answered by LongAgent and by DOS-RAG side by side.

These answers have no gold to score against: the table shows each answer, its shape,
how many citations back it and whether each cited span is verbatim in the document, so a
reader can judge whether it is on topic. Writes bench-results/shapes.json and a Markdown
table (shapes.md) that the README quotes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

DOCUMENTS = ("grep.txt", "find.txt", "wget.txt", "regex-howto.html", "less.pdf")
# One list question per document, as a user of each would ask it, and one overview.
LIST_QUESTIONS = {
    "grep.txt": "Which options take a file name?",
    "find.txt": "Which tests compare file times?",
    "wget.txt": "Which options take a file name?",
    "regex-howto.html": "Which metacharacters are there?",
    "less.pdf": "Which commands move forward in the file?",
}
OVERVIEW = "What is this document about?"


def main(
    documents: str = typer.Option(",".join(DOCUMENTS), help="Comma-separated documents."),
    kinds: str = typer.Option("list,overview", help="Which questions: list, overview."),
    systems: str = typer.Option("longagent,dos-rag", help="longagent, dos-rag."),
    out_dir: Path = typer.Option(Path("bench-results"), help="Where shapes.json/.md go."),
) -> None:
    from rich.console import Console
    from rich.table import Table

    from longagent.agents import LongAgent
    from longagent.apps import checks
    from longagent.apps.bench.natural_data import document_text
    from longagent.apps.bench.systems import dos_rag
    from longagent.llm import load_model

    names = checks.names("--documents", documents, DOCUMENTS)
    asked = checks.names("--kinds", kinds, ("list", "overview"))
    chosen = checks.names("--systems", systems, ("longagent", "dos-rag"))
    checks.writable_dir(out_dir, "--out-dir")
    console = Console()
    model = load_model(None)
    agent = LongAgent(model)
    baseline = dos_rag(model)
    records: list[dict[str, Any]] = []
    out = out_dir / "shapes.json"
    for name in names:
        text = document_text(name)
        for kind in asked:
            question = LIST_QUESTIONS[name] if kind == "list" else OVERVIEW
            record: dict[str, Any] = {"document": name, "kind": kind, "question": question}
            if "longagent" in chosen:
                start = time.perf_counter()
                answer = agent.ask(text, question)
                record["longagent"] = {
                    "text": answer.text,
                    "found": answer.found,
                    "shape": answer.shape,
                    "citations": len(answer.citations),
                    "verbatim": sum(
                        " ".join(c.quote.split()) in " ".join(text.split())
                        for c in answer.citations
                    ),
                    "seconds": round(time.perf_counter() - start, 1),
                }
            if "dos-rag" in chosen:
                start = time.perf_counter()
                reply, found = baseline(text, question)
                record["dos-rag"] = {
                    "text": reply,
                    "found": found,
                    "seconds": round(time.perf_counter() - start, 1),
                }
            records.append(record)
            # Written after every answer: a long run stopped early keeps what it measured.
            out.write_text(json.dumps({"model": model.name, "results": records}, indent=1))
            console.print(f"{name} {kind}: done")
    table = Table(title="list and overview questions: LongAgent and DOS-RAG side by side")
    for column in ("document", "question", "LongAgent", "cited", "s", "DOS-RAG", "s "):
        table.add_column(column)
    lines = [
        "| document | question | LongAgent (shape) | cited (verbatim) | s | DOS-RAG | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        la, dr = r.get("longagent", {}), r.get("dos-rag", {})
        cited = f"{la.get('citations', '')} ({la.get('verbatim', '')})" if la else ""
        row = [
            r["document"],
            r["question"],
            f"{la.get('text', '')} ({la.get('shape', '')})" if la else "",
            cited,
            str(la.get("seconds", "")),
            dr.get("text", ""),
            str(dr.get("seconds", "")),
        ]
        table.add_row(*row)
        lines.append(
            "| " + " | ".join(c.replace("\n", " <br> ").replace("|", "\\|") for c in row) + " |"
        )
    console.print(table)
    (out_dir / "shapes.md").write_text("\n".join(lines) + "\n")
    console.print(f"answers: {out}")
