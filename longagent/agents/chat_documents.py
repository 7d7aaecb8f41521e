"""Which files the chat agent may read, and reading them with LongAgent.

`read_document(path, question)` takes its path from the model, and so indirectly from
anything the model has read: a prompt injection could ask for ~/.ssh/id_rsa. Only files
under the document roots (by default `home/documents/`) and files the user attached
(`send(..., documents=...)`) may be read. Paths are resolved (symlinks, `..`) before the
check, so neither a link nor a climb leaves the roots; a refusal is an error message
for the model, never an exception out of the turn.

A document is read through a library (`home/libraries/chat`, LanceDB): the first read
adds it (loaded, split, embedded and indexed once), later reads of the unchanged file
find it there (a hash of its bytes, no re-splitting), and a changed file is re-indexed.
The question is then asked of that one document of the library.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from longagent.agents.chat_functions import DocumentReading, FunctionError
from longagent.agents.library_qa import document_hits
from longagent.errors import LongAgentError
from longagent.llm import ChatModel
from longagent.memory.embedder import Embedder
from longagent.memory.library import DEFAULT_CHUNK_TOKENS, Library

LIBRARY = "chat"  # the library read_document adds to, under the agents' home


class Documents:
    """The allow-list and the reader behind read_document (see the module docstring)."""

    def __init__(
        self,
        model: ChatModel,
        roots: Iterable[str | Path],
        *,
        home: Path,
        embedder: Embedder,
        reader: Any | None = None,
        excerpt_tokens: int = 160,
    ) -> None:
        self.model = model
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.attached: set[Path] = set()
        self.home = home
        self.embedder = embedder
        self._reader = reader
        self._library: Library | None = None
        self.excerpt_tokens = excerpt_tokens

    def attach(self, path: str | Path) -> str:
        """Allow a file the user handed over; returns its resolved path."""
        file = Path(path).expanduser().resolve()
        self.attached.add(file)
        return str(file)

    def allowed(self, file: Path) -> bool:
        return file in self.attached or any(file.is_relative_to(r) for r in self.roots)

    def resolve(self, path: str) -> Path:
        """The file `path` names, if it may be read; a relative path is looked up in the
        working directory, then in each root."""
        given = Path(path.strip()).expanduser()
        bases = [Path.cwd()] if given.is_absolute() else [Path.cwd(), *self.roots]
        for base in bases:
            file = (base / given).resolve()
            if self.allowed(file):
                return file
        roots = ", ".join(str(r) for r in self.roots) or "none"
        raise FunctionError(
            f"{path} may not be read: only files the user attached and files under the "
            f"document folders ({roots}) can be read"
        )

    def reader(self) -> Any:
        if self._reader is None:
            from longagent.agents.long_agent import LongAgent

            self._reader = LongAgent(self.model)
        return self._reader

    def library(self) -> Library:
        """The library documents are read through, opened on the first read (chunks the
        size of the reader's, when it says)."""
        if self._library is None:
            self._library = Library(
                self.home,
                LIBRARY,
                embedder=self.embedder,
                count_tokens=self.model.count_tokens,
                chunk_tokens=getattr(self.reader(), "chunk_tokens", DEFAULT_CHUNK_TOKENS),
            )
        return self._library

    def read(self, path: str, question: str) -> DocumentReading:
        file = self.resolve(path)
        if not file.is_file():
            raise FunctionError(f"there is no file at {path}")
        try:
            library = self.library()
            report = library.add([file])  # a no-op for a file already there, unchanged
        except LongAgentError as exc:
            raise FunctionError(f"{path} cannot be read: {exc}") from None
        result = report.files[0] if report.files else None
        if result is None or result.document_id is None or result.outcome in ("failed", "skipped"):
            raise FunctionError(result.reason if result else f"{path} cannot be read")
        answer = self.reader().ask(library, question, document=result.document_id)
        hits = document_hits(library, result.document_id)
        short = sum(h.token_count for h in hits) <= self.excerpt_tokens
        return DocumentReading(
            path=path,
            question=question,
            answer=answer.text,
            found=answer.found,
            quotes=[c.quote for c in answer.citations],
            document_id=result.document_id,
            chunk_ids=tuple(c.chunk_id for c in answer.citations),
            excerpt="\n\n".join(h.text for h in hits) if short else "",
        )
