"""Ranked passages (BM25 fused with MiniLM) and the search a leader starts when the
question's words ground nothing: which passages are read, in what order, when it stops."""

from __future__ import annotations

from dataclasses import replace

import pytest

from longagent.agents import LongAgent
from longagent.agents.profiles import get_profile
from longagent.agents.ranking import PassageIndex, bm25_scores, readings
from longagent.apps.bench.natural_data import DATA
from longagent.chunking import Document, load, split
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import HashEmbedder, MiniLMEmbedder

from ._qa_helpers import FILLER

NETRC = "The file ~/.netrc holds the user names and passwords used for remote machines."
OTHER = [
    "Colours in the listing are set by the LS_COLORS variable in the environment.",
    "A pattern given twice is matched only once, whatever its case.",
    "Compressed archives are read through a pipe from the decompressor.",
    "The exit status is zero when every file was processed without error.",
]


def words_count(text: str) -> int:
    return len(text.split())


def test_bm25_prefers_the_text_holding_the_rarer_stemmed_terms() -> None:
    texts = [
        "The configuration is read at start.",
        "Passwords for remote machines are kept in one file.",
        "The machine starts.",
    ]
    scores = bm25_scores("Where are the passwords for my remote machine kept?", texts)
    assert scores.index(max(scores)) == 1 and scores[0] == 0.0  # "machine" matches "machines"
    assert bm25_scores("the of and", texts) == [0.0] * 3  # stopwords only: nothing ranks


@pytest.mark.parametrize("query", ['what does "-x" do?', "a:b (c) AND OR NOT", "x^2 + [y]*", ""])
def test_bm25_takes_any_text_a_person_types(query: str) -> None:
    scores = bm25_scores(query, ["x does y", "a b c"])
    assert len(scores) == 2 and all(s >= 0 for s in scores)


def test_passages_are_two_sentences_read_with_their_context() -> None:
    doc = Document.create(" ".join([*OTHER, NETRC]))
    index = PassageIndex(split(doc, words_count, 200), HashEmbedder())
    assert all(words_count(index.text(p)) < 40 for p in index.passages)
    chosen = readings(index, "Where are the passwords for remote machines kept?")
    first = index.text(chosen[0])
    assert NETRC in first and OTHER[-1] in first  # the passage, with the sentence before it
    spans = [(p.start, p.end) for p in chosen]
    assert all(a[1] <= b[0] or b[1] <= a[0] for a in spans for b in spans if a != b)


def test_minilm_ranks_the_paraphrased_passage_first_in_a_real_document() -> None:
    doc = load(DATA / "grep.txt")
    index = PassageIndex(split(doc, words_count, 400), MiniLMEmbedder())
    top = [index.text(p) for p in index.rank("How do I make grep ignore upper and lower case?")]
    assert any("--ignore-case" in t for t in top[:5])


def searching(model: ScriptedModel, **profile: object) -> LongAgent:
    small = replace(get_profile("small"), **profile)  # type: ignore[arg-type]
    return LongAgent(model, chunk_tokens=120, profile=small, verifier="semantic")


def netrc_document() -> Document:
    return Document.create("\n\n".join([FILLER, f"{FILLER}{NETRC} {FILLER}", FILLER, *OTHER]))


def answers_netrc(request: GenerationRequest) -> dict:
    if NETRC in request.task.get("passage", "") and len(request.task["passage"]) < 600:
        return {"quote": NETRC, "answer": "~/.netrc"}
    return {"quote": "", "answer": ""}


def test_a_paraphrase_is_answered_from_the_passage_a_search_reads() -> None:
    model = ScriptedModel(answers_netrc)
    answer = searching(model).ask(netrc_document(), "Where are my saved logins for servers kept?")
    assert answer.found and answer.text == "~/.netrc"
    search = answer.trace[-1]
    assert search.kind == "search" and answer.citations[0].quote == NETRC
    # The trace says which passages were read; the cited one among them.
    cited = answer.citations[0]
    assert any(a <= cited.start and cited.end <= b for a, b in search.passages)


def test_a_sentence_two_readers_quote_is_cited_once() -> None:
    # Every passage's reader quotes the sentence (a whole chunk's reader refuses), and a
    # reply is judged against its passage's whole chunk: the passages read there all ground it.
    def quotes_netrc(request: GenerationRequest) -> dict:
        if len(request.task.get("passage", "")) < 600:
            return {"quote": NETRC, "answer": "~/.netrc"}
        return {"quote": "", "answer": ""}

    model = ScriptedModel(quotes_netrc)
    answer = searching(model, search_waves=(12,)).ask(
        netrc_document(), "Where are my saved logins for servers kept?"
    )
    grounded = [r for r in answer.trace[-1].reports if r.verdict == "grounded"]
    assert answer.found and len(grounded) >= 2
    assert [c.quote for c in answer.citations] == [NETRC]


def test_a_free_reading_s_sentence_is_grounded_at_the_passage_sentence_that_holds_it() -> None:
    # The reader answers in its own words, not JSON, and quotes nothing: the citation is
    # the passage's own sentence holding the answer, found by the checker.
    def says(request: GenerationRequest) -> str:
        if NETRC in request.task.get("passage", "") and len(request.task["passage"]) < 600:
            return "Your saved logins are in ~/.netrc, with the passwords."
        return "The text does not say."

    model = ScriptedModel(says)
    answer = searching(model, search_styles=("free",)).ask(
        netrc_document(), "Where are my saved logins for servers kept?"
    )
    assert answer.found and answer.citations[0].quote == NETRC
    assert answer.text == NETRC  # the document's sentence answers, not the reader's words
    assert answer.trace[-1].kind == "search"
    assert all(r.json_schema is None for r in model.batches[-1])


RETRIES = (
    "   -t number\n   --tries=number\n       Set number of tries to number.  Specify 0 or inf\n"
    "       for infinite retrying.  The default is to retry 20 times.\n\n"
    "   -O file\n   --output-document=file\n       The documents will not be written to"
    " the appropriate files, but all\n       will be concatenated together and written"
    " to file.\n"
)


def test_a_free_reading_answers_with_its_cited_sentence_and_the_option_it_describes() -> None:
    def says(request: GenerationRequest) -> str:
        if "retry 20" in request.task.get("passage", ""):
            return "It tries again 20 times before giving up the the download."
        return "The text does not say."

    model = ScriptedModel(says)
    doc = Document.create("\n\n".join([FILLER, RETRIES, FILLER, *OTHER]))
    answer = searching(model, search_styles=("free",)).ask(
        doc, "By default, how many times does it try a download again?"
    )
    assert answer.found and answer.citations[0].quote == "The default is to retry 20 times."
    assert answer.text == "-t number, --tries=number: The default is to retry 20 times."


@pytest.mark.parametrize(
    ("question", "held"),
    [
        ("Where are my saved logins for servers kept?", False),
        ("What is the value for 4c11aa09-f00d-4d44-9718-fe90b91aebbf?", True),
    ],
)
def test_a_question_naming_a_record_by_its_identifier_searches_in_json(
    question: str, held: bool
) -> None:
    # A record's value is copied from its line, which a JSON quote copies verbatim; a
    # question worded as people ask is read freely.
    refusing = ScriptedModel(lambda r: {"quote": "", "answer": ""})
    profile = {"search_styles": ("free",), "key_search_styles": ("plain",)}
    answer = searching(refusing, **profile).ask(netrc_document(), question)
    assert answer.trace[-1].kind == "search"
    assert [r.json_schema is not None for r in refusing.batches[-1]] == [held] * len(
        refusing.batches[-1]
    )


@pytest.mark.parametrize("ahead", [False, True])
def test_a_search_grows_wave_by_wave_and_stops_at_the_first_grounded_wave(ahead: bool) -> None:
    refusing = ScriptedModel(lambda r: {"quote": "", "answer": ""})
    answer = searching(refusing, search_waves=(1, 2), search_ahead=ahead).ask(
        netrc_document(), "Where are my saved logins for servers kept?"
    )
    search = answer.trace[-1]
    assert not answer.found and search.kind == "search" and len(search.passages) == 3
    styles = len(get_profile("small").search_styles)
    # Read ahead, both waves are one call; else a call per wave.
    calls = [3 * styles] if ahead else [1 * styles, 2 * styles]
    assert [len(b) for b in refusing.batches[-len(calls) :]] == calls
    found = ScriptedModel(answers_netrc)
    answer = searching(found, search_waves=(1, 2), search_ahead=ahead).ask(
        netrc_document(), "Where are my saved logins for servers kept?"
    )
    assert answer.found and len(answer.trace[-1].passages) in (1, 3)
    if len(answer.trace[-1].passages) == 1:  # grounded in the first wave: the second unjudged
        assert len(found.batches[-1]) == (3 if ahead else 1) * styles
        assert len(answer.trace[-1].reports) == 1


def test_a_search_read_ahead_answers_as_wave_by_wave() -> None:
    # A sentence sharing the question's words ranks first and refuses; the answer's passage
    # grounds in the second wave. Reading ahead changes the calls, not what is judged.
    decoy = "Saved logins for servers are a topic of the next pages, kept for later."
    parts = [FILLER, f"{decoy} {FILLER}", FILLER, f"{FILLER}{NETRC} {FILLER}", *OTHER]
    traces, calls = [], []
    for ahead in (False, True):
        model = ScriptedModel(answers_netrc)
        answer = searching(model, search_waves=(1, 1, 2), search_ahead=ahead).ask(
            Document.create("\n\n".join(parts)), "Where are my saved logins for servers kept?"
        )
        search = answer.trace[-1]
        traces.append((answer.text, search.passages, [r.verdict for r in search.reports]))
        calls.append([len(b) for b in model.batches[1:]])
    assert traces[0] == traces[1]
    assert traces[0][0] == "~/.netrc" and traces[0][2] == ["refused", "grounded"]
    styles = len(get_profile("small").search_styles)
    assert calls == [[styles, styles], [4 * styles]]  # the third wave read ahead, unjudged


@pytest.mark.parametrize("styles", [("plain",), ("plain", "instructed")])
def test_a_search_reads_each_passage_once_in_each_of_its_styles(styles: tuple) -> None:
    refusing = ScriptedModel(lambda r: {"quote": "", "answer": ""})
    answer = searching(refusing, search_waves=(2,), search_styles=styles).ask(
        netrc_document(), "Where are my saved logins for servers kept?"
    )
    assert answer.trace[-1].kind == "search" and len(answer.trace[-1].passages) == 2
    assert len(refusing.batches[-1]) == 2 * len(styles)
    # Two styles read the same passage twice; one reads each passage once.
    texts = [r.task["passage"] for r in refusing.batches[-1]]
    assert len(set(texts)) == 2


def test_no_search_when_the_profile_turns_it_off() -> None:
    model = ScriptedModel(answers_netrc)
    answer = searching(model, search_waves=()).ask(
        netrc_document(), "Where are my saved logins for servers kept?"
    )
    assert not answer.found and "search" not in [r.kind for r in answer.trace]


def test_chunks_chosen_by_topic_words_alone_are_not_re_read_closely_the_search_reads() -> None:
    # Nothing names a person or a key: the chunks sharing the question's words were
    # guesses, so after they refuse, the ranked passages are read, not those chunks again.
    refusing = ScriptedModel(lambda r: {"quote": "", "answer": ""})
    answer = searching(refusing).ask(
        netrc_document(), "Where are the passwords for remote machines kept?"
    )
    assert answer.trace[0].kind == "ask" and answer.trace[0].members
    assert [r.kind for r in answer.trace] == ["ask", "search"]
    found = ScriptedModel(answers_netrc)
    answer = searching(found).ask(
        netrc_document(), "Where are the passwords for remote machines kept?"
    )
    assert answer.found and answer.text == "~/.netrc" and answer.trace[-1].kind == "search"


SERVERS = "Servers you log in to often can be kept in a list of saved logins."


@pytest.mark.parametrize(
    ("question", "topic_chunks", "chunks_read"),
    [
        # Named nothing, and its words stand in three chunks: none pins the answer.
        ("Where are my saved logins for servers kept?", 2, False),
        ("Where are my saved logins for servers kept?", 0, True),  # the knob off
        ('Where are my saved logins for "mirror7" kept?', 2, True),  # a name chooses
    ],
)
def test_a_question_whose_topic_words_stand_in_many_chunks_is_searched_first(
    question: str, topic_chunks: int, chunks_read: bool
) -> None:
    parts = [FILLER, NETRC, *[f"{FILLER}{SERVERS} mirror7 {FILLER}" for _ in range(3)], *OTHER]
    document = Document.create("\n\n".join(parts))
    model = ScriptedModel(answers_netrc)
    agent = searching(model, search_styles=("plain",), topic_chunks=topic_chunks)
    answer = agent.ask(document, question)
    asked = answer.trace[0]
    assert asked.kind == "ask" and bool(asked.members) == chunks_read
    if not chunks_read:
        assert answer.found and answer.trace[-1].kind == "search"
        assert answer.citations[0].quote == NETRC
    # Asked to read every chunk, as in the paper, it does.
    every = LongAgent(model, chunk_tokens=120, profile=agent.profile, reading="all")
    answer = every.ask(document, question)
    assert answer.trace[0].members == list(range(answer.chunks))
