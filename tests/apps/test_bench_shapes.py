"""`bench shapes`: list answers are scored against gold items (recall, and precision over
the options named), the dev split holds other questions than the five reported, and a
real run over grep's manual page writes the table."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from longagent.apps.bench.natural_data import document_text
from longagent.apps.bench.shapes import LIST_DEV, LIST_GOLD, LIST_QUESTIONS, score_list

from ._cli_helpers import CLI, base_env

GREP = LIST_GOLD["grep.txt"]
assert GREP is not None


def test_recall_counts_the_gold_items_named_and_precision_the_options_that_are_gold() -> None:
    both = score_list("-f FILE, --file=FILE; --exclude-from=FILE", GREP)
    assert both == {"recall": "2/2", "precision": 1.0, "options": 3}
    # "-fprint" is not "-f"; a wrong option costs precision.
    noisy = score_list("-fprint; --exclude-from=FILE; -n", GREP)
    assert noisy["recall"] == "1/2" and noisy["precision"] == pytest.approx(1 / 3, abs=0.01)
    assert score_list("The document does not say.", GREP) == {
        "recall": "0/2",
        "precision": None,
        "options": 0,
    }


def test_a_colon_command_is_not_the_letter_it_ends_with() -> None:
    less = LIST_GOLD["less.pdf"]
    assert less is not None
    assert score_list(":e [filename], :n, :p, :d", less)["recall"] == "0/7"
    assert score_list("F, d or ˆD", less)["recall"] == "2/7"


def test_the_dev_questions_are_not_the_reported_ones_and_every_gold_name_is_in_its_page() -> None:
    assert {q for _, q, _ in LIST_DEV}.isdisjoint(LIST_QUESTIONS.values())
    for name, gold in [*LIST_GOLD.items(), *[(d, g) for d, _, g in LIST_DEV]]:
        if gold is None:
            continue
        page = document_text(name)
        for item in gold:
            assert any(n in page for n in item.split()), (name, item)


@pytest.mark.slow
def test_a_list_run_over_grep_scores_longagent_with_every_citation_verbatim(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    command = [*CLI, "bench", "shapes", "--documents", "grep.txt", "--kinds", "list"]
    command += ["--systems", "longagent", "--out-dir", str(out)]
    subprocess.run(command, env=base_env(tmp_path), check=True, capture_output=True, timeout=600)
    (record,) = json.loads((out / "shapes.json").read_text())["results"]
    answer = record["longagent"]
    assert answer["score"]["recall"] == "2/2" and answer["score"]["precision"] == 1.0
    assert answer["citations"] == answer["verbatim"] == 2
    assert "| grep.txt |" in (out / "shapes.md").read_text()
