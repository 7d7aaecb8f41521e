"""`longagent ask`: a real subprocess with the real model and a real file, plus the
renderings (--json, --trace) on a scripted answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from longagent.agents import LongAgent
from longagent.apps import answer_view
from longagent.apps.bench.qa_data import make_sample
from longagent.chunking import Document
from longagent.llm import ScriptedModel
from longagent.memory.embedder import HashEmbedder


def longagent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "longagent.apps.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
def test_ask_prints_a_cited_answer(tmp_path: Path, bundled_model) -> None:
    sample = make_sample("single", 4096, 0.2, 0, bundled_model.count_tokens)
    path = tmp_path / "haystack.txt"
    path.write_text(sample.document)
    shown = longagent("ask", str(path), sample.question)
    assert shown.returncode == 0, shown.stderr
    assert sample.answers[0] in shown.stdout
    assert "[1] chars" in shown.stdout and "model calls" in shown.stdout


MANUAL = (
    "OPTIONS\n\n-q, --quiet\n    Turn off the output.\n\n-l depth, --level=depth\n"
    "    Set the maximum number of subdirectories that the crawler will recurse into to "
    "depth. The default maximum depth is 5.\n"
)
DEPTH = "How many levels deep does the crawler go if I don't say?"


@pytest.mark.slow
def test_ask_extract_answers_with_the_searched_sentence(tmp_path: Path, home: Path) -> None:
    # The bundled reader's reply here is runaway JSON, refused; the entry's sentence answers.
    path = tmp_path / "manual.txt"
    path.write_text(MANUAL)
    shown = longagent("ask", str(path), DEPTH, "--extract", "--json")
    assert shown.returncode == 0, shown.stderr
    answer = json.loads(shown.stdout)
    assert answer["found"] and "The default maximum depth is 5." in answer["text"]
    reports = [r for round_ in answer["trace"] for r in round_["reports"]]
    assert [r["extracted"] for r in reports if r["verdict"] == "grounded"] == [True]


@pytest.mark.slow
def test_extract_never_answers_a_count_with_a_number_of_seconds(tmp_path: Path, home: Path) -> None:
    # MiniLM puts the wait's sentence first; without the answer-kind check it answered.
    path = tmp_path / "fetch.txt"
    path.write_text(
        "FETCH(1)\n\nNAME\n    fetch - download files over HTTP\n\nOPTIONS\n\n"
        "-w seconds, --retry-wait=seconds\n"
        "    After a failed download, fetch waits 4 seconds before it tries again.\n\n"
        "-q, --quiet\n    Turn off the output. Nothing is printed except errors.\n\n"
        "-o file, --output=file\n"
        "    Write the downloaded document to file instead of standard output.\n\n"
        "-c, --continue\n    Continue getting a partially downloaded file.\n\n"
        "-r number, --retries=number\n    Give up after number attempts; 7 by default.\n"
    )
    question = "How many times does fetch try again after a failed download?"
    shown = longagent("ask", str(path), question, "--extract", "--json")
    assert shown.returncode == 0, shown.stderr
    answer = json.loads(shown.stdout)
    assert "4 seconds" not in answer["text"]
    assert not answer["found"] or "7" in answer["text"]


@pytest.mark.slow
def test_without_extract_the_refusal_shows_the_passage_it_read(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "manual.txt"
    path.write_text(MANUAL)
    answer = json.loads(longagent("ask", str(path), DEPTH, "--no-extract", "--json").stdout)
    assert not answer["found"]  # the bundled reader's runaway reply is refused
    searched = [p for r in answer["trace"] if r["kind"] == "search" for p in r["passages"]]
    assert any("maximum depth is 5" in MANUAL[start:end] for start, end in searched[:4])
    shown = longagent("ask", str(path), DEPTH, "--no-extract")  # asked again: remembered
    assert shown.returncode == 0, shown.stderr
    assert "The default maximum depth is 5." in " ".join(shown.stdout.split())
    again = json.loads(longagent("ask", str(path), DEPTH, "--no-extract", "--json").stdout)
    assert again["remembered"] and not again["found"] and again["usage"]["requests"] == 0
    assert [r["passages"] for r in again["trace"] if r["kind"] == "search"] == [
        r["passages"] for r in answer["trace"] if r["kind"] == "search"
    ]


def test_ask_on_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    result = longagent("ask", str(tmp_path / "nope.pdf"), "anything?")
    assert (
        result.returncode == 2
        and "no such file" in result.stderr
        and "Traceback" not in result.stderr
    )


FACT = "Kalomi was born in the town of Renda."
FILLER = "Modules provide functions and classes for many ordinary tasks. " * 20


def _kalomi() -> tuple[Document, ScriptedModel]:
    """A document with one fact among filler, and a scripted reader that quotes it."""
    document = Document.create(f"{FILLER}\n\n{FACT}\n\n{FILLER}")
    model = ScriptedModel(
        lambda r: (
            {"quote": FACT, "answer": "Renda"}
            if FACT in r.messages[-1].content
            else {"quote": "", "answer": ""}
        )
    )
    return document, model


def test_json_and_trace_renderings(capsys: pytest.CaptureFixture[str]) -> None:
    fact = FACT
    document, model = _kalomi()
    answer = LongAgent(model, chunk_tokens=100).ask(document, "In which town was Kalomi born?")
    answer_view.show(answer, document, as_json=True)
    parsed = json.loads(capsys.readouterr().out)
    citation = parsed["citations"][0]
    assert parsed["text"] == "Renda" and document.text[citation["start"] : citation["end"]] == fact
    answer_view.show(answer, document, trace=True)
    shown = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert "round 1" in shown and "grounded" in shown and fact in shown


def test_a_not_found_answer_shows_the_passages_read_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    fact = FACT
    document, answering = _kalomi()
    refusing = ScriptedModel(lambda r: {"quote": "", "answer": ""})
    agent = LongAgent(refusing, chunk_tokens=100, embedder=HashEmbedder())
    answer = agent.ask(document, "In which town did Kalomi grow up?")
    (search,) = [r for r in answer.trace if r.kind == "search"]
    read = answer.passages_read()
    assert not answer.found and [(p.start, p.end) for p in read] == search.passages[:4]
    assert [p.chunk for p in read] == search.passage_chunks[:4]
    assert fact in document.text[read[0].start : read[0].end]  # the likeliest
    assert fact in agent.prepare(document).chunks[read[0].chunk].text
    answer_view.show(answer, document)
    shown = " ".join(capsys.readouterr().out.split())
    for passage in read:
        assert f"chars {passage.start}-{passage.end}: " in shown
    assert fact in shown

    found = LongAgent(answering, chunk_tokens=100).ask(document, "In which town was Kalomi born?")
    assert found.found and found.passages_read() == []  # grounded before any search
