"""End to end in headless Chromium (Debian's, driven by Playwright) against a real uvicorn
server: upload, ask, watch the progress stream in, read the cited answer, click the
citation, open the trace, chat and watch memory change; hostile documents stay inert;
questions cancelled, and rerun or dismissed after a restart."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import httpx

from longagent.apps.web import create_app
from longagent.memory.embedder import HashEmbedder

h = sys.modules["longagent_web_test_helpers"]  # _helpers.py, loaded by conftest.py
QUESTION = "In which town was Kalomi born?"

IN_DOC_VIEW = """() => {
    const mark = document.querySelector('#doc-text mark.cited').getBoundingClientRect();
    const pane = document.querySelector('.docpane').getBoundingClientRect();
    return mark.top >= pane.top && mark.bottom <= pane.bottom && mark.height > 0;
}"""


def open_document(page: Any, url: str, text: str, name: str) -> None:
    page.goto(url + "/")
    page.fill("input[name=name]", name)
    page.fill("textarea[name=text]", text)
    page.click("form.upload button")
    page.wait_for_url("**/documents/*")


def ask(page: Any, question: str = QUESTION, wait_ms: float = 15_000) -> Any:
    """Ask and wait for the answer; returns the new entry."""
    before = page.locator("article.qa .answer-text").count()
    page.fill("input[name=question]", question)
    page.click("form.ask button")
    page.locator("article.qa .answer-text").nth(before).wait_for(timeout=wait_ms)
    return page.locator("article.qa").first


def test_ask_streams_progress_and_a_citation_scrolls_into_view(page: Any, live_server: Any) -> None:
    text = h.document_text(h.BORN_RENDA, filler_before=20)
    open_document(page, live_server.url, text, "Kalomi")
    assert page.locator("#doc-text").text_content() == text
    assert page.evaluate("document.querySelector('.docpane').scrollTop") == 0

    page.fill("input[name=question]", QUESTION)
    page.click("form.ask button")
    page.locator("ol.progress li").first.wait_for()  # progress arrives before the answer
    assert page.locator("article.qa .answer-text").count() == 0
    assert "round 1: asking" in page.locator("ol.progress").inner_text()
    page.locator("article.qa .answer-text").wait_for()
    entry = page.locator("article.qa").first
    assert entry.locator(".answer-text").inner_text() == "Renda"
    assert h.BORN_RENDA in entry.locator(".citations").inner_text()
    assert page.input_value("input[name=question]") == ""  # the form was reset

    assert not page.evaluate("!!document.querySelector('#doc-text mark.cited')")
    entry.locator("button.cite").first.click()
    mark = page.locator("#doc-text mark.cited")
    assert mark.inner_text() == h.BORN_RENDA
    assert page.evaluate(IN_DOC_VIEW), "the cited span is not scrolled into view"
    assert page.evaluate("document.querySelector('.docpane').scrollTop") > 1000
    assert page.js_errors == []


def test_a_not_found_answer_s_passages_read_open_in_the_document(
    page: Any, live_server: Any
) -> None:
    unread = "Kalomi grew up in the town beside the river."  # the scripted readers say nothing
    open_document(page, live_server.url, h.document_text(unread, filler_before=8), "Kalomi")
    # Every round reads and refuses (the scripted model takes 0.5 s a call): give it time.
    entry = ask(page, "In which town did Kalomi grow up?", wait_ms=90_000)
    assert "notfound" in (entry.locator(".answer").get_attribute("class") or "")
    entry.locator("button.cite").first.click()
    assert unread in page.locator("#doc-text mark.cited").inner_text()
    assert page.evaluate(IN_DOC_VIEW), "the passage read is not scrolled into view"
    assert page.js_errors == []


def test_earlier_questions_stay_listed(page: Any, live_server: Any) -> None:
    open_document(page, live_server.url, h.document_text(h.BORN_RENDA, filler_before=2), "Bio")
    ask(page, "Where was Kalomi born?")
    page.reload()
    assert page.locator("article.qa").count() == 1
    ask(page)
    questions = page.locator("article.qa .question").all_inner_texts()
    assert questions == [QUESTION, "Where was Kalomi born?"]  # newest first
    page.reload()
    assert page.locator("article.qa .question").all_inner_texts() == questions
    # An answer loaded with the page cites into the document just the same.
    page.locator("article.qa").nth(1).locator("button.cite").first.click()
    assert page.locator("#doc-text mark.cited").inner_text() == h.BORN_RENDA


def test_the_trace_shows_rounds_verdicts_and_the_conflict_graph(
    page: Any, live_server: Any
) -> None:
    text = h.document_text(h.BORN_TOSA, h.BORN_RENDA, filler_after=3)
    open_document(page, live_server.url, text, "Two towns")
    entry = ask(page)
    assert entry.locator(".answer-text").inner_text() == "Renda"
    trace = entry.locator("details.trace")
    assert not trace.locator("svg").is_visible()
    trace.locator("summary").click()
    kinds = trace.locator(".round h4 .kind").all_inner_texts()
    assert kinds[:2] == ["ask", "resolve"]
    assert trace.locator("span.chip.grounded").count() >= 2
    graph = trace.locator("figure.graph svg").first
    graph.scroll_into_view_if_needed()
    assert graph.is_visible() and graph.locator("circle").count() == 2
    assert graph.locator("line").count() == 1
    assert sorted(graph.locator("text.label").all_text_contents()) == ["Renda", "Tosa"]


def test_chat_shows_the_memory_update(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/chat")
    page.fill("input[name=name]", "alice")
    page.click("form.create button")
    page.wait_for_url("**/chat/alice")
    human = page.locator(".block[data-label=human] .value")
    assert human.inner_text() == "(empty)"
    tokens_before = page.locator(".pressure .tokens").inner_text()

    page.fill("input[name=message]", h.SISTER)
    page.click("form.say button")
    page.locator(".line.assistant").last.wait_for()
    assert page.locator(".line.assistant").last.inner_text() == (
        "Noted: your sister Ines lives in Porto."
    )
    assert human.inner_text() == "Sister is called Ines."
    assert page.locator("ul.archival li").first.inner_text().startswith("Ines lives in Porto.")
    assert page.locator(".pressure .tokens").inner_text() != tokens_before
    assert page.input_value("input[name=message]") == ""
    page.reload()  # the memory is on disk, not in the page
    assert human.inner_text() == "Sister is called Ines."
    assert page.js_errors == []


def test_a_hostile_document_stays_inert(page: Any, live_server: Any) -> None:
    text = h.document_text(h.XSS_FACT + " " + h.XSS_IMG, filler_before=2)
    open_document(page, live_server.url, text, '<img src="y" onerror="window.__pwned = 3">')
    title = page.title()
    question = "What is the secret word? <script>document.title = 'pwned'</script>"
    entry = ask(page, question)
    assert entry.locator(".answer-text").inner_text() == "zebra"
    entry.locator("button.cite").first.click()
    entry.locator("summary").click()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.title() == title != "pwned"
    # The markup is shown as text, everywhere it appears.
    assert "<script>window.__pwned = 1" in page.locator("#doc-text").text_content()
    assert "<script>" in page.locator("#doc-text mark.cited").inner_text()
    assert entry.locator(".question").inner_text() == question
    assert "<script>" in entry.locator(".citations").inner_text()
    assert page.locator("main img, main script").count() == 0
    assert page.js_errors == []


def test_file_upload_and_refusals(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/")
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "notes.md",
                "mimeType": "text/markdown",
                "buffer": b"# Kalomi\n\nBorn in Renda.\n",
            }
        ],
    )
    page.click("form.upload button")
    page.wait_for_url("**/documents/*")
    assert page.locator(".dochead h1").inner_text() == "notes.md"
    assert "Born in Renda." in page.locator("#doc-text").inner_text()

    page.goto(live_server.url + "/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}],
    )
    with page.expect_response("**/documents") as response:
        page.click("form.upload button")
    assert response.value.status == 415
    assert page.locator(".error-page h1").inner_text() == "Unsupported file type"
    assert "tool.exe: only" in page.locator(".error-page .message").inner_text()


def test_a_token_server_asks_the_browser_to_log_in(page: Any, tmp_path: Any) -> None:
    app = create_app(h.scripted_model(), tmp_path / "data", "s3cret", embedder=HashEmbedder())
    with h.LiveServer(app) as server:
        page.goto(server.url + "/chat")
        assert "/login" in page.url
        page.fill("input[name=token]", "wrong")
        page.click("form button")
        assert "not right" in page.locator(".flash.error").inner_text()
        page.fill("input[name=token]", "s3cret")
        page.click("form button")
        page.wait_for_url(server.url + "/chat")
        assert page.locator("h1").inner_text() == "Chat with a memory agent"


def test_interrupted_questions_rerun_or_dismissed_and_a_question_cancelled(
    page: Any, tmp_path: Any
) -> None:
    def app(model: Any) -> Any:
        return create_app(model, tmp_path / "data", embedder=HashEmbedder(), chunk_tokens=120)

    text = h.document_text(h.BORN_RENDA)
    held = h.GatedModel()
    with h.LiveServer(app(held)) as server:  # stopped with one question running, one queued
        doc_id = httpx.post(server.url + "/api/documents", data={"text": text}).json()["id"]
        held.gate.clear()
        for question in (QUESTION, "Where was Kalomi born?"):
            url = f"{server.url}/documents/{doc_id}/questions"
            assert httpx.post(url, data={"question": question}).status_code == 303
        assert held.entered.wait(30)
        threading.Timer(2.0, held.gate.set).start()  # once the shutdown asked it to stop

    model = h.GatedModel()
    with h.LiveServer(app(model)) as server:
        jobs = httpx.get(server.url + "/api/jobs").json()
        assert [j["status"] for j in jobs] == ["interrupted", "interrupted"]
        rerun, dismiss = (f"#q-{j['id']}" for j in jobs)
        page.goto(f"{server.url}/documents/{doc_id}")
        assert page.locator("article.qa button.rerun").count() == 2
        assert "Interrupted" in page.locator(rerun).inner_text()

        page.locator(f"{rerun} button.rerun").click()
        assert page.locator(f"{rerun} .answer-text").inner_text() == "Renda"
        page.locator(f"{dismiss} button.cancel").click()
        page.locator(dismiss).wait_for(state="detached")
        assert httpx.get(f"{server.url}/api/jobs/{jobs[1]['id']}").json()["status"] == "cancelled"

        model.gate.clear()
        page.fill("input[name=question]", "Who was born in Renda?")
        page.click("form.ask button")
        assert model.entered.wait(30)
        cancel = page.locator("article.qa .pending button.cancel")
        cancel.click()
        cancel.wait_for(state="detached")
        model.gate.set()
        for _ in range(300):  # it stops at its next round
            job = httpx.get(server.url + "/api/jobs").json()[-1]
            if job["done"]:
                break
            time.sleep(0.05)
        assert job["question"] == "Who was born in Renda?" and job["status"] == "cancelled"
        page.reload()
        assert page.locator("article.qa").count() == 1  # the rerun answer, nothing else
        assert page.locator("article.qa .answer-text").inner_text() == "Renda"
        assert page.js_errors == []
