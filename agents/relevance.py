"""Which chunks likely answer a question: lexical, embedding and recalled-thought ranks,
fused.

Relevance-first reading asks the likeliest members first and stops once grounded evidence
stands. Rankings are fused by reciprocal rank (as in hybrid search), because each fails
differently: rare question words (names, numbers) pin the chunk that holds a fact,
embeddings find chunks that paraphrase the question, and recalled thoughts (what members
grounded in earlier questions over the same document) find a chunk whose wording matches
neither, once an earlier question has tied it to the subject.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from longagent.agents import evidence
from longagent.agents.types import Answer
from longagent.chunking import Chunk
from longagent.memory.embedder import Embedder

RRF_K = 60  # the usual reciprocal-rank-fusion constant
WINDOW_WORDS = 150  # MiniLM reads 256 word pieces; longer chunks are embedded in windows
# A long session must not grow a document's memory without end; each thought costs one
# embedding and one comparison per question, and the newest reflect what is being asked.
MAX_THOUGHTS = 256
# Thoughts vote for this many chunks at most: MiniLM rates any two sentences about one
# person alike (0.55-0.7, measured), so without a cap, a session of questions about one
# person would fill the first wave with chunks that answered other questions.
RECALLED_CHUNKS = 2
# A thought sharing no question word must still be a paraphrase to vote: MiniLM puts
# unrelated sentences below 0.2 and paraphrases above 0.4 (measured), halved in the mean.
MIN_THOUGHT_MATCH = 0.2


@dataclass
class Thought:
    """A member's grounded answer to an earlier question, and the chunk it came from."""

    chunk: int
    question: str
    answer: str
    quote: str
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # on first need

    @property
    def text(self) -> str:
        return f"{self.question} {self.answer}. {self.quote}"


def lexical_scores(question: str, chunks: Sequence[Chunk]) -> list[float]:
    """IDF-weighted count of the question's content words that each chunk contains."""
    asked = evidence.content_words(question)
    held = [set(evidence.words(c.text)) & asked for c in chunks]
    frequency = Counter(word for words in held for word in words)
    idf = {w: math.log((1 + len(chunks)) / (1 + frequency[w])) + 1 for w in asked}
    return [sum(idf[w] for w in words) for words in held]


def windows(text: str) -> list[str]:
    tokens = text.split()
    step = WINDOW_WORDS // 2  # overlapping, so no sentence is only ever cut in half
    return [" ".join(tokens[i : i + WINDOW_WORDS]) for i in range(0, max(1, len(tokens)), step)]


def chunk_vectors(chunks: Sequence[Chunk], embedder: Embedder) -> list[np.ndarray]:
    """Per chunk, the vectors of its windows (embedded in one call)."""
    spans = [windows(c.text) for c in chunks]
    vectors = embedder.embed([w for s in spans for w in s])
    out, start = [], 0
    for s in spans:
        out.append(vectors[start : start + len(s)])
        start += len(s)
    return out


def embedding_scores(
    question: str, vectors: Sequence[np.ndarray], embedder: Embedder
) -> list[float]:
    """Each chunk's best window's cosine similarity to the question."""
    query = embedder.embed([question])[0]
    return [float((v @ query).max()) if len(v) else 0.0 for v in vectors]


def thoughts_of(answer: Answer) -> list[Thought]:
    """The grounded reports of an answered question, each once. Only reports with evidence
    count: a resolve round's report was judged against two chunks, so its member's index
    does not say which chunk holds the quote (and both were reported in the ask round)."""
    thoughts: list[Thought] = []
    for round_ in answer.trace:
        for report in round_.reports:
            if report.verdict != "grounded" or report.evidence is None:
                continue
            # The evidence is the verified span of the chunk, not the member's loose quote.
            thought = Thought(
                report.evidence.chunk_index, answer.question, report.answer, report.evidence.quote
            )
            if thought not in thoughts:
                thoughts.append(thought)
    return thoughts


def add_thoughts(thoughts: Sequence[Thought], answer: Answer) -> list[Thought]:
    """`thoughts` and the answer's own, newest last and at most MAX_THOUGHTS. A thought
    recalled again moves to the end and keeps its vector."""
    fresh = [next((t for t in thoughts if t == new), new) for new in thoughts_of(answer)]
    kept = [t for t in thoughts if t not in fresh]
    return (kept + fresh)[-MAX_THOUGHTS:]


def thought_scores(
    question: str, thoughts: Sequence[Thought], chunk_count: int, embedder: Embedder
) -> list[float]:
    """Per chunk, how well its best recalled thought matches `question`: the mean of the
    (weighted) share of the question's words the thought holds and their cosine
    similarity. Only the RECALLED_CHUNKS best chunks, matching at least MIN_THOUGHT_MATCH,
    score; every other chunk, and any chunk without thoughts, scores 0. Embeds each
    thought once, keeping its vector on the thought."""
    scores = [0.0] * chunk_count
    if not thoughts:
        return scores
    unembedded = [t for t in thoughts if t.vector is None]
    vectors = embedder.embed([question] + [t.text for t in unembedded])
    for thought, vector in zip(unembedded, vectors[1:], strict=True):
        thought.vector = vector
    query = vectors[0]
    names = evidence.entities(question)
    # Names and numbers weigh double: they pin the subject an earlier question was about.
    weights = {w: 2.0 if w in names else 1.0 for w in evidence.content_words(question) | names}
    total = sum(weights.values())
    for thought in thoughts:
        held = f" {evidence.normalize(thought.text)} "  # padded: whole words and phrases only
        share = sum(w for word, w in weights.items() if f" {word} " in held) / total if total else 0
        similarity = float(thought.vector @ query) if thought.vector is not None else 0.0
        match = (share + similarity) / 2
        if match >= MIN_THOUGHT_MATCH:
            scores[thought.chunk] = max(scores[thought.chunk], match)
    voted = sorted(range(chunk_count), key=lambda i: -scores[i])[:RECALLED_CHUNKS]
    return [score if i in voted else 0.0 for i, score in enumerate(scores)]


def rank(*scores: Sequence[float]) -> list[int]:
    """Chunk indices, best first, by reciprocal-rank fusion of the score lists. A chunk
    scoring 0 or less is not ranked by that list at all (like a document a retriever did
    not return): else a list of mostly zeros, such as the thoughts', would vote for the
    first chunks in document order."""
    fused = [0.0] * len(scores[0])
    for score in scores:
        order = sorted((i for i in range(len(score)) if score[i] > 0), key=lambda i: -score[i])
        for position, index in enumerate(order):
            fused[index] += 1.0 / (RRF_K + position + 1)
    return sorted(range(len(fused)), key=lambda i: (-fused[i], i))
