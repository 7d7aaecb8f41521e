"""Any OpenAI-compatible chat server: `vllm serve`, llama.cpp's server, SGLang, our own
`longagent serve-model`.

A batch goes out as concurrent requests under a bound (the server batches them); the
official `openai` client supplies timeouts and retries with exponential backoff.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from typing import Any

import httpx
import openai

from longagent.errors import ModelResponseError, ModelUnavailableError
from longagent.llm.base import Generation, GenerationRequest


class OpenAIModel:
    """`ChatModel` over `base_url` (for example `http://127.0.0.1:8000/v1`).

    `context_window` comes from the server's model listing when it reports one (vLLM's
    `max_model_len`), else from the argument. `count_tokens` uses the server's
    `/tokenize` endpoint (vLLM and `longagent serve-model` have it) and falls back to
    about four characters a token when the server has none.

    `max_concurrency` requests are in flight at once: vLLM batches whatever is in flight
    continuously, so a whole round of members (often 16 to 64) should arrive together.
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key: str = "EMPTY",
        max_concurrency: int = 64,
        timeout: float = 120.0,
        max_retries: int = 3,
        context_window: int | None = None,
    ) -> None:
        self.name = model
        self.base_url = base_url.rstrip("/")
        self.max_concurrency = max_concurrency
        self._api_key = api_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._http = httpx.Client(timeout=timeout)
        self._tokenize_url: str | None = self.base_url.removesuffix("/v1") + "/tokenize"
        self.context_window = context_window or self._server_window() or 8192

    # -- the ChatModel protocol ------------------------------------------------------

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._generate_all(requests))
        # Called from inside an event loop (a web app): run ours on a worker thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self._generate_all(requests)).result()

    def count_tokens(self, text: str) -> int:
        if self._tokenize_url is not None:
            try:
                response = self._http.post(
                    self._tokenize_url, json={"model": self.name, "prompt": text}
                )
                if response.status_code == 200:
                    return int(response.json()["count"])
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            self._tokenize_url = None  # the server has no tokenizer endpoint; stop asking
        return max(1, round(len(text) / 4))

    # -- internals ----------------------------------------------------------------------

    def _server_window(self) -> int | None:
        try:
            response = self._http.get(f"{self.base_url}/models")
            for entry in response.json().get("data", []):
                if entry.get("id") == self.name and entry.get("max_model_len"):
                    return int(entry["max_model_len"])
        except (httpx.HTTPError, ValueError, AttributeError):
            pass  # unreachable now; generate() reports it clearly if it stays so
        return None

    async def _generate_all(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        bound = asyncio.Semaphore(self.max_concurrency)
        async with openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self._api_key,
            timeout=self._timeout,
            max_retries=self._max_retries,
        ) as client:

            async def one(request: GenerationRequest) -> Generation:
                async with bound:
                    return await self._complete(client, request)

            return list(await asyncio.gather(*(one(r) for r in requests)))

    async def _complete(self, client: openai.AsyncOpenAI, request: GenerationRequest) -> Generation:
        extra: dict[str, Any] = {}
        if request.json_schema is not None:
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": request.json_schema, "strict": True},
            }
        try:
            completion = await client.chat.completions.create(
                model=self.name,
                # Plain {"role", "content"} dicts, as every OpenAI-compatible server takes;
                # the client types each role as its own TypedDict (a "tool" one would need a
                # tool_call_id we never have), so a dict cannot be proven to match.
                messages=[m.model_dump() for m in request.messages],  # type: ignore[misc]
                max_tokens=request.max_new_tokens,
                temperature=request.temperature,
                stop=request.stop or None,
                seed=request.seed,
                **extra,
            )
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise ModelUnavailableError(
                f"Cannot reach the model server at {self.base_url} ({exc}). Is it running? "
                "Start one with `vllm serve MODEL` or `longagent serve-model`."
            ) from exc
        except openai.APIStatusError as exc:
            raise ModelResponseError(
                f"The model server at {self.base_url} refused the request "
                f"(HTTP {exc.status_code}): {exc.message}"
            ) from exc
        except (openai.APIResponseValidationError, ValueError) as exc:
            raise ModelResponseError(
                f"The server at {self.base_url} did not answer in the OpenAI format: {exc}"
            ) from exc
        try:
            choice = completion.choices[0]
            text = choice.message.content or ""
            usage = completion.usage
        except (AttributeError, IndexError, TypeError) as exc:
            raise ModelResponseError(
                f"The server at {self.base_url} sent a completion without choices: {completion!r:.200}"
            ) from exc
        return Generation(
            text=text,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason="length" if choice.finish_reason == "length" else "stop",
        )
