"""The web app on the real bundled model (SmolLM2-135M on CPU) and the real MiniLM
embedder, and `longagent serve` as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from longagent.apps.cli import app as cli
from longagent.apps.web import create_app
from longagent.apps.web_cmd import _loopback

h = sys.modules["longagent_web_test_helpers"]  # _helpers.py, loaded by conftest.py

MUSEUM = (
    "The Harbor Museum\n\n"
    "The Harbor Museum stands on the old quay of Renda. It was founded in 1921 by "
    "Marta Ilves, a ship's captain who collected maps. Its largest room holds a model "
    "of the lighthouse, and the garden has a bell that rings at noon."
)


def wait_done(client: TestClient, job_id: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["done"]:
            return job
        time.sleep(0.5)
    raise AssertionError("the question did not finish in time")


@pytest.mark.slow
def test_the_real_model_answers_with_a_trace_and_chats(bundled_model: Any, tmp_path: Path) -> None:
    app = create_app(bundled_model, tmp_path / "data", allowed_hosts=["testserver"])
    with TestClient(app) as client:
        response = client.post("/documents", data={"text": MUSEUM, "name": "museum"})
        doc_id = response.url.path.rsplit("/", 1)[-1]
        asked = client.post(
            f"/documents/{doc_id}/questions",
            data={"question": "Who founded the Harbor Museum?"},
            headers={"HX-Request": "true"},
        )
        job_id = re.search(r"/jobs/([0-9a-f]{32})/events", asked.text).group(1)
        job = wait_done(client, job_id)
        assert [e["kind"] for e in job["events"]][:2] == ["round_started", "member_reports"]
        answer = job["entry"]["answer"]
        assert answer is not None and answer["trace"] and answer["usage"]["model_calls"] >= 1
        for citation in answer["citations"]:  # whatever the model found is cited exactly
            assert MUSEUM[citation["start"] : citation["end"]] == citation["quote"]
        page = client.get(f"/documents/{doc_id}").text
        assert "Who founded the Harbor Museum?" in page and "Trace:" in page

        client.post("/chat", data={"name": "tomas"})
        turn = client.post("/api/chat/tomas/messages", data={"message": "Hello! I am Tomas."})
        assert turn.status_code == 200, turn.text
        reply, memory = turn.json()["reply"], turn.json()["memory"]
        assert reply["text"].strip() and reply["usage"]["model_calls"] >= 1
        assert memory["lines"][0]["kind"] == "user"
        assert memory["lines"][0]["text"] == "Hello! I am Tomas."
        assert 0 < memory["tokens"] < memory["budget"]


@pytest.mark.slow
def test_longagent_serve_runs_the_app_behind_its_token(tmp_path: Path) -> None:
    port = h.free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LONGAGENT_WEB_TOKEN": "s3cret"}
    env.setdefault("LONGAGENT_THREADS", "1")
    command = [sys.executable, "-m", "longagent.apps.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(tmp_path / "web")]
    log = tmp_path / "serve.log"
    process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail(f"longagent serve did not start: {log.read_text()}")
        assert httpx.get(url + "/api/documents").status_code == 401
        page = httpx.get(url + "/", headers={"Authorization": "Bearer s3cret"})
        assert page.status_code == 200 and "Ask a long document" in page.text
        assert (tmp_path / "web" / "documents").is_dir()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_is_a_command_with_safe_defaults() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--model", "--host", "--port", "--token", "--data-dir", "--max-upload-mb"):
        assert option in result.output
    assert "127.0.0.1" in result.output and "LONGAGENT_WEB_TOKEN" in result.output
    assert _loopback("127.0.0.1") and _loopback("::1") and _loopback("localhost")
    assert not _loopback("0.0.0.0") and not _loopback("192.168.1.4")
