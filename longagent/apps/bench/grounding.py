"""`longagent bench grounding`: what the evidence check lets through, with no reader.

For each question of the natural suite, parsed as the pipeline parses it over the
document's real chunks (`relevance.in_document`), the verifier judges replies that need
no model:
- a **perfect reply** to a lookup: the first gold answer, quoting the gold evidence
  sentence, from the chunk that holds it. The share grounded is the most any reader could
  get answered: a "not found" for the rest comes from the check, not from the reading;
- every sentence of the document **restated as a reply** (answer and quote the sentence,
  as the 135M reader often answers), from the chunks the verifier says could ground. For
  an absent question any that grounds is a wrong answer a reader could get marked found;
  for a lookup, one that holds no gold answer is. A question is "exposed" when at least
  one does;
- every **value of the kind the question asks for** (an option, a number, a path ...:
  `answer_types.new_values`) in those sentences, answered alone and quoting its
  sentence, as the reader answers a typed question: "exposed by a value" when one that
  is no gold answer grounds (recorded as `exposed_values`, value and sentence).
Prints a table per split and writes bench-results/grounding.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import typer


def main(
    split: str = typer.Option(
        "dev", help="natural split: 'dev', 'test', 'blind' to 'blind13', or 'all'."
    ),
    verifier: str = typer.Option(
        "lexical", help="Verifier: 'lexical' or 'semantic' (MiniLM reads every sentence)."
    ),
    chunk_tokens: int = typer.Option(512, min=32, help="Member chunk size in tokens."),
    out_dir: Path = typer.Option(Path("bench-results"), help="Where grounding.json goes."),
) -> None:
    from rich.console import Console
    from rich.progress import track
    from rich.table import Table

    from longagent import text
    from longagent.agents import answer_types
    from longagent.agents.member import ANSWER_CHARS, QUOTE_CHARS, MemberReply
    from longagent.agents.question import Question
    from longagent.agents.relevance import in_document
    from longagent.agents.verifier import get_verifier
    from longagent.apps import checks
    from longagent.apps.bench.natural_data import (
        Split,
        contains_answer,
        document_text,
        load_questions,
        squash,
    )
    from longagent.apps.library_cmd import token_counter
    from longagent.chunking import Chunk, Document
    from longagent.chunking import split as split_document
    from longagent.config import Settings

    checks.one_of("--split", split, (*get_args(Split), "all"))
    checks.one_of("--verifier", verifier, ("lexical", "semantic"))
    checks.writable_dir(out_dir, "--out-dir")
    judge = get_verifier(verifier)
    count_tokens = token_counter(Settings())
    documents: dict[str, list[Chunk]] = {}
    records: list[dict[str, Any]] = []

    def reply(answer: str, quote: str) -> MemberReply:
        cut = " ".join(quote.split())[:QUOTE_CHARS]
        kept = ""
        for word in answer.split():
            if len(f"{kept} {word}") > ANSWER_CHARS:
                break
            kept = f"{kept} {word}".strip()
        return MemberReply(answer=kept, quote=cut)

    questions = load_questions(None if split == "all" else split)  # type: ignore[arg-type]
    for q in track(questions, description="judging"):
        if q.document not in documents:
            document = Document.create(document_text(q.document))
            documents[q.document] = split_document(document, count_tokens, chunk_tokens)
        chunks = documents[q.document]
        asked = in_document(Question.parse(q.question), chunks)
        perfect = why = None
        if q.kind == "lookup":
            home = next(c for c in chunks if squash(q.evidence[0]) in squash(c.text))
            verdict = judge.check(reply(q.answers[0], q.evidence[0]), home.text, asked)
            perfect, why = verdict.verdict, verdict.reason
        exposed: list[str] = []
        exposed_values: list[tuple[str, str]] = []
        for chunk in chunks:
            if not judge.could_ground(chunk.text, asked):
                continue
            for start, end in text.sentences(chunk.text):
                sentence = " ".join(chunk.text[start:end].split())
                # A sentence holding a gold answer is the answer's own (its other values
                # are the answer's aliases: "-r, --no-builtin-rules").
                if len(text.words(sentence)) < 2 or any(
                    contains_answer(sentence, a, q.case_sensitive) for a in q.answers
                ):
                    continue
                if judge.check(reply(sentence, sentence), chunk.text, asked).verdict == "grounded":
                    exposed.append(sentence)
                for value in dict.fromkeys(answer_types.new_values(q.question, sentence)):
                    if judge.check(reply(value, sentence), chunk.text, asked).verdict == "grounded":
                        exposed_values.append((value, sentence))
        records.append(
            {
                "id": q.id,
                "split": q.split,
                "kind": q.kind,
                "perfect": perfect,
                "why": why,
                "exposed": exposed,
                "exposed_values": exposed_values,
            }
        )
    table = Table(title=f"{verifier} verifier on natural {split}: replies judged, no reader")
    columns = ("split", "lookups", "perfect reply grounded", "exposed", "by a value")
    for column in (*columns, "absent", "exposed", "by a value"):
        table.add_column(column, justify="left" if column == "split" else "right")
    for name in dict.fromkeys(r["split"] for r in records):
        rows = [r for r in records if r["split"] == name]
        lookups = [r for r in rows if r["kind"] == "lookup"]
        absent = [r for r in rows if r["kind"] == "absent"]
        table.add_row(
            name,
            str(len(lookups)),
            str(sum(r["perfect"] == "grounded" for r in lookups)),
            str(sum(bool(r["exposed"]) for r in lookups)),
            str(sum(bool(r["exposed_values"]) for r in lookups)),
            str(len(absent)),
            str(sum(bool(r["exposed"]) for r in absent)),
            str(sum(bool(r["exposed_values"]) for r in absent)),
        )
    Console().print(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"split": split, "verifier": verifier, "chunk_tokens": chunk_tokens}
    (out_dir / "grounding.json").write_text(json.dumps({**result, "records": records}, indent=1))
