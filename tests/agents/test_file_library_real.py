"""`ask FILE` through the implicit library with the real bundled model and MiniLM, each
question by new objects (as a new process): the same question again is answered from its
thought; asked in other words, it reads the chunk its thought recalls first, alone, and
gives the same cited answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from longagent.agents import Answer, LongAgent
from longagent.agents.file_library import FileLibrary
from longagent.apps.bench.qa_data import make_sample
from longagent.chunking import load

pytestmark = pytest.mark.slow


def test_a_repeat_is_answered_from_its_thought_and_a_paraphrase_reads_it_first(
    tmp_path: Path, bundled_model
) -> None:
    sample = make_sample("single", 2048, 0.6, 0, bundled_model.count_tokens)
    person = sample.question.removeprefix("In which town was ").removesuffix(" born?")
    path = tmp_path / "haystack.txt"  # other chunks name the person too: the sweep reads them
    path.write_text(
        f"{person} visited the harbour every spring.\n\n{sample.document}\n\n"
        f"{person} kept bees behind the mill."
    )

    def ask(question: str) -> tuple[Answer, FileLibrary]:
        agent = LongAgent(bundled_model)
        files = FileLibrary(tmp_path / "home", bundled_model, agent.chunk_tokens)
        prepared = files.prepare(load(path), path)
        answer = agent.ask(prepared, question)
        files.keep(prepared)
        return answer, files

    first, _ = ask(sample.question)
    town = sample.answers[0]
    assert first.found and town.lower() in first.text.lower()
    assert len(first.trace[0].members) > 1
    # The same question again: its remembered answer, its quote checked, nothing read.
    second, files = ask(sample.question)
    assert files.reuse.chunks and files.reuse.thoughts >= 1
    assert second.trace[0].recalled == [sample.question] and second.usage.model_calls == 0
    assert second.text == first.text and second.citations == first.citations
    # Asked in other words: the remembered passage is read first, alone.
    third, _ = ask(f"Where was {person} born?")
    assert sample.question in third.trace[0].recalled
    read = [r for r in third.trace if r.members]
    assert read[0].kind == "search" and len(read[0].members) == 1
    assert town.lower() in third.text.lower() and third.citations == first.citations
