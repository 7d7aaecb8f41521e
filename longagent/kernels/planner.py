"""The planner: which context-extension method, with which parameters, for a target length.

`plan_extension(config, 32768)` returns an `ExtensionPlan`, which applies itself to a
transformers model (`plan.apply(model)`) and renders as vLLM settings
(`plan.hf_overrides()`, `plan.vllm_args()`, `plan.vllm_serve_command(name)`).
"""

from __future__ import annotations

import json
import math
import re
import shlex
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict

from longagent.errors import ConfigError
from longagent.kernels.attention_base import register
from longagent.kernels.lm_infinite import ATTN_NAME as LM_INFINITE
from longagent.kernels.lm_infinite import LMInfiniteConfig, lm_infinite_attention
from longagent.kernels.rope import (
    RopeScaling,
    config_rope_parameters,
    native_length,
    rotary_dim,
)
from longagent.kernels.self_extend import ATTN_NAME as SELF_EXTEND
from longagent.kernels.self_extend import SelfExtendConfig, self_extend_attention

Method = Literal["none", "linear", "ntk", "dynamic", "yarn", "llama3", "self_extend", "lm_infinite"]
METHODS: tuple[str, ...] = Method.__args__  # type: ignore[attr-defined]
ROPE_METHODS = ("linear", "ntk", "dynamic", "yarn", "llama3")
ATTENTION_METHODS = (SELF_EXTEND, LM_INFINITE)
# The default training-free method per backend. In `longagent bench extend` on SmolLM2-135M
# (ten greedy tokens, the first number must be the key) static NTK found 8/10 passkeys at
# 16K against Self-Extend's 6/10 (YaRN and dynamic NTK 1/2), and at 32K it was no worse;
# being static it also keeps the prefix cache, which Self-Extend turns off. Its cost: it
# rescales short inputs too (a 16K plan moves 4K perplexity from 12.0 to 13.0).
# vLLM only has the RoPE methods, of which YaRN is the usual choice.
DEFAULT_METHOD: dict[str, Method] = {"transformers": "ntk", "vllm": "yarn"}
# Self-Extend keeps this share of the native window at exact distances.
SELF_EXTEND_WINDOW_SHARE = 0.25
LM_INFINITE_GLOBAL_TOKENS = 10
# Where the native settings are kept once a plan changed a config, so plans compose.
NATIVE_KEY = "longagent_native"


def register_attention() -> None:
    """Register `self_extend` and `lm_infinite` as transformers attention implementations
    (idempotent; `ExtensionPlan.apply` calls it)."""
    register(SELF_EXTEND, self_extend_attention)
    register(LM_INFINITE, lm_infinite_attention)


def parse_length(text: str | int) -> int:
    """'32k' -> 32768, '1m' -> 1048576, '12000' -> 12000."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", str(text))
    if not match:
        raise ConfigError(f"Not a length: {text!r} (try 32k, 16384 or 1m)")
    number, unit = float(match[1]), match[2].lower()
    return int(number * {"": 1, "k": 1024, "m": 1024 * 1024}[unit])


class ExtensionPlan(BaseModel):
    """A method and its parameters for one model and target length."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method
    target_length: int
    native_length: int
    rope_theta: float
    rotary_dim: int
    rope: RopeScaling | None = None
    self_extend: SelfExtendConfig | None = None
    lm_infinite: LMInfiniteConfig | None = None

    @property
    def factor(self) -> float:
        return self.target_length / self.native_length

    @property
    def is_identity(self) -> bool:
        """True when the plan leaves the model as it is: no method, or a target inside the
        native window, where every method's parameters reduce to plain RoPE attention
        (factor 1, group size 1, a local window covering the input)."""
        return self.method == "none" or self.target_length <= self.native_length

    @property
    def attn_implementation(self) -> str | None:
        """The attention implementation to load the model with, None for the default."""
        return self.method if self.method in ATTENTION_METHODS else None

    def rope_parameters(self) -> dict[str, Any]:
        """The config's `rope_parameters` under this plan."""
        if self.rope is None:
            return {"rope_type": "default", "rope_theta": self.rope_theta}
        return self.rope.rope_parameters(self.rope_theta, self.rotary_dim)

    def max_position_embeddings(self) -> int:
        # Dynamic NTK reads max_position_embeddings as the native window it scales from.
        if self.method in ("none", "dynamic"):
            return self.native_length
        return self.target_length

    # --- transformers --------------------------------------------------------------------

    def apply_to_config(self, config: Any) -> None:
        """Write the plan into a transformers config (before or after loading the model)."""
        native = getattr(config, NATIVE_KEY, None)
        if native is None:
            native = {
                "rope_parameters": config_rope_parameters(config),
                "max_position_embeddings": config.max_position_embeddings,
            }
            setattr(config, NATIVE_KEY, native)
        if self.method == "none":
            params, max_pos = native["rope_parameters"], native["max_position_embeddings"]
        else:
            partial = native["rope_parameters"].get("partial_rotary_factor")
            params = self.rope_parameters()
            if partial is not None:
                params["partial_rotary_factor"] = partial
            max_pos = self.max_position_embeddings()
        _set_rope_parameters(config, dict(params))
        config.max_position_embeddings = max_pos
        for name, value in ((SELF_EXTEND, self.self_extend), (LM_INFINITE, self.lm_infinite)):
            setattr(config, name, value.model_dump() if value is not None else None)

    def apply(self, model: Any) -> Any:
        """Extend a loaded transformers model in place (and return it).

        RoPE methods rebuild the rotary embedding from the changed config, as loading with
        that config would; attention methods switch the attention implementation.
        """
        self.apply_to_config(model.config)
        _rebuild_rotary_embeddings(model)
        if self.attn_implementation is not None:
            register_attention()
            model.set_attn_implementation(self.attn_implementation)
        elif model.config._attn_implementation in ATTENTION_METHODS:
            model.set_attn_implementation("sdpa")
        return model

    # --- vLLM ----------------------------------------------------------------------------

    @property
    def max_model_len(self) -> int:
        """vLLM refuses a length beyond what the config allows; without extension that is
        the native window."""
        return (
            min(self.target_length, self.native_length)
            if self.method == "none"
            else self.target_length
        )

    def hf_overrides(self) -> dict[str, Any]:
        """vLLM's `hf_overrides` (config fields replaced at load time)."""
        if self.method in ATTENTION_METHODS:
            raise ConfigError(
                f"{self.method} is an attention change that vLLM does not have; "
                "plan with a RoPE method for vLLM (yarn, dynamic, linear, ntk, llama3)."
            )
        if self.method == "none":
            return {}
        overrides: dict[str, Any] = {"rope_parameters": self.rope_parameters()}
        if self.method != "dynamic":
            overrides["max_position_embeddings"] = self.max_position_embeddings()
        return overrides

    def vllm_args(self) -> dict[str, Any]:
        """Keyword arguments for `vllm.LLM(...)` / `AsyncEngineArgs(...)`."""
        args: dict[str, Any] = {"max_model_len": self.max_model_len}
        if overrides := self.hf_overrides():
            args["hf_overrides"] = overrides
        return args

    def vllm_serve_command(self, model_name: str) -> str:
        """A `vllm serve` command line that serves the model with this plan."""
        parts = ["vllm", "serve", shlex.quote(model_name)]
        if overrides := self.hf_overrides():
            parts += ["--hf-overrides", shlex.quote(json.dumps(overrides, separators=(",", ":")))]
        parts += ["--max-model-len", str(self.max_model_len)]
        return " ".join(parts)

    def describe(self) -> str:
        """One line for people."""
        head = f"{self.method}: {self.native_length} -> {self.target_length} tokens"
        if self.method == "none":
            return f"none: the native {self.native_length} tokens (target {self.target_length})"
        if self.rope is not None:
            return f"{head} (rope_parameters {json.dumps(self.rope_parameters())})"
        detail = self.self_extend or self.lm_infinite
        return f"{head} ({detail.model_dump(exclude_none=True) if detail else {}})"


class _PlanFields(TypedDict):
    """The fields every plan has, whatever its method (typed so `**` keeps their types)."""

    method: Method
    target_length: int
    native_length: int
    rope_theta: float
    rotary_dim: int


def plan_extension(
    config: Any,
    target_length: int | str,
    method: Method | None = None,
    *,
    backend: Literal["transformers", "vllm"] = "transformers",
) -> ExtensionPlan:
    """Choose a method (the best for `backend` when `method` is None) and its parameters so
    a model with this config reads `target_length` tokens."""
    target = parse_length(target_length)
    if target < 1:
        raise ConfigError(f"target length must be positive, got {target}")
    if method is not None and method not in METHODS:
        raise ConfigError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}")
    native_config = getattr(config, NATIVE_KEY, None)
    if native_config is not None:  # plan from the native settings, not a previous plan's
        params = native_config["rope_parameters"]
        native = int(
            params.get("original_max_position_embeddings")
            or native_config["max_position_embeddings"]
        )
    else:
        params, native = config_rope_parameters(config), native_length(config)
    if method is None:
        method = "none" if target <= native else DEFAULT_METHOD[backend]
    if method != "none" and params.get("rope_type", "default") != "default":
        raise ConfigError(
            f"The model already uses {params['rope_type']!r} RoPE scaling; "
            "extending it again is not supported."
        )
    common: _PlanFields = {
        "method": method,
        "target_length": target,
        "native_length": native,
        "rope_theta": float(params["rope_theta"]),
        "rotary_dim": rotary_dim(config),
    }
    s = max(target / native, 1.0)
    match method:
        case "none":
            return ExtensionPlan(**common)
        case "linear" | "dynamic" | "yarn" | "llama3":
            rope = RopeScaling(method=method, factor=s, original_max_position_embeddings=native)
            return ExtensionPlan(**common, rope=rope)
        case "ntk":
            # alpha = 2s - 1: what dynamic NTK with factor 2 (emozilla's default) reaches
            # at the target; alpha = s alone lets the middle frequencies drift out of range.
            return ExtensionPlan(**common, rope=RopeScaling(method="ntk", factor=2 * s - 1))
        case "self_extend":
            return ExtensionPlan(**common, self_extend=self_extend_params(native, target))
        case "lm_infinite":
            lm = LMInfiniteConfig(window=native, n_global=LM_INFINITE_GLOBAL_TOKENS)
            return ExtensionPlan(**common, lm_infinite=lm)
    raise ConfigError(f"Unknown method {method!r}")  # pragma: no cover


def self_extend_params(native: int, target: int) -> SelfExtendConfig:
    """Neighbour window = a share of the native window; the smallest group size that keeps
    every distance up to `target` inside the native window."""
    window = max(1, int(native * SELF_EXTEND_WINDOW_SHARE))
    group = max(1, math.ceil((target - window) / max(native - window, 1)))
    while SelfExtendConfig(group_size=group, window=window).max_distance(target) >= native:
        group += 1
    return SelfExtendConfig(group_size=group, window=window)


def _set_rope_parameters(config: Any, params: dict[str, Any]) -> None:
    if "rope_parameters" in dir(config):  # transformers >= 5
        config.rope_parameters = params
        return
    rest = {k: v for k, v in params.items() if k != "rope_theta"}  # 4.x keeps them apart
    config.rope_theta = params["rope_theta"]
    config.rope_scaling = rest if rest.get("rope_type", "default") != "default" else None


def _rebuild_rotary_embeddings(model: Any) -> None:
    """Re-create each rotary embedding from the (shared, changed) config, on its device."""
    for module in model.modules():
        if not (hasattr(module, "inv_freq") and hasattr(module, "rope_type")):
            continue
        fresh = type(module)(module.config)
        device = module.inv_freq.device
        vars(module).update(vars(fresh))
        module.to(device)
