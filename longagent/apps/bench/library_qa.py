"""`longagent bench library_qa`: questions over a whole library vs over their own document.

Generates `docs` short documents (about `tokens` tokens of prose each, ~2 KB), plants one
fact ("P was born in the town of T.") in `facts` of them, spread evenly; every other
document holds a decoy of the same shape about someone else. All are added to a fresh
library (MiniLM vectors, chunks sized by the model's tokenizer). Each fact's question is
then asked twice: over the whole library (`LongAgent.ask(library, q)`) and over its own
document alone. `absent` more questions ask about people in no document (right answer:
not found), over the library only. Each answer is correct, wrong but found, or not found;
a library answer counts as correct only when its citation names the planted document.
Each fact also records where its document ranks in `Library.search` (the fused ranking)
and whether it is among the chunks the library question reads (`library_qa.find`).
Prints a table and writes bench-results/library_qa.json. Set LONGAGENT_THREADS=1 on a
shared machine.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

OUTCOMES = ("correct", "wrong", "not found")
SEARCH_DEPTH = 50  # how deep the planted document's rank is looked for


def make_library_documents(
    folder: Path, docs: int, facts: int, tokens: int, count_tokens: Any
) -> tuple[list[Path], list[dict[str, Any]]]:
    """The documents, and per planted fact: its question, answer and document's path."""
    from longagent.apps.bench.qa_data import Kind, make_sample

    folder.mkdir(parents=True, exist_ok=True)
    step = max(1, docs // max(1, facts))
    planted = {i * step for i in range(min(facts, docs))}
    paths, questions = [], []
    for i in range(docs):
        kind: Kind = "single" if i in planted else "absent"  # "absent": a decoy of another
        sample = make_sample(kind, tokens, 0.5, i, count_tokens)
        path = folder / f"doc{i:03d}.txt"
        path.write_text(sample.document + "\n")
        paths.append(path)
        if kind == "single":
            questions.append(
                {"question": sample.question, "answers": sample.answers, "path": str(path)}
            )
    return paths, questions


def _outcome(answer: Any, answers: list[str], path: str | None) -> str:
    if not answer.found:
        return "not found"
    right = any(a.lower() in answer.text.lower() for a in answers)
    cited = path is None or any(c.path == str(Path(path).resolve()) for c in answer.citations)
    return "correct" if right and cited else "wrong"


def main(
    docs: int = typer.Option(50, help="Documents in the library."),
    facts: int = typer.Option(10, help="Documents holding a fact to ask about (one each)."),
    absent: int = typer.Option(2, help="Questions about people in no document."),
    tokens: int = typer.Option(450, help="Length of each document in tokens (~2 KB at 450)."),
    model: str = typer.Option(None, "--model", "-m", help="Model spec (default: bundled)."),
    out: Path = typer.Option(Path("bench-results/library_qa.json"), help="Where the JSON goes."),
) -> None:
    from longagent.apps import checks

    checks.at_least("--docs", docs, 1)
    checks.at_most("--docs", docs, 10_000)
    checks.at_least("--facts", facts, 1)
    checks.at_most("--facts", facts, docs)
    checks.at_least("--absent", absent, 0)
    checks.at_least("--tokens", tokens, 64)
    checks.at_most("--tokens", tokens, 100_000)
    checks.model_spec(model)
    checks.writable_file(out, "--out")

    from rich.console import Console
    from rich.table import Table

    from longagent.agents import LongAgent
    from longagent.agents.library_qa import find
    from longagent.apps.bench.qa_data import make_sample
    from longagent.apps.library_cmd import _embedder
    from longagent.config import get_settings
    from longagent.llm import load_model
    from longagent.memory.library import Library

    settings = get_settings()
    console = Console()
    with console.status("loading the model and the embedder"):
        chat_model = load_model(model)
        embedder = _embedder(settings)
        embedder.embed(["warm up"])
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-library-qa-") as tmp:
        paths, questions = make_library_documents(
            Path(tmp) / "docs", docs, facts, tokens, chat_model.count_tokens
        )
        library = Library(
            Path(tmp) / "home",
            "bench",
            embedder=embedder,
            count_tokens=chat_model.count_tokens,
            settings=settings,
        )
        with console.status(f"adding {docs} documents"):
            report = library.add(paths)
        console.print(f"[dim]library: {report.summary()}[/]")
        for n in range(absent):  # people in no document: a fresh name from another seed
            sample = make_sample("absent", 64, 0.5, 10_000 + n, chat_model.count_tokens)
            questions.append({"question": sample.question, "answers": [], "path": None})
        wave = LongAgent(chat_model).profile.wave  # the chunks a library question reads
        for item in questions:
            targets: list[tuple[str, Any]] = [("library", library)]
            if item["path"] is not None:
                targets.append(("own document", Path(item["path"])))
            rank = read = None  # the planted document's place: fused ranking, chunks read
            if item["path"] is not None:
                planted = str(Path(item["path"]).resolve())
                hits = library.search(item["question"], SEARCH_DEPTH)
                rank = next((n for n, h in enumerate(hits, 1) if h.path == planted), None)
                reading = find(library, item["question"], wave)
                read = next((n for n, h in enumerate(reading, 1) if h.path == planted), None)
            for scope, target in targets:
                started = time.perf_counter()
                answer = LongAgent(chat_model).ask(target, item["question"])
                seconds = time.perf_counter() - started
                if item["path"] is None:
                    outcome = "correct" if not answer.found else "wrong"
                else:
                    path = item["path"] if scope == "library" else None
                    outcome = _outcome(answer, item["answers"], path)
                rows.append(
                    {
                        "scope": scope,
                        "kind": "absent" if item["path"] is None else "fact",
                        "question": item["question"],
                        "expected": item["answers"],
                        "answer": answer.text,
                        "found": answer.found,
                        "cited": [c.path or answer.document_id for c in answer.citations],
                        "outcome": outcome,
                        "search_rank": rank,
                        "read_rank": read,
                        "seconds": seconds,
                        "model_calls": answer.usage.model_calls,
                    }
                )
                where = ""
                if scope == "library" and item["path"] is not None:
                    where = f"fused rank {rank}, read {read or 'no'}"
                console.print(
                    f"[dim]{scope:12} {outcome:9} {seconds:5.1f} s  {item['question']} "
                    f"-> {answer.text!r} {where}[/]"
                )
    table = Table(
        "questions", "scope", "n", *OUTCOMES, "s/question", "model calls/q", "planted read"
    )
    summary = []
    for kind, scope in (("fact", "library"), ("fact", "own document"), ("absent", "library")):
        chosen = [r for r in rows if r["kind"] == kind and r["scope"] == scope]
        if not chosen:
            continue
        counts = {o: sum(r["outcome"] == o for r in chosen) for o in OUTCOMES}
        if kind == "absent":  # right is "not found"; a found answer is wrong
            counts = {"correct": 0, "wrong": counts["wrong"], "not found": counts["correct"]}
        per_q = sum(r["seconds"] for r in chosen) / len(chosen)
        calls = sum(r["model_calls"] for r in chosen) / len(chosen)
        top = ""
        if scope == "library" and kind == "fact":
            top = f"{sum(r['read_rank'] is not None for r in chosen)}/{len(chosen)}"
        summary.append({"kind": kind, "scope": scope, "n": len(chosen), **counts, "s": per_q})
        table.add_row(
            kind, scope, str(len(chosen)), *(str(counts[o]) for o in OUTCOMES),
            f"{per_q:.1f}", f"{calls:.1f}", top,
        )  # fmt: skip
    console.print(table)
    load = os.getloadavg()
    meta = {
        "docs": docs,
        "facts": facts,
        "tokens": tokens,
        "model": chat_model.name,
        "threads": settings.threads,
        "cpus": os.cpu_count(),
        "load_average": load,
        "machine": platform.machine(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, "summary": summary, "rows": rows}, indent=2))
    console.print(f"[dim]threads {settings.threads}, load average {load[0]:.1f}; wrote {out}[/]")
