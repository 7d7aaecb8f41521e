"""Where a library lives: a folder under `$LONGAGENT_HOME/libraries/NAME`, or an object
store URI (`s3://bucket/libraries/NAME`, also `gs://` and `az://`) that LanceDB opens
directly, with the endpoint and credentials from the usual environment variables
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL, AWS_ALLOW_HTTP
for a plain-http server such as MinIO) or LanceDB `storage_options`.

Locks. A local library takes file locks (its `.locks` folder); a library on an object
store takes leases on objects under its own `.locks/` prefix with conditional writes
(locks.py). Either way any number of processes, on any number of machines for an
object store, may add at once: each document is added under its own lock and each table
is written under the table's lock. LanceDB's commits add what locks cannot: each write
is one atomic commit, and readers anywhere see a document only once its ready row is
committed, after all its chunks.
"""

from __future__ import annotations

from pathlib import Path

from longagent.errors import ConfigError
from longagent.names import NAME_RULE, is_agent_name

REMOTE_SCHEMES = ("s3", "gs", "az")
# Bounds for every request to an object store (LanceDB's defaults retry for minutes); a
# caller's own storage_options win.
STORAGE_DEFAULTS = {
    "connect_timeout": "5s",
    "timeout": "60s",
    "client_max_retries": "3",
    "client_retry_timeout": "30",
}


def is_remote(name: str) -> bool:
    """Whether `name` is an object store URI rather than a library name."""
    return "://" in name


def library_dir(home: Path, name: str) -> Path:
    """Where library `name` lives under `home`; refuses a name that is not a plain folder."""
    if not is_agent_name(name):
        raise ConfigError(f"bad library name {name!r}: use {NAME_RULE}")
    return Path(home).expanduser() / "libraries" / name


def check_uri(uri: str) -> str:
    """`uri` without a trailing slash, or a ConfigError saying what is wrong with it."""
    scheme, _, rest = uri.partition("://")
    bucket, _, path = rest.strip("/").partition("/")
    if scheme not in REMOTE_SCHEMES:
        allowed = ", ".join(f"{s}://" for s in REMOTE_SCHEMES)
        raise ConfigError(f"bad library location {uri!r}: use a name or a URI ({allowed})")
    if not bucket or not path:
        raise ConfigError(
            f"bad library location {uri!r}: give a bucket and a folder, "
            f"such as {scheme}://bucket/libraries/NAME"
        )
    return f"{scheme}://{bucket}/{path}"


def locate(home: Path, name: str) -> tuple[str, Path | None]:
    """What LanceDB opens for library `name` and, for a local library, its folder."""
    if is_remote(name):
        return check_uri(name), None
    folder = library_dir(home, name)
    return str(folder), folder
