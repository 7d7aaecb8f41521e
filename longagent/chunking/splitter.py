"""Token-aware splitting with exact character offsets, and the chunk budget of a model.

`split` cuts a document at headings first: the text is divided into sections at heading
lines, adjacent small sections are merged while they fit, and a section that is too big
is split by semchunk, which prefers paragraph breaks, then line breaks, then sentence
ends, then other punctuation and spaces. Every chunk is then counted with the real
counter, and any that is over budget (token counts are not additive, and a lone
character can take several tokens) is cut again until it fits, so the budget holds by
construction, not by hope.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING, cast

import semchunk

from longagent.chunking.document import Chunk, Document
from longagent.errors import ConfigError

if TYPE_CHECKING:  # only the protocol's shape is used: chunking does not depend on llm
    from longagent.llm.base import ChatModel

TokenCounter = Callable[[str], int]

# Room a member needs besides its chunk (instructions, question, answer with a quote).
DEFAULT_PROMPT_TOKENS = 256
DEFAULT_QUESTION_TOKENS = 128
DEFAULT_ANSWER_TOKENS = 256

_WORD_START = re.compile(r"(?<!\S)\S")
_LAST_SPACE = re.compile(r".*\s", re.DOTALL)


def chunk_budget(
    model_or_window: ChatModel | int,
    *,
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS,
    question_tokens: int = DEFAULT_QUESTION_TOKENS,
    answer_tokens: int = DEFAULT_ANSWER_TOKENS,
) -> int:
    """Most tokens a chunk may take: the model's window minus the prompt, question and
    answer room a member needs. Raises ConfigError when nothing would be left."""
    if isinstance(model_or_window, bool):  # an int to Python, but neither a window nor a model
        raise ConfigError(f"expected a window in tokens or a model, got {model_or_window!r}")
    if isinstance(model_or_window, int):
        window, what = model_or_window, "a window"
    else:
        window = model_or_window.context_window
        what = f"the window of {getattr(model_or_window, 'name', 'the model')}"
    reserved = {"prompt": prompt_tokens, "question": question_tokens, "answer": answer_tokens}
    for part, tokens in reserved.items():
        if tokens < 0:
            raise ConfigError(f"{part}_tokens must be >= 0, got {tokens}")
    budget = window - sum(reserved.values())
    if budget <= 0:
        room = ", ".join(f"{part} {tokens}" for part, tokens in reserved.items())
        raise ConfigError(
            f"no room left for a chunk: {what} is {window} tokens and a member needs "
            f"{sum(reserved.values())} for the rest ({room}); use a model with a larger "
            "window, extend its context, or reserve less"
        )
    return budget


@dataclass
class _Section:
    start: int
    end: int
    path: tuple[str, ...]
    heading_end: int = 0  # end of the heading line the section opens with, if any


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without leading and trailing whitespace (empty when it is all space)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _sections(document: Document) -> list[_Section]:
    """The text cut at every heading line, each piece with the heading path it sits under."""
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []  # (level, title)
    path: tuple[str, ...] = ()
    start, heading_end = 0, 0
    for heading in sorted(document.headings, key=lambda h: h.start):
        if heading.start > start:
            sections.append(_Section(start, heading.start, path, heading_end))
        while stack and stack[-1][0] >= heading.level:
            stack.pop()
        stack.append((heading.level, heading.title))
        start, path = max(start, heading.start), tuple(title for _, title in stack)
        heading_end = heading.end
    sections.append(_Section(start, len(document.text), path, heading_end))
    return sections


class _Splitter:
    """State for one `split` call: the text, the budget and memoized counters."""

    def __init__(self, text: str, count: TokenCounter, max_tokens: int, overlap: int) -> None:
        self.text = text
        self.max_tokens = max_tokens
        self.overlap = overlap
        # Local, bounded memo (semchunk's own memo is a process-wide, unbounded dict).
        self.exact: TokenCounter = lru_cache(maxsize=4096)(count)

    def counter(self, size: int) -> TokenCounter:
        """A counter for semchunk that answers "over `size`" for a long text from a prefix,
        so megabyte-long pieces are never tokenized whole just to learn they are too big."""
        cap = size * 10 + 100  # far more characters than `size` tokens of prose take
        exact = self.exact

        def count(text: str) -> int:
            if len(text) == 1:
                # semchunk recurses forever on a character it cannot fit; let it pass
                # one through, and the final check deals with it.
                return min(exact(text), size)
            if len(text) > cap and exact(text[:cap]) > size:
                return size + 1
            return exact(text)

        return count

    def fits(self, start: int, end: int) -> bool:
        return self.counter(self.max_tokens)(self.text[start:end]) <= self.max_tokens

    def groups(self, sections: Sequence[_Section]) -> list[_Section]:
        """Adjacent sections merged while the merged text still fits the budget."""
        groups: list[_Section] = []
        for section in sections:
            if not self.text[section.start : section.end].strip():
                continue
            last = groups[-1] if groups else None
            if last is not None and self.fits(last.start, section.end):
                path = _common_prefix(last.path, section.path)
                groups[-1] = _Section(last.start, section.end, path, last.heading_end)
            else:
                groups.append(section)
        return groups

    def semchunk_spans(self, start: int, end: int, size: int) -> list[tuple[int, int]]:
        chunker = semchunk.chunkerify(self.counter(size), size, memoize=False)
        # semchunk types its result as the union of all its call forms; one text with
        # offsets=True always gives (chunks, offsets).
        _, offsets = cast(
            "tuple[list[str], list[tuple[int, int]]]",
            chunker(self.text[start:end], offsets=True),
        )
        spans = (_strip(self.text, start + a, start + b) for a, b in offsets)
        return [(a, b) for a, b in spans if a < b]

    def extend_back(self, floor: int, start: int, end: int) -> int:
        """An earlier start for the chunk [start, end): as far back (to a word start, not
        before `floor`) as `overlap` tokens of the text before it, within the budget."""
        lookback = max(floor, start - self.overlap * 16 - 16)
        candidates = [m.start() for m in _WORD_START.finditer(self.text, lookback, start)]
        best, lo, hi = start, 0, len(candidates) - 1
        while lo <= hi:  # token counts shrink as the start moves right, so bisect
            mid = (lo + hi) // 2
            c = candidates[mid]
            if (
                self.exact(self.text[c:start]) <= self.overlap
                and self.exact(self.text[c:end]) <= self.max_tokens
            ):
                best, hi = c, mid - 1
            else:
                lo = mid + 1
        return best

    def glue_heading(
        self, spans: list[tuple[int, int]], end: int, size: int
    ) -> list[tuple[int, int]]:
        """Keep a heading with the text under it. semchunk leaves a heading alone when the
        paragraph after it is too big to join it; split that text with the heading's
        tokens held back instead, and start the first piece at the heading."""
        (head_start, head_end), body_start = spans[0], spans[1][0]
        head = self.exact(self.text[head_start:head_end]) + 1  # +1 for the line break
        if head > size // 2:
            return spans
        body = self.semchunk_spans(body_start, end, size - head)
        if not body or self.exact(self.text[head_start : body[0][1]]) > size:
            return spans
        return [(head_start, body[0][1]), *body[1:]]

    def merge_small(self, spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
        """Join neighbours that fit together: semchunk never merges the tail of a split
        paragraph with the next paragraph, which leaves needlessly small chunks."""
        if len(spans) < 2:
            return spans
        out = [spans[0]]
        tokens = self.exact(self.text[spans[0][0] : spans[0][1]])
        for s, e in spans[1:]:
            n = self.exact(self.text[s:e])
            # Token counts are nearly additive: only count the join when it may fit.
            if tokens + n <= size + 2:
                joined = self.exact(self.text[out[-1][0] : e])
                if joined <= size:
                    out[-1], tokens = (out[-1][0], e), joined
                    continue
            out.append((s, e))
            tokens = n
        return out

    def section_spans(self, section: _Section) -> list[tuple[int, int]]:
        start, end = _strip(self.text, section.start, section.end)
        if self.fits(start, end):
            return [(start, end)]
        size = self.max_tokens - self.overlap
        spans = self.semchunk_spans(start, end, size)
        if len(spans) > 1 and spans[0][1] <= section.heading_end:
            spans = self.glue_heading(spans, end, size)
        spans = self.merge_small(spans, size)
        if not self.overlap:
            return spans
        out = spans[:1]
        for (prev_start, _), (s, e) in pairwise(spans):
            out.append((self.extend_back(prev_start, s, e), e))
        return out

    def hard_split(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """Cut [start, end) into the longest prefixes that fit, at a space where possible:
        the fallback for what semchunk could not bring under budget. Returns counted spans."""
        text, out = self.text, []
        start, end = _strip(text, start, end)
        while start < end:
            lo, hi, best = start + 1, end, 0
            while lo <= hi:
                mid = (lo + hi) // 2
                if self.exact(text[start:mid]) <= self.max_tokens:
                    best, lo = mid, mid + 1
                else:
                    hi = mid - 1
            if not best:
                raise ConfigError(
                    f"max_tokens={self.max_tokens} is too small: the character "
                    f"{text[start]!r} at offset {start} alone takes {self.exact(text[start])} tokens"
                )
            cut = best
            if best < end and (space := _LAST_SPACE.match(text, start + 1, best)):
                cut = space.end()
            s, e = _strip(text, start, cut)
            if s == e or (n := self.exact(text[s:e])) > self.max_tokens:
                # The space cut or the stripping did not fit after all: take what was counted.
                cut, s, e = best, start, best
                n = self.exact(text[s:e])
            out.append((s, e, n))
            start, end = _strip(text, cut, end)
        return out


def split(
    document: Document,
    count_tokens: TokenCounter | ChatModel,
    max_tokens: int,
    overlap_tokens: int = 0,
) -> list[Chunk]:
    """Split `document` into chunks of at most `max_tokens` tokens as `count_tokens` counts
    them (a function, or a ChatModel whose `count_tokens` is used).

    Chunks prefer to end at headings, then paragraphs, then sentences. Leading and
    trailing whitespace is left out, so `document.text[c.start:c.end] == c.text`. With
    `overlap_tokens`, each chunk of a long section also repeats up to that many tokens of
    the text before it (never across a heading-section boundary); the budget still holds.
    """
    if not isinstance(max_tokens, int) or max_tokens < 1:
        raise ConfigError(f"max_tokens must be a positive integer, got {max_tokens!r}")
    if not 0 <= overlap_tokens < max_tokens:
        raise ConfigError(
            f"overlap_tokens must be >= 0 and smaller than max_tokens={max_tokens}, "
            f"got {overlap_tokens!r}"
        )
    count = count_tokens.count_tokens if hasattr(count_tokens, "count_tokens") else count_tokens
    text = document.text
    splitter = _Splitter(text, count, max_tokens, overlap_tokens)

    chunks: list[Chunk] = []
    for group in splitter.groups(_sections(document)):
        for start, end in splitter.section_spans(group):
            # The final, exact count of every chunk: what makes the budget a guarantee.
            n = splitter.exact(text[start:end])
            pieces = [(start, end, n)] if n <= max_tokens else splitter.hard_split(start, end)
            for s, e, tokens in pieces:
                chunks.append(
                    Chunk(
                        id=Chunk.make_id(document.id, s, e),
                        document_id=document.id,
                        index=len(chunks),
                        start=s,
                        end=e,
                        text=text[s:e],
                        token_count=tokens,
                        heading_path=group.path,
                        pages=document.pages_between(s, e),
                    )
                )
    return chunks
