"""In-process vLLM (`pip install longagent[vllm]`, needs a GPU).

A whole batch goes to `LLM.chat` at once; vLLM schedules it with continuous batching and,
with prefix caching on, reuses the KV of a chunk shared by several prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from longagent.errors import ConfigError
from longagent.llm.base import Generation, GenerationRequest
from longagent.llm.control_tokens import ControlTokenGuard


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise ConfigError(
            "The 'vllm:' backend needs vLLM, which is an optional extra: "
            "`pip install 'longagent[vllm]'` (on a machine with a supported GPU). "
            "Or start `vllm serve MODEL` elsewhere and use an 'openai:MODEL@URL' spec."
        ) from exc
    return vllm


class VLLMModel:
    """`ChatModel` over `vllm.LLM`. `max_model_len` and `hf_overrides` (RoPE scaling from
    `longagent.kernels`) pass straight through; other keyword arguments go to `vllm.LLM`."""

    def __init__(
        self,
        model: str,
        *,
        max_model_len: int | None = None,
        hf_overrides: dict[str, Any] | None = None,
        extend_to: int | None = None,
        **engine_args: Any,
    ) -> None:
        vllm = _import_vllm()
        if extend_to is not None:
            from transformers import AutoConfig

            from longagent.kernels import plan_extension

            plan = plan_extension(AutoConfig.from_pretrained(model), extend_to)
            hf_overrides = {**plan.hf_overrides(), **(hf_overrides or {})}
            max_model_len = max_model_len or extend_to
        self._vllm = vllm
        self.llm = vllm.LLM(
            model=model,
            enable_prefix_caching=True,
            max_model_len=max_model_len,
            hf_overrides=hf_overrides,
            **engine_args,
        )
        self.name = model
        self.tokenizer = self.llm.get_tokenizer()
        self._neutralise = ControlTokenGuard(self.tokenizer)  # text can't forge a turn
        self.context_window = int(self.llm.llm_engine.model_config.max_model_len)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(self._neutralise(text), add_special_tokens=False))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        conversations = [
            [{"role": m.role, "content": self._neutralise(m.content)} for m in r.messages]
            for r in requests
        ]
        params = [self._sampling_params(r) for r in requests]
        outputs = self.llm.chat(conversations, params, use_tqdm=False)
        return [
            Generation(
                text=out.outputs[0].text,
                prompt_tokens=len(out.prompt_token_ids or []),
                completion_tokens=len(out.outputs[0].token_ids),
                finish_reason="length" if out.outputs[0].finish_reason == "length" else "stop",
            )
            for out in outputs
        ]

    def _sampling_params(self, request: GenerationRequest) -> Any:
        sampling = self._vllm.SamplingParams
        kwargs: dict[str, Any] = {
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "stop": request.stop or None,
            "seed": request.seed,
        }
        if request.json_schema is not None:
            # vLLM renamed guided decoding to structured outputs; support both spellings.
            sp = self._vllm.sampling_params
            if hasattr(sp, "StructuredOutputsParams"):
                kwargs["structured_outputs"] = sp.StructuredOutputsParams(json=request.json_schema)
            else:
                kwargs["guided_decoding"] = sp.GuidedDecodingParams(json=request.json_schema)
        return sampling(**kwargs)
