"""With `extract` on, when no reader can phrase an answer, the search's read sentence
closest in meaning to the question answers, verbatim and cited (`agents/extraction.py`,
issue #18). The scripted reader replies as the 135M model does over a man page: it echoes
the question."""

from __future__ import annotations

from dataclasses import replace

import pytest

from longagent.agents import LongAgent
from longagent.agents.thoughts import thoughts_of
from longagent.apps.bench.person import make_person
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel

from ._qa_helpers import reply

ENTRIES = [
    "-q, --quiet\n    Turn off the crawler's output.",
    "-v, --verbose\n    Turn on verbose output, with all the available data.",
    "-t number, --tries=number\n    Set number of tries to number. Specify 0 for infinite "
    "retrying.",
    "-w seconds, --wait=seconds\n    Wait the specified number of seconds between the "
    "retrievals. Use of this option is recommended, as it lightens the server load.",
    "-N, --timestamping\n    Turn on time-stamping: a file is fetched again only when the "
    "remote copy is newer than the local one.",
    "-P prefix, --directory-prefix=prefix\n    Set the directory prefix to prefix: the "
    "directory where all other files and subdirectories will be saved to.",
    "-l depth, --level=depth\n    Set the maximum number of subdirectories that the crawler "
    "will recurse into to depth. The default maximum depth is 5.",
    "-k, --convert-links\n    After the download is complete, convert the links in the "
    "document to make them suitable for local viewing.",
    "-np, --no-parent\n    Do not ever ascend to the parent directory when retrieving recursively.",
]
DEPTH = "How many levels deep does the crawler go when it follows links, if I don't say?"
COOKIE = "How do I make the crawler send a cookie with each request?"


def manual(entries: list[str]) -> Document:
    return Document.create("OPTIONS\n\n" + "\n\n".join(entries))


def echo(request: GenerationRequest) -> dict:
    """The 135M model's usual reply over a man page: the question, given back."""
    question = str(request.messages[-1].content).rsplit("\n", 1)[-1]
    return reply(question, question)


def extracting(model: ScriptedModel) -> LongAgent:
    return LongAgent(model, chunk_tokens=40, extract=True)


def test_the_sentence_closest_in_meaning_answers_when_no_reply_grounds() -> None:
    document = manual(ENTRIES)
    answer = extracting(ScriptedModel(echo)).ask(document, DEPTH)
    assert answer.found and "The default maximum depth is 5." in answer.text
    (citation,) = answer.citations
    assert document.text[citation.start : citation.end] == citation.quote  # verbatim
    reports = [r for round_ in answer.trace for r in round_.reports]
    assert [r.extracted for r in reports if r.verdict == "grounded"] == [True]
    assert answer.trace[-1].kind == "search"  # no hop follows the extracted sentence
    assert thoughts_of(answer) == []  # not remembered: no reader's finding
    # Without it (the default) the same replies leave it unanswered.
    assert not LongAgent(ScriptedModel(echo), chunk_tokens=40).ask(document, DEPTH).found


def test_the_small_profile_answers_before_its_readers_read_the_search_s_passages() -> None:
    document = manual(ENTRIES)
    answer = extracting(ScriptedModel(echo)).ask(document, DEPTH)
    assert answer.found and "The default maximum depth is 5." in answer.text
    search = answer.trace[-1]
    assert search.kind == "search" and search.passages == []  # no reader read a passage
    (extracted,) = search.reports
    assert extracted.extracted and extracted.evidence == answer.citations[0]
    # A profile that waits for its readers (a capable model's) reads first, then extracts.
    small = LongAgent(ScriptedModel(echo), chunk_tokens=40).profile
    waits = replace(small, extract=True, extract_first=False)
    answer = LongAgent(ScriptedModel(echo), chunk_tokens=40, profile=waits).ask(document, DEPTH)
    assert answer.found and "The default maximum depth is 5." in answer.text
    search = answer.trace[-1]
    assert search.passages and sum(r.extracted for r in search.reports) == 1
    assert len(search.reports) > 1  # the readers' refused replies, then the sentence


def test_the_setting_turns_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGAGENT_EXTRACT", "1")
    answer = LongAgent(ScriptedModel(echo), chunk_tokens=40).ask(manual(ENTRIES), DEPTH)
    assert answer.found and "The default maximum depth is 5." in answer.text
    lead = LongAgent(ScriptedModel(echo), chunk_tokens=40, extract=False)  # the argument wins
    assert not lead.ask(manual(ENTRIES), DEPTH).found


def test_an_absent_answer_is_refused_after_the_likeliest_passages_were_read() -> None:
    answer = extracting(ScriptedModel(echo)).ask(manual(ENTRIES), COOKIE)
    assert not answer.found
    search = answer.trace[-1]
    assert search.kind == "search" and search.passages and search.reports


def test_a_sentence_about_someone_else_never_answers() -> None:
    # As close in meaning as can be, but it names another person: a neighbouring record.
    document = manual([*ENTRIES, "Velto was born in the town of Renda, by the sea."])
    answer = extracting(ScriptedModel(echo)).ask(document, "In which town was Kalomi born?")
    assert not answer.found
    answer = extracting(ScriptedModel(echo)).ask(document, "In which town was Velto born?")
    assert answer.found and "Renda" in answer.text


def test_a_question_about_the_document_s_subject_is_measured_without_her_name() -> None:
    # Her name stands in every chunk: the bar is the subject's, her names left out.
    story, questions = make_person(lambda text: len(text.split()), tokens=3000, seed=1)
    dog = questions[0]
    lead = LongAgent(ScriptedModel(echo), chunk_tokens=120, extract=True)
    answer = lead.ask(story, dog.question)
    assert answer.found and dog.answers[0] in answer.text
    assert answer.citations[0].quote in story
    assert "greyhound" in answer.citations[0].quote  # the adoption's own sentence


LIMIT_RATE = (
    "--limit-rate=amount\n    Limit the download speed to amount bytes per second. Amount may "
    "be expressed in bytes, kilobytes with the k suffix, or megabytes with the m suffix. For "
    "example, --limit-rate=20k will limit the retrieval rate to 20KB/s. This is useful when, "
    "for whatever reason, you don't want the crawler to consume the entire available bandwidth."
)


def test_a_sentence_of_an_option_s_description_answers_with_its_option() -> None:
    document = manual([*ENTRIES[:4], LIMIT_RATE, *ENTRIES[4:]])
    question = "How do I stop the crawler from hogging all my bandwidth?"
    # Chunks of 120 tokens hold the whole entry: its term is cited from the window's chunk.
    answer = LongAgent(ScriptedModel(echo), chunk_tokens=120, extract=True).ask(document, question)
    assert answer.found and "consume the entire available bandwidth" in answer.text
    assert answer.text.startswith("--limit-rate=amount")  # the option it describes
    (citation,) = answer.citations
    assert document.text[citation.start : citation.end] == citation.quote
    assert citation.quote.startswith("--limit-rate=amount")


WAIT_RETRY = (
    "--waitretry=seconds\n    If you don't want the crawler to wait between every retrieval, "
    "but only between retries of failed downloads, you can use this option. By default, the "
    "crawler will assume a value of 10 seconds."
)
TRIES = (
    "-t number, --tries=number\n    Set number of tries to number. The default is to retry "
    "20 times, with the exception of fatal errors."
)


def test_a_sentence_of_the_wrong_kind_never_answers() -> None:
    # MiniLM puts the retry wait's entry closest to a question counting retries: it holds
    # no number but one of seconds. The tries' own sentence answers.
    # (A bar of 0.65: the tries' sentence scores 0.675, the retry wait's entry 0.684.)
    document = manual([WAIT_RETRY, *ENTRIES[:2], TRIES, *ENTRIES[3:]])
    question = "How many times does the crawler retry a failed download by default?"
    small = LongAgent(ScriptedModel(echo), chunk_tokens=40).profile
    lower = replace(small, extract=True, extract_threshold=0.65)
    answer = LongAgent(ScriptedModel(echo), chunk_tokens=40, profile=lower).ask(document, question)
    assert answer.found and "20" in answer.text and "10 seconds" not in answer.text
