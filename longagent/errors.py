"""Errors a user can cause or fix. The CLI and the apps print them without a traceback."""

from __future__ import annotations


class LongAgentError(Exception):
    """Base class: the message says what went wrong and, where possible, what to do."""


class ConfigError(LongAgentError):
    """A setting or a spec is wrong (unknown model name, bad URL, missing extra)."""


class ModelLoadError(LongAgentError):
    """A model could not be loaded or converted."""


class ModelUnavailableError(LongAgentError):
    """A model server cannot be reached or keeps failing."""


class ModelResponseError(LongAgentError):
    """A model answered something unusable (not the protocol, invalid JSON). `partial`:
    the fields of JSON cut off at the token limit that were complete, when any were."""

    def __init__(self, message: str, partial: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.partial = partial or {}


class DocumentError(LongAgentError):
    """An input document is missing, empty, unsupported, corrupt, encrypted or too large."""


class ContextOverflowError(LongAgentError):
    """A prompt does not fit the model's context window."""


class InvalidRequestError(LongAgentError):
    """A generation request is malformed: a JSON schema that does not compile, a seed out
    of range. Caught before the request runs, so it never fails a batch it would join."""
