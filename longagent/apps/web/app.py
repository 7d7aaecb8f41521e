"""The web app: `create_app(model, data_dir)` builds it; `longagent serve` runs it.

Pages are rendered on the server (Jinja2) and made live with the vendored HTMX: the QA
page (upload or paste a document, ask, watch the rounds arrive over SSE, read the cited
answer and its trace), the library page (the documents `longagent add` keeps, uploads
added to them, questions over one or all, citations opened at their span) and the chat
page (talk to a memory agent, watch its memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from longagent.agents import LongAgent, PreparedDocument
from longagent.apps.web.jobs import JobRunner
from longagent.apps.web.render import HERE, make_templates
from longagent.apps.web.security import Guard, login_cookie, safe_next, token_matches
from longagent.apps.web.storage import DocumentStore
from longagent.config import get_settings
from longagent.llm import ChatModel
from longagent.memory import Embedder, MiniLMEmbedder

DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024


class WebError(Exception):
    """A user-facing refusal: rendered as a readable page (or fragment) with `status`."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass
class WebState:
    """Everything the routes share; one per app, nothing global."""

    model: ChatModel
    data_dir: Path
    token: str | None
    max_upload_bytes: int
    leader: LongAgent
    documents: DocumentStore
    runner: JobRunner
    templates: Jinja2Templates = field(default_factory=make_templates)
    prepared: dict[str, PreparedDocument] = field(default_factory=dict)  # split once per doc

    def render(self, request: Request, name: str, code: int = 200, **context: object) -> Response:
        context.setdefault("auth", self.token is not None)
        context.setdefault("section", "")
        return self.templates.TemplateResponse(request, name, context, status_code=code)


def create_app(
    model: ChatModel,
    data_dir: str | Path,
    token: str | None = None,
    *,
    embedder: Embedder | None = None,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
    chunk_tokens: int | None = None,
    chat_budget: int | None = None,
    allowed_hosts: Iterable[str] = (),
    library_home: str | Path | None = None,
) -> FastAPI:
    """The app over `model`, keeping everything under `data_dir`. `token` (optional)
    is required from every client: as a bearer header, or once through /login (a cookie).
    Requests must name this server in their Host header: a loopback name (localhost,
    127.0.0.1, [::1]) or one of `allowed_hosts` ("*": any), so that a site whose DNS
    name is rebound to 127.0.0.1 cannot talk to it.
    `embedder` defaults to the bundled MiniLM, loaded when a chat agent or a library
    first needs it. The library pages show the libraries under `library_home` (default:
    LONGAGENT_HOME, where `longagent add` keeps them)."""
    from longagent.apps.web import chat, library, memory, qa
    from longagent.apps.web.library_store import Libraries

    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    state = WebState(
        model=model,
        data_dir=data_dir,
        token=token or None,
        max_upload_bytes=max_upload_bytes,
        leader=LongAgent(model, chunk_tokens=chunk_tokens),
        documents=DocumentStore(data_dir / "documents"),
        # Idle: freed KV and activations go back to the system, not kept at the peak.
        runner=JobRunner(data_dir / "jobs.json", on_idle=memory.trim),
    )
    embedder = embedder or MiniLMEmbedder()  # one instance: it holds the loaded weights
    agents = chat.AgentPool(model, data_dir, state.documents, embedder, budget=chat_budget)
    settings = get_settings(max_document_bytes=max_upload_bytes)
    libraries = Libraries(
        Path(library_home) if library_home is not None else settings.home,
        data_dir,
        count_tokens=model.count_tokens,
        embedder=embedder,
        settings=settings,
        chunk_tokens=chunk_tokens,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # Off the event loop: it waits (a few seconds at most) for the running job to stop.
        await asyncio.to_thread(state.runner.shutdown, agents.close)

    app = FastAPI(title="longagent", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.web = state
    app.state.agents = agents
    app.add_middleware(Guard, token=state.token, allowed_hosts=allowed_hosts)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(qa.router(state))
    app.include_router(chat.router(state, agents))
    app.include_router(library.router(state, libraries))

    @app.exception_handler(WebError)
    async def refused(request: Request, exc: WebError) -> Response:
        return _error(state, request, exc.status, exc.title, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        title = titles.get(exc.status_code, "Request refused")
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no page at {request.url.path}."
        return _error(state, request, exc.status_code, title, message)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "model": model.name}

    @app.get("/api/memory")
    async def memory_report() -> dict[str, Any]:
        """Resident and peak bytes, the prefix cache's bytes, what the app keeps per job."""
        kept = {"prepared_documents": len(state.prepared), "jobs": len(state.runner.jobs("qa"))}
        return memory.report(model) | kept

    @app.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/") -> Response:
        return state.render(request, "login.html", next=safe_next(next), failed=False)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=4)
        target = safe_next(str(form.get("next", "/")))
        if state.token is None:
            return RedirectResponse(target, status_code=303)
        if not token_matches(state.token, str(form.get("token", ""))):
            return state.render(request, "login.html", 401, next=target, failed=True)
        response = RedirectResponse(target, status_code=303)
        login_cookie(response, state.token)
        return response

    return app


def _error(state: WebState, request: Request, status: int, title: str, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    if "hx-request" not in request.headers:
        return state.render(
            request, "error.html", status, title=title, message=message, status=status
        )
    response = state.render(request, "_error.html", status, title=title, message=message)
    # htmx shows the message above the page instead of swapping it into the form's target.
    response.headers["HX-Retarget"] = "#flash"
    response.headers["HX-Reswap"] = "innerHTML"
    return response
