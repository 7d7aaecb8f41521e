"""The main text of an HTML page, with its headings as lines (so heading paths work).

Scripts, styles, navigation, page headers and footers, asides and hidden elements are
dropped; the `<main>` element (or the single `<article>`) is preferred when there is one.
Blocks become paragraphs separated by blank lines, which is what the splitter prefers
to cut at; inline whitespace is collapsed the way a browser renders it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from longagent.chunking.document import Heading

if TYPE_CHECKING:  # bs4 is imported when a page is parsed: it costs ~0.1 s at startup
    from bs4 import BeautifulSoup, NavigableString, Tag

_DROP_TAGS = [
    "script", "style", "noscript", "template", "nav", "aside", "iframe", "svg",
    "canvas", "object", "embed", "button", "select", "textarea", "dialog", "head",
]  # fmt: skip
_DROP_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu"}
_BLOCK_TAGS = {
    "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "div",
    "dl", "dt", "fieldset", "figcaption", "figure", "footer", "header", "hr", "html", "legend",
    "li", "main", "ol", "p", "section", "summary", "table", "tbody", "tfoot", "thead", "tr",
    "ul",
}  # fmt: skip
_HEADING = re.compile(r"^h([1-6])$")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


@dataclass
class HtmlText:
    text: str
    headings: list[Heading]
    title: str | None


@dataclass
class _Builder:
    """Accumulates paragraphs; `pos` is where the next paragraph will start in the text."""

    blocks: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    inline: list[str] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    prefix: str = ""  # a list bullet waiting for the item's first line
    pos: int = 0

    def emit(self, paragraph: str) -> int:
        if self.blocks:
            self.pos += 2  # the "\n\n" separator
        start = self.pos
        self.blocks.append(paragraph)
        self.pos += len(paragraph)
        return start

    def end_line(self) -> None:
        line = " ".join("".join(self.inline).split())
        self.inline.clear()
        if line:
            self.lines.append(self.prefix + line)
            self.prefix = ""

    def end_block(self) -> None:
        self.end_line()
        if self.lines:
            self.emit("\n".join(self.lines))
            self.lines.clear()

    def heading(self, level: int, title: str) -> None:
        self.end_block()
        if title:
            start = self.emit(title)
            self.headings.append(Heading(level=level, title=title, start=start, end=self.pos))


def _is_hidden(tag: Tag) -> bool:
    return (
        tag.has_attr("hidden")
        or tag.get("aria-hidden") == "true"
        or bool(_HIDDEN_STYLE.search(str(tag.get("style") or "")))
    )


def _inside_content(tag: Tag) -> bool:
    return tag.find_parent(["article", "main"]) is not None


def _prune(soup: BeautifulSoup) -> None:
    """Remove everything that is not main text, before walking the tree."""
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    doomed = [
        tag
        for tag in soup.find_all(True)
        if _is_hidden(tag)
        or str(tag.get("role") or "").lower() in _DROP_ROLES
        # A page-level header/footer is chrome; one inside an article holds its title.
        or (tag.name in ("header", "footer") and not _inside_content(tag))
    ]
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()


def _root(soup: BeautifulSoup) -> Tag:
    from bs4 import Tag

    main = soup.find("main") or soup.find(role="main")
    if isinstance(main, Tag):
        return main
    articles = soup.find_all("article")
    if len(articles) == 1:
        return articles[0]
    return soup.body or soup


def extract_html(markup: str) -> HtmlText:
    """Main text and headings of an HTML document."""
    from bs4 import BeautifulSoup, CData, NavigableString, Tag

    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag else None
    _prune(soup)
    out = _Builder()
    # An explicit stack instead of recursion: real pages nest deeper than Python's limit.
    stack: list[tuple[Tag | NavigableString, bool]] = [(_root(soup), False)]
    cells = 0  # open table cells: a paragraph inside a cell must not break its row
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            # Comments, doctypes and the like are NavigableString subclasses: skip them.
            if type(node) in (NavigableString, CData):
                out.inline.append(str(node))
            continue
        name = node.name
        if leaving:
            cells -= name in ("td", "th")
            if name in _BLOCK_TAGS and not cells:
                out.end_block()
            elif cells:
                out.inline.append(" ")
            continue
        if level := _HEADING.match(name):
            out.heading(int(level.group(1)), " ".join(node.get_text().split()))
        elif name == "pre":
            out.end_block()
            if code := node.get_text().strip("\n"):
                out.emit(code)
        elif name == "br":
            out.end_line()
        else:
            if name in _BLOCK_TAGS:
                if cells:
                    out.inline.append(" ")
                else:
                    out.end_block()
            if name in ("td", "th"):
                if node.find_previous_sibling(["td", "th"]) is not None:
                    out.inline.append(" | ")
                cells += 1
            if name == "li" and not cells:
                out.prefix = "- "
            stack.append((node, True))
            # Every child is a Tag or a NavigableString; the check narrows PageElement.
            stack.extend(
                (child, False)
                for child in reversed(node.contents)
                if isinstance(child, Tag | NavigableString)
            )
    out.end_block()
    return HtmlText(text="\n\n".join(out.blocks), headings=out.headings, title=title)
