"""The systems the QA benchmark compares, all as `ask(document, question) -> (text, found)`
over the same model: the model alone on a truncated document, top-k retrieval, DOS-RAG,
LongAgent."""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from longagent.apps.bench.qa_data import NOT_FOUND
from longagent.llm import ChatModel, GenerationRequest, Message

AskFn = Callable[[str, str], tuple[str, bool | None]]

_SYSTEM = "Answer the question using only the document. Be brief."
_INSTRUCTION = (
    "Question: {question}\nAnswer in a few words. If the document does not contain the answer, "
    f"reply exactly: {NOT_FOUND}."
)
_ANSWER_TOKENS = 48
# A baseline that refuses in its own words has not claimed an answer: counting "The document
# does not contain the answer" as found would charge it with wrong-but-found it never gave.
_REFUSAL = re.compile(
    r"not found|(does not|doesn['’]t|do not|don['’]t) (contain|say|mention|state|specify|provide|include)"
    r"|not (mentioned|stated|specified|provided|given)|no (information|mention)"
    r"|(cannot|can['’]t|unable to) (find|answer|determine)",
    re.IGNORECASE,
)


def refused(text: str) -> bool:
    """Whether a baseline's reply says the document lacks the answer."""
    return _REFUSAL.search(text) is not None


def _answer(model: ChatModel, context: str, question: str) -> tuple[str, bool]:
    request = GenerationRequest(
        messages=[
            Message(role="system", content=_SYSTEM),
            Message(
                role="user",
                content=f"Document:\n{context}\n\n" + _INSTRUCTION.format(question=question),
            ),
        ],
        max_new_tokens=_ANSWER_TOKENS,
    )
    (result,) = model.generate([request])
    return result.text, not refused(result.text)


def truncation(model: ChatModel) -> AskFn:
    """The model alone: the document's beginning, cut to what fits the window."""
    room = model.context_window - _ANSWER_TOKENS - 160

    def ask(document: str, question: str) -> tuple[str, bool]:
        words = document.split(" ")
        keep = len(words)
        # Tokens per word is not constant; shrink until the prefix fits.
        while model.count_tokens(" ".join(words[:keep])) > room:
            keep = int(keep * room / model.count_tokens(" ".join(words[:keep])) * 0.97)
        return _answer(model, " ".join(words[:keep]), question)

    return ask


class _Passages:
    """A document split into passages with their MiniLM vectors, kept for the last few
    documents: a benchmark asks many questions of one document, embed it once."""

    def __init__(self, model: ChatModel, passage_tokens: int, keep: int = 4) -> None:
        from longagent.memory.embedder import MiniLMEmbedder

        self.model = model
        self.passage_tokens = passage_tokens
        self.embedder = MiniLMEmbedder()
        self.keep = keep
        self._cache: OrderedDict[str, tuple[list[Any], Any]] = OrderedDict()

    def ranked(self, document: str, question: str) -> list[Any]:
        """Passages (chunks), most similar to the question first."""
        from longagent.chunking import Document, split

        if document not in self._cache:
            chunks = split(Document.create(document), self.model.count_tokens, self.passage_tokens)
            self._cache[document] = (chunks, self.embedder.embed([c.text for c in chunks]))
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        self._cache.move_to_end(document)
        chunks, vectors = self._cache[document]
        scores = vectors @ self.embedder.embed([question])[0]
        return [chunks[i] for i in sorted(range(len(chunks)), key=lambda i: -scores[i])]


def retrieval(model: ChatModel, *, top_k: int = 3, chunk_tokens: int = 256) -> AskFn:
    """Retrieval: the top-k chunks by the bundled embedder's cosine similarity, one answer."""
    passages = _Passages(model, chunk_tokens)

    def ask(document: str, question: str) -> tuple[str, bool]:
        best = sorted(passages.ranked(document, question)[:top_k], key=lambda c: c.index)
        return _answer(model, "\n\n".join(c.text for c in best), question)

    return ask


def dos_rag(model: ChatModel, *, budget_tokens: int = 2048, passage_tokens: int = 128) -> AskFn:
    """DOS-RAG (Laitenberger et al., 2025, "Stronger Baselines for RAG with Long-Context
    Language Models"): take the passages most similar to the question (MiniLM) until
    `budget_tokens` is filled, then read them in *document order* in one call. The study
    found this simple Document's Original Structure RAG matches or beats ReadAgent and
    RAPTOR at the same token budget."""
    passages = _Passages(model, passage_tokens)
    room = min(budget_tokens, model.context_window - _ANSWER_TOKENS - 160)

    def ask(document: str, question: str) -> tuple[str, bool]:
        return _answer(model, dos_rag_context(passages.ranked(document, question), room), question)

    return ask


def dos_rag_context(ranked: list[Any], budget_tokens: int) -> str:
    """The best passages that fit the budget (at least one), joined in document order."""
    chosen: list[Any] = []
    used = 0
    for chunk in ranked:
        if chosen and used + chunk.token_count > budget_tokens:
            continue  # a smaller later passage may still fit
        chosen.append(chunk)
        used += chunk.token_count
    return "\n\n".join(c.text for c in sorted(chosen, key=lambda c: c.index))


def longagent(model: ChatModel, **options: object) -> AskFn:
    """LongAgent, each document split and its passages embedded once, as DOS-RAG's passages
    are (`_Passages`) and as `ask FILE`'s library keeps them between questions; before,
    every question of a document paid its split and embedding again (22 s a question on
    the ~20K-token person story, one thread)."""
    from longagent.agents import LongAgent

    agent = LongAgent(model, **options)  # type: ignore[arg-type]
    prepared = functools.lru_cache(maxsize=4)(agent.prepare)

    def ask(document: str, question: str) -> tuple[str, bool]:
        answer = agent.ask(prepared(document), question)
        return answer.text, answer.found

    return ask


SYSTEMS: dict[str, Callable[..., AskFn]] = {
    "truncate": truncation,
    "retrieval": retrieval,
    "dos-rag": dos_rag,
    "longagent": longagent,
}
