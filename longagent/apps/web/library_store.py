"""The web app's side of a document library (`longagent.memory.library`): opening the
libraries under `<home>/libraries/` (the ones `longagent add` writes, `default` unless
told), keeping uploaded files, the questions asked of each library, and a document's text
for the page that shows a citation.

Uploaded files are kept under `<data dir>/library_files/<sha256 prefix>/<file name>`: the
library stores each document's path (a PDF citation's page is found by reading the file
again), so the file must outlive the upload. The folder is named by the content, so the
same upload again is the same path, which the library skips as unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path, PurePath

from pydantic import BaseModel, Field, TypeAdapter

from longagent.agents.library_qa import document_hits
from longagent.apps.web.security import inside
from longagent.apps.web.storage import QuestionEntry
from longagent.chunking import Document, load
from longagent.config import Settings
from longagent.memory._atomic import write_bytes_atomic, write_text_atomic
from longagent.memory.embedder import Embedder
from longagent.memory.errors import StoreError
from longagent.memory.library import DEFAULT_CHUNK_TOKENS, Library
from longagent.memory.library_types import ChunkHit, LibraryDocument
from longagent.names import is_agent_name

DEFAULT_LIBRARY = "default"  # what `longagent add` adds to without --library
LIBRARY_DOC_ID = re.compile(r"^[0-9a-f]{64}$")  # a library document's id: sha256 of its bytes
KEEP_QUESTIONS = 200  # per library, newest first
KEEP_TEXTS = 4  # documents' texts kept in memory for the citation page


class ReadPassage(BaseModel):
    """A passage a "not found" answer's search read first, in its document."""

    document_id: str
    title: str
    start: int
    end: int
    text: str


class LibraryQuestion(QuestionEntry):
    """A question asked of a library: over all of it (`document_id` empty) or one document.
    `passages`: for a "not found", where the search looked first (the answer's
    `passages_read`, each named by its document)."""

    library: str
    document_id: str = ""
    document_title: str = ""
    passages: list[ReadPassage] = Field(default_factory=list)


class PageStart(BaseModel):
    page: int
    start: int = Field(description="Character offset where the page starts.")


class DocumentText(BaseModel):
    """A library document's text, as citations index it. `exact` False: the file has
    changed or gone since it was added, and the text was rebuilt from the stored chunks
    (the few characters between chunks, whitespace, are shown as blanks)."""

    id: str
    title: str
    path: str
    format: str
    size: int
    chunks: int
    text: str
    exact: bool
    pages: list[PageStart] = Field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        """The page an offset falls on (PDFs); None for unpaged documents."""
        found = [p.page for p in self.pages if p.start <= offset]
        return found[-1] if found else (self.pages[0].page if self.pages else None)


_QUESTIONS = TypeAdapter(list[LibraryQuestion])


def listing_row(doc: LibraryDocument) -> dict[str, object]:
    """What the page and the API show of a document."""
    return {
        "id": doc.id,
        "title": doc.title,
        "path": doc.path,
        "format": doc.format,
        "size": doc.size,
        "chars": doc.chars,
        "chunks": doc.chunk_count,
        "added_at": doc.added_at.isoformat(),
    }


class Libraries:
    """The libraries under `home`, opened once each. Adding calls the model's token
    counter, so adds run on the model thread; listing and reading run anywhere."""

    def __init__(
        self,
        home: Path,
        data_dir: Path,
        *,
        count_tokens: Callable[[str], int],
        embedder: Embedder,
        settings: Settings,
        chunk_tokens: int | None = None,
    ) -> None:
        self.home = Path(home).expanduser()
        self.files = data_dir / "library_files"
        self.logs = data_dir / "library_questions"
        self.count_tokens = count_tokens
        self.embedder = embedder
        self.settings = settings
        self.chunk_tokens = chunk_tokens or settings.chunk_tokens or DEFAULT_CHUNK_TOKENS
        self._open: dict[str, Library] = {}
        self._texts: OrderedDict[tuple[str, str], DocumentText] = OrderedDict()
        self._lock = threading.RLock()

    def names(self) -> list[str]:
        """The libraries that exist, and the default one (which may not yet)."""
        folder = self.home / "libraries"
        found = {DEFAULT_LIBRARY}
        if folder.is_dir():
            found |= {
                p.name for p in folder.iterdir() if is_agent_name(p.name) and self.exists(p.name)
            }
        return sorted(found)

    def exists(self, name: str) -> bool:
        return Library.exists(self.home, name)

    def get(self, name: str, *, create: bool = False) -> Library:
        """Library `name`, opened once. One that does not exist is a StoreError unless
        `create`. Its vectors must come from this server's embedder to add or rank by
        meaning; a library made with another is opened without (full-text ranking)."""
        with self._lock:
            if name in self._open:
                return self._open[name]
            common = {"count_tokens": self.count_tokens, "settings": self.settings}
            if not self.exists(name):
                if not create:
                    Library(self.home, name, create=False)  # raises the clear StoreError
                library = Library(
                    self.home,
                    name,
                    embedder=self.embedder,
                    chunk_tokens=self.chunk_tokens,
                    **common,  # type: ignore[arg-type]
                )
            else:
                library = Library(self.home, name, **common)  # type: ignore[arg-type]
                if library.dim and library.meta.get("embedder") == self.embedder.name:
                    library.embedder = self.embedder
            self._open[name] = library
            return library

    def check_can_add(self, library: Library) -> None:
        if library.dim and library.embedder is None:
            raise StoreError(
                f"the library {library.name!r} holds vectors from "
                f"{library.meta.get('embedder')!r}, but this server embeds with "
                f"{self.embedder.name!r}: add to it with `longagent add --library "
                f"{library.name}`, or upload to another library"
            )

    def documents(self, name: str) -> list[LibraryDocument]:
        """The ready documents of library `name`; none when it does not exist yet."""
        return self.get(name).documents() if self.exists(name) else []

    # -- uploaded files -----------------------------------------------------------------

    def save(self, data: bytes, filename: str) -> Path:
        """Keep an upload as a file (see the module docstring); returns its path."""
        folder = hashlib.sha256(data).hexdigest()[:16]
        path = inside(self.files, folder, _safe_filename(filename))
        if not (path.is_file() and path.read_bytes() == data):
            write_bytes_atomic(path, data)
        return path

    # -- questions ----------------------------------------------------------------------

    def _log(self, name: str) -> Path:
        return inside(self.logs, name, "questions.json")

    def questions(self, name: str) -> list[LibraryQuestion]:
        """Newest first."""
        path = self._log(name)
        return _QUESTIONS.validate_json(path.read_bytes()) if path.is_file() else []

    def add_question(self, name: str, entry: LibraryQuestion) -> None:
        with self._lock:
            entries = [entry, *self.questions(name)][:KEEP_QUESTIONS]
            data = json.dumps(_QUESTIONS.dump_python(entries, mode="json"), ensure_ascii=False)
            write_text_atomic(self._log(name), data)

    # -- a document's text --------------------------------------------------------------

    def text(self, name: str, doc_id: str) -> DocumentText:
        """The text citations of document `doc_id` index into (DocumentError: no such
        document): its file read again when unchanged, else rebuilt from its chunks."""
        library = self.get(name)
        doc = library.find(doc_id)
        key = (name, doc.id)
        with self._lock:
            if key in self._texts:
                self._texts.move_to_end(key)
                return self._texts[key]
        document = _reload(doc, self.settings)
        if document is not None:
            text, exact = document.text, True
            pages = [PageStart(page=p, start=s) for p, s in document.pages]
        else:
            hits = document_hits(library, doc.id)
            text, exact, pages = rebuild(hits, doc.chars), False, _chunk_pages(hits)
        shown = DocumentText(
            id=doc.id,
            title=doc.title,
            path=doc.path,
            format=doc.format,
            size=doc.size,
            chunks=doc.chunk_count,
            text=text,
            exact=exact,
            pages=pages,
        )
        with self._lock:
            self._texts[key] = shown
            while len(self._texts) > KEEP_TEXTS:
                self._texts.popitem(last=False)
        return shown


def _reload(doc: LibraryDocument, settings: Settings) -> Document | None:
    """The document loaded from its file, if the file still holds the bytes that were
    added (its offsets are then the citations'); None otherwise."""
    try:
        data = Path(doc.path).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != doc.id:
        return None
    try:
        return load(data, filename=doc.path, settings=settings)
    except Exception:  # unreadable now: the chunks still rebuild it
        return None


def rebuild(hits: list[ChunkHit], chars: int) -> str:
    """The document's text from its chunks, in order, at their offsets. The characters no
    chunk holds (whitespace between chunks) become blanks, so every offset stays true."""
    parts: list[str] = []
    at = 0
    for hit in hits:
        if hit.start > at:
            gap = hit.start - at
            parts.append("\n\n"[:gap] + " " * max(0, gap - 2))
            at = hit.start
        if hit.end > at:
            parts.append(hit.text[at - hit.start :])
            at = hit.end
    if chars > at:
        parts.append(" " * (chars - at))
    return "".join(parts)


def _chunk_pages(hits: list[ChunkHit]) -> list[PageStart]:
    """Page starts known from the chunks alone: a chunk's start is on its first page (a
    page that begins inside a chunk is not known, and counts as the chunk's first)."""
    starts: dict[int, int] = {}
    for hit in hits:
        if hit.pages:
            starts.setdefault(hit.pages[0], hit.start)
    return [PageStart(page=p, start=s) for p, s in sorted(starts.items())]


def _safe_filename(filename: str) -> str:
    """A file name for the disk: letters, digits, `._- ` only, no leading dot, the
    (already checked) suffix kept."""
    suffix = PurePath(filename).suffix.lower()
    stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", PurePath(filename).stem).strip(". ")[:80]
    return (stem or "document") + suffix
