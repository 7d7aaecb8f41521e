"""Model work off the event loop: one thing at a time, fairly, and surviving restarts.

A model is not re-entrant (one KV cache, one tokenizer that refuses concurrent use), so
everything that touches it runs on one worker thread. Two queues feed that thread:
background jobs (questions, which can take minutes each) and interactive calls (a chat
turn, opening an agent, a memory view), which a user waits on. Interactive calls go
first, so a chat turn waits for the job in progress at most, never for the questions
queued behind it; after a few calls in a row a waiting job gets its turn, so neither
side starves.

A job collects the progress events its work reports, which the SSE endpoint streams
while it runs. Unfinished jobs are kept in `jobs.json` (the project's atomic writer):
after a crash or a restart they come back as `interrupted`, and the user can rerun or
dismiss them. A job is stopped (cancelled, or interrupted by a shutdown) from inside its
own event callback, which the work calls between rounds.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from longagent.apps.web.security import JOB_ID, check_id
from longagent.memory._atomic import read_json, write_json_atomic

Status = Literal["queued", "running", "done", "failed", "cancelled", "interrupted"]
UNFINISHED = ("queued", "running")
KEPT_ON_DISK = ("queued", "running", "interrupted")
FORGETTABLE = ("done", "failed", "cancelled")
KEEP_FINISHED = 200  # finished jobs kept for late SSE clients; older ones are forgotten
INTERACTIVE_BURST = 4  # interactive calls served in a row while a job waits
SHUTDOWN_WAIT_S = 10.0  # how long a shutdown waits for the job in progress to stop


class JobStopped(BaseException):
    """Raised from a job's event callback to stop its work at the next round boundary.
    A BaseException, so no `except Exception` in the work can swallow it."""


class JobStateError(Exception):
    """The job cannot do that in its present state (rerun a finished job, cancel twice)."""


@dataclass
class Job:
    id: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)  # JSON values only: it is saved
    events: list[Any] = field(default_factory=list)  # appended by the worker thread only
    status: Status = "queued"
    result: Any = None
    error: BaseException | None = None
    stop: Status | None = None  # "cancelled" or "interrupted", asked of a running job

    @property
    def done(self) -> bool:
        return self.status not in UNFINISHED

    def report(self, event: Any) -> None:
        """The work's event callback: records the event, or stops the work."""
        if self.stop is not None:
            raise JobStopped(self.stop)
        self.events.append(event)  # list.append is atomic; readers take slices


Work = Callable[[Job], Any]


class JobRunner:
    """`on_idle` runs on the model thread each time it runs out of work (after a job or a
    call, before it waits): the web app gives freed memory back to the system there."""

    def __init__(self, path: Path | None = None, on_idle: Callable[[], Any] | None = None) -> None:
        self._path = path  # where unfinished jobs are kept; None: in memory only
        self._on_idle = on_idle
        self._lock = threading.Condition()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._work: dict[str, Work] = {}
        self._waiting: deque[Job] = deque()
        self._calls: deque[tuple[Future[Any], Callable[[], Any]]] = deque()
        self._burst = 0
        self._current: Job | None = None
        self._closing = False
        self._restore()
        # A daemon: a model call that never returns must not keep the process alive.
        self._thread = threading.Thread(target=self._serve, name="longagent-model", daemon=True)
        self._thread.start()

    def register(self, kind: str, work: Work) -> None:
        """What a job of `kind` does (needed to submit or rerun one)."""
        self._work[kind] = work

    def submit(self, kind: str, job_id: str | None = None, **meta: Any) -> Job:
        if kind not in self._work:
            raise ValueError(f"no work registered for jobs of kind {kind!r}")
        job = Job(id=job_id or uuid.uuid4().hex, kind=kind, meta=meta)
        with self._lock:
            if self._closing:
                raise JobStateError("The server is shutting down.")
            self._jobs[job.id] = job
            self._jobs.move_to_end(job.id)
            self._waiting.append(job)
            self._forget_old()
            self._save()
            self._lock.notify()
        return job

    def call(self, work: Callable[[], Any]) -> Future[Any]:
        """Run `work` on the model thread ahead of waiting jobs, without tracking it."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closing:
                future.set_exception(JobStateError("The server is shutting down."))
                return future
            self._calls.append((future, work))
            self._lock.notify()
        return future

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def jobs(self, kind: str, *statuses: Status, **meta: Any) -> list[Job]:
        """Jobs of `kind` in one of `statuses` (any when none) whose meta matches, oldest
        first."""
        with self._lock:
            every = list(self._jobs.values())
        return [
            j
            for j in every
            if j.kind == kind
            and (not statuses or j.status in statuses)
            and all(j.meta.get(k) == v for k, v in meta.items())
        ]

    def cancel(self, job_id: str) -> Job:
        """A waiting or interrupted job is dropped at once; a running one stops at its next
        event. KeyError: no such job; JobStateError: it has already finished."""
        with self._lock:
            job = self._jobs[job_id]
            if job.status == "running":
                if job.stop is not None:
                    raise JobStateError("This job is already being stopped.")
                job.stop = "cancelled"
            elif job.status in ("queued", "interrupted"):
                if job.status == "queued":
                    self._waiting.remove(job)
                job.status = "cancelled"
                self._save()
            else:
                raise JobStateError(f"This job has already finished ({job.status}).")
            return job

    def rerun(self, job_id: str) -> Job:
        """Queue an interrupted job again, under the same id."""
        with self._lock:
            job = self._jobs[job_id]
            if job.status != "interrupted":
                raise JobStateError(f"Only an interrupted job can be rerun; it is {job.status}.")
            return self.submit(job.kind, job.id, **job.meta)  # the lock is reentrant

    def pending_calls(self) -> int:
        return len(self._calls)

    def shutdown(
        self, then: Callable[[], Any] | None = None, wait_s: float = SHUTDOWN_WAIT_S
    ) -> None:
        """Stop: waiting jobs become `interrupted` (rerun them after a restart), the running
        one is asked to stop at its next event, interactive calls not started are dropped;
        then `then` runs on the model thread (so it never races a job). Waits `wait_s` at
        most: a job that does not stop in time is marked interrupted at the next start."""
        with self._lock:
            self._closing = True
            for job in self._waiting:
                job.status = "interrupted"
            self._waiting.clear()
            for future, _ in self._calls:
                future.cancel()
            self._calls.clear()
            if self._current is not None:
                self._current.stop = "interrupted"
            if then is not None:
                self._calls.append((Future(), then))
            self._save()
            self._lock.notify()
        self._thread.join(wait_s)

    # -- the model thread -------------------------------------------------------------------

    def _serve(self) -> None:
        busy = False  # something ran since the last idle hook
        while True:
            with self._lock:
                idle = busy and not (self._calls or self._waiting or self._closing)
            if idle:
                busy = False
                self._idle()
            with self._lock:
                while not (self._calls or self._waiting or self._closing):
                    self._lock.wait()
                item = self._next()
            if item is None:
                return
            busy = True
            if isinstance(item, Job):
                self._run(item)
            else:
                future, work = item
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(work())
                    except BaseException as exc:  # handed to the waiting request
                        future.set_exception(exc)

    def _idle(self) -> None:
        if self._on_idle is None:
            return
        try:
            self._on_idle()
        except Exception as exc:  # housekeeping: never stops the model thread
            print(f"longagent: idle hook failed: {exc!r}", file=sys.stderr)

    def _next(self) -> Job | tuple[Future[Any], Callable[[], Any]] | None:
        """Interactive calls first, but a waiting job after INTERACTIVE_BURST of them."""
        if not self._waiting:
            self._burst = 0
        if self._calls and self._burst < INTERACTIVE_BURST:
            self._burst += bool(self._waiting)
            return self._calls.popleft()
        if self._waiting:
            self._burst = 0
            job = self._current = self._waiting.popleft()
            job.status = "running"
            self._save()
            return job
        return None  # closing, and nothing is left

    def _run(self, job: Job) -> None:
        status: Status
        try:
            job.result = self._work[job.kind](job)
            status = "done"
        except JobStopped as stop:
            status = job.stop or stop.args[0]
        except Exception as exc:
            job.error, status = _detached(exc), "failed"
        with self._lock:
            job.status = status
            self._current = None
            self._save()

    # -- keeping jobs -----------------------------------------------------------------------

    def _forget_old(self) -> None:
        excess = len(self._jobs) - KEEP_FINISHED
        if excess > 0:
            old = [j.id for j in self._jobs.values() if j.status in FORGETTABLE][:excess]
            for job_id in old:
                del self._jobs[job_id]

    def _save(self) -> None:
        """Write the unfinished and interrupted jobs (under the lock)."""
        if self._path is None:
            return
        kept = [
            {"id": j.id, "kind": j.kind, "status": j.status, "meta": j.meta}
            for j in self._jobs.values()
            if j.status in KEPT_ON_DISK
        ]
        write_json_atomic(self._path, {"version": 1, "jobs": kept})

    def _restore(self) -> None:
        """Jobs left unfinished by the last run come back as interrupted."""
        if self._path is None:
            return
        try:
            data = read_json(self._path) or {}
            records = data.get("jobs", []) if isinstance(data, dict) else []
        except (OSError, ValueError) as exc:
            print(f"longagent: ignoring unreadable {self._path}: {exc}", file=sys.stderr)
            return
        for record in records:
            if not isinstance(record, dict):
                continue
            job_id, kind, meta = record.get("id"), record.get("kind"), record.get("meta")
            if (
                isinstance(job_id, str)
                and check_id(job_id, JOB_ID)
                and isinstance(kind, str)
                and isinstance(meta, dict)
            ):
                self._jobs[job_id] = Job(id=job_id, kind=kind, meta=meta, status="interrupted")
        self._save()


def _detached(exc: BaseException) -> BaseException:
    """`exc` without its tracebacks (its causes' too): a kept error must not keep the
    failed work's frames alive, with their document, chunks and KV states."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        e.__traceback__ = None
        todo += [e.__cause__, e.__context__]
    return exc
