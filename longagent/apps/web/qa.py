"""The QA pages: upload or paste a document, ask questions, stream progress, show cited
answers with their trace. Also the JSON API over the same data (/api/...)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sse_starlette.sse import EventSourceResponse
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from longagent.agents.types import Answer
from longagent.apps.web.app import WebError, WebState
from longagent.apps.web.jobs import Job, JobStateError
from longagent.apps.web.security import JOB_ID, check_id
from longagent.apps.web.storage import DocumentInfo, QuestionEntry, now
from longagent.chunking import Document, load
from longagent.config import get_settings
from longagent.errors import LongAgentError

ALLOWED = {".txt": "text", ".md": "Markdown", ".markdown": "Markdown", ".html": "HTML"}
ALLOWED |= {".htm": "HTML", ".pdf": "PDF", ".docx": "Word"}
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the small fields around the file
MAX_QUESTION_CHARS = 500
POLL_S = 0.1
PREPARED_KEEP = 4
INTERRUPTED = "Interrupted: the server stopped before this question was answered. Rerun it."


def router(state: WebState) -> APIRouter:
    r = APIRouter()
    docs = state.documents
    state.runner.register("qa", lambda job: _answer(state, job))

    def info_or_404(doc_id: str) -> DocumentInfo:
        try:
            return docs.info(doc_id)
        except KeyError:
            raise HTTPException(404, "There is no document with that id.") from None

    def entry_html(request: Request, info: DocumentInfo, entry: QuestionEntry, **extra: Any) -> str:
        template = state.templates.get_template("_qa_entry.html")
        shown = entry.answer and (entry.answer.citations or entry.answer.passages_read())
        text = docs.document(info.id).text if shown else ""
        return template.render(request=request, entry=entry, doc_text=text, **extra)

    @r.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> Response:
        return state.render(
            request,
            "qa_home.html",
            documents=docs.listing(),
            allowed=", ".join(ALLOWED),
            max_size=human_size(state.max_upload_bytes),
        )

    @r.post("/documents")
    async def upload(request: Request) -> Response:
        given = await read_upload(request, state)
        info = await asyncio.to_thread(docs.add, given.document, given.name)
        if request.url.path.startswith("/api/") or "application/json" in request.headers.get(
            "accept", ""
        ):
            return Response(info.model_dump_json(), media_type="application/json", status_code=201)
        return RedirectResponse(f"/documents/{info.id}", status_code=303)

    r.add_api_route("/api/documents", upload, methods=["POST"])

    @r.get("/documents/{doc_id}", response_class=HTMLResponse)
    async def document_page(request: Request, doc_id: str) -> Response:
        info = info_or_404(doc_id)
        document = docs.document(doc_id)
        jobs = state.runner.jobs("qa", "queued", "running", doc_id=doc_id)
        interrupted = state.runner.jobs("qa", "interrupted", doc_id=doc_id)
        return state.render(
            request,
            "qa_document.html",
            info=info,
            doc_text=document.text,
            pending=[_entry_of(j) for j in jobs if j.stop is None],  # not those being cancelled
            interrupted=[_entry_of(j) for j in interrupted],
            entries=docs.questions(doc_id),
        )

    @r.post("/documents/{doc_id}/questions")
    async def ask(request: Request, doc_id: str) -> Response:
        info = info_or_404(doc_id)
        form = await request.form(max_files=0, max_fields=4)
        question = " ".join(str(form.get("question", "")).split())
        if not question:
            raise WebError(400, "No question", "Write a question first.")
        if len(question) > MAX_QUESTION_CHARS:
            raise WebError(
                400, "Question too long", f"Questions are limited to {MAX_QUESTION_CHARS} chars."
            )
        try:
            job = state.runner.submit(
                "qa", doc_id=doc_id, question=question, asked_at=now().isoformat()
            )
        except JobStateError as exc:
            raise WebError(503, "Shutting down", str(exc)) from None
        if "hx-request" not in request.headers:  # plain form post: come back to the page
            return RedirectResponse(f"/documents/{doc_id}", status_code=303)
        return HTMLResponse(entry_html(request, info, _entry_of(job), pending=True))

    def job_or_404(job_id: str) -> Job:
        job = state.runner.get(job_id) if check_id(job_id, JOB_ID) else None
        if job is None or job.kind != "qa":
            raise HTTPException(404, "There is no such question.")
        return job

    def cancel(job_id: str) -> Job:
        try:
            return state.runner.cancel(job_or_404(job_id).id)
        except JobStateError as exc:
            raise WebError(409, "Cannot cancel", str(exc)) from None

    def rerun(job_id: str) -> Job:
        try:
            return state.runner.rerun(job_or_404(job_id).id)
        except JobStateError as exc:
            raise WebError(409, "Cannot rerun", str(exc)) from None

    @r.delete("/jobs/{job_id}")
    async def cancel_from_page(job_id: str) -> Response:
        cancel(job_id)
        return Response(status_code=200)  # the page drops the entry (hx-swap="delete")

    @r.post("/jobs/{job_id}/rerun")
    async def rerun_from_page(request: Request, job_id: str) -> Response:
        job = rerun(job_id)
        info = info_or_404(job.meta["doc_id"])
        if "hx-request" not in request.headers:
            return RedirectResponse(f"/documents/{info.id}", status_code=303)
        return HTMLResponse(entry_html(request, info, _entry_of(job), pending=True))

    @r.get("/jobs/{job_id}/events")
    async def events(request: Request, job_id: str) -> Response:
        job = job_or_404(job_id)
        info = info_or_404(job.meta["doc_id"])

        def done_html() -> str:
            # A cancelled question leaves the page; an interrupted one (the server
            # restarted under the browser) offers a rerun.
            if job.status == "cancelled":
                return ""
            interrupted = job.status == "interrupted"
            return entry_html(request, info, _entry_of(job), interrupted=interrupted)

        return job_events(state, request, job, done_html)

    # -- JSON API --------------------------------------------------------------------------

    @r.get("/api/documents")
    async def api_documents() -> list[DocumentInfo]:
        return docs.listing()

    @r.get("/api/documents/{doc_id}/questions")
    async def api_questions(doc_id: str) -> list[QuestionEntry]:
        info_or_404(doc_id)
        return docs.questions(doc_id)

    @r.get("/api/jobs")
    async def api_jobs() -> list[dict[str, Any]]:
        """Questions queued, running, interrupted or recently finished, oldest first."""
        return [_job_json(job, events=False) for job in state.runner.jobs("qa")]

    @r.get("/api/jobs/{job_id}")
    async def api_job(job_id: str) -> dict[str, Any]:
        return _job_json(job_or_404(job_id))

    @r.delete("/api/jobs/{job_id}")
    async def api_cancel(job_id: str) -> dict[str, Any]:
        """Waiting or interrupted: dropped now; running: stopped at its next round."""
        return _job_json(cancel(job_id))

    @r.post("/api/jobs/{job_id}/rerun", status_code=202)
    async def api_rerun(job_id: str) -> dict[str, Any]:
        return _job_json(rerun(job_id))

    return r


def job_events(
    state: WebState, request: Request, job: Job, done_html: Callable[[], str]
) -> Response:
    """The job's progress as server-sent events (`progress`, one per event, their ids the
    positions), then one `done` event carrying `done_html()`."""
    # A browser that reconnects says how far it got.
    resume = request.headers.get("last-event-id", "")

    async def stream() -> AsyncIterator[dict[str, str]]:
        seen = int(resume) if resume.isdigit() else 0
        template = state.templates.get_template("_event.html")
        while True:
            finished = job.done  # read first: no event can slip in after the last look
            for event in job.events[seen:]:
                seen += 1
                yield {"event": "progress", "id": str(seen), "data": template.render(event=event)}
            if finished:
                yield {"event": "done", "data": done_html()}
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_S)

    return EventSourceResponse(stream(), ping=15)


def _job_json(job: Job, events: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "cancelling": job.stop == "cancelled" and not job.done,
        "doc_id": job.meta["doc_id"],
        "question": job.meta["question"],
        "entry": _entry_of(job).model_dump(mode="json") if job.done else None,
    }
    if events:
        out["events"] = [e.model_dump() for e in job.events]
    return out


def _answer(state: WebState, job: Job) -> Answer:
    """On the model thread: split the document once, ask, save the entry."""
    doc_id = job.meta["doc_id"]
    try:
        prepared = state.prepared.get(doc_id)
        if prepared is None:
            prepared = state.leader.prepare(state.documents.document(doc_id))
            while len(state.prepared) >= PREPARED_KEEP:
                state.prepared.pop(next(iter(state.prepared)))
            state.prepared[doc_id] = prepared
        answer = state.leader.ask(prepared, job.meta["question"], on_event=job.report)
    except Exception as exc:
        state.documents.add_question(doc_id, _entry_of(job, error=failure_reason(exc)))
        raise
    state.documents.add_question(doc_id, _entry_of(job, answer=answer))
    return answer


def outcome_of(job: Job) -> dict[str, Any]:
    """A question job's outcome, as an entry's fields: none while it runs, else its answer
    or why it has none."""
    if not job.done:
        return {}
    if job.status == "done":
        return {"answer": job.result}
    reasons = {"cancelled": "Cancelled.", "interrupted": INTERRUPTED}
    return {"error": reasons.get(job.status) or failure_reason(job.error)}


def _entry_of(job: Job, **outcome: Any) -> QuestionEntry:
    """The job as a question entry: pending, or (when done) with its answer or error."""
    outcome = outcome or outcome_of(job)
    meta = job.meta
    return QuestionEntry(id=job.id, question=meta["question"], asked_at=meta["asked_at"], **outcome)


def failure_reason(exc: BaseException | None) -> str:
    if isinstance(exc, LongAgentError):
        return str(exc)
    return f"The model failed: {type(exc).__name__}: {exc}"


@dataclass
class Upload:
    """An uploaded file or pasted text: its bytes, loaded, and what to call it."""

    document: Document
    name: str  # a label for the page (pasted text: without its .txt)
    filename: str  # a file name with its suffix, never a path
    data: bytes


async def read_upload(request: Request, state: WebState) -> Upload:
    """The uploaded file or pasted text as a loaded document, or a readable refusal."""
    limit = state.max_upload_bytes
    too_big = WebError(
        413,
        "Document too large",
        f"Documents are limited to {human_size(limit)}. Split the document or start "
        "the server with a larger --max-upload-mb.",
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FORM_OVERHEAD:
        raise too_big  # refused before the body is read
    try:
        async with request.form(max_files=1, max_fields=4, max_part_size=limit + 1) as form:
            data, name = await _form_input(form, limit)
    except HTTPException as exc:  # starlette's refusal of a part over max_part_size
        raise (too_big if "exceeded" in str(exc.detail).lower() else exc) from None
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
    if size > limit:
        raise too_big
    settings = get_settings(max_document_bytes=limit)
    try:
        # Parsing a PDF can take a while: off the event loop. Not on the model thread.
        document = await asyncio.to_thread(load, data, filename=name, settings=settings)
    except LongAgentError as exc:
        raise WebError(422, "Cannot read the document", str(exc)) from None
    if isinstance(data, str):
        return Upload(document, name.removesuffix(".txt"), name, data.encode("utf-8"))
    return Upload(document, name, name, data)


async def _form_input(form: FormData, limit: int) -> tuple[bytes | str, str]:
    """The uploaded file's bytes, or the pasted text, and a name for it."""
    upload, pasted = form.get("file"), str(form.get("text", ""))
    if isinstance(upload, UploadFile) and upload.filename:
        name = _display_name(upload.filename)
        suffix = PurePath(name).suffix.lower()
        if suffix not in ALLOWED:
            kinds = ", ".join(sorted(set(ALLOWED.values())))
            raise WebError(
                415,
                "Unsupported file type",
                f"{name}: only {kinds} files ({', '.join(ALLOWED)}) can be uploaded.",
            )
        return await upload.read(limit + 1), name
    if pasted.strip():
        name = _display_name(str(form.get("name", "")) or "pasted text") + ".txt"
        return pasted.replace("\r\n", "\n"), name  # browsers send form text with CRLF
    raise WebError(400, "Nothing to read", "Choose a file or paste some text.")


def human_size(size: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def _display_name(filename: str) -> str:
    """A label for the page only (never a path): the last component, printable, short."""
    name = re.split(r"[\\/]", filename)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "document"
    return name[-100:]
