"""The `longagent chat` REPL, in process with a scripted model and piped lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from longagent.agents.chat import ChatAgent
from longagent.apps.chat_cmd import repl
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import HashEmbedder


def respond(request: GenerationRequest) -> str | dict:
    last = request.messages[-1].content
    if request.json_schema is None:
        return "Hello Tomas."
    if last.startswith("Remember"):
        return {
            "function": "archival_memory_insert",
            "parameters": {"content": "Tomas has a cat called Miso."},
            "request_heartbeat": True,
        }
    return {"function": "send_message", "parameters": {}}


def run(lines: list[str], chat: ChatAgent) -> str:
    buffer = io.StringIO()
    repl(chat, lines, Console(file=buffer, width=200, color_system=None))
    return buffer.getvalue()


def test_the_repl_chats_and_runs_every_command(tmp_path: Path) -> None:
    chat = ChatAgent(ScriptedModel(respond), tmp_path, "alice", embedder=HashEmbedder())
    out = run(
        [
            "/help",
            "Hi, I am Tomas.",
            "Remember that my cat is called Miso.",
            "",
            "/core",
            "/archival cat",
            "/recall Tomas",
            "/thoughts anything",
            "/archival",
            "/nonsense",
            f"/export {tmp_path / 'alice.json'}",
            "/read /no/such/file.txt What is it?",
            "/quit",
            "never read",
        ],
        chat,
    )
    assert "/forget ID" in out  # help
    assert out.count("agent> Hello Tomas.") >= 2
    assert "archival_memory_insert: stored in archival memory" in out
    assert "persona" in out and "human" in out  # core blocks
    (entry,) = chat.store.archival
    assert f"{entry.id} Tomas has a cat called Miso." in out
    assert "user Hi, I am Tomas." in out  # recall
    assert "no thoughts entries match" in out
    assert "usage: /archival QUERY" in out and "unknown command /nonsense" in out
    assert json.loads((tmp_path / "alice.json").read_text())["name"] == "alice"
    assert "auto read_document: error: there is no file at /no/such/file.txt" in out
    assert "never read" not in out and chat.store.recall.count(agent="alice") < 12

    out = run([f"/forget {entry.id[:8]}", f"/forget {entry.id[:8]}"], chat)
    assert "forgot" in out and "(archival)" in out and "nothing to forget" in out
    assert len(chat.store.archival) == 0


def test_errors_print_and_the_repl_goes_on(tmp_path: Path) -> None:
    chat = ChatAgent(ScriptedModel(respond), tmp_path, "alice", embedder=HashEmbedder())
    out = run([f"/export {tmp_path}", "Hi"], chat)  # a folder is not a file
    assert "error: cannot write the agent file" in out and "Hello Tomas." in out
