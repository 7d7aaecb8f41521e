"""Where a reply's evidence stands in its chunk: the sentence its quote copies (or that
holds its answer's words), and how far that span reaches (the sentence a "This ..."
refers back to, the neighbour an answer runs over into, a record's own line, the manual
entry it describes). `evidence.check` judges what the span says; this module only finds
it."""

from __future__ import annotations

import functools

from longagent import text
from longagent.agents import answer_types
from longagent.agents.question import Question
from longagent.chunking.entries import Entry, entries, walk
from longagent.text import content_words, entities, sentences, words

MIN_RUN = 4  # verbatim words a quote must share with the chunk to count as a quote


def longest_run(a: list[str], b: list[str]) -> int:
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


def key_lines(chunk: str, spans: list[tuple[int, int]], question: Question) -> list[int]:
    """Indices into `spans` (the chunk's sentences) of those naming every record key of
    the question (see `text.record_keys`); none for a follow-up hop or a question without
    such keys."""
    keys = [] if question.bridge else text.record_keys(question.text)
    wanted = [set(words(key)) for key in keys]
    return [
        i
        for i, (a, b) in enumerate(spans)
        if wanted and all(w <= set(words(chunk[a:b])) for w in wanted)
    ]


def may_run_over(sentence: str, answer: str, asked: set[str]) -> bool:
    """An answer may run over into the next sentence, unless the quoted sentence states a
    value of its own (a name, a number, True) that the answer does not keep: then the
    neighbour's value is a different one ("True" quoted, "False" answered)."""
    own = text.names_and_numbers(sentence) - asked
    return not own or bool(own & set(words(answer)))


# An answer naming names may say the rest in its own words, but not in INVENTED content
# words of which the evidence holds none: then only its names are the evidence's. Fewer
# are a paraphrase's ("It tries again 20 times before giving up" for "retry 20 times").
INVENTED = 5


def supported(answer: str, novel: tuple[str, ...], evidence: set[str]) -> bool:
    """The answer's names and numbers all stand in the evidence, and its other words may
    paraphrase, as long as one of them does stand there when it has INVENTED or more; an
    answer without names or numbers needs half its words there. The 135M reader's "The
    production process is not uncomplicated. To avoid problems, Rock Ridge needs" found
    mount(8)'s sentence on Rock Ridge, which says none of its other words (blind6's
    mount-05, wrong but found)."""
    key = text.names_and_numbers(answer) & set(novel)
    if key:
        others = text.stems(text.content_words(" ".join(set(novel) - key)))
        if len(others) >= INVENTED and not others & text.stems(evidence):
            return False
        return key <= evidence
    return len(set(novel) & evidence) * 2 >= len(novel)


# A sentence opening with one of these says what it is about in the sentence before it.
ANAPHORS = frozenset({"this", "these", "that", "those", "it", "such"})


def with_antecedent(
    span: tuple[int, int], chunk: str, answer: str, asked: set[str]
) -> tuple[int, int]:
    """`span` from the start of the sentence before it when its first word refers back:
    dmesg(1)'s "This is 16392 by default." is about the buffer size only with "Use a buffer
    of size to query the kernel ring buffer." before it (blind5's dmesg-03). Not when that
    sentence states a value of its own (`may_run_over`): a record's line before "It was
    founded in 1995." would lend its key to another value."""
    first = words(chunk[span[0] : span[1]])[:1]
    if not first or first[0] not in ANAPHORS:
        return span
    before = [(a, b) for a, b in sentences(chunk) if b <= span[0]]
    if not before or not may_run_over(chunk[slice(*before[-1])], answer, asked):
        return span
    return before[-1][0], span[1]


def with_neighbours(span: tuple[int, int], chunk: str) -> tuple[int, int]:
    spans = sentences(chunk)
    i = spans.index(span)
    return spans[max(0, i - 1)][0], spans[min(len(spans) - 1, i + 1)][1]


def quoted_sentence(quote: str, chunk: str, answer: str = "") -> tuple[int, int] | None:
    """The chunk sentence that shares the longest verbatim run of words with the quote.
    Among sentences that tie, the first holding most of the answer's words: a short quote
    ("KUYAW") stands in several lines, and the reader's answer tells which it read."""
    quote_words = words(quote)
    if not quote_words:
        return None
    needed = min(MIN_RUN, len(quote_words))
    answered = set(words(answer))
    best: tuple[int, int, tuple[int, int]] | None = None
    for span in sentences(chunk):
        sentence = words(chunk[span[0] : span[1]])
        run = longest_run(quote_words, sentence)
        if run < needed:
            continue
        score = (run, len(answered & set(sentence)))
        if best is None or score > best[:2]:
            best = (*score, span)
    return best[2] if best else None


def answer_sentence(
    answer: str, novel: tuple[str, ...], chunk: str, question: str
) -> tuple[int, int] | None:
    """The sentence that supports the answer and shares most with the question."""
    terms = content_words(question) | entities(question)
    best: tuple[int, tuple[int, int]] | None = None
    for span in sentences(chunk):
        sentence = set(words(chunk[span[0] : span[1]]))
        if supported(answer, novel, sentence):
            score = len(terms & sentence)
            if best is None or score > best[0]:
                best = (score, span)
    return best[1] if best else None


def names_the_entry(answer: str, chunk: str, span: tuple[int, int]) -> bool:
    """Whether `answer`, one word, names the manual entry its evidence stands in: the term
    the evidence opens with, or one of the term lines of an entry whose body holds it.
    mount(8)'s option is the bare word "nofail", its entry "nofail / Do not report errors
    for this device if it does not exist."; a word of the body is no option."""
    word = answer_types.one_word(answer)
    if word is None:
        return False
    for entry in walk(_entries(chunk)):
        if entry.term[0] <= span[0] < entry.body[1] and word in _terms(entry.term_text(chunk)):
            return True
    opening = chunk[span[0] : span[1]].split()[:1]
    return bool(opening) and opening[0].strip("`'\"‘’“”,:") == word


@functools.lru_cache(maxsize=64)
def _entries(chunk: str) -> tuple[Entry, ...]:
    return tuple(entries(chunk))


def _terms(term: str) -> set[str]:
    """A term line's names: "-o logfile, --output-file=logfile" names -o, logfile,
    --output-file and --output-file=logfile."""
    names = {w.strip("`'\"‘’“”,:[]") for w in term.split()}
    return names | {n.split("=")[0] for n in names}
