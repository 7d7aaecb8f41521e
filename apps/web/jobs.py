"""Model work off the event loop, one job at a time.

A model is not re-entrant (one KV cache, one tokenizer that refuses concurrent use), so
every job that touches it (a question, a chat turn, opening an agent) runs on one worker
thread, in order. A job collects the progress events its work reports, which the SSE
endpoint streams to the browser while the job runs.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

KEEP_FINISHED = 200  # finished jobs kept for late SSE clients; older ones are forgotten


@dataclass
class Job:
    id: str
    kind: str
    meta: dict[str, Any] = field(default_factory=dict)
    events: list[Any] = field(default_factory=list)  # appended by the worker thread only
    future: Future[Any] = field(default_factory=Future)

    @property
    def done(self) -> bool:
        return self.future.done()

    def report(self, event: Any) -> None:
        self.events.append(event)  # list.append is atomic; readers take slices


class JobRunner:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="longagent-model")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._queued: set[Future[Any]] = set()

    def _track(self, future: Future[Any]) -> Future[Any]:
        self._queued.add(future)
        future.add_done_callback(self._queued.discard)
        return future

    def submit(self, kind: str, work: Callable[[Job], Any], **meta: Any) -> Job:
        job = Job(id=uuid.uuid4().hex, kind=kind, meta=meta)
        job.future = self._track(self._executor.submit(work, job))
        self._jobs[job.id] = job
        while len(self._jobs) > KEEP_FINISHED and next(iter(self._jobs.values())).done:
            self._jobs.popitem(last=False)
        return job

    def call(self, work: Callable[[], Any]) -> Future[Any]:
        """Run `work` on the model thread (in turn with the jobs), without tracking it."""
        return self._track(self._executor.submit(work))

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def running(self, kind: str, **meta: Any) -> list[Job]:
        """Unfinished jobs of `kind` whose meta matches, oldest first."""
        return [
            j
            for j in self._jobs.values()
            if j.kind == kind and not j.done and all(j.meta.get(k) == v for k, v in meta.items())
        ]

    def shutdown(self, then: Callable[[], Any] | None = None) -> None:
        """Drop the queued work, let the running job finish, then run `then` (on the model
        thread, so it never races the job), without blocking the caller."""
        for future in list(self._queued):
            future.cancel()  # refused by the one already running
        if then is not None:
            self._executor.submit(then)
        self._executor.shutdown(wait=False)
