"""Cross-process write locks for the LanceDB databases (a library, an agent's memory).

A local database takes file locks in its folder's `.locks/`. On an object store, which
has no locks of its own, a lock is the object `.locks/KEY.lock` under the database's
prefix, taken and handed on with conditional writes (If-None-Match: * to create it,
If-Match: ETAG to replace it), which S3 (since 2024), GCS, Azure, MinIO and R2 make
atomic, so processes on any machine exclude each other.

A holder rewrites the object every third of its lease (written in the object), so a lock
whose object has not changed for a whole lease belongs to a process that died: a waiter
takes it over with If-Match, so of several waiters exactly one wins. How long it has not
changed is measured by the store's clock when the waiter first sees it (its date against
a probe object written then) and by the waiter's own clock after that: no clocks of two
machines are ever compared. Release writes "free" with If-Match, which never frees a lock
that another process has taken over meanwhile.

Threads of one process take turns on an RLock first; the object is taken once per
outermost acquire, so the lock is re-entrant per thread like filelock's.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import obstore
from filelock import FileLock, Timeout
from obstore.exceptions import (
    AlreadyExistsError,
    BaseError,
    GenericError,
    NotFoundError,
    PreconditionError,
)
from obstore.store import ObjectStore, from_url

from longagent.memory.errors import StoreError
from longagent.memory.repair import short_error

log = logging.getLogger(__name__)

FREE = b"free"
CLOCK = ".locks/clock"  # written to read the store's time (see _server_age)
DEFAULT_LEASE = 30.0  # seconds; a killed holder's lock is taken over after this long
POLL = 0.25  # seconds between looks at a held lock (with jitter)
WAIT_NOTICE = 5.0  # seconds of waiting after which the wait is logged, with its holder

# LanceDB's storage_options in obstore's terms: these go to the HTTP client, two are
# Lance's own retry settings, the rest (aws_endpoint, region, keys...) configure the store.
_CLIENT_KEYS = {
    "allow_http",
    "allow_invalid_certificates",
    "connect_timeout",
    "timeout",
    "proxy_url",
    "pool_idle_timeout",
    "user_agent",
}
_ALLOW_HTTP_ENV = {"s3": "AWS_ALLOW_HTTP", "gs": "GOOGLE_ALLOW_HTTP", "az": "AZURE_ALLOW_HTTP"}


def open_store(location: str, storage_options: dict[str, str] | None) -> ObjectStore:
    """The object store at `location` (a URI), configured as LanceDB is: the same
    `storage_options` and the same environment variables."""
    config: dict[str, Any] = {}
    client: dict[str, Any] = {}
    retry: dict[str, Any] = {}
    for key, value in (storage_options or {}).items():
        name = key.lower()
        if name in _CLIENT_KEYS:
            client[name] = value
        elif name == "client_max_retries":
            retry["max_retries"] = int(value)
        elif name == "client_retry_timeout":
            retry["retry_timeout"] = timedelta(seconds=float(value))
        else:
            config[name] = value
    # Given client options replace the environment's, so carry plain-http over from it.
    allow_http = os.environ.get(_ALLOW_HTTP_ENV.get(location.partition("://")[0], ""), "")
    if allow_http and "allow_http" not in client:
        client["allow_http"] = allow_http
    build: Any = from_url  # typed per scheme; the keys are the user's, checked by obstore
    store: ObjectStore = build(
        location,
        config=config or None,
        client_options=client or None,
        retry_config=retry or None,
    )
    return store


class ObjectStoreLock:
    """The lock `key` of the store's prefix; raises filelock's Timeout like a FileLock."""

    def __init__(self, store: ObjectStore, key: str, lease: float = DEFAULT_LEASE) -> None:
        self.store = store
        self.key = key
        self.path = f".locks/{key}.lock"
        self.lease = lease
        self._threads = threading.RLock()
        self._depth = 0  # outermost acquire takes the object; guarded by _threads
        self._etag: str | None = None
        self._writes = 0
        self._io = threading.Lock()  # the renewer and release both rewrite the object
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        # The held version last seen and when, by this process's clock, it was written.
        self._seen: tuple[str, float] = ("", 0.0)
        self._freed: str | None = None  # the version this process's last release wrote
        self._body_seen = FREE  # the object as last read (who holds it)

    # -- the object ----------------------------------------------------------------------

    def _holder(self) -> bytes:
        self._writes += 1  # every write differs, so its ETag does: a renewal is visible
        owner = {"host": socket.gethostname(), "pid": os.getpid(), "write": self._writes}
        return json.dumps(owner | {"lease": self.lease, "at": time.time()}).encode()

    @property
    def _holder_seen(self) -> str:
        try:
            owner = json.loads(self._body_seen)
            return f"process {owner['pid']} on {owner['host']}"
        except (ValueError, KeyError, TypeError):
            return "another process"

    def _lease_of(self, body: bytes) -> float:
        """The lease its holder renews within (a waiter with another setting must not take
        over a lock that is being renewed); ours when the body does not say."""
        try:
            return float(json.loads(body)["lease"])
        except (ValueError, KeyError, TypeError):
            return self.lease

    def _take(self, mode: Any) -> bool:
        try:
            written = obstore.put(self.store, self.path, self._holder(), mode=mode)
        except (AlreadyExistsError, PreconditionError, NotFoundError, FileNotFoundError):
            return False
        except GenericError as exc:
            if "409" in str(exc):  # S3's ConditionalRequestConflict: another write raced
                return False
            raise
        self._etag = written["e_tag"]
        return True

    def _try_take(self) -> bool:
        """One attempt to take the object: create it, or replace it when it is free or
        its holder stopped renewing it."""
        # Freed by this process and untouched since: one request (the usual case).
        freed, self._freed = self._freed, None
        if self._take("create" if freed is None else {"e_tag": freed}):
            return True
        try:
            current = obstore.get(self.store, self.path)
            body = bytes(current.bytes())
        except (NotFoundError, FileNotFoundError):
            return False  # removed meanwhile: the next attempt creates it
        etag = current.meta["e_tag"]
        if etag is None:
            raise RuntimeError(f"the object store gives no ETag for {self.path}")
        self._body_seen = body
        if body != FREE:
            if self._seen[0] != etag:  # a version not seen before: how old is it already?
                age = self._server_age(current.meta["last_modified"])
                self._seen = (etag, time.monotonic() - age)
            unchanged = time.monotonic() - self._seen[1]
            if unchanged < self._lease_of(body):
                return False  # held, and renewed within its lease
            log.warning("taking over the lock %s: unchanged for %.0f s", self.key, unchanged)
        return self._take({"e_tag": etag})

    def _server_age(self, modified: datetime) -> float:
        """Seconds since the store wrote an object it dates `modified`, by the store's own
        clock (a probe object written now), less a second for HTTP dates' resolution."""
        obstore.put(self.store, CLOCK, b"", mode="overwrite")
        now = obstore.head(self.store, CLOCK)["last_modified"]
        return max(0.0, (now - modified).total_seconds() - 1.0)

    def _acquire_object(self, timeout: float | None) -> None:
        started = time.monotonic()
        deadline = None if timeout is None or timeout < 0 else started + timeout
        told = False
        while not self._try_take():
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                raise Timeout(self.key)
            if not told and now - started >= WAIT_NOTICE:  # say why nothing moves
                told = True
                log.warning(
                    "waiting for the lock %s, held by %s; a holder that stopped renewing it "
                    "is taken over after %.0f s",
                    self.key,
                    self._holder_seen,
                    self._lease_of(self._body_seen),
                )
            time.sleep(POLL * random.uniform(0.5, 1.5))  # waiters do not move in step
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"lease {self.key}")
        self._renewer.daemon = True
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.lease / 3):
            with self._io:
                if self._stop.is_set() or self._etag is None:
                    return
                try:
                    written = obstore.put(
                        self.store, self.path, self._holder(), mode={"e_tag": self._etag}
                    )
                except (PreconditionError, NotFoundError, FileNotFoundError):
                    log.error("lost the lock %s: another process took it over", self.key)
                    self._etag = None
                    return
                except Exception as exc:  # the store is unreachable now: try next time
                    log.warning("could not renew the lock %s: %s", self.key, exc)
                    continue
                self._etag = written["e_tag"]

    def _release_object(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        with self._io:
            if self._etag is not None:
                try:
                    freed = obstore.put(self.store, self.path, FREE, mode={"e_tag": self._etag})
                    self._freed = freed["e_tag"]
                except (PreconditionError, NotFoundError, FileNotFoundError):
                    log.error("the lock %s was taken over before it was released", self.key)
                except BaseError as exc:  # unreachable: it frees itself after a lease
                    log.warning("could not release the lock %s: %s", self.key, exc)
                self._etag = None

    # -- the lock ------------------------------------------------------------------------

    def acquire(self, timeout: float | None = None) -> None:
        started = time.monotonic()
        if not self._threads.acquire(timeout=-1 if timeout is None else max(0.0, timeout)):
            raise Timeout(self.key)
        if self._depth == 0:
            left = None if timeout is None else max(0.0, timeout - (time.monotonic() - started))
            try:
                self._acquire_object(left)
            except BaseError as exc:
                self._threads.release()
                raise StoreError(f"cannot take the lock {self.key!r}: {short_error(exc)}") from exc
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                self._release_object()
        finally:
            self._threads.release()


class Lock(Protocol):
    def acquire(self, timeout: float | None = None) -> object: ...

    def release(self) -> object: ...


# One lock per (location, key) in this process, so two objects over the same database on
# an object store share its threads' turns and its lease.
_OBJECT_LOCKS: dict[tuple[str, str, str, str], ObjectStoreLock] = {}
_REGISTRY = threading.Lock()


def make_lock(
    location: str,
    folder: Path | None,
    key: str,
    timeout: float,
    *,
    storage_options: dict[str, str] | None = None,
    lease: float = DEFAULT_LEASE,
) -> Lock:
    """Lock `key` of a database: a file lock in `folder/.locks` for a local one (folder
    given), else a lease on the object store at `location` (a URI)."""
    if folder is not None:
        return FileLock(folder / ".locks" / f"{key}.lock", timeout=timeout)
    # The endpoint is part of where: the same URI on another server is another lock.
    where = (
        location,
        os.environ.get("AWS_ENDPOINT_URL", ""),
        repr(sorted((storage_options or {}).items())),
    )
    with _REGISTRY:
        lock = _OBJECT_LOCKS.get((*where, key))
        if lock is None:
            store = open_store(location, storage_options)
            lock = _OBJECT_LOCKS[(*where, key)] = ObjectStoreLock(store, key, lease)
        return lock
