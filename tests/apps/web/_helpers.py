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


def _pdf_string(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF with one Helvetica text line per string (as in the chunking
    tests), so no PDF-writing library is needed."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for i, lines in enumerate(pages):
        page_id, content_id = 4 + 2 * i, 5 + 2 * i
        kids.append(f"{page_id} 0 R")
        shown = " ".join(f"({_pdf_string(line)}) Tj T*" for line in lines)
        content = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET".encode("latin-1")
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode()
        objects[content_id] = (
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"
        )
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for number in sorted(objects):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
