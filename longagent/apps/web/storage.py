"""Documents and their questions on disk, under `<data dir>/documents/<document id>/`:
info.json (name, format, size), document.json (the loaded `Document`), text.txt (its text,
so a chat agent can read it as a file) and questions.json (every question asked of it,
with the answer and its trace). Ids are checked against a strict pattern before any path
is built, and every path is checked to stay inside the data directory. Files are written
with the project's atomic writer (fsync, rename, fsync of the folder): a crash leaves the
old file or the new one, never a torn or empty one."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field, TypeAdapter

from longagent.agents.types import Answer
from longagent.apps.web.security import DOC_ID, check_id, inside
from longagent.chunking import Document
from longagent.memory._atomic import write_text_atomic


def now() -> datetime:
    return datetime.now(UTC)


class DocumentInfo(BaseModel):
    id: str
    name: str
    format: str
    chars: int
    uploaded_at: datetime = Field(default_factory=now)


class QuestionEntry(BaseModel):
    """One question asked of a document: the answer (with trace), or why it failed."""

    id: str
    question: str
    asked_at: datetime = Field(default_factory=now)
    answer: Answer | None = None
    error: str | None = None


_ENTRIES = TypeAdapter(list[QuestionEntry])


class DocumentStore:
    """Documents stored by content id: uploading the same text twice keeps one copy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def folder(self, doc_id: str) -> Path:
        if not check_id(doc_id, DOC_ID):
            raise KeyError(doc_id)
        return inside(self.root, doc_id)

    def add(self, document: Document, name: str) -> DocumentInfo:
        folder = self.folder(document.id)
        with self._lock:
            if (folder / "info.json").exists():
                return self.info(document.id)
            folder.mkdir(exist_ok=True)
            info = DocumentInfo(
                id=document.id, name=name, format=document.format, chars=len(document.text)
            )
            write_text_atomic(folder / "document.json", document.model_dump_json())
            write_text_atomic(folder / "text.txt", document.text)
            write_text_atomic(
                folder / "info.json", info.model_dump_json()
            )  # last: marks it complete
            return info

    def info(self, doc_id: str) -> DocumentInfo:
        path = self.folder(doc_id) / "info.json"
        if not path.is_file():
            raise KeyError(doc_id)
        return DocumentInfo.model_validate_json(path.read_text(encoding="utf-8"))

    def document(self, doc_id: str) -> Document:
        path = self.folder(doc_id) / "document.json"
        return Document.model_validate_json(path.read_text(encoding="utf-8"))

    def text_path(self, doc_id: str) -> Path:
        return self.folder(doc_id) / "text.txt"

    def listing(self) -> list[DocumentInfo]:
        infos = []
        for folder in self.root.iterdir():
            if check_id(folder.name, DOC_ID) and (folder / "info.json").is_file():
                infos.append(self.info(folder.name))
        return sorted(infos, key=lambda i: i.uploaded_at, reverse=True)

    def questions(self, doc_id: str) -> list[QuestionEntry]:
        """Newest first."""
        path = self.folder(doc_id) / "questions.json"
        if not path.is_file():
            return []
        return _ENTRIES.validate_json(path.read_bytes())

    def add_question(self, doc_id: str, entry: QuestionEntry) -> None:
        with self._lock:
            entries = [entry, *self.questions(doc_id)]
            data = json.dumps(_ENTRIES.dump_python(entries, mode="json"), ensure_ascii=False)
            write_text_atomic(self.folder(doc_id) / "questions.json", data)
