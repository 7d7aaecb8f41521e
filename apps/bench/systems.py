"""The systems the QA benchmark compares, all as `ask(document, question) -> (text, found)`
over the same model: the model alone on a truncated document, top-k retrieval, LongAgent."""

from __future__ import annotations

from collections.abc import Callable

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
    return result.text, NOT_FOUND not in result.text.lower()


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


def retrieval(model: ChatModel, *, top_k: int = 3, chunk_tokens: int = 256) -> AskFn:
    """Retrieval: the top-k chunks by the bundled embedder's cosine similarity, one answer."""
    from longagent.chunking import Document, split
    from longagent.memory.embedder import MiniLMEmbedder

    embedder = MiniLMEmbedder()

    def ask(document: str, question: str) -> tuple[str, bool]:
        chunks = split(Document.create(document), model.count_tokens, chunk_tokens)
        vectors = embedder.embed([c.text for c in chunks])
        scores = vectors @ embedder.embed([question])[0]
        best = sorted(
            sorted(range(len(chunks)), key=lambda i: -scores[i])[:top_k]
        )  # keep text order
        return _answer(model, "\n\n".join(chunks[i].text for i in best), question)

    return ask


def longagent(model: ChatModel, **options: object) -> AskFn:
    from longagent.agents import LongAgent

    agent = LongAgent(model, **options)  # type: ignore[arg-type]

    def ask(document: str, question: str) -> tuple[str, bool]:
        answer = agent.ask(document, question)
        return answer.text, answer.found

    return ask


SYSTEMS: dict[str, Callable[..., AskFn]] = {
    "truncate": truncation,
    "retrieval": retrieval,
    "longagent": longagent,
}
