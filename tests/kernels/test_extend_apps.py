"""The programs over the kernels: `longagent bench extend` and `longagent extend`, run end to
end on a tiny random model with a word-level tokenizer (fast; the real numbers come from the
benchmark itself)."""

from __future__ import annotations

import json
import re

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import DynamicCache, LlamaForCausalLM, PreTrainedTokenizerFast

from longagent.apps.bench import extend as bench
from longagent.apps.bench import extend_report
from longagent.apps.extend_cmd import main as extend_main
from longagent.apps.extend_cmd import render
from longagent.errors import ConfigError
from longagent.kernels import plan_extension

from .conftest import tiny_llama_config

WORDS = re.findall(r"\w+|[^\w\s]", (bench.TASK + bench.FILLER + bench.NEEDLE + bench.QUESTION))


def word_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {w: i for i, w in enumerate(["<unk>", *sorted(set(WORDS)), *"0123456789"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)]
    )
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")


@pytest.fixture
def model_dir(tmp_path):
    torch.manual_seed(0)
    tokenizer = word_tokenizer()
    model = LlamaForCausalLM(
        tiny_llama_config(vocab_size=len(tokenizer), max_position_embeddings=64)
    )
    model.save_pretrained(tmp_path / "tiny")
    tokenizer.save_pretrained(tmp_path / "tiny")
    return tmp_path / "tiny"


def test_passkey_sample_places_the_key_at_the_depth():
    tokenizer = word_tokenizer()
    sample = bench.passkey_sample(tokenizer, 300, 12345, 0.25)
    assert 250 < len(sample.ids) <= 300
    assert sample.key_tokens == tokenizer.encode(" 12345")
    text = tokenizer.decode(sample.ids)
    assert 0.15 < text.index("1 2 3 4 5") / len(text) < 0.35
    assert text.endswith("The pass key is")  # the prompt ends with the question
    deeper = bench.passkey_sample(tokenizer, 300, 54321, 0.75)
    assert deeper.ids[: sample.prefix] == sample.ids[: sample.prefix]
    assert len(deeper.ids) == len(sample.ids)


@pytest.mark.parametrize(
    ("method", "params"),
    [("none", {}), ("dynamic", {}), ("self_extend", {"group_size": 3, "window": 8})],
)
def test_passkey_samples_share_a_prefix_exactly(model_dir, method, params, monkeypatch):
    """Samples that continue the deepest sample's cache (in chunks) score as a pass of
    their own would; dynamic NTK too, since every sample has the same length."""
    model, tokenizer = bench.load(str(model_dir))
    plan_extension(model.config, 160, method).apply(model)
    if params:
        model.config.self_extend = params
    monkeypatch.setattr(bench, "CHUNK_TOKENS", 7)
    _, shared = bench.passkey_accuracy(model, tokenizer, 160, 3, seed=1)
    for row, sample in zip(shared, bench.passkey_samples(tokenizer, 160, 3, 1), strict=True):
        assert row["key"] == sample.key and row["tokens"] == len(sample.ids)
        cache = DynamicCache(config=model.config)
        logits = bench.forward(model, sample.ids, 1, cache)
        alone = float(logits[-1].log_softmax(-1)[sample.key_tokens[0]])
        assert row["first_logprob"] == pytest.approx(alone, abs=2e-3)
        written = bench.greedy(model, logits, cache, bench.ANSWER_TOKENS)
        assert row["answer"] == tokenizer.decode(written)


def test_bench_end_to_end(model_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "book_tokens", lambda tok: tok.encode(bench.FILLER * 60))
    out = tmp_path / "results"
    bench.main(
        lengths="48,128",
        samples=2,
        methods="none,yarn,self_extend,lm_infinite",
        ppl_tokens=16,
        model=str(model_dir),
        out=str(out),
    )
    report = json.loads((out / "extend.json").read_text())
    assert report["native_length"] == 64
    cells = {(r["method"], r["length"]) for r in report["results"]}
    assert cells == {
        (m, n) for m in ("none", "yarn", "self_extend", "lm_infinite") for n in (48, 128)
    }
    for row in report["results"]:
        assert 0 <= row["passkey"] <= 1 and row["perplexity"] > 1 and len(row["samples"]) == 2
    assert (out / "extend.png").stat().st_size > 10_000
    # --resume skips the cells already measured and adds the new ones.
    bench.main(
        lengths="48",
        samples=1,
        methods="none,ntk",
        ppl_tokens=8,
        model=str(model_dir),
        out=str(out),
        resume=True,
    )
    report = json.loads((out / "extend.json").read_text())
    assert len(report["results"]) == 9


def test_bench_rejects_unknown_methods(model_dir):
    with pytest.raises(ConfigError, match="magic"):
        bench.main(methods="none,magic", model=str(model_dir))


def test_extend_command_prints_a_vllm_serve_line(model_dir, capsys):
    extend_main(str(model_dir), to="256", method="")
    printed = capsys.readouterr().out
    assert "vllm serve" in printed and "--max-model-len 256" in printed
    assert '"rope_type":"yarn"' in printed


def test_extend_command_for_attention_methods_and_bad_models(model_dir):
    config = tiny_llama_config()
    text = render(config, "m", "128", "self_extend")
    assert "transformers only" in text and "vllm serve" not in text
    with pytest.raises(ConfigError, match="missing"):
        extend_main(str(model_dir / "missing"), to="1k", method="")


def test_a_pass_is_the_first_number_written():
    assert bench.first_number_is(" 54321. Remember", 54321)
    assert bench.first_number_is(" the 54321", 54321)  # a lead-in token, then the key
    assert not bench.first_number_is(" 5432 1", 54321)
    assert not bench.first_number_is(" 1. 54321", 54321)
    assert not bench.first_number_is(" the grass", 54321)


def test_cells_count_passes_and_strict_ones():
    samples = [
        {"ok": True, "strict": True},
        {"ok": True, "strict": False},  # " the 54321": the key after a lead-in token
        {"ok": False, "strict": False},
    ]
    row = {"samples": samples, "perplexity": 12.34, "seconds": 300.0, "cpu_seconds": 99.6}
    assert extend_report.cell_text(row) == "2/3 (strict 1) · ppl 12.3 · 100 s"
    assert (
        extend_report.cell_text(row | {"same_as": "none"}) == "2/3 (strict 1) · ppl 12.3 (= none)"
    )
    every = {"samples": samples[:1], "perplexity": None, "seconds": 5.0}
    assert extend_report.cell_text(every) == "1/1 · 5 s"


@pytest.mark.slow
def test_self_extend_finds_a_passkey_beyond_the_native_window():
    """The bundled model, extended past its 8K window by Self-Extend, writes a key hidden
    mid-way in 8.5K tokens of filler. The planner's default (static NTK) does the same
    through LongAgent in tests/apps/test_bench_qa.py."""
    from longagent.llm import load_model

    loaded = load_model(extend_to=10240, extend_method="self_extend")
    assert loaded.extension.method == "self_extend"
    # Just past the window: the positions beyond 8192 are what the extension changes, and
    # every extra token costs the suite (Self-Extend's attention is the slow part).
    accuracy, (row,) = bench.passkey_accuracy(loaded.hf_model, loaded.tokenizer, 8704, 1, 0)
    assert accuracy == 1.0 and row["ok"], row
    assert row["tokens"] > 8192
