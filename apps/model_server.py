"""`longagent serve-model`: an OpenAI-compatible HTTP server over any `ChatModel`.

Concurrent requests are gathered for a few milliseconds and run as one model batch, so
ten clients cost about one batched decode, not ten. Streaming uses the model's
`stream()` when it has one (the embedded transformers backend does).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from longagent.errors import ContextOverflowError, LongAgentError
from longagent.llm.base import ChatModel, Generation, GenerationRequest, Message


class ChatMessageIn(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.get("text", "") for part in self.content if part.get("type") == "text")


class ChatCompletionIn(BaseModel):
    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    stop: str | list[str] | None = None
    stream: bool = False
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1)
    response_format: dict[str, Any] | None = None

    def to_request(self) -> GenerationRequest:
        schema = None
        if self.response_format and self.response_format.get("type") == "json_schema":
            schema = self.response_format.get("json_schema", {}).get("schema")
        elif self.response_format and self.response_format.get("type") == "json_object":
            schema = {"type": "object"}
        stop = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        return GenerationRequest(
            messages=[Message(role=m.role, content=m.text()) for m in self.messages],
            max_new_tokens=self.max_completion_tokens or self.max_tokens or 256,
            temperature=self.temperature,
            stop=stop,
            json_schema=schema,
            seed=self.seed,
        )


class TokenizeIn(BaseModel):
    model: str | None = None
    prompt: str


class Batcher:
    """Runs requests arriving within `wait_s` of each other as one `generate` call."""

    def __init__(self, model: ChatModel, max_batch: int = 8, wait_s: float = 0.01) -> None:
        self.model = model
        self.max_batch = max_batch
        self.wait_s = wait_s
        self._queue: queue.Queue[tuple[GenerationRequest, concurrent.futures.Future]] = (
            queue.Queue()
        )
        threading.Thread(target=self._work, daemon=True, name="longagent-batcher").start()

    async def submit(self, request: GenerationRequest) -> Generation:
        future: concurrent.futures.Future[Generation] = concurrent.futures.Future()
        self._queue.put((request, future))
        return await asyncio.wrap_future(future)

    def _work(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.wait_s
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    break
            try:
                results = self.model.generate([request for request, _ in batch])
            except Exception as exc:  # hand the error to every waiting client
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"message": message, "type": kind, "code": status}}
    )


def create_app(model: ChatModel, *, max_batch: int = 8) -> FastAPI:
    app = FastAPI(title="longagent model server", version="0.1.0")
    batcher = Batcher(model, max_batch=max_batch)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(400, f"Invalid request: {exc.errors()[:3]}")

    @app.exception_handler(LongAgentError)
    async def refused(_: Request, exc: LongAgentError) -> JSONResponse:
        return _error(400 if isinstance(exc, ContextOverflowError) else 500, str(exc))

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
    async def chat_completions(body: ChatCompletionIn) -> Any:
        if body.model not in (None, model.name):
            return _error(
                404,
                f"Model '{body.model}' is not served here; this server has '{model.name}'.",
                "not_found_error",
            )
        request = body.to_request()
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            return EventSourceResponse(_stream(model, request, completion_id), ping=15)
        generation = await batcher.submit(request)
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
    model: ChatModel, request: GenerationRequest, completion_id: str
) -> AsyncIterator[str]:
    """OpenAI's chunk format over server-sent events, ending with `[DONE]`."""

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
    stream = getattr(model, "stream", None)
    if stream is None:  # a backend without streaming: one chunk with the whole text
        (generation,) = await asyncio.to_thread(model.generate, [request])
        yield chunk({"content": generation.text})
    else:
        pieces: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def produce() -> None:
            try:
                for piece in stream(request):
                    loop.call_soon_threadsafe(pieces.put_nowait, piece)
            finally:
                loop.call_soon_threadsafe(pieces.put_nowait, None)

        worker = loop.run_in_executor(None, produce)
        while (piece := await pieces.get()) is not None:
            yield chunk({"content": piece})
        await worker
    yield chunk({}, "stop")
    yield "[DONE]"
