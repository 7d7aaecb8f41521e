"""`LexicalVerifier`, the default verifier: is a member's answer grounded in its own chunk,
judged by the words it shares with the chunk and the question?

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
   numbers, quoted keys) or, for a question without any, shares most of its content
   words (those in most of the document's chunks aside); in a follow-up hop it must
   mention the finding it follows from instead;
4. an answer that restates a whole sentence must come from evidence that says something
   the question asks, not only its subject's name.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable

from longagent import text
from longagent.agents import answer_types
from longagent.agents.evidence_spans import (
    answer_sentence,
    key_lines,
    may_run_over,
    names_the_entry,
    quoted_sentence,
    supported,
    with_antecedent,
    with_neighbours,
)
from longagent.agents.member import MemberReply, uncut
from longagent.agents.question import Question
from longagent.agents.verifier import Check, register_verifier
from longagent.text import STOPWORDS, sentences, words

LONG_ANSWER = 5  # words of substance that make an answer a restated sentence, not a value
# Leading letters two words share to count as one when choosing what to read (never when
# grounding): "married" and "marry", but also "diffs" and "different".
PREFIX = 4
# Words of the instructions that are also answers to some question ("How many?" "one").
PLAUSIBLE_ANSWERS = {"one", "long", "short", "never", "empty", "read", "text", "document"}
REFUSALS = {"", "none", "unknown", "not found", "n/a", "no answer", "not mentioned", "not stated"}


@register_verifier("lexical")
class LexicalVerifier:
    """The rules above; `same_answer` clusters answers equal after normalisation, or one
    holding all the other's words."""

    def check(self, reply: MemberReply, chunk: str, question: Question) -> Check:
        return check(reply.answer, reply.quote, chunk, question)

    def could_ground(self, chunk: str, question: Question) -> bool:
        return could_ground(chunk, question)

    def focus(self, chunk: str, question: Question) -> str:
        return focus(chunk, question)

    def same_answer(self, a: str, b: str) -> bool:
        ka, kb = answer_key(a), answer_key(b)
        return bool(ka and kb) and (ka <= kb or kb <= ka)


@functools.cache
def instruction_words() -> frozenset[str]:
    """The words of the members' own instructions (their prompts, placeholders aside)."""
    from longagent.agents.chat_types import prompt

    said = " ".join(
        prompt(name) for name in ("member", "member_plain", "member_free", "member_system")
    )
    found = set(words(re.sub(r"\{\w+\}|<[^>]+>", " ", said))) - STOPWORDS
    return frozenset(found - PLAUSIBLE_ANSWERS)


def answer_key(answer: str) -> frozenset[str]:
    return frozenset(w for w in words(answer) if w not in STOPWORDS)


About = Callable[[Question, str, set[str], tuple[int, int]], Check]


def check(
    answer: str, quote: str, chunk: str, question: Question, about: About | None = None
) -> Check:
    """Judge one member reply against its chunk. On a follow-up hop the question's
    `bridge` is the finding this hop builds on. `about` judges whether the evidence is
    about the question (default: by its words, `lexical_about`)."""
    judge = about or lexical_about
    answer = answer.strip()
    if not answer or (words(answer) and text.normalize(answer) in REFUSALS):
        return Check("refused", "no answer")
    if words(answer) and set(words(answer)) <= instruction_words() - question.words:
        # The 135M model often answers "quote" or "the answer": words of its instructions.
        return Check("unsupported", "the answer only repeats the instructions")
    if not words(answer):
        # A symbol is an answer too (a default delimiter ","): it must stand in the
        # sentence the member quoted.
        span = quoted_sentence(quote, chunk)
        if span is None or answer not in chunk[span[0] : span[1]]:
            return Check("hallucinated", "the quoted evidence does not hold the answer", span)
        return judge(question, chunk, set(words(chunk[span[0] : span[1]])), span)
    if invented := invented_options(answer, chunk):
        return Check("hallucinated", f"the chunk has no option {invented[0]}")
    asked = question.words
    # Cut by the reply schema, an answer's last word may be a fragment: the 135M reader
    # echoed "The lowest numeric user ID handed out to ... accounts by the U", and "u"
    # (useradd's -u) was all it added (blind7's useradd-06, wrong but found).
    whole = uncut(answer)
    novel = tuple(
        dict.fromkeys(w for w in words(whole) if not _asked(w, asked) and w not in STOPWORDS)
    )
    if not novel:
        return Check("unsupported", "the answer only repeats the question")
    kind = answer_types.expected(question.text)
    wrong = None if kind is None or answer_types.holds_answer(question.text, answer) else kind
    if wrong is not None and not _kind_from_evidence(wrong, answer):
        # "How many times ...?" answered "a value of 10 seconds", "Which field ...?" with a
        # sentence naming none: of the wrong kind, whatever the evidence.
        return Check("unsupported", f"the answer gives no {wrong.name}")
    subject = question.text + " " + question.bridge
    span = quoted_sentence(quote, chunk, answer)
    if span is None and question.document_subject:
        # Every sentence names the document's subject, so "the sentence holding the answer's
        # words that shares most with the question" is any sentence holding them: the
        # reader's quote must say which it read.
        return Check("hallucinated", "the quote is not in the chunk")
    span = span or answer_sentence(answer, novel, chunk, subject)
    if span is None:
        return Check("hallucinated", "neither the quote nor the answer is in the chunk")
    evidence = set(words(chunk[span[0] : span[1]]))
    if not supported(answer, novel, evidence):
        if question.keys:
            # A quoted key names one record (a line of key-value data): its value must stand
            # on a line of its own that names the key, never on a neighbouring record's.
            span = answer_sentence(answer, novel, chunk, subject) or span
        elif may_run_over(chunk[span[0] : span[1]], answer, asked):
            span = with_neighbours(span, chunk)
        evidence = set(words(chunk[span[0] : span[1]]))
    if not supported(answer, novel, evidence):
        missing = [w for w in novel if w not in evidence]
        return Check("hallucinated", f"the evidence does not contain {', '.join(missing)}", span)
    if wrong is not None and not _kind_in_evidence(wrong, answer, chunk, span, question):
        return Check("unsupported", f"the answer gives no {wrong.name}", span)
    if (wider := with_antecedent(span, chunk, answer, asked)) != span:
        span, evidence = wider, set(words(chunk[wider[0] : wider[1]]))
    held = text.numbers(chunk[span[0] : span[1]]) | text.numbers(question.text)
    if parts := text.numbers(whole) - held:
        # The 135M reader answered "25 nin%%" from resolv.conf's "removed in glibc 2.25"
        # (blind7's resolv-02, wrong but found): a piece of a number is not a number.
        why = f"the evidence holds {', '.join(sorted(parts))} only inside another number"
        return Check("hallucinated", why, span)
    if _only_names_the_subject(answer, novel, question, chunk[span[0] : span[1]]):
        return Check("unsupported", "the answer only names the question's subject", span)
    if _restates_only_the_subject(answer, question, evidence):
        why = "the answer restates a sentence that names the subject but not what is asked"
        return Check("unsupported", why, span)
    return judge(question, chunk, evidence, span)


_ESCAPE = re.compile(r"\\\w")  # \0, \n
# A man page breaks a long word at the line's end: "--remote-na‐" and "me" on the next line.
_LINE_BREAK = re.compile(r"([‐-])\s*\n\s*")


def invented_options(answer: str, chunk: str) -> list[str]:
    """The options (-c, --update-drift) an answer names that its chunk does not: a name is
    copied, never made up. The 135M reader built "--with-system-date-data" from the
    question's words, and its other words stood in a sentence about NTP (blind9's
    hwclock-05, wrong but found)."""
    joined = _LINE_BREAK.sub(r"\1", chunk).replace("‐", "-")
    unbroken = _LINE_BREAK.sub("", chunk)
    return [
        name
        for name in dict.fromkeys(answer_types.OPTION_NAME.findall(answer.replace("‐", "-")))
        if name not in joined and name not in unbroken
    ]


def _kind_from_evidence(kind: answer_types.AnswerType, answer: str) -> bool:
    """Whether an answer not of the kind asked may still take it from its evidence (checked
    by `_kind_in_evidence` once the evidence is found): one word, as the term of the
    entry its evidence describes (mount's `nofail`); a number, with the unit its sentence
    gives ("1024" from "in bytes, divided by 1024")."""
    if kind is answer_types.WAY:
        return answer_types.one_word(answer) is not None
    return kind is answer_types.UNIT and bool(text.numbers(answer))


def _kind_in_evidence(
    kind: answer_types.AnswerType, answer: str, chunk: str, span: tuple[int, int], q: Question
) -> bool:
    if kind is answer_types.UNIT:
        return answer_types.holds_answer(q.text, chunk[span[0] : span[1]])
    return names_the_entry(answer, chunk, span)


def _asked(word: str, asked: set[str]) -> bool:
    """Whether `word` is one of the question's words, or its plural or singular: the 135M
    model restated "the special magic uuid for <key>" as "Bob has the special magic uuids
    for <key> which i", whose only new word was then "uuids" (RULER seed 7, 4K: wrong but
    found)."""
    return any(form in asked for form in (word, word + "s", word.removesuffix("s")))


NEAR_COPY = 0.8  # difflib ratio at which an answer is a mangled copy of a value


def near_copy(said: str, value: str) -> bool:
    return difflib.SequenceMatcher(None, said, value).ratio() >= NEAR_COPY


def _only_names_the_subject(
    answer: str, novel: tuple[str, ...], question: Question, evidence: str
) -> bool:
    """The 135M model answered "Saskia Okafor" to "What did Saskia call the dog she
    adopted?": the question's name, completed from the evidence. Such an answer holds a
    name of the question and adds only capitalised words standing right beside one of
    its words in the evidence (the rest of that name). A near copy of her name counts as
    her name: the 135M model answered "Sakia Okafor" to "the title of Saskia's first book"."""
    named = {w for e in question.entities for w in e.split()}
    miscopied = {w for w in novel if any(near_copy(w, name) for name in named)}
    if not named & set(words(answer)) and not miscopied:
        return False
    full = text.full_names(named, evidence)
    return all(w in full or w in miscopied for w in novel)


def _restates_only_the_subject(answer: str, question: Question, evidence: set[str]) -> bool:
    """The 135M model often answers a lookup with a whole sentence of its chunk that names
    the question's subject: "Lomivel wrote letters to an old teacher." for "In which town
    was Lomivel born?", in a document where every chunk names Lomivel. Such a long answer
    counts only if its evidence also shares a word of what is asked besides the subject's
    names (or its stem: "married", "marry"). A short answer is never
    judged so ("Fenni" from "was born in" for "the birthplace of Kalomi"), nor is one
    about a record named by a quoted key or a number, nor a follow-up hop, nor one about
    the document's subject: its names make no evidence about it (`lexical_about`), so
    what is asked is judged there, by words or (`SemanticVerifier`) by meaning."""
    said = set(words(answer)) - STOPWORDS
    if len(said) < LONG_ANSWER or question.bridge or question.keys or not question.entities:
        return False
    if question.document_subject:
        return False
    if any(ch.isdigit() for e in question.entities for ch in e):
        return False
    named = {w for e in question.entities for w in e.split()}
    # Nor the document's own vocabulary or the question's frame: over resolv.conf(5),
    # "resolver" (in most chunks) and "before" let "... the stub resolver sets the AD bit
    # ... before they are returned" answer how long the resolver caches DNS answers before
    # asking again (blind7's resolv-09, absent: wrong but found).
    asked = text.stems(_topic(question) - named - text.FRAME_WORDS)
    return bool(asked) and not asked & text.stems(evidence)


def lexical_about(
    question: Question, chunk: str, evidence: set[str], span: tuple[int, int]
) -> Check:
    """Grounded when the evidence is about the question: it mentions the follow-up's
    bridge, else the question's entities (and, for a yes/no question, most of its other
    topic words), else most of its content words. Names that are the document's subject
    stand in any sentence: they do not count."""
    if question.bridge:
        if not question.mentions_bridge(evidence):
            return Check("unsupported", f"the evidence does not mention {question.bridge!r}", span)
    elif question.entities - question.document_subject:
        said = chunk[span[0] : span[1]]
        absent = (
            unnamed(question, evidence)
            or _letters_unnamed(question, said)
            or _numbers_unnamed(question, said)
        )
        if absent:
            return Check("unsupported", f"the evidence does not mention {', '.join(absent)}", span)
        if answer_types.asks_yes_no(question.text) and not _about_topic(
            question, evidence, names=False
        ):
            # "Can top display the CPU temperature ...?": a sentence naming the CPU says
            # nothing about its temperature.
            return Check("unsupported", "the evidence names the question's names only", span)
    elif not _about_topic(question, evidence):
        return Check("unsupported", "the evidence shares too little with the question", span)
    return Check("grounded", "", span)


def could_ground(chunk: str, question: Question) -> bool:
    """Whether any reply from this chunk could pass `check` for a first-hop question: the
    evidence must name the question's entities (or share most of its topic words), and the
    evidence is part of the chunk. A follow-up hop's evidence must mention its bridge."""
    held = set(words(chunk))
    if question.bridge:
        return question.mentions_bridge(held)
    if question.entities - question.document_subject:
        return not unnamed(question, held)
    return _about_topic(question, held, loose=True)


def unnamed(question: Question, held: set[str]) -> list[str]:
    """The question's entities (names, numbers, quoted keys; the document's subject aside)
    that `held` (evidence's words, a chunk's) does not name, in order."""
    required = question.entities - question.document_subject
    return sorted(e for e in required if not set(e.split()) <= held)


def _letters_unnamed(question: Question, evidence: str) -> list[str]:
    """The question's one-letter names ("a D in the state column") that `evidence` does not
    write as that capital letter standing alone: words() reads "-d", "--d" and "d)" as "d"
    too, and top(1)'s "-d" option grounded a reading of "D" (blind5's top-03)."""
    letters = sorted(e for e in question.entities - question.document_subject if _letter(e))
    return [e for e in letters if not re.search(rf"(?<![\w-]){e.upper()}(?![\w-])", evidence)]


def _numbers_unnamed(question: Question, evidence: str) -> list[str]:
    """The question's whole numbers ("it is 0") that `evidence` does not write as numbers:
    words() reads "-0", "\\0" and "--print0" as holding "0" too, and file(1)'s "-0,
    --print0 Output a null character" grounded an option for "My script checks file's exit
    code, but it is 0 ..." (blind9's file-06, wrong but found)."""
    numbers = sorted(e for e in question.entities - question.document_subject if e.isdigit())
    held = set(words(_ESCAPE.sub(" ", answer_types.OPTION_NAME.sub(" ", evidence))))
    return [n for n in numbers if n not in held]


def _letter(name: str) -> bool:
    return len(name) == 1 and name.isalpha()


def _about_topic(
    question: Question, held: set[str], *, loose: bool = False, names: bool = True
) -> bool:
    """Whether `held` (evidence, a chunk) shares most of the question's topic words (more
    than half; a word counts by its stem, `text.stem`: "numbers" is "number"). Half let
    one shared word of two ground "The pass key is a function that allows you to pass a
    function to a function." (a Python docs sentence with "pass") for "What is the pass
    key?", and `ls -S` ("Sort by file size, largest first") for "How do I make sort put
    the largest numbers first?" (3 of 6). `loose` (choosing chunks to read, not grounding)
    also counts a word whose first PREFIX letters a held word shares: reading a chunk
    that cannot ground costs time, skipping one that could loses the answer. Without
    `names`, the words of the question's names do not count (they were checked apart)."""
    asked = _topic(question)
    if not names:
        asked -= {w for e in question.entities for w in e.split()}
    topic = {text.stem(w): w for w in asked}
    if not topic:
        return True
    held_stems = text.stems(held)
    prefixes = {w[:PREFIX] for w in held} if loose else set()
    shared = [s for s, w in topic.items() if s in held_stems or w[:PREFIX] in prefixes]
    return len(shared) * 2 > len(topic)


def _topic(question: Question) -> frozenset[str]:
    """The question's content words, less the names of the document's subject and the
    words standing in most of its chunks (`Question.document_common`), unless those are
    all it asks with."""
    topic = question.content_words - {w for e in question.document_subject for w in e.split()}
    return topic - question.document_common or topic


def focus(chunk: str, question: Question) -> str:
    """The chunk's sentences that mention the question's subject (on a follow-up hop, its
    bridge), each with its neighbours, in order; "" when none does. A small model that
    misses a fact in 500 tokens often finds it in 50."""
    keys = question.subject
    spans = sentences(chunk)
    # A record's line alone: its neighbours are other records, whose values the small
    # model read instead (RULER's multi-key needles). Not for a plain number ("in 2019"),
    # which dates a sentence whose neighbours may hold the answer.
    numbered = all(k.isdigit() for k in text.record_keys(question.text))
    records = [] if numbered else key_lines(chunk, spans, question)
    if records:
        keep = records
    else:
        hits = [i for i, (a, b) in enumerate(spans) if keys & set(words(chunk[a:b]))]
        keep = sorted({j for i in hits for j in (i - 1, i, i + 1) if 0 <= j < len(spans)})
    parts: list[str] = []
    for n, j in enumerate(keep):
        piece = chunk[spans[j][0] : spans[j][1]]
        parts.append(piece if n == 0 or keep[n - 1] == j - 1 else "... " + piece)
    return " ".join(parts)
