"""Splitting: exact offsets on every format, budgets under the real tokenizer, headings,
pages and overlap attached as documented."""

from __future__ import annotations

import io
import pydoc
import textwrap
from collections.abc import Callable
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longagent.chunking import Chunk, Document, chunk_budget, load, split
from longagent.errors import ConfigError
from longagent.llm.fake import ScriptedModel

TokenCounter = Callable[[str], int]


def words(text: str) -> int:
    return len(text.split())


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


COUNTERS: dict[str, TokenCounter] = {"chars": len, "words": words, "bytes": utf8_bytes}
PROPERTY = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(
    doc: Document, chunks: list[Chunk], count: TokenCounter, max_tokens: int, overlap: int
) -> None:
    """The invariants every split must keep."""
    covered = bytearray(len(doc.text))
    for i, chunk in enumerate(chunks):
        assert chunk.index == i
        assert chunk.document_id == doc.id
        assert chunk.id == Chunk.make_id(doc.id, chunk.start, chunk.end)
        assert doc.text[chunk.start : chunk.end] == chunk.text  # offsets are exact
        assert chunk.text and chunk.text == chunk.text.strip()
        assert chunk.token_count == count(chunk.text) <= max_tokens
        assert doc.heading_path_at(chunk.start)[: len(chunk.heading_path)] == chunk.heading_path
        assert chunk.pages == doc.pages_between(chunk.start, chunk.end)
        if i:
            previous = chunks[i - 1]
            assert previous.start <= chunk.start and previous.end < chunk.end
            if not overlap:
                assert previous.end <= chunk.start
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    lost = [c for c, seen in zip(doc.text, covered, strict=True) if not seen and not c.isspace()]
    assert not lost, f"text left out of every chunk: {''.join(lost)[:80]!r}"
    assert len({c.id for c in chunks}) == len(chunks)


# -- property tests: offsets are exact on every format ------------------------------------

ALPHABET = [*"abcdefghijklmnop", "é", "ß", "中", "😀", "e\u0301", *".,!?-'"]
WORD = st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=10).map("".join)
SPACE = st.sampled_from([" ", " ", " ", "  ", "\n", "\t", " \n "])
PARAGRAPH = st.lists(st.tuples(WORD, SPACE), min_size=1, max_size=40).map(
    lambda pairs: "".join(w + s for w, s in pairs).strip() or "x"
)
ASCII_WORD = st.text(
    alphabet=st.sampled_from(list("abcdefghijklmnop.,!?-")), min_size=1, max_size=10
)
ASCII_LINE = st.lists(ASCII_WORD, min_size=1, max_size=12).map(" ".join)
BLOCKS = st.lists(
    st.one_of(st.tuples(st.integers(1, 4), ASCII_LINE), st.tuples(st.just(0), PARAGRAPH)),
    min_size=1,
    max_size=12,
)
BUDGET = st.tuples(st.sampled_from(sorted(COUNTERS)), st.integers(4, 60), st.integers(0, 100))


def render(fmt: str, blocks: list[tuple[int, str]]) -> tuple[bytes, str]:
    """The blocks (level 0 = paragraph, else a heading) as a file of the format."""
    if fmt == "txt":
        return "\n\n".join(text for _, text in blocks).encode("utf-8"), "doc.txt"
    if fmt == "md":
        lines = [("#" * level + " " + text) if level else text for level, text in blocks]
        return "\n\n".join(lines).encode("utf-8"), "doc.md"
    if fmt == "html":
        tags = [
            f"<h{level}>{text}</h{level}>" if level else f"<p>{text}</p>" for level, text in blocks
        ]
        return f"<html><body>{''.join(tags)}</body></html>".encode(), "doc.html"
    if fmt == "docx":
        import docx

        word = docx.Document()
        for level, text in blocks:
            word.add_heading(text, level=level) if level else word.add_paragraph(text)
        buffer = io.BytesIO()
        word.save(buffer)
        return buffer.getvalue(), "doc.docx"
    raise AssertionError(fmt)


@PROPERTY
@given(text=st.text(st.characters(exclude_categories=("Cs",)), max_size=800), budget=BUDGET)
def test_any_text_splits_exactly(text: str, budget: tuple[str, int, int]) -> None:
    name, max_tokens, overlap_percent = budget
    overlap = max_tokens * overlap_percent // 101
    if not text.strip():
        return
    doc = Document.create(text)
    count = COUNTERS[name]
    check(doc, split(doc, count, max_tokens, overlap), count, max_tokens, overlap)


@PROPERTY
@given(fmt=st.sampled_from(["txt", "md", "html", "docx"]), blocks=BLOCKS, budget=BUDGET)
def test_every_format_splits_exactly(
    fmt: str, blocks: list[tuple[int, str]], budget: tuple[str, int, int]
) -> None:
    name, max_tokens, overlap_percent = budget
    overlap = max_tokens * overlap_percent // 101
    data, filename = render(fmt, blocks)
    doc = load(data, filename=filename)
    count = COUNTERS[name]
    check(doc, split(doc, count, max_tokens, overlap), count, max_tokens, overlap)


@PROPERTY
@given(
    pages=st.lists(st.lists(ASCII_LINE, min_size=1, max_size=6), min_size=1, max_size=5),
    budget=BUDGET,
)
def test_pdf_splits_exactly_with_pages(
    make_pdf, pages: list[list[str]], budget: tuple[str, int, int]
) -> None:
    name, max_tokens, overlap_percent = budget
    overlap = max_tokens * overlap_percent // 101
    doc = load(make_pdf(pages), filename="doc.pdf")
    count = COUNTERS[name]
    chunks = split(doc, count, max_tokens, overlap)
    check(doc, chunks, count, max_tokens, overlap)
    assert all(chunk.pages for chunk in chunks)


@PROPERTY
@given(text=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=400),
       max_tokens=st.integers(4, 48), overlap_percent=st.integers(0, 60))  # fmt: skip
def test_real_tokenizer_budget_holds_on_random_text(
    real_count: TokenCounter, text: str, max_tokens: int, overlap_percent: int
) -> None:
    if not text.strip():
        return
    overlap = max_tokens * overlap_percent // 100
    doc = Document.create(text)
    check(doc, split(doc, real_count, max_tokens, overlap), real_count, max_tokens, overlap)


# -- the real tokenizer on real text ------------------------------------------------------

MIXED = """Unicode paragraph: naïve café, Straße, 東京は日本の首都です。 Привет мир! 😀🚀✨
Numbers 3.14159, 2,718 and URLs like https://example.com/path?q=1&r=2 stay intact."""


@pytest.fixture(scope="module")
def prose() -> Document:
    modules = ("json", "textwrap", "string", "fractions", "difflib")
    text = "\n\n".join(pydoc.render_doc(m, renderer=pydoc.plaintext) for m in modules)
    return Document.create(f"{text}\n\n{MIXED}\n\n" * 2, source="pydoc")


@pytest.mark.parametrize(("max_tokens", "overlap"), [(16, 0), (128, 0), (512, 0), (256, 64)])
def test_real_tokenizer_budget_holds(
    real_count: TokenCounter, prose: Document, max_tokens: int, overlap: int
) -> None:
    chunks = split(prose, real_count, max_tokens, overlap)
    check(prose, chunks, real_count, max_tokens, overlap)
    if max_tokens >= 128:  # chunks are filled, not needlessly small
        mean = sum(c.token_count for c in chunks) / len(chunks)
        assert mean > 0.6 * max_tokens


def test_a_character_bigger_than_the_budget(real_count: TokenCounter) -> None:
    doc = Document.create("hello world 😀")  # the emoji alone is 3 tokens
    assert [c.text for c in split(doc, real_count, 3)] == ["hello world", "😀"]
    with pytest.raises(ConfigError, match="too small: the character '😀' at offset 12"):
        split(doc, real_count, 2)


# -- headings, pages, overlap, ids ---------------------------------------------------------


def sentences(n: int, word: str = "word") -> str:
    return " ".join(f"{word}{i} is here." for i in range(n))


def test_headings_are_attached() -> None:
    md = (
        f"# Book\n\nIntro words here.\n\n## Chapter One\n\n{sentences(30)}\n\n"
        f"### Scene\n\n{sentences(30, 'scene')}\n\n## Chapter Two\n\nShort ending.\n"
    )
    doc = load(md, filename="book.md")
    chunks = split(doc, words, 40)
    check(doc, chunks, words, 40, 0)
    paths = {c.heading_path for c in chunks}
    assert paths == {
        ("Book",),
        ("Book", "Chapter One"),
        ("Book", "Chapter One", "Scene"),
        ("Book", "Chapter Two"),
    }
    assert chunks[0].text == "# Book\n\nIntro words here."
    assert chunks[-1].text == "## Chapter Two\n\nShort ending."
    scene = [c for c in chunks if c.heading_path[-1:] == ("Scene",)]
    assert scene[0].text.startswith("### Scene\n\nscene0")  # the heading stays with its text
    assert all("scene" in c.text for c in scene)


def test_small_sections_merge_under_their_common_heading() -> None:
    doc = load(
        "# Guide\n\nIntro.\n\n## Install\n\nRun it.\n\n## Use\n\nCall it.\n", filename="g.md"
    )
    (chunk,) = split(doc, words, 100)
    assert chunk.heading_path == ("Guide",)
    assert chunk.text == doc.text.strip()


def test_a_heading_is_kept_with_the_long_paragraph_under_it() -> None:
    doc = load(f"Preface.\n\n## Title\n\n{sentences(40)}", filename="t.md")
    chunks = split(doc, words, 30)
    check(doc, chunks, words, 30, 0)
    assert chunks[1].text.startswith("## Title\n\nword0 is here.")
    assert chunks[1].heading_path == ("Title",)


def test_html_headings_reach_the_chunks() -> None:
    html = f"<h1>Report</h1><p>{sentences(20)}</p><h2>Findings</h2><p>{sentences(20, 'f')}</p>"
    doc = load(html, filename="r.html")
    chunks = split(doc, words, 40)
    check(doc, chunks, words, 40, 0)
    assert [c.heading_path for c in chunks][-1] == ("Report", "Findings")
    assert chunks[0].heading_path == ("Report",)


def test_pages_are_attached(make_pdf) -> None:
    pages = [[f"Page {p} sentence {i} is here." for i in range(3)] for p in (1, 2, 3)]
    doc = load(make_pdf(pages), filename="p.pdf")  # 15 words a page
    chunks = split(doc, words, 40)
    check(doc, chunks, words, 40, 0)
    assert [c.pages for c in chunks] == [(1, 2), (3,)]  # the first runs over a page break
    small = split(doc, words, 8)
    check(doc, small, words, 8, 0)
    for chunk in small:
        assert chunk.pages == (int(chunk.text.split()[1]),)


def test_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    doc = Document.create(sentences(200))
    chunks = split(doc, words, 50, overlap_tokens=10)
    check(doc, chunks, words, 50, 10)
    assert len(chunks) > 3
    for previous, chunk in pairwise(chunks):
        shared = doc.text[chunk.start : previous.end]
        assert previous.text.endswith(shared)
        assert 0 < words(shared) <= 10


def test_ids_are_stable_and_a_chat_model_counts() -> None:
    doc = Document.create(sentences(100))
    model = ScriptedModel([])
    first, second = split(doc, model, 30), split(doc, words, 30)
    assert [c.id for c in first] == [c.id for c in second]
    assert [c.model_dump() for c in first] == [c.model_dump() for c in second]
    other = Document.create(sentences(100) + " More.")
    assert first[0].id != split(other, words, 30)[0].id


def test_a_document_that_fits_is_one_chunk() -> None:
    text = textwrap.dedent("""
        Line one.

        Line two.
    """)
    (chunk,) = split(Document.create(text), words, 100)
    assert (chunk.start, chunk.end) == (1, len(text) - 1)


# -- the chunk budget ----------------------------------------------------------------------


def test_chunk_budget() -> None:
    assert chunk_budget(8192) == 8192 - 256 - 128 - 256
    assert chunk_budget(ScriptedModel([], context_window=2048), prompt_tokens=500,
                        question_tokens=100, answer_tokens=400) == 1048  # fmt: skip
    assert chunk_budget(1000, prompt_tokens=0, question_tokens=0, answer_tokens=0) == 1000


def test_chunk_budget_refuses_a_bool() -> None:
    # True is an int to Python; it must not pass as a window or reach `.context_window`.
    with pytest.raises(ConfigError, match="window in tokens or a model"):
        chunk_budget(True)
