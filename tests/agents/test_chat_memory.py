"""ChatAgent's memory with a scripted model: search, memory pressure and eviction, the
automatic recall, persistence across agents, export and import, forget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from longagent.agents.chat import ChatAgent
from longagent.agents.chat_types import prompt
from longagent.errors import LongAgentError
from longagent.llm import GenerationRequest, ScriptedModel

from ._chat_helpers import EMBEDDER, agent, call, offered, say

# How the recall note begins, read from its prompt file: rewording the prompt breaks no test.
NOTE = prompt("chat_recall").split("{")[0].strip()


def test_search_shows_a_repeated_message_once(tmp_path: Path) -> None:
    chat, _ = agent(tmp_path, [])
    for _ in range(3):
        chat.pager.append("assistant", "Welcome back! How are you?")
    chat.pager.append("user", "I work as a pilot.")
    found = chat.functions.search_messages("welcome back how are you pilot", limit=3)
    assert sorted(m.content for m in found) == ["I work as a pilot.", "Welcome back! How are you?"]


def test_a_long_message_found_by_search_shows_its_best_sentence(tmp_path: Path) -> None:
    chat, _ = agent(tmp_path, [])
    small_talk = "We walked along the canal and counted the herons on the far bank. " * 4
    chat.pager.append("user", f"{small_talk}By the way, my car is a red Fiat.")
    found = chat.functions.run("conversation_search", {"query": "what car do I drive"})
    assert "… By the way, my car is a red Fiat." in found and "herons" not in found


def test_archival_search_returns_pages(tmp_path: Path) -> None:
    chat, model = agent(
        tmp_path,
        [
            call("archival_memory_search", heartbeat=True, query="jazz"),
            call("archival_memory_search", heartbeat=True, query="jazz", page=5),
            say("You like jazz."),
        ],
    )
    from longagent.memory import ArchivalEntry

    chat.store.archival.add([ArchivalEntry(text="Tomas likes jazz and blues.")])
    reply = chat.send("What music do I like?")
    assert "archival_memory_search" in offered(model.requests[0])  # now there is something
    auto, first, empty, _ = reply.function_calls
    assert auto.auto and "Tomas likes jazz" in auto.result  # the pre-fetch found it too
    assert "Tomas likes jazz and blues." in first.result
    assert "no archival memory matches" in empty.result
    assert "Tomas likes jazz and blues." in model.requests[1].messages[-1].content


def test_conversation_search_by_text_and_date_range(tmp_path: Path) -> None:
    chat, _ = agent(
        tmp_path,
        [
            say("Nice."),
            call("conversation_search", heartbeat=True, query="violin"),
            call("conversation_search", heartbeat=True, since="2000-01-01", until="2000-12-31"),
            call("conversation_search", heartbeat=True, since="2099-01-01"),
            call("conversation_search", heartbeat=True),
            say("You play the violin."),
        ],
        max_steps=6,
    )
    chat.send("I play the violin in an orchestra.")
    reply = chat.send("What do I play?")
    text, old, today, nothing, _ = reply.function_calls
    assert "violin in an orchestra" in text.result and "user:" in text.result
    assert "no past messages match" in old.result
    assert "no past messages match" in today.result
    assert "give a query, a date range, or both" in nothing.error
    day = chat.pager.messages[0].created_at.strftime("%Y-%m-%d")
    args = {"since": day, "until": day}
    assert "violin in an orchestra" in chat.functions.run("conversation_search", args)
    with pytest.raises(LongAgentError, match="since is after until"):
        chat.functions.run("conversation_search", {"since": "2020-02-02", "until": "2020-01-01"})


# -- memory pressure -----------------------------------------------------------------------


def test_tiny_budget_evicts_into_a_summary_and_search_finds_the_evicted_fact(
    tmp_path: Path,
) -> None:
    def respond(request: GenerationRequest) -> str | dict:
        if request.json_schema is None:  # the pager's summary request
            return "The user talked about their sister Ines in Lisbon, then the weather."
        last_user = next(m.content for m in reversed(request.messages) if m.role == "user")
        if "sister" in last_user and "?" in last_user:
            return say("Your sister is Ines.")
        return say("I see.")

    chat, model = agent(tmp_path, respond, budget=320, auto_search=True)
    system_tokens = chat.pager.tokens()
    chat.send("My sister is called Ines and she lives in Lisbon.")
    filler = "the weather today is grey and windy with some light rain " * 3
    replies = [chat.send(f"{i}: {filler}") for i in range(6)]
    assert any(r.warning for r in replies), "memory pressure was reported"
    evicted = [i for r in replies for i in r.evicted]
    assert evicted and chat.pager.summary.startswith("The user talked")
    assert chat.pager.tokens() <= chat.pager.budget and system_tokens < chat.pager.budget
    fact = chat.store.recall.search("sister Ines Lisbon", agent="alice", limit=1)[0].record
    assert fact.id in evicted and fact.id not in {m.id for m in chat.pager.messages}

    found = chat.functions.run("conversation_search", {"query": "sister Lisbon"})
    assert "My sister is called Ines" in found

    reply = chat.send("What is my sister called?")
    auto = [c for c in reply.function_calls if c.auto]
    assert auto and auto[0].name == "conversation_search"
    assert "My sister is called Ines" in auto[0].result
    request = model.requests[-1]
    notes = [m.content for m in request.messages if NOTE in m.content]
    assert notes and "My sister is called Ines" in notes[0]
    assert reply.text == "Your sister is Ines."


def test_the_automatic_search_shows_the_matching_sentence_next_to_the_question(
    tmp_path: Path,
) -> None:
    def respond(request: GenerationRequest) -> str | dict:
        if request.json_schema is None:  # the pager's summary request
            return "The user walked along the canal and counted herons."
        return say("It is a red Fiat.")

    chat, model = agent(tmp_path, respond, budget=200)
    chat.pager.append(
        "user",
        "We walked along the canal and counted the herons on the far bank. "
        "By the way, my car is a red Fiat. The herons flew off at dusk.",
    )
    while not chat.pager.state.evicted:
        chat.pager.append("assistant", "That sounds lovely, tell me more about the walk.")
    reply = chat.send("What car do I drive?")
    (auto,) = [c for c in reply.function_calls if c.auto]
    assert auto.result.splitlines()[0] == '- the user said: "By the way, my car is a red Fiat."'
    assert "herons" not in auto.result  # one sentence per message: the one that matched
    decide = next(r for r in reversed(model.requests) if r.json_schema is not None)
    messages = decide.messages
    note = next(i for i, m in enumerate(messages) if NOTE in m.content)
    assert messages[note + 1].content == "What car do I drive?"  # right before the question


def test_no_prefetch_without_auto_search(tmp_path: Path) -> None:
    chat, model = agent(tmp_path, lambda r: say("ok"), auto_search=False)
    from longagent.memory import ArchivalEntry

    chat.store.archival.add([ArchivalEntry(text="A note.")])
    reply = chat.send("A note?")
    assert not [c for c in reply.function_calls if c.auto]
    assert not any(NOTE in m.content for m in model.requests[0].messages)


# -- persistence ---------------------------------------------------------------------------


def test_a_new_agent_with_the_same_home_and_name_carries_on(tmp_path: Path) -> None:
    first, _ = agent(
        tmp_path,
        [
            call("core_memory_append", heartbeat=True, block="human", content="Name: Tomas."),
            call("archival_memory_insert", heartbeat=True, content="Tomas plays chess."),
            say("Hi Tomas."),
        ],
    )
    first.send("I am Tomas and I play chess.")
    first.pager.state.summary = "Earlier, Tomas said hello."
    first.pager._save_state()
    first.close()

    second, model = agent(tmp_path, [say("You are Tomas.")])
    second.send("Who am I?")
    system = model.requests[0].messages[0].content
    assert "Name: Tomas." in system and "Earlier, Tomas said hello." in system
    contents = [m.content for m in model.requests[0].messages[1:]]
    assert contents[0] == "I am Tomas and I play chess." and contents[-1] == "Who am I?"
    assert [e.text for e in second.store.archival] == ["Tomas plays chess."]
    assert second.store.recall.count(agent="alice") == 8  # 2 turns, 2 calls with results


def test_several_agents_share_a_home_without_sharing_memory(tmp_path: Path) -> None:
    alice, _ = agent(
        tmp_path,
        [call("core_memory_append", block="human", content="Name: Anna."), say("a")],
    )
    bob, bob_model = agent(tmp_path, [say("b")], name="bob")
    alice.send("I am Anna.")
    bob.send("I am Bert.")
    assert alice.dir.parent == bob.dir.parent and alice.dir != bob.dir
    assert bob.core["human"] == "" and alice.core["human"] == "Name: Anna."
    assert "Anna" not in " ".join(m.content for m in bob_model.requests[0].messages)
    assert all(m.agent == "bob" for m in bob.functions.search_messages("I am Anna"))


def test_agent_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(LongAgentError, match="not allowed"):
        agent(tmp_path, [], name="../escape")
    chat, _ = agent(tmp_path, [])
    with pytest.raises(LongAgentError, match="empty"):
        chat.send("   ")


def test_export_and_import_round_trip(tmp_path: Path) -> None:
    chat, _ = agent(
        tmp_path,
        [
            call("core_memory_append", heartbeat=True, block="human", content="Likes tea."),
            call("archival_memory_insert", heartbeat=True, content="Tea: oolong."),
            say("Noted."),
        ],
    )
    chat.send("I like oolong tea.")
    chat.thoughts.insert("The report says revenue grew 5%.", doc_id="doc1", question="q")
    chat.pager.state.summary = "They met."
    chat.pager._save_state()
    path = chat.export(tmp_path / "alice.json")
    data = json.loads(path.read_text())
    assert data["format"] == "longagent-chat-agent" and len(data["recall"]) == 6

    model = ScriptedModel([say("Welcome back.")])
    copy = ChatAgent.import_file(
        path, model, home=tmp_path / "other", name="alice2", embedder=EMBEDDER, message_mode="json"
    )
    assert copy.core["human"] == "Likes tea." and copy.pager.summary == "They met."
    assert [e.text for e in copy.store.archival] == ["Tea: oolong."]
    assert [t.text for t in copy.store.thoughts] == ["The report says revenue grew 5%."]
    assert [m.id for m in copy.pager.messages] == [m.id for m in chat.pager.messages]
    assert all(m.agent == "alice2" for m in copy.pager.messages)
    assert copy.functions.search_messages("oolong tea")  # recall is searchable again
    copy.send("Hello again.")
    assert "Likes tea." in model.requests[0].messages[0].content

    with pytest.raises(LongAgentError, match="already exists"):
        ChatAgent.import_file(path, model, home=tmp_path / "other", name="alice2")
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(LongAgentError, match="not a longagent chat-agent export"):
        ChatAgent.import_file(tmp_path / "bad.json", model, home=tmp_path / "x")


def test_forget_archival_entries_and_thoughts(tmp_path: Path) -> None:
    chat, _ = agent(tmp_path, [])
    from longagent.memory import ArchivalEntry

    (entry,) = chat.store.archival.add([ArchivalEntry(text="Old phone number 555.")])
    thought = chat.thoughts.insert("A finding.", doc_id="d").thought
    assert chat.forget(entry[:8]) == "archival" and len(chat.store.archival) == 0
    assert chat.forget(thought.id) == "thoughts" and len(chat.store.thoughts) == 0
    assert chat.forget(thought.id) is None
    assert chat.forget("'; drop table") is None and chat.forget("abc") is None
