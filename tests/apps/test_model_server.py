"""`longagent serve-model` as a real subprocess, driven by OpenAIModel and the official client;
plus OpenAIModel against real misbehaving HTTP servers (down, slow, nonsense)."""

from __future__ import annotations

import asyncio
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from longagent.apps.model_server import create_app
from longagent.errors import ModelResponseError, ModelUnavailableError
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.llm.constrained import generate_structured
from longagent.llm.openai_model import OpenAIModel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    url: str  # the API root, ending in /v1
    log: Path  # the server's stderr

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    port = free_port()
    log = tmp_path_factory.mktemp("serve-model") / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "longagent.apps.cli", "serve-model", "--port", str(port)],
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    yield Served(f"{url}/v1", log)
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def server_url(served: Served) -> str:
    return served.url


REQUESTS = [
    GenerationRequest.chat("What is the capital of Italy?", max_new_tokens=16),
    GenerationRequest.chat("Name a fruit that is yellow.", max_new_tokens=16),
    GenerationRequest.chat("Say goodbye politely.", max_new_tokens=16),
]


def test_openai_model_matches_the_local_model(server_url: str, bundled_model) -> None:
    remote = OpenAIModel(bundled_model.name, base_url=server_url)
    assert remote.context_window == bundled_model.context_window
    assert remote.count_tokens("counting tokens remotely") == bundled_model.count_tokens(
        "counting tokens remotely"
    )
    results = remote.generate(REQUESTS)
    local = bundled_model.generate(REQUESTS)
    assert [r.text for r in results] == [r.text for r in local]
    assert [r.prompt_tokens for r in results] == [r.prompt_tokens for r in local]


class Answer(BaseModel):
    answer: str
    confident: bool


def test_json_schema_goes_through_response_format(server_url: str) -> None:
    remote = OpenAIModel("smollm2-135m", base_url=server_url)
    request = REQUESTS[0].model_copy(update={"max_new_tokens": 60})
    (result,) = generate_structured(remote, [request], Answer)
    assert isinstance(result, Answer)


def test_official_client_plain_and_streaming(server_url: str) -> None:
    client = openai.OpenAI(base_url=server_url, api_key="none")
    assert [m.id for m in client.models.list().data] == ["smollm2-135m"]
    messages = [{"role": "user", "content": "Give me one word for happy."}]
    plain = client.chat.completions.create(model="smollm2-135m", messages=messages, max_tokens=12)
    pieces = [
        chunk.choices[0].delta.content or ""
        for chunk in client.chat.completions.create(
            model="smollm2-135m", messages=messages, max_tokens=12, stream=True
        )
    ]
    assert plain.choices[0].message.content
    assert "".join(pieces) == plain.choices[0].message.content
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-99", messages=messages)


def test_server_down_is_a_clear_error() -> None:
    port = free_port()  # nothing listens here
    model = OpenAIModel(
        "m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, context_window=512
    )
    with pytest.raises(ModelUnavailableError, match=f"127.0.0.1:{port}"):
        model.generate(REQUESTS[:1])


class _Handler(http.server.BaseHTTPRequestHandler):
    """A real HTTP server that misbehaves on purpose: slow, or answering non-OpenAI text."""

    hits = 0
    delay = 0.0
    body = b""

    def do_POST(self) -> None:
        type(self).hits += 1
        self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(self.delay)
        try:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(self.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def odd_server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    server.shutdown()


def test_slow_server_times_out_after_retries(odd_server) -> None:
    url, handler = odd_server
    handler.delay, handler.body = 2.0, b"{}"
    model = OpenAIModel("m", base_url=url, timeout=0.3, max_retries=2, context_window=512)
    handler.hits = 0
    with pytest.raises(ModelUnavailableError):
        model.generate(REQUESTS[:1])
    assert handler.hits == 3  # the first try and two retries with backoff


def test_nonsense_answer_is_a_clear_error(odd_server) -> None:
    url, handler = odd_server
    handler.body = b'{"hello": "not a completion"}'
    model = OpenAIModel("m", base_url=url, max_retries=0, context_window=512)
    with pytest.raises(ModelResponseError, match=r"without choices|OpenAI format"):
        model.generate(REQUESTS[:1])


def test_concurrent_requests_run_as_one_batch() -> None:
    model = ScriptedModel(lambda request: request.messages[-1].content.upper())
    app = create_app(model, max_batch=8)

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/v1/chat/completions",
                        json={"messages": [{"role": "user", "content": f"q{i}"}]},
                    )
                    for i in range(6)
                )
            )

    responses = asyncio.run(fire())
    assert [r.json()["choices"][0]["message"]["content"] for r in responses] == [
        f"Q{i}" for i in range(6)
    ]
    assert model.calls < 6  # gathered into batches, not one call per request


def test_bad_requests_get_openai_style_errors() -> None:
    from fastapi.testclient import TestClient

    client = TestClient(create_app(ScriptedModel(["x"])))
    empty = client.post("/v1/chat/completions", json={"messages": []})
    assert empty.status_code == 400 and "messages" in empty.json()["error"]["message"]
    wrong = client.post(
        "/v1/chat/completions",
        json={"model": "other", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert wrong.status_code == 404 and "scripted" in wrong.json()["error"]["message"]


# -- one bad request fails alone ------------------------------------------------------------

GOOD = {"messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 8}


def bad_requests(window: int) -> dict[str, tuple[dict, str]]:
    """Requests a client can get wrong, each with a word its error message must contain."""
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "nonsense"}}}
    return {
        "oversize": (
            {**GOOD, "messages": [{"role": "user", "content": "word " * window}]},
            "window",
        ),
        "schema": ({**GOOD, "response_format": schema}, "schema"),
        "seed": ({**GOOD, "seed": 2**70, "temperature": 0.7}, "seed"),
        "max_tokens": ({**GOOD, "max_tokens": 10**9}, "max_tokens"),
        "format": (
            {**GOOD, "response_format": {"type": "json_schema", "json_schema": 5}},
            "json_schema",
        ),
    }


async def post_all(url: str, bodies: list[dict], timeout: float = 120) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=timeout) as client:
        return await asyncio.gather(
            *(client.post(f"{url}/chat/completions", json=b) for b in bodies)
        )


def test_a_bad_request_fails_alone_not_its_batch(served: Served) -> None:
    for name, (bad, word) in bad_requests(8192).items():
        *good, refused = asyncio.run(post_all(served.url, [GOOD] * 4 + [bad]))
        assert [r.status_code for r in good] == [200] * 4, (name, good[0].text)
        assert all(r.json()["choices"][0]["message"]["content"] for r in good)
        assert refused.status_code == 400, (name, refused.text)
        error = refused.json()["error"]
        assert error["type"] == "invalid_request_error" and word in error["message"], error
    assert "Traceback" not in served.log_text()


def test_streaming_a_bad_request_is_refused_before_the_stream(served: Served) -> None:
    client = openai.OpenAI(base_url=served.url, api_key="none", max_retries=0)
    for name, (bad, word) in bad_requests(8192).items():
        with pytest.raises(openai.BadRequestError, match=word):
            client.chat.completions.create(model="smollm2-135m", stream=True, **bad)
        assert name
    assert "Traceback" not in served.log_text()


# A request that cannot end early: an array of at least 3000 integers, thousands of steps.
ENDLESS = {
    "messages": [{"role": "user", "content": "List numbers."}],
    "max_tokens": 6000,
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "n",
            "schema": {"type": "array", "items": {"type": "integer"}, "minItems": 3000},
        },
    },
}


def quick_answer_seconds(url: str) -> float:
    start = time.monotonic()
    response = httpx.post(f"{url}/chat/completions", json=GOOD, timeout=60)
    assert response.status_code == 200
    return time.monotonic() - start


def test_a_client_that_leaves_stops_its_generation(served: Served) -> None:
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{served.url}/chat/completions", json=ENDLESS, timeout=2)
    assert quick_answer_seconds(served.url) < 20  # not the minutes ENDLESS would take
    with httpx.stream(
        "POST", f"{served.url}/chat/completions", json={**ENDLESS, "stream": True}, timeout=30
    ) as response:
        lines = response.iter_lines()
        assert response.status_code == 200 and [next(lines) for _ in range(8)]
    assert quick_answer_seconds(served.url) < 20


# -- a backend failure isolated to its row, against a scripted model in a real server ------


@contextmanager
def live(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_row_the_backend_fails_on_is_retried_alone() -> None:
    def answer(request: GenerationRequest) -> str:
        if "poison" in request.messages[-1].content:
            raise RuntimeError("the backend chokes on poison")
        return request.messages[-1].content.upper()

    model = ScriptedModel(answer)
    with live(create_app(model, max_batch=8, batch_wait_s=0.3)) as url:
        bodies = [{"messages": [{"role": "user", "content": c}]} for c in ("a", "b", "poison", "c")]
        responses = asyncio.run(post_all(url, bodies))
        streamed = openai.OpenAI(base_url=url, api_key="none", max_retries=0)
        with pytest.raises(openai.APIError, match="poison"):
            for _ in streamed.chat.completions.create(
                model="scripted", messages=bodies[2]["messages"], stream=True
            ):
                pass
    assert [r.status_code for r in responses] == [200, 200, 500, 200]
    assert [r.json()["choices"][0]["message"]["content"] for r in responses[:2]] == ["A", "B"]
    assert "poison" in responses[2].json()["error"]["message"]
    assert any(len(batch) > 1 for batch in model.batches)  # they did share a batch
