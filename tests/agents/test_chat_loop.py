"""ChatAgent's loop with a scripted model: one call per step, heartbeats, the step limit,
invalid outputs and failing functions fed back to the model, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from longagent.agents.chat import NO_REPLY
from longagent.agents.chat_functions import WRITES, as_call
from longagent.llm import GenerationRequest

from ._chat_helpers import agent, call, offered, say


def test_a_message_ends_the_turn_and_is_recorded(tmp_path: Path) -> None:
    chat, model = agent(tmp_path, [say("Hello Tomas!")])
    reply = chat.send("Hi, I am Tomas.")
    assert reply.text == "Hello Tomas!" and reply.called == ["send_message"]
    assert reply.steps == 1 and reply.usage.model_calls == 1 and model.calls == 1
    assert set(offered(model.requests[0])) >= {"send_message", *WRITES, "read_document"}
    assert "archival_memory_search" not in offered(model.requests[0])  # archival is empty
    context = chat.pager.context()
    assert context[0].role == "system" and "core_memory_append" in context[0].content
    assert "<persona" in context[0].content and "<human" in context[0].content
    assert [(m.role, m.content) for m in context[1:]] == [
        ("user", "Hi, I am Tomas."),
        ("assistant", "Hello Tomas!"),
    ]
    assert chat.store.recall.count(agent="alice") == 2


def test_free_mode_decides_in_json_then_writes_the_message_as_text(tmp_path: Path) -> None:
    def respond(request: GenerationRequest) -> str | dict:
        if request.json_schema is None:
            return "  Your sister is Ines.  "
        return {"function": "send_message", "parameters": {}}

    chat, model = agent(tmp_path, respond, message_mode="free")
    reply = chat.send("Who is my sister?")
    assert reply.text == "Your sister is Ines." and reply.steps == 1
    decide, compose = model.requests
    assert decide.json_schema is not None and compose.json_schema is None
    assert compose.messages == decide.messages  # same context, two formats


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("I am here to help. " * 60, "I am here to help."),  # a loop is cut where it starts
        ("No, " * 80, "No"),  # measured on the bundled model
        (" ".join(f"Point {i} is here." for i in range(99)), "Point 0 is here."),  # rambling
    ],
)
def test_a_looping_or_rambling_free_text_message_is_cut(
    tmp_path: Path, output: str, message: str
) -> None:
    def respond(request: GenerationRequest) -> str | dict:
        if request.json_schema is None:
            return output
        return {"function": "send_message", "parameters": {}}

    chat, _ = agent(tmp_path, respond, message_mode="free")
    reply = chat.send("Hello?")
    assert reply.called == ["send_message"] and reply.text.startswith(message)
    assert len(reply.text) <= 600 and reply.text == reply.text.rstrip(",")
    assert reply.text.endswith(".") or reply.text == "No"  # at a sentence end


def test_a_repeated_call_leaves_only_send_message(tmp_path: Path) -> None:
    chat, model = agent(
        tmp_path,
        [
            call("conversation_search", query="job"),
            call("conversation_search", query="job"),
            say("I do not know your job."),
        ],
        max_steps=5,
        max_retries=3,
    )
    reply = chat.send("What is my job?")
    assert "already made" in reply.function_calls[1].error
    assert offered(model.requests[2]) == ["send_message"] and reply.steps == 3


def test_heartbeat_chains_a_memory_write_before_the_reply(tmp_path: Path) -> None:
    chat, model = agent(
        tmp_path,
        [
            call("core_memory_append", heartbeat=True, block="human", content="Sister: Ines."),
            say("Noted: your sister is Ines."),
        ],
    )
    reply = chat.send("My sister is called Ines.")
    assert reply.called == ["core_memory_append", "send_message"] and reply.steps == 2
    assert chat.core["human"] == "Sister: Ines."
    assert "appended to block 'human'" in reply.function_calls[0].result
    second = model.requests[1]
    assert "Sister: Ines." in second.messages[0].content  # core memory is in the prompt
    assert second.messages[-1].role == "tool" and "core_memory_append returned" in (
        second.messages[-1].content
    )
    assert json.loads(second.messages[-2].content)["function"] == "core_memory_append"


def test_without_heartbeat_the_model_still_gets_to_reply(tmp_path: Path) -> None:
    chat, _ = agent(
        tmp_path,
        [call("archival_memory_insert", content="Tomas likes jazz."), say("Saved.")],
    )
    reply = chat.send("Remember that I like jazz.")
    assert reply.called == ["archival_memory_insert", "send_message"]
    assert [e.text for e in chat.store.archival] == ["Tomas likes jazz."]


def test_a_failing_function_returns_its_error_to_the_model(tmp_path: Path) -> None:
    chat, model = agent(
        tmp_path,
        [
            call("core_memory_replace", block="human", old_content="Paris", replacement="Rome"),
            call("core_memory_append", block="nosuch", content="x"),
            say("Sorry, I could not change that."),
        ],
    )
    reply = chat.send("I moved from Paris to Rome.")
    replace, append, _ = reply.function_calls
    assert "not in it" in replace.error and "no core memory block 'nosuch'" in append.error
    assert "core_memory_replace failed" in model.requests[1].messages[-1].content
    assert reply.text == "Sorry, I could not change that."
    assert chat.core["human"] == ""


def test_memory_writes_need_evidence_in_the_conversation(tmp_path: Path) -> None:
    persona = "I am a friendly, concise assistant."
    chat, _ = agent(
        tmp_path,
        [
            call("core_memory_append", block="human", content=persona),
            call("archival_memory_insert", content="Paris. Paris. Paris."),
            call("core_memory_append", block="human", content="The user says hello from Paris."),
            call("core_memory_append", block="human", content="The user says hello from Paris."),
            say("Hello!"),
        ],
        max_steps=5,
        max_retries=5,
    )
    reply = chat.send("Hello from Paris! Hello!")
    invented, repeating, grounded, again, _ = reply.function_calls
    assert "not in the conversation" in invented.error
    assert "repeats itself" in repeating.error
    assert grounded.error is None and chat.core["human"] == "The user says hello from Paris."
    assert "already made in this turn" in again.error
    assert len(chat.store.archival) == 0


def test_a_memory_write_in_other_forms_of_the_words_said_is_grounded(tmp_path: Path) -> None:
    chat, _ = agent(
        tmp_path,
        [
            call("core_memory_append", block="human", content="The user hikes with dogs."),
            say("Nice!"),
        ],
    )
    reply = chat.send("I was hiking with my two dogs yesterday.")
    assert reply.function_calls[0].error is None
    assert chat.core["human"] == "The user hikes with dogs."


def test_invalid_outputs_are_retried_then_only_send_message_is_offered(tmp_path: Path) -> None:
    chat, model = agent(
        tmp_path,
        ["not json at all", {"function": "fly_to_the_moon"}, "{", say("Hello.")],
        max_steps=5,
        max_retries=2,
    )
    reply = chat.send("Hi")
    assert reply.text == "Hello." and reply.invalid_outputs == 3 and reply.steps == 4
    assert "not a valid function call" in model.requests[1].messages[-1].content
    assert offered(model.requests[3]) == ["send_message"]  # retries used up
    # The error notes are transient: nothing but the exchange reached recall.
    assert [m.role for m in chat.pager.messages] == ["user", "assistant"]


def test_a_model_that_never_makes_a_valid_call_gets_no_reply_not_a_crash(
    tmp_path: Path,
) -> None:
    chat, model = agent(tmp_path, lambda r: "garbage", max_steps=3)
    reply = chat.send("Hi")
    assert reply.text == NO_REPLY and reply.steps == 3 and model.calls == 3
    assert chat.send("Still there?").text == NO_REPLY  # and the agent keeps working


def test_step_limit_bounds_the_chain_and_the_last_step_must_reply(tmp_path: Path) -> None:
    def respond(request: GenerationRequest) -> dict:
        if offered(request) == ["send_message"]:
            return say("Done searching.")
        return call("conversation_search", heartbeat=True, query="anything")

    chat, model = agent(tmp_path, respond, max_steps=3)
    reply = chat.send("Search forever, please.")
    assert reply.called == ["conversation_search", "conversation_search", "send_message"]
    assert reply.steps == 3 and reply.text == "Done searching."
    assert offered(model.requests[-1]) == ["send_message"]


def test_the_free_text_message_is_written_without_the_turns_failed_calls(
    tmp_path: Path,
) -> None:
    decisions = [
        call("archival_memory_insert", content="fictitious"),  # refused: never said
        call("core_memory_append", heartbeat=True, block="human", content="Name: Tomas."),
        {"function": "send_message", "parameters": {}},
    ]

    def respond(request: GenerationRequest) -> str | dict:
        return decisions.pop(0) if request.json_schema is not None else "You are Tomas."

    chat, model = agent(tmp_path, respond, message_mode="free", max_steps=4)
    reply = chat.send("Who am I? I am Tomas.")
    assert reply.called == ["archival_memory_insert", "core_memory_append", "send_message"]
    assert reply.text == "You are Tomas." and "not in the conversation" in (
        reply.function_calls[0].error
    )
    compose = model.requests[-1]
    shown = " ".join(m.content for m in compose.messages)
    assert compose.json_schema is None and "fictitious" not in shown
    assert "core_memory_append returned" in shown  # what worked is still there
    assert "fictitious" in " ".join(m.content for m in chat.pager.messages)  # and recorded


def test_an_earlier_turn_s_failed_call_is_not_shown_when_the_message_is_written(
    tmp_path: Path,
) -> None:
    decisions = [
        call("core_memory_append", block="Gdansk", content="Tomasz"),  # no such block
        {"function": "send_message", "parameters": {}},
        {"function": "send_message", "parameters": {}},
    ]

    def respond(request: GenerationRequest) -> str | dict:
        return decisions.pop(0) if request.json_schema is not None else "Hello Tomasz."

    chat, model = agent(tmp_path, respond, message_mode="free")
    first = chat.send("Hi, I am Tomasz and I live in Gdansk.")
    assert first.function_calls[0].error and first.text == "Hello Tomasz."
    chat.send("Where do I live?")
    compose = model.requests[-1]
    shown = " ".join(m.content for m in compose.messages)
    assert compose.json_schema is None and "tool" not in [m.role for m in compose.messages]
    assert not [m for m in compose.messages if as_call(m.content)]
    assert "I live in Gdansk" in shown and "Hello Tomasz." in shown  # the talk itself stays
    # The refused call is still in the transcript.
    assert "core_memory_append" in " ".join(
        m.content for m in chat.store.recall.scan(agent="alice")
    )


def test_a_message_written_as_a_function_call_is_not_sent(tmp_path: Path) -> None:
    messages = ['{"function": "core_memory_append", "parameters": {"block": "human"}}', "Hi!"]

    def respond(request: GenerationRequest) -> str | dict:
        if request.json_schema is None:
            return messages.pop(0)
        return {"function": "send_message", "parameters": {}}

    chat, _ = agent(tmp_path, respond, message_mode="free")
    reply = chat.send("Hello?")
    assert reply.text == "Hi!" and reply.invalid_outputs == 1
