"""Every control path of the rule leader and the runner, with a scripted model that answers
by task (which chunk or passage a member reads, in which style), never by prompt text."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from longagent.agents import Event, LongAgent
from longagent.agents.profiles import PROFILES
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel

from ._qa_helpers import (
    BORN_RENDA,
    BORN_TOSA,
    FAMOUS,
    agent,
    chunk_of,
    document,
    is_pair,
    reply,
)


def test_all_members_refuse() -> None:
    model = ScriptedModel(lambda r: reply())
    answer = agent(model, reading="all").ask(document(), "In which town was Kalomi born?")
    assert not answer.found and "does not say" in answer.text
    assert [r.kind for r in answer.trace] == ["ask", "search"]
    assert len(model.batches[0]) == answer.chunks  # every member read its chunk
    search = answer.trace[1]  # then the likeliest passages were read, and refused too
    assert search.passages and {r.verdict for r in search.reports} == {"refused"}


def test_each_round_is_timed() -> None:
    # A reader taking 50 ms a request: each round that read took at least that, and the
    # rounds together no longer than the question.
    def slow(request: GenerationRequest) -> dict:
        time.sleep(0.05)
        return reply("Modules provide functions", "Paris")

    start = time.perf_counter()
    answer = agent(ScriptedModel(slow)).ask(document(BORN_RENDA), "Where was Kalomi born?")
    took = time.perf_counter() - start
    read = [r for r in answer.trace if r.reports]
    assert len(read) >= 2 and all(r.seconds >= 0.05 for r in read)
    assert sum(r.seconds for r in answer.trace) <= took


def test_chunks_that_cannot_ground_an_answer_are_not_read() -> None:
    # Only chunks naming the question's entities can pass the evidence check.
    def respond(request: GenerationRequest) -> dict:
        return reply(BORN_RENDA, "Renda") if BORN_RENDA in chunk_of(request) else reply()

    doc = document(BORN_RENDA, FAMOUS)
    question = "In which town was Kalomi born?"
    swept_model, all_model = ScriptedModel(respond), ScriptedModel(respond)
    swept = agent(swept_model).ask(doc, question)
    everyone = agent(all_model, reading="all").ask(doc, question)
    assert swept.text == everyone.text == "Renda" and swept.citations == everyone.citations
    assert len(swept_model.batches[0]) == 1 < len(all_model.batches[0]) == swept.chunks
    assert len(swept.trace[0].skipped) == swept.chunks - 1
    # A question about someone the document never names: no whole chunk is read; the
    # likeliest passages are, and the one about Kalomi's birth does not ground an answer
    # about Zorbu Tam.
    nobody = ScriptedModel(respond)
    answer = agent(nobody).ask(doc, "In which town was Zorbu Tam born?")
    assert not answer.found and answer.trace[0].members == []
    assert [r.kind for r in answer.trace] == ["ask", "search"]
    assert any(BORN_RENDA in r.task["passage"] for r in nobody.requests)


def test_one_grounded_answer_is_cited_and_members_run_as_one_batch() -> None:
    def respond(request: GenerationRequest) -> dict:
        return reply(BORN_RENDA, "Renda") if BORN_RENDA in chunk_of(request) else reply()

    model = ScriptedModel(respond)
    events: list[Event] = []
    doc = document(BORN_RENDA)
    answer = agent(model, events, reading="all").ask(doc, "In which town was Kalomi born?")
    assert answer.found and answer.text == "Renda"
    assert answer.chunks > 2 and len(model.batches[0]) == answer.chunks  # one batched call
    (citation,) = answer.citations
    assert doc.text[citation.start : citation.end] == citation.quote == BORN_RENDA
    assert [e.kind for e in events][:2] == ["round_started", "member_reports"] and events[
        -1
    ].kind == "answered"
    assert answer.usage.model_calls == model.calls and answer.usage.prompt_tokens > 0


def test_hallucinated_quote_is_dropped() -> None:
    def respond(request: GenerationRequest) -> dict:
        if BORN_RENDA in chunk_of(request):
            return reply(BORN_RENDA, "Renda")
        return reply("Kalomi was born in the city of Paris.", "Paris")  # invented

    answer = agent(ScriptedModel(respond)).ask(
        document(BORN_RENDA), "In which town was Kalomi born?"
    )
    assert answer.text == "Renda"
    verdicts = [r.verdict for r in answer.trace[0].reports]
    assert verdicts.count("hallucinated") == len(verdicts) - 1


def test_absent_fact_with_invented_answers_is_not_found() -> None:
    model = ScriptedModel(lambda r: reply("Velto was born in the town of Oslo.", "Oslo"))
    answer = agent(model).ask(document(BORN_RENDA), "In which town was Velto born?")
    assert not answer.found


def conflicting(pair_answer: dict):
    def respond(request: GenerationRequest) -> dict:
        if is_pair(request):  # the pair re-reading both chunks
            return pair_answer
        chunk = chunk_of(request)
        if BORN_RENDA in chunk:
            return reply(BORN_RENDA, "Renda")
        if BORN_TOSA in chunk:
            return reply(BORN_TOSA, "Tosa")
        return reply()

    return respond


def test_conflicting_clusters_are_resolved_through_the_graph() -> None:
    model = ScriptedModel(conflicting(reply(BORN_RENDA, "Renda")))
    events: list[Event] = []
    answer = agent(model, events).ask(
        document(BORN_RENDA, BORN_TOSA), "In which town was Kalomi born?"
    )
    assert answer.text == "Renda" and answer.found
    graph = answer.trace[0].conflict_graph
    assert graph is not None and len(graph.nodes) == 2 and len(graph.edges) == 1
    # "Renda" is new, but the evidence names every word of the question: no second hop.
    assert [r.kind for r in answer.trace] == ["ask", "resolve"]
    assert any(e.kind == "conflict_resolved" for e in events)


def test_a_split_that_cannot_be_settled_says_so() -> None:
    model = ScriptedModel(conflicting(reply()))
    answer = agent(model).ask(document(BORN_RENDA, BORN_TOSA), "In which town was Kalomi born?")
    assert answer.found and "conflicting" in answer.text
    assert "Renda" in answer.text and "Tosa" in answer.text and len(answer.citations) == 2


def test_invalid_json_counts_as_invalid_not_a_crash() -> None:
    answer = agent(ScriptedModel(lambda r: "not json")).ask(
        document(BORN_RENDA), "Where was Kalomi born?"
    )
    assert not answer.found and {r.verdict for r in answer.trace[0].reports} == {"invalid"}


def test_ask_many_prepares_once_and_empty_question_is_refused() -> None:
    model = ScriptedModel(lambda r: reply())
    answers = agent(model).ask_many(
        document(BORN_RENDA), ["Where was Kalomi born?", "Who is Velto?"]
    )
    assert len(answers) == 2 and answers[0].document_id == answers[1].document_id
    from longagent.errors import LongAgentError

    with pytest.raises(LongAgentError):
        agent(model).ask(document(), "  ")


def relevance_agent(model: ScriptedModel, wave: int = 2) -> LongAgent:
    from longagent.memory.embedder import HashEmbedder

    return LongAgent(
        model, chunk_tokens=120, reading="relevance", wave=wave, embedder=HashEmbedder()
    )


VISITS = [f"Kalomi visited the market of {town} in spring." for town in ("Ulo", "Pem", "Asta")]


def test_relevance_reading_asks_the_likeliest_chunk_first_and_stops() -> None:
    def respond(request: GenerationRequest) -> dict:
        return reply(BORN_RENDA, "Renda") if BORN_RENDA in chunk_of(request) else reply()

    model = ScriptedModel(respond)
    doc = document(*VISITS[:2], BORN_RENDA, VISITS[2])
    answer = relevance_agent(model).ask(doc, "In which town was Kalomi born?")
    assert answer.found and answer.text == "Renda"
    assert len(model.batches[0]) == 2  # one wave of two, then the ask round stops
    assert BORN_RENDA in chunk_of(model.batches[0][0])  # ranked first: born, town, Kalomi
    ask = answer.trace[0]
    assert len(ask.members) == 2 and len(ask.skipped) == answer.chunks - 2
    assert all(r.kind != "ask" for r in answer.trace[1:])


def test_relevance_reading_reads_every_candidate_when_nothing_is_grounded() -> None:
    model = ScriptedModel(lambda r: reply())
    answer = relevance_agent(model).ask(
        document(*VISITS, BORN_RENDA), "In which town was Kalomi born?"
    )
    assert not answer.found
    assert [len(b) for b in model.batches][:2] == [2, 2]  # the four chunks naming Kalomi
    ask = answer.trace[0]  # the waves are one ask round
    assert len(set(ask.members)) == 4 and len(ask.skipped) == answer.chunks - 4
    assert [r.kind for r in answer.trace] == ["ask", "focus", "search"]


def test_a_member_that_misses_the_fact_in_its_chunk_finds_it_in_the_focused_passage() -> None:
    def respond(request: GenerationRequest) -> dict:
        text = chunk_of(request)
        # Like the small model: the fact is found only when the input is short.
        if BORN_RENDA in text and len(text.split()) < 40:
            return reply(BORN_RENDA, "Renda")
        return reply("Modules provide functions", "Paris")

    model = ScriptedModel(respond)
    doc = document(BORN_RENDA)
    answer = agent(model).ask(doc, "In which town was Kalomi born?")
    assert answer.found and answer.text == "Renda"
    assert [r.kind for r in answer.trace][:2] == ["ask", "focus"]
    focused = chunk_of(model.batches[1][0])
    assert BORN_RENDA in focused and len(focused) < len(chunk_of(model.batches[0][0])) / 2
    (citation,) = answer.citations  # judged against the whole chunk: real document offsets
    assert doc.text[citation.start : citation.end] == BORN_RENDA


def test_relevance_reading_still_resolves_conflicts_in_the_wave() -> None:
    model = ScriptedModel(conflicting(reply(BORN_RENDA, "Renda")))
    answer = relevance_agent(model, wave=2).ask(
        document(*VISITS, BORN_RENDA, BORN_TOSA), "In which town was Kalomi born?"
    )
    assert answer.text == "Renda"
    assert [r.kind for r in answer.trace] == ["ask", "resolve"]
    ask = answer.trace[0]
    assert ask.conflict_graph is not None and len(ask.conflict_graph.edges) == 1
    assert len(model.batches[0]) == 2 and len(ask.skipped) == answer.chunks - 2


def test_unknown_reading_is_a_clear_error() -> None:
    from longagent.errors import LongAgentError

    with pytest.raises(LongAgentError, match="sweep"):
        LongAgent(ScriptedModel([]), reading="fast")  # type: ignore[arg-type]


BORN_FENNI = "Kalomi was born in the town of Fenni."
# They share more of the second question's words than the birth chunk does.
BIRTHPLACE_DECOYS = [
    f"Kalomi did not know the birthplace of her friend {name}." for name in ("Ulo", "Pem", "Asta")
]
WHERE_BORN = "In which town was Kalomi born?"
BIRTHPLACE = "What do you know about the birthplace of Kalomi?"


def born_in_fenni(request: GenerationRequest) -> dict:
    if BORN_FENNI in chunk_of(request):
        return reply(BORN_FENNI, "Fenni")
    return reply("Kalomi was born in the city of Paris.", "Paris")  # invented: not grounded


def test_a_question_leaves_its_grounded_reports_as_thoughts() -> None:
    lead = relevance_agent(ScriptedModel(born_in_fenni))
    prepared = lead.prepare(document(*BIRTHPLACE_DECOYS[:2], BORN_FENNI, BIRTHPLACE_DECOYS[2]))
    answer = lead.ask(prepared, WHERE_BORN)
    (fenni,) = [c.id for c in prepared.chunks if BORN_FENNI in c.text]
    assert answer.text == "Fenni" and any(
        r.verdict == "hallucinated" for r in answer.trace[0].reports
    )
    # Only the grounded report, once (the follow-up round grounds it again).
    (thought,) = lead.thoughts.recall(prepared.document.id, WHERE_BORN)
    assert thought.chunk_id == fenni and thought.question == WHERE_BORN
    assert "Fenni" in thought.text and BORN_FENNI in thought.text


def test_relevance_reading_asks_the_chunk_a_recalled_thought_names_in_the_first_wave() -> None:
    doc = document(*BIRTHPLACE_DECOYS[:2], BORN_FENNI, BIRTHPLACE_DECOYS[2])

    def first_wave(model: ScriptedModel, prepared_with: list[str]) -> list[str]:
        lead = relevance_agent(model)
        prepared = lead.prepare(doc)
        for question in prepared_with:
            lead.ask(prepared, question)
        before = len(model.batches)
        answer = lead.ask(prepared, BIRTHPLACE)
        assert answer.text == "Fenni"
        return [chunk_of(r) for r in model.batches[before]]

    # Rare words and embeddings alone put the decoys first: the birth chunk waits.
    fresh = first_wave(ScriptedModel(born_in_fenni), [])
    assert len(fresh) == 2 and not any(BORN_FENNI in c for c in fresh)
    # Once a question has grounded the birth in that chunk, it is read first.
    recalled = first_wave(ScriptedModel(born_in_fenni), [WHERE_BORN])
    assert len(recalled) == 2 and BORN_FENNI in recalled[0]


def test_sweep_reading_is_unaffected_by_thoughts() -> None:
    model = ScriptedModel(born_in_fenni)
    lead = agent(model)
    prepared = lead.prepare(document(*BIRTHPLACE_DECOYS, BORN_FENNI))
    lead.ask(prepared, WHERE_BORN)
    before = len(model.batches)
    lead.ask(prepared, BIRTHPLACE)
    assert lead.thoughts.recall(prepared.document.id, BIRTHPLACE)
    assert len(model.batches[before]) == 4  # every candidate at once


def searchless_agent(model: ScriptedModel) -> LongAgent:
    """The small profile with no search to follow a focus round."""
    return LongAgent(model, chunk_tokens=120, profile=replace(PROFILES["small"], search_waves=()))


def test_a_focus_round_reads_each_passage_several_ways_and_keeps_the_agreed_answer() -> None:
    # Whole chunk: a wrong answer. Passage: the plain prompt's greedy reading grounds a
    # junk word, two sampled readings ground the fact; the instructed prompt never does.
    def respond(request: GenerationRequest) -> dict:
        text = chunk_of(request)
        plain = request.task["style"] == "plain"
        if len(text.split()) > 40 or not plain:
            return reply("Modules provide functions", "Paris")
        if request.temperature == 0:
            return reply(BORN_RENDA, "town")  # grounded but wrong: "town" is in the evidence
        return reply(BORN_RENDA, "Renda") if request.seed in (1, 2) else reply()

    model = ScriptedModel(respond)
    answer = searchless_agent(model).ask(document(BORN_RENDA), "Where was Kalomi born?")
    assert answer.found and answer.text == "Renda"
    focus_batch = model.batches[1]
    assert len(focus_batch) == 8  # one member: 2 prompt styles x (greedy + 3 samples)
    assert sorted(r.temperature for r in focus_batch) == [0, 0] + [0.8] * 6
    (report,) = answer.trace[1].reports  # one report per member: the agreed reading
    assert report.verdict == "grounded" and report.answer == "Renda"


def test_a_focus_round_over_many_members_shares_its_readings() -> None:
    # Eight chunks name Kalomi and ground nothing: the round's 16 readings are shared,
    # one greedy reading of each passage in each style; one member alone gets eight.
    facts = [f"Kalomi wrote letters to {town} in the spring." for town in "ABCDEFGH"]
    many = ScriptedModel(lambda r: reply("Modules provide functions", "Paris"))
    searchless_agent(many).ask(document(*facts), "In which town was Kalomi born?")
    focus = many.batches[1]
    assert len(focus) == 16 and {r.temperature for r in focus} == {0}
    assert len({chunk_of(r) for r in focus}) == 8
    one = ScriptedModel(lambda r: reply("Modules provide functions", "Paris"))
    searchless_agent(one).ask(document(facts[0]), "In which town was Kalomi born?")
    assert len(one.batches[1]) == 8 and len({chunk_of(r) for r in one.batches[1]}) == 1


def test_a_focus_round_before_a_search_leaves_the_samples_to_the_search() -> None:
    # A first hop's focus round that grounds nothing is followed by the search: each
    # passage is read once in each style, greedily. A question naming a record by its key
    # (a UUID) keeps the samples: its answer is on the key's own line.
    def junk(request: GenerationRequest) -> dict:
        return reply("Modules provide functions", "Paris")

    model = ScriptedModel(junk)
    answer = agent(model).ask(document(BORN_RENDA), "Where was Kalomi born?")
    assert [r.kind for r in answer.trace] == ["ask", "focus", "search"]
    assert len(model.batches[1]) == 2 and {r.temperature for r in model.batches[1]} == {0}
    key = "3f2a9c1e-77b0-4d2e-9a51-0c6e8b1d2f44"
    keyed = ScriptedModel(junk)
    answer = agent(keyed).ask(
        document(f"The special magic value for {key} is 7131."), f"What is the value for {key}?"
    )
    assert [r.kind for r in answer.trace][:2] == ["ask", "focus"]
    assert len(keyed.batches[1]) == 8


def test_a_conflicting_pair_too_big_for_the_window_rereads_only_the_passages() -> None:
    filler = "Modules provide functions and classes for many ordinary tasks in programs. " * 80
    doc = Document.create(f"{filler}{BORN_RENDA}\n\n{filler}{BORN_TOSA}")
    model = ScriptedModel(conflicting(reply(BORN_RENDA, "Renda")), context_window=2048)
    answer = LongAgent(model, chunk_tokens=1000).ask(doc, "In which town was Kalomi born?")
    assert answer.chunks == 2 and answer.text == "Renda"
    (pair,) = [r for r in model.requests if is_pair(r)]
    first, second = pair.task["passages"]
    assert BORN_RENDA in first and BORN_TOSA in second
    assert model.count_tokens(first + second) < 500  # the two chunks alone are 2,000 words
