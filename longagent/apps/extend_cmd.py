"""`longagent extend MODEL --to 32k`: how to serve a model with a wider window.

Prints the plan, vLLM's `hf_overrides` and a `vllm serve` command line, and the
transformers equivalent. MODEL is a registry name (smollm2-135m), a Hugging Face directory,
a .gguf file or a Hub id whose config is already cached.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import typer

from longagent.apps import checks

# kernels.METHODS, named here so that a bad --method fails without importing torch; a
# test keeps the two equal.
METHODS = ("none", "linear", "ntk", "dynamic", "yarn", "llama3", "self_extend", "lm_infinite")


def load_config(model: str) -> tuple[Any, str]:
    """(transformers config, the name `vllm serve` should get) for a model spec."""
    from transformers import AutoConfig

    from longagent.errors import ConfigError
    from longagent.llm.registry import REGISTRY

    try:
        if model in REGISTRY:
            gguf = REGISTRY[model].path()
            return AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name), str(gguf)
        path = Path(model).expanduser()
        if path.suffix == ".gguf" and path.is_file():
            return AutoConfig.from_pretrained(path.parent, gguf_file=path.name), str(path)
        if path.name == "config.json" and path.is_file():
            path = path.parent
        # Never reach for the Hub: a Hub id works when its config is already cached.
        source = path if path.is_dir() else model
        return AutoConfig.from_pretrained(source, local_files_only=True), model
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"Could not read a model config for {model!r}: give a registry name, a model "
            f"directory, a .gguf file or a Hub id that is cached locally ({exc})"
        ) from exc


def _check_model(model: str) -> None:
    """Refuse, before transformers loads, a spec that is no registry name, no path and
    not shaped like a Hub id (OWNER/NAME)."""
    from longagent.errors import ConfigError
    from longagent.llm.registry import REGISTRY

    if model in REGISTRY or Path(model).expanduser().exists():
        return
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        raise ConfigError(
            f"{model!r} is no registry name (see `longagent models`), no model directory or "
            ".gguf file, and no Hub id (OWNER/NAME)"
        )


def render(config: Any, served_name: str, to: str, method: str = "") -> str:
    """The text `longagent extend` prints."""
    from longagent.kernels import ATTENTION_METHODS, plan_extension

    chosen = method or None
    plan = plan_extension(config, to, chosen, backend="vllm")  # type: ignore[arg-type]
    lines = [f"plan: {plan.describe()}"]
    if plan.method in ATTENTION_METHODS:
        lines.append(
            f"{plan.method} changes attention and runs in transformers only (vLLM has no "
            "equivalent); for vLLM choose --method yarn."
        )
    else:
        lines += [
            f"hf_overrides: {json.dumps(plan.hf_overrides())}",
            f"max_model_len: {plan.max_model_len}",
            "",
            plan.vllm_serve_command(served_name),
        ]
    lines += [
        "",
        "in transformers: load_model(MODEL, extend_to="
        f"{plan.target_length}) (the planner's default method there is "
        f"{plan_extension(config, to).method}), or "
        f"plan_extension(model.config, {plan.target_length}, {plan.method!r}).apply(model)",
    ]
    return "\n".join(lines)


def main(
    model: str = typer.Argument(..., help="registry name, model directory, .gguf file or Hub id"),
    to: str = typer.Option("32k", "--to", help="target length: 32k, 16384, 1m"),
    method: str = typer.Option(
        "", help="none, linear, ntk, dynamic, yarn, llama3, self_extend or lm_infinite"
    ),
) -> None:
    """Print the vLLM settings (and a `vllm serve` line) that extend MODEL's window."""
    checks.length("--to", to, high=2**30)
    if method:
        checks.one_of("--method", method, METHODS)
    _check_model(model)
    config, served = load_config(model)
    print(render(config, served, to, method))
