"""RULER's synthetic tasks: the generators put RULER's needles, chains and words where
RULER puts them, fit the target length, repeat by seed; the metrics score as RULER's do;
`bench qa --suite ruler` runs them through the systems and writes every answer."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from longagent.apps.bench.ruler import (
    LENGTHS,
    TASKS,
    RulerItem,
    make_ruler_items,
    score,
    string_match_all,
    string_match_part,
    wrong_but_found,
)
from longagent.apps.bench.ruler_data import CONFIG, NEEDLE, TEMPLATES, PairWords, wordlist
from longagent.llm import ScriptedModel


def words(text: str) -> int:
    return len(text.split())


NIAH = [t for t in TASKS if t.startswith("niah")]
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def one(task: str, length: int = 4096, seed: int = 42) -> RulerItem:
    (item,) = make_ruler_items(words, [task], [length], 1, seed)
    return item


def test_the_suite_is_rulers_eleven_synthetic_tasks_at_its_four_lengths() -> None:
    names = "niah_single_1 niah_single_2 niah_single_3 niah_multikey_1 niah_multikey_2"
    assert " ".join(TASKS) == names + " niah_multikey_3 niah_multivalue niah_multiquery vt cwe fwe"
    assert LENGTHS == (4096, 8192, 16384, 32768)


def test_key_words_are_rulers_sorted_adjective_noun_pairs() -> None:
    # The adjectives whose "adj-" prefixes another's (high, high-pitched) interleave.
    adjs = wordlist("adjectivelist.txt")
    chosen = [a for a in adjs if a.split("-")[0] in {"high", "blue", "old", "wide", "x"}]
    chosen += adjs[:25]
    nouns = wordlist("nounlist.txt")
    expected = sorted({f"{a}-{n}" for a in chosen for n in nouns})
    pairs = PairWords(chosen, nouns)
    assert len(pairs) == len(expected) and list(pairs) == expected


@pytest.mark.parametrize("task", NIAH)
def test_each_niah_task_hides_rulers_needles_where_ruler_puts_them(task: str) -> None:
    args = CONFIG[task]["args"]
    item = one(task)
    kind = args["type_needle_v"]
    keys = max(args["num_needle_k"], args["num_needle_q"])
    assert len(item.outputs) == args["num_needle_q"] * args["num_needle_v"]
    for value in item.outputs:
        assert re.fullmatch(r"\d{7}", value) if kind == "numbers" else UUID.match(value)
    # every queried needle stands whole, with its key, once
    needles = re.findall(rf"One of the special magic {kind} for (\S+) is: (\S+)\.", item.document)
    by_value = {v: k for k, v in needles}
    for value in item.outputs:
        assert item.document.count(f"is: {value}.") == 1
        assert by_value[value] in item.question
    if args["type_haystack"] == "needle":  # every line is a needle
        lines = item.document.split("\n")
        assert all(
            re.fullmatch(r"One of the special magic \w+ for \S+ is: \S+\.", x) for x in lines
        )
    else:
        assert len(needles) == keys * args["num_needle_v"]
    for key, value in needles:
        needle = NEEDLE.format(type_needle_v=kind, key=key, value=value)
        before, after = item.document.split(needle)
        if args["type_haystack"] == "essay":  # between sentences of the essays
            assert re.search(r"(^|[.!?]\S* )$", before) and re.match(r"( \S|$)", after)
        else:  # a line of its own among the noise lines
            assert before[-1:] in ("\n", "") and after[:1] in ("\n", "")
    singular = args["num_needle_q"] * args["num_needle_v"] == 1
    assert item.question.startswith("What is" if singular else "What are all")
    assert item.instruction.startswith("A special magic" if singular else "Some special magic")
    assert "is hidden within" not in item.document


def test_multiquery_asks_four_keys_and_multivalue_one_key_with_four_values() -> None:
    query = one("niah_multiquery")
    assert query.question.count(", ") == 3 and ", and " in query.question
    value = one("niah_multivalue")
    keys = re.findall(r"magic numbers for (\S+) is: ", value.document)
    assert len(keys) == 4 and len(set(keys)) == 1 and keys[0] in value.question


def test_variable_tracking_hides_one_chain_of_four_hops_after_an_answered_example() -> None:
    item = one("vt")
    value = re.search(r"assigned the value (\d{5}) in", item.question)
    assert value and len(item.outputs) == 5
    first, *rest = item.outputs
    lines = item.document.split("\n")
    at = [lines.index(f"VAR {first} = {value[1]}")]
    at += [lines.index(f"VAR {b} = VAR {a} ") for a, b in zip(item.outputs, rest, strict=False)]
    assert at == sorted(at)  # the chain's lines in order among the noise
    # RULER's in-context example: its own chain of 3-letter names, answered, first
    example, _, task = item.input.partition("\n\nMemorize and track")
    assert example.count("Answer: According to the chain(s)") == 1
    assert len(re.findall(r"VAR [A-Z]{3} = ", example)) == 5 and value[1] not in example
    assert task.count("VAR ") == 9 and item.document.count("VAR ") == 9
    assert "Answer:" not in item.document and item.instruction.startswith(example)


def test_common_words_repeat_thirty_times_the_others_three() -> None:
    item = one("cwe")
    listing = item.document.split("\n")[-1]
    counts = Counter(re.findall(r"\d+\. (\S+)", listing))
    assert len(item.outputs) == 10 and {counts[w] for w in item.outputs} == {30}
    assert {c for w, c in counts.items() if w not in item.outputs} == {3}
    assert item.instruction.count("Question: What are the 10 most common words") == 1  # example
    assert item.document == listing


def test_frequent_words_are_the_second_to_fourth_of_a_zeta_draw() -> None:
    item = one("fwe")
    counts = Counter(item.document.split())
    ranked = [w for w, _ in counts.most_common(4)]
    assert ranked[0] == "..." and ranked[1:] == item.outputs
    assert all(re.fullmatch(r"[a-z]{6}", w) for w in item.outputs)


@pytest.mark.parametrize("task", TASKS)
def test_each_input_fits_the_target_length_as_ruler_fits_it(task: str) -> None:
    item = one(task)
    spec = TEMPLATES[CONFIG[task]["task"]]
    assert item.tokens == words(item.input + item.answer_prefix) + spec["tokens_to_generate"]
    # RULER's binary search fills the length; a sample that overflows it then loses one
    # step (500 essay words, 1/32 for fwe), so a few samples land 10-16% short.
    assert 0.8 * 4096 <= item.tokens <= 4096
    if CONFIG[task]["args"].get("type_haystack") in ("noise", "needle"):
        assert item.tokens >= 0.95 * 4096
    assert item.input == item.instruction + item.document + "\n" + item.question


def test_items_repeat_by_seed_and_differ_across_seeds() -> None:
    make = lambda seed: make_ruler_items(words, ["niah_single_2", "vt"], [2048], 2, seed)  # noqa: E731
    first, again, other = make(7), make(7), make(8)
    assert first == again
    assert [i.outputs for i in first] != [i.outputs for i in other]
    assert first[0].outputs != first[1].outputs  # two samples, two needles


@pytest.mark.parametrize(
    ("prediction", "references", "all_", "part"),
    [
        ("The numbers are 123 and 456.", ["123", "456"], 1.0, 1.0),
        ("The numbers are 123.", ["123", "456", "789", "000"], 0.25, 1.0),
        ("none", ["123"], 0.0, 0.0),
        ("vars: abcde, FGHIJ", ["ABCDE", "fghij"], 1.0, 1.0),  # case-insensitive
        ("12345678", ["1234567"], 1.0, 1.0),  # RULER's containment, digits glued or not
    ],
)
def test_rulers_metrics(prediction: str, references: list[str], all_: float, part: float) -> None:
    assert string_match_all(prediction, references) == all_
    assert string_match_part(prediction, references) == part
    assert score("niah_multivalue", prediction, references) == all_


@pytest.mark.parametrize(
    ("found", "text", "value", "expected"),
    [
        (True, "123", 0.25, True),
        (True, "123 456", 1.0, False),
        (False, "The document does not say.", 0.0, False),
        (None, "Not found.", 0.0, False),
        (None, "999", 0.0, True),
    ],
)
def test_wrong_but_found_is_a_claim_that_misses_a_reference(
    found: bool | None, text: str, value: float, expected: bool
) -> None:
    assert wrong_but_found(found, text, value) is expected


def test_bench_qa_suite_ruler_scores_every_answer_and_writes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from longagent.apps.cli import app

    # The scripted model counts whitespace words, so the CLI builds these same items.
    single, _, half, full = make_ruler_items(words, ["niah_single_1", "niah_multivalue"], [1024], 2)
    model = ScriptedModel(
        [
            f"It is {single.outputs[0]}.",  # right
            "The document does not contain the answer.",  # an honest refusal
            f"{half.outputs[0]} and {half.outputs[1]}",  # two of four, claimed
            ", ".join(full.outputs),  # all four
        ],
        context_window=4096,
    )
    monkeypatch.setattr("longagent.llm.load_model", lambda *a, **k: model)
    args = ["bench", "qa", "--suite", "ruler", "--tasks", "niah_single_1,niah_multivalue"]
    args += ["--lengths", "1k", "--samples", "2", "--systems", "truncate"]
    result = CliRunner().invoke(app, [*args, "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "qa-ruler.json").read_text())
    records = report["results"]["truncate"]
    assert [r["id"] for r in records] == [
        "niah_single_1-1024-0",
        "niah_single_1-1024-1",
        "niah_multivalue-1024-0",
        "niah_multivalue-1024-1",
    ]
    assert [r["score"] for r in records] == [1.0, 0.0, 0.5, 1.0]
    assert [r["wrong_but_found"] for r in records] == [False, False, True, False]
    assert records[2]["answers"] == half.outputs and records[0]["question"] == single.question
    summary = report["summary"]["truncate"]
    assert summary["tasks"]["niah_single_1"]["1024"]["score"] == 0.5
    assert summary["tasks"]["niah_multivalue"]["1024"]["wrong_but_found"] == 1
    assert summary["average"]["1024"] == 0.625
    # truncation read the whole 1K document: it fits the window
    assert model.requests[0].messages[-1].content.count(single.outputs[0]) == 1
    assert "truncate on RULER" in result.output and "62.5%" in result.output


def test_bench_qa_seed_draws_other_ruler_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from longagent.apps.cli import run

    model = ScriptedModel(["The document does not contain the answer."], context_window=4096)
    monkeypatch.setattr("longagent.llm.load_model", lambda *a, **k: model)
    args = ["bench", "qa", "--suite", "ruler", "--tasks", "niah_single_1", "--lengths", "1k"]
    assert run([*args, "--systems", "truncate", "--seed", "7", "--out-dir", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "qa-ruler.json").read_text())
    (asked,) = report["results"]["truncate"]
    (seven,) = make_ruler_items(words, ["niah_single_1"], [1024], 1, seed=7)
    (default,) = make_ruler_items(words, ["niah_single_1"], [1024], 1)
    assert report["seed"] == 7 and asked["answers"] == seven.outputs != default.outputs


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--suite", "natural", "--seed", "7"], "--seed"),  # seeds draw RULER's or person's
        (["--verifier", "psychic"], "--verifier"),
    ],
)
def test_a_bench_qa_option_misused_is_one_line_and_exit_2(
    extra: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from longagent.apps.cli import run

    assert run(["bench", "qa", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and named in err


def test_an_unknown_ruler_task_is_one_line_and_exit_2() -> None:
    args = ["bench", "qa", "--suite", "ruler", "--tasks", "niah_single_9"]
    result = subprocess.run(
        [sys.executable, "-m", "longagent.apps.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "niah_single_9" in result.stderr


def test_a_length_too_short_for_a_task_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from longagent.apps.cli import run

    model = ScriptedModel([], context_window=4096)
    monkeypatch.setattr("longagent.llm.load_model", lambda *a, **k: model)
    args = ["bench", "qa", "--suite", "ruler", "--tasks", "niah_single_2", "--lengths", "512"]
    assert run(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "512" in err and "niah_single_2" in err
    assert not model.requests


@pytest.mark.slow
def test_one_4k_niah_sample_through_the_real_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from longagent.apps.cli import app

    args = ["bench", "qa", "--suite", "ruler", "--tasks", "niah_single_1", "--lengths", "4k"]
    args += ["--systems", "longagent", "--out-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (record,) = json.loads((tmp_path / "qa-ruler.json").read_text())["results"]["longagent"]
    assert 0.0 <= record["score"] <= 1.0 and record["found"] in (True, False)
    assert 3400 <= record["tokens"] <= 4096  # measured with the model's own tokenizer
