"""`longagent ask --library NAME "question"` over a real library in a temporary home:
in-process through `cli.run` with a scripted model standing in for the loaded one (the
only stand-in: the library, its search and the pipeline are real), real subprocesses for
the exit codes, and one run of the real bundled model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from longagent.apps import ask_cmd
from longagent.apps.cli import run
from longagent.chunking import load
from longagent.llm import GenerationRequest, ScriptedModel

BORN = "Kalomi was born in the town of Fenni."
FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
TOPICS = [
    "The harbour cranes were painted orange before the winter storms arrived.",
    "Bread in the northern valley is baked with rye and caraway seeds.",
    "The observatory tracks comets with a mirror two metres across.",
    "Glass bells ring in the square on every market day of the year.",
]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i, topic in enumerate(TOPICS):
        fact = f" {BORN}" if i == 2 else ""
        (folder / f"doc{i}.txt").write_text(f"{topic} {FILLER}\n\n{FILLER}{fact}\n\n{FILLER}")
    return folder


def born_in_fenni(request: GenerationRequest) -> dict:
    if BORN in request.task.get("passage", ""):
        return {"quote": BORN, "answer": "Fenni"}
    return {"quote": "", "answer": ""}


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> ScriptedModel:
    model = ScriptedModel(born_in_fenni)
    monkeypatch.setattr(ask_cmd, "_load", lambda spec: model)
    return model


def longagent(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LONGAGENT_HOME": str(home), "LONGAGENT_THREADS": "1"}
    env["COLUMNS"] = "300"  # no path folded across lines (pytest-xdist makes them longer)
    return subprocess.run(
        [sys.executable, "-m", "longagent.apps.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_ask_library_prints_the_answer_with_the_document_and_span(
    home: Path, docs: Path, scripted: ScriptedModel, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["add", str(docs), "--library", "work", "--no-vectors"]) == 0
    capsys.readouterr()
    assert run(["ask", "--library", "work", "Where was Kalomi born?"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    planted = str((docs / "doc2.txt").resolve())
    assert "Fenni" in shown and f"[1] {planted} chars" in shown and BORN in shown
    assert run(["ask", "-l", "work", "Where was Kalomi born?", "--json"]) == 0
    citation = json.loads(capsys.readouterr().out)["citations"][0]
    assert citation["path"] == planted
    assert load(Path(planted)).text[citation["start"] : citation["end"]] == BORN


def test_ask_library_answers_not_found_when_no_document_holds_it(
    home: Path, docs: Path, scripted: ScriptedModel, capsys: pytest.CaptureFixture[str]
) -> None:
    (docs / "doc2.txt").write_text(f"{TOPICS[2]} {FILLER}")
    assert run(["add", str(docs), "--library", "work", "--no-vectors"]) == 0
    capsys.readouterr()
    assert run(["ask", "--library", "work", "Where was Kalomi born?", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["found"] is False and answer["citations"] == []


def test_a_not_found_over_a_library_names_the_documents_it_read(
    home: Path, docs: Path, scripted: ScriptedModel, capsys: pytest.CaptureFixture[str]
) -> None:
    unread = "Kalomi grew up in a town by the sea."  # the scripted readers say nothing
    (docs / "doc2.txt").write_text(f"{TOPICS[2]} {FILLER}\n\n{unread}\n\n{FILLER}")
    assert run(["add", str(docs), "--library", "work", "--no-vectors"]) == 0
    capsys.readouterr()
    assert run(["ask", "--library", "work", "In which town did Kalomi grow up?"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    where = f"{(docs / 'doc2.txt').resolve()} chars "
    assert where in shown and unread in shown.split(where, 1)[1]


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "FILE.txt", "question?", "--library", "work"],  # both
        ["ask", "--library", "work"],  # no question
        ["ask", "only-a-question?"],  # a FILE without a question
        ["ask", "--library", "nowhere", "question?"],  # an unknown library
        ["ask", "--library", "../up", "question?"],  # not a library name
        ["ask", "--library", "work", " "],  # an empty question
    ],
)
def test_bad_uses_exit_2_before_the_model_loads(
    home: Path, docs: Path, scripted: ScriptedModel, argv: list[str]
) -> None:
    assert run(["add", str(docs / "doc0.txt"), "--library", "work", "--no-vectors"]) == 0
    assert run(argv) == 2
    assert scripted.calls == 0


def test_an_unknown_library_is_one_clear_line_in_a_real_process(tmp_path: Path) -> None:
    result = longagent("ask", "--library", "nowhere", "anything?", home=tmp_path / "home")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no library 'nowhere'" in result.stderr and "longagent add" in result.stderr
    both = longagent("ask", "a.txt", "q?", "--library", "x", home=tmp_path / "home")
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.slow
def test_the_bundled_model_answers_over_a_small_library(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "harbour.txt").write_text(
        "The harbour of Lusk has four cranes. The cranes were painted orange in spring. "
        "Ferries leave for the islands twice a day."
    )
    (folder / "founders.md").write_text(
        "# Founders\n\nThe Bellwright glass company was founded by Oru Tamsin in 1921. "
        "It makes bells and lamps."
    )
    (folder / "bread.txt").write_text(
        "Bread in the northern valley is baked with rye. The bakers rise before dawn."
    )
    home = tmp_path / "home"
    assert longagent("add", str(folder), "-l", "small", home=home).returncode == 0
    result = longagent(
        "ask", "--library", "small", "Who founded the Bellwright glass company?", home=home
    )
    assert result.returncode == 0, result.stderr
    assert "Oru Tamsin" in result.stdout
    assert str((folder / "founders.md").resolve()) in " ".join(result.stdout.split())
