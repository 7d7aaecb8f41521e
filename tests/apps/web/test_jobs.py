"""Web jobs through the real server: they survive a crash or a restart (as interrupted,
rerun or dismissed by the user), they can be cancelled, queued or running, and a chat turn
does not wait behind queued questions."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from longagent.apps.web.jobs import INTERACTIVE_BURST, JobRunner

h = sys.modules["longagent_web_test_helpers"]  # _helpers.py, loaded by conftest.py
HX = {"HX-Request": "true"}
QUESTIONS = {
    f"q{i}": f"In which town was Kalomi born ({nth} time of asking)?"
    for i, nth in ((1, "first"), (2, "second"), (3, "third"))
}

# `longagent serve` with the scripted model (pace: seconds per model call), in its own
# process, so that the test can kill it.
SERVE = """
import importlib.util, sys
import uvicorn
from longagent.apps.web import create_app
from longagent.memory.embedder import HashEmbedder
spec = importlib.util.spec_from_file_location("helpers", sys.argv[1])
h = importlib.util.module_from_spec(spec)
spec.loader.exec_module(h)
model = h.scripted_model(pace=float(sys.argv[4]))
app = create_app(model, sys.argv[2], embedder=HashEmbedder(), chunk_tokens=120)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""


def wait_for(condition: Callable[[], Any], timeout: float = 30, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def upload(url: str) -> str:
    text = h.document_text(h.BORN_RENDA)
    response = httpx.post(url + "/api/documents", data={"text": text, "name": "bio"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def ask(url: str, doc_id: str, question: str) -> str:
    """Ask as the page does; returns the job id."""
    response = httpx.post(
        f"{url}/documents/{doc_id}/questions", data={"question": question}, headers=HX
    )
    assert response.status_code == 200, response.text
    found = re.search(r"/jobs/([0-9a-f]{32})/events", response.text)
    assert found, response.text
    return found.group(1)


def job(url: str, job_id: str) -> dict[str, Any]:
    response = httpx.get(f"{url}/api/jobs/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def finished(url: str, job_id: str) -> dict[str, Any]:
    return wait_for(lambda: (j := job(url, job_id))["done"] and j, what=f"job {job_id}")


class Serve:
    """The app in a subprocess on `data`."""

    def __init__(self, data: Path, pace: float) -> None:
        self.port = h.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        helpers = Path(__file__).with_name("_helpers.py")
        command = [sys.executable, "-c", SERVE, str(helpers), str(data), str(self.port)]
        env = {**os.environ, "LONGAGENT_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        self.process = subprocess.Popen([*command, str(pace)], env=env)

        def up() -> bool:
            assert self.process.poll() is None, "the server exited"
            try:
                return httpx.get(self.url + "/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, timeout=60, what="the server")

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[float], Any]]:
    started: list[Serve] = []

    def start(pace: float) -> Serve:
        started.append(Serve(tmp_path / "data", pace))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_queued_questions_survive_a_restart_as_interrupted(serve: Any, sig: int) -> None:
    first = serve(pace=2.0)  # slow model calls: the questions are still queued when it stops
    doc_id = upload(first.url)
    ids = [ask(first.url, doc_id, q) for q in QUESTIONS.values()]
    assert [job(first.url, i)["status"] for i in ids[1:]] == ["queued", "queued"]
    first.stop(sig)

    second = serve(pace=0.0)
    for job_id, question in zip(ids, QUESTIONS.values(), strict=True):
        state = job(second.url, job_id)
        assert state["status"] == "interrupted" and state["done"], state
        assert state["question"] == question and "Interrupted" in state["entry"]["error"]
    listing = httpx.get(second.url + "/api/jobs").json()
    assert [j["id"] for j in listing] == ids
    page = httpx.get(f"{second.url}/documents/{doc_id}").text
    assert page.count('class="rerun"') == 3 and QUESTIONS["q2"] in page
    assert httpx.get(f"{second.url}/api/documents/{doc_id}/questions").json() == []
    # A browser still streaming a job when the server restarted is offered the rerun.
    stream = httpx.get(f"{second.url}/jobs/{ids[2]}/events", timeout=10).text
    assert "event: done" in stream and 'class="rerun"' in stream

    rerun = httpx.post(f"{second.url}/api/jobs/{ids[1]}/rerun")
    assert rerun.status_code == 202 and rerun.json()["status"] in ("queued", "running")
    done = finished(second.url, ids[1])
    assert done["status"] == "done" and done["entry"]["answer"]["text"] == "Renda"
    saved = httpx.get(f"{second.url}/api/documents/{doc_id}/questions").json()
    assert [(e["id"], e["answer"]["text"]) for e in saved] == [(ids[1], "Renda")]
    assert httpx.post(f"{second.url}/api/jobs/{ids[1]}/rerun").status_code == 409

    dismissed = httpx.delete(f"{second.url}/api/jobs/{ids[0]}")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "cancelled"
    second.stop(signal.SIGTERM)

    # The dismissed and the answered jobs are gone for good; the last one waits still.
    third = serve(pace=0.0)
    listing = httpx.get(third.url + "/api/jobs").json()
    assert [(j["id"], j["status"]) for j in listing] == [(ids[2], "interrupted")]


@pytest.fixture
def gated(make_app: Callable[..., Any]) -> Iterator[tuple[Any, Any]]:
    """A live server over a model that the test can hold mid-generation."""
    model = h.GatedModel()
    app = make_app(model=model)
    with h.LiveServer(app) as server:
        yield server, model
        model.gate.set()


def test_a_chat_turn_goes_before_queued_questions(gated: tuple[Any, Any]) -> None:
    server, model = gated
    url, runner = server.url, server.server.config.app.state.web.runner
    doc_id = upload(url)
    assert httpx.post(url + "/chat", data={"name": "ines"}).status_code == 303
    model.gate.clear()
    ids = [ask(url, doc_id, q) for q in QUESTIONS.values()]
    assert model.entered.wait(30)  # q1 is in the model; q2 and q3 wait

    turn: dict[str, Any] = {}

    def chat() -> None:
        reply = httpx.post(url + "/api/chat/ines/messages", data={"message": h.SISTER}, timeout=60)
        turn["status"] = reply.status_code

    sender = threading.Thread(target=chat)
    sender.start()
    wait_for(lambda: runner.pending_calls() == 1, what="the chat turn to be queued")
    model.gate.set()
    sender.join(60)
    assert turn == {"status": 200}
    assert all(finished(url, i)["status"] == "done" for i in ids)
    assert model.labels(QUESTIONS) == ["q1", "chat", "q2", "q3"]


def test_cancel_a_queued_and_a_running_question(gated: tuple[Any, Any]) -> None:
    server, model = gated
    url = server.url
    doc_id = upload(url)
    model.gate.clear()
    running, queued = (ask(url, doc_id, q) for q in (QUESTIONS["q1"], QUESTIONS["q2"]))
    assert model.entered.wait(30)

    dropped = httpx.delete(f"{url}/api/jobs/{queued}")
    assert dropped.status_code == 200
    assert dropped.json()["status"] == "cancelled" and not dropped.json()["cancelling"]
    stopping = httpx.delete(f"{url}/api/jobs/{running}")
    assert stopping.status_code == 200
    assert stopping.json()["status"] == "running" and stopping.json()["cancelling"]
    assert httpx.delete(f"{url}/api/jobs/{running}").status_code == 409  # asked already
    # Another site may not cancel (CSRF).
    evil = {"Origin": "http://evil.example"}
    assert httpx.delete(f"{url}/api/jobs/{running}", headers=evil).status_code == 403

    model.gate.set()
    stopped = finished(url, running)
    assert stopped["status"] == "cancelled" and stopped["entry"]["error"] == "Cancelled."
    assert model.labels(QUESTIONS) == ["q1"]  # q2 never reached the model
    assert httpx.get(f"{url}/api/documents/{doc_id}/questions").json() == []
    assert [j["status"] for j in httpx.get(url + "/api/jobs").json()] == ["cancelled"] * 2

    # Finished jobs cannot be cancelled; unknown ones are not found.
    answered = ask(url, doc_id, QUESTIONS["q3"])
    assert finished(url, answered)["status"] == "done"
    assert httpx.delete(f"{url}/api/jobs/{answered}").status_code == 409
    assert httpx.delete(f"{url}/api/jobs/{'0' * 32}").status_code == 404
    assert httpx.delete(f"{url}/api/jobs/not-a-job").status_code == 404


def test_queued_questions_are_not_starved_by_chat_turns(tmp_path: Path) -> None:
    runner, order, hold = JobRunner(tmp_path / "jobs.json"), [], threading.Event()
    runner.register("qa", lambda job: (hold.wait(30), order.append(job.meta["name"])))
    first = runner.submit("qa", name="first")
    wait_for(lambda: first.status == "running", what="the first job")  # holds the thread
    runner.submit("qa", name="second")
    calls = [runner.call(lambda i=i: order.append(f"call{i}")) for i in range(6)]
    hold.set()
    for call in calls:
        call.result(timeout=30)
    wait_for(lambda: len(order) == 8, what="every job and call")
    burst = [f"call{i}" for i in range(INTERACTIVE_BURST)]
    assert order == ["first", *burst, "second", "call4", "call5"]
    runner.shutdown()
