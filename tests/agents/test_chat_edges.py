"""ChatAgent's public entry points refuse bad arguments with the library's errors, and a
message far larger than the context budget enters the context as a bounded excerpt while
recall keeps it whole. Scripted model, real LanceDB store."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from longagent.agents.chat import ChatAgent
from longagent.agents.chat_types import MAX_MESSAGE_CHARS, ArgumentError
from longagent.errors import LongAgentError
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.errors import StoreDamagedError
from longagent.names import AGENT_NAME

from ._chat_helpers import EMBEDDER, agent, say


@pytest.mark.parametrize("name", [None, 7, "", "nl\n", "..", ".hidden", "a.b", "a/b", "x" * 65])
def test_bad_agent_names_are_refused_before_anything_is_written(
    tmp_path: Path, name: object
) -> None:
    with pytest.raises(ArgumentError, match="agent name"):
        ChatAgent(ScriptedModel([]), tmp_path / "home", name, embedder=EMBEDDER)  # type: ignore[arg-type]
    assert not (tmp_path / "home").exists()


def test_the_one_name_rule_is_a_full_match() -> None:
    assert AGENT_NAME.fullmatch("alice_2-b") and AGENT_NAME.fullmatch("x" * 64)
    assert not AGENT_NAME.fullmatch("nl\n") and not re.fullmatch(AGENT_NAME, "a..b")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("budget", 0),
        ("budget", "big"),
        ("max_steps", 0),
        ("max_steps", True),
        ("max_retries", -1),
        ("reply_tokens", 1.5),
        ("recall_tokens", None),
        ("excerpt_tokens", 0),
        ("auto_search", "yes"),
        ("message_mode", "xml"),
        ("lock_timeout", "soon"),
        ("settings", {"home": "/tmp"}),
        ("document_roots", 5),
    ],
)
def test_bad_options_are_refused_by_name(tmp_path: Path, option: str, value: object) -> None:
    with pytest.raises(ArgumentError, match=option):
        ChatAgent(ScriptedModel([]), tmp_path, "alice", embedder=EMBEDDER, **{option: value})


def test_bad_calls_are_refused_with_the_library_errors(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="chat model"):
        ChatAgent(object(), tmp_path, "alice")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="home"):
        ChatAgent(ScriptedModel([]), 42, "alice")  # type: ignore[arg-type]
    chat, model = agent(tmp_path, [say("ok")])
    for text in (None, 3, b"hi"):
        with pytest.raises(ArgumentError, match="must be a str"):
            chat.send(text)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="empty"):
        chat.send("  \n")
    with pytest.raises(ArgumentError, match="documents"):
        chat.send("read this", documents=[None])  # type: ignore[list-item]
    with pytest.raises(ArgumentError, match="id"):
        chat.forget(None)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="path"):
        chat.export(None)  # type: ignore[arg-type]
    path = chat.export(tmp_path / "alice.json")
    with pytest.raises(ArgumentError, match="agent name"):
        ChatAgent.import_file(path, model, tmp_path / "other", name="../up", embedder=EMBEDDER)
    with pytest.raises(ArgumentError, match="chat model"):
        ChatAgent.import_file(path, None, tmp_path / "other")  # type: ignore[arg-type]
    assert model.calls == 0 and chat.store.recall.count() == 0  # nothing reached the agent
    assert isinstance(ArgumentError("x"), LongAgentError | ValueError)


def test_a_message_over_the_budget_enters_the_context_as_an_excerpt(tmp_path: Path) -> None:
    budget, recall_tokens = 400, 60
    seen: list[int] = []

    def respond(request: GenerationRequest) -> str | dict:
        seen.append(sum(len(m.content.split()) for m in request.messages))
        return say("I have read it.")

    chat, _ = agent(tmp_path, respond, budget=budget, recall_tokens=recall_tokens)
    words = [f"w{i}" for i in range(20_000)]
    words[10_000] = "pomegranate"  # only in the middle, which the excerpt leaves out
    text = " ".join(words) + " What is this list about?"
    reply = chat.send(text)
    assert reply.text == "I have read it."
    assert seen and max(seen) <= budget + recall_tokens  # never the 20,000 words
    context_user = next(m for m in chat.pager.context() if m.role == "user")
    assert context_user.content.endswith("What is this list about?")  # the question stays
    assert "pomegranate" not in context_user.content
    (stored,) = chat.store.recall.scan(agent="alice", role="user")
    assert stored.content == text  # recall keeps the whole message
    found = chat.functions.search_messages("pomegranate")
    assert found[0].id == stored.id  # found by a word only the middle holds
    chat.close()
    again, _ = agent(tmp_path, respond, budget=budget, recall_tokens=recall_tokens)
    assert again.pager.tokens() <= budget  # a restart rebuilds the same bounded context


def test_a_message_over_the_hard_cap_is_refused(tmp_path: Path) -> None:
    chat, model = agent(tmp_path, [say("ok")])
    with pytest.raises(ArgumentError, match="at most 1,000,000"):
        chat.send("x" * (MAX_MESSAGE_CHARS + 1))
    assert model.calls == 0 and chat.store.recall.count() == 0


def test_a_damaged_store_stops_the_agent_with_the_repair_command(tmp_path: Path) -> None:
    chat, _ = agent(tmp_path, [say("Hello.")])
    chat.send("Hi, I am Tomas.")
    chat.close()
    data = tmp_path / "home" / "agents" / "alice" / "memory" / "recall.lance" / "data"
    for file in data.iterdir():
        os.truncate(file, file.stat().st_size // 2)
    with pytest.raises(StoreDamagedError, match=r"recall table .*longagent repair"):
        agent(tmp_path, [])


def test_searching_a_huge_message_embeds_a_bounded_number_of_sentences(tmp_path: Path) -> None:
    from longagent.agents.chat_context import best_sentences
    from longagent.memory.embedder import HashEmbedder

    batches: list[int] = []

    class Counting(HashEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            batches.append(len(texts))
            return super().embed(texts)

    chat = ChatAgent(ScriptedModel([]), tmp_path, "alice", embedder=Counting())
    text = " ".join(f"Sentence number {i} is filler." for i in range(5000))
    text += " My sister Ines lives in Porto."
    batches.clear()
    (shown,) = chat.functions.focus("where does my sister live", [text])
    assert "Ines lives in Porto" in shown
    (best,) = best_sentences(chat.functions, "where does my sister live", [text])
    assert "Ines lives in Porto" in best[1]
    assert max(batches) <= 49  # the query and at most 48 sentences, not 5,001
