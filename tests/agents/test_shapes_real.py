"""Question shapes with the real bundled model: RULER's multi-value (at 8K), multi-query and
variable-tracking tasks (at 1K tokens), and an overview of one of gkamradt's essays."""

from __future__ import annotations

import re

import pytest

from longagent.agents import LongAgent
from longagent.apps.bench.natural_data import DATA, document_text
from longagent.apps.bench.needle import ESSAYS
from longagent.apps.bench.ruler import make_ruler_items, score
from longagent.chunking import Document, load

pytestmark = pytest.mark.slow


def ruler_item(model, task: str):  # type: ignore[no-untyped-def]
    (item,) = make_ruler_items(model.count_tokens, [task], [1024], samples=1)
    return item


def test_multi_value_and_multi_query_answer_only_the_planted_values(bundled_model) -> None:
    # RULER's seed 7 at 8K glues one of the four needles to an essay's cut-off sentence:
    # given that long sentence the reader invents a number; the value after the key stands.
    (glued, _) = make_ruler_items(
        bundled_model.count_tokens, ["niah_multivalue"], [8192], samples=2, seed=7
    )
    assert len(glued.document.split("magic numbers for")) == 5
    for item, shape, least in (
        (glued, "multi_value", 4),
        (ruler_item(bundled_model, "niah_multiquery"), "multi_query", 2),
    ):
        answer = LongAgent(bundled_model).ask(item.document, item.question)
        said = set(re.findall(r"\d{7}", answer.text))
        assert answer.found and answer.shape == shape
        assert said <= set(item.outputs)  # never a value that was not planted
        assert len(said) >= least, answer.text
        for citation in answer.citations:
            assert item.document[citation.start : citation.end] == citation.quote


def test_a_variable_chain_is_followed_link_by_link(bundled_model) -> None:
    item = ruler_item(bundled_model, "vt")
    answer = LongAgent(bundled_model).ask(item.document, item.question)
    assert answer.shape == "chain" and answer.found
    named = set(re.findall(r"\b[A-Z]{5}\b", answer.text))
    # Every link: the model echoes some followed names; their lines' syntax names the link.
    assert named == set(item.outputs), answer.text
    assert len([r for r in answer.trace if r.kind == "collect"]) >= 2


def test_an_overview_summarises_an_essay_in_order_with_citations(bundled_model) -> None:
    doc = Document.create(sorted(ESSAYS.glob("*.txt"))[0].read_text()[:6000])
    answer = LongAgent(bundled_model).ask(doc, "What is this document about?")
    assert answer.shape == "overview" and answer.found
    lines = answer.text.splitlines()
    assert len(lines) == len(answer.citations) >= 2
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts)  # document order
    for citation in answer.citations:
        assert doc.text[citation.start : citation.end] == citation.quote


def test_rulers_frequent_words_are_counted_not_read(bundled_model) -> None:
    for task in ("cwe", "fwe"):
        (item,) = make_ruler_items(bundled_model.count_tokens, [task], [2048], samples=1)
        answer = LongAgent(bundled_model).ask(item.document, item.question)
        assert answer.shape == "frequency" and answer.found
        assert score(task, answer.text, item.outputs) == 1.0, answer.text
        assert answer.usage.model_calls == 0  # no reader was asked to count
        for citation in answer.citations:
            assert item.document[citation.start : citation.end] == citation.quote


def test_a_list_over_a_real_manual_gives_short_cited_items_or_none(bundled_model) -> None:
    # grep's man page, "Which options take a file name?": the 135M reader rarely extracts
    # items; what it claims must be short and cited verbatim, never a whole sentence.
    from longagent.apps.bench.natural_data import document_text

    doc = Document.create(document_text("grep.txt")[:3000])
    answer = LongAgent(bundled_model).ask(doc, "Which options take a file name?")
    assert answer.shape == "list"
    if answer.found:
        items = re.split(r"; |, ", answer.text)
        assert all(len(item.split()) < 8 for item in items), answer.text
        for citation in answer.citations:
            assert doc.text[citation.start : citation.end] == citation.quote


def test_a_list_the_howto_announces_answers_with_every_item_cited(bundled_model) -> None:
    # Python's regex HOWTO (HTML): "Here's a complete list of the metacharacters" and the
    # line of symbols after it. No reader is asked; the real loader and embedder are.
    page = document_text("regex-howto.html")
    answer = LongAgent(bundled_model).ask(page, "Which metacharacters are there?")
    assert answer.shape == "list" and answer.found
    assert answer.text.split(", ") == list(".^$*+?{}[]\\|()")
    assert all(page[c.start : c.end] == c.quote for c in answer.citations)
    assert answer.usage.model_calls == 0


def test_a_pdf_manuals_options_answer_a_list_question_with_their_pages(bundled_model) -> None:
    # less(1) printed to PDF: its options are entries only because the page layout (the
    # indentation) is kept and the running headers between pages are dropped.
    doc = load(DATA / "less.pdf")
    answer = LongAgent(bundled_model).ask(
        doc, "Which options affect how searches treat upper and lower case?"
    )
    assert answer.shape == "list" and answer.found
    assert answer.text == "-i or --ignore-case, -I or --IGNORE-CASE"
    assert [doc.pages_between(c.start, c.end) for c in answer.citations] == [(8,), (9,)]
    assert all(doc.text[c.start : c.end] == c.quote for c in answer.citations)


def test_a_key_s_own_list_answers_a_multi_value_question_without_the_reader(
    bundled_model,
) -> None:
    # The Debian Policy's "5.6.31.3. Provided keywords": the list announced just after the
    # field Rules-Requires-Root is named (read sentence by sentence before: not found).
    page = document_text("debian-policy-control-fields.html")
    answer = LongAgent(bundled_model).ask(
        page, "What keywords are defined for Rules-Requires-Root?"
    )
    assert answer.shape == "multi_value" and answer.found
    assert answer.text.split(", ") == ["dpkg/target-subcommand", "dpkg/target/foo"]
    assert all(page[c.start : c.end] == c.quote for c in answer.citations)
    assert answer.usage.model_calls == 0


def test_a_reply_restating_the_key_in_the_plural_is_no_answer(bundled_model) -> None:
    # RULER's seed-7 4K multi-key item with UUID keys: the bundled reader restated the
    # question ("Bob has the special magic uuids for <key> which i"), which grounded on
    # "uuids". Refused, the focus round reads the key's line and gives its UUID.
    (item, _) = make_ruler_items(
        bundled_model.count_tokens, ["niah_multikey_3"], [4096], samples=2, seed=7
    )
    answer = LongAgent(bundled_model).ask(item.document, item.question)
    assert answer.found and score(item.task, answer.text, item.outputs) == 1.0, answer.text
