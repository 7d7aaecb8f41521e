"""Question shapes: what kind of answer a question wants, decided by rules on its words.

- `lookup`: one fact ("In which town was Kalomi born?"), the default;
- `explain`: a reason or a way ("Why does grep exit with 2?", "How do I ...?"): read as a
  lookup, answered with the cited sentence (a short phrase is a fragment of a reason);
- `multi_value`: every value of one key ("What are all the numbers for grubby-color?"):
  readers read the passages ranked for the key and every grounded value is kept, each cited;
- `list`: every item of a kind ("Which options take a file name?"): the same collection,
  with no single key;
- `multi_query`: several keys at once ("... for A, B, C and D"): one sub-question per key,
  answered each on its own and composed;
- `chain`: values that lead on ("Find all variables assigned the value 12345"): collect,
  then ask again with each new value in place of the old, until nothing new turns up;
- `overview`: about the whole document, or a section ("What is this document about?",
  "Summarize the section on logging"): map (each chosen chunk is summarised), reduce (the
  summaries in document order, each cited);
- `frequency`: the words that occur most ("What are the 10 most common words?"): counted,
  not read. No reader can count across chunks, and a 135M model cannot count within one;
  each word cites its first occurrence.

The rules only read the question; the trace names the shape and the rule that chose it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from longagent import text

Shape = Literal[
    "lookup", "explain", "multi_value", "list", "multi_query", "chain", "overview", "frequency"
]
COLLECTING: frozenset[Shape] = frozenset({"multi_value", "list", "chain"})


@dataclass(frozen=True)
class ShapeChoice:
    """The shape, why it was chosen, the sub-questions of a multi-query, the value a chain
    starts from, and the section an overview is about ("" for the whole document)."""

    shape: Shape = "lookup"
    reason: str = "one fact is asked"
    parts: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # a multi-query's keys, one per part
    value: str = ""
    topic: str = ""
    count: int = 0  # how many words a frequency question asks for


_OVERVIEW = re.compile(
    r"^\s*(?:(?:what|which)\s+(?:is|are)\s+(?:this|the)\s+"
    r"(?:document|text|file|page|article|book|manual|report|paper|chapter)\s+(?:about|for)\b"
    r"|(?:please\s+)?(?:summari[sz]e|outline)\b"
    r"|(?:give|write)\s+(?:me\s+)?(?:an?\s+)?(?:short\s+|brief\s+)?(?:overview|summary)\b"
    r"|what\s+are\s+the\s+(?:main|key)\s+(?:points|ideas|topics|takeaways)\b)",
    re.I,
)
# "the section on X", "the part about X", "summary of X": an overview of one topic.
_TOPICS = (
    re.compile(
        r"\b(?:section|part|chapter|passage|paragraph)s?\s+(?:on|about|of|covering)\s+(.+)", re.I
    ),
    re.compile(
        r"\b(?:summari[sz]e|overview\s+of|summary\s+of|outline)\s+(?!(?:this|the)\s+"
        r"(?:document|text|file|page|article|book|manual|report|paper|chapter)\b)(.+)",
        re.I,
    ),
)
_STOP = "(?:" + "|".join(sorted(text.STOPWORDS)) + ")"
# Asking for every item: "all the X", "every X", "list ...", "which options take ...".
_COLLECT = re.compile(
    # A plural, not a singular ending in s ("every process", "all the status").
    r"\b(?:all|every)\s+(?:of\s+)?(?:the\s+)?(?:[\w-]+\s+){0,3}(?![\w-]*(?:ss|us|is)\b)[\w-]+s\b"
    r"|^\s*(?:please\s+)?(?:list|enumerate|name\s+(?:all|every|each))\b"
    r"|^\s*(?:which|what)\s+(?:[\w-]+\s+){0,2}[\w-]+s\s+"
    r"(?:are|take|takes|have|do|does|can|require|accept|support|use|were|did|move|change|"
    r"control|affect|set|print|show|read|write|apply|match|exist|need|allow|enable|make|"
    r"return|modify|run)\b"
    # "Which tests compare ...": a plural right after which/what, then any verb of plural
    # agreement (no -s). Not after other words: "Which class handles error output?" is
    # one class ("handles" is its verb, not a plural).
    rf"|^\s*(?:which|what)\s+(?!{_STOP}\b)(?![\w-]*(?:ss|us|is)\b)[\w-]+s\s+(?!{_STOP}\b)[a-z]{{2,}}(?<!s)\b",
    re.I,
)
# "how many/much/long/old/often/far/big" ask for a quantity, not a way.
_EXPLAIN = re.compile(
    r"^\s*(?:why\b|how\b(?!\s+(?:many|much|long|old|often|far|big|large|small)\b))", re.I
)
_HOW = re.compile(r"^\s*(?:how|why)\b", re.I)
# A value that leads on to others: assignments, aliases, references.
_CHAIN = re.compile(
    r"\b(?:assigned|set\s+to|equal\s+to|equals|alias(?:es|ed)?|refers?\s+to|points?\s+to|"
    r"linked\s+to|derived\s+from|copied\s+from)\b\s*(?:the\s+)?(?:value\s+)?(?:of\s+)?"
    r"(\"[^\"]+\"|'[^']+'|[\w.-]+)",
    re.I,
)
# "the 10 most common words", "the three most frequently appeared coded words", "which
# words appear most often".
_NUMBERS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
_FREQUENCY = re.compile(
    rf"\b(?:(?P<count>\d+|{'|'.join(_NUMBERS)})\s+)?most\s+"
    r"(?:common(?:ly\s+used)?|frequent(?:ly)?(?:\s+(?:used|appeared|appearing|occurring))?|"
    r"used|repeated)\s+(?:[\w-]+\s+)?words?\b"
    rf"|\b(?:(?P<many>\d+|{'|'.join(_NUMBERS)})\s+)?words?\s+(?:that\s+)?"
    r"(?:appears?|occurs?|(?:is|are)\s+used)\s+(?:the\s+)?most\b",
    re.I,
)
DEFAULT_FREQUENT = 10  # words a frequency question gets when it names no number
# An enumeration of keys after a preposition: "for A, B, C, and D" / "of A and B".
_WORD = r"(?!(?:for|of|about|on|from|in|to|with|by|and|or)\b)[\w'’.-]+"
_ITEM = rf"{_WORD}(?:\s+{_WORD}){{0,2}}?"
_ENUMERATION = re.compile(
    rf"\b(?P<prep>for|of|about|on|from)\s+(?P<items>{_ITEM}(?:\s*,\s*{_ITEM})+,?\s+and\s+{_ITEM}"
    rf"|{_ITEM}\s+and\s+{_ITEM})(?=\s+(?:mentioned|in|from|that|which|given|listed)\b|\s*[?.!]?\s*$)",
    re.I,
)


def detect(question: str) -> ShapeChoice:
    """The shape of `question`, by the first rule that matches (frequency, overview,
    multi-query, chain, collection); a lookup otherwise."""
    if frequency := _FREQUENCY.search(question):
        said = (frequency["count"] or frequency["many"] or "").lower()
        count = int(said) if said.isdigit() else _NUMBERS.index(said) + 1 if said else 0
        singular = re.search(r"\bword\b", frequency.group(), re.I)
        count = count or (1 if singular else DEFAULT_FREQUENT)
        why = f"asks for the {count} words that occur most: counted, not read"
        return ShapeChoice("frequency", why, count=count)
    if _OVERVIEW.search(question):
        topic = _topic(question)
        where = f"the section on {topic!r}" if topic else "the whole document"
        return ShapeChoice("overview", f"asks for a summary of {where}", topic=topic)
    keys = enumerated_keys(question)
    if keys:
        parts = tuple(question.replace(keys_text(question), key, 1) for key in keys)
        why = f"names {len(keys)} keys at once"
        return ShapeChoice("multi_query", why, parts=parts, keys=keys)
    # "How do I list all files?" asks for a way, not for every item.
    collect = None if _HOW.search(question) else _COLLECT.search(question)
    chain = _CHAIN.search(question)
    if collect and chain:
        value = chain.group(1).strip("\"'").rstrip(".")
        why = f"asks for everything linked to the value {value!r}, which may lead on"
        return ShapeChoice("chain", why, value=value)
    if _EXPLAIN.search(question) and not collect:
        return ShapeChoice("explain", "asks for a reason or a way: the cited sentence answers")
    if collect:
        keyed = text.record_keys(question)
        if keyed:
            return ShapeChoice("multi_value", f"asks for every value of {keyed[0]!r}")
        return ShapeChoice("list", f"asks for every item: {collect.group().strip()!r}")
    return ShapeChoice()


def enumerated_keys(question: str) -> tuple[str, ...]:
    """The keys a question enumerates ("for A, B, and C"); two plain words joined by "and"
    count only when both are names or values, so "the cost of time and money" is one
    question."""
    match = _ENUMERATION.search(question)
    if match is None:
        return ()
    items = [i.strip() for i in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", match["items"])]
    items = [i for i in items if i]
    if len(items) < 2 or len(set(items)) < len(items):
        return ()
    if "," not in match["items"] and not all(_is_key(i) for i in items):
        return ()
    return tuple(items)


def keys_text(question: str) -> str:
    """The enumeration itself, as written ("A, B, and C")."""
    match = _ENUMERATION.search(question)
    return match["items"] if match else ""


def _is_key(item: str) -> bool:
    """A name or value: capitalised, hyphenated, quoted or with a digit."""
    return item[0].isupper() or bool(text.entities(item)) or bool(re.search(r"[-\d\"']", item))


def _topic(question: str) -> str:
    match = next((m for rule in _TOPICS if (m := rule.search(question))), None)
    if match is None:
        return ""
    topic = match.group(1).strip().rstrip("?.!").strip()
    return re.sub(r"^(?:the|a|an)\s+", "", topic, flags=re.I)
