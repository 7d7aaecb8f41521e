from __future__ import annotations

from pathlib import Path

import pytest

from longagent.errors import ConfigError
from longagent.llm import load_model
from longagent.llm.registry import REGISTRY


def test_unknown_spec_lists_what_is_accepted() -> None:
    with pytest.raises(ConfigError) as info:
        load_model("no-such-model")
    message = str(info.value)
    assert "no-such-model" in message
    for accepted in ("smollm2-135m", ".gguf", "openai:", "vllm:"):
        assert accepted in message


def test_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "weights.bin"
    bogus.write_bytes(b"\0" * 16)
    with pytest.raises(ConfigError, match=r"not a \.gguf"):
        load_model(str(bogus))


@pytest.mark.parametrize("spec", ["openai:", "vllm:", "openai:@http://127.0.0.1:1/v1"])
def test_spec_without_model_name(spec: str) -> None:
    with pytest.raises(ConfigError, match="names no model"):
        load_model(spec)


def test_vllm_missing_names_the_extra() -> None:
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vllm is installed here")
    with pytest.raises(ConfigError, match=r"longagent\[vllm\]"):
        load_model("vllm:facebook/opt-125m")


def test_openai_spec_parses_model_and_url() -> None:
    model = load_model("openai:my-model@http://127.0.0.1:9/v1", context_window=1234)
    assert model.name == "my-model"
    assert model.base_url == "http://127.0.0.1:9/v1"
    assert model.context_window == 1234


def test_bundled_model_is_found_without_importing_its_package() -> None:
    path = REGISTRY["smollm2-135m"].path()
    assert path.is_file() and path.suffix == ".gguf"
