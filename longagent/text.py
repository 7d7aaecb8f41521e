"""The one text toolkit: words, sentences with spans, stopwords, names and numbers,
normalisation, stems, and reciprocal-rank fusion. QA, chat and memory all read text
through it, so one rule never exists in two versions.

The stopwords are English function words only, never the vocabulary of a prompt: what
counts as evidence must not change when a prompt is reworded.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tantivy

WORD = re.compile(r"[\w'-]+")
# A sentence ends at terminal punctuation followed by whitespace ("~/.netrc", "3.5" and
# "e.g.x" stay whole) or at a paragraph break. A single line break is a space: man pages,
# PDFs and wrapped text break lines mid-sentence. But a line that is a table row or a list
# item is a unit of its own, and a run-on "sentence" (code, a list without punctuation) is
# cut at its line breaks.
_PARAGRAPH = re.compile(r"\S(?:.|\n(?![ \t]*\n))*", re.MULTILINE)
# A sentence ends at . ! or ? before a space, after any closing brackets and quotes
# ("(... the namedtuple API.) Next" is two sentences).
_SENTENCE = re.compile(r".*?[.!?]+[\"'”’)\]]*(?=\s|$)|.+", re.DOTALL)
_LINE = re.compile(r"[^\n]+")
# A list item, a table row, or a record ("key": value, key = value, VAR key = value,
# Key: value).
_ITEM = re.compile(
    r"^\s*(?:[-*\u2022]\s|\d{1,3}[.)]\s|[\"'][^\"'\n]+[\"']\s*[:=]"
    r"|[^\W\d][\w.]*(?::\s|\s=\s)|[^\W\d][\w.]*\s[\w.]+\s=\s)|\s\|\s"
)
_COMPOUND = re.compile(r"(?<![\w-])[a-z]{2,}(?:-[a-z0-9]+)+(?![\w-])")
_SPACES = re.compile(r"[ \t]{2,}")
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)
LONGEST_SENTENCE = 600  # characters; longer runs are split at their line breaks
_QUOTED = re.compile(r"[\"“]([^\"”]{2,})[\"”]")
# A reply saying the text holds no answer, in the model's own words ("The document does not
# contain the answer", "It cannot be found in the text").
_NO_ANSWER = re.compile(
    r"not found|not (?:mentioned|stated|specified|provided|given)|no (?:information|mention)"
    r"|(?:cannot|can['’]t|unable to) (?:find|answer|determine)"
    r"|\b(?:does not|doesn['’]t|do not|don['’]t|did not|is not|isn['’]t|cannot|can['’]t)\s+"
    r"(?:\w+\s+){0,3}?(?:say|says|contain|contains|mention|mentions|answer|provide|state|specify"
    r"|give|include|available|found|mentioned|stated|specified)\b",
    re.IGNORECASE,
)
_STOPWORDS_TEXT = """
a an the of in on at to for from by with and or but is are was were be been being do
does did what which who whom whose when where why how that this these those it its
as into about than then there their they them he she his her we our you your i me my
not no yes can could would should will shall may might must has have had also any
some all each every one more most other
i'm i've i'd i'll you're we're they're it's that's what's there's let's
don't doesn't didn't can't couldn't won't wouldn't shouldn't isn't aren't wasn't weren't
hasn't haven't hadn't mustn't
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
# Words that place or frame what is asked ("how long ... before asking again?") and say
# nothing of its topic: a sentence sharing only these with a question is not about it.
_FRAME_WORDS_TEXT = """
before after again over under between through during until while just only very still
even ever out off up down back away long many much often far
"""
FRAME_WORDS = frozenset(_FRAME_WORDS_TEXT.split())
RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al.)


def words(text: str) -> list[str]:
    """Lower-cased words, apostrophes and hyphens inside a word kept, a possessive's "'s"
    dropped ("Lindqvist's house" names Lindqvist)."""
    return [_base(w) for w in WORD.findall(text) if _base(w)]


def _base(word: str) -> str:
    word = word.lower().strip("'-")
    return word[:-2] if word.endswith("'s") and len(word) > 2 else word


def compact(text: str) -> str:
    """`text` with line indentation dropped and runs of spaces squeezed to one: what a
    model reads of a man page or PDF text (their padding costs tokens, and a quote of it
    runs past the reply's token limit); evidence matching ignores whitespace anyway."""
    return _INDENT.sub("", _SPACES.sub(" ", text))


def normalize(text: str) -> str:
    return " ".join(words(text))


@functools.cache
def _stemmer() -> tantivy.TextAnalyzer:
    import tantivy

    # tantivy's English Snowball stemmer: the one the search's BM25 ranks with ("en_stem").
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    return (
        builder.filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.stemmer("english")).build()
    )


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A word's English stem: "married" and "marry" are "marri", "numbers" is "number", but
    "different" ("differ") is not "diffs" ("diff"). A word with inner punctuation ("time-
    stamp", "don't") is its parts' stems joined by "-"."""
    return "-".join(_stemmer().analyze(word)) or word


def stems(said: Iterable[str]) -> set[str]:
    return {stem(w) for w in said}


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if len(w) > 2 and w not in STOPWORDS}


def is_prose(text: str) -> bool:
    """Whether `text` reads as prose (six words or more, most of them lowercase letters),
    not a page header ("GREP(1) User Commands GREP(1)"), a synopsis or a table row."""
    raw = WORD.findall(text)
    plain = [w for w in raw if w.isalpha() and w.islower()]
    return len(raw) >= 6 and len(plain) * 5 >= len(raw) * 3


def quoted(text: str) -> list[str]:
    """Strings in double quotes (a question's quoted keys), normalised."""
    return [q for q in (normalize(m) for m in _QUOTED.findall(text)) if q]


def names_and_numbers(text: str) -> set[str]:
    """Words with a digit, and capitalised words that do not start a sentence: the names
    and numbers a statement commits to ("... my change? Since which glibc version?" names
    glibc, not "since")."""
    return {
        _base(w)
        for m in WORD.finditer(text)
        if _base(w := m.group())
        and _base(w) not in STOPWORDS
        and (any(ch.isdigit() for ch in w) or (w[0].isupper() and not _starts(text, m.start())))
    }


# What stands before a word that starts a sentence: the text's start, or "?" or "!", or "."
# after a lowercase word of three letters or more ("... in my script. If"), which "Mr.",
# "e.g." and "etc." are not; then only spaces, quotes or a bracket.
_SENTENCE_START = re.compile(r"(?:\A|[?!]|(?<![\w-])(?!etc\.)[a-z]{3,}\.)[\s\"'(]*\Z")


def _starts(text: str, at: int) -> bool:
    """Whether the word at `at` starts `text` or one of its sentences (looking back at most
    40 characters: the text is not copied)."""
    return bool(_SENTENCE_START.search(text, max(0, at - 40), at))


_NUMBER = re.compile(r"(?<![\d.,])\d+(?:[.,]\d+)*")


def numbers(text: str) -> set[str]:
    """The whole numbers of `text`, thousands commas dropped: "2.25" is one number (a
    version), not the 2 and 25 `words` splits it into; "1,000" is 1000."""
    return {m.replace(",", "") for m in _NUMBER.findall(text)}


def entities(text: str) -> set[str]:
    """Names, numbers, quoted strings and hyphenated keys ("grubby-color", as RULER names
    its needles) in a question: what its evidence must mention."""
    return set(quoted(text)) | names_and_numbers(text) | compounds(text)


def compounds(text: str) -> set[str]:
    """Hyphenated words of `text`, lowercased: "grubby-color", "non-root", "sha-256"."""
    return set(_COMPOUND.findall(text.lower()))


def full_names(names: set[str], passage: str) -> set[str]:
    """`names` (lowercase words) with the capitalised words standing right beside one of
    them in `passage`: "Saskia" is "Saskia Okafor" where the passage says so."""
    tokens = WORD.findall(passage)
    beside = {
        tokens[j].lower()
        for i, token in enumerate(tokens)
        if token.lower() in names
        for j in (i - 1, i + 1)
        if 0 <= j < len(tokens) and tokens[j][:1].isupper()
    }
    return names | beside


def record_keys(text: str) -> list[str]:
    """The keys naming a record (a line of key-value data) in a question: its quoted
    strings, else its entities that are no plain word ("grubby-color", a UUID, 12345)."""
    return quoted(text) or sorted(e for e in entities(text) if not e.replace(" ", "").isalpha())


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Character spans of the paragraphs of `text`: runs of lines between blank lines."""
    return [_trim(text, *m.span()) for m in _PARAGRAPH.finditer(text)]


def sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, whitespace trimmed (see `_SENTENCE`)."""
    spans: list[tuple[int, int]] = []
    for paragraph in _PARAGRAPH.finditer(text):
        lines = [m.span() for m in _LINE.finditer(text, *paragraph.span())]
        if any(_ITEM.search(text[a:b]) for a, b in lines):  # a table or a list: by line
            pieces = [
                span
                for a, b in lines
                for span in (
                    [(a, b)]
                    if _ITEM.search(text[a:b])
                    else [m.span() for m in _SENTENCE.finditer(text, a, b)]
                )
            ]
        else:
            pieces = [m.span() for m in _SENTENCE.finditer(text, *paragraph.span())]
        for start, end in pieces:
            if end - start > LONGEST_SENTENCE and "\n" in text[start:end]:
                spans += [_trim(text, *m.span()) for m in _LINE.finditer(text, start, end)]
            else:
                spans.append(_trim(text, start, end))
    return [(a, b) for a, b in spans if b > a]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), end - (len(piece) - len(piece.rstrip()))


def sentence_texts(text: str) -> list[str]:
    """The sentences of `text` as strings, inner whitespace squeezed."""
    return [" ".join(text[a:b].split()) for a, b in sentences(text)]


def says_no_answer(text: str) -> bool:
    """Whether a model's free reply says the text it read lacks the answer."""
    return _NO_ANSWER.search(text) is not None


def mentions_any(text: str, terms: set[str]) -> bool:
    """Whether `text` holds any of `terms` as a whole word or phrase (its words apart by
    any whitespace: a name may break across lines), any case."""
    lowered = text.lower()
    patterns = [r"\s+".join(map(re.escape, t.split())) for t in terms if t.split()]
    return any(re.search(rf"(?<!\w){p}(?!\w)", lowered) for p in patterns)


def rrf_scores(*scores: Sequence[float]) -> list[float]:
    """Each item's reciprocal-rank-fusion score over score lists of the same items. An item
    scoring 0 or less is not ranked by that list at all (like a document a retriever did
    not return): else a list of mostly zeros would vote for the first items in order."""
    fused = [0.0] * len(scores[0])
    for score in scores:
        order = sorted((i for i in range(len(score)) if score[i] > 0), key=lambda i: -score[i])
        for position, index in enumerate(order):
            fused[index] += 1.0 / (RRF_K + position + 1)
    return fused


def rrf(*scores: Sequence[float]) -> list[int]:
    """Indices, best first, by reciprocal-rank fusion (`rrf_scores`)."""
    fused = rrf_scores(*scores)
    return sorted(range(len(fused)), key=lambda i: (-fused[i], i))
