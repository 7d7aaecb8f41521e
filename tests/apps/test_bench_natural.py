"""The natural-question suite's scoring and runs: it separates wrong-but-found from honest
misses, writes every answer, and its bench commands (ranking, grounding, gold reading) do
what they say. The question data itself is checked in test_natural_questions.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from longagent.apps.bench.natural_data import (
    NaturalQuestion,
    contains_answer,
    document_text,
    is_correct,
    load_questions,
    squash,
)
from longagent.apps.bench.suites import outcome, run_suite
from longagent.apps.bench.systems import truncation
from longagent.llm import ScriptedModel
from longagent.text import says_no_answer


@pytest.mark.parametrize(
    ("text", "answer", "case_sensitive", "found"),
    [
        ("Use --count.", "--count", False, True),
        ("Use --color.", "-c", False, False),  # not glued to another word
        ("The default is 20 tries.", "2", False, False),
        ("It exits with 2.", "2", False, True),
        ("grep_colors", "GREP_COLORS", False, True),
        ("Use -r.", "-R", True, False),  # option letters keep their case
        ("Use -R to follow links.", "-R", True, True),
        ("The & command", "&", False, True),
    ],
)
def test_answers_are_matched_by_containment_at_word_edges(
    text: str, answer: str, case_sensitive: bool, found: bool
) -> None:
    assert contains_answer(text, answer, case_sensitive) is found


@pytest.mark.parametrize(
    ("text", "says_absent"),
    [
        ("The document doesn’t contain the answer.", True),  # a typographic apostrophe
        ("The document does not contain the answer to this question.", True),
        ("Not found.", True),
        ("It is not mentioned.", True),
        ("Use --count; it does not print the lines.", False),
        ("The exit code is 2.", False),
    ],
)
def test_a_baselines_refusal_in_its_own_words_is_recognised(text: str, says_absent: bool) -> None:
    assert says_no_answer(text) is says_absent


def question(kind: str, answers: list[str]) -> NaturalQuestion:
    return NaturalQuestion(
        id="x", document="d", question="q", kind=kind, answers=answers, split="dev"
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "text", "found", "expected"),
    [
        ("lookup", "It is wget-log.", True, "correct"),
        ("lookup", "It is wget.log.", True, "wrong-but-found"),
        ("lookup", "The document does not say.", False, "not-found"),
        ("lookup", "wget-log", False, "not-found"),  # a refusal never scores
        ("lookup", "It is wget.log.", None, "wrong-but-found"),
        ("absent", "Not found.", False, "refused-absent"),
        ("absent", "Use --socks.", True, "wrong-but-found"),
        ("absent", "not found", None, "refused-absent"),
    ],
)
def test_outcomes(kind: str, text: str, found: bool | None, expected: str) -> None:
    q = question(kind, ["wget-log"] if kind == "lookup" else ["not found"])
    assert outcome(q, text, found) == expected
    assert is_correct(q, text, found) is (expected in ("correct", "refused-absent"))


def test_a_run_reports_each_outcome_and_writes_every_answer(tmp_path: Path) -> None:
    # The first three dev questions are grep-01 (exit code 2), grep-03 (-l), grep-05
    # (underscore); the scripted model answers right, refuses, then answers wrongly.
    model = ScriptedModel(
        ["It returns 2.", "The document does not contain the answer.", "Only letters."],
        context_window=4096,
    )
    results = run_suite(model, "natural", {"truncate": truncation}, tmp_path, limit=3)
    assert [r["outcome"] for r in results["truncate"]] == [
        "correct",
        "not-found",
        "wrong-but-found",
    ]
    report = json.loads((tmp_path / "qa-natural.json").read_text())
    assert report["split"] == "dev" and report["suite"] == "natural"
    summary = report["summary"]["truncate"]
    assert (summary["correct"], summary["wrong_but_found"], summary["not_found_lookup"]) == (
        1,
        1,
        1,
    )
    (first, *_) = report["results"]["truncate"]
    assert first["id"] == "grep-01" and first["text"] == "It returns 2."
    # truncation read the document's beginning, as much as the window allows
    assert first["prompt_tokens"] > 3000


@pytest.mark.parametrize(
    "args",
    [
        ["--suite", "nope"],
        ["--suite", "natural", "--split", "train"],
        ["--suite", "person", "--split", "blind"],  # only the natural suite has it
    ],
)
def test_an_unknown_suite_or_split_is_one_line_and_exit_2(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "longagent.apps.cli", "bench", "qa", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and args[-1] in result.stderr


def test_bench_ranking_finds_the_gold_evidence_among_the_passages_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`bench ranking`: one record per lookup, hits that only grow with depth. A hashing
    embedder stands in for MiniLM (the real one is tested in tests/agents/test_ranking.py):
    BM25 alone already reads the gold evidence for some test questions."""
    from longagent.apps.cli import run
    from longagent.memory import embedder

    monkeypatch.setattr(embedder, "MiniLMEmbedder", embedder.HashEmbedder)
    assert run(["bench", "ranking", "--split", "test", "--out-dir", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "ranking.json").read_text())
    lookups = [q for q in load_questions("test") if q.kind == "lookup"]
    assert [r["id"] for r in result["records"]] == [q.id for q in lookups]
    hits = [result["hits"][str(k)] for k in (4, 12, 30)]
    assert 0 < hits[0] <= hits[1] <= hits[2] <= len(lookups)
    assert run(["bench", "ranking", "--split", "train"]) == 2


def test_bench_grounding_judges_perfect_replies_and_every_restated_sentence(
    tmp_path: Path,
) -> None:
    """`bench grounding` (no reader): one record per question; a lookup's perfect reply
    gets a verdict (dmesg's "This is 16392 by default." grounds, read with the sentence
    before it), an absent question none; every exposed sentence is the document's own and
    holds no gold answer, and so is every sentence whose value grounded alone, the value
    one of its own. blind2's make-09 (absent: the GNU licence's "version 3" answers which
    version of some other make) is exposed only by a value."""
    from longagent.apps.cli import run

    assert run(["bench", "grounding", "--split", "blind5", "--out-dir", str(tmp_path)]) == 0
    records = json.loads((tmp_path / "grounding.json").read_text())["records"]
    blind5 = load_questions("blind5")
    assert [r["id"] for r in records] == [q.id for q in blind5]
    by_id = {q.id: q for q in blind5}
    assert {r["id"]: r["perfect"] for r in records}["dmesg-03"] == "grounded"
    for record in records:
        question = by_id[record["id"]]
        assert (record["perfect"] is None) == (question.kind == "absent")
        text = squash(document_text(question.document))
        for sentence in record["exposed"]:
            assert squash(sentence) in text
            assert not any(
                contains_answer(sentence, a, question.case_sensitive) for a in question.answers
            )
        for value, sentence in record["exposed_values"]:
            assert value in sentence and squash(sentence) in text
            assert not any(
                contains_answer(sentence, a, question.case_sensitive) for a in question.answers
            )
    assert run(["bench", "grounding", "--split", "blind2", "--out-dir", str(tmp_path)]) == 0
    records = json.loads((tmp_path / "grounding.json").read_text())["records"]
    (make_09,) = [r for r in records if r["id"] == "make-09"]
    assert not make_09["exposed"] and make_09["exposed_values"]
    assert run(["bench", "grounding", "--verifier", "judged"]) == 2


def test_longagent_s_bench_system_splits_and_embeds_each_document_once() -> None:
    # As DOS-RAG's passages and `ask FILE`'s library: a document's questions share its
    # split and its passage vectors (22 s a question on the person story, re-embedded).
    from longagent.apps.bench.systems import longagent
    from longagent.memory.embedder import HashEmbedder

    embedded: list[str] = []

    class Counting(HashEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            embedded.extend(texts)
            return super().embed(texts)

    echo = ScriptedModel(lambda request: {"quote": "", "answer": ""})
    ask = longagent(echo, embedder=Counting(), chunk_tokens=60)
    story = " ".join(f"Part {n} of the story is told on page {n}." for n in range(300))
    for question in ("Where did Odile plant trees?", "Which prize did Odile win?"):
        assert ask(story, question) == ("The document does not say.", False)
    passages = [t for t in embedded if t.startswith("Part ")]
    assert passages and len(passages) == len(set(passages))  # each embedded once


def test_gold_items_hand_each_reader_the_chunk_that_holds_its_evidence() -> None:
    """`bench qa --gold`: a lookup's document becomes the chunk(s) with its evidence, an
    absent question's the chunk most like it (real MiniLM), each at most a chunk long."""
    from longagent.apps.bench.suites import gold_items, make_items

    def words(text: str) -> int:
        return len(text.split())

    items = [
        i for i in make_items("natural", words, split=None) if i.question.document == "grep.txt"
    ]
    gold = gold_items(items, words, 120)
    for item, cut in zip(items, gold, strict=True):
        assert cut.question == item.question
        assert all(line in item.text for line in cut.text.splitlines())  # the document's own
        if item.question.kind == "lookup":
            assert all(squash(e) in squash(cut.text) for e in item.question.evidence)
            assert words(cut.text) <= 2 * 120 * len(item.question.evidence)
        else:
            assert 0 < words(cut.text) <= 120 and cut.text in item.text  # one chunk
    assert {g.question.kind for g in gold} == {"lookup", "absent"}


def test_a_gold_run_reads_only_the_evidence_chunk_and_writes_its_own_file(tmp_path: Path) -> None:
    model = ScriptedModel(["It returns 2."], context_window=4096)
    results = run_suite(
        model, "natural", {"truncate": truncation}, tmp_path, limit=1, gold_chunk_tokens=512
    )
    (record,) = results["truncate"]
    assert record["outcome"] == "correct" and record["prompt_tokens"] < 1000
    report = json.loads((tmp_path / "qa-natural-gold.json").read_text())
    assert report["gold_chunk_tokens"] == 512 and not (tmp_path / "qa-natural.json").exists()


def test_gold_needs_a_suite_with_evidence() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "longagent.apps.cli", "bench", "qa", "--gold"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "--gold" in result.stderr


def test_the_bench_system_s_held_quote_holds_each_reader_to_its_passage() -> None:
    # `bench qa --held-quote`: the profile's opt-in quote_held, through the LongAgent system.
    from longagent.apps.bench.systems import longagent
    from longagent.memory.embedder import HashEmbedder

    story = " ".join(f"Part {n} of the story is told on page {n}." for n in range(60))
    for held in (False, True):
        model = ScriptedModel(lambda request: {"quote": "", "answer": ""})
        longagent(model, held_quote=held, embedder=HashEmbedder(), chunk_tokens=60)(
            story, "Which page tells part 7?"
        )
        members = [r for r in model.requests if r.task.get("kind") == "member"]
        # A free reading (the search's) writes a sentence, not JSON: nothing to hold.
        members = [r for r in members if r.task.get("style") != "free"]
        assert members
        for request in members:
            allowed = request.json_schema["properties"]["quote"].get("enum")  # type: ignore[index]
            if held:  # only "" or a sentence of the passage the member read
                passage = " ".join(str(request.task["passage"]).split())
                assert allowed and all(quote in passage for quote in allowed)
            else:
                assert allowed is None
