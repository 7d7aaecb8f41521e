"""What the chat model is shown and asked at each step: the automatic memory search for
each user message (a note placed just before that message), the decision (one
schema-constrained function call) and the free-text message.

The search looks for the message's best matching sentence, not message: in a chat a
fact is often one sentence inside small talk ("... and it made me think of my
childhood. By the way, I grew up in Cork."), and a whole message's embedding is mostly
small talk. So the candidates from the hybrid search are ranked by their best sentence
(by embedding), and the note shows that sentence alone. Measured with `bench chat` on the
bundled model: the fact's message ranked 1st to 9th by message, its sentence 1st by
sentence in all 20 questions tried (seeds 0-3).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from longagent.agents.chat_functions import (
    MESSAGE_CHARS,
    Functions,
    as_call,
    call_union,
    likely_sentences,
)
from longagent.agents.chat_types import FunctionCall, failure, prompt
from longagent.errors import ModelResponseError
from longagent.llm import ChatModel, GenerationRequest, Message
from longagent.llm.constrained import generate_structured
from longagent.memory.records import RecallMessage
from longagent.memory.summaries import cut_repetition
from longagent.text import sentence_texts

CANDIDATES = 12  # past messages whose sentences are ranked
SHOWN = 3  # sentences the note shows at most
RELATIVE = 0.6  # a sentence scoring under this share of the best one is left out
# Found sentences are quoted and attributed: on 15 questions of `bench chat` (seeds 1-3,
# not the reported seed 0) the bundled model answered 10 with `- the user said: "..."`
# and 5 with `- past message, user: ...`, the same sentences in the same place.
SAID = {"user": "the user said", "assistant": "you said"}


@dataclass
class Recall:
    """The note for the model and the searches behind it (reported as auto calls)."""

    note: Message | None = None
    calls: list[FunctionCall] = field(default_factory=list)


def best_sentences(functions: Functions, query: str, texts: list[str]) -> list[tuple[int, str]]:
    """(index of the text, its sentence closest to `query`), best first, one per text and
    each sentence once."""
    pieces = [
        (i, s) for i, t in enumerate(texts) for s in likely_sentences(query, sentence_texts(t))
    ]
    if not pieces:
        return []
    vectors = functions.store.archival.embed([query, *(s for _, s in pieces)])
    scores = vectors[1:] @ vectors[0]
    order = sorted(range(len(pieces)), key=lambda k: -scores[k])
    best = float(scores[order[0]])
    out: list[tuple[int, str]] = []
    used_texts: set[int] = set()
    seen: set[str] = set()
    for k in order:
        i, sentence = pieces[k]
        if i in used_texts or sentence.lower() in seen:
            continue
        if best > 0 and scores[k] < RELATIVE * best:
            break
        used_texts.add(i)
        seen.add(sentence.lower())
        out.append((i, sentence))
    return out


def recall(
    text: str, functions: Functions, budget: int, count_tokens: Callable[[str], int]
) -> Recall:
    """Search recall (outside the context) and archival for the user's message `text`;
    the note fits in `budget` tokens."""
    pager, store = functions.pager, functions.store
    result = Recall()
    lines: list[str] = []
    if pager.state.evicted:
        in_context = [m.id for m in pager.messages]
        found = functions.search_messages(text, exclude=in_context, limit=CANDIDATES)
        ranked = best_sentences(functions, text, [m.content for m in found])[:SHOWN]
        found_lines = [f'- {SAID[found[i].role]}: "{s}"' for i, s in ranked]
        lines += found_lines
        result.calls.append(_automatic("conversation_search", text, found_lines))
    if store.archival.count():
        hits = store.archival.search(text, limit=2)
        hit_lines = [f'- archival memory: "{" ".join(h.record.text.split())}"' for h in hits]
        lines += hit_lines
        result.calls.append(_automatic("archival_memory_search", text, hit_lines))
    while lines:
        note = prompt("chat_recall").format(results="\n".join(lines)).strip()
        if count_tokens(note) <= budget or len(lines) == 1:
            result.note = Message(role="system", content=truncate(note, budget, count_tokens))
            break
        lines.pop()
    return result


def with_note(messages: list[Message], note: Message | None) -> list[Message]:
    """`messages` with `note` just before the last user message (closest to the question
    it answers, and before this turn's calls and results)."""
    if note is None:
        return messages
    index = next(
        (i for i in range(len(messages) - 1, 0, -1) if messages[i].role == "user"),
        len(messages),
    )
    return [*messages[:index], note, *messages[index:]]


def decide(
    model: ChatModel,
    messages: list[Message],
    allowed: tuple[str, ...],
    free_message: bool,
    max_new_tokens: int,
) -> dict[str, Any] | str:
    """One function call among `allowed` (constrained decoding), or what was wrong with
    the model's output."""
    request = GenerationRequest(messages=messages, max_new_tokens=max_new_tokens)
    (result,) = generate_structured(model, [request], call_union(allowed, free_message))
    if isinstance(result, ModelResponseError):
        return str(result)
    return result.root.model_dump()


def compose(
    model: ChatModel, messages: list[Message], question: str, max_new_tokens: int
) -> dict[str, Any] | str:
    """A send_message call whose message the model writes as a plain assistant turn, or
    what was wrong with it."""
    if messages[-1].role != "user":
        # Calls and results came after the question: say again what to answer.
        note = prompt("chat_compose").format(question=clip_message(question, 300))
        messages = [*messages, Message(role="system", content=note.strip())]
    request = GenerationRequest(messages=messages, max_new_tokens=max_new_tokens)
    (generation,) = model.generate([request])
    # A small model can loop ("No, no, no, ..."): the loop is cut like a summary's.
    message = clip_message(cut_repetition(generation.text.strip()))
    if not message:
        return "the message was empty"
    if as_call(message) is not None:
        # The bundled model, shown its earlier calls, wrote one as its message: the user
        # would have read '{"function": "core_memory_append", ...}' as the reply.
        return "the message was a function call, not a message"
    return {"function": "send_message", "parameters": {"message": message}}


def failed_calls(messages: Sequence[RecallMessage]) -> dict[str, str]:
    """The calls in `messages` that failed, each with its error result: their ids, each
    mapped to the function called. They changed nothing, and the bundled model, shown
    them, repeats them: in a later turn it wrote an earlier turn's refused call as its
    message."""
    failed: dict[str, str] = {}
    for call, result in pairwise(messages):
        parsed = as_call(call.content) if call.role == "assistant" else None
        if parsed is None or result.role != "tool":
            continue
        if result.content.startswith(failure(parsed["function"])):
            failed |= dict.fromkeys((call.id, result.id), parsed["function"])
    return failed


def clip_message(text: str, limit: int = MESSAGE_CHARS) -> str:
    """A free-text message cut to `limit` characters, at a sentence end where there is one
    (a small model can ramble past any length)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    return cut[: end + 1].strip() if end > limit // 3 else cut[: limit - 1].rstrip() + "…"


def truncate(text: str, tokens: int, count: Callable[[str], int]) -> str:
    """Cut `text` to about `tokens` tokens (by characters, proportionally)."""
    used = count(text)
    if used <= tokens:
        return text
    return text[: max(1, len(text) * tokens // used - 1)] + "…"


def _automatic(name: str, query: str, lines: list[str]) -> FunctionCall:
    """A search the agent ran for the model, recorded like the model's own calls."""
    return FunctionCall(name=name, arguments={"query": query}, result="\n".join(lines), auto=True)
