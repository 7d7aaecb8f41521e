"""Checks of command-line options, run before anything heavy (torch, transformers,
LanceDB) is imported, so a bad command line fails in about a second with one line.

Every check raises `ConfigError` naming the option and the value it got.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from longagent.errors import ConfigError

_LENGTH = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*")
MAX_PORT = 65535


def at_least(option: str, value: float | None, low: float) -> None:
    """`value` (when given) is a number no smaller than `low`."""
    if value is not None and not value >= low:  # `not >=` also refuses NaN
        raise ConfigError(f"{option} must be at least {low:g}, got {value:g}")


def at_most(option: str, value: float | None, high: float) -> None:
    if value is not None and not value <= high:
        raise ConfigError(f"{option} must be at most {high:g}, got {value:g}")


def port(option: str, value: int) -> None:
    if not 0 < value <= MAX_PORT:
        raise ConfigError(f"{option} must be a TCP port from 1 to {MAX_PORT}, got {value}")


def one_of(option: str, value: str, choices: Iterable[str]) -> None:
    allowed = list(choices)
    if value not in allowed:
        raise ConfigError(f"{option} must be one of {', '.join(allowed)}; got {value!r}")


def names(option: str, text: str, choices: Iterable[str]) -> list[str]:
    """Comma-separated names, each one of `choices`; at least one."""
    allowed = list(choices)
    chosen = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in allowed]
    if unknown or not chosen:
        raise ConfigError(
            f"{option}: {', '.join(map(repr, unknown)) or 'nothing given'} is not one of "
            f"{', '.join(allowed)}"
        )
    return chosen


def _items(option: str, text: str) -> list[str]:
    items = [n.strip() for n in text.split(",") if n.strip()]
    if not items:
        raise ConfigError(f"{option} needs at least one value, got {text!r}")
    return items


def int_list(option: str, text: str, low: int = 1) -> list[int]:
    """Comma-separated integers, each at least `low`."""
    values = []
    for item in _items(option, text):
        try:
            value = int(item)
        except ValueError:
            raise ConfigError(f"{option}: {item!r} is not a whole number") from None
        at_least(option, value, low)
        values.append(value)
    return values


def float_list(option: str, text: str, low: float, high: float) -> list[float]:
    """Comma-separated numbers within [low, high]."""
    values = []
    for item in _items(option, text):
        try:
            value = float(item)
        except ValueError:
            raise ConfigError(f"{option}: {item!r} is not a number") from None
        if not low <= value <= high:
            raise ConfigError(f"{option}: {item} is not between {low:g} and {high:g}")
        values.append(value)
    return values


def length(option: str, text: str, low: int = 1, high: int = 2**20) -> int:
    """A token length such as 4k, 16384 or 1m (k = 1024), within [low, high]."""
    match = _LENGTH.fullmatch(text)
    if not match:
        raise ConfigError(f"{option}: {text!r} is not a length (try 4k, 16384 or 1m)")
    value = int(float(match[1]) * {"": 1, "k": 1024, "m": 1024 * 1024}[match[2].lower()])
    at_least(option, value, low)
    at_most(option, value, high)
    return value


def length_list(option: str, text: str, low: int = 1, high: int = 2**20) -> list[int]:
    return [length(option, item, low, high) for item in _items(option, text)]


def writable_dir(path: Path, what: str) -> Path:
    """Create `path` if need be and prove a file can be written in it."""
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{what} {folder} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test-")
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{what} {folder} is not writable ({exc.strerror})") from None
    return folder


def writable_file(path: Path, what: str) -> Path:
    """A file path whose folder can be written and that is not itself a folder."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise ConfigError(f"{what} {target} is a folder, not a file")
    writable_dir(target.parent, f"the folder of {what}")
    return target


def model_spec(spec: str | None) -> None:
    """Refuse a model spec `load_model` would refuse, without importing a backend."""
    from longagent.config import get_settings
    from longagent.llm.registry import REGISTRY, SPEC_HELP

    text = (spec or get_settings().default_model).strip()
    for prefix in ("openai:", "vllm:"):
        if text.startswith(prefix):
            if not text.removeprefix(prefix).partition("@")[0]:
                raise ConfigError(f"'{text}' names no model. " + SPEC_HELP)
            return
    if text in REGISTRY:
        return
    path = Path(text).expanduser()
    with contextlib.suppress(OSError):
        if path.is_dir() or (path.is_file() and path.suffix == ".gguf"):
            return
    raise ConfigError(f"Unknown model spec {text!r} (see `longagent models`)")
