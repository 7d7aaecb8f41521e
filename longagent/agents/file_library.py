"""`longagent ask FILE` through an implicit library, so a second question about the same
file, in a new process, starts where the first left off.

    files = FileLibrary(settings.home, model, agent.chunk_tokens)
    prepared = files.prepare(document, path)     # the stored split, or split and stored
    answer = agent.ask(prepared, question)
    files.keep(prepared)                         # passage vectors, if a search made them

What is kept is only what the single-document pipeline computes anyway, so the first
question is not slower and every answer is the one a fresh split gives:
- the split (the same chunks, ids and offsets: the document's id is its text's hash);
- the passage vectors, when the passage search ran and embedded them (never up front);
- the thoughts: each grounded answer with its citation, recalled by later questions
  (a matching one decides which chunk is read first, see `thought_first`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from longagent.agents.prepared import PreparedDocument
from longagent.agents.ranking import PassageIndex
from longagent.agents.thoughts import LanceThoughts
from longagent.chunking import Document, split
from longagent.config import Settings
from longagent.llm import ChatModel
from longagent.memory import library_files
from longagent.memory.embedder import Embedder, MiniLMEmbedder
from longagent.memory.library_thoughts import library_thoughts


@dataclass
class Reuse:
    """What `FileLibrary.prepare` found stored for a document."""

    chunks: bool = False  # the split
    vectors: bool = False  # the passage vectors
    thoughts: int = 0  # thoughts kept about it


class FileLibrary:
    """The implicit library of `model`'s tokenizer and `chunk_tokens` under `home`
    (`$LONGAGENT_HOME/libraries/files-KEY`). `embedder` (default MiniLM, loaded on first
    need) embeds passages and thoughts."""

    def __init__(
        self,
        home: Path,
        model: ChatModel,
        chunk_tokens: int,
        *,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.library = library_files.implicit_library(home, model.name, chunk_tokens, settings)
        self.count_tokens = model.count_tokens
        self.chunk_tokens = chunk_tokens
        self.embedder = embedder or MiniLMEmbedder()
        self.thoughts = LanceThoughts(library_thoughts(self.library, self.embedder), self.library)
        self.reuse = Reuse()
        self._stored: dict[str, str] = {}  # document id -> fingerprint of stored vectors

    def prepare(self, document: Document, path: str | Path) -> PreparedDocument:
        """`document` (loaded from `path`) split for the members: its stored chunks and
        passage vectors when this library has them, else split now and stored."""
        chunks = library_files.stored_split(self.library, document.id)
        self.reuse = Reuse(chunks=chunks is not None)
        if chunks is None:
            chunks = split(document, self.count_tokens, self.chunk_tokens)
            if chunks:
                library_files.store_split(self.library, document, str(path), chunks)
        prepared = PreparedDocument(document, chunks, thoughts=self.thoughts)
        index = PassageIndex(chunks, self.embedder)
        print_ = _fingerprint(index)
        vectors = library_files.stored_vectors(
            self.library, document.id, self.embedder.name, print_
        )
        if vectors is not None and len(vectors) == len(index.passages):
            index.vectors = vectors  # the cached property, computed by an earlier process
            self._stored[document.id] = print_
            self.reuse.vectors = True
        prepared.passages = index
        self.reuse.thoughts = self.thoughts.memory.tier.count(document=document.id)
        return prepared

    def keep(self, prepared: PreparedDocument) -> bool:
        """Store the passage vectors a question computed (the search embeds them on first
        need); returns whether it wrote them."""
        index = prepared.passages
        if index is None or "vectors" not in vars(index):
            return False
        print_ = _fingerprint(index)
        if self._stored.get(prepared.document.id) == print_:
            return False
        name = index.embedder.name if index.embedder is not None else self.embedder.name
        library_files.store_vectors(self.library, prepared.document.id, name, print_, index.vectors)
        self._stored[prepared.document.id] = print_
        return True


def _fingerprint(index: PassageIndex) -> str:
    spans = [(index.chunks[p.chunk].id, p.start, p.end) for p in index.passages]
    return library_files.fingerprint(spans)
