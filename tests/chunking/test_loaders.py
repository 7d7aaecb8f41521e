"""Loaders: every format becomes a Document with the right text, headings and pages."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from longagent.chunking import Document, load
from longagent.errors import DocumentError

PROSE = "The quick brown fox jumps over the lazy dog.\n\nA second paragraph follows here.\n"


def test_plain_text_from_path(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(PROSE, encoding="utf-8")
    doc = load(path)
    assert doc.text == PROSE
    assert doc.format == "text"
    assert doc.source == str(path)
    assert doc.id == hashlib.sha256(PROSE.encode()).hexdigest()[:16]
    assert doc.metadata["encoding"] == "utf-8"
    assert load(str(path)) == doc


def test_id_is_a_content_hash_whatever_the_source(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(PROSE.encode())
    ids = {load(path).id, load(PROSE.encode()).id, load(PROSE).id, load(PROSE.encode("utf-16")).id}
    assert len(ids) == 1
    assert load(PROSE + "!").id not in ids


def test_line_ends_are_normalised() -> None:
    doc = load(b"one\r\ntwo\rthree\n", filename="crlf.txt")
    assert doc.text == "one\ntwo\nthree\n"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Il était une fois, dans un petit village au bord de la mer. Garçon, crème brûlée, où, déjà.", "cp1252"),
        ("Zażółć gęślą jaźń. W Szczebrzeszynie chrząszcz brzmi w trzcinie i Szczebrzeszyn z tego słynie.", "cp1250"),
        ("Привет, как дела? Это простой текст на русском языке, чтобы проверить кодировку.", "koi8-r"),
        ("これは日本語のテキストです。文字コードの検出を確認します。東京は日本の首都です。", "shift_jis"),
        ("Grüße aus Köln, mit BOM.", "utf-16"),
        ("Grüße aus Köln, mit BOM.", "utf-8-sig"),
    ],
)  # fmt: skip
def test_encodings_are_detected_not_guessed(text: str, encoding: str) -> None:
    doc = load(text.encode(encoding), filename="legacy.txt")
    assert doc.text == text
    if encoding not in ("utf-16", "utf-8-sig"):
        assert doc.metadata["encoding"] != "utf-8"


MARKDOWN = """---
title: front matter
---
Preface text.

# Guide #

Intro paragraph.

## Install

```bash
# not a heading
pip install thing
```

#hashtag is not a heading either

#

Setext Section
--------------

Body of setext.

### Deep
Deep text.

Top Again
=========
Last words.
"""


def test_markdown_keeps_raw_text_and_finds_headings() -> None:
    doc = load(MARKDOWN, filename="guide.md")
    assert doc.text == MARKDOWN
    assert doc.format == "markdown"
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Guide"),
        (2, "Install"),
        (2, "Setext Section"),
        (3, "Deep"),
        (1, "Top Again"),
    ]
    for heading in doc.headings:
        assert doc.text[heading.start : heading.end].lstrip("# ").startswith(heading.title)
    assert doc.heading_path_at(MARKDOWN.index("Deep text")) == ("Guide", "Setext Section", "Deep")
    assert doc.heading_path_at(MARKDOWN.index("Last words")) == ("Top Again",)
    assert doc.heading_path_at(0) == ()


HTML = """<!doctype html>
<html><head><title>The  Page</title><style>body { color: red }</style>
<script>var tracking = 1;</script></head>
<body>
<header><a href="/">Home</a><nav>Menu One | Menu Two</nav></header>
<nav><ul><li>Sidebar link</li></ul></nav>
<main>
<article><header><h1>Main <em>Title</em></h1></header>
<p>First   paragraph
 with <b>bold</b> words.<br>And a second line.</p>
<h2>Part A</h2><p>Alpha text &amp; more.</p>
<div hidden>hidden text</div><div style="display: none">also hidden</div>
<ul><li>item one</li><li>item two</li></ul>
<table><tr><th>key</th><th>value</th></tr><tr><td>a</td><td>1</td></tr></table>
<h3>Part A.1</h3><pre>code  keeps
  its spaces</pre><!-- a comment -->
<h2>Part B</h2><p>Beta text.</p><aside>Advertisement</aside><script>track()</script>
</article>
</main>
<footer>Copyright footer</footer>
</body></html>"""


def test_html_keeps_main_text_and_headings() -> None:
    doc = load(HTML.encode(), filename="page.html")
    assert doc.format == "html"
    assert doc.metadata["title"] == "The Page"
    for kept in ("Main Title", "First paragraph with bold words.\nAnd a second line.",
                 "Alpha text & more.", "- item one", "key | value", "code  keeps\n  its spaces",
                 "Beta text."):  # fmt: skip
        assert kept in doc.text
    for dropped in ("tracking", "Menu One", "Sidebar", "hidden text", "also hidden",
                    "Advertisement", "track()", "Copyright", "Home", "a comment", "color"):  # fmt: skip
        assert dropped not in doc.text
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Main Title"),
        (2, "Part A"),
        (3, "Part A.1"),
        (2, "Part B"),
    ]
    for heading in doc.headings:
        assert doc.text[heading.start : heading.end] == heading.title
        assert doc.text[heading.end : heading.end + 2] in ("\n\n", "")


def test_html_without_main_uses_the_body() -> None:
    doc = load("<html><body><h1>T</h1>\n<p>Body text.</p></body></html>", filename="x.htm")
    assert doc.text == "T\n\nBody text."


def test_pdf_pages_are_recorded(make_pdf) -> None:
    data = make_pdf([["Page one, line one.", "Line two (with parens)."], ["Page two."], ["Three."]])
    doc = load(data, filename="report.pdf")
    assert doc.format == "pdf"
    assert doc.metadata["page_count"] == 3
    assert [number for number, _ in doc.pages] == [1, 2, 3]
    starts = [start for _, start in doc.pages]
    assert doc.text[starts[0] :].startswith("Page one, line one.\nLine two (with parens).")
    assert doc.text[starts[1] :].startswith("Page two.")
    assert doc.text[starts[2] :] == "Three."
    assert doc.pages_between(starts[1], starts[2] + 1) == (2, 3)


def test_pdf_running_headers_and_footers_stay_only_on_the_first_page(make_pdf) -> None:
    header = "LESS(1)   General Commands Manual   LESS(1)"
    pages = [
        [
            header,
            "COMMANDS",
            "    z     Like SPACE, but N is",
            "          the new window size.",
            "Version 590: 1",
        ],
        [header, "    F     Scroll forward.", "Version 590: 2"],
        [header, "    q     Exits less.", "Version 590: 3"],
    ]
    doc = load(make_pdf(pages), filename="less.pdf")
    assert doc.text.count(header) == 1 and doc.text.startswith(header)
    assert doc.text.count("Version 590") == 1  # page 1's footer: its version is said once
    # The list runs on across the page breaks, its indentation kept.
    assert "    z     Like SPACE" in doc.text
    assert doc.text[doc.pages[1][1] :].startswith("    F     Scroll forward.")
    assert doc.text.endswith("    q     Exits less.")


def test_pdf_repeated_sentences_are_text_not_headers(make_pdf) -> None:
    pages = [[f"Step {p} starts here.", f"Body of page {p}."] for p in (1, 2, 3)]
    doc = load(make_pdf(pages), filename="steps.pdf")
    assert [doc.text.count(f"Step {p} starts here.") for p in (1, 2, 3)] == [1, 1, 1]


def test_pdf_in_two_columns_reads_one_column_after_the_other(make_two_column_pdf) -> None:
    left = [
        "The first column opens the paper and its",
        "sentences run down the page until they",
        "reach the bottom of the first column.",
    ]
    right = [
        "The second column continues the text with",
        "results that a reader wants to quote whole,",
        "without the first column mixed into it.",
    ]
    text = load(make_two_column_pdf(left, right), filename="paper.pdf").text
    assert " ".join(text.split()) == " ".join(left + right)


def test_pdf_encrypted_only_against_editing_opens(make_pdf, make_encrypted_pdf) -> None:
    data = make_encrypted_pdf(make_pdf([["Readable without a password."]]), user_password="")
    assert load(data, filename="locked.pdf").text == "Readable without a password."


def test_pdf_from_a_path(tmp_path: Path, make_pdf) -> None:
    path = tmp_path / "r.PDF"
    path.write_bytes(make_pdf([["Upper-case suffix."]]))
    assert load(path).text == "Upper-case suffix."


def test_docx_paragraphs_tables_and_heading_styles() -> None:
    import docx

    word = docx.Document()
    word.add_heading("Annual Report", level=0)  # the Title style
    word.add_heading("Revenue", level=1)
    word.add_paragraph("Revenue grew by ten percent.")
    table = word.add_table(rows=2, cols=2)
    for r, row in enumerate([("year", "amount"), ("2024", "10")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    word.add_heading("Costs", level=2)
    word.add_paragraph("Costs fell.")
    buffer = io.BytesIO()
    word.save(buffer)
    doc = load(buffer.getvalue(), filename="report.docx")
    assert doc.format == "docx"
    assert doc.text == (
        "Annual Report\n\nRevenue\n\nRevenue grew by ten percent.\n\n"
        "year | amount\n2024 | 10\n\nCosts\n\nCosts fell."
    )
    assert [(h.level, h.title) for h in doc.headings] == [
        (1, "Annual Report"),
        (2, "Revenue"),
        (3, "Costs"),
    ]
    assert doc.heading_path_at(doc.text.index("Costs fell")) == (
        "Annual Report",
        "Revenue",
        "Costs",
    )


def test_str_is_text_or_path_by_the_documented_rule(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("existing.md").write_text("# Title\n\nBody.\n")
    assert load("existing.md").format == "markdown"  # an existing file
    assert load("Just one line of text.").text == "Just one line of text."
    assert load("two\nlines").text == "two\nlines"
    assert load("a" * 2000).text == "a" * 2000  # longer than any path
    with pytest.raises(DocumentError, match=r"missing\.pdf: no such file"):
        load("missing.pdf")  # a supported suffix: a mistyped path, not text
    with pytest.raises(DocumentError, match="no such file"):
        load("some/dir/name")
    md = load("# Heading\n\nText.", filename="inline.md")
    assert md.source == "inline.md" and md.headings[0].title == "Heading"


def test_bytes_are_sniffed_without_a_name(make_pdf) -> None:
    assert load(make_pdf([["Sniffed."]])).format == "pdf"
    assert load(b"<!DOCTYPE html><html><body><p>Hi</p></body></html>").format == "html"
    assert load(b"# Plain\n").format == "text"
    assert load(b"hello").source == "<bytes>"


def test_a_document_passes_through() -> None:
    doc = Document.create("Already loaded.")
    assert load(doc) is doc


def test_repr_does_not_print_megabytes() -> None:
    doc = load("word " * 100_000)
    assert len(repr(doc)) < 200


def test_wrong_type_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        load(42)  # type: ignore[arg-type]


def test_html_table_rows_stay_whole_when_cells_hold_paragraphs(tmp_path: Path) -> None:
    page = tmp_path / "levels.html"
    page.write_text(
        "<html><body><p>The levels:</p><table>"
        "<tr><th>Level</th><th>Value</th></tr>"
        "<tr><td><p>ERROR</p></td><td><p>40</p></td></tr>"
        "<tr><td>WARNING<ul><li>also WARN</li></ul></td><td>30</td></tr>"
        "</table></body></html>"
    )
    lines = load(page).text.splitlines()
    assert "ERROR | 40" in lines and "WARNING also WARN | 30" in lines
