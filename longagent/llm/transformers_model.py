"""The embedded backend: a Hugging Face causal LM run in-process with torch.

Requests decode in one running batch (left padding, one forward pass per step for every
row); the prefill keeps logits only for the last position; a finished row leaves the batch
and a waiting request is prefilled into its place (continuous batching), so short answers
do not pay for long ones and decode steps stay full. JSON-schema requests are constrained
token by token with xgrammar.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import cast

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, DynamicCache

from longagent.config import Settings
from longagent.errors import ContextOverflowError, ModelLoadError
from longagent.kernels import Method, plan_extension
from longagent.llm.base import Generation, GenerationRequest, looping
from longagent.llm.constrained import JsonConstrainer
from longagent.llm.control_tokens import ControlTokenGuard
from longagent.llm.decode_batch import DecodeBatch, Row, attention_layers, layer_kv
from longagent.llm.gguf_cache import converted_dir
from longagent.llm.prefix_cache import PrefixCache
from longagent.llm.prefix_disk import fingerprint, weights_digest


def native_dtype() -> str:
    """bfloat16 where the CPU multiplies it natively (AVX512-BF16 or AMX), else float32,
    where bfloat16 is emulated: slower than float32 there (float16 was 3x slower even here).
    On a Zen 4 core a search's batch of 12 passages took 6.3 s in bfloat16 against 12.1 s in
    float32; decoding reads every weight each step, and bfloat16 halves them (README)."""
    cpu = torch.cpu
    native = (
        getattr(cpu, "_is_avx512_bf16_supported", lambda: False)()
        or getattr(cpu, "_is_amx_tile_supported", lambda: False)()
    )
    return "bfloat16" if native else "float32"


class TransformersModel:
    """A `ChatModel` over a Hugging Face directory or a GGUF file (converted once, cached).

    Continuous batching: up to `max_batch_size` rows decode together and a finished row's
    place goes to the next request; `max_batch_tokens` bounds the padded prompt tokens
    prefilled at once. The prefix cache (settings `prefix_cache_mb`) keeps every prompt's
    KV states in blocks, so a later prompt with the same beginning reads only what follows.
    `extend_to` widens the window by a `longagent.kernels` plan (`extend_method`).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        name: str | None = None,
        settings: Settings | None = None,
        dtype: str | None = None,  # None: settings.dtype ("auto": `native_dtype()`)
        max_batch_size: int = 16,  # decode re-reads every weight per step: fewer, fuller steps
        max_batch_tokens: int = 16384,
        extend_to: int | None = None,
        extend_method: Method | None = None,  # None: the planner's default
    ) -> None:
        settings = settings or Settings()
        path = Path(path).expanduser()
        torch.set_num_threads(settings.threads)
        dtype = dtype or settings.dtype
        dtype = native_dtype() if dtype == "auto" else dtype
        source = converted_dir(path, settings.cache_dir) if path.suffix == ".gguf" else path
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.hf_model = AutoModelForCausalLM.from_pretrained(
                source, dtype=getattr(torch, dtype)
            ).eval()
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"Could not load a model from {path}: {exc}") from exc
        self.name = name or path.stem
        self.source = source
        self.context_window: int = extend_to or self.hf_model.config.max_position_embeddings
        self.extension = None
        if extend_to is not None:
            self.extension = plan_extension(self.hf_model.config, extend_to, extend_method)
            self.extension.apply(self.hf_model)
        self.max_batch_size = max_batch_size
        self.max_batch_tokens = max_batch_tokens
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id
        self.eos_ids = self._eos_ids()
        self._neutralise = ControlTokenGuard(self.tokenizer)
        self._json = JsonConstrainer(self.tokenizer, self.hf_model.config.vocab_size, self.eos_ids)
        self._lock = threading.Lock()  # one decode at a time: the model is not re-entrant
        self.prefix_cache: PrefixCache | None = None
        if settings.prefix_cache_mb > 0 and not self._kv_depends_on_what_follows():
            spill = settings.prefix_cache_dir if settings.prefix_cache_disk_mb > 0 else None
            self.prefix_cache = PrefixCache(
                max_bytes=settings.prefix_cache_mb << 20,
                spill_dir=spill,
                max_disk_bytes=settings.prefix_cache_disk_mb << 20,
                fingerprint=self._kv_fingerprint(dtype) if spill else "",
            )

    # -- the ChatModel protocol ------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(self._neutralise(text), add_special_tokens=False))

    def generate(self, requests: Sequence[GenerationRequest]) -> list[Generation]:
        return self.generate_cancellable(requests, lambda _: False)

    # -- extras used by the server and the benchmarks ---------------------------------

    def check(self, request: GenerationRequest) -> int:
        """Validate one request alone, before it joins a batch it could fail: the prompt
        fits the window (`ContextOverflowError`) and the JSON schema compiles
        (`InvalidRequestError`). Returns the prompt's token count."""
        prompt = self.encode_chat(request)
        if request.json_schema is not None:
            self._json.matcher(request.json_schema)  # compiled once, cached for the batch
        return len(prompt)

    def generate_cancellable(
        self, requests: Sequence[GenerationRequest], cancelled: Callable[[int], bool]
    ) -> list[Generation]:
        """`generate`, but request i leaves the batch (its text so far returned) at the
        first step where `cancelled(i)` is true: the server stops work for a client that
        went away."""
        prompts = [self.encode_chat(r) for r in requests]
        with self._lock:
            rows = [self._new_row(r, p) for r, p in zip(requests, prompts, strict=True)]
            for _ in self._decode(rows, prompts, cancelled):
                pass
        return [row.result() for row in rows]

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the text of one request as it is generated (deltas)."""
        prompt = self.encode_chat(request)
        hold = max((len(s) for s in request.stop), default=1) - 1  # a stop string may be forming
        emitted = 0
        with self._lock:
            row = self._new_row(request, prompt)
            for _ in self._decode([row], [prompt], lambda _: False):
                upto = len(row.text) if row.done else max(emitted, len(row.text) - hold)
                if row.text.endswith("\ufffd") and not row.done:  # half a multi-byte char
                    continue
                if upto > emitted:
                    yield row.text[emitted:upto]
                    emitted = upto

    def encode_chat(self, request: GenerationRequest) -> list[int]:
        """Token ids of the request's messages in the model's chat template. Control tokens
        written inside a message are neutralised: only the template's own are real."""
        messages = [
            {"role": m.role, "content": self._neutralise(m.content)} for m in request.messages
        ]
        text = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if len(ids) >= self.context_window:
            raise ContextOverflowError(
                f"The prompt takes {len(ids)} tokens but {self.name}'s window is "
                f"{self.context_window}; shorten it or use a smaller chunk size."
            )
        return ids

    # -- internals ----------------------------------------------------------------------

    def _eos_ids(self) -> set[int]:
        ids = {self.tokenizer.eos_token_id}
        configured = self.hf_model.generation_config.eos_token_id
        ids.update(configured if isinstance(configured, list) else [configured])
        return {i for i in ids if i is not None}

    def _kv_depends_on_what_follows(self) -> bool:
        """Whether a prompt's KV states cannot be reused under a longer prompt.
        Dynamic NTK rescales every position by the current length. Self-Extend and
        LM-Infinite re-position cached keys assuming each row's tokens are contiguous in the
        cache, which a reused prefix followed by padding is not."""
        from longagent.kernels.planner import LM_INFINITE, SELF_EXTEND

        params = getattr(self.hf_model.config, "rope_parameters", None) or {}
        attention = getattr(self.hf_model.config, "_attn_implementation", None)
        return params.get("rope_type") == "dynamic" or attention in (SELF_EXTEND, LM_INFINITE)

    def _kv_fingerprint(self, dtype: str) -> str:
        """Everything a prompt's KV states depend on besides its tokens: the weights, the
        config (with any RoPE rescaling), the dtype, the attention and extension plan."""
        config = self.hf_model.config
        return fingerprint(
            self.name,
            weights_digest(self.source) if self.source.is_dir() else str(self.source),
            config.to_json_string(),
            dtype,
            str(getattr(config, "_attn_implementation", None)),
            self.extension.model_dump_json() if self.extension is not None else "",
        )

    def _admission_order(self, prompts: list[list[int]]) -> list[int]:
        """Requests by how much is left to read after their cached prefix, so the rows that
        are prefilled together need little padding."""
        cached = [self.prefix_cache.match(p) if self.prefix_cache else 0 for p in prompts]
        return sorted(range(len(prompts)), key=lambda i: (len(prompts[i]) - cached[i], -cached[i]))

    def _next_group(self, waiting: deque[int], prompts: list[list[int]], free: int) -> list[int]:
        """The next requests to prefill together: at most `free` of them, and at most
        `max_batch_tokens` padded tokens (whole prompts, cache included) between them."""
        group = [waiting.popleft()]
        widest = len(prompts[group[0]])
        while waiting and len(group) < free:
            width = max(widest, len(prompts[waiting[0]]))
            if (len(group) + 1) * width > self.max_batch_tokens:
                break
            group.append(waiting.popleft())
            widest = width
        return group

    def _new_row(self, request: GenerationRequest, prompt: list[int]) -> Row:
        generator = None
        if request.temperature > 0:
            generator = torch.Generator().manual_seed(
                request.seed if request.seed is not None else 0
            )
        matcher = self._json.matcher(request.json_schema) if request.json_schema else None
        # Never generate past the window.
        room = min(request.max_new_tokens, self.context_window - len(prompt))
        request = request.model_copy(update={"max_new_tokens": room})
        return Row(request, len(prompt), matcher, generator)

    @torch.inference_mode()
    def _decode(
        self, rows: list[Row], prompts: list[list[int]], cancelled: Callable[[int], bool]
    ) -> Iterator[None]:
        """Run all rows to completion with continuous batching, yielding after every step.
        Up to `max_batch_size` rows decode together; when rows finish, waiting requests are
        prefilled and join the running batch, so decode steps stay full. A cancelled row
        ends where it stands, or is never prefilled."""
        waiting = deque(self._admission_order(prompts))
        batch: DecodeBatch | None = None
        while True:
            for i, row in enumerate(rows):
                if not row.done and cancelled(i):
                    row.finish_reason = "stop"
            waiting = deque(i for i in waiting if not rows[i].done)
            batch = batch.without_finished(rows) if batch is not None else None
            if batch is None and not waiting:
                return
            free = self.max_batch_size - (len(batch.live) if batch else 0)
            # Admit in groups of a quarter batch: each admission copies the running cache
            # to merge, and a group prefills better than single rows.
            group = min(len(waiting), max(1, self.max_batch_size // 4))
            if waiting and (batch is None or free >= group):
                joined = self._prefill(self._next_group(waiting, prompts, free), rows, prompts)
                batch = joined if batch is None else batch.merge(joined, self.hf_model.config)
            else:
                assert batch is not None
                self._step(batch, rows)
            yield

    def _prefill(self, group: list[int], rows: list[Row], prompts: list[list[int]]) -> DecodeBatch:
        """Read the group's prompts (after their cached prefixes) and pick their first token."""
        group_prompts = [prompts[i] for i in group]
        cache, cached, attention = self._cached_prefixes(group_prompts)
        suffixes = [p[n:] for p, n in zip(group_prompts, cached, strict=True)]
        longest = max(len(s) for s in suffixes)
        input_ids = torch.full((len(group), longest), self.pad_id, dtype=torch.long)
        new = torch.zeros((len(group), longest), dtype=torch.long)
        for b, suffix in enumerate(suffixes):
            input_ids[b, longest - len(suffix) :] = torch.tensor(suffix)
            new[b, longest - len(suffix) :] = 1
        # Rows are [pad, cached prefix, pad, new tokens]; the mask hides both pads and the
        # positions count only real tokens, so a row reads as if it were alone.
        attention = torch.cat([attention, new], dim=-1)
        positions = (attention.cumsum(-1) - 1).clamp(min=0)[:, -longest:]
        out = self.hf_model(
            input_ids=input_ids,
            attention_mask=attention,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        if self.prefix_cache is not None:
            self._keep_prefixes(cache, group_prompts, cached)
        tokens = self._pick(out.logits[:, -1, :].float(), [rows[i] for i in group])
        for i, token in zip(group, tokens, strict=True):
            self._accept(rows[i], token)
        return DecodeBatch(cache, attention, positions[:, -1:] + 1, tokens, list(group))

    def _step(self, batch: DecodeBatch, rows: list[Row]) -> None:
        """One decode step for every running row."""
        batch.attention = torch.cat(
            [batch.attention, torch.ones((len(batch.live), 1), dtype=torch.long)], dim=-1
        )
        out = self.hf_model(
            input_ids=torch.tensor(batch.tokens).unsqueeze(-1),
            attention_mask=batch.attention,
            position_ids=batch.positions,
            cache=batch.cache,
            use_cache=True,
            logits_to_keep=1,
        )
        batch.positions = batch.positions + 1
        batch.tokens = self._pick(out.logits[:, -1, :].float(), [rows[i] for i in batch.live])
        for i, token in zip(batch.live, batch.tokens, strict=True):
            self._accept(rows[i], token)

    def _cached_prefixes(
        self, prompts: list[list[int]]
    ) -> tuple[DynamicCache, list[int], torch.Tensor]:
        """A KV cache holding each row's longest cached prefix, left-padded to a common
        length; the cached lengths; and the attention mask over that past."""
        found = [self.prefix_cache.lookup(p) if self.prefix_cache else (0, None) for p in prompts]
        past = max(n for n, _ in found)
        attention = torch.zeros((len(prompts), past), dtype=torch.long)
        if past == 0:
            return DynamicCache(config=self.hf_model.config), [0] * len(prompts), attention
        shape = next(kv.shape for n, kv in found if kv is not None)
        layers, _, heads, _, dim = shape
        dtype = next(kv.dtype for n, kv in found if kv is not None)
        kv_all = torch.zeros((layers, 2, len(prompts), heads, past, dim), dtype=dtype)
        for i, (n, kv) in enumerate(found):
            if kv is not None:
                kv_all[:, :, i, :, past - n :] = kv
                attention[i, past - n :] = 1
        cache = DynamicCache(
            ddp_cache_data=[(kv_all[layer, 0], kv_all[layer, 1]) for layer in range(layers)],
            config=self.hf_model.config,
        )
        return cache, [n for n, _ in found], attention

    def _keep_prefixes(
        self, cache: DynamicCache, prompts: list[list[int]], cached: list[int]
    ) -> None:
        """After the prefill, store each row's new prompt KV blocks for later requests."""
        assert self.prefix_cache is not None
        layers = [layer_kv(layer) for layer in attention_layers(cache)]
        end = layers[0][0].shape[-2]
        for i, (prompt, start) in enumerate(zip(prompts, cached, strict=True)):
            first = end - (len(prompt) - start)  # where row i's new tokens begin
            kv = torch.stack(
                [torch.stack([keys[i, :, first:], values[i, :, first:]]) for keys, values in layers]
            )
            self.prefix_cache.store(prompt, kv, start=start)

    def _pick(self, logits: torch.Tensor, rows: list[Row]) -> list[int]:
        """Next token per row: grammar mask where constrained, then greedy or sampled."""
        self._json.mask(logits, [row.matcher for row in rows])
        picked = logits.argmax(dim=-1).tolist()
        for b, row in enumerate(rows):
            if row.generator is not None:
                probs = torch.softmax(logits[b] / row.request.temperature, dim=-1)
                picked[b] = int(torch.multinomial(probs, 1, generator=row.generator))
        return picked

    def _accept(self, row: Row, token: int) -> None:
        if row.matcher is not None:
            row.matcher.accept_token(token)
            if row.matcher.is_terminated():
                row.finish_reason = "stop"
                return
        elif token in self.eos_ids:
            row.finish_reason = "stop"
            return
        row.token_ids.append(token)
        # One sequence decodes to a str; decode's annotation also covers a batch's list.
        row.text = cast(str, self.tokenizer.decode(row.token_ids, skip_special_tokens=True))
        for stop in row.request.stop:
            cut = row.text.find(stop)
            if cut >= 0:
                row.text = row.text[:cut]
                row.finish_reason = "stop"
                return
        if len(row.token_ids) >= row.request.max_new_tokens or (
            row.request.stop_loops and looping(row.token_ids, row.request.stop_loops)
        ):
            row.finish_reason = "length"  # cut off, as at the token limit
