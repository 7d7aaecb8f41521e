"""The chat pages: pick or create a memory agent, talk to it, watch its memory (core
blocks, recent archival inserts, the recursive summary, memory pressure).

Agents live under `<data dir>/agents/<name>/` (the ChatAgent layout). Everything that
touches an agent runs on the model thread, one thing at a time: a turn calls the model,
and even reading the memory pressure counts tokens with the model's tokenizer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from longagent.agents import ChatAgent, Reply
from longagent.agents.chat_functions import DocumentReading, FunctionError, as_call
from longagent.apps.web.app import WebError, WebState
from longagent.apps.web.security import DOC_ID, check_id, inside
from longagent.apps.web.storage import DocumentStore
from longagent.llm import ChatModel
from longagent.memory import Block, Embedder, MiniLMEmbedder
from longagent.names import AGENT_NAME

MAX_MESSAGE_CHARS = 2000
SHOWN_CHARS = 600  # long tool results are cut on the page (recall keeps them whole)


class Line(BaseModel):
    """One message in the context, as the page shows it."""

    kind: Literal["user", "assistant", "call", "tool", "system"]
    text: str
    at: datetime


class ArchivalItem(BaseModel):
    id: str
    text: str
    tags: list[str]
    at: datetime


class MemoryView(BaseModel):
    """A snapshot of one agent's memory, taken on the model thread."""

    name: str
    tokens: int
    budget: int
    warn_at: float
    blocks: list[Block]
    summary: str
    evicted: int
    archival: list[ArchivalItem]
    archival_count: int
    thoughts_count: int
    lines: list[Line]

    @property
    def percent(self) -> int:
        return round(100 * self.tokens / self.budget)


class AgentPool:
    """Open agents by name; call its methods on the model thread only."""

    def __init__(
        self,
        model: ChatModel,
        home: Path,
        documents: DocumentStore,
        embedder: Embedder | None = None,
        *,
        budget: int | None = None,
    ) -> None:
        self.model = model
        self.home = home
        self.documents = documents
        self.embedder = embedder or MiniLMEmbedder()  # loads its weights on first use
        self.budget = budget
        self.views: dict[str, MemoryView] = {}  # the latest snapshot, for page loads
        self._agents: dict[str, ChatAgent] = {}

    def names(self) -> list[str]:
        folder = self.home / "agents"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if p.is_dir() and self.valid(p.name))

    @staticmethod
    def valid(name: str) -> bool:
        return check_id(name, AGENT_NAME)

    def exists(self, name: str) -> bool:
        return self.valid(name) and inside(self.home, "agents", name).is_dir()

    def open(self, name: str) -> ChatAgent:
        if name not in self._agents:
            if not self.valid(name):
                raise ValueError(f"invalid agent name {name!r}")
            inside(self.home, "agents", name)  # checked again before ChatAgent builds it
            agent = ChatAgent(
                self.model, self.home, name, embedder=self.embedder, budget=self.budget
            )
            agent.functions.read = self._only_uploads(agent.functions.read)
            self._agents[name] = agent
        return self._agents[name]

    def send(self, name: str, text: str) -> tuple[Reply, MemoryView]:
        reply = self.open(name).send(text)
        return reply, self.view(name)

    def view(self, name: str) -> MemoryView:
        agent = self.open(name)
        agent.core.reload()
        pager, store = agent.pager, agent.store
        view = MemoryView(
            name=name,
            tokens=pager.tokens(),
            budget=pager.budget,
            warn_at=pager.warn_at,
            blocks=list(agent.core),
            summary=pager.summary,
            evicted=pager.state.evicted,
            archival=[
                ArchivalItem(id=e.id, text=e.text, tags=e.tags, at=e.created_at)
                for e in store.archival.scan(limit=5, newest_first=True)
            ],
            archival_count=store.archival.count(),
            thoughts_count=store.thoughts.count(),
            lines=[_line(m.role, m.content, m.created_at) for m in pager.messages],
        )
        self.views[name] = view
        return view

    def _only_uploads(
        self, read: Callable[[str, str], DocumentReading]
    ) -> Callable[[str, str], DocumentReading]:
        """The agent may read documents uploaded to this app (by id or path), nothing
        else: the path comes from the model, and so indirectly from a request."""
        root = self.documents.root.resolve()

        def read_upload(path: str, question: str) -> DocumentReading:
            target = path.strip()
            file = (
                self.documents.text_path(target)
                if check_id(target, DOC_ID)
                else Path(target).expanduser().resolve()
            )
            if not file.is_relative_to(root) or not file.is_file():
                raise FunctionError(
                    "only documents uploaded to this web app can be read: pass the document id"
                )
            return read(str(file), question)

        return read_upload

    def close(self) -> None:
        for agent in self._agents.values():
            agent.close()
        self._agents.clear()


def _line(role: str, content: str, at: datetime) -> Line:
    call = as_call(content) if role == "assistant" else None
    if call is not None and isinstance(parameters := call.get("parameters", {}), dict):
        args = ", ".join(f"{k}={v!r}" for k, v in parameters.items())
        return Line(kind="call", text=f"{call['function']}({args})", at=at)
    kind = role if role in ("user", "assistant", "tool") else "system"
    text = content if len(content) <= SHOWN_CHARS else content[: SHOWN_CHARS - 1] + "…"
    return Line(kind=kind, text=text, at=at)  # type: ignore[arg-type]


def router(state: WebState, pool: AgentPool) -> APIRouter:
    r = APIRouter()

    async def on_model_thread(work: Callable[[], Any]) -> Any:
        return await asyncio.wrap_future(state.runner.call(work))

    def existing(name: str) -> str:
        if not pool.exists(name):
            raise HTTPException(404, f"There is no agent called {name!r}.")
        return name

    async def view_of(name: str) -> MemoryView:
        return pool.views.get(name) or await on_model_thread(lambda: pool.view(name))

    async def message_of(request: Request) -> str:
        form = await request.form(max_files=0, max_fields=4)
        text = str(form.get("message", "")).strip()
        if not text:
            raise WebError(400, "Empty message", "Write a message first.")
        if len(text) > MAX_MESSAGE_CHARS:
            raise WebError(
                400, "Message too long", f"Messages are limited to {MAX_MESSAGE_CHARS} chars."
            )
        return text

    @r.get("/chat", response_class=HTMLResponse)
    async def chat_home(request: Request) -> Response:
        return state.render(request, "chat_home.html", agents=pool.names())

    @r.post("/chat")
    async def create(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=4)
        name = str(form.get("name", "")).strip()
        if not pool.valid(name):
            raise WebError(
                400,
                "Invalid agent name",
                "Agent names use letters, digits, '_' and '-' (at most 40, starting with a "
                "letter or digit).",
            )
        await on_model_thread(lambda: pool.view(name))  # creates it on disk
        return RedirectResponse(f"/chat/{name}", status_code=303)

    @r.get("/chat/{name}", response_class=HTMLResponse)
    async def chat_page(request: Request, name: str) -> Response:
        view = await view_of(existing(name))
        return state.render(request, "chat.html", view=view, agents=pool.names(), reply=None)

    @r.post("/chat/{name}/messages")
    async def send(request: Request, name: str) -> Response:
        existing(name)
        text = await message_of(request)
        reply, view = await on_model_thread(lambda: pool.send(name, text))
        if "hx-request" not in request.headers:
            return RedirectResponse(f"/chat/{name}", status_code=303)
        return state.render(request, "_chat_turn.html", view=view, reply=reply)

    @r.get("/api/chat")
    async def api_agents() -> list[str]:
        return pool.names()

    @r.get("/api/chat/{name}/memory")
    async def api_memory(name: str) -> dict[str, Any]:
        view = await view_of(existing(name))
        return {**view.model_dump(mode="json"), "percent": view.percent}

    @r.post("/api/chat/{name}/messages")
    async def api_send(request: Request, name: str) -> dict[str, Any]:
        existing(name)
        text = await message_of(request)
        reply, view = await on_model_thread(lambda: pool.send(name, text))
        return {"reply": reply.model_dump(mode="json"), "memory": view.model_dump(mode="json")}

    return r
