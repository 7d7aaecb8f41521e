"""Every user mistake is a DocumentError naming the file and the problem, never a traceback
from deep inside a parser."""

from __future__ import annotations

import io
import os
import random
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from longagent.chunking import Document, chunk_budget, load, split
from longagent.config import Settings
from longagent.errors import ConfigError, DocumentError
from longagent.llm.fake import ScriptedModel


def _noise(size: int, *, nul: bool, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(size * 2))
    return data[:size] if nul else data.replace(b"\x00", b"")[:size]


def _zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "content")
    return buffer.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


CASES: dict[str, tuple[str, Callable[..., bytes], str]] = {
    # case: (file name, content builder given the pdf builders, expected message part)
    "empty file": ("empty.txt", lambda pdf, enc: b"", "empty"),
    "only whitespace": ("blank.md", lambda pdf, enc: b"  \n\n\t\n", "empty"),
    "html without text": (
        "scripts.html",
        lambda pdf, enc: b"<html><script>only()</script><nav>menu</nav></html>",
        "no text content",
    ),
    "binary with NULs": ("data.txt", lambda pdf, enc: _noise(4000, nul=True), "binary"),
    "binary without NULs": ("data.md", lambda pdf, enc: _noise(4000, nul=False), "binary"),
    "control characters": (
        "ctrl.txt",
        lambda pdf, enc: b"ab\x01\x02\x03\x04\x05\x06" * 50,
        "binary",
    ),
    "unsupported suffix": (
        "table.xyz",
        lambda pdf, enc: b"plain words",
        "unsupported file type '.xyz'",
    ),
    "encrypted pdf": (
        "secret.pdf",
        lambda pdf, enc: enc(pdf([["Top secret."]]), user_password="hunter2"),
        "encrypted",
    ),
    "truncated pdf": ("cut.pdf", lambda pdf, enc: pdf([["Some text."]])[:300], "corrupt"),
    "garbage pdf": ("junk.pdf", lambda pdf, enc: b"%PDF-1.7\n" + _noise(2000, nul=True), "corrupt"),
    "pdf without text": ("scan.pdf", lambda pdf, enc: pdf([[]]), "no extractable text"),
    "corrupt docx": ("broken.docx", lambda pdf, enc: _noise(3000, nul=True), "corrupt"),
    "zip that is not word": ("other.docx", lambda pdf, enc: _zip(["hello.txt"]), "corrupt"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_reported_with_its_name(
    case: str, tmp_path: Path, make_pdf, make_encrypted_pdf
) -> None:
    name, build, message = CASES[case]
    path = _write(tmp_path, name, build(make_pdf, make_encrypted_pdf))
    with pytest.raises(DocumentError, match=message) as caught:
        load(path)
    assert str(caught.value).startswith(str(path))


@pytest.mark.parametrize("case", [c for c in CASES if c != "unsupported suffix"])
def test_bad_bytes_are_reported_with_their_name(case: str, make_pdf, make_encrypted_pdf) -> None:
    name, build, message = CASES[case]
    with pytest.raises(DocumentError, match=message) as caught:
        load(build(make_pdf, make_encrypted_pdf), filename=name)
    assert str(caught.value).startswith(name)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    for source in (missing, str(missing)):
        with pytest.raises(DocumentError, match=r"nowhere\.txt: no such file"):
            load(source)


def test_a_directory_is_not_a_document(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="is a directory"):
        load(tmp_path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "locked.txt", b"text")
    if os.geteuid() == 0:  # chmod would not stop root, so refuse here
        real_open = os.open

        def refuse(file: object, flags: int, *args: object) -> int:
            if str(file) == str(path):
                raise PermissionError(13, "Permission denied")
            return real_open(file, flags, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "open", refuse)
    else:
        path.chmod(0)
    with pytest.raises(DocumentError, match=r"locked\.txt: cannot be read \(Permission denied\)"):
        load(path)


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    small = Settings(max_document_bytes=100)
    path = _write(tmp_path, "big.txt", b"word " * 100)
    with pytest.raises(DocumentError, match=r"big\.txt: too large \(500 bytes; the limit is 100"):
        load(path, settings=small)
    with pytest.raises(DocumentError, match="too large"):
        load(b"word " * 100, filename="big.md", settings=small)
    with pytest.raises(DocumentError, match=r"<text>: too large"):
        load("word\n" * 100, settings=small)
    assert load(path, settings=Settings(max_document_bytes=500)).text.startswith("word")


def test_text_string_with_a_binary_format_name() -> None:
    with pytest.raises(DocumentError, match=r"x\.pdf: file type '\.pdf' is binary"):
        load("some\ntext", filename="x.pdf")
    with pytest.raises(DocumentError, match="not supported"):
        load("some\ntext", filename="x.xyz")


def test_empty_string() -> None:
    for text in ("", "   ", "\n\n"):
        with pytest.raises(DocumentError, match="<text>: the document is empty"):
            load(text)


def test_bad_budgets_are_config_errors() -> None:
    doc = Document.create("Some words to split.")
    count = len
    with pytest.raises(ConfigError, match="max_tokens must be a positive integer"):
        split(doc, count, 0)
    with pytest.raises(ConfigError, match="overlap_tokens"):
        split(doc, count, 10, overlap_tokens=10)
    with pytest.raises(ConfigError, match="overlap_tokens"):
        split(doc, count, 10, overlap_tokens=-1)
    with pytest.raises(ConfigError, match="no room left for a chunk"):
        chunk_budget(ScriptedModel([], context_window=512))
    with pytest.raises(ConfigError, match="answer_tokens must be >= 0"):
        chunk_budget(4096, answer_tokens=-5)


def test_a_device_is_read_only_up_to_the_limit() -> None:
    start = time.monotonic()
    with pytest.raises(DocumentError, match=r"/dev/zero: too large \(more than 1,000,000 bytes"):
        load("/dev/zero", settings=Settings(max_document_bytes=1_000_000))
    assert time.monotonic() - start < 5
    with pytest.raises(DocumentError, match="nothing to read"):
        load("/dev/null")


def test_a_fifo_with_no_writer_is_refused_not_waited_on_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(DocumentError, match="nothing to read"):
        load(fifo)
    assert time.monotonic() - start < 10


def test_a_fifo_whose_writer_comes_late_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)

    def write() -> None:
        time.sleep(0.5)
        with open(fifo, "w") as out:
            out.write("# Title\n\nThe founder was Ada.\n")

    writer = threading.Thread(target=write)
    writer.start()
    document = load(fifo)
    writer.join()
    assert document.format == "markdown" and "Ada" in document.text


def test_an_endless_fifo_is_refused_at_the_limit(tmp_path: Path) -> None:
    fifo = tmp_path / "endless"
    os.mkfifo(fifo)
    stop = threading.Event()

    def write() -> None:
        try:
            with open(fifo, "wb") as out:
                while not stop.is_set():
                    out.write(b"word " * 10000)
        except BrokenPipeError:  # the reader refused and closed its end
            return

    threading.Thread(target=write, daemon=True).start()
    try:
        with pytest.raises(DocumentError, match=r"too large \(more than 2,000,000 bytes"):
            load(fifo, settings=Settings(max_document_bytes=2_000_000))
    finally:
        stop.set()
