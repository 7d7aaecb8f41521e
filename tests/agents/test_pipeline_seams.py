"""Profiles, reading policies, settings and the thought store, at the facade."""

from __future__ import annotations

from pathlib import Path

import pytest

from longagent.agents import LanceThoughts, LongAgent, Relevance, Sweep
from longagent.agents.profiles import PROFILES, profile_for
from longagent.chunking import Document
from longagent.config import Settings
from longagent.errors import ConfigError, LongAgentError
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory import MemoryStore, ThoughtMemory
from longagent.memory.embedder import HashEmbedder

FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
BORN = "Kalomi was born in the town of Fenni."
DECOYS = [f"Kalomi did not know the birthplace of her friend {n}." for n in ("Ulo", "Pem", "Asta")]


def document(*facts: str) -> Document:
    return Document.create("\n\n".join(f"{FILLER}{fact} {FILLER}" for fact in facts))


def born_in_fenni(request: GenerationRequest) -> dict:
    if BORN in request.task.get("passage", ""):
        return {"quote": BORN, "answer": "Fenni"}
    return {"quote": "", "answer": ""}


def test_the_profile_follows_the_model_and_knobs_override_it() -> None:
    assert profile_for(ScriptedModel([])).name == "small"  # a 2K window
    assert profile_for(ScriptedModel([], context_window=32_768)).name == "large"
    # The bundled model stays small when extended: the registry hint says so.
    assert (
        profile_for(ScriptedModel([], name="smollm2-135m", context_window=32_768)).name == "small"
    )
    assert profile_for(ScriptedModel([]), "large", max_rounds=9).max_rounds == 9
    with pytest.raises(ConfigError):
        profile_for(ScriptedModel([]), "huge")


def test_the_profile_sets_chunk_size_and_focus_readings() -> None:
    doc = document(BORN)
    small = ScriptedModel(lambda r: {"quote": "", "answer": ""}, context_window=8192)
    agent = LongAgent(small)
    assert agent.profile.name == "small" and agent.chunk_tokens == PROFILES["small"].chunk_tokens
    agent.ask(doc, "Where was Kalomi born?")
    assert len(small.batches[1]) == 2  # each style's greedy reading: the search follows
    large = ScriptedModel(lambda r: {"quote": "", "answer": ""}, context_window=8192)
    LongAgent(large, profile="large", leader="rule").ask(doc, "Where was Kalomi born?")
    assert len(large.batches[1]) == 1  # one reading of the focused passage


def test_settings_choose_the_stages_and_arguments_win_over_settings() -> None:
    settings = Settings(profile="large", reading="relevance", max_rounds=2, leader="rule")
    agent = LongAgent(ScriptedModel([]), settings=settings)
    assert agent.profile.name == "large" and agent.max_rounds == 2
    assert isinstance(agent.reading, Relevance)
    agent = LongAgent(ScriptedModel([]), settings=settings, reading="sweep", max_rounds=3)
    assert isinstance(agent.reading, Sweep) and agent.max_rounds == 3


@pytest.mark.parametrize(
    "options",
    [{"max_rounds": 0}, {"max_rounds": -3}, {"chunk_tokens": 0}, {"wave": 0}, {"reading": "fast"}],
)
def test_bad_options_are_refused(options: dict) -> None:
    with pytest.raises(LongAgentError):
        LongAgent(ScriptedModel([]), **options)


def test_a_question_that_is_not_text_is_refused() -> None:
    with pytest.raises(LongAgentError):
        LongAgent(ScriptedModel([])).ask("Some text.", None)  # type: ignore[arg-type]


def test_thoughts_in_lancedb_outlive_the_agent(tmp_path: Path) -> None:
    """A finding kept in LanceDB by one agent ranks its chunk first for a paraphrased
    question asked by a new agent over a new store object (as in another process)."""
    doc = document(*DECOYS[:2], BORN, DECOYS[2])
    where = "In which town was Kalomi born?"
    paraphrase = "What do you know about the birthplace of Kalomi?"

    def agent(model: ScriptedModel, store: MemoryStore) -> LongAgent:
        thoughts = LanceThoughts(ThoughtMemory(store.thoughts))
        reading = Relevance(wave=2, embedder=HashEmbedder())
        return LongAgent(model, chunk_tokens=120, reading=reading, thoughts=thoughts)

    with MemoryStore(tmp_path / "store", HashEmbedder()) as store:
        agent(ScriptedModel(born_in_fenni), store).ask(doc, where)
        assert len(ThoughtMemory(store.thoughts)) == 1
    with MemoryStore(tmp_path / "store", HashEmbedder()) as store:
        model = ScriptedModel(born_in_fenni)
        answer = agent(model, store).ask(doc, paraphrase)
        assert answer.text == "Fenni"
        assert BORN in model.batches[0][0].task["passage"]  # the recalled chunk first
    with MemoryStore(tmp_path / "fresh", HashEmbedder()) as store:  # no thoughts: decoys first
        model = ScriptedModel(born_in_fenni)
        agent(model, store).ask(doc, paraphrase)
        assert BORN not in model.batches[0][0].task["passage"]
