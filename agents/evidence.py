"""The leader's checks: is a member's answer really grounded in its own chunk?

Measured on the bundled 135M model: it often answers with a whole sentence, copies the
instructions into its quote, or quotes the right sentence with a stray word, and when
the fact is absent it invents one. So a reply counts only when
1. evidence is found in the chunk: the chunk sentence sharing the longest verbatim run
   of words with the quote (at least four, or the whole quote), else the sentence that
   holds the answer's words; matching ignores case and whitespace, never wording;
2. every word the answer adds to the question stands in that evidence, or in its
   neighbouring sentences unless the question quotes a key (an answer with one invented
   word is a hallucination);
3. the evidence is about this question: it names the question's entities (names,
   numbers, quoted keys) or, for a question without any, shares half its content
   words; in a follow-up hop it must mention the finding it follows from instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[\w'-]+")
_SENTENCE = re.compile(r"[^\n.!?]+(?:[.!?]+|$)", re.MULTILINE)
_QUOTED = re.compile(r"[\"“]([^\"”]{2,})[\"”]")
MIN_RUN = 4  # verbatim words a quote must share with the chunk to count as a quote
_STOPWORDS_TEXT = """
a an the of in on at to for from by with and or but is are was were be been being do
does did what which who whom whose when where why how that this these those it its
as into about than then there their they them he she his her we our you your i me my
not no yes can could would should will shall may might must has have had also any
some all each every one more most answer question sentence document part text known
other parts
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
REFUSALS = {"", "none", "unknown", "not found", "n/a", "no answer", "not mentioned", "not stated"}


def words(text: str) -> list[str]:
    return [w.lower().strip("'-") for w in _WORD.findall(text) if w.strip("'-")]


def normalize(text: str) -> str:
    return " ".join(words(text))


def entities(text: str) -> set[str]:
    """Names, numbers and quoted strings in a question: what its evidence must mention."""
    found = {normalize(q) for q in _QUOTED.findall(text)}
    raw = _WORD.findall(text)
    for i, word in enumerate(raw):
        key = word.lower().strip("'-")
        if key in STOPWORDS:
            continue
        if any(ch.isdigit() for ch in word) or (i > 0 and word[0].isupper()):
            found.add(key)
    return {e for e in found if e}


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if len(w) > 2 and w not in STOPWORDS}


def locate(needle: str, haystack: str) -> tuple[int, int] | None:
    """Character span of `needle` in `haystack`, word for word, any case and spacing."""
    needle_words = _WORD.findall(needle)
    if not needle_words:
        return None
    pattern = r"\W+".join(re.escape(w) for w in needle_words)
    match = re.search(rf"(?<!\w){pattern}(?!\w)", haystack, re.IGNORECASE)
    return match.span() if match else None


def sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        chunk = text[start:end]
        start += len(chunk) - len(chunk.lstrip())
        end -= len(chunk) - len(chunk.rstrip())
        if end > start:
            spans.append((start, end))
    return spans


def _longest_run(a: list[str], b: list[str]) -> int:
    """Length of the longest common contiguous run of words."""
    best, previous = 0, [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


@dataclass(frozen=True)
class Check:
    verdict: str  # grounded | refused | hallucinated | unsupported
    reason: str
    span: tuple[int, int] | None = None  # the evidence, as a span of the chunk
    novel: tuple[str, ...] = ()  # the words the answer adds to the question


def check(answer: str, quote: str, chunk: str, question: str, bridge: str = "") -> Check:
    """Judge one member reply against its chunk. `bridge` is the finding of an earlier
    round that this follow-up hop builds on."""
    if normalize(answer) in REFUSALS:
        return Check("refused", "no answer")
    asked = set(words(question)) | set(words(bridge))
    novel = tuple(dict.fromkeys(w for w in words(answer) if w not in asked and w not in STOPWORDS))
    if not novel:
        return Check("unsupported", "the answer only repeats the question")
    span = _quoted_sentence(quote, chunk) or _answer_sentence(
        answer, novel, chunk, question + " " + bridge
    )
    if span is None:
        return Check(
            "hallucinated", "neither the quote nor the answer is in the chunk", novel=novel
        )
    evidence = set(words(chunk[span[0] : span[1]]))
    if not _supported(answer, novel, evidence):
        if _QUOTED.search(question):
            # A quoted key names one record (a line of key-value data): its value must stand
            # on a line of its own that names the key, never on a neighbouring record's.
            span = _answer_sentence(answer, novel, chunk, question + " " + bridge) or span
        else:  # an answer may run over into the next sentence
            span = _with_neighbours(span, chunk)
        evidence = set(words(chunk[span[0] : span[1]]))
    if not _supported(answer, novel, evidence):
        missing = [w for w in novel if w not in evidence]
        return Check(
            "hallucinated", f"the evidence does not contain {', '.join(missing)}", span, novel
        )
    if bridge:
        if not (set(words(bridge)) - STOPWORDS) & evidence:
            return Check("unsupported", f"the evidence does not mention {bridge!r}", span, novel)
    elif required := entities(question):
        absent = sorted(e for e in required if not set(e.split()) <= evidence)
        if absent:
            return Check(
                "unsupported", f"the evidence does not mention {', '.join(absent)}", span, novel
            )
    elif (topic := content_words(question)) and len(topic & evidence) * 2 < len(topic):
        return Check("unsupported", "the evidence shares too little with the question", span, novel)
    return Check("grounded", "", span, novel)


def could_ground(chunk: str, question: str) -> bool:
    """Whether any reply from this chunk could pass `check` for a first-hop question: the
    evidence must name the question's entities (or share half its topic words), and the
    evidence is part of the chunk. A chunk that fails this need not be read at all."""
    held = set(words(chunk))
    if required := entities(question):
        return all(set(e.split()) <= held for e in required)
    topic = content_words(question)
    return not topic or len(topic & held) * 2 >= len(topic)


def focus(chunk: str, question: str) -> str:
    """The chunk's sentences that mention the question's names (or, without names, its
    topic words), each with its neighbours, in order; "" when none does. A small model
    that misses a fact in 500 tokens often finds it in 50."""
    keys = {w for e in entities(question) for w in e.split()} or content_words(question)
    spans = sentences(chunk)
    hits = [i for i, (a, b) in enumerate(spans) if keys & set(words(chunk[a:b]))]
    keep = sorted({j for i in hits for j in (i - 1, i, i + 1) if 0 <= j < len(spans)})
    parts: list[str] = []
    for n, j in enumerate(keep):
        text = chunk[spans[j][0] : spans[j][1]]
        parts.append(text if n == 0 or keep[n - 1] == j - 1 else "... " + text)
    return " ".join(parts)


def _supported(answer: str, novel: tuple[str, ...], evidence: set[str]) -> bool:
    """The answer's names and numbers all stand in the evidence (its other words may
    paraphrase); an answer without names or numbers needs half its words there."""
    key = _names_and_numbers(answer) & set(novel)
    if key:
        return key <= evidence
    return len(set(novel) & evidence) * 2 >= len(novel)


def _names_and_numbers(text: str) -> set[str]:
    raw = _WORD.findall(text)
    return {
        w.lower().strip("'-")
        for i, w in enumerate(raw)
        if any(ch.isdigit() for ch in w)
        or (i > 0 and w[0].isupper() and w.lower() not in STOPWORDS)
    }


def _with_neighbours(span: tuple[int, int], chunk: str) -> tuple[int, int]:
    spans = sentences(chunk)
    i = spans.index(span)
    return spans[max(0, i - 1)][0], spans[min(len(spans) - 1, i + 1)][1]


def _quoted_sentence(quote: str, chunk: str) -> tuple[int, int] | None:
    """The chunk sentence that shares the longest verbatim run of words with the quote."""
    quote_words = words(quote)
    if not quote_words:
        return None
    needed = min(MIN_RUN, len(quote_words))
    best: tuple[int, tuple[int, int]] | None = None
    for span in sentences(chunk):
        run = _longest_run(quote_words, words(chunk[span[0] : span[1]]))
        if run >= needed and (best is None or run > best[0]):
            best = (run, span)
    return best[1] if best else None


def _answer_sentence(
    answer: str, novel: tuple[str, ...], chunk: str, question: str
) -> tuple[int, int] | None:
    """The sentence that supports the answer and shares most with the question."""
    terms = content_words(question) | entities(question)
    best: tuple[int, tuple[int, int]] | None = None
    for span in sentences(chunk):
        sentence = set(words(chunk[span[0] : span[1]]))
        if _supported(answer, novel, sentence):
            score = len(terms & sentence)
            if best is None or score > best[0]:
                best = (score, span)
    return best[1] if best else None
