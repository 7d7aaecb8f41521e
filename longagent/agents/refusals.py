"""Refusals remembered: a question that ended in "not found" after its readers read and
refused is answered the same way when asked again, without reading again (issue #20).

A grounded answer is remembered as a thought and given again once its quote is re-checked
at its span (`thought_first.repeated`). A refusal has no span: it is kept whole, under a
key naming everything that decided it, so it is given again only when reading again would
read the same: the same question (normalised), model and settings (profile, verifier,
reading, leader, chunk size), the same longagent code, the same chunks (their ids come
from their text), and the same thoughts about the document (they decide what is read
first). The members decode greedily, and sampled readings use fixed seeds, so reading
again would only repeat the refusal, at the cost of the whole search.

Only a store that keeps them (a library's `LanceThoughts`, as `ask FILE` and `ask
--library` use) remembers refusals; an agent's in-memory thoughts do not.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from pathlib import Path

from longagent import text
from longagent.agents.prepared import PreparedDocument
from longagent.agents.question import Question
from longagent.agents.thoughts import ThoughtStore
from longagent.agents.types import Answer, Round
from longagent.llm.usage import Usage

_PACKAGE = Path(__file__).resolve().parents[1]


@functools.cache
def code_digest() -> str:
    """Names this longagent's answering code (every source file and prompt outside the
    apps): an edit or an upgrade forgets the refusals the old code made."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        relative = path.relative_to(_PACKAGE)
        if path.is_file() and relative.parts[0] != "apps" and "__pycache__" not in relative.parts:
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\1")
    return digest.hexdigest()


def key(prepared: PreparedDocument, question: Question, setting: str, thoughts: str) -> str:
    """What a refusal is kept under: `setting` names the model and the agent's stages,
    `thoughts` what was remembered about the document when it was asked."""
    parts = [code_digest(), setting, text.normalize(question.text), prepared.document.id]
    parts += [chunk.id for chunk in prepared.chunks] + [thoughts]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def recall(
    prepared: PreparedDocument, question: Question, store: ThoughtStore, setting: str
) -> tuple[Answer | None, str]:
    """The refusal this very ask ended in before, given again (or None), and the key to
    keep this ask's refusal under ("" when `store` keeps none)."""
    refusal, digest = getattr(store, "refusal", None), getattr(store, "digest", None)
    if not callable(refusal) or not callable(digest) or not prepared.chunks:
        return None, ""
    asked = key(prepared, question, setting, digest(prepared.document.id))
    kept = refusal(asked)
    if kept is None:
        return None, asked
    said, at = kept
    try:
        answer = Answer.model_validate_json(said)
    except ValueError:  # written by another version of the Answer model: read again
        return None, asked
    if answer.found:
        return None, asked
    when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    read = len(answer.passages_read(limit=None))
    recalled = Round(
        index=0,
        kind="recall",
        instruction=question.text,
        members=[],
        decision=(
            f"asked before ({when}) with the same model and settings over the same text, "
            f"and not found then after {read} passages read: nothing read again"
        ),
    )
    for round_ in answer.trace:
        round_.index += 1
    return answer.model_copy(
        update={"trace": [recalled, *answer.trace], "usage": Usage(), "remembered": True}
    ), asked


def keep(store: ThoughtStore, asked: str, prepared: PreparedDocument, answer: Answer) -> None:
    """Keep `answer` under `asked` when it is a refusal that read something (one that read
    nothing costs nothing to repeat)."""
    keep_refusal = getattr(store, "keep_refusal", None)
    if not asked or answer.found or not answer.usage.requests or not callable(keep_refusal):
        return
    keep_refusal(asked, prepared.document.id, answer.question, answer.model_dump_json())
