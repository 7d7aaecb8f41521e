"""`longagent bench serve-memory`: the web server's memory before, during and after work.

Starts `longagent serve` as a child process on 127.0.0.1 (a fresh data folder, the model
of `--model`), uploads a real document, queues questions about it and sends chat turns
through the HTTP API, waits for all of them, and samples the server's own resident memory
from /proc/PID/status: after the model loaded (idle), the peak (VmHWM), right after the
work, and `--settle` seconds later. The server's `GET /api/memory` adds the prefix cache's
own byte count. Prints a table and writes bench-results/serve-memory.json. Linux only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import typer

from longagent.apps.bench.natural_data import DATA

CHAT = ("Hello! I am Tomas and I keep bees.", "What do I keep, and what is my name?")
MB = 2**20


def questions_for(document: str, count: int) -> list[str]:
    """`count` questions about `document` from the natural suite (repeated if fewer)."""
    data = json.loads((DATA / "questions.json").read_text())["questions"]
    asked = [q["question"] for q in data if q["document"] == document]
    if not asked:
        asked = ["What is this document about?"]
    return [asked[i % len(asked)] for i in range(count)]


class Sampler:
    """Polls a process's VmRSS every `every` seconds in a thread, keeping the highest."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every, self.highest = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        from longagent.apps.web.memory import status_bytes

        while not self._stop.wait(self.every):
            self.highest = max(self.highest, status_bytes(self.pid).get("VmRSS", 0))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _wait_healthy(client: Any, process: subprocess.Popen[bytes], timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if client.get("/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError("longagent serve did not start (see its log)")


def run_workload(
    url: str, pid: int, document: Path, questions: list[str], chat: list[str], timeout: float
) -> dict[str, Any]:
    """Upload, ask, chat, wait: the phases' memory numbers (bytes) and the work's outcome."""
    import httpx

    from longagent.apps.web.memory import status_bytes

    deadline = time.monotonic() + timeout
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=60) as client, Sampler(pid) as sampler:
        out["idle"] = status_bytes(pid) | {"api": client.get("/api/memory").json()}
        with document.open("rb") as f:
            uploaded = client.post("/api/documents", files={"file": (document.name, f)})
        uploaded.raise_for_status()
        doc_id = uploaded.json()["id"]
        for question in questions:
            client.post(f"/documents/{doc_id}/questions", data={"question": question})
        turns: list[int] = []

        def talk() -> None:
            # Interactive calls go ahead of waiting questions, but wait for the running one.
            try:
                if chat:
                    left = max(1.0, deadline - time.monotonic())
                    client.post("/chat", data={"name": "bench"}, timeout=left)
                for message in chat:
                    left = max(1.0, deadline - time.monotonic())
                    reply = client.post("/api/chat/bench/messages", data={"message": message},
                                        timeout=left)  # fmt: skip
                    turns.append(reply.status_code)
            except httpx.HTTPError as exc:
                turns.append(-1)
                print(f"chat turn failed: {exc!r}", file=sys.stderr)

        talker = threading.Thread(target=talk, daemon=True)
        talker.start()
        jobs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            jobs = client.get("/api/jobs").json()
            if all(j["done"] for j in jobs) and not talker.is_alive():
                break
            time.sleep(1.0)
        else:
            raise RuntimeError(f"the work did not finish in {timeout:.0f} s")
        out["after"] = status_bytes(pid) | {"api": client.get("/api/memory").json()}
        out["statuses"] = [j["status"] for j in jobs]
        out["chat_status"] = turns
        out["sampled_peak"] = sampler.highest
    return out


def measure(
    document: Path,
    questions: list[str],
    chat: list[str],
    *,
    model: str | None,
    settle: float,
    timeout: float,
    env: dict[str, str],
) -> dict[str, Any]:
    """One server, one workload: the memory table's row."""
    import httpx

    from longagent.apps.web.memory import status_bytes

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="longagent-serve-memory-") as tmp:
        command = [sys.executable, "-m", "longagent.apps.cli", "serve", "--port", str(port)]
        command += ["--data-dir", str(Path(tmp) / "web")] + (["--model", model] if model else [])
        log = Path(tmp) / "serve.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=url) as client:
                _wait_healthy(client, process, 600)
            time.sleep(2)  # let the start settle before the idle sample
            result = run_workload(url, process.pid, document, questions, chat, timeout)
            time.sleep(settle)
            with httpx.Client(base_url=url, timeout=30) as client:
                result["settled"] = status_bytes(process.pid) | {
                    "api": client.get("/api/memory").json()
                }
            result["peak"] = status_bytes(process.pid).get("VmHWM", 0)
        except Exception as exc:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{exc}\n--- server log ---\n{tail}") from exc
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return result


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(
    document: Path = typer.Option(DATA / "grep.txt", help="The document to upload."),
    questions: int = typer.Option(8, help="Questions to queue (from the natural suite)."),
    chat_turns: int = typer.Option(2, help="Chat turns sent while the questions run."),
    model: str = typer.Option(None, help="Model spec (default: the bundled model)."),
    settle: float = typer.Option(30.0, help="Seconds to wait after the work before sampling."),
    timeout: float = typer.Option(3600.0, help="Most seconds for the work."),
    out_dir: Path = typer.Option("bench-results", help="Where serve-memory.json is written."),
) -> None:
    """RSS of `longagent serve`: idle after model load, peak, after the work, settled."""
    from longagent.apps import checks
    from longagent.errors import ConfigError

    checks.at_least("--questions", questions, 0)
    checks.at_most("--questions", questions, 200)
    checks.at_least("--chat-turns", chat_turns, 0)
    checks.at_most("--chat-turns", chat_turns, len(CHAT))
    checks.at_least("--settle", settle, 0)
    checks.at_least("--timeout", timeout, 1)
    checks.model_spec(model)
    checks.writable_dir(out_dir, "--out-dir")
    if not document.is_file():
        raise ConfigError(f"--document: no such file: {document}")
    if not Path("/proc/self/status").exists():
        raise ConfigError("bench serve-memory reads /proc: it runs on Linux only")
    from rich.console import Console
    from rich.table import Table

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.setdefault("LONGAGENT_THREADS", "1")
    asked = questions_for(document.name, questions)
    console = Console()
    with console.status(f"serving; {questions} questions and {chat_turns} chat turns"):
        started = time.monotonic()
        row = measure(document, asked, list(CHAT[:chat_turns]), model=model, settle=settle,
                      timeout=timeout, env=env)  # fmt: skip
        row["seconds"] = time.monotonic() - started
    table = Table(title=f"longagent serve RSS, {document.name}, {questions} questions + "
                  f"{chat_turns} chat turns, LONGAGENT_THREADS={env['LONGAGENT_THREADS']}")  # fmt: skip
    for column in ("moment", "RSS MB", "anonymous MB", "file MB", "prefix cache MB",
                   "cache limit MB"):  # fmt: skip
        table.add_column(column, justify="right")

    def as_mb(numbers: dict[str, Any], key: str) -> str:
        value = numbers.get(key)
        return "-" if value is None else f"{value / MB:.0f}"

    for label, key in (("idle, model loaded", "idle"), ("after the work", "after"),
                       (f"after the work + {settle:g} s", "settled")):  # fmt: skip
        api, proc = row[key]["api"], row[key]
        table.add_row(label, *(as_mb(proc, k) for k in ("VmRSS", "RssAnon", "RssFile")),
                      as_mb(api, "prefix_cache_bytes"),
                      as_mb(api, "prefix_cache_limit_bytes"))  # fmt: skip
    table.add_row("peak (VmHWM)", f"{row['peak'] / MB:.0f}", "", "", "", "")
    console.print(table)
    console.print(f"jobs: {row['statuses']}; chat: {row['chat_status']}; {row['seconds']:.0f} s")
    (out_dir / "serve-memory.json").write_text(json.dumps(row, indent=1))
    console.print(f"written: {out_dir / 'serve-memory.json'}")
