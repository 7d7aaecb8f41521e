"""Hybrid ranking of a document's passages for a question: BM25 (tantivy, in memory)
fused with MiniLM similarity by reciprocal rank.

A question worded unlike its answer ("which file holds my personal client settings?"
against "~/.ssh/config: the per-user configuration file") shares no rare word with it,
so a reading that waits for the question's words reads nothing. Ranked passages give the
small model a few hundred well-chosen tokens instead: BM25 finds the passages that share
the question's terms (stemmed, weighted by rarity), MiniLM the ones that paraphrase it,
and each fails where the other holds. A passage is two sentences (measured for issue #18:
MiniLM put the passage holding the answer first for 18 of 29 people's questions over real
documents, and in the top 5 for 26).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from longagent import text
from longagent.chunking import Chunk
from longagent.memory.embedder import Embedder, MiniLMEmbedder

if TYPE_CHECKING:
    import tantivy

PASSAGE_SENTENCES = 2  # sentences per ranked passage (windows overlap by one sentence)
CONTEXT_SENTENCES = 1  # sentences of context a reader sees on each side of a passage
# A query term in more than this share of the texts (at least MIN_COMMON_TEXTS of them)
# ranks nothing: it is dropped from the BM25 query, unless every term is.
COMMON_SHARE = 0.5
MIN_COMMON_TEXTS = 8
_TERM = re.compile(r"[^\W_]+")  # what a query may hold: tantivy's query syntax stays out


@dataclass(frozen=True)
class Passage:
    """A span of one chunk's text: `start`/`end` are offsets into the chunk."""

    chunk: int
    start: int
    end: int


class Bm25Index:
    """An in-memory tantivy index of `texts` (English stemming), built once and asked many
    questions: BM25 by tantivy, not a hand-written IDF."""

    def __init__(self, texts: Sequence[str]) -> None:
        import tantivy

        self.size = len(texts)
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
        builder.add_integer_field("row", stored=True)
        self.index = tantivy.Index(builder.build())
        writer = self.index.writer(heap_size=15_000_000, num_threads=1)
        for row, body in enumerate(texts):
            writer.add_document(tantivy.Document(row=row, body=body))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def scores(self, query: str) -> list[float]:
        """BM25 score of each text for `query`; 0 for texts without a query term. Only the
        query's words reach tantivy, so its query syntax never sees what a person typed."""
        words = [w for w in text.words(query) if w not in text.STOPWORDS]
        terms = [t for w in words for t in _TERM.findall(w)]
        scores = [0.0] * self.size
        if not terms or not self.size:
            return scores
        searcher = self.index.searcher()
        terms = [t for t in terms if not self._common(searcher, t)] or terms
        query_object = self.index.parse_query(" ".join(terms), ["body"])
        for score, address in searcher.search(query_object, self.size).hits:
            scores[searcher.doc(address)["row"][0]] = float(score)
        return scores

    def _common(self, searcher: tantivy.Searcher, term: str) -> bool:
        """Whether `term` stands in more than COMMON_SHARE of the texts: the document's
        subject (a story's heroine, a man page's command) is in nearly every passage, and
        its BM25 scores rank passages by how often they repeat it, not by what they say."""
        if self.size < MIN_COMMON_TEXTS:
            return False
        hits = searcher.search(self.index.parse_query(term, ["body"]), self.size).hits
        return len(hits) > COMMON_SHARE * self.size


def bm25_scores(query: str, texts: Sequence[str]) -> list[float]:
    """BM25 score of each text for `query`, from a one-off index."""
    return Bm25Index(texts).scores(query)


class PassageIndex:
    """The passages of a document's chunks, embedded once (on the first ranking)."""

    def __init__(self, chunks: Sequence[Chunk], embedder: Embedder | None = None) -> None:
        self.chunks = list(chunks)
        self.embedder = embedder
        self.passages: list[Passage] = []
        self._sentences = {c.index: text.sentences(c.text) for c in self.chunks}
        for chunk in self.chunks:
            spans = self._sentences[chunk.index]
            for i in range(max(1, len(spans) - PASSAGE_SENTENCES + 1)):
                window = spans[i : i + PASSAGE_SENTENCES]
                if window:
                    self.passages.append(Passage(chunk.index, window[0][0], window[-1][1]))

    def text(self, passage: Passage) -> str:
        return self.chunks[passage.chunk].text[passage.start : passage.end]

    def model(self) -> Embedder:
        """The embedder, loaded on first need (ranking, a list's entries)."""
        if self.embedder is None:
            self.embedder = MiniLMEmbedder()
        return self.embedder

    @cached_property
    def vectors(self) -> np.ndarray:
        return self.model().embed([" ".join(self.text(p).split()) for p in self.passages])

    @cached_property
    def bm25(self) -> Bm25Index:
        return Bm25Index([self.text(p) for p in self.passages])

    def scores(self, query: str) -> tuple[list[float], list[float]]:
        """Each passage's BM25 score and its cosine similarity to `query`."""
        lexical = self.bm25.scores(query)
        if not self.passages:
            return lexical, []
        similarity = self.vectors @ self.model().embed([query])[0]
        return lexical, [float(s) for s in similarity]

    def rank(self, query: str) -> list[Passage]:
        """Every passage, likeliest to answer `query` first."""
        return [self.passages[i] for i in text.rrf(*self.scores(query))]

    def chunk_order(self, query: str) -> list[int]:
        """Chunk indices by their best passage's rank; chunks without passages last."""
        order = list(dict.fromkeys(p.chunk for p in self.rank(query)))
        return order + [c.index for c in self.chunks if c.index not in set(order)]

    def centre(self, topic: str = "") -> np.ndarray:
        """Where an overview's passages should lie: the topic's vector, else the mean of
        every passage's (the document's centre)."""
        vectors = self.vectors
        assert self.embedder is not None
        if topic or not len(vectors):
            return self.embedder.embed([topic or " "])[0]
        mean = vectors.mean(axis=0)
        return mean / (float(np.linalg.norm(mean)) or 1.0)

    def central(self, chunk: int, centre: np.ndarray) -> Passage | None:
        """The chunk's prose passage closest to `centre`; None when it has no prose."""
        rows = self._prose(chunk)
        if not rows:
            return None
        return self.passages[max(rows, key=lambda i: float(self.vectors[i] @ centre))]

    def opening(self, within: int) -> Passage | None:
        """The document's first prose passage, among its first `within` passages."""
        rows = [i for i in range(min(within, len(self.passages))) if self._is_prose(i)]
        return self.passages[rows[0]] if rows else None

    def _prose(self, chunk: int) -> list[int]:
        return [i for i, p in enumerate(self.passages) if p.chunk == chunk and self._is_prose(i)]

    def _is_prose(self, row: int) -> bool:
        return text.is_prose(self.text(self.passages[row]))

    def naming(self, names: Sequence[str]) -> list[Passage]:
        """Every sentence that names all of `names` (each a name's words), in document
        order: where a keyed value must stand (a record names its own key)."""
        wanted = [set(text.words(name)) for name in names]
        found: list[Passage] = []
        for chunk in self.chunks:
            for start, end in self._sentences[chunk.index]:
                held = set(text.words(chunk.text[start:end]))
                if wanted and all(w <= held for w in wanted):
                    found.append(Passage(chunk.index, start, end))
        return found

    def context(self, passage: Passage) -> Passage:
        """The passage with CONTEXT_SENTENCES of its chunk's sentences on each side."""
        spans = self._sentences[passage.chunk]
        starts = [i for i, (a, b) in enumerate(spans) if b > passage.start]
        first = max(0, (starts[0] if starts else 0) - CONTEXT_SENTENCES)
        ends = [i for i, (a, b) in enumerate(spans) if a < passage.end]
        last = min(len(spans) - 1, (ends[-1] if ends else 0) + CONTEXT_SENTENCES)
        if not spans:
            return passage
        return Passage(passage.chunk, spans[first][0], spans[last][1])


def readings(index: PassageIndex, query: str, context: bool = True) -> list[Passage]:
    """What readers should see, likeliest first: ranked passages in their context (or
    alone, `context` False). No two overlap: a passage overlapping an earlier reading is
    dropped, and one whose context would is read without it."""
    chosen: list[Passage] = []
    for passage in index.rank(query):
        if _overlaps(passage, chosen):
            continue
        wide = index.context(passage) if context else passage
        chosen.append(passage if _overlaps(wide, chosen) else wide)
    return chosen


def _overlaps(passage: Passage, others: Sequence[Passage]) -> bool:
    return any(
        p.chunk == passage.chunk and p.start < passage.end and passage.start < p.end for p in others
    )
