"""The systems the QA benchmark compares, all as `ask(document, question) -> (text, found)`
over the same model: the model alone on a truncated document, top-k retrieval, DOS-RAG,
LongAgent."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from longagent import text
from longagent.apps.bench.qa_data import NOT_FOUND
from longagent.llm import ChatModel, GenerationRequest, Message

AskFn = Callable[[str, str], tuple[str, bool | None]]

_SYSTEM = "Answer the question using only the document. Be brief."
_INSTRUCTION = (
    "Question: {question}\nAnswer in a few words. If the document does not contain the answer, "
    f"reply exactly: {NOT_FOUND}."
)
_ANSWER_TOKENS = 48


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
    # A baseline that refuses in its own words has not claimed an answer: counting "The
    # document does not contain the answer" as found would charge it with wrong-but-found.
    return result.text, not text.says_no_answer(result.text)


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


class Passages:
    """A document split into passages (chunks of `passage_tokens`, counted by
    `count_tokens`) and, once ranked, their MiniLM vectors, kept for the last few
    documents: a benchmark asks many questions of one document, split and embed it once."""

    def __init__(self, count_tokens: Callable[[str], int], passage_tokens: int, keep: int = 4):
        self.count_tokens = count_tokens
        self.passage_tokens = passage_tokens
        self.chunks = functools.lru_cache(maxsize=keep)(self._split)
        self._vectors = functools.lru_cache(maxsize=keep)(self._embed)
        self._embedder: Any = None

    def _split(self, document: str) -> list[Any]:
        from longagent.chunking import Document, split

        return split(Document.create(document), self.count_tokens, self.passage_tokens)

    def _embed(self, document: str) -> Any:
        return self.embedder.embed([c.text for c in self.chunks(document)])

    @property
    def embedder(self) -> Any:
        if self._embedder is None:  # loaded on the first ranking only
            from longagent.memory.embedder import MiniLMEmbedder

            self._embedder = MiniLMEmbedder()
        return self._embedder

    def ranked(self, document: str, question: str) -> list[Any]:
        """Passages (chunks), most similar to the question first."""
        chunks = self.chunks(document)
        scores = self._vectors(document) @ self.embedder.embed([question])[0]
        return [chunks[i] for i in sorted(range(len(chunks)), key=lambda i: -scores[i])]


def retrieval(model: ChatModel, *, top_k: int = 3, chunk_tokens: int = 256) -> AskFn:
    """Retrieval: the top-k chunks by the bundled embedder's cosine similarity, one answer."""
    passages = Passages(model.count_tokens, chunk_tokens)

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
    passages = Passages(model.count_tokens, passage_tokens)
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


def longagent(model: ChatModel, *, held_quote: bool = False, **options: Any) -> AskFn:
    """LongAgent, each document split and its passages embedded once, as DOS-RAG's passages
    are (`Passages`) and as `ask FILE`'s library keeps them between questions; before,
    every question of a document paid its split and embedding again (22 s a question on
    the ~20K-token person story, one thread). `held_quote`: the profile's opt-in
    `quote_held`."""
    from longagent.agents import LongAgent
    from longagent.agents.profiles import profile_for

    if held_quote:
        options["profile"] = profile_for(model, extract=options.get("extract"), quote_held=True)
    agent = LongAgent(model, **options)
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
