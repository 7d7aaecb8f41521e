"""The planner: method choice, parameters, applying to a model, and the vLLM renderings."""

from __future__ import annotations

import json
import shlex

import pytest
import torch

from longagent.errors import ConfigError
from longagent.kernels import (
    METHODS,
    ExtensionPlan,
    compute_inv_freq,
    parse_length,
    plan_extension,
)
from longagent.kernels.rope import inv_freq_from_config

from .conftest import tiny_llama_config

SMOL = {
    "vocab_size": 97,
    "hidden_size": 576,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "head_dim": 64,
    "num_hidden_layers": 1,
    "max_position_embeddings": 8192,
    "rope_parameters": {"rope_type": "default", "rope_theta": 100000.0},
}


@pytest.fixture
def smol_config():
    return tiny_llama_config(**SMOL)


@pytest.mark.parametrize(
    ("text", "value"), [("32k", 32768), ("16K", 16384), ("8192", 8192), ("1m", 1 << 20), (7, 7)]
)
def test_parse_length(text, value):
    assert parse_length(text) == value


def test_parse_length_rejects_nonsense():
    with pytest.raises(ConfigError):
        parse_length("lots")


def test_no_extension_when_the_target_fits(smol_config):
    plan = plan_extension(smol_config, 4096)
    assert plan.method == "none"
    assert plan.vllm_args() == {"max_model_len": 4096}


def test_default_methods_per_backend(smol_config):
    assert plan_extension(smol_config, "32k").method == "ntk"
    assert plan_extension(smol_config, "32k", backend="vllm").method == "yarn"


@pytest.mark.parametrize("target", [9000, 16384, 32768, 100_000])
def test_self_extend_keeps_every_distance_inside_the_native_window(smol_config, target):
    params = plan_extension(smol_config, target, "self_extend").self_extend
    assert params is not None
    assert params.max_distance(target) < 8192
    smaller = params.model_copy(update={"group_size": params.group_size - 1})
    assert params.group_size == 1 or smaller.max_distance(target) >= 8192  # the smallest such


def test_rope_factors(smol_config):
    assert plan_extension(smol_config, "32k", "yarn").rope.factor == 4.0
    assert plan_extension(smol_config, "32k", "linear").rope.factor == 4.0
    assert plan_extension(smol_config, "32k", "dynamic").rope.factor == 4.0
    assert plan_extension(smol_config, "32k", "ntk").rope.factor == 7.0
    lm = plan_extension(smol_config, "32k", "lm_infinite").lm_infinite
    assert lm.window == 8192 and lm.n_global > 0


def test_unknown_method_and_already_scaled_models(smol_config):
    with pytest.raises(ConfigError, match="Unknown method"):
        plan_extension(smol_config, "32k", "magic")  # type: ignore[arg-type]
    scaled = tiny_llama_config(
        **{
            **SMOL,
            "rope_parameters": {
                "rope_type": "llama3",
                "rope_theta": 5e5,
                "factor": 8.0,
                "original_max_position_embeddings": 8192,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
            },
            "max_position_embeddings": 131072,
        }
    )
    assert plan_extension(scaled, 4096).method == "none"
    with pytest.raises(ConfigError, match="already uses"):
        plan_extension(scaled, "1m", "yarn")


def test_yarn_renders_for_vllm(smol_config):
    plan = plan_extension(smol_config, "32k", "yarn")
    overrides = plan.hf_overrides()
    assert overrides == {
        "rope_parameters": {
            "rope_type": "yarn",
            "rope_theta": 100000.0,
            "factor": 4.0,
            "original_max_position_embeddings": 8192,
            "beta_fast": 32.0,
            "beta_slow": 1.0,
        },
        "max_position_embeddings": 32768,
    }
    assert plan.vllm_args() == {"max_model_len": 32768, "hf_overrides": overrides}
    argv = shlex.split(plan.vllm_serve_command("HuggingFaceTB/SmolLM2-135M-Instruct"))
    assert argv[:3] == ["vllm", "serve", "HuggingFaceTB/SmolLM2-135M-Instruct"]
    assert json.loads(argv[argv.index("--hf-overrides") + 1]) == overrides
    assert argv[argv.index("--max-model-len") + 1] == "32768"


def test_dynamic_keeps_the_native_length_it_scales_from(smol_config):
    overrides = plan_extension(smol_config, "32k", "dynamic").hf_overrides()
    assert "max_position_embeddings" not in overrides
    assert overrides["rope_parameters"]["rope_type"] == "dynamic"


def test_attention_methods_do_not_render_for_vllm(smol_config):
    plan = plan_extension(smol_config, "32k", "self_extend")
    with pytest.raises(ConfigError, match="vLLM"):
        plan.vllm_serve_command("m")


def test_plans_round_trip_as_json(smol_config):
    for method in METHODS:
        plan = plan_extension(smol_config, "16k", method)
        assert ExtensionPlan.model_validate_json(plan.model_dump_json()) == plan


@pytest.mark.parametrize("method", ["linear", "ntk", "yarn", "llama3", "dynamic"])
def test_apply_rebuilds_the_rotary_embedding(method):
    torch.manual_seed(0)
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM(tiny_llama_config()).eval()
    plan = plan_extension(model.config, 128, method)
    assert plan.apply(model) is model
    rotary = model.model.rotary_emb
    expected, attention = compute_inv_freq(
        plan.rope, plan.rotary_dim, plan.rope_theta, model.config.max_position_embeddings
    )
    torch.testing.assert_close(rotary.inv_freq, expected)
    assert rotary.attention_scaling == pytest.approx(attention)
    assert rotary.rope_type == ("default" if method == "ntk" else method)
    torch.testing.assert_close(inv_freq_from_config(model.config)[0], expected)
    with torch.no_grad():
        assert torch.isfinite(model(torch.randint(0, 97, (1, 100))).logits).all()


def test_apply_switches_methods_and_back(tiny_llama):
    ids = torch.randint(0, 97, (1, 80))
    with torch.no_grad():
        native = tiny_llama(ids).logits
    original_inv_freq = tiny_llama.model.rotary_emb.inv_freq.clone()

    plan_extension(tiny_llama.config, 128, "yarn").apply(tiny_llama)
    plan_extension(tiny_llama.config, 128, "self_extend").apply(tiny_llama)
    assert tiny_llama.config._attn_implementation == "self_extend"
    # A plan made from an extended config still starts from the native settings.
    assert tiny_llama.config.rope_parameters == {"rope_type": "default", "rope_theta": 10000.0}
    torch.testing.assert_close(tiny_llama.model.rotary_emb.inv_freq, original_inv_freq)
    se = tiny_llama.config.self_extend
    assert se["group_size"] > 1 and se["window"] == 8

    plan_extension(tiny_llama.config, 128, "lm_infinite").apply(tiny_llama)
    assert tiny_llama.config.self_extend is None
    plan = plan_extension(tiny_llama.config, 16)
    assert plan.method == "none" and plan.native_length == 32
    plan.apply(tiny_llama)
    assert tiny_llama.config._attn_implementation == "sdpa"
    assert tiny_llama.config.max_position_embeddings == 32
    with torch.no_grad():
        torch.testing.assert_close(tiny_llama(ids).logits, native)


@pytest.mark.parametrize("method", METHODS)
def test_a_target_inside_the_window_leaves_the_model_as_it_is(tiny_llama, method):
    """What `is_identity` promises (bench extend measures such cells once)."""
    ids = torch.randint(0, 97, (1, 30))
    with torch.no_grad():
        native = tiny_llama(ids).logits
        plan = plan_extension(tiny_llama.config, 32, method)
        assert plan.is_identity
        plan.apply(tiny_llama)
        torch.testing.assert_close(tiny_llama(ids).logits, native, atol=1e-5, rtol=1e-5)
    assert not plan_extension(tiny_llama.config, 33, method).is_identity or method == "none"
