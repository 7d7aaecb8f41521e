"""Question shapes beyond one fact, with a scripted model: which shape a question gets, and
that each shape's path collects, splits, follows or summarises with citations."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from longagent.agents import LongAgent
from longagent.agents.profiles import get_profile
from longagent.agents.shapes import detect
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel
from longagent.memory.embedder import HashEmbedder

from ._qa_helpers import FILLER


@pytest.mark.parametrize(
    ("question", "shape"),
    [
        ("In which town was Kalomi born?", "lookup"),
        ("Which file holds my personal client settings?", "lookup"),
        ("How do I list all files in a directory?", "explain"),
        ("Why does grep exit with status 2?", "explain"),
        ("How many options are there?", "lookup"),
        ("What is the cost of time and money?", "lookup"),
        ("What are all the special magic numbers for grubby-color mentioned?", "multi_value"),
        ('Which values does the key "colour" take?', "multi_value"),
        ("List all the options that take a file name", "list"),
        ("Which options take a file name?", "list"),
        ("Which tests compare file times?", "list"),  # any verb after a plural
        ("Which fields go in the binary package stanzas?", "list"),  # a two-letter verb
        ("Which class handles error output?", "lookup"),  # "handles" is the verb
        ("Which process uses the most memory?", "lookup"),
        # "every process" is one process at a time, not a plural (blind3's ps-05)
        ("Is there a variable that hides kernel threads when I list every process?", "lookup"),
        ("Show all processes that use the most memory", "list"),
        ("What does grep return on error?", "lookup"),
        ("What are all the special magic numbers for a-b, c-d, and e-f?", "multi_query"),
        ("What are the default ports of ssh, http and ftp?", "multi_query"),
        ("What are the roles of Alice and Bob?", "multi_query"),
        ("Question: Find all variables that are assigned the value 77221 in the text.", "chain"),
        ("What is this document about?", "overview"),
        ("Summarize the section on logging handlers.", "overview"),
        ("What are the main points?", "overview"),
        ("What are the 10 most common words in the above list?", "frequency"),
        ("Which words appear most often in this manual?", "frequency"),
        ("What is the most common cause of failure?", "lookup"),
    ],
)
def test_the_shape_follows_the_question(question: str, shape: str) -> None:
    assert detect(question).shape == shape


def test_a_multi_query_names_its_keys_and_sub_questions() -> None:
    choice = detect("What are the default ports of ssh, http and ftp?")
    assert choice.keys == ("ssh", "http", "ftp")
    assert choice.parts[1] == "What are the default ports of http?"
    assert detect("Summarize the section on logging handlers.").topic == "logging handlers"
    assert detect("Find all variables that are assigned the value 77221.").value == "77221"


def spread(*facts: str) -> Document:
    """Each fact among filler, in its own chunk at chunk_tokens=120."""
    return Document.create("\n\n".join(f"{FILLER}{fact} {FILLER}" for fact in facts))


def agent(model: ScriptedModel) -> LongAgent:
    return LongAgent(model, chunk_tokens=120, embedder=HashEmbedder())


def key_value_reader(request: GenerationRequest) -> dict:
    """Answers the first value stated in its passage for the key the question names, as a
    member that quotes its sentence; the key it reads may be the wrong one (a neighbour's
    value), which the verifier must refuse."""
    task = request.task or {}
    passage = str(task.get("passage", ""))
    found = re.search(r"(One of the numbers for [\w-]+ is: (\d+)\.)", passage)
    if found is None:
        return {"quote": "", "answer": ""}
    return {"quote": found.group(1), "answer": found.group(2)}


def test_multi_value_collects_every_value_of_the_key_each_cited() -> None:
    values = ["1111111", "2222222", "3333333", "4444444"]
    facts = [f"One of the numbers for grubby-color is: {v}." for v in values]
    doc = spread(*facts[:2], "One of the numbers for other-key is: 9999999.", *facts[2:])
    model = ScriptedModel(key_value_reader)
    answer = agent(model).ask(doc, "What are all the numbers for grubby-color?")
    assert answer.found and answer.shape == "multi_value"
    assert sorted(re.findall(r"\d{7}", answer.text)) == values  # never the other key's
    assert sorted(c.quote.split()[-1].rstrip(".") for c in answer.citations) == values
    for citation in answer.citations:
        assert doc.text[citation.start : citation.end] == citation.quote
    assert [r.kind for r in answer.trace] == ["collect"]


def test_a_miscopied_value_of_a_multi_value_key_is_repaired_to_the_one_it_copies() -> None:
    values = ["5017343", "6128454", "7239565", "8340676"]
    doc = spread(" ".join(f"One of the numbers for grubby-color is: {v}." for v in values))

    def reader(request: GenerationRequest) -> dict:
        if "6128454" in str((request.task or {}).get("passage", "")):
            return {"quote": "", "answer": "6128455"}  # one digit miscopied, nothing quoted
        return key_value_reader(request)

    answer = agent(ScriptedModel(reader)).ask(doc, "What are all the numbers for grubby-color?")
    assert sorted(re.findall(r"\d{7}", answer.text)) == values


# RULER inserts its needles between an essay's words, so one "sentence" may hold both.
ESSAY = "They do not know how many of the companies that get killed by overspending might"


def test_an_essay_sentence_glued_to_the_key_s_line_is_no_value() -> None:
    def reader(request: GenerationRequest) -> dict:
        if ESSAY in str((request.task or {}).get("passage", "")):
            return {"quote": ESSAY, "answer": ESSAY}  # the essay's words, answered whole
        return key_value_reader(request)

    doc = spread(
        f"{ESSAY} One of the numbers for grubby-color is: 1111111.",
        "One of the numbers for grubby-color is: 2222222.",
    )
    answer = agent(ScriptedModel(reader)).ask(doc, "What are all the numbers for grubby-color?")
    # The essay's words are no value; the value after the key in that sentence is.
    assert answer.shape == "multi_value" and ESSAY not in answer.text
    assert sorted(answer.text.split(", ")) == ["1111111", "2222222"]


def test_a_value_no_reader_gives_stands_right_after_the_key_in_its_sentence() -> None:
    def reader(request: GenerationRequest) -> dict:
        if ESSAY in str((request.task or {}).get("passage", "")):
            return {"quote": "4821", "answer": "0,000 nbsp"}  # invented, as the 135M did
        return key_value_reader(request)

    # A number far from the key in its sentence is no value of it.
    late = "The grubby-color list was revised by the editors over the winter of 1999."
    doc = spread(
        f"{ESSAY} One of the numbers for grubby-color is: 1111111.",
        f"{ESSAY} {late}",
        "One of the numbers for grubby-color is: 2222222.",
    )
    answer = agent(ScriptedModel(reader)).ask(doc, "What are all the numbers for grubby-color?")
    assert sorted(answer.text.split(", ")) == ["1111111", "2222222"]
    cited = next(c for c in answer.citations if "1111111" in c.quote)
    assert doc.text[cited.start : cited.end] == cited.quote and ESSAY in cited.quote


def lucky_reader(request: GenerationRequest) -> dict:
    task = request.task or {}
    found = re.search(r"(The lucky number is (\d+)\.)", str(task.get("passage", "")))
    return (
        {"quote": found.group(1), "answer": found.group(2)}
        if found
        else {"quote": "", "answer": ""}
    )


def test_a_list_reads_ranked_passages_until_a_wave_adds_nothing() -> None:
    doc = spread("The lucky number is 1111111.", *[FILLER] * 12)
    model = ScriptedModel(lucky_reader)
    answer = agent(model).ask(doc, "Which lucky numbers are there?")
    assert answer.shape == "list" and answer.text == "1111111"
    (collect,) = answer.trace
    assert len(collect.passages) == 12  # waves of 4 then 8; the third was not read


def test_a_list_item_is_a_name_or_short_phrase_not_a_whole_sentence() -> None:
    said = "Lucky numbers are picked by the town council every spring morning."
    short = "This is the default when Renda draws more lucky numbers than one."
    doc = spread(said, short, "The lucky number is 4242.")

    def reader(request: GenerationRequest) -> dict:
        passage = str((request.task or {}).get("passage", ""))
        if said in passage:
            return {"quote": said, "answer": said}
        if short in passage:  # quoted, answered with nonsense: the quote is judged too
            return {"quote": short, "answer": "1000000000000"}
        return lucky_reader(request)

    answer = agent(ScriptedModel(reader)).ask(doc, "Which lucky numbers are there?")
    assert answer.shape == "list" and answer.text == "4242"


def test_a_multi_query_answers_each_key_and_says_which_were_not_found() -> None:
    doc = spread(
        "One of the numbers for red-fox is: 1111111.",
        "One of the numbers for blue-jay is: 2222222.",
    )
    model = ScriptedModel(key_value_reader)
    question = "What are all the numbers for red-fox, blue-jay, and green-toad?"
    answer = agent(model).ask(doc, question)
    assert answer.shape == "multi_query" and answer.found
    assert answer.text == "red-fox: 1111111; blue-jay: 2222222; green-toad: not found"
    assert [c.quote for c in answer.citations] == [
        "One of the numbers for red-fox is: 1111111.",
        "One of the numbers for blue-jay is: 2222222.",
    ]
    assert [r.index for r in answer.trace] == list(range(len(answer.trace)))


@pytest.mark.parametrize(
    ("question", "count"),
    [
        ("What are the three most frequently appeared words in the above coded text?", 3),
        ("What are the 2 most common words?", 2),
        ("What is the most common word?", 1),
        ("Which words appear most often?", 10),
        ("Which 5 words appear most often in this manual?", 5),
    ],
)
def test_a_frequency_question_asks_for_its_number_of_words(question: str, count: int) -> None:
    assert detect(question).count == count


def test_the_most_frequent_words_are_counted_once_each_and_cited_where_first_seen() -> None:
    words = ["heron"] * 5 + ["otter"] * 4 + ["the"] * 9 + ["vole"] * 3 + ["lynx"] * 2
    listing = "\n".join(f"{n}. {w}" for n, w in enumerate(words * 10, 1))
    doc = Document.create(f"Below is a numbered list of words.\n{listing}")
    model = ScriptedModel(lambda request: {"quote": "", "answer": ""})
    answer = agent(model).ask(doc, "What are the 3 most common words in the above list?")
    assert answer.shape == "frequency" and answer.found
    assert answer.chunks > 1  # counted across chunks
    assert answer.text == "heron (50), otter (40), vole (30)"  # "the" is no word to count
    assert not model.requests  # counted, not read
    assert [c.quote for c in answer.citations] == ["heron", "otter", "vole"]
    assert [c.start for c in answer.citations] == [
        doc.text.index("1. heron") + 3,
        doc.text.index("6. otter") + 3,
        doc.text.index("19. vole") + 4,
    ]
    assert [r.kind for r in answer.trace] == ["count"]


def summary_writer(request: GenerationRequest) -> dict:
    """Summarises a chunk by its fact sentence; the chunk about owls gets a summary whose
    words are not in it, the chunk about bees a quote that is not in it."""
    task = request.task or {}
    if task.get("kind") != "summary":
        return {"quote": "", "answer": ""}
    passage = str(task["passage"])
    fact = re.search(r"([A-Z][a-z]+ [a-z]+ [^.]*\bfact\b[^.]*\.)", passage)
    if fact is None:
        return {"quote": "", "answer": ""}
    if fact.group(1).startswith("Bees"):
        return {"quote": "Bees write poems about the moon.", "answer": "Bees and poems"}
    if fact.group(1).startswith("Owls"):
        return {"quote": fact.group(1), "answer": "Zebras dancing tango"}
    return {"quote": fact.group(1), "answer": " ".join(fact.group(1).split()[:3])}


def test_an_overview_summarises_chunks_in_document_order_each_cited() -> None:
    doc = spread(
        "Cats sleep long as a known fact.",
        "Owls hunt at night as a known fact.",
        "Dogs guard houses as a known fact.",
        "Bees make honey as a known fact.",
    )
    model = ScriptedModel(summary_writer)
    writer = replace(get_profile("small"), summaries="model")
    answer = LongAgent(model, chunk_tokens=120, embedder=HashEmbedder(), profile=writer).ask(
        doc, "What is this document about?"
    )
    assert answer.shape == "overview" and answer.found
    lines = answer.text.splitlines()
    # The owls' summary strayed from its chunk: its quoted sentence stands instead. The
    # bees' quote is not in the document, and the chunks of filler quote nothing: their
    # central passages stand, verbatim.
    written = ["- Cats sleep long", "- Owls hunt at night as a known fact.", "- Dogs guard houses"]
    assert [line for line in lines if "Modules" not in line] == written
    assert len(lines) > len(written)
    for line, citation in zip(lines, answer.citations, strict=True):
        if line not in written:
            assert line == "- " + " ".join(citation.quote.split())
    assert [r.kind for r in answer.trace] == ["overview"]
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts) and len(starts) == len(lines)


def test_the_small_profile_s_overview_cites_each_chunk_s_central_passage_without_the_model() -> (
    None
):
    header = "KITES(7) Miscellaneous Information Manual KITES(7)"
    opening = "Kites are light frames covered in cloth that fly on the wind."
    doc = Document.create(
        f"{header}\n\n{opening} They need a string and an open field. {FILLER}\n\n"
        + "\n\n".join(f"{FILLER}Kite number {n} flew over the hill. {FILLER}" for n in range(4))
    )
    model = ScriptedModel(lambda request: {"quote": "", "answer": "Zebras"})
    answer = agent(model).ask(doc, "What is this document about?")
    assert answer.found and answer.usage.model_calls == 0
    assert opening in answer.citations[0].quote  # the opening, not the page header
    assert header not in answer.text
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts) and len(starts) == len(answer.text.splitlines()) >= 2
    for citation in answer.citations:
        assert doc.text[citation.start : citation.end] == citation.quote


def test_an_overview_of_a_section_reads_the_chunks_about_it() -> None:
    doc = spread(*(f"Topic {n} holds a plain fact about gardens." for n in range(12)))
    doc = Document.create(doc.text + "\n\n" + FILLER + " Kites fly high as a known fact. " + FILLER)
    model = ScriptedModel(summary_writer)
    answer = agent(model).ask(doc, "Summarize the section on kites.")
    assert answer.shape == "overview"
    assert any("kites" in line.lower() for line in answer.text.splitlines())
    whole = agent(ScriptedModel(summary_writer)).ask(doc, "What is this document about?")
    assert len(whole.trace[0].members) == 8  # spread over the document, first to last
    assert whole.trace[0].members[0] == 0


def test_a_why_question_is_answered_with_the_cited_sentence() -> None:
    reason = "Kalomi left Renda because the glass bells grew too loud."
    doc = spread(reason)

    def reader(request: GenerationRequest) -> dict:
        passage = str((request.task or {}).get("passage", ""))
        if reason in passage:
            return {"quote": reason, "answer": "glass bells"}
        return {"quote": "", "answer": ""}

    answer = agent(ScriptedModel(reader)).ask(doc, "Why did Kalomi leave Renda?")
    assert answer.shape == "explain" and answer.found
    assert answer.text == reason
    assert doc.text[answer.citations[0].start : answer.citations[0].end] == reason


def test_an_answer_that_repeats_the_instructions_is_not_grounded() -> None:
    doc = spread("Copy the quote of the reply, the manual says.")

    def echo(request: GenerationRequest) -> dict:
        return {"quote": "Copy the quote of the reply, the manual says.", "answer": "quote"}

    answer = agent(ScriptedModel(echo)).ask(doc, "What does the manual say to copy?")
    assert not answer.found
    assert all(r.verdict != "grounded" for r in answer.trace[0].reports)
