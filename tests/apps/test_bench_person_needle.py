"""The one-person story, gkamradt's needle, and DOS-RAG's reading in document order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from longagent.apps.bench.natural_data import contains_answer, is_correct
from longagent.apps.bench.needle import (
    ESSAYS,
    NEEDLE,
    QUESTION,
    make_needle_context,
    make_needle_suite,
)
from longagent.apps.bench.person import make_person
from longagent.apps.bench.suites import run_suite
from longagent.apps.bench.systems import dos_rag, dos_rag_context, truncation
from longagent.chunking import Chunk, Document, split
from longagent.llm import ScriptedModel


def words(text: str) -> int:
    return len(text.split())


def test_the_person_story_is_seeded_and_about_twenty_thousand_tokens() -> None:
    story, questions = make_person(words, seed=3)
    assert (story, questions) == make_person(words, seed=3)
    assert story != make_person(words, seed=4)[0]
    assert 19_000 <= words(story) <= 21_000


def test_the_persons_name_is_in_every_chunk() -> None:
    story, questions = make_person(words, seed=1)
    first = questions[0].question.split(" call ")[0].removeprefix("What did ")
    chunks = split(Document.create(story), words, 256)
    assert len(chunks) > 50 and all(first in c.text for c in chunks)


def test_each_person_question_has_its_evidence_once_and_absent_ones_are_absent() -> None:
    story, questions = make_person(words, seed=2)
    lookups = [q for q in questions if q.kind == "lookup"]
    assert len(lookups) >= 10 and len(questions) - len(lookups) >= 3
    for q in lookups:
        (evidence,) = q.evidence
        assert story.count(evidence) == 1
        assert any(contains_answer(evidence, a) for a in q.answers)
        # the answer is only in that event: filler never gives it away
        assert all(story.count(a) == 1 for a in q.answers), q.id
    for q in questions:
        if q.kind == "absent":
            assert not any(w.lower() in story.lower() for w in q.not_in_document), q.id


@pytest.mark.parametrize("depth", [0.0, 0.3, 0.5, 1.0])
def test_the_needle_lands_at_its_depth_on_a_sentence_break(depth: float) -> None:
    context = make_needle_context(words, 4096, depth)
    at = context.index(NEEDLE)
    assert abs(at / len(context) - depth) < 0.02
    if depth < 1:
        assert at == 0 or context[at - 1] == "."  # after the end of a sentence, as it does
    else:
        assert context.endswith(NEEDLE)  # 100% appends it
    assert 4096 - 200 - 2 <= words(context) <= 4096 - 200 + 2  # its 200-token buffer


def test_the_needle_suite_is_its_default_needle_and_question_at_each_length() -> None:
    suite = make_needle_suite(words, (4096, 8192), (0.0, 0.5))
    assert len(suite) == 4 and (ESSAYS.parent / "LICENSE.txt").exists()
    for q, text, length, _ in suite:
        assert q.question == QUESTION == "What is the best thing to do in San Francisco?"
        assert NEEDLE.strip() in text and length - 202 <= words(text) <= length - 198
    q = suite[0][0]
    assert is_correct(q, "Eat a sandwich and sit in Dolores Park on a sunny day.", True)
    assert not is_correct(q, "Visit the Golden Gate Bridge.", True)


def chunk(index: int, text: str, tokens: int) -> Chunk:
    start = index * 1000
    return Chunk(
        id=str(index),
        document_id="d",
        index=index,
        start=start,
        end=start + len(text),
        text=text,
        token_count=tokens,
    )


def test_dos_rag_reads_the_best_passages_that_fit_in_document_order() -> None:
    ranked = [chunk(7, "seventh", 50), chunk(2, "second", 50), chunk(5, "fifth", 80)]
    ranked += [chunk(0, "zeroth", 20)]
    # 7 and 2 fit (100), 5 does not (180 > 120), 0 still does (120)
    assert dos_rag_context(ranked, 120) == "zeroth\n\nsecond\n\nseventh"
    assert dos_rag_context([chunk(3, "big", 500)], 120) == "big"  # never empty


@pytest.mark.slow  # loads MiniLM (about 20 s on a busy machine)
def test_dos_rag_on_the_real_embedder_keeps_document_order_in_its_one_call() -> None:
    topics = [
        "The harbour master logs every ship that enters the bay at dawn.",
        "Bees collect nectar from clover and store honey in wax combs.",
        "The harbour master rings a bell when the tide turns in the bay.",
        "Glaciers carve valleys slowly over thousands of years.",
    ]
    document = "\n\n".join(" ".join([t] * 6) for t in topics)
    model = ScriptedModel(lambda request: "He rings a bell.", context_window=4096)
    ask = dos_rag(model, budget_tokens=140, passage_tokens=70)
    text, found = ask(document, "What does the harbour master do when the tide turns?")
    assert (text, found) == ("He rings a bell.", True) and model.calls == 1
    prompt = model.requests[0].messages[-1].content
    # both harbour passages were read, the earlier one first; bees and glaciers were not
    assert prompt.index("logs every ship") < prompt.index("rings a bell")
    assert "Bees" not in prompt and "Glaciers" not in prompt


def test_person_suite_runs_through_the_runner(tmp_path: Path) -> None:
    model = ScriptedModel(lambda request: "not found", context_window=4096)
    results = run_suite(model, "person", {"truncate": truncation}, tmp_path, split=None)
    outcomes = [r["outcome"] for r in results["truncate"]]
    assert outcomes.count("refused-absent") == 3 and outcomes.count("not-found") == 12
    assert json.loads((tmp_path / "qa-person.json").read_text())["summary"]["truncate"]["n"] == 15


def test_bench_qa_seed_draws_another_person_story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from longagent.apps.cli import run

    model = ScriptedModel(lambda request: "not found", context_window=4096)
    monkeypatch.setattr("longagent.llm.load_model", lambda *a, **k: model)
    args = ["bench", "qa", "--suite", "person", "--split", "test", "--systems", "truncate"]
    assert run([*args, "--seed", "3", "--out-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "qa-person.json").read_text())
    asked = [r["question"] for r in report["results"]["truncate"]]
    three = [q.question for q in make_person(model.count_tokens, seed=3)[1] if q.split == "test"]
    zero = [q.question for q in make_person(model.count_tokens)[1] if q.split == "test"]
    assert report["seed"] == 3 and asked == three != zero


def test_needle_suite_scores_the_key_phrase_and_draws_its_heatmap(tmp_path: Path) -> None:
    model = ScriptedModel(
        ["Eat a sandwich in Dolores Park.", "Visit the Golden Gate Bridge."] * 2,
        context_window=4096,
    )
    results = run_suite(
        model, "needle", {"truncate": truncation}, tmp_path, lengths=(1024, 2048), depths=(0.0, 1.0)
    )
    outcomes = [(r["length"], r["depth"], r["outcome"]) for r in results["truncate"]]
    assert outcomes == [
        (1024, 0.0, "correct"),
        (1024, 1.0, "wrong-but-found"),
        (2048, 0.0, "correct"),
        (2048, 1.0, "wrong-but-found"),
    ]
    assert (tmp_path / "qa-needle-heatmap-truncate.png").stat().st_size > 1000


def test_the_synthetic_table_counts_wrong_but_found_apart() -> None:
    from rich.console import Console

    from longagent.apps.bench.qa import summary_table

    base = {"kind": "single", "length": 1024, "seconds": 1.0, "model_calls": 1}
    base |= {"prompt_tokens": 10, "completion_tokens": 2}
    records = [
        base | {"found": True, "correct": True},
        base | {"found": True, "correct": False},
        base | {"found": False, "correct": False},
        base | {"found": False, "correct": False},
    ]
    console = Console(width=200, record=True)
    console.print(summary_table("x", records))
    row = next(line for line in console.export_text().splitlines() if "single" in line)
    assert [c.strip() for c in row.split("│")[2:4]] == [
        "25%",
        "25%",
    ]  # accuracy, then wrong-but-found
