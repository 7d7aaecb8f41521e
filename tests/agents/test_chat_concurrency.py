"""Two real processes chatting as one agent at once (scripted model, real LanceDB store):
their turns take turns, and neither loses the other's messages or core-memory edits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from longagent.agents.chat import ChatAgent
from longagent.llm import ScriptedModel

from ._chat_helpers import EMBEDDER

TURNS = 4

# One process: each turn saves the user's fact to core memory (with a heartbeat), then
# replies. The model is slow on purpose, so that without the agent's lock the two
# processes' turns would overlap.
WORKER = """
import sys, time
from longagent.agents.chat import ChatAgent
from longagent.llm import ScriptedModel
from longagent.memory.embedder import HashEmbedder

home, tag, turns = sys.argv[1], sys.argv[2], int(sys.argv[3])

def respond(request):
    time.sleep(0.2)
    last = request.messages[-1]
    if last.role == "tool":
        return {"function": "send_message", "parameters": {"message": f"Noted, {tag}."},
                "request_heartbeat": False}
    return {"function": "core_memory_append", "request_heartbeat": True,
            "parameters": {"block": "human", "content": last.content}}

chat = ChatAgent(ScriptedModel(respond), home, "shared", embedder=HashEmbedder(),
                 message_mode="json", auto_search=False)
print("ready", flush=True)
sys.stdin.readline()
for i in range(turns):
    chat.send(f"{tag} fact {i}: {tag} likes colour number {i}.")
    print(f"turn {i}", flush=True)
"""


def test_two_processes_on_one_agent_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ChatAgent(ScriptedModel([]), home, "shared", embedder=EMBEDDER).close()  # create it
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(home), tag, str(TURNS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("anna", "bert")
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        assert out.split("\n")[-2] == f"turn {TURNS - 1}"

    chat = ChatAgent(ScriptedModel([]), home, "shared", embedder=EMBEDDER)
    facts = [
        f"{t} fact {i}: {t} likes colour number {i}." for t in ("anna", "bert") for i in range(4)
    ]
    # Every message is in recall and in the saved context, each turn's four in a row.
    assert chat.store.recall.count(agent="shared") == 2 * TURNS * 4
    messages = chat.pager.messages
    assert len(messages) == 2 * TURNS * 4 and chat.pager.state.evicted == 0
    turns = [messages[i : i + 4] for i in range(0, len(messages), 4)]
    assert sorted(turn[0].content for turn in turns) == sorted(facts)
    for user, decision, result, reply in turns:
        tag = user.content.split()[0]
        assert user.role == "user" and user.content in decision.content
        assert result.role == "tool" and "appended to block 'human'" in result.content
        assert reply.content == f"Noted, {tag}."
    # Both processes' core-memory edits survive.
    assert sorted(chat.core["human"].splitlines()) == sorted(facts)
    tags = [turn[0].content.split()[0] for turn in turns]
    assert tags.count("anna") == tags.count("bert") == TURNS
