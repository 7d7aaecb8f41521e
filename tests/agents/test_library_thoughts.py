"""Thoughts kept in a library (real LanceDB in a temporary folder, scripted model, hashed
word vectors): a grounded answer is written with its citation, a later question recalls
it, its chunk is read first and the trace says so; a contradicted thought is replaced;
a damaged thoughts table is a clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from longagent.agents import LongAgent
from longagent.agents.library_qa import thought_store
from longagent.agents.types import Answer
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import HashEmbedder
from longagent.memory.errors import StoreDamagedError
from longagent.memory.library import Library

from .test_library_qa import BORN, make_library, words_count

WHERE = "Where was Kalomi born?"
TOSA = "Kalomi was born in the town of Tosa."
# Other chunks that name Kalomi: a reading without thoughts reads them too.
DECOYS = {1: "Kalomi visited the observatory in spring.", 2: "Kalomi bakes bread with rye."}


def reopen(tmp_path: Path) -> Library:
    """The library as another process opens it: a new object over the same folder."""
    return Library(tmp_path / "home", "work", embedder=HashEmbedder(), count_tokens=words_count)


def answering(*facts: tuple[str, str]):
    """A member answers `answer` when its passage holds `sentence`, else refuses."""

    def respond(request: GenerationRequest) -> dict:
        passage = request.task.get("passage", "")
        for sentence, answer in facts:
            if sentence in passage:
                return {"quote": sentence, "answer": answer}
        return {"quote": "", "answer": ""}

    return respond


def first_batch_passages(model: ScriptedModel) -> list[str]:
    return [r.task.get("passage", "") for r in model.batches[0]]


def thoughts_table(library: Library) -> list[dict]:
    return library.db.open_table("thoughts").to_arrow().drop_columns(["vector"]).to_pylist()


def decided_first(answer: Answer) -> bool:
    return any(r.recalled for r in answer.trace)


def test_a_grounded_answer_is_kept_with_its_citation(tmp_path: Path) -> None:
    library, paths = make_library(tmp_path, {4: BORN})
    answer = LongAgent(ScriptedModel(answering((BORN, "Fenni")))).ask(library, WHERE)
    assert answer.found and not decided_first(answer)  # nothing was recalled yet
    (row,) = thoughts_table(reopen(tmp_path))
    citation = answer.citations[0]
    assert row["doc_id"] == "library:work" and row["question"] == WHERE
    assert (row["document_id"], row["start"], row["end"]) == (
        citation.document_id,
        citation.start,
        citation.end,
    )
    assert row["chunk_id"] == citation.chunk_id and "Fenni" in row["text"]
    text = paths[4].read_text()
    assert text[row["start"] : row["end"]] == BORN


def test_a_recalled_thought_decides_what_is_read_first(tmp_path: Path) -> None:
    library, _ = make_library(tmp_path, {4: BORN, **DECOYS})
    first = ScriptedModel(answering((BORN, "Fenni")))
    LongAgent(first).ask(library, WHERE)
    assert len(first.batches[0]) > 1  # the first question reads the library's best chunks

    # Another model asks the same question: it reads the thought's passage first.
    again = ScriptedModel(answering((BORN, "Fenni")), name="another")
    answer = LongAgent(again).ask(reopen(tmp_path), WHERE)
    assert answer.found and answer.text == "Fenni"
    assert answer.trace[0].recalled == [WHERE]
    passages = first_batch_passages(again)
    assert passages and all(BORN in p for p in passages)  # the thought's passage, alone
    read = [r for r in answer.trace if r.members]
    assert read[0].kind == "search" and len(read[0].members) == 1
    start, end = read[0].passages[0]  # the quote and a sentence each side, not the chunk
    assert end - start < 250
    assert len(again.requests) < len(first.requests)
    (row,) = thoughts_table(reopen(tmp_path))  # the same finding merged, not repeated
    assert row["hits"] >= 2


def test_an_unrelated_question_reads_as_before(tmp_path: Path) -> None:
    library, _ = make_library(tmp_path, {4: BORN})
    LongAgent(ScriptedModel(answering((BORN, "Fenni")))).ask(library, WHERE)
    model = ScriptedModel(answering())
    answer = LongAgent(model).ask(reopen(tmp_path), "How often do trains leave for the coast?")
    assert not decided_first(answer)


# With `extract` too: the refused recalled passage's sentence must not answer in place of
# the planned reading (a thought-first reading never extracts).
@pytest.mark.parametrize("extract", [False, True])
def test_a_contradicted_thought_is_replaced_not_duplicated(tmp_path: Path, extract: bool) -> None:
    library, paths = make_library(tmp_path, {4: BORN, 1: TOSA})
    LongAgent(ScriptedModel(answering((BORN, "Fenni")))).ask(library, WHERE)
    (old,) = thoughts_table(reopen(tmp_path))
    assert "Fenni" in old["text"]
    # Another model's members find Tosa and refuse the Fenni chunk: the recalled chunk is
    # read first, grounds nothing, and the planned reading finds the other answer.
    model = ScriptedModel(answering((TOSA, "Tosa")), name="another")
    answer = LongAgent(model, extract=extract).ask(reopen(tmp_path), WHERE)
    assert answer.text == "Tosa" and decided_first(answer)
    assert [r.index for r in answer.trace] == list(range(len(answer.trace)))
    (new,) = thoughts_table(reopen(tmp_path))
    assert "Tosa" in new["text"] and new["id"] != old["id"]
    assert paths[1].read_text()[new["start"] : new["end"]] == TOSA


def test_thoughts_of_a_removed_document_are_not_read(tmp_path: Path) -> None:
    library, paths = make_library(tmp_path, {4: BORN, 2: DECOYS[2]})
    LongAgent(ScriptedModel(answering((BORN, "Fenni")))).ask(library, WHERE)
    other = LongAgent(ScriptedModel(answering((DECOYS[2], "rye")))).ask(library, "What bread?")
    assert len(thoughts_table(library)) == 2
    library.remove(str(paths[4]))
    kept = thoughts_table(reopen(tmp_path))  # forgotten with the document, the other kept
    assert [row["document_id"] for row in kept] == [other.citations[0].document_id]
    answer = LongAgent(ScriptedModel(answering())).ask(reopen(tmp_path), WHERE)
    assert not answer.found and not decided_first(answer)


def test_a_changed_file_forgets_the_thoughts_of_its_old_text(tmp_path: Path) -> None:
    library, paths = make_library(tmp_path, {4: BORN})
    LongAgent(ScriptedModel(answering((BORN, "Fenni")))).ask(library, WHERE)
    assert len(thoughts_table(library)) == 1
    paths[4].write_text(paths[4].read_text().replace(BORN, "Kalomi was born in Tosa."))
    library.add([paths[4]])
    assert thoughts_table(reopen(tmp_path)) == []


def test_a_damaged_thoughts_table_is_a_clear_error(tmp_path: Path) -> None:
    library, _ = make_library(tmp_path, {4: BORN})
    LongAgent(ScriptedModel(answering((BORN, "Fenni")))).ask(library, WHERE)
    for data in (library.root / "thoughts.lance" / "data").iterdir():
        data.write_bytes(os.urandom(data.stat().st_size))
    with pytest.raises(StoreDamagedError, match=r"thoughts of the library .* are damaged"):
        thought_store(reopen(tmp_path))
    with pytest.raises(StoreDamagedError, match=r"Move .*thoughts\.lance aside"):
        LongAgent(ScriptedModel(answering())).ask(reopen(tmp_path), WHERE)


def test_the_same_question_by_the_same_model_is_answered_from_its_thought(
    tmp_path: Path,
) -> None:
    library, paths = make_library(tmp_path, {4: BORN, **DECOYS})
    first = LongAgent(ScriptedModel(answering((BORN, "Fenni")))).ask(library, WHERE)
    silent = ScriptedModel([])  # any reading would fail: it has no replies
    again = LongAgent(silent).ask(reopen(tmp_path), "where was  KALOMI born")
    assert again.found and again.text == "Fenni" and again.citations == first.citations
    assert silent.requests == [] and again.usage.model_calls == 0
    assert again.trace[0].recalled == [WHERE] and not again.trace[0].members
    text = paths[4].read_text()
    assert text[again.citations[0].start : again.citations[0].end] == BORN
    (row,) = thoughts_table(reopen(tmp_path))  # restated: merged, not repeated
    assert row["hits"] >= 2


def test_a_repeat_is_read_again_unless_its_one_finding_is_sure(tmp_path: Path) -> None:
    library, _ = make_library(tmp_path, {4: BORN, 1: TOSA})
    # Two findings for one question (the members disagree): asked again, it is read.
    both = ScriptedModel(answering((BORN, "Fenni"), (TOSA, "Tosa")))
    LongAgent(both).ask(library, WHERE)
    assert len(thoughts_table(reopen(tmp_path))) == 2 or not both.requests
    model = ScriptedModel(answering((BORN, "Fenni"), (TOSA, "Tosa")))
    answer = LongAgent(model).ask(reopen(tmp_path), WHERE)
    assert model.requests and answer.trace[0].kind != "recall"


def test_thoughts_kept_before_they_named_their_model_are_read_again(tmp_path: Path) -> None:
    library, _ = make_library(tmp_path, {4: BORN})
    LongAgent(ScriptedModel(answering((BORN, "Fenni")))).ask(library, WHERE)
    library.db.open_table("thoughts").drop_columns(["model"])  # as an older version wrote it
    model = ScriptedModel(answering((BORN, "Fenni")))
    answer = LongAgent(model).ask(reopen(tmp_path), WHERE)
    assert answer.text == "Fenni" and model.requests  # no model named: not a sure repeat
    (row,) = thoughts_table(reopen(tmp_path))
    assert row["model"] == "scripted"  # the column is back, and the restated thought names it
