"""`longagent serve-model`: an OpenAI-compatible HTTP server over any `ChatModel`.

Concurrent requests are gathered for a few milliseconds and run as one model batch, so
ten clients cost about one batched decode, not ten. Streaming uses the model's
`stream()` when it has one (the embedded transformers backend does).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sse_starlette.sse import EventSourceResponse

from longagent.errors import (
    ContextOverflowError,
    InvalidRequestError,
    LongAgentError,
    ModelResponseError,
    ModelUnavailableError,
)
from longagent.llm.base import ChatModel, Generation, GenerationRequest, Message

log = logging.getLogger("longagent.serve")


class ChatMessageIn(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.get("text", "") for part in self.content if part.get("type") == "text")


class JsonSchemaFormat(BaseModel):
    name: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    def schema_for_request(self) -> dict[str, Any] | None:
        if self.type == "json_schema" and self.json_schema and self.json_schema.schema_:
            return self.json_schema.schema_
        return None if self.type == "text" else {"type": "object"}


class ChatCompletionIn(BaseModel):
    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    stop: str | list[str] | None = None
    stream: bool = False
    seed: int | None = Field(default=None, ge=-(2**63), le=2**64 - 1)  # torch's range
    n: int = Field(default=1, ge=1, le=1)
    response_format: ResponseFormat | None = None

    def to_request(self) -> GenerationRequest:
        stop = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        return GenerationRequest(
            messages=[Message(role=m.role, content=m.text()) for m in self.messages],
            max_new_tokens=self.max_completion_tokens or self.max_tokens or 256,
            temperature=self.temperature,
            stop=stop,
            json_schema=self.response_format.schema_for_request() if self.response_format else None,
            seed=self.seed,
        )


class TokenizeIn(BaseModel):
    model: str | None = None
    prompt: str


class Batcher:
    """Runs requests arriving within `wait_s` of each other as one `generate` call.

    Requests are checked one by one before they get here, but a batch can still fail (a
    backend error one request triggers): its rows are then retried one by one, so only
    the bad one fails. A request whose future was cancelled (its client went away) is
    dropped before it runs, and leaves a running batch at the next step on a backend that
    can (`generate_cancellable`).
    """

    def __init__(self, model: ChatModel, max_batch: int = 8, wait_s: float = 0.01) -> None:
        self.model = model
        self.max_batch = max_batch
        self.wait_s = wait_s
        self._queue: queue.Queue[_Job] = queue.Queue()
        threading.Thread(target=self._work, daemon=True, name="longagent-batcher").start()

    def submit(self, request: GenerationRequest) -> concurrent.futures.Future[Generation]:
        """Queue a request; cancel the returned future to drop it."""
        job = _Job(request, concurrent.futures.Future())
        self._queue.put(job)
        return job.future

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.wait_s
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            batch = [job for job in batch if not job.future.cancelled()]
            if not batch:
                continue
            results: list[Generation | Exception]
            try:
                results = list(self._run(batch))
            except Exception as exc:  # alone, the row that fails fails; the others go through
                results = [exc] if len(batch) == 1 else [self._run_alone(j) for j in batch]
            for job, result in zip(batch, results, strict=True):
                job.settle(result)

    def _run(self, batch: list[_Job]) -> list[Generation]:
        requests = [job.request for job in batch]
        cancellable = getattr(self.model, "generate_cancellable", None)
        if cancellable is None:
            results = self.model.generate(requests)
        else:
            results = cancellable(requests, lambda i: batch[i].future.cancelled())
        if len(results) != len(batch):  # would otherwise kill this thread, and every client
            raise ModelResponseError(f"{len(results)} results for {len(batch)} requests")
        return results

    def _run_alone(self, job: _Job) -> Generation | Exception:
        if job.future.cancelled():
            return ModelResponseError("cancelled")  # nobody is waiting for it
        try:
            return self._run([job])[0]
        except Exception as exc:
            return exc


@dataclass
class _Job:
    request: GenerationRequest
    future: concurrent.futures.Future[Generation]

    def settle(self, result: Generation | Exception) -> None:
        # The client may have left (cancelled the future) at any moment before this.
        with contextlib.suppress(concurrent.futures.InvalidStateError):
            if isinstance(result, Exception):
                self.future.set_exception(result)
            else:
                self.future.set_result(result)


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse(status_code=status, content=_error_body(status, message, kind))


def _error_body(status: int, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": status}}


def _status_of(exc: Exception) -> tuple[int, str]:
    """The HTTP status and OpenAI error type for an error raised while serving."""
    if isinstance(exc, ContextOverflowError | InvalidRequestError):
        return 400, "invalid_request_error"
    if isinstance(exc, ModelUnavailableError):
        return 503, "service_unavailable"
    return 500, "server_error"


def _message_of(exc: Exception) -> str:
    if isinstance(exc, LongAgentError):
        return str(exc)
    # Not the user's fault and not expected: one log line, never a traceback in the reply.
    log.error("generation failed: %s: %s", type(exc).__name__, exc)
    return f"The model failed on this request ({type(exc).__name__}: {exc})."


def checked(model: ChatModel, request: GenerationRequest) -> GenerationRequest:
    """Validate one request alone, before it can join (and fail) a batch: the prompt fits
    the window, the JSON schema compiles (where the backend can tell), and `max_new_tokens`
    is capped at the room the window leaves. Raises the library's errors."""
    window = model.context_window
    if request.max_new_tokens > window:
        raise InvalidRequestError(
            f"max_tokens is {request.max_new_tokens} but {model.name}'s whole window is "
            f"{window} tokens; ask for fewer."
        )
    check = getattr(model, "check", None)
    if check is not None:
        prompt_tokens = check(request)
    else:  # a backend that cannot check: its own token count of the texts
        prompt_tokens = sum(model.count_tokens(m.content) for m in request.messages)
    if prompt_tokens >= window:
        raise ContextOverflowError(
            f"The prompt takes {prompt_tokens} tokens but {model.name}'s window is {window}; "
            "shorten it."
        )
    room = window - prompt_tokens
    return request.model_copy(update={"max_new_tokens": min(request.max_new_tokens, room)})


async def _until_done_or_gone(
    future: concurrent.futures.Future[Generation], client: Request, poll_s: float = 0.25
) -> Generation | None:
    """The generation, or None when the client disconnected first (its work is dropped)."""
    waiter = asyncio.wrap_future(future)
    while True:
        done, _ = await asyncio.wait({waiter}, timeout=poll_s)
        if done:
            return waiter.result()
        if await client.is_disconnected():
            future.cancel()  # the batcher skips it, or the backend stops it mid-batch
            waiter.cancel()
            return None


def create_app(model: ChatModel, *, max_batch: int = 8, batch_wait_s: float = 0.01) -> FastAPI:
    app = FastAPI(title="longagent model server", version="0.1.0")
    batcher = Batcher(model, max_batch=max_batch, wait_s=batch_wait_s)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
            for e in exc.errors()[:3]
        )
        return _error(400, f"Invalid request: {problems}")

    @app.exception_handler(LongAgentError)
    async def refused(_: Request, exc: LongAgentError) -> JSONResponse:
        status, kind = _status_of(exc)
        return _error(status, str(exc), kind)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        entry = {
            "id": model.name,
            "object": "model",
            "created": 0,
            "owned_by": "longagent",
            "max_model_len": model.context_window,
        }
        return {"object": "list", "data": [entry]}

    @app.post("/tokenize")
    async def tokenize(body: TokenizeIn) -> dict[str, int]:
        count = await asyncio.to_thread(model.count_tokens, body.prompt)
        return {"count": count, "max_model_len": model.context_window}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(body: ChatCompletionIn, client: Request) -> Any:
        if body.model not in (None, model.name):
            return _error(
                404,
                f"Model '{body.model}' is not served here; this server has '{model.name}'.",
                "not_found_error",
            )
        try:
            request = await asyncio.to_thread(checked, model, body.to_request())
        except ValidationError as exc:  # a field the protocol refuses (out of its range)
            return _error(400, f"Invalid request: {exc.errors()[0]['msg']}")
        except Exception as exc:
            status, kind = _status_of(exc)
            return _error(status, _message_of(exc), kind)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            return EventSourceResponse(_stream(model, batcher, request, completion_id), ping=15)
        try:
            generation = await _until_done_or_gone(batcher.submit(request), client)
        except Exception as exc:
            status, kind = _status_of(exc)
            return _error(status, _message_of(exc), kind)
        if generation is None:
            return _error(499, "The client closed the request.", "client_closed_request")
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model.name,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": generation.text},
                    "finish_reason": generation.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": generation.prompt_tokens,
                "completion_tokens": generation.completion_tokens,
                "total_tokens": generation.prompt_tokens + generation.completion_tokens,
            },
        }

    return app


async def _stream(
    model: ChatModel, batcher: Batcher, request: GenerationRequest, completion_id: str
) -> AsyncIterator[str]:
    """OpenAI's chunk format over server-sent events, ending with `[DONE]`; a failure
    after the stream began is sent as an `error` event (what OpenAI's clients raise)."""

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        return json.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model.name,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for piece in _pieces(model, batcher, request):
            yield chunk({"content": piece})
    except Exception as exc:
        status, kind = _status_of(exc)
        yield json.dumps(_error_body(status, _message_of(exc), kind))
        return
    yield chunk({}, "stop")
    yield "[DONE]"


async def _pieces(
    model: ChatModel, batcher: Batcher, request: GenerationRequest
) -> AsyncIterator[str]:
    """The text as it is generated. When the client goes away, sse-starlette cancels the
    response and this generator is closed: the model's stream is closed with it."""
    stream = getattr(model, "stream", None)
    if stream is None:  # a backend without streaming: one piece with the whole text
        future = batcher.submit(request)
        try:
            yield (await asyncio.wrap_future(future)).text
        finally:
            future.cancel()
        return
    pieces: asyncio.Queue[str | Exception | None] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    gone = threading.Event()

    def put(item: str | Exception | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody to tell
            loop.call_soon_threadsafe(pieces.put_nowait, item)

    def produce() -> None:
        generated = stream(request)
        try:
            for piece in generated:
                if gone.is_set():
                    break
                put(piece)
        except Exception as exc:
            put(exc)
        finally:
            generated.close()  # releases the model for the next request
            put(None)

    worker = loop.run_in_executor(None, produce)
    try:
        while (item := await pieces.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        gone.set()
    await worker
