"""A question that names only the document's subject (issue #18): a life story names its
heroine in every chunk, so her name pins no chunk and makes no sentence evidence. Such a
question reads the likeliest passages, and a sentence that merely names her answers
nothing. The story is the `bench qa --suite person` generator's."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from longagent.agents import LongAgent
from longagent.agents.evidence import LexicalVerifier
from longagent.agents.member import ANSWER_CHARS, MemberReply
from longagent.agents.question import Question
from longagent.agents.ranking import PASSAGE_SENTENCES, bm25_scores
from longagent.agents.relevance import in_document, subject_names
from longagent.agents.repairs import cited_sentence
from longagent.agents.semantic import SemanticVerifier
from longagent.apps.bench.person import make_person
from longagent.chunking import Chunk, Document, split
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import MiniLMEmbedder
from longagent.text import sentences

DOG = "What did Saskia call the dog she adopted?"


def words_count(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def story() -> tuple[str, str, str]:
    """The story, its heroine's first name and the dog's name (seed 1: Saskia)."""
    text, questions = make_person(words_count, tokens=3000, seed=1)
    assert questions[0].question == DOG
    return text, DOG.split()[2], questions[0].answers[0]


def chunks_of(text: str) -> list[Chunk]:
    return split(Document.create(text), words_count, 120)


def test_a_name_in_most_chunks_is_the_subject_and_a_rarer_one_is_not(
    story: tuple[str, str, str],
) -> None:
    text, first, dog = story
    chunks = chunks_of(text)
    assert len(chunks) >= 8
    assert subject_names(Question.parse(DOG), chunks) == {first.lower()}
    assert not subject_names(Question.parse(f"Where did {dog} sleep?"), chunks)
    # a number pins its record; a short document is swept whole
    assert not subject_names(Question.parse(f"What did {first} do in 1999?"), chunks)
    assert not subject_names(Question.parse(DOG), chunks[:4])


def test_a_hyphenated_name_in_most_chunks_is_the_subject_and_a_record_key_is_not() -> None:
    # A command's manual names it all over ("ssh-keygen"); RULER's key names one line.
    page = "ssh-keygen reads the key file and writes the new one. " * 12
    chunks = chunks_of("\n\n".join([page] * 10))
    asked = Question.parse("When I use ssh-keygen to sign a file, where does it go?")
    assert len(chunks) >= 8 and subject_names(asked, chunks) == {"ssh-keygen"}
    needle = "The special magic number for grubby-color is: 4411. "
    chunks = chunks_of("\n\n".join([page] * 5 + [needle + page] + [page] * 4))
    keyed = Question.parse("What is the special magic number for grubby-color?")
    assert not subject_names(keyed, chunks)


def test_a_hyphenated_word_the_document_never_writes_keeps_no_name_from_being_the_subject() -> None:
    # blind8's ss-03: "round-trip" is the asker's word (ss(8) writes "round trip"), no key,
    # so "TCP", in most chunks, is the subject: it pins none of them to be read whole.
    page = "TCP sockets show the round trip time and the window. " * 12
    chunks = chunks_of("\n\n".join([page] * 10))
    asked = in_document(Question.parse("What unit are the TCP round-trip times in?"), chunks)
    assert asked.document_subject == {"tcp"} and "round-trip" not in asked.entities


def test_a_term_in_most_texts_ranks_nothing_in_bm25() -> None:
    texts = [f"Saskia {w} the letters." for w in ("sorted", "read", "burnt", "sent")] * 3
    texts.append("Saskia learned to play the clarinet.")
    scores = bm25_scores("Saskia clarinet", texts)
    assert scores[-1] > 0 and scores[:-1] == [0.0] * (len(texts) - 1)
    assert all(s > 0 for s in bm25_scores("Saskia", texts))  # every term common: kept


def _dog_sentence(text: str) -> str:
    match = re.search(r"[^.]*greyhound[^.]*\.", text)
    assert match
    return match.group(0).strip()


def test_a_subject_question_reads_ranked_passages_and_junk_naming_her_is_no_answer(
    story: tuple[str, str, str],
) -> None:
    text, first, dog = story
    chunks = len(chunks_of(text))
    sentence = _dog_sentence(text)

    def reader(request: GenerationRequest) -> dict:
        passage = request.task.get("passage", "")
        if sentence in " ".join(passage.split()):
            return {"quote": sentence, "answer": dog}
        # elsewhere the 135M model answers a friend's name from a sentence naming her
        match = re.search(
            rf"[^.]*\b{first}\b[^.]*\b(Agnes|Bruno|Clara|Dmitri|Elif|Farid)\b", passage
        )
        if match:
            return {"quote": match.group(0).strip(), "answer": match.group(1)}
        return {"quote": "", "answer": ""}

    model = ScriptedModel(reader)
    answer = LongAgent(model, chunk_tokens=120, verifier="semantic").ask(text, DOG)
    assert answer.found and answer.text == dog
    assert sentence in answer.citations[0].quote
    assert answer.trace[0].members == []  # no chunk was read for the name alone
    assert any(r.kind == "search" for r in answer.trace)
    assert len(model.requests) < chunks  # fewer readings than a sweep of every chunk

    # Without the dog's sentence only junk is left: a friend's name is no answer.
    junk = ScriptedModel(reader)
    answer = LongAgent(junk, chunk_tokens=120, verifier="semantic").ask(
        text.replace(sentence, ""), DOG
    )
    assert not answer.found
    # The lexical verifier refuses the junk too (and, by words, the paraphrase).
    answer = LongAgent(ScriptedModel(reader), chunk_tokens=120).ask(text, DOG)
    assert not answer.found


def subject_question(question: str, subject: str) -> Question:
    return replace(Question.parse(question), document_subject=frozenset({subject}))


CHUNK = (
    "Saskia Okafor took in a three-legged greyhound from the shelter and named it Maple. "
    "Saskia told Elif that she wanted more quiet evenings and fewer errands."
)


@pytest.mark.parametrize(
    ("answer", "quote", "verdict"),
    [
        ("Maple", "Saskia Okafor took in a three-legged greyhound", "grounded"),
        # her own full name is no answer, nor a friend's from a sentence naming her
        ("Saskia Okafor", "Saskia Okafor took in a three-legged greyhound", "unsupported"),
        ("Sakia Okafor", "Saskia Okafor took in a three-legged greyhound", "unsupported"),
        ("Elif", "Saskia told Elif that she wanted more quiet evenings", "unsupported"),
        # the reader must quote what it read: any sentence names her
        ("Maple", "copy the sentence that answers the question", "hallucinated"),
    ],
)
def test_the_lexical_verifier_on_a_subject_question(answer: str, quote: str, verdict: str) -> None:
    question = subject_question("What was the name of the greyhound Saskia took in?", "saskia")
    check = LexicalVerifier().check(MemberReply(quote=quote, answer=answer), CHUNK, question)
    assert check.verdict == verdict


def test_her_name_is_no_word_of_what_is_asked() -> None:
    # "Who did Saskia wed?" asks one word besides her name: a sentence naming her shares
    # half of the question's words, yet says nothing of a wedding.
    question = subject_question("Who did Saskia wed?", "saskia")
    reply = MemberReply(quote="Saskia told Elif that she wanted more quiet", answer="Elif")
    assert LexicalVerifier().check(reply, CHUNK, question).verdict == "unsupported"
    assert not LexicalVerifier().could_ground(CHUNK, question)


def test_without_the_subject_a_quote_may_be_missing_and_the_name_grounds() -> None:
    question = Question.parse("What was the name of the greyhound Saskia adopted?")
    reply = MemberReply(quote="copy the sentence that answers the question", answer="Maple")
    assert LexicalVerifier().check(reply, CHUNK, question).verdict == "grounded"


def test_the_semantic_verifier_grounds_a_paraphrase_about_her_and_refuses_a_mere_mention() -> None:
    verifier = SemanticVerifier(MiniLMEmbedder())
    question = subject_question(DOG, "saskia")
    maple = MemberReply(quote="took in a three-legged greyhound", answer="Maple")
    assert verifier.check(maple, CHUNK, question).verdict == "grounded"
    instrument = subject_question("Which musical instrument did Saskia take up?", "saskia")
    elif_ = MemberReply(quote="Saskia told Elif that she wanted more quiet", answer="Elif")
    assert verifier.check(elif_, CHUNK, instrument).verdict == "unsupported"


def test_when_the_reader_cannot_phrase_an_answer_the_sentence_it_cites_answers(
    story: tuple[str, str, str],
) -> None:
    text, first, dog = story
    sentence = _dog_sentence(text)
    filler = re.search(rf"{first} told \w+ that she wanted more quiet evenings[^.]*\.", text)
    assert filler

    def misreads(cites: str) -> dict:
        # the 135M model quoted the right sentence and answered "Pine" or "Sears 2015"
        return {"quote": cites, "answer": "Pine"}

    def reader(request: GenerationRequest) -> dict:
        passage = " ".join(request.task.get("passage", "").split())
        return misreads(sentence) if sentence in passage else {"quote": "", "answer": ""}

    answer = LongAgent(ScriptedModel(reader), chunk_tokens=120, verifier="semantic").ask(text, DOG)
    assert answer.found and dog in answer.text and answer.citations[0].quote == sentence

    def cites_filler(request: GenerationRequest) -> dict:
        passage = " ".join(request.task.get("passage", "").split())
        return misreads(filler.group(0)) if filler.group(0) in passage else {}

    answer = LongAgent(ScriptedModel(cites_filler), chunk_tokens=120, verifier="semantic")
    assert not answer.ask(text, DOG).found  # the cited sentence is not about the dog
    # Not for a question whose names pin the chunks: there the reader's answer stands alone.
    assert cited_sentence(sentence, CHUNK, Question.parse(DOG)) is None
    assert cited_sentence("Saskia", CHUNK, subject_question(DOG, "saskia")) is None


def test_a_subject_question_reads_each_ranked_passage_without_its_neighbours(
    story: tuple[str, str, str],
) -> None:
    # Her neighbouring sentences name her too: the 135M model quoted them instead.
    text, _, _ = story

    def read(question: str) -> list[int]:
        model = ScriptedModel(lambda request: {"quote": "", "answer": ""})
        LongAgent(model, chunk_tokens=120).ask(text, question)
        return [len(sentences(r.task["passage"])) for r in model.requests]

    assert max(read(DOG)) <= PASSAGE_SENTENCES
    # A question whose names pin nothing here reads its passages in their context.
    assert max(read("What did Zorbu Tam call the dog he adopted?")) > PASSAGE_SENTENCES


def test_an_answer_cut_short_of_its_sentence_is_the_sentence(
    story: tuple[str, str, str],
) -> None:
    text, _, dog = story
    sentence = _dog_sentence(text)
    start = " ".join(sentence.split()[:6])  # "Saskia Varga took in a three-legged", no name
    assert dog not in start

    def reader(request: GenerationRequest) -> dict:
        passage = " ".join(request.task.get("passage", "").split())
        return {"quote": sentence, "answer": start} if sentence in passage else {}

    answer = LongAgent(ScriptedModel(reader), chunk_tokens=120, verifier="semantic").ask(text, DOG)
    assert answer.found and answer.text == sentence


STATES = "The status of the task which can be one of: D = uninterruptible sleep, R = running."
CODES = (
    "The command mount -a returns 0 (all succeeded), 32 (all failed), or 64 (some failed, "
    "some succeeded)."
)
# Cut by the reply schema's length limit, after a last word of its own ("had").
CODES_CUT = CODES[: CODES.index("(some") + 6] + "had"


@pytest.mark.parametrize(
    ("sentence", "said", "asked", "meant"),
    [
        # Not only about the document's subject: the 135M reader copied top(1)'s line up to
        # the letter asked about and stopped before its meaning (blind5's top-03).
        (
            STATES,
            "The status of the task which can be one of: D",
            "Some of my processes show a D in the state column. What does that letter mean?",
            "uninterruptible sleep",
        ),
        # blind6's mount-06: the copy of mount(8)'s exit codes wandered in its last word
        # and was cut at the reply limit before the meaning of 64, asked for.
        (
            CODES,
            CODES_CUT,
            "My boot script mounts all entries from the table at once and gets back exit "
            "code 64. What does that code mean?",
            "some failed, some succeeded",
        ),
    ],
    ids=["stopped-short", "cut-at-the-limit"],
)
def test_any_answer_cut_short_of_its_sentence_is_the_sentence(
    sentence: str, said: str, asked: str, meant: str
) -> None:
    assert len(CODES_CUT) == ANSWER_CHARS and not CODES.startswith(CODES_CUT)
    filler = "The summary area shows the load average and the memory in use. " * 8
    text = "\n\n".join([filler, filler, f"{filler}{sentence} {filler}", filler])

    def reader(request: GenerationRequest) -> dict:
        passage = " ".join(request.task.get("passage", "").split())
        return {"quote": sentence, "answer": said} if sentence in passage else {}

    answer = LongAgent(ScriptedModel(reader), chunk_tokens=120).ask(text, asked)
    assert answer.found and meant in answer.text


@pytest.mark.slow
def test_the_bundled_model_on_a_life_story_reads_ranked_passages_and_claims_no_wrong_answer(
    bundled_model,
) -> None:
    text, questions = make_person(bundled_model.count_tokens, tokens=6000, seed=0)
    agent = LongAgent(bundled_model, verifier="semantic")
    prepared = agent.prepare(text)
    for item in (questions[2], questions[-3]):  # her hurt arm (dev), an absent cat
        answer = agent.ask(prepared, item.question)
        assert answer.trace[0].members == []  # her name pinned no chunk: no sweep
        search = [r for r in answer.trace if r.kind == "search"]
        assert search and len(search[0].passages) <= 12
        if answer.found:  # right, or not claimed: never a wrong answer marked found
            assert item.kind == "lookup" and any(a in answer.text for a in item.answers)
