"""Subprocess for test_ask_file_reuse: `longagent ask FILE QUESTION ...` as the CLI runs
it, with a scripted model (a member answers "Fenni" from the chunk that says Kalomi was
born there, and refuses elsewhere) and hashed word vectors instead of MiniLM.

    python _ask_file_child.py ask FILE QUESTION [OPTIONS]
"""

from __future__ import annotations

import sys

from longagent.agents import file_library, thought_first
from longagent.apps import ask_cmd, cli
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import HashEmbedder

BORN = "Kalomi was born in the town of Fenni."


def respond(request: GenerationRequest) -> dict:
    if BORN in request.task.get("passage", ""):
        return {"quote": BORN, "answer": "Fenni"}
    return {"quote": "", "answer": ""}


if __name__ == "__main__":
    ask_cmd._load = lambda spec: ScriptedModel(respond, name="scripted-words")  # type: ignore[assignment]
    ask_cmd._warm_embedder = HashEmbedder  # type: ignore[assignment]
    file_library.MiniLMEmbedder = HashEmbedder  # type: ignore[assignment,misc]
    thought_first.MiniLMEmbedder = HashEmbedder  # type: ignore[assignment,misc]
    sys.exit(cli.run(sys.argv[1:]))
