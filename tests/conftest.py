"""Shared fixtures. The real bundled model loads once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach a model hub


@pytest.fixture(scope="session")
def bundled_model():
    """The real default model (SmolLM2-135M-Instruct on CPU), converted once and cached."""
    from longagent.llm import load_model

    return load_model()
