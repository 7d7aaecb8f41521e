"""Helpers for the web app tests: a scripted model that plays both the LongAgent members
and the chat agent (deterministic control flow), documents to ask, a minimal PDF, and a
real uvicorn server on a free port. Loaded by path (see `load_helpers` in conftest.py)."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from longagent.llm import GenerationRequest, ScriptedModel

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

FILLER = "Modules provide functions and classes for many ordinary tasks in programs. " * 6
BORN_RENDA = "Kalomi was born in the town of Renda."
BORN_TOSA = "Kalomi was born in the town of Tosa."
# A fact whose sentence is markup: the quote, the answer and the document must stay text.
XSS_FACT = "The secret word is zebra<script>window.__pwned = 1; document.title = 'pwned'</script>."
XSS_IMG = '<img src="x" onerror="window.__pwned = 2">'
ANSWERS = {BORN_RENDA: "Renda", BORN_TOSA: "Tosa", XSS_FACT: "zebra"}

SISTER = "My sister is called Ines and she lives in Porto."


def document_text(*facts: str, filler_before: int = 1, filler_after: int = 1) -> str:
    """One paragraph per fact, among filler, so each fact lands in its own chunk."""
    paragraphs = [FILLER] * filler_before
    for fact in facts:
        paragraphs += [f"{FILLER}{fact} {FILLER}"] + [FILLER] * filler_after
    return "\n\n".join(paragraphs)


def _chunk(request: GenerationRequest) -> str:
    content = request.messages[-1].content
    return content.split("<document part>\n", 1)[-1].split("\n</document part>", 1)[0]


def _member(request: GenerationRequest) -> dict[str, str]:
    content = request.messages[-1].content
    if "<document part 1>" in content:  # a pair re-reading both chunks: Renda stands
        return {"quote": BORN_RENDA, "answer": "Renda"} if BORN_RENDA in content else {}
    chunk = _chunk(request)
    for fact, answer in ANSWERS.items():
        if fact in chunk:
            return {"quote": fact, "answer": answer}
    return {"quote": "", "answer": ""}


def _chat(request: GenerationRequest) -> str | dict[str, Any]:
    """The chat agent: saves what the user says about their sister, then replies."""
    messages = request.messages
    last_user = max(i for i, m in enumerate(messages) if m.role == "user")
    user, after = messages[last_user].content, messages[last_user + 1 :]
    done = " ".join(m.content for m in after if m.role == "tool")
    if request.json_schema is None:
        if "running summary" in messages[-1].content:
            return "The user greeted the agent several times."
        return "Noted: your sister Ines lives in Porto." if "sister" in user else "Hello!"
    call: dict[str, Any] = {"function": "send_message", "parameters": {}}
    if "sister" in user and "core_memory_append" not in done:
        call = {
            "function": "core_memory_append",
            "parameters": {"block": "human", "content": "Sister is called Ines."},
        }
    elif "sister" in user and "archival_memory_insert" not in done:
        call = {
            "function": "archival_memory_insert",
            "parameters": {"content": "Ines lives in Porto."},
        }
    return {**call, "request_heartbeat": call["function"] != "send_message"}


def respond(request: GenerationRequest) -> str | dict[str, Any]:
    schema = json.dumps(request.json_schema or {})
    if '"quote"' in schema:
        return _member(request)
    return _chat(request)


class PacedModel(ScriptedModel):
    """The scripted model, taking `pace` seconds per batch, so that a browser sees the
    progress of a question arrive before its answer."""

    def __init__(self, pace: float = 0.0) -> None:
        super().__init__(respond, context_window=1024)
        self.pace = pace

    def generate(self, requests: Any) -> Any:
        time.sleep(self.pace)
        return super().generate(requests)


def scripted_model(pace: float = 0.0) -> ScriptedModel:
    return PacedModel(pace)


class GatedModel(PacedModel):
    """The scripted model, whose generation waits while `gate` is closed: a test holds a
    job in the middle of its work, then lets it go. `entered` is set once a generation
    has started waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def generate(self, requests: Any) -> Any:
        if not self.gate.is_set():
            self.entered.set()
        if not self.gate.wait(timeout=60):
            raise TimeoutError("the test never opened the gate")
        return super().generate(requests)

    def labels(self, questions: dict[str, str]) -> list[str]:
        """Which work each batch served, runs collapsed: the key of the question found in
        its prompt, or "chat"."""
        out: list[str] = []
        for batch in self.batches:
            text = " ".join(m.content for r in batch for m in r.messages)
            label = next((k for k, q in questions.items() if q in text), "chat")
            if not out or out[-1] != label:
                out.append(label)
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A real uvicorn server in a thread of the test process (so it can serve a
    ScriptedModel), on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the web app did not start")

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
