"""`longagent bench qa --suite natural|person|needle`: suites of questions we did not write
around our own code, scored per outcome.

For every system the table separates the outcomes that matter: correct; refused-absent
("not found" on a question whose answer is not in the document); wrong-but-found (the
system said it found an answer and the answer is wrong, the worst outcome); not-found on
a lookup (a miss, but an honest one). Every answer goes to bench-results/qa-SUITE.json.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from longagent.apps.bench.natural_data import (
    NaturalQuestion,
    Split,
    document_text,
    evidence_span,
    is_correct,
    load_questions,
)
from longagent.apps.bench.qa import ask_each, run_systems, write_results
from longagent.apps.bench.qa_data import NOT_FOUND
from longagent.llm import ChatModel

Suite = Literal["natural", "person", "needle"]
SUITES: tuple[Suite, ...] = ("natural", "person", "needle")


@dataclass(frozen=True)
class Item:
    question: NaturalQuestion
    text: str  # the document as the systems read it
    length: int | None = None
    depth: float | None = None


def make_items(
    suite: Suite,
    count_tokens: Any,
    *,
    split: Split | None = "dev",
    lengths: tuple[int, ...] | None = None,
    depths: tuple[float, ...] | None = None,
    seed: int = 0,
) -> list[Item]:
    """The suite's questions with their documents. `split` filters natural and person
    questions (None = all); needle uses `lengths` and `depths` (its defaults if None)."""
    if suite == "natural":
        return [Item(q, document_text(q.document)) for q in load_questions(split)]
    if suite == "person":
        from longagent.apps.bench.person import make_person

        story, questions = make_person(count_tokens, seed=seed)
        return [Item(q, story) for q in questions if split is None or q.split == split]
    from longagent.apps.bench.needle import DEPTHS, LENGTHS, make_needle_suite

    return [
        Item(q, text, length, depth)
        for q, text, length, depth in make_needle_suite(
            count_tokens, lengths or LENGTHS, depths or DEPTHS
        )
    ]


def gold_items(items: list[Item], count_tokens: Any, chunk_tokens: int) -> list[Item]:
    """Each item's document cut to what a perfect search would hand a reader: the chunks
    (split as LongAgent splits, `chunk_tokens` each) that hold the question's evidence, or
    for an absent question the chunk most like the question (MiniLM), its likeliest
    passage. Every system then reads only that: the reading ceiling, retrieval left out."""
    from longagent.apps.bench.systems import Passages

    passages = Passages(count_tokens, chunk_tokens, keep=len(items) or 1)
    gold = []
    for item in items:
        question = item.question
        if question.kind == "lookup":
            spans = [evidence_span(item.text, e) for e in question.evidence]
            found = [span for span in spans if span is not None]
            if not found or len(found) < len(spans):
                raise ValueError(f"{question.id}: its evidence is not in its document")
            held = [
                c
                for c in passages.chunks(item.text)
                if any(c.start < end and start < c.end for start, end in found)
            ]
        else:
            held = passages.ranked(item.text, question.question)[:1]
        gold.append(replace(item, text="\n\n".join(c.text for c in held)))
    return gold


def outcome(question: NaturalQuestion, text: str, found: bool | None) -> str:
    """One of: correct, refused-absent, wrong-but-found, not-found (a refused lookup),
    wrong-not-found (neither claimed nor right: a lookup answered without a claim)."""
    claimed = found if found is not None else NOT_FOUND not in text.lower()
    if question.kind == "absent":
        return "refused-absent" if is_correct(question, text, found) else "wrong-but-found"
    if is_correct(question, text, found):
        return "correct"
    return "wrong-but-found" if claimed else "not-found"


def run_items(
    ask: Any, items: list[Item], metered: Any, progress: Any = None, task: Any = None
) -> list[dict[str, Any]]:
    def read(item: Item) -> tuple[str, str, dict[str, Any]]:
        q = item.question
        fields = {
            "id": q.id,
            "document": q.document,
            "split": q.split,
            "kind": q.kind,
            "length": item.length,
            "depth": item.depth,
            "question": q.question,
            "answers": q.answers,
        }
        return item.text, q.question, fields

    def judge(item: Item, answer: dict[str, Any]) -> dict[str, Any]:
        result = outcome(item.question, answer["text"], answer["found"])
        return {
            "outcome": result,
            "correct": result in ("correct", "refused-absent"),
            "wrong_but_found": result == "wrong-but-found",
        }

    return ask_each(ask, metered, items, read, judge, progress, task)


def counts(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The numbers one table row shows, for any group of records."""
    n = len(records)
    by = {
        o: sum(r["outcome"] == o for r in records)
        for o in ("correct", "refused-absent", "wrong-but-found", "not-found")
    }
    return {
        "n": n,
        "correct": by["correct"] + by["refused-absent"],
        "refused_absent": by["refused-absent"],
        "wrong_but_found": by["wrong-but-found"],
        "not_found_lookup": by["not-found"],
        "seconds": sum(r["seconds"] for r in records) / max(n, 1),
        "calls": sum(r["model_calls"] for r in records) / max(n, 1),
        "tokens": sum(r["prompt_tokens"] + r["completion_tokens"] for r in records) / max(n, 1),
    }


def summary_table(system: str, suite: str, records: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title=f"{system} on {suite}")
    for name in ("kind", "n", "correct", "refused-absent", "wrong-but-found", "not-found (lookup)"):
        table.add_column(name, justify="left" if name == "kind" else "right")
    for name in ("s/question", "calls/q", "tokens/q"):
        table.add_column(name, justify="right")

    def cell(value: int, n: int) -> str:
        return f"{value} ({100 * value / n:.0f}%)" if n else "-"

    groups = [(kind, [r for r in records if r["kind"] == kind]) for kind in ("lookup", "absent")]
    for kind, rows in [*groups, ("all", records)]:
        if not rows:
            continue
        c = counts(rows)
        table.add_row(
            kind,
            str(c["n"]),
            cell(c["correct"], c["n"]),
            cell(c["refused_absent"], c["n"]) if kind != "lookup" else "-",
            cell(c["wrong_but_found"], c["n"]),
            cell(c["not_found_lookup"], c["n"]) if kind != "absent" else "-",
            f"{c['seconds']:.1f}",
            f"{c['calls']:.1f}",
            f"{c['tokens']:.0f}",
        )
    return table


def run_suite(
    model: ChatModel,
    suite: Suite,
    systems: dict[str, Any],
    out_dir: Path,
    *,
    split: Split | None = "dev",
    limit: int | None = None,
    lengths: tuple[int, ...] | None = None,
    depths: tuple[float, ...] | None = None,
    seed: int = 0,
    gold_chunk_tokens: int | None = None,
    console: Any = None,
) -> dict[str, list[dict[str, Any]]]:
    """Ask every item of the suite with every system (`name -> ask`) over the metered
    `model`; print a table per system; write answers to OUT_DIR/qa-SUITE.json. `seed`
    draws the person story. With `gold_chunk_tokens`, each system reads only the chunk of
    that size holding the answer (`gold_items`), and answers go to qa-SUITE-gold.json."""
    from rich.console import Console

    from longagent.llm.usage import MeteredModel

    console = console or Console()
    metered = model if isinstance(model, MeteredModel) else MeteredModel(model)
    items = make_items(
        suite, metered.count_tokens, split=split, lengths=lengths, depths=depths, seed=seed
    )
    items = items[:limit] if limit else items
    if gold_chunk_tokens:
        items = gold_items(items, metered.count_tokens, gold_chunk_tokens)
    results = run_systems(systems, metered, items, run_items, console)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, records in results.items():
        console.print(summary_table(name, suite, records))
    if suite == "needle" and results:
        from longagent.apps.bench.qa import heatmap

        for name, records in results.items():
            heatmap(name, records, out_dir / f"qa-needle-heatmap-{name}.png")
    header = {
        "suite": suite,
        "split": split,
        **({"seed": seed} if suite == "person" else {}),
        "model": metered.name,
        "limit": limit,
        "gold_chunk_tokens": gold_chunk_tokens,
        "summary": {name: counts(records) for name, records in results.items()},
    }
    name = f"qa-{suite}-gold.json" if gold_chunk_tokens else f"qa-{suite}.json"
    write_results(out_dir / name, header, results, console)
    return results
