"""Repairs of a refused reply, each judged again as the answer by the same rules (in
`Runner.judge`, and the `clipped` answer in `Runner.conclude`):

- `record_value`: the one value of a record that the reader's quote holds;
- `copied_value`: the one value on the key's lines that the reader's answer miscopies;
- `cited_sentence`: for a question about the document's subject, the sentence it quotes;
- `quoted_value`: the one number, version or unit asked for in the sentence it copies;
- `clipped`: an answer that is a copy of its sentence cut short.
"""

from __future__ import annotations

from longagent import text
from longagent.agents import answer_types
from longagent.agents.evidence import near_copy
from longagent.agents.evidence_spans import MIN_RUN, key_lines, longest_run, quoted_sentence
from longagent.agents.member import uncut
from longagent.agents.question import Question
from longagent.text import sentences, words


def record_value(quote: str, question: Question) -> str | None:
    """The value of a record the question names by its key (quoted, hyphenated, a UUID or
    a number), when the reader's quote holds exactly one value with a digit that the
    question does not: the 135M model quoted the right UUID of RULER's multi-key needle and
    answered a neighbouring record's, or quoted the needle's sentence and answered with
    the question. The value is then judged as the answer, by the same rules (in
    `Runner.judge`). A collection's items get a broader rescue of the same kind, any name
    or number the quote adds (`shape_rounds._item_judge`)."""
    if question.bridge or not text.record_keys(question.text):
        return None
    asked = question.words
    values = {
        w.strip("'-")
        for w in text.WORD.findall(quote)
        if any(ch.isdigit() for ch in w) and not set(words(w)) <= asked
    }
    return min(values) if len({v.lower() for v in values}) == 1 else None


def cited_sentence(quote: str, chunk: str, question: Question) -> str | None:
    """For a question about the document's subject, the chunk's sentence the quote copies
    (MIN_RUN words or more verbatim): the answer when the reader cannot phrase one. Given
    the sentence "Saskia Okafor broke her left wrist when she fell off a unicycle." the
    135M model quoted it and answered "Sears 2015" or the sentence with words invented
    after it; the sentence itself answers "How did Saskia end up hurting her arm?". Not on
    a follow-up hop: there a reader quoting the finding's sentence repeats what is known."""
    if not question.document_subject or question.bridge or len(words(quote)) < MIN_RUN:
        return None
    span = quoted_sentence(quote, chunk)
    return " ".join(chunk[span[0] : span[1]].split()) if span else None


# The kinds of value a sentence states once: an option or a name may stand in it as the
# entry it describes, or as one of several, and a field is the sentence's own term.
VALUE_KINDS = (answer_types.NUMBER, answer_types.UNIT, answer_types.VERSION)


def quoted_value(quote: str, chunk: str, question: Question) -> tuple[str, str] | None:
    """The one value of the kind the question asks for (a number, a unit, a version) that
    the chunk's sentence the reader's quote copies holds and the question does not, with
    that sentence: the reader found the sentence and failed to say its value. Given
    pgrep(1)'s "pidwait requires the pidfd_open(2) system call which first appeared in
    Linux 5.3.", the 135M reader quoted it and answered with its first 80 characters,
    which stop short of "5.3" (blind8's pgrep-06). The quote must copy most of the
    sentence: a reader's own sentence sharing a few words with it is no quote of it."""
    if answer_types.expected(question.text) not in VALUE_KINDS or question.bridge:
        return None
    span = quoted_sentence(quote, chunk)
    if span is None:
        return None
    sentence = " ".join(chunk[span[0] : span[1]].split())
    if longest_run(words(quote), words(sentence)) * 2 < len(words(sentence)):
        return None
    values = dict.fromkeys(answer_types.new_values(question.text, sentence))
    return (next(iter(values)), sentence) if len(values) == 1 else None


def clipped(answer: str, sentence: str, *, opening: bool = False) -> bool:
    """Whether `answer` is a verbatim run of MIN_RUN or more of `sentence`'s words, short of
    all of them: a copy the reader cut off, perhaps before what was asked. `opening`: only
    a run the sentence starts with counts (a run from its middle or end is how a reader
    extracts an answer: "the directories listed in PATH"). An answer as long as the reply
    schema allows was cut there, so its last word is no evidence either way: copying
    mount(8)'s exit codes, the 135M reader's answer ended "or 64 (some had" at the limit
    (blind6's mount-06, wrong but found)."""
    said, whole = words(uncut(answer)), words(sentence)
    n = len(said)
    if n < MIN_RUN or n >= len(whole):
        return False
    starts = [0] if opening else range(len(whole) - n + 1)
    return any(whole[i : i + n] == said for i in starts)


MISCOPY_CHARS = 4  # a shorter value has no near copies, only other values


def copied_value(answer: str, chunk: str, question: Question) -> tuple[str, str] | None:
    """The value, and its line, that `answer` miscopies: of the values with a digit (that
    the question lacks) on the chunk's lines naming the question's record key, the one a
    word of the answer nearly copies, when exactly one is. The 135M model copies a
    36-character UUID with its last group changed ("...-1599e9fda9128" for
    "...-1599e9fedd48"). A key with several values (a multi-value record) keeps them apart:
    the answer's near copy picks one. A value of fewer than MISCOPY_CHARS characters is
    copied or not, never miscopied: the 135M reader's list "1) ... 2)" made mount(8)'s
    "mount(2)", on a line naming the question's "read-only", its answer (blind6's
    mount-05, wrong but found)."""
    spans = sentences(chunk)
    lines = [chunk[slice(*spans[i])] for i in key_lines(chunk, spans, question)]
    asked = question.words
    said = [w.lower() for w in text.WORD.findall(answer) if any(ch.isdigit() for ch in w)]
    near = {
        w.strip("'-"): line
        for line in lines
        for w in text.WORD.findall(line)
        if any(ch.isdigit() for ch in w)
        and len(w.strip("'-")) >= MISCOPY_CHARS
        and not set(words(w)) <= asked
        and any(near_copy(s, w.strip("'-").lower()) for s in said)
    }
    if len({v.lower() for v in near}) != 1:
        return None
    return next(iter(near.items()))
