"""Our RoPE scaling equals transformers' own functions (and the published NTK formula)."""

from __future__ import annotations

import math

import pytest
import torch
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

from longagent.kernels import RopeScaling, compute_inv_freq, inv_freq_from_config, ntk_base
from longagent.kernels.rope import native_length, scaling_from_config, yarn_correction_range

from .conftest import tiny_llama_config

HEAD_DIM, THETA, NATIVE = 64, 100000.0, 8192


def transformers_rope(params: dict, seq_len: int | None = None, **config):
    config = tiny_llama_config(
        hidden_size=HEAD_DIM * 4,
        head_dim=HEAD_DIM,
        max_position_embeddings=config.pop("max_position_embeddings", NATIVE),
        rope_parameters={"rope_theta": THETA, **params},
        **config,
    )
    inv_freq, factor = ROPE_INIT_FUNCTIONS[params["rope_type"]](config, "cpu", seq_len=seq_len)
    return config, inv_freq, factor


def assert_same(ours: tuple[torch.Tensor, float], theirs: tuple[torch.Tensor, float]) -> None:
    torch.testing.assert_close(ours[0], theirs[0].float(), rtol=1e-6, atol=1e-6)
    assert ours[1] == pytest.approx(theirs[1], abs=1e-6)


@pytest.mark.parametrize("factor", [1.0, 2.0, 4.0, 7.5])
def test_linear(factor):
    _, inv, att = transformers_rope({"rope_type": "linear", "factor": factor})
    ours = compute_inv_freq(RopeScaling(method="linear", factor=factor), HEAD_DIM, THETA, NATIVE)
    assert_same(ours, (inv, att))


@pytest.mark.parametrize("factor", [2.0, 4.0])
@pytest.mark.parametrize("seq_len", [None, 100, 8192, 8193, 20000, 32768])
def test_dynamic_ntk(factor, seq_len):
    _, inv, att = transformers_rope({"rope_type": "dynamic", "factor": factor}, seq_len=seq_len)
    scaling = RopeScaling(method="dynamic", factor=factor)
    assert_same(compute_inv_freq(scaling, HEAD_DIM, THETA, NATIVE, seq_len), (inv, att))


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"beta_fast": 16.0, "beta_slow": 2.0},
        {"truncate": False},
        {"attention_factor": 1.3},
        {"mscale": 1.0, "mscale_all_dim": 0.5},
    ],
)
@pytest.mark.parametrize("factor", [2.0, 4.0, 16.0])
def test_yarn(factor, extra):
    params = {"rope_type": "yarn", "factor": factor, "original_max_position_embeddings": NATIVE}
    _, inv, att = transformers_rope(params | extra, max_position_embeddings=int(NATIVE * factor))
    scaling = RopeScaling(
        method="yarn", factor=factor, original_max_position_embeddings=NATIVE, **extra
    )
    ours = compute_inv_freq(scaling, HEAD_DIM, THETA, int(NATIVE * factor))
    assert_same(ours, (inv, att))
    if not extra:
        assert ours[1] == pytest.approx(0.1 * math.log(factor) + 1)  # the paper's sqrt(1/t)


def test_yarn_ramp_keeps_high_and_interpolates_low_frequencies():
    scaling = RopeScaling(method="yarn", factor=4.0, original_max_position_embeddings=NATIVE)
    inv, _ = compute_inv_freq(scaling, HEAD_DIM, THETA, NATIVE)
    plain, _ = compute_inv_freq(None, HEAD_DIM, THETA, NATIVE)
    low, high = yarn_correction_range(32, 1, HEAD_DIM, THETA, NATIVE)
    torch.testing.assert_close(inv[: int(low)], plain[: int(low)])
    torch.testing.assert_close(inv[int(high) :], plain[int(high) :] / 4)


@pytest.mark.parametrize("factor", [2.0, 8.0])
@pytest.mark.parametrize("low_high", [(1.0, 4.0), (2.0, 8.0)])
def test_llama3(factor, low_high):
    low, high = low_high
    params = {
        "rope_type": "llama3",
        "factor": factor,
        "original_max_position_embeddings": NATIVE,
        "low_freq_factor": low,
        "high_freq_factor": high,
    }
    _, inv, att = transformers_rope(params, max_position_embeddings=int(NATIVE * factor))
    scaling = RopeScaling(
        method="llama3",
        factor=factor,
        original_max_position_embeddings=NATIVE,
        low_freq_factor=low,
        high_freq_factor=high,
    )
    assert_same(compute_inv_freq(scaling, HEAD_DIM, THETA, NATIVE), (inv, att))


@pytest.mark.parametrize("alpha", [1.0, 2.0, 7.0])
def test_static_ntk_matches_the_published_formula(alpha):
    """bloc97: base' = base * alpha^(d/(d-2)); theta_i = base'^(-2i/d)."""
    inv, att = compute_inv_freq(RopeScaling(method="ntk", factor=alpha), HEAD_DIM, THETA, NATIVE)
    base = THETA * alpha ** (HEAD_DIM / (HEAD_DIM - 2))
    expected = [base ** (-2 * i / HEAD_DIM) for i in range(HEAD_DIM // 2)]
    torch.testing.assert_close(inv, torch.tensor(expected), rtol=1e-6, atol=0)
    assert att == 1.0
    # The lowest frequency is divided by exactly alpha, the highest is unchanged.
    plain, _ = compute_inv_freq(None, HEAD_DIM, THETA, NATIVE)
    assert (plain[-1] / inv[-1]).item() == pytest.approx(alpha, rel=1e-5)
    assert inv[0].item() == 1.0


def test_static_ntk_equals_dynamic_ntk_with_factor_two_at_its_target():
    """Our planner's alpha = 2s - 1 is exactly where dynamic NTK (factor 2) ends up at s."""
    s = 4
    static = compute_inv_freq(RopeScaling(method="ntk", factor=2 * s - 1), HEAD_DIM, THETA, NATIVE)
    _, dyn, _ = transformers_rope({"rope_type": "dynamic", "factor": 2.0}, seq_len=s * NATIVE)
    torch.testing.assert_close(static[0], dyn, rtol=1e-6, atol=1e-6)


def test_default_and_partial_rotary_from_config():
    config = tiny_llama_config(
        hidden_size=HEAD_DIM * 4,
        head_dim=HEAD_DIM,
        rope_parameters={"rope_type": "linear", "rope_theta": THETA, "factor": 2.0},
    )
    inv, _ = inv_freq_from_config(config)
    theirs, _ = ROPE_INIT_FUNCTIONS["linear"](config, "cpu")
    torch.testing.assert_close(inv, theirs)
    partial = tiny_llama_config(
        hidden_size=HEAD_DIM * 4,
        head_dim=HEAD_DIM,
        rope_parameters={
            "rope_type": "linear",
            "rope_theta": THETA,
            "factor": 2.0,
            "partial_rotary_factor": 0.5,
        },
    )
    inv, _ = inv_freq_from_config(partial)
    theirs, _ = ROPE_INIT_FUNCTIONS["linear"](partial, "cpu")
    assert inv.shape == (HEAD_DIM // 4,)
    torch.testing.assert_close(inv, theirs)


def test_reading_configs():
    config = tiny_llama_config(
        max_position_embeddings=4 * NATIVE,
        rope_parameters={
            "rope_type": "yarn",
            "rope_theta": THETA,
            "factor": 4.0,
            "original_max_position_embeddings": NATIVE,
        },
    )
    assert native_length(config) == NATIVE
    scaling = scaling_from_config(config)
    assert scaling is not None and scaling.method == "yarn" and scaling.factor == 4.0
    assert scaling_from_config(tiny_llama_config()) is None


def test_rope_parameters_render_static_ntk_as_a_larger_base():
    params = RopeScaling(method="ntk", factor=3.0).rope_parameters(THETA, HEAD_DIM)
    assert params == {"rope_type": "default", "rope_theta": ntk_base(THETA, 3.0, HEAD_DIM)}
    yarn = RopeScaling(method="yarn", factor=2.0, original_max_position_embeddings=NATIVE)
    assert yarn.rope_parameters(THETA, HEAD_DIM) == {
        "rope_type": "yarn",
        "rope_theta": THETA,
        "factor": 2.0,
        "original_max_position_embeddings": NATIVE,
        "beta_fast": 32.0,
        "beta_slow": 1.0,
    }
