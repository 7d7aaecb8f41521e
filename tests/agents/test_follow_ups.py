"""Following a finding hop by hop (the rule leader's follow-up): which new names are
followed and which are not, with a scripted model that answers by the passage it reads."""

from __future__ import annotations

from longagent.agents.leader import bridge_terms
from longagent.agents.question import Question
from longagent.chunking import Document
from longagent.llm import GenerationRequest, ScriptedModel

from ._qa_helpers import BORN_RENDA, FAMOUS, agent, by_fact, chunk_of, document, reply


def test_two_hop_question_in_two_rounds() -> None:
    def respond(request: GenerationRequest) -> dict:
        chunk = chunk_of(request)
        if FAMOUS in chunk:
            return reply(FAMOUS, "glass bells")  # unsupported in round 1: no Kalomi
        if BORN_RENDA in chunk:
            return reply(BORN_RENDA, "Renda")  # in the follow-up too: a repeat, dropped
        return reply()

    model = ScriptedModel(respond)
    doc = document(BORN_RENDA, FAMOUS)
    answer = agent(model).ask(doc, "What is the town where Kalomi was born famous for?")
    assert answer.text == "glass bells"
    assert [r.kind for r in answer.trace] == ["ask", "follow_up"]
    assert [c.quote for c in answer.citations] == [BORN_RENDA, FAMOUS]
    assert len(model.batches[1]) == 2  # only the chunks that mention Renda are asked again


def test_a_follow_up_that_misses_rereads_the_passages_naming_the_bridge() -> None:
    # The second hop's member finds the fact only in a short passage about Renda.
    def respond(request: GenerationRequest) -> dict:
        text = chunk_of(request)
        if BORN_RENDA in text:
            return reply(BORN_RENDA, "Renda")
        if FAMOUS in text and len(text.split()) < 40:
            return reply(FAMOUS, "glass bells")
        return reply("Modules provide functions", "ordinary tasks")

    model = ScriptedModel(respond)
    answer = agent(model).ask(
        document(BORN_RENDA, FAMOUS), "What is the town where Kalomi was born famous for?"
    )
    assert answer.text == "glass bells"
    assert [r.kind for r in answer.trace] == ["ask", "follow_up", "focus"]
    focused = {chunk_of(r) for r in model.batches[2]}
    assert all("Renda" in text and len(text.split()) < 40 for text in focused)
    assert [c.quote for c in answer.citations] == [BORN_RENDA, FAMOUS]


def test_a_number_that_answers_is_not_followed_as_a_bridge() -> None:
    needle = "One of the special magic numbers for harmonious-uniform is: 2338687."
    aside = "Maybe 2338687 is why Occam's Razor applies."
    model = ScriptedModel(by_fact({needle: "2338687", aside: "Occam's Razor"}))
    answer = agent(model).ask(
        document(needle, aside), "What is the special magic number for harmonious-uniform?"
    )
    assert answer.found and answer.text == "2338687"
    assert [r.kind for r in answer.trace] == ["ask"]


def test_a_name_standing_in_most_chunks_is_not_followed() -> None:
    # A manual names its main class in nearly every chunk: a finding citing
    # `Path.hardlink_to()` answers, and "Path" is no new name to follow (following it
    # re-read the whole of pathlib's page and grounded junk that replaced the answer).
    filler = "A Path object has methods for many ordinary tasks in programs. " * 6
    fact = (
        "Deprecated since version 3.10: this method is deprecated in favor of Path.hardlink_to()."
    )
    doc = Document.create("\n\n".join([filler] * 4 + [f"{filler}{fact} {filler}"] + [filler] * 4))
    model = ScriptedModel(by_fact({fact: fact}))
    answer = agent(model).ask(doc, "In favor of which method is the link method deprecated?")
    assert answer.chunks >= 8 and answer.found
    assert [c.quote for c in answer.citations] == [fact]
    assert "follow_up" not in [r.kind for r in answer.trace]
    # Beside a rare new name, it is dropped: only the chunks naming the rare one are asked.
    named = fact.replace("Path.hardlink_to()", "Path.hardlink_to(), which Tamsin Oriel wrote")
    other = "Tamsin Oriel also maintains the shutil module."
    doc = Document.create(
        "\n\n".join([f"{filler}{named} {filler}", f"{filler}{other} {filler}"] + [filler] * 7)
    )
    model = ScriptedModel(by_fact({named: named}))
    answer = agent(model).ask(doc, "In favor of which method is the link method deprecated?")
    follow = [r for r in answer.trace if r.kind == "follow_up"]
    assert follow and len(follow[0].members) == 2 < answer.chunks


def test_a_title_is_followed_as_one_name_and_the_rest_of_a_given_name_not_at_all() -> None:
    title = "Kalomi Varga published her first book, a collection of essays called Small Hours."
    crossing = "The ferry crossing took five hours."  # one word of the title, nothing more
    question = "What was the title of Kalomi's first book?"
    assert bridge_terms("Small Hours", title, Question.parse(question)) == {"small hours"}
    # The 135M reader answers with the whole sentence: "Varga" is Kalomi's, not a new name.
    assert bridge_terms(title, title, Question.parse(question)) == {"small hours"}

    model = ScriptedModel(by_fact({title: "Small Hours", crossing: "five hours"}))
    answer = agent(model).ask(document(title, crossing), question)
    assert answer.found and answer.text == "Small Hours"
    assert not any(crossing in chunk_of(r) for r in model.requests)


def test_a_sentence_grounded_again_by_a_later_hop_is_cited_once() -> None:
    # The follow-up's readers miss; the re-read passage's reader answers from the first
    # hop's sentence again, and so does the hop after it (make's man page cited its footer
    # twice, once per hop).
    born = "Kalomi was born in the town of Renda, beside the Ulm lake."

    def respond(request: GenerationRequest) -> dict:
        text = chunk_of(request)
        if born in text:
            return reply(born, "the Ulm lake" if len(text.split()) < 40 else "Renda")
        return reply("Modules provide functions", "ordinary tasks")

    model = ScriptedModel(respond)
    answer = agent(model).ask(
        document(born, FAMOUS), "What is the town where Kalomi was born famous for?"
    )
    assert [r.kind for r in answer.trace][:3] == ["ask", "follow_up", "focus"]
    assert [c.quote for c in answer.citations] == [born]
