"""The QA benchmark: seeded generators, needle depths, scoring, and a tiny real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from longagent.apps.bench.qa_data import (
    KINDS,
    NOT_FOUND,
    QASample,
    is_correct,
    make_sample,
    parse_length,
)


def words(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize("kind", KINDS)
def test_generators_are_deterministic_for_a_seed(kind: str) -> None:
    first = make_sample(kind, 1500, 0.5, 3, words)
    assert first == make_sample(kind, 1500, 0.5, 3, words)
    assert first.document != make_sample(kind, 1500, 0.5, 4, words).document


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("depth", [0.0, 0.3, 0.9])
def test_needles_land_at_the_asked_depth_and_length(kind: str, depth: float) -> None:
    sample = make_sample(kind, 3000, depth, 0, words)
    position = sample.document.index(sample.needles[0]) / len(sample.document)
    assert abs(position - depth) < 0.08
    assert 0.85 * 3000 <= words(sample.document) <= 1.25 * 3000


def test_absent_question_asks_about_someone_not_in_the_document() -> None:
    sample = make_sample("absent", 2000, 0.5, 0, words)
    asked = sample.question.removeprefix("In which town was ").removesuffix(" born?")
    assert asked not in sample.document and sample.answers == [NOT_FOUND]


def test_two_hop_needles_are_far_apart() -> None:
    sample = make_sample("two_hop", 3000, 0.2, 0, words)
    born, famous = (sample.document.index(n) / len(sample.document) for n in sample.needles)
    assert abs(born - famous) > 0.4


def sample_with(answers: list[str]) -> QASample:
    return QASample(
        id="x",
        kind="single",
        length=1,
        depth=0,
        document="",
        question="q",
        answers=answers,
        needles=[],
    )


@pytest.mark.parametrize(
    ("answers", "text", "found", "correct"),
    [
        (["Renda"], "Kalomi was born in RENDA.", True, True),
        (["Renda"], "Kalomi was born in Tosa.", True, False),
        (["Renda"], "Renda", False, False),  # a system that says 'not found' does not score
        (["Renda"], "renda", None, True),
        ([NOT_FOUND], "The document does not say.", False, True),
        ([NOT_FOUND], "Renda", True, False),
        ([NOT_FOUND], "Not found.", None, True),
    ],
)
def test_scoring_on_hand_made_cases(
    answers: list[str], text: str, found: bool | None, correct: bool
) -> None:
    assert is_correct(sample_with(answers), text, found) is correct


def test_parse_length() -> None:
    assert (
        parse_length("4k") == 4096 and parse_length("1500") == 1500 and parse_length("0.5k") == 512
    )


@pytest.mark.slow
def test_tiny_end_to_end_run_of_each_baseline(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from longagent.apps.cli import app

    result = CliRunner().invoke(
        app,
        [
            "bench",
            "qa",
            "--kinds",
            "passkey",
            "--lengths",
            "1k",
            "--depths",
            "0.5",
            "--systems",
            "truncate,retrieval,dos-rag",  # longagent: the extended run below
            "--out-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    results = json.loads((tmp_path / "qa.json").read_text())["results"]
    assert set(results) == {"truncate", "retrieval", "dos-rag"}
    for records in results.values():
        (record,) = records
        assert record["model_calls"] >= 1 and record["prompt_tokens"] > 0 and record["seconds"] > 0
    assert (tmp_path / "qa-heatmap-dos-rag.png").stat().st_size > 1000
    assert "accuracy by kind and length" in result.output
    # Each answer is reported as it lands (a stopped run still shows what it measured).
    assert result.output.count(f"{record['id']}: ") == 3


@pytest.mark.slow
def test_longagent_runs_on_an_extended_model_with_chunks_beyond_the_native_window(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from longagent.apps.cli import app

    # Just past the 8K window (every extra token costs the suite), on the planner's
    # default extension (static NTK): LongAgent reads the passkey from one chunk beyond it.
    args = ["bench", "qa", "--kinds", "passkey", "--lengths", "8.5k", "--depths", "0.5"]
    args += ["--systems", "longagent", "--extend-to", "10k", "--chunk-tokens", "9000"]
    result = CliRunner().invoke(app, [*args, "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "qa.json").read_text())
    assert report["extend_to"] == "10k" and report["chunk_tokens"] == 9000
    (record,) = report["results"]["longagent"]
    assert record["prompt_tokens"] > 8192  # one member read more than the native window
    assert record["found"] and record["correct"], (record["text"], record["answers"])
