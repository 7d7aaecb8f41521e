"""The library in headless Chromium (Debian's, driven by Playwright) against a real
uvicorn server: upload a file to the library, watch it being added, ask one document of
it, and open a citation: the document shows the cited span highlighted and in view."""

from __future__ import annotations

import sys
from typing import Any

h = sys.modules["longagent_web_test_helpers"]  # _helpers.py, loaded by conftest.py

IN_VIEW = """() => {
    const mark = document.querySelector('#doc-text mark.cited').getBoundingClientRect();
    const pane = document.querySelector('.docpane').getBoundingClientRect();
    return mark.top >= pane.top && mark.bottom <= pane.bottom && mark.height > 0;
}"""


def upload(page: Any, name: str, text: str) -> None:
    page.set_input_files(
        "form.library-upload input[type=file]",
        files=[{"name": name, "mimeType": "text/plain", "buffer": text.encode()}],
    )
    page.click("form.library-upload button")


def test_upload_to_the_library_ask_one_document_and_open_the_citation(
    page: Any, live_server: Any
) -> None:
    page.goto(live_server.url + "/library")
    assert page.locator("h1 .libname").inner_text() == "default"
    upload(page, "decoy.txt", h.document_text(h.BORN_TOSA))
    page.locator("#adds .answer.added").first.wait_for()
    upload(page, "kalomi.txt", h.document_text(h.BORN_RENDA, filler_before=20))
    page.locator("#adds .answer.added").nth(1).wait_for()
    assert "Added:" in page.locator("#adds .answer.added").first.inner_text()
    # The list and the question form's choices were refreshed with the new documents.
    row = page.locator("table.library-docs tr", has_text="kalomi")
    row.wait_for()
    assert row.locator("td.chunks").inner_text().isdigit()
    page.select_option("#ask-document", label="kalomi")

    page.fill("form.library-ask input[name=question]", "In which town was Kalomi born?")
    page.click("form.library-ask button")
    entry = page.locator("#questions article.qa").first
    entry.locator(".answer-text").wait_for()
    assert entry.locator(".answer-text").inner_text() == "Renda"  # not the decoy's Tosa
    assert entry.locator(".over").inner_text() == "kalomi"
    assert entry.locator(".doc-title").first.inner_text() == "kalomi"

    entry.locator("a.cite").first.click()
    page.wait_for_url("**/library/documents/*")
    mark = page.locator("#doc-text mark.cited")
    assert mark.inner_text() == h.BORN_RENDA
    assert page.evaluate(IN_VIEW), "the cited span is not scrolled into view"
    assert page.evaluate("document.querySelector('.docpane').scrollTop") > 1000
    assert page.js_errors == []
