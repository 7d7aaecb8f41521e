"""A list question answered from the document's own entries (issue #19).

"Which options take a file name?" over a manual page asks for items the page already
lists as entries (`chunking/entries.py`): each option is a term line with its description.
The 135M reader does not extract items (bench shapes: a sentence or nothing), so a list
question over such a document picks entries instead of reading passages:

1. The kind of item is the question's plural noun ("options", "tests", "commands"); the
   entries it may pick are the items of the sections whose heading names that kind
   ("OPTIONS" and its subsections, find's "TESTS"). No such section: no pick, and the
   question is read as before.
2. "Which options take/need/accept a X?" asks about the entries' arguments: every item
   whose term names an argument like X ("FILE", "logfile", "PATTERNS") is picked.
3. Otherwise each item is scored by MiniLM similarity of its term and first sentence to
   the question, plus a bonus for the question's words in its term. The first picks
   ("seeds") must hold one of the question's telling words (inside the term, "times" in
   "-atime", or at a word's start in the text; not one that stands in most of the items,
   like "file" in find's tests, nor, unless no item holds another, one that stands in
   most of the document's chunks, like "file" in less's), and stop at the widest gap between
   scores; items that read like a seed (their own similarity at least
   `SIBLING_SIMILARITY`, within `SIBLING_BAND` of the best score) join them: "-amin"
   beside a seed "-mmin"; not one that lacks a question word its seed's text holds
   ("?pattern  Search backward" beside "/pattern  Search forward" for "move forward").

Each pick is cited with its term line and first sentence, verbatim.

A document without such sections (HTML turned into paragraphs, a policy text) may still
announce its lists: "The fields in this file are:" followed by bullets, "Here's a table of
the available flags" followed by table rows, "Here's a complete list of the
metacharacters" followed by a line of symbols (`chunking/entries.announced_lists`). Of the
announcements that name the asked kind, the one closest in meaning to the question (with
the heading above it: "5.5. Debian changes files") gives its items, each cited.

A multi-value question about a key ("What keywords are defined for Rules-Requires-Root?")
is answered this way too, by a section or list with the key named in its heading or in the
`KEY_WINDOW` characters before it; else it is read sentence by sentence as before.

The constants were set on the `dev` list questions of `bench shapes` (LIST_DEV there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from longagent import text
from longagent.chunking.entries import AnnouncedList, Entry, announced_lists, entries
from longagent.memory.embedder import Embedder

TERM_BONUS = 0.3  # added to the similarity for the question's words in the term, in full
SEED_WINDOW = 10  # the seeds' cut is at the widest gap among this many best scores
SIBLING_SIMILARITY = 0.8  # an item this close to a seed (cosine) is one of its kind
SIBLING_BAND = 0.2  # ... if its own score is within this much of the best seed's
MAX_HEADING_WORDS = 6  # a section's heading is short ("HTTPS (SSL/TLS) Options")
KEY_WINDOW = 1000  # characters before a list within which the key it answers for is named
# "Which options take ...", "What tests compare ...", "List the commands that ...".
_KIND = re.compile(
    r"^\s*(?:which|what)\s+([a-z][\w-]*?)s\b|\b(?:all|every|list|name)\s+(?:of\s+)?(?:the\s+)?"
    r"([a-z][\w-]*?)s\b",
    re.I,
)
_TAKES = re.compile(
    r"\b(?:takes?|accepts?|requires?|needs?|expects?)\s+(?:an?\s+|the\s+|one\s+)?([a-z][\w-]*)",
    re.I,
)
# "Which options take an argument?": any argument will do.
_ANY_ARGUMENT = frozenset({"argument", "arg", "value", "parameter", "operand"})


@dataclass(frozen=True)
class Pick:
    entry: Entry | AnnouncedList
    term: str  # the item: an entry's term on one line ("-f FILE, --file=FILE"), a bullet
    cited: tuple[int, int]  # offsets in the text: an entry's term and first sentence
    why: str


@dataclass(frozen=True)
class Listing:
    """What the document's lists gave: the sections (or the announcement) looked in, how
    many items they hold, and the picks (none when no item matched; the caller then reads
    passages as before)."""

    sections: list[str]
    items: int
    picks: list[Pick]
    why: str


def kind_of(question: str) -> str:
    """The singular of the question's plural noun ("options" -> "option"), or ""."""
    match = _KIND.search(question)
    return (match.group(1) or match.group(2)).lower() if match else ""


def listing(
    document: str,
    question: str,
    embedder: Embedder,
    common: frozenset[str] = frozenset(),
    keys: frozenset[str] = frozenset(),
) -> Listing | None:
    """The items of `document` that answer the list `question`, or None when it has no
    section of the asked kind and announces no list of it. `common`: the words standing in
    most of the document's chunks ("shell" in bash's manual), telling only when no item
    holds another. `keys`: the question asks for the list of a key ("What keywords are
    defined for Rules-Requires-Root?"); only a section or list whose heading, or the text
    up to `KEY_WINDOW` characters before it, names a key may answer."""
    kind = kind_of(question)
    if not kind:
        return None
    found = entries(document)
    sections = [s for s in _sections(found, kind, document) if _near_key(document, s.term, keys)]
    if not sections:
        return _announced(document, question, kind, embedder, keys)
    items = list({i.term: i for s in sections for i in _items(s, kind, document)}.values())
    items = [i for i in items if not text.is_prose(i.term_text(document))]
    names = [s.term_text(document) for s in sections]
    if not items:
        return None
    takes = _TAKES.search(question)
    if takes:
        picks = _by_argument(items, takes.group(1).lower(), document)
        return Listing(names, len(items), picks, f"items whose argument is a {takes.group(1)}")
    picks = _by_meaning(items, question, kind, document, embedder, common)
    return Listing(names, len(items), picks, "items closest in meaning to the question")


def _announced(
    document: str, question: str, kind: str, embedder: Embedder, keys: frozenset[str]
) -> Listing | None:
    """The items of the announced list of the asked kind ("The fields in this file are:")
    whose announcement, with the heading above it, is closest in meaning to the question;
    None when no announcement names the kind."""
    lists = [
        a
        for a in announced_lists(document)
        if any(w.startswith(kind) for w in text.words(document[slice(*a.lead)]))
        and (_near_key(document, a.lead, keys) or any(k in a.heading.lower() for k in keys))
    ]
    if not lists:
        return None
    said = [f"{a.heading} {' '.join(document[slice(*a.lead)].split())}" for a in lists]
    vectors = embedder.embed([question, *said])
    similarity = vectors[1:] @ vectors[0]
    best = int(np.argmax(similarity))
    chosen = lists[best]
    lead = " ".join(document[slice(*chosen.lead)].split())
    why = f"listed under {lead!r} ({similarity[best]:.2f})"
    picks = [Pick(chosen, " ".join(document[a:b].split()), (a, b), why) for a, b in chosen.items]
    return Listing(
        [said[best].strip()], len(chosen.items), picks, "the list the document announces"
    )


def _near_key(document: str, span: tuple[int, int], keys: frozenset[str]) -> bool:
    """Whether a key is named in the span or the `KEY_WINDOW` characters before it (any
    span is near when there are no keys): a list answers for the key its part names."""
    if not keys:
        return True
    near = document[max(0, span[0] - KEY_WINDOW) : span[1]].lower()
    return any(key in near for key in keys)


def _sections(found: Sequence[Entry], kind: str, document: str) -> list[Entry]:
    """The outermost entries whose heading names the kind ("OPTIONS" for "option")."""
    out: list[Entry] = []
    for entry in found:
        if _names(entry, kind, document) and _is_heading(entry.term_text(document)):
            out.append(entry)
        else:
            out += _sections(entry.children, kind, document)
    return out


def _is_heading(term: str) -> bool:
    """A heading ("OPTIONS", "HTTPS (SSL/TLS) Options"), not a sentence that mentions the
    kind ("2   Parse error---for instance, when parsing command-line options, the")."""
    return len(text.WORD.findall(term)) <= MAX_HEADING_WORDS and not text.is_prose(term)


def _names(entry: Entry, kind: str, document: str) -> bool:
    return any(w.startswith(kind) for w in text.words(entry.term_text(document)))


def _items(section: Entry, kind: str, document: str) -> list[Entry]:
    """A section's items: its entries, looking through subsection headings (grep's
    "Matching Control", wget's "HTTPS (SSL/TLS) Options") into the items they hold; an
    item's own nested entries (wget's cookie file formats) are part of it."""
    out: list[Entry] = []
    for child in section.children:
        heading = child.children and (
            child.opens_with_entry(document) or _names(child, kind, document)
        )
        out += _items(child, kind, document) if heading else [child]
    return out


def _cited(entry: Entry, document: str) -> tuple[int, int]:
    """The term and the first sentence of its description."""
    body = document[entry.body[0] : entry.body[1]]
    spans = text.sentences(body)
    end = entry.body[0] + spans[0][1] if spans else entry.body[1]
    return entry.term[0], end


def _placeholders(term: str) -> list[str]:
    """The argument names of a term: "-f FILE, --file=FILE" -> FILE, FILE."""
    tokens = re.split(r"[,\s=\[\]]+", term)
    return [
        part.lower()
        for token in tokens
        if token and not token.startswith("-") and token.lower() != "or"
        for part in re.split(r"[-_/]", token)
        if part.isalpha()
    ]


def _by_argument(items: list[Entry], noun: str, document: str) -> list[Pick]:
    noun = noun.rstrip("s") if len(noun) > 3 else noun
    picks = []
    for item in items:
        term = item.term_text(document)
        names = _placeholders(term)
        if noun in _ANY_ARGUMENT:
            matched = bool(names)
        else:
            matched = any(p == noun or p.startswith(noun) or p.endswith(noun) for p in names)
        if matched:
            why = f"its argument is named {' '.join(dict.fromkeys(names))!r}"
            picks.append(Pick(item, term, _cited(item, document), why))
    return picks


def _lead(word: str) -> str:
    """A word's first letters, so "cookies" finds "--no-cookies" and "times" "-atime"."""
    return word[: max(4, len(word) - 2)]


def _by_meaning(
    items: list[Entry],
    question: str,
    kind: str,
    document: str,
    embedder: Embedder,
    common: frozenset[str],
) -> list[Pick]:
    firsts = [" ".join(document[slice(*_cited(i, document))].split()) for i in items]
    vectors = embedder.embed([question, *firsts])
    similarity = vectors[1:] @ vectors[0]
    terms = [" ".join(text.words(i.term_text(document))) for i in items]
    sentences = [
        " ".join(document[i.body[0] : _cited(i, document)[1]].split()).lower() for i in items
    ]
    said = list(zip(terms, sentences, strict=True))
    # Telling words: the question's, less the kind and those standing in most items; the
    # document's own vocabulary ("file" in a pager's manual) only when no item holds
    # another of them ("Which commands switch to a different file?").
    words = [
        w
        for w in sorted(text.content_words(question))
        if not w.startswith(kind) and sum(_holds(w, *i) for i in said) * 2 <= len(items)
    ]
    for keys in ([w for w in words if w not in common], words):
        bonus = np.array([sum(_lead(k) in t for k in keys) / max(1, len(keys)) for t in terms])
        scores = similarity + TERM_BONUS * bonus
        order = [int(k) for k in np.argsort(-scores, kind="stable")]
        seeds = [k for k in order if any(_holds(w, *said[k]) for w in keys)]
        if seeds:
            break
    else:
        return []
    # The widest gap among the best seeds' scores, the best non-seed closing the row.
    window = seeds[:SEED_WINDOW]
    row = [float(scores[k]) for k in window]
    row += [float(scores[k]) for k in order if k not in window][:1]
    gaps = [row[i] - row[i + 1] for i in range(len(row) - 1)]
    chosen = window[: 1 + max(range(len(gaps)), key=gaps.__getitem__)] if gaps else window
    why = {
        k: f"closest in meaning ({scores[k]:.2f}) and names {_named(keys, *said[k])}"
        for k in chosen
    }
    item_vectors = vectors[1:]
    for k in order:
        if k in why or scores[k] < scores[chosen[0]] - SIBLING_BAND:
            continue
        like, seed = max((float(item_vectors[k] @ item_vectors[s]), s) for s in chosen)
        # Alike but for a word the question asks is a contrast: "Search backward" beside
        # a seed "Search forward" for "move forward" ("-mmin" beside "-mtime" lacks only
        # the word of the seed's term).
        lacks = [w for w in keys if _holds(w, "", said[seed][1]) and not _holds(w, *said[k])]
        if like >= SIBLING_SIMILARITY and not lacks:
            why[k] = f"reads like a picked item ({like:.2f})"
    picked = sorted(why, key=lambda k: items[k].term[0])
    return [
        Pick(items[k], items[k].term_text(document), _cited(items[k], document), why[k])
        for k in picked
    ]


def _holds(word: str, term: str, sentence: str) -> bool:
    """Whether an item names the word: inside its term ("times" in "-atime"), at a word's
    start in its sentence ("move" in "moves", not in "remove")."""
    lead = _lead(word)
    return lead in term or re.search(rf"\b{re.escape(lead)}", sentence) is not None


def _named(keys: list[str], term: str, sentence: str) -> str:
    return ", ".join(repr(k) for k in keys if _holds(k, term, sentence))
