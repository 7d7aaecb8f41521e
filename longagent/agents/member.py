"""Members: each reads one chunk (or passage) and answers with a verbatim quote, all in one
batch. Each request carries its `task` (what is read, how), which traces and scripted test
models use; the prompt wording lives in `prompts/` alone."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from longagent import text
from longagent.agents.chat_types import prompt
from longagent.agents.profiles import Profile, Style
from longagent.agents.question import Question
from longagent.errors import LongAgentError, ModelResponseError
from longagent.llm import ChatModel, Generation, GenerationRequest, Message
from longagent.llm.constrained import generate_rows, parse_structured

QUOTE_CHARS = 200
ANSWER_CHARS = 80
FREE_STOPS = (". ", ".\n", "\n\n")
PROMPTS: dict[Style, str] = {"instructed": "member", "plain": "member_plain", "free": "member_free"}


class MemberReply(BaseModel):
    """The schema a member's output is constrained to (quote first: evidence, then answer)."""

    quote: str = Field(max_length=QUOTE_CHARS)
    answer: str = Field(max_length=ANSWER_CHARS)


def uncut(answer: str) -> str:
    """`answer` without its last word when it is as long as the schema allows: cut there,
    that word may be a fragment or one the reader wandered into ("... or 64 (some had"),
    evidence of nothing (`evidence.check`, `repairs.clipped`)."""
    return answer.rsplit(None, 1)[0] if len(answer) >= ANSWER_CHARS else answer


def quote_schema(*passages: str) -> dict[str, Any]:
    """`MemberReply`'s schema with the quote held to the passages' own sentences (or "", a
    refusal), each cut to the quote's length at a word: decoding cannot write a quote the
    passage lacks. Left free, the 135M reader wrote runaway text ("2000; 2000; ...", "-o
    -o -o ...") or echoed the instructions; held, it copies one of the passage's sentences
    and then answers from it (natural dev split, each lookup's gold chunk, one greedy
    reading in each prompt style: the answer right in 1 of 60 readings free, 12 held).
    But a reader that meant to write its own words is forced into the passage sentence
    that starts like them ("The following documentation is ..." for "The town where
    ..."): two synthetic needles its free quote found were lost, so it is opt-in
    (`Profile.quote_held`)."""
    schema = MemberReply.model_json_schema()
    quotes = dict.fromkeys(_clip(s) for passage in passages for s in text.sentence_texts(passage))
    schema["properties"]["quote"] = {"type": "string", "enum": ["", *quotes]}
    return schema


def _clip(sentence: str) -> str:
    if len(sentence) <= QUOTE_CHARS:
        return sentence
    cut = sentence[:QUOTE_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def _request(
    user: str, profile: Profile, task: dict[str, object], passages: tuple[str, ...]
) -> GenerationRequest:
    """With the profile's `quote_held`, the reply's schema is `quote_schema(passages)`;
    otherwise `run_batch` constrains it to `MemberReply`'s."""
    return GenerationRequest(
        messages=[
            Message(role="system", content=prompt("member_system").strip()),
            Message(role="user", content=user),
        ],
        max_new_tokens=profile.reply_tokens,
        stop_loops=profile.loop_tokens,
        json_schema=quote_schema(*passages) if profile.quote_held else None,
        task=task,
    )


def member_request(
    chunk: int,
    passage: str,
    question: Question,
    profile: Profile,
    *,
    style: Style = "instructed",
    sample: int = 0,
) -> GenerationRequest:
    """Member `chunk` reads `passage` (its chunk, or the focused part of it). Chunk first and
    instruction last, so a prefix cache can reuse the chunk's KV. `style` "instructed"
    spells out the reply (quote, then answer); "plain" only asks the question: the 135M
    model often copies the instructions instead of answering, and the two styles fail on
    different inputs (measured: 8/20 each on whole chunks, 12/20 together). Both replies
    are held to `MemberReply`'s JSON. "free" asks for one short sentence in the reader's
    own words, not held to JSON (`free_reply`). `sample` 0 is the greedy reading; others
    sample with that seed."""
    known = f"Known from other parts of the document: {question.known}\n" if question.known else ""
    passage = text.compact(passage)
    user = prompt(PROMPTS[style]).format(chunk=passage, question=question.text, known=known)
    task = {"kind": "member", "chunk": chunk, "passage": passage, "style": style, "sample": sample}
    request = _request(user, profile, task, (passage,))
    if style == "free":
        request.json_schema, request.max_new_tokens = None, profile.free_reply_tokens
        request.stop = list(FREE_STOPS)  # only the first sentence is used (`free_reply`)
    if sample:
        request.temperature, request.seed = profile.focus_temperature, sample
    return request


def focus_readings(
    chunk: int,
    passage: str,
    question: Question,
    profile: Profile,
    members: int = 1,
    *,
    search_follows: bool = False,
) -> list[GenerationRequest]:
    """The several readings of one focused passage: each style, greedy then sampled, as
    many samples as the profile's `focus_budget` leaves each of the round's `members`
    (the greedy readings are never cut)."""
    styles = profile.focus_styles
    samples = profile.focus_samples
    if search_follows and profile.focus_samples_before_search is not None:
        samples = min(samples, profile.focus_samples_before_search)
    if profile.focus_budget:
        share = profile.focus_budget // (max(1, members) * len(styles))
        samples = max(0, min(samples, share - 1))
    return [
        member_request(chunk, passage, question, profile, style=style, sample=sample)
        for style in styles
        for sample in range(1 + samples)
    ]


def summary_request(chunk: int, passage: str, topic: str, profile: Profile) -> GenerationRequest:
    """Member `chunk` says what its chunk is about (about `topic`, when one is given), with
    the sentence that shows it: an overview's map step."""
    about = f"Topic: {topic}\n" if topic else ""
    passage = text.compact(passage)
    user = prompt("member_summary").format(chunk=passage, topic=about)
    task: dict[str, object] = {"kind": "summary", "chunk": chunk, "passage": passage}
    return _request(user, profile, task, (passage,))


def pair_request(
    chunks: tuple[int, int],
    passages: tuple[str, str],
    question: Question,
    answers: tuple[str, str],
    profile: Profile,
) -> GenerationRequest:
    """Two conflicting members re-read both chunks (or passages) together (the paper's
    Eq. 4)."""
    user = prompt("pair").format(
        first=text.compact(passages[0]),
        second=text.compact(passages[1]),
        question=question.text,
        answer_a=answers[0],
        answer_b=answers[1],
    )
    task: dict[str, object] = {
        "kind": "pair",
        "chunks": chunks,
        "passages": passages,
        "answers": answers,
    }
    return _request(user, profile, task, tuple(text.compact(p) for p in passages))


def run_batch(
    model: ChatModel, requests: list[GenerationRequest]
) -> list[MemberReply | ModelResponseError]:
    """One batched model call for all members of a round. Each reply is held to its
    request's own schema when it has one (`quote_schema`), else to `MemberReply`'s; a
    free reading is not held (`free_reply`)."""
    if not requests:
        return []
    schema = MemberReply.model_json_schema()
    free = [r.task.get("style") == "free" for r in requests]
    held = [
        r if unheld or r.json_schema else r.model_copy(update={"json_schema": schema})
        for r, unheld in zip(requests, free, strict=True)
    ]
    return [
        free_reply(g) if unheld else parse_structured(g, MemberReply)
        for unheld, g in zip(free, generate_rows(model, held), strict=True)
    ]


def free_reply(generation: Generation | LongAgentError) -> MemberReply | ModelResponseError:
    """A free reading as a `MemberReply`: its first sentence is the answer and, as the
    reader quotes nothing, its quote too (the checker then finds the passage's sentence
    that holds the answer, `evidence.check`). A reply that says its passage does not
    answer is a refusal. A reply that is JSON of `MemberReply` (a scripted or served model
    that answers so anyway) is taken as it is."""
    if isinstance(generation, LongAgentError):
        return ModelResponseError(str(generation))
    said = " ".join(generation.text.split())  # one line: a list's lines are not its sentences
    if said.startswith("{"):
        parsed = parse_structured(generation, MemberReply)
        if isinstance(parsed, MemberReply):
            return parsed
    first = _clip(next(iter(text.sentence_texts(said)), ""))
    if not first or text.says_no_answer(first):
        return MemberReply(quote="", answer="")
    # Constructed, not validated: a sentence may run past the JSON answer's 80 characters.
    return MemberReply.model_construct(quote=first, answer=first)
