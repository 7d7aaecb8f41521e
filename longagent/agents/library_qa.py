"""A question over a document library: its best chunks become the members' chunks.

`Library.search` ranks the chunks of every document (BM25 + MiniLM, fused by RRF); the
best `k` become a `PreparedLibrary` whose chunks keep their documents' exact character
offsets, so the normal pipeline (reading, runner, verifier, search fallback) runs over
them unchanged. Its citations are then named back to their documents: id, path, title,
the span in that document and, for a PDF, the page.

The library keeps its own thoughts (`thoughts.lance`, `thought_store`): each grounded
answer with its citation. A later question recalls them, and the chunks of the two that
match it best join the chunks read (after the literal ones), so a reading that starts
with a recalled chunk can start with it (`thought_first`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from longagent.agents.prepared import PreparedDocument
from longagent.agents.question import Question
from longagent.agents.thoughts import LanceThoughts, ThoughtStore
from longagent.agents.types import Answer, Citation
from longagent.chunking import Chunk, Document, load, split
from longagent.memory.embedder import Embedder, MiniLMEmbedder
from longagent.memory.library import Library
from longagent.memory.library_search import document_chunks
from longagent.memory.library_thoughts import chunks_by_id, library_thoughts
from longagent.memory.library_types import CHUNK_COLUMNS, ChunkHit
from longagent.text import mentions_any

RECALLED = (
    2  # chunks of recalled thoughts added to a question's reading (relevance.RECALLED_CHUNKS)
)

TokenCounter = Callable[[str], int]


@dataclass
class PreparedLibrary(PreparedDocument):
    """The chunks found for one question, each with the hit it came from (`sources[i]` for
    `chunks[i]`; a hit larger than the member budget is cut into several chunks)."""

    library: Library | None = None
    sources: list[ChunkHit] = field(default_factory=list)


def library_document_id(library: Library) -> str:
    """What an answer over a library names as its document, and what its thoughts are
    kept under (the library's folder: stable across processes)."""
    return f"library:{library.name}"


def thought_store(library: Library, embedder: Embedder | None = None) -> LanceThoughts:
    """The library's thoughts, embedded with the library's embedder (else `embedder`, else
    MiniLM, loaded on first need)."""
    embedder = library.embedder or embedder or MiniLMEmbedder()
    return LanceThoughts(library_thoughts(library, embedder), library)


def prepare(
    library: Library,
    question: str,
    k: int,
    count_tokens: TokenCounter,
    chunk_tokens: int,
    document: str | None = None,
    thoughts: ThoughtStore | None = None,
) -> PreparedLibrary:
    """The `k` chunks of `library` likeliest to answer `question`, as members' chunks in
    rank order. A chunk over `chunk_tokens` under the model's counter (a library made for
    another tokenizer) is split again, keeping its document's offsets.

    `document` (an id, a unique id prefix or a path) keeps the question to that one
    document: every chunk of it is a member, in document order, as `ask FILE` would read
    it (the reading policy picks among them; `k` does not apply). `thoughts`: the
    library's, recalled for the question (their chunks are read) and kept with the
    prepared chunks for the answer's findings."""
    if document is not None:
        hits = document_hits(library, document)
    else:
        recalled = []
        if thoughts is not None:
            found = thoughts.recall(library_document_id(library), question)
            recalled = chunks_by_id(library, list(dict.fromkeys(t.chunk_id for t in found)))
        hits = find(library, question, k, recalled[:RECALLED])
    chunks: list[Chunk] = []
    sources: list[ChunkHit] = []
    for hit in hits:
        for start, end, tokens in _pieces(hit, count_tokens, chunk_tokens):
            chunks.append(
                Chunk(
                    id=Chunk.make_id(hit.document_id, start, end),
                    document_id=hit.document_id,
                    index=len(chunks),  # the runner addresses members by position
                    start=start,
                    end=end,
                    text=hit.text[start - hit.start : end - hit.start],
                    token_count=tokens,
                    heading_path=tuple(hit.heading_path),
                    pages=tuple(hit.pages),
                )
            )
            sources.append(hit)
    # The members' texts joined stand in for "the document": nothing reads it by offset
    # (citations use each chunk's own offsets), its id keys the thoughts.
    joined = "\n\n".join(c.text for c in chunks)
    stand_in = Document.create(joined, source=f"library:{library.name}").model_copy(
        update={"id": library_document_id(library)}
    )
    return PreparedLibrary(stand_in, chunks, thoughts=thoughts, library=library, sources=sources)


def find(
    library: Library, question: str, k: int, recalled: list[ChunkHit] | None = None
) -> list[ChunkHit]:
    """The `k` chunks to read: first those naming the question's names, numbers and
    quoted keys (by BM25 on those alone), then the hybrid ranking of the whole question.

    The literal leg is the single-document pipeline's fast path, at library scale. Fused
    ranking alone can bury the one chunk that names a rare subject: among 50 documents
    that each say "X was born in the town of Y" of someone else, "In which town was
    Renvello born?" ranked the planted chunk 14th (BM25 puts it first; MiniLM finds every
    birth sentence alike and votes the others up). `recalled`: chunks where earlier
    answers were grounded, read after the literal ones."""
    names = Question.parse(question).entities
    literal: list[ChunkHit] = []
    if names:
        named = library.search(" ".join(sorted(names)), k, vectors=False)
        literal = [h for h in named if mentions_any(h.text, set(names))]
    chosen = {(h.document_id, h.index): h for h in literal + (recalled or [])}
    ranked = [h for h in library.search(question, k) if (h.document_id, h.index) not in chosen]
    return (list(chosen.values()) + ranked)[:k]


def document_hits(library: Library, doc_id: str) -> list[ChunkHit]:
    """Every chunk of document `doc_id` (an id, a unique id prefix or a path), in document
    order (no ranking: `score` 0). DocumentError when the library has no such document."""
    doc = library.find(doc_id)
    rows = document_chunks(library, doc.id)
    fields = [c for c in CHUNK_COLUMNS if c != "id"]
    return [
        ChunkHit(**{c: r[c] for c in fields}, path=doc.path, title=doc.title, score=0.0)
        for r in rows
    ]


def _pieces(hit: ChunkHit, count: TokenCounter, budget: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) in document offsets: the hit whole when it fits the budget."""
    tokens = count(hit.text)
    if tokens <= budget:
        return [(hit.start, hit.end, tokens)]
    parts = split(Document.create(hit.text), count, budget)
    return [(hit.start + p.start, hit.start + p.end, p.token_count) for p in parts]


def cite(answer: Answer, prepared: PreparedLibrary) -> Answer:
    """The answer with every citation (its own and its trace's evidence) naming its
    document; `chunk_index` becomes the chunk's index in that document."""
    by_id = {c.id: (c, hit) for c, hit in zip(prepared.chunks, prepared.sources, strict=True)}
    pages = _PageFinder(prepared.library)

    def named(citation: Citation) -> Citation:
        found = by_id.get(citation.chunk_id)
        if found is None:
            return citation
        _, hit = found
        return citation.model_copy(
            update={
                "chunk_index": hit.index,
                "document_id": hit.document_id,
                "path": hit.path,
                "title": hit.title,
                "page": pages.page(hit, citation.start, citation.end),
            }
        )

    answer.citations = [named(c) for c in answer.citations]
    for round_ in answer.trace:
        for report in round_.reports:
            if report.evidence is not None:
                report.evidence = named(report.evidence)
    return answer


class _PageFinder:
    """The page a span starts on. A chunk on one page says so; for a chunk across pages
    the library keeps no page offsets, so the file is loaded again, when it is still the
    file that was added (same bytes), and asked. Otherwise None: never a guessed page."""

    def __init__(self, library: Library | None) -> None:
        self.library = library
        self._documents: dict[str, Document | None] = {}

    def page(self, hit: ChunkHit, start: int, end: int) -> int | None:
        if len(hit.pages) <= 1:
            return hit.pages[0] if hit.pages else None
        document = self._document(hit)
        if document is None:
            return None
        found = document.pages_between(start, end)
        return found[0] if found else None

    def _document(self, hit: ChunkHit) -> Document | None:
        if hit.document_id not in self._documents:
            self._documents[hit.document_id] = None
            try:
                data = Path(hit.path).read_bytes()
            except OSError:
                return None
            if hashlib.sha256(data).hexdigest() != hit.document_id:
                return None  # changed since it was added: its offsets are not these
            settings = self.library.settings if self.library is not None else None
            try:
                self._documents[hit.document_id] = load(data, filename=hit.path, settings=settings)
            except Exception:  # unreadable now: the citation keeps no page
                return None
        return self._documents[hit.document_id]
