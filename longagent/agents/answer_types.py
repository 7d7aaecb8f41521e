"""What kind of answer a question asks for, and whether a passage holds one (issue #18).

A sentence close in meaning to a question is not always an answer to it: "By default,
Wget will assume a value of 10 seconds." reads much like "How many times does wget try
a download again by default?", and MiniLM ranks it first. Classic QA systems check the
expected answer type; so do extraction (`agents/extraction.py`), before a sentence
answers for the readers, and the verifiers (`evidence.check`), before a reader's answer
grounds ("2.2-1" is no way to number an upload):
- a quantity ("how many", "how far", "exit code", "what range"): a number the question
  lacks, and when it counts something ("how many times") not a number of another unit
  ("10 seconds");
- a duration or frequency ("how long does it wait", "how often"): a number or a word of
  time ("5 minutes", "30s", "a day", "daily", "never"); not when a setting is asked for
  ("which setting controls how long ...?"). The 135M reader answered "how often does the
  kernel write the time back?" over hwclock(8) with "Available values:" (blind9's
  hwclock-05, wrong but found);
- a unit ("in what units ...", "what unit is the number given in?"): a unit of measure
  (KiB, millisecond, 512-byte blocks, Kbit/s), not a number: the 135M reader answered
  "what unit are the round-trip times given in?" over ss(8) with "MD5" (blind8's ss-03);
- an environment variable: a name such as GREP_COLORS, EDITOR or http_proxy;
- a field ("which field"): a capitalised name such as Version or Standards-Version;
- a way ("how do I ...", "which option"): an option, a command, a setting or a piece of
  syntax (`-c`, `--continue`, `tz=UTC`, `MaxRetentionSec`, `(?P<name>...)`, `+really`),
  either in the sentence or as the term of the entry it describes (a bare word such as
  mount's `nofail` only so: `evidence_spans.names_the_entry`), or an environment variable;
- a version ("which release of make first added ...", "in which curl version"): a
  dotted number (4.0, 7.86.0, 2.3-3), or a number named as a version ("version 2", "v3",
  "Debian 12"), not a date: the 135M model answered the first with a man page's footer,
  "GNU 28 February 2016".
A question of none of these kinds (who, what is, why; a file, whose name may be a bare
word such as less's "lesshst") is not checked. Every value must be new: "-i" in "With
-i, ... which option ignores case?" is the question's, not an answer. A yes/no question
("Can top show the CPU temperature?", `asks_yes_no`) asks whether the document says
something, not for a value: its evidence must be about what it asks, not only name its
names (`evidence.lexical_about`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from longagent import text

_NUMBER_WORDS = (
    "zero|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|"
    "thousand|once|twice|half"
)
# "one" counts, but not as a pronoun: "each one of the next lines", "the one that ...".
_ONE = (
    "".join(
        f"(?<!{word} )" for word in ("each", "every", "any", "no", "the", "this", "that", "which")
    )
    + r"\bone\b(?!\s+(?:of|another|that|which|who)\b)"
)
# A number, with the word after it (its unit, if it has one); not a man page's section
# reference ("global(1)").
_NUMBER = re.compile(
    rf"(?<![(\w])\d[\d.,]*(?!\))(?:\s+(?P<unit>[a-z]+))?|\b(?:{_NUMBER_WORDS})\b|{_ONE}", re.I
)
_OPTION = re.compile(
    r"(?<![\w-])--?[A-Za-z0-9?][\w=-]*"  # -c, --continue, -size=n
    r"|\(\?[^)\s]*"  # (?P<name>, (?!
    r"|\S*[*+?{}\[\]|\\^$]\S*"  # *?, +really, {m,n}, \b
    r"|(?<!\S)/\w+"  # a pager's /pattern
    r"|[`\"'‘“][^`\"'’”\s]{1,16}[`\"'’”]"  # a key or command in quotes: `v`, "ESC-u"
    r"|\b(?i:press|type|hit|key)\s+\S+"  # press v
    r"|\b[A-Za-z][\w.-]*=\S*"  # a setting and its value: tz=UTC, Storage=persistent
    r"|\b[A-Za-z]\w*_\w+|\b[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+\b"  # store_true, MaxRetentionSec
)
# An option's name alone: -c, --update-drift, -0 (not "=value", not a hyphen after it).
OPTION_NAME = re.compile(r"(?<![\w-])--?[A-Za-z0-9](?:[\w-]*\w)?")
# An answer that is a name by itself: an environment variable (LOCALDOMAIN) or any one word,
# to be found as the term of the entry its evidence describes (`evidence.check`).
_ONE_WORD = re.compile(r"[`\"'‘“]?([\w.=-]+)[`\"'’”]?")
# The options an entry opens with: "-i or --ignore-case", "-c, --continue".
_ALIASES = re.compile(r"\s*(?:--?[A-Za-z0-9?][\w=\[\]-]*(?:,|\s+or\b)?\s*)+")
_VARIABLE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b|\b[A-Z]{3,}\b")  # http_proxy
# Standards-Version, "Source:", or an answer that is one capitalised word ("Version"); not
# any capitalised word ("For example, suppose Debian 10 ...").
_FIELD = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)+\b|\b[A-Z][a-z]+:|^\s*[A-Z][a-z]+\W*$")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
_VERSION = re.compile(
    r"(?<![\w.-])(?!\d{4}-\d\d-\d\d\b)v?\d+(?:[.-]\d+)+[a-z]?\b"  # 4.0, 2.3-3; not 2016-02-28
    r"|\b(?:version|release|v)\s*\d[\w.~+-]*"  # version 2, v3
    rf"|(?-i:\b(?!(?i:{_MONTH}))[A-Z][\w-]*\s+\d+\b)(?![.-]\d)(?!\s+{_MONTH})",  # Debian 12, not "GNU 28 Feb"
    re.I,
)

_ASKS_NUMBER = re.compile(
    r"\bhow\s+(?:many|much|far|big|large|deep|old)\b"
    r"|\b(?:exit|status|return|error)\s+(?:code|status|value)s?\b"
    r"|\bwhat\s+(?:number|range|size|limit|percentage)\b"
    r"|\b(?:largest|smallest|maximum|minimum|highest|lowest)\s+(?:number|value|count)\b"
    r"|\b(?:shortest|longest)\b",
    re.I,
)
# "How long does it wait?" opening its sentence, not after "which" or "what" ("which
# setting controls how long they wait?" asks for the setting).
_ASKS_DURATION = re.compile(
    r"(?:^|[.?!]\s+)(?:(?!\b(?:which|what)\b)[^.?!])*?(?P<cue>\bhow\s+(?:long|often|frequently|soon)\b)",
    re.I,
)
# "What unit does the timer start?" asks for a systemd unit: a unit of measure is asked
# "in" ("in what units ...", "... given in?").
_ASKS_UNIT = re.compile(r"\bin\s+what\s+units?\b|\bwhat\s+units?\b[^?]*\bin\s*\?", re.I)
_ASKS_VARIABLE = re.compile(r"\benvironment\s+variables?\b", re.I)
# "which release", "what's the minimum Linux kernel version" (blind8's pgrep-06)
_ASKS_VERSION = re.compile(
    r"\b(?:which|what)(?:['’]s|\s+is)?\s+(?:the\s+)?"
    r"(?:(?!(?:a|an|do|does|did|is|are|was|were|can|could|will|would|should)\b)[\w-]+\s+){0,3}"
    r"(?:version|release)s?\b"
    r"(?!\s+(?:control|notes?|keys?)\b)",
    re.I,
)
_ASKS_FIELD = re.compile(r"\b(?:which|what)\s+(?:[\w-]+\s+)?fields?\b", re.I)
_ASKS_WAY = re.compile(
    r"\bhow\s+(?:do|can|should|would|could)\s+(?:i|you|we|one)\b"
    r"|\b(?:which|what)\s+(?:[\w-]+\s+)?(?:option|flag|switch|command|key|keystroke|"
    r"argument|syntax)s?\b",
    re.I,
)
# A yes/no question opens with an auxiliary verb, perhaps after a clause of its own ("After
# applying a patch, can patch commit ...?"); asked as the last of its sentences.
_YES_NO = re.compile(
    r"(?:(?:if|when|after|before|once|while|on|in|with|for|as)\b[^,?]*,\s*)?"
    r"(?:can|could|does|do|did|is|are|was|were|will|would|should|has|have|may|might|must)"
    r"(?:n['’]t)?\b",
    re.I,
)
# "how many times" counts tries: "10 seconds" is a number of another unit.
_COUNTED = re.compile(r"\bhow\s+many\s+([a-z]+)", re.I)
_UNIT = re.compile(
    r"(?:second|minute|hour|day|week|month|year|(?:kilo|mega|giga)?byte|[kmg]i?b|block|"
    r"character|line|percent|level|tr(?:y|ie)|retr(?:y|ie))s?",  # "times" counts anything
    re.I,
)


# A unit of measure: of size (KiB, 1024-byte blocks, kilobytes), rate (Kbit/s), time (ms,
# millisecond), or a share (percent).
_MEASURE = re.compile(
    r"(?<![\w/])(?:(?:kilo|mega|giga|tera|kibi|mebi|gibi|tebi|milli|micro|nano)?"
    r"(?:bytes?|bits?|seconds?)|[kmgt]i?b(?:its?)?(?:/s|ps)?|[kmg]?bps|[mun]s|µs|u?secs?|"
    r"minutes?|hours?|days?|weeks?|blocks?|sectors?|pages?|characters?|percent(?:age)?|"
    r"jiffies|ticks?|hz|hertz)(?![\w])|%",
    re.I,
)


# A time: any number ("30s", "1min", "every 11 minutes") or a word that says one.
_TIME = re.compile(
    rf"\d[\d.,]*|\b(?:{_NUMBER_WORDS})\b|\b(?:second|minute|hour|day|week|month|year)s?\b"
    r"|\b(?:daily|hourly|weekly|monthly|yearly|annually|forever|indefinitely|never|"
    r"immediately|infinity)\b",
    re.I,
)


@dataclass(frozen=True)
class AnswerType:
    name: str
    pattern: re.Pattern[str]


NUMBER = AnswerType("number", _NUMBER)
DURATION = AnswerType("duration or frequency", _TIME)
UNIT = AnswerType("unit", _MEASURE)
VARIABLE = AnswerType("environment variable", _VARIABLE)
FIELD = AnswerType("field", _FIELD)
WAY = AnswerType("option or syntax", _OPTION)
VERSION = AnswerType("version", _VERSION)


@functools.lru_cache(maxsize=256)
def expected(question: str) -> AnswerType | None:
    """The kind of value `question` asks for; None when it asks for none of the kinds. The
    cue said first decides: "Which option shows how much RAM and how many CPU threads xz
    believes ...?" asks for an option, "How many lines ... which option prints them?" for a
    number. At one place, the order below decides ("which field records the release"
    asks for a field). The sentence that asks is read first: "My script checks file's exit
    code, but it is 0 ... Which option makes it fail instead?" asks for an option (blind9's
    file-06). Cached: extraction checks every window of a search, and the verifiers every
    reply, against the same question."""
    cues = (
        (_ASKS_NUMBER, NUMBER),
        (_ASKS_DURATION, DURATION),
        (_ASKS_UNIT, UNIT),
        (_ASKS_VARIABLE, VARIABLE),
        (_ASKS_FIELD, FIELD),  # before versions: "which field records the release of ..."
        (_ASKS_VERSION, VERSION),
        (_ASKS_WAY, WAY),
    )
    for told in (_asking_sentence(question), question):
        said = [
            (match.start("cue" if "cue" in asks.groupindex else 0), rank, kind)
            for rank, (asks, kind) in enumerate(cues)
            if (match := asks.search(told))
        ]
        if said:
            return min(said, key=lambda cue: cue[:2])[2]
    return None


def _asking_sentence(question: str) -> str:
    """The last of the question's sentences that asks something (ends with "?"), else its
    last sentence."""
    sentences = [question[a:b] for a, b in text.sentences(question)] or [question]
    return ([s for s in sentences if s.rstrip().endswith("?")] or sentences)[-1]


def one_word(answer: str) -> str | None:
    """The answer's one word, quotes aside ("`nofail'", "W", "LOCALDOMAIN"); None when it
    says more than a word."""
    match = _ONE_WORD.fullmatch(answer.strip().rstrip(".,;:"))
    return match[1] if match else None


@functools.lru_cache(maxsize=256)
def asks_yes_no(question: str) -> bool:
    """Whether `question` (its last sentence asking something) is a yes/no question: "Can
    top display the CPU temperature?", "Is there a built-in debugger in mawk ...?". Its
    names ("CPU", "built-in") are what it asks about, not what it asks: a sentence naming
    them answers nothing (the 135M reader's "The CPU temperature is displayed alongside
    the load numbers." passed as grounded over top(1), which never says "temperature")."""
    return bool(_YES_NO.match(_asking_sentence(question)))


def holds_answer(question: str, passage: str) -> bool:
    """Whether `passage` holds a value of the kind `question` asks for that the question
    itself does not (always, for a question of no checked kind). Options and fields are
    compared with their case (less's -i and -I differ), and a passage that opens with
    one of the question's options describes that option: its other names ("-i or
    --ignore-case") are not new either."""
    kind = expected(question)
    if kind is None:
        return True
    word = one_word(passage)
    if kind is WAY and word and _VARIABLE.fullmatch(word) and word not in question:
        return True  # "How can I change ... for one program?" "LOCALDOMAIN"
    return bool(new_values(question, passage))


def new_values(question: str, passage: str) -> list[str]:
    """The values of the kind `question` asks for that `passage` holds and the question does
    not, in order (none for a question of no checked kind)."""
    kind = expected(question)
    if kind is None:
        return []
    exact = kind in (WAY, FIELD)  # -i is not -I, Version (a field) not "version"
    asked = {_bare(w, exact) for w in question.split()} | set(text.words(question))
    counted = _COUNTED.search(question)
    if exact:
        aliases = _ALIASES.match(passage)
        named = aliases and {_bare(v, exact) for v in _OPTION.findall(aliases[0])}
        if named and named & asked:
            asked |= named
    values = []
    for match in kind.pattern.finditer(passage):
        unit = match.groupdict().get("unit")
        if kind is NUMBER and counted and not _same_unit(unit, counted[1]):
            continue
        # A number is new or not by itself: "1 from" is the question's "1" (pgrep's "a
        # return value of 1" passed as "a number", blind8's pgrep-04, wrong but found).
        said = match.group(0)[: match.start("unit") - match.start()] if unit else match.group(0)
        value = _bare(said.strip(), exact=True)
        if (value if exact else value.lower()) not in asked:
            values.append(value)
    return values


def _bare(value: str, exact: bool = False) -> str:
    value = value.strip(".,;:()?!\"'")
    return value if exact else value.lower()


def _same_unit(unit: str | None, counted: str) -> bool:
    """Whether a number followed by `unit` may count `counted` ("5 levels" counts levels;
    "10 seconds" counts no tries; "5", "5 of" or "20 times" may count anything). Plurals
    by a plain "s", as `evidence._asked` takes them."""
    unit, counted = (unit or "").lower(), counted.lower()
    if not _UNIT.fullmatch(unit):
        return True
    return unit.removesuffix("s") == counted.removesuffix("s")
