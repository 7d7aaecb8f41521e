"""Helpers for the chat agent's scripted-model tests (test_chat_*.py): a scripted model
drives the loop on the real LanceDB store.

The embedder is a hashing bag-of-words (fast, no torch); hybrid search still runs the
real vector and full-text legs. Tokens are whitespace words (ScriptedModel).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from longagent.agents.chat import ChatAgent
from longagent.agents.library_qa import document_hits
from longagent.agents.types import Answer, Citation
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import HashEmbedder
from longagent.memory.library import Library

EMBEDDER = HashEmbedder()


def call(function: str, heartbeat: bool = False, **parameters: Any) -> dict:
    return {"function": function, "parameters": parameters, "request_heartbeat": heartbeat}


def say(message: str) -> dict:
    return call("send_message", message=message)


def offered(request: GenerationRequest) -> list[str]:
    """The function names a constrained request allows."""
    schema = request.json_schema or {}
    variants = schema.get("anyOf") or [schema]
    names = []
    for variant in variants:
        ref = variant.get("$ref", "")
        body = schema["$defs"][ref.split("/")[-1]] if ref else variant
        names.append(body["properties"]["function"]["const"])
    return names


def agent(
    tmp_path: Path, script: list | Callable, name: str = "alice", **kwargs: Any
) -> tuple[ChatAgent, ScriptedModel]:
    model = ScriptedModel(script, context_window=kwargs.pop("window", 4096))
    kwargs.setdefault("message_mode", "json")
    return ChatAgent(model, tmp_path / "home", name, embedder=EMBEDDER, **kwargs), model


class FakeReader:
    """Stands in for LongAgent: answers with a quote from the file it is given."""

    def __init__(self) -> None:
        self.asked: list[tuple[Document, str]] = []

    def ask(self, library: Library, question: str, document: str) -> Answer:
        """`document` of `library`, as read_document asks it; its text from its chunks."""
        text = "\n\n".join(h.text for h in document_hits(library, document))
        self.asked.append((Document.create(text), question))
        return Answer(
            question=question,
            text=text,
            found=True,
            citations=[Citation(chunk_id="c0", chunk_index=0, start=0, end=len(text), quote=text)],
            document_id="doc-1",
        )
