"""Which files the chat agent may read, and reading them with LongAgent.

`read_document(path, question)` takes its path from the model, and so indirectly from
anything the model has read: a prompt injection could ask for ~/.ssh/id_rsa. Only files
under the document roots (by default `home/documents/`) and files the user attached
(`send(..., documents=...)`) may be read. Paths are resolved (symlinks, `..`) before the
check, so neither a link nor a climb leaves the roots; a refusal is an error message
for the model, never an exception out of the turn.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from longagent.agents.chat_functions import DocumentReading, FunctionError
from longagent.llm import ChatModel


class Documents:
    """The allow-list and the reader behind read_document (see the module docstring)."""

    def __init__(
        self,
        model: ChatModel,
        roots: Iterable[str | Path],
        *,
        reader: Any | None = None,
        excerpt_tokens: int = 160,
    ) -> None:
        self.model = model
        self.roots = [Path(r).expanduser().resolve() for r in roots]
        self.attached: set[Path] = set()
        self._reader = reader
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

    def read(self, path: str, question: str) -> DocumentReading:
        file = self.resolve(path)
        if not file.is_file():
            raise FunctionError(f"there is no file at {path}")
        if self._reader is None:
            from longagent.agents.long_agent import LongAgent

            self._reader = LongAgent(self.model)
        from longagent.chunking import load

        document = load(file)
        answer = self._reader.ask(document, question)
        short = self.model.count_tokens(document.text) <= self.excerpt_tokens
        return DocumentReading(
            path=path,
            question=question,
            answer=answer.text,
            found=answer.found,
            quotes=[c.quote for c in answer.citations],
            document_id=answer.document_id,
            chunk_ids=tuple(c.chunk_id for c in answer.citations),
            excerpt=document.text if short else "",
        )
