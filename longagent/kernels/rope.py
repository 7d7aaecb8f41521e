"""RoPE scaling: inverse frequencies and attention factors for each context-extension method.

Pure functions of (head dim, base, parameters). The formulas follow the papers and equal the
installed transformers' `ROPE_INIT_FUNCTIONS` where transformers has the same method (tested
directly); static NTK, which transformers expresses only as a changed `rope_theta`, follows
bloc97's published formula. Everything is computed in float64 and returned as float32, so the
results are at least as exact as transformers' float32 arithmetic.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

RopeMethod = Literal["linear", "ntk", "dynamic", "yarn", "llama3"]
ROPE_METHODS: tuple[str, ...] = ("linear", "ntk", "dynamic", "yarn", "llama3")


class RopeScaling(BaseModel):
    """One RoPE scaling method and its parameters (the fields of `rope_parameters`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: RopeMethod
    # linear/dynamic/yarn/llama3: target length / native length. ntk: the NTK alpha.
    factor: float = Field(default=1.0, ge=1.0)
    original_max_position_embeddings: int | None = None
    # YaRN: the ramp runs between the dimensions that turn beta_fast and beta_slow times
    # over the native window; attention_factor=None means the paper's 0.1 ln(s) + 1.
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    attention_factor: float | None = None
    mscale: float | None = None
    mscale_all_dim: float | None = None
    truncate: bool = True
    # Llama 3: wavelengths above native/low_freq_factor are interpolated, below
    # native/high_freq_factor kept, in between blended.
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0

    def rope_parameters(self, rope_theta: float, rotary_dim: int) -> dict[str, Any]:
        """The `rope_parameters` dict transformers (>= 5) and vLLM read from a model config.

        Static NTK has no rope type of its own: it is the default RoPE with a larger base.
        """
        if self.method == "ntk":
            theta = ntk_base(rope_theta, self.factor, rotary_dim)
            return {"rope_type": "default", "rope_theta": theta}
        params: dict[str, Any] = {
            "rope_type": self.method,
            "rope_theta": rope_theta,
            "factor": self.factor,
        }
        if self.method in ("yarn", "llama3"):
            params["original_max_position_embeddings"] = self.original_max_position_embeddings
        if self.method == "yarn":
            params |= {"beta_fast": self.beta_fast, "beta_slow": self.beta_slow}
            for key in ("attention_factor", "mscale", "mscale_all_dim"):
                if getattr(self, key) is not None:
                    params[key] = getattr(self, key)
            if not self.truncate:
                params["truncate"] = False
        if self.method == "llama3":
            params |= {
                "low_freq_factor": self.low_freq_factor,
                "high_freq_factor": self.high_freq_factor,
            }
        return params


def _exponents(dim: int) -> torch.Tensor:
    return torch.arange(0, dim, 2, dtype=torch.float64) / dim


def default_inv_freq(dim: int, base: float) -> torch.Tensor:
    """Plain RoPE (Su et al.): theta_i = base^(-2i/dim)."""
    return (1.0 / base ** _exponents(dim)).float()


def linear_inv_freq(dim: int, base: float, factor: float) -> torch.Tensor:
    """Position interpolation (Chen et al., 2023): positions divided by the factor."""
    return (1.0 / base ** _exponents(dim) / factor).float()


def ntk_base(base: float, alpha: float, dim: float) -> float:
    """NTK-aware scaling (bloc97, 2023): base' = base * alpha^(dim / (dim - 2)).

    `dim` is the rotary dimension; the exponent makes the lowest frequency exactly 1/alpha
    of the original while the highest stays (almost) unchanged.
    """
    return base * alpha ** (dim / (dim - 2))


def ntk_inv_freq(dim: int, base: float, alpha: float) -> torch.Tensor:
    """Static NTK-aware scaling with a fixed alpha."""
    return default_inv_freq(dim, ntk_base(base, alpha, dim))


def dynamic_ntk_inv_freq(
    dim: int, base: float, factor: float, max_position_embeddings: int, seq_len: int | None = None
) -> torch.Tensor:
    """Dynamic NTK (emozilla, 2023): NTK with alpha = factor * len / native - (factor - 1),
    recomputed for the current length and never below the native length."""
    seq_len = max(seq_len or max_position_embeddings, max_position_embeddings)
    alpha = factor * seq_len / max_position_embeddings - (factor - 1)
    return default_inv_freq(dim, ntk_base(base, alpha, dim))


def yarn_mscale(scale: float, mscale: float = 1.0) -> float:
    """YaRN's attention temperature: sqrt(1/t) = 0.1 * mscale * ln(s) + 1 for s > 1."""
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def yarn_attention_factor(
    factor: float,
    attention_factor: float | None = None,
    mscale: float | None = None,
    mscale_all_dim: float | None = None,
) -> float:
    """The factor both cos and sin are multiplied by (so logits scale by its square)."""
    if attention_factor is not None:
        return attention_factor
    if mscale and mscale_all_dim:  # DeepSeek's variant
        return yarn_mscale(factor, mscale) / yarn_mscale(factor, mscale_all_dim)
    return yarn_mscale(factor)


def yarn_correction_range(
    beta_fast: float, beta_slow: float, dim: int, base: float, native: int, truncate: bool = True
) -> tuple[float, float]:
    """Dimensions (in pairs) that rotate beta_fast and beta_slow times over the native window."""

    def dim_for(rotations: float) -> float:
        return dim * math.log(native / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low, high = dim_for(beta_fast), dim_for(beta_slow)
    if truncate:
        low, high = math.floor(low), math.ceil(high)
    return max(low, 0), min(high, dim - 1)


def yarn_inv_freq(
    dim: int,
    base: float,
    factor: float,
    native: int,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
    truncate: bool = True,
) -> torch.Tensor:
    """YaRN's "NTK-by-parts" (Peng et al., 2023): high frequencies (many rotations in the
    native window) extrapolate, low ones interpolate by the factor, a linear ramp between."""
    low, high = yarn_correction_range(beta_fast, beta_slow, dim, base, native, truncate)
    if low == high:
        high += 0.001  # avoid a zero-width ramp
    ramp = ((torch.arange(dim // 2, dtype=torch.float64) - low) / (high - low)).clamp(0, 1)
    extrapolation = 1.0 / base ** _exponents(dim)
    interpolation = extrapolation / factor
    return (interpolation * ramp + extrapolation * (1 - ramp)).float()


def llama3_inv_freq(
    dim: int,
    base: float,
    factor: float,
    native: int,
    low_freq_factor: float = 1.0,
    high_freq_factor: float = 4.0,
) -> torch.Tensor:
    """Llama 3.1's frequency-dependent interpolation: long wavelengths divided by the
    factor, short ones kept, a smooth blend between the two bands."""
    inv_freq = 1.0 / base ** _exponents(dim)
    wavelen = 2 * math.pi / inv_freq
    low_wavelen, high_wavelen = native / low_freq_factor, native / high_freq_factor
    smooth = (native / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    blended = (1 - smooth) * inv_freq / factor + smooth * inv_freq
    out = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(medium, blended, out).float()


def compute_inv_freq(
    scaling: RopeScaling | None,
    dim: int,
    base: float,
    max_position_embeddings: int,
    seq_len: int | None = None,
) -> tuple[torch.Tensor, float]:
    """Inverse frequencies (dim/2 of them) and attention factor for a method; `None` is plain
    RoPE. `max_position_embeddings` is the native window (the dynamic method's reference)."""
    if scaling is None:
        return default_inv_freq(dim, base), 1.0
    native = scaling.original_max_position_embeddings or max_position_embeddings
    f = scaling.factor
    match scaling.method:
        case "linear":
            return linear_inv_freq(dim, base, f), 1.0
        case "ntk":
            return ntk_inv_freq(dim, base, f), 1.0
        case "dynamic":
            return dynamic_ntk_inv_freq(dim, base, f, max_position_embeddings, seq_len), 1.0
        case "yarn":
            inv = yarn_inv_freq(
                dim, base, f, native, scaling.beta_fast, scaling.beta_slow, scaling.truncate
            )
            factor = yarn_attention_factor(
                f, scaling.attention_factor, scaling.mscale, scaling.mscale_all_dim
            )
            return inv, factor
        case "llama3":
            inv = llama3_inv_freq(
                dim, base, f, native, scaling.low_freq_factor, scaling.high_freq_factor
            )
            return inv, 1.0
    raise ValueError(f"unknown RoPE method {scaling.method!r}")


# --- reading a transformers config ------------------------------------------------------------


def config_rope_parameters(config: Any) -> dict[str, Any]:
    """`rope_parameters` of a config: transformers >= 5 has it; 4.x keeps `rope_scaling` and
    `rope_theta` apart."""
    params = getattr(config, "rope_parameters", None)
    if params:
        return dict(params)
    params = dict(getattr(config, "rope_scaling", None) or {})
    params.setdefault("rope_type", params.pop("type", "default"))
    params.setdefault("rope_theta", getattr(config, "rope_theta", 10000.0))
    return params


def rotary_dim(config: Any) -> int:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    params = config_rope_parameters(config)
    partial = params.get("partial_rotary_factor") or getattr(config, "partial_rotary_factor", 1.0)
    return int(head_dim * (partial or 1.0))


def native_length(config: Any) -> int:
    """The window the model was trained with, even if the config was already extended."""
    params = config_rope_parameters(config)
    return int(params.get("original_max_position_embeddings") or config.max_position_embeddings)


def scaling_from_config(config: Any) -> RopeScaling | None:
    """The config's RoPE scaling as a `RopeScaling`, `None` for plain RoPE."""
    params = config_rope_parameters(config)
    rope_type = params.get("rope_type", "default")
    if rope_type == "default":
        return None
    if rope_type not in ROPE_METHODS:
        raise ValueError(f"RoPE type {rope_type!r} is not one of {ROPE_METHODS}")
    fields = {k: v for k, v in params.items() if k in RopeScaling.model_fields and v is not None}
    return RopeScaling(method=rope_type, **fields)


def inv_freq_from_config(config: Any, seq_len: int | None = None) -> tuple[torch.Tensor, float]:
    """The inverse frequencies and attention factor a transformers model built from `config`
    rotates with (for `dynamic`, at `seq_len`)."""
    base = float(config_rope_parameters(config)["rope_theta"])
    scaling = scaling_from_config(config)
    max_pos = config.max_position_embeddings
    return compute_inv_freq(scaling, rotary_dim(config), base, max_pos, seq_len)
