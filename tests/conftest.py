"""Shared fixtures. The real bundled model loads once per test session."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may reach a model hub
# Prefix KV blocks stay in memory: tests never write them under the user's home
# (tests/llm/test_prefix_cache_disk.py turns the disk tier on, in a temporary folder).
os.environ.setdefault("LONGAGENT_PREFIX_CACHE_DISK_MB", "0")
# Under `pytest -n N` each worker runs real models beside the others: one torch thread
# each, or their OpenMP threads spin-wait against each other on a small machine.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("LONGAGENT_THREADS", "1")


@pytest.fixture(scope="session")
def bundled_model():
    """The real default model (SmolLM2-135M-Instruct on CPU), converted once and cached."""
    from longagent.llm import load_model

    return load_model()


@pytest.fixture(scope="session")
def float32_model():
    """The bundled model in float32, whose greedy rows do not depend on the batch they are
    in: in bfloat16 (the default on CPUs that multiply it natively) a row's rounding can
    differ with the batch's shape. Tests that compare readings batched two ways use it."""
    from longagent.config import Settings
    from longagent.llm import load_model

    return load_model(settings=Settings(dtype="float32"))


def _pdf_string(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF with one Helvetica text line per string, written by hand so
    the tests need no PDF-writing library."""
    return _pdf(" ".join(f"({_pdf_string(line)}) Tj T*" for line in lines) for lines in pages)


def build_two_column_pdf(left: list[str], right: list[str]) -> bytes:
    """One page set in two columns, the left column's lines first in the content (as
    LaTeX writes a paper): a page laid out line by line puts both columns on a line."""
    return _pdf(
        [
            " ".join(
                f"1 0 0 1 {x} {720 - 14 * i} Tm ({_pdf_string(line)}) Tj"
                for x, lines in ((72, left), (320, right))
                for i, line in enumerate(lines)
            )
        ]
    )


def _pdf(page_texts: Iterable[str]) -> bytes:
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for i, shown in enumerate(page_texts):
        page_id, content_id = 4 + 2 * i, 5 + 2 * i
        kids.append(f"{page_id} 0 R")
        content = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET".encode("latin-1")
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode()
        objects[content_id] = (
            f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"
        )
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>".encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode() + objects[number] + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for number in sorted(objects):
        out += f"{offsets[number]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def encrypt_pdf(data: bytes, user_password: str, owner_password: str = "owner") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def make_pdf() -> Callable[[list[list[str]]], bytes]:
    return build_pdf


@pytest.fixture(scope="session")
def make_two_column_pdf() -> Callable[[list[str], list[str]], bytes]:
    return build_two_column_pdf


@pytest.fixture(scope="session")
def make_encrypted_pdf() -> Callable[..., bytes]:
    return encrypt_pdf
