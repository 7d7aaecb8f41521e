"""The library pages: the documents of a library (`longagent add`'s, `default` unless
`?library=NAME`), uploads that add to it, questions over all of it or one document, and a
document shown at a cited span. Also the JSON API over the same (/api/library...).

Adding and asking are jobs on the model thread (the token counter and the model are not
re-entrant), with progress streamed over SSE like the QA page's questions.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from longagent.agents.library_qa import PreparedLibrary
from longagent.agents.types import Answer
from longagent.apps.web.app import WebError, WebState
from longagent.apps.web.jobs import Job, JobStateError
from longagent.apps.web.library_store import (
    DEFAULT_LIBRARY,
    LIBRARY_DOC_ID,
    Libraries,
    LibraryQuestion,
    ReadPassage,
    listing_row,
)
from longagent.apps.web.qa import (
    ALLOWED,
    MAX_QUESTION_CHARS,
    failure_reason,
    human_size,
    job_events,
    outcome_of,
    read_upload,
)
from longagent.apps.web.security import JOB_ID, check_id
from longagent.apps.web.storage import now
from longagent.errors import DocumentError, LongAgentError
from longagent.memory.library_types import AddProgress, AddReport
from longagent.names import NAME_RULE, is_agent_name

ADD, ASK = "library_add", "library_qa"
PASSED = ("added", "replaced", "unchanged", "duplicate")


class AddEvent(BaseModel):
    """An add's progress, as the progress list shows it (the shape of a question's)."""

    kind: str = "add_progress"
    message: str
    data: dict[str, Any]


def router(state: WebState, libs: Libraries) -> APIRouter:
    r = APIRouter()
    state.runner.register(ADD, lambda job: _add(libs, job))
    state.runner.register(ASK, lambda job: _answer(state, libs, job))

    def name_of(library: str) -> str:
        if not is_agent_name(library):
            raise WebError(400, "Bad library name", f"{library!r}: use {NAME_RULE}.")
        return library

    def wants_json(request: Request) -> bool:
        accept = request.headers.get("accept", "")
        return request.url.path.startswith("/api/") or "application/json" in accept

    async def read(work: Any, *args: Any) -> Any:
        """A library read off the event loop, its errors as readable refusals."""
        try:
            return await asyncio.to_thread(work, *args)
        except DocumentError as exc:
            raise HTTPException(404, str(exc)) from None
        except LongAgentError as exc:
            raise WebError(409, "Library unavailable", str(exc)) from None

    # -- the page -------------------------------------------------------------------------

    @r.get("/library", response_class=HTMLResponse)
    async def page(request: Request, library: str = DEFAULT_LIBRARY) -> Response:
        name = name_of(library)
        documents = await read(libs.documents, name)
        open_jobs = state.runner.jobs(ASK, "queued", "running", library=name)
        return state.render(
            request,
            "library.html",
            section="library",
            library=name,
            libraries=libs.names(),
            documents=[listing_row(d) for d in documents],
            adds=state.runner.jobs(ADD, "queued", "running", library=name),
            stale_adds=state.runner.jobs(ADD, "interrupted", library=name),
            pending=[_entry_of(j) for j in open_jobs if j.stop is None],
            interrupted=[_entry_of(j) for j in state.runner.jobs(ASK, "interrupted", library=name)],
            entries=libs.questions(name),
            human_size=human_size,
            jobs_base="/library/jobs",
            allowed=", ".join(ALLOWED),
            max_size=human_size(state.max_upload_bytes),
        )

    @r.get("/api/libraries")
    async def api_libraries() -> list[str]:
        return libs.names()

    @r.get("/api/library")
    async def api_library(library: str = DEFAULT_LIBRARY) -> dict[str, Any]:
        name = name_of(library)
        documents = await read(libs.documents, name)
        return {
            "name": name,
            "exists": libs.exists(name),
            "documents": [listing_row(d) for d in documents],
        }

    # -- adding ---------------------------------------------------------------------------

    @r.post("/library/documents")
    async def upload(request: Request, library: str = DEFAULT_LIBRARY) -> Response:
        name = name_of(library)
        given = await read_upload(request, state)  # the QA page's limits and checks
        path = await asyncio.to_thread(libs.save, given.data, given.filename)
        job = submit(ADD, library=name, file=str(path), name=given.name)
        if wants_json(request):
            return JSONResponse(_job_json(job), status_code=202)
        if "hx-request" not in request.headers:
            return RedirectResponse(f"/library?library={name}", status_code=303)
        return state.render(request, "_library_add.html", job=job, pending=True, library=name)

    r.add_api_route("/api/library/documents", upload, methods=["POST"])

    # -- asking ---------------------------------------------------------------------------

    @r.post("/library/questions")
    async def ask(request: Request, library: str = DEFAULT_LIBRARY) -> Response:
        name = name_of(library)
        form = await request.form(max_files=0, max_fields=4)
        question = " ".join(str(form.get("question", "")).split())
        if not question:
            raise WebError(400, "No question", "Write a question first.")
        if len(question) > MAX_QUESTION_CHARS:
            raise WebError(
                400, "Question too long", f"Questions are limited to {MAX_QUESTION_CHARS} chars."
            )
        document, title = str(form.get("document", "")).strip(), ""
        if not libs.exists(name):
            raise HTTPException(404, f"There is no library {name!r} yet: upload a document.")
        if document:
            found = await read(lambda: libs.get(name).find(document))
            document, title = found.id, found.title
        job = submit(ASK, library=name, question=question, document=document, title=title)
        if wants_json(request):
            return JSONResponse(_job_json(job), status_code=202)
        if "hx-request" not in request.headers:
            return RedirectResponse(f"/library?library={name}", status_code=303)
        return HTMLResponse(entry_html(request, job, pending=True))

    r.add_api_route("/api/library/questions", ask, methods=["POST"])

    @r.get("/api/library/questions")
    async def api_questions(library: str = DEFAULT_LIBRARY) -> list[LibraryQuestion]:
        return libs.questions(name_of(library))

    def submit(kind: str, **meta: Any) -> Job:
        try:
            return state.runner.submit(kind, asked_at=now().isoformat(), **meta)
        except JobStateError as exc:
            raise WebError(503, "Shutting down", str(exc)) from None

    def entry_html(request: Request, job: Job, **extra: Any) -> str:
        template = state.templates.get_template("_qa_entry.html")
        return template.render(
            request=request,
            entry=_entry_of(job),
            library=job.meta["library"],
            jobs_base="/library/jobs",
            doc_text="",
            **extra,
        )

    # -- jobs -----------------------------------------------------------------------------

    def job_or_404(job_id: str) -> Job:
        job = state.runner.get(job_id) if check_id(job_id, JOB_ID) else None
        if job is None or job.kind not in (ADD, ASK):
            raise HTTPException(404, "There is no such library job.")
        return job

    @r.get("/library/jobs/{job_id}/events")
    async def events(request: Request, job_id: str) -> Response:
        job = job_or_404(job_id)

        def done_html() -> str:
            if job.status == "cancelled":
                return ""
            if job.kind == ADD:
                template = state.templates.get_template("_library_add.html")
                error = failure_reason(job.error) if job.status == "failed" else ""
                return template.render(
                    request=request, job=job, library=job.meta["library"], error=error
                )
            return entry_html(request, job, interrupted=job.status == "interrupted")

        return job_events(state, request, job, done_html)

    @r.get("/api/library/jobs/{job_id}")
    async def api_job(job_id: str) -> dict[str, Any]:
        return _job_json(job_or_404(job_id))

    @r.delete("/library/jobs/{job_id}")
    async def cancel(job_id: str) -> Response:
        try:
            state.runner.cancel(job_or_404(job_id).id)
        except JobStateError as exc:
            raise WebError(409, "Cannot cancel", str(exc)) from None
        return Response(status_code=200)  # the page drops the entry (hx-swap="delete")

    @r.post("/library/jobs/{job_id}/rerun")
    async def rerun(request: Request, job_id: str) -> Response:
        try:
            job = state.runner.rerun(job_or_404(job_id).id)
        except JobStateError as exc:
            raise WebError(409, "Cannot rerun", str(exc)) from None
        if job.kind == ADD:
            return state.render(
                request, "_library_add.html", job=job, pending=True, library=job.meta["library"]
            )
        return HTMLResponse(entry_html(request, job, pending=True))

    # -- a document at a cited span -------------------------------------------------------

    def doc_id_of(name: str, doc_id: str) -> str:
        if not check_id(doc_id, LIBRARY_DOC_ID) or not libs.exists(name):
            raise HTTPException(404, f"There is no document with that id in library {name!r}.")
        return doc_id

    @r.get("/api/library/documents/{doc_id}")
    async def api_document(doc_id: str, library: str = DEFAULT_LIBRARY) -> dict[str, Any]:
        """The document's text (what citations' offsets index) and where its pages start."""
        name = name_of(library)
        doc_id = doc_id_of(name, doc_id)
        return (await read(libs.text, name, doc_id)).model_dump()  # type: ignore[no-any-return]

    @r.get("/library/documents/{doc_id}", response_class=HTMLResponse)
    async def document_page(
        request: Request,
        doc_id: str,
        library: str = DEFAULT_LIBRARY,
        start: int | None = None,
        end: int | None = None,
    ) -> Response:
        name = name_of(library)
        doc_id = doc_id_of(name, doc_id)
        shown = await read(libs.text, name, doc_id)
        text, span = shown.text, None
        if start is not None and end is not None and 0 <= start < end <= len(text):
            span = (start, end)
        parts = (text[: span[0]], text[span[0] : span[1]], text[span[1] :]) if span else None
        return state.render(
            request,
            "library_document.html",
            section="library",
            library=name,
            doc=shown,
            parts=parts,
            span=span,
            page=shown.page_at(span[0]) if span else None,
            human_size=human_size,
        )

    return r


def _add(libs: Libraries, job: Job) -> AddReport:
    """On the model thread: add the uploaded file; a file the library refuses fails the
    job with the library's reason."""
    library = libs.get(job.meta["library"], create=True)
    libs.check_can_add(library)

    def progress(event: AddProgress) -> None:
        mb = f"{event.bytes_done / 1e6:.2f}/{event.bytes_total / 1e6:.2f} MB"
        what = "indexed" if event.stage == "file" else "chunks written"
        job.report(
            AddEvent(
                message=f"{what}: {event.chunks_done} chunks, {mb}",
                data={
                    "files_done": event.files_done,
                    "files_total": event.files_total,
                    "chunks_done": event.chunks_done,
                    "bytes_done": event.bytes_done,
                    "bytes_total": event.bytes_total,
                },
            )
        )

    report = library.add([job.meta["file"]], on_progress=progress)
    refused = [f for f in report.files if f.outcome not in PASSED]
    if refused or not report.files:
        reason = refused[0].reason if refused else "nothing to add"
        raise DocumentError(reason.replace(job.meta["file"], job.meta["name"]))
    return report


def _answer(state: WebState, libs: Libraries, job: Job) -> Answer:
    """On the model thread: ask the library (or one document of it), keep the entry."""
    name, document = job.meta["library"], job.meta["document"] or None
    question, agent = job.meta["question"], state.leader
    try:
        library = libs.get(name)
        prepared = agent.prepare_library(library, question, document=document)
        answer = agent.ask(prepared, question, on_event=job.report)
    except Exception as exc:
        libs.add_question(name, _entry_of(job, error=failure_reason(exc)))
        raise
    job.meta["passages"] = [p.model_dump() for p in _read(answer, prepared)]  # for its entry
    libs.add_question(name, _entry_of(job, answer=answer))
    return answer


def _read(answer: Answer, prepared: PreparedLibrary) -> list[ReadPassage]:
    """A "not found" answer's passages read first, each in its document."""
    if answer.found:
        return []
    read = []
    for passage in answer.passages_read():
        chunk, hit = prepared.chunks[passage.chunk], prepared.sources[passage.chunk]
        said = chunk.text[passage.start - chunk.start : passage.end - chunk.start]
        read.append(
            ReadPassage(
                document_id=chunk.document_id,
                title=hit.title,
                start=passage.start,
                end=passage.end,
                text=said,
            )
        )
    return read


def _entry_of(job: Job, **outcome: Any) -> LibraryQuestion:
    """A question job as an entry: pending, or (when done) with its answer or error."""
    outcome = outcome or outcome_of(job)
    meta = job.meta
    return LibraryQuestion(
        id=job.id,
        question=meta["question"],
        asked_at=meta["asked_at"],
        library=meta["library"],
        document_id=meta["document"],
        document_title=meta["title"],
        passages=meta.get("passages", []) if "answer" in outcome else [],
        **outcome,
    )


def _job_json(job: Job) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "library": job.meta["library"],
        "events": [e.model_dump() for e in job.events],
        "error": failure_reason(job.error) if job.status == "failed" else None,
    }
    if job.kind == ADD:
        out["name"] = job.meta["name"]
        out["report"] = job.result.model_dump(mode="json") if job.status == "done" else None
    else:
        out["question"], out["document"] = job.meta["question"], job.meta["document"]
        out["entry"] = _entry_of(job).model_dump(mode="json") if job.done else None
    return out
