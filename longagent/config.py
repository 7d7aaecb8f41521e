"""Settings, read from `LONGAGENT_*` environment variables; defaults built here, in one place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from longagent.errors import ConfigError

# Larger inputs are refused before they are read. `longagent bench ingest` measured load +
# split at 4.5-6 MB of RSS per MB of text (10 MB: +62 MB, 50 MB: +224 MB) and ~500 chunks per
# MB; everything after splitting (members, prompts, the web app's stores) grows with the
# chunk count, and a 200 MB file reached 6-7 GB. 10 MiB is ~5,000 member chunks of 512
# tokens: about the most a local model reads in useful time.
DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def _default_threads() -> int:
    return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Everything configurable. Pass an instance around; nothing here is global state."""

    model_config = SettingsConfigDict(env_prefix="LONGAGENT_", extra="ignore")

    home: Path = Field(
        default=Path("~/.longagent"), description="Agents, stores and app data live here."
    )
    cache_dir: Path = Field(
        default=Path("~/.cache/longagent"), description="Converted models and other caches."
    )
    default_model: str = Field(default="smollm2-135m", description="Spec used by load_model().")
    threads: int = Field(
        default_factory=_default_threads, ge=1, description="CPU threads for torch."
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        default="auto",
        description="Weights and KV states of the embedded model: auto is bfloat16 where the "
        "CPU multiplies it natively (AVX512-BF16 or AMX), else float32.",
    )
    openai_base_url: str = Field(
        default="http://127.0.0.1:8000/v1", description="Server for `openai:` specs without a URL."
    )
    openai_api_key: str = Field(
        default="EMPTY", description="Key sent to OpenAI-compatible servers."
    )
    prefix_cache_mb: int = Field(
        default=2048,
        ge=0,
        description="Memory for reusable prompt-prefix KV states in the embedded model; 0 disables.",
    )
    prefix_cache_dir: Path | None = Field(
        default=None,
        description="Where prefix KV blocks are kept for later processes (default: HOME/kv).",
    )
    prefix_cache_disk_mb: int = Field(
        default=4096, ge=0, description="Disk for prefix KV blocks in prefix_cache_dir; 0 disables."
    )
    profile: str | None = Field(
        default=None, description="LongAgent profile: small or large (default: from the model)."
    )
    reading: str = Field(default="sweep", description="LongAgent reading: sweep, relevance, all.")
    verifier: str = Field(default="lexical", description="LongAgent verifier, by registered name.")
    leader: str = Field(default="auto", description="LongAgent leader: auto, rule or model.")
    extract: bool = Field(
        default=False,
        description="When no reader's reply grounds, the search's read sentence closest in "
        "meaning to the question may answer (more answers, and more wrong ones).",
    )
    chunk_tokens: int | None = Field(
        default=None, ge=1, description="LongAgent member chunk size (default: the profile's)."
    )
    max_rounds: int | None = Field(
        default=None, ge=1, description="Most rounds per question (default: the profile's)."
    )
    max_document_bytes: int = Field(
        default=DEFAULT_MAX_DOCUMENT_BYTES,
        ge=1,
        description="Larger input files (and pipes, and devices) are refused before reading.",
    )

    def __init__(self, **values: object) -> None:
        try:
            super().__init__(**values)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise ConfigError(_settings_error(exc, values)) from None

    def model_post_init(self, __context: object) -> None:
        self.home = self.home.expanduser()
        self.cache_dir = self.cache_dir.expanduser()
        # On disk by default: `longagent bench kv-spill` measured a second question in a new
        # process at 1.6x faster end to end (prefill 3.7x) for 0.2% more on the first.
        self.prefix_cache_dir = (self.prefix_cache_dir or self.home / "kv").expanduser()


def _settings_error(exc: ValidationError, given: dict[str, object]) -> str:
    """One line naming the variable (or the keyword) and what is wrong with it."""
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        where = field if field in given else f"LONGAGENT_{field.upper()}"
        problems.append(f"{where}={error.get('input')!r}: {error['msg']}")
    return "Bad setting " + "; ".join(problems)


def get_settings(**overrides: object) -> Settings:
    """Fresh settings from the environment, with keyword overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
