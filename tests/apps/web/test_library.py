"""The library in the web app, over HTTP against a real uvicorn server: the real
LongAgent, the real LanceDB library (a temporary LONGAGENT_HOME) and a scripted model.
Uploads add to the library as jobs with progress, questions go over one document or all,
and a citation opens its document's text at the cited span (page for a PDF)."""

from __future__ import annotations

import html
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from longagent.apps.web import create_app
from longagent.memory.embedder import HashEmbedder
from longagent.memory.library import Library

h = sys.modules["longagent_web_test_helpers"]  # _helpers.py, loaded by conftest.py
QUESTION = "In which town was Kalomi born?"
MAX_UPLOAD = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("weblib")
    app = create_app(
        h.scripted_model(),
        folder / "data",
        embedder=HashEmbedder(),
        chunk_tokens=120,
        max_upload_bytes=MAX_UPLOAD,
        library_home=folder / "home",
    )
    with h.LiveServer(app) as live:
        live.home = folder / "home"
        live.client = httpx.Client(base_url=live.url, timeout=30)
        yield live
        live.client.close()


def wait(client: httpx.Client, job: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/library/jobs/{job['id']}").json()
        if job["done"]:
            return job
        time.sleep(0.05)
    raise AssertionError(f"the job did not finish: {job}")


def add(client: httpx.Client, library: str = "default", **upload: Any) -> dict[str, Any]:
    """Upload (`data={"text": ...}` or `files={"file": ...}`) and wait for the add."""
    response = client.post(f"/api/library/documents?library={library}", **upload)
    assert response.status_code == 202, response.text
    return wait(client, response.json())


def ask(client: httpx.Client, question: str = QUESTION, document: str = "") -> dict[str, Any]:
    data = {"question": question, "document": document}
    response = client.post("/api/library/questions", data=data)
    assert response.status_code == 202, response.text
    job = wait(client, response.json())
    assert job["status"] == "done", job
    return job["entry"]["answer"]


def listing(client: httpx.Client, library: str = "default") -> dict[str, dict[str, Any]]:
    return {
        d["title"]: d for d in client.get(f"/api/library?library={library}").json()["documents"]
    }


def test_an_upload_is_added_once_by_a_job_with_progress(server: Any) -> None:
    client = server.client
    text = h.document_text(h.BORN_RENDA, filler_before=2)
    job = add(client, data={"text": text, "name": "renda"})
    assert job["status"] == "done" and job["kind"] == "library_add"
    assert job["report"]["files"][0]["outcome"] == "added"
    assert job["events"] and {e["kind"] for e in job["events"]} == {"add_progress"}
    assert job["events"][-1]["data"]["files_done"] == 1

    doc = listing(client)["renda"]
    assert doc["format"] == "text" and doc["size"] == len(text.encode())
    assert doc["chunks"] >= 3 and Path(doc["path"]).name == "renda.txt"
    # What `longagent library ls` reads: the same LanceDB library under LONGAGENT_HOME.
    stored = Library(server.home, "default", create=False).documents()
    assert doc["id"] in {d.id for d in stored}

    again = add(client, data={"text": text, "name": "renda"})
    assert again["report"]["files"][0]["outcome"] == "unchanged"
    assert [d["id"] for d in listing(client).values()].count(doc["id"]) == 1

    page = client.get("/library")
    assert page.status_code == 200 and "renda" in page.text and doc["path"] in page.text


def test_uploads_are_refused_with_a_clear_message(server: Any) -> None:
    client = server.client
    exe = client.post("/api/library/documents", files={"file": ("tool.exe", b"MZ")})
    assert exe.status_code == 415 and "tool.exe: only" in exe.json()["error"]["message"]
    big = client.post("/api/library/documents", data={"text": "x " * MAX_UPLOAD})
    assert big.status_code == 413
    broken = client.post(
        "/api/library/documents", files={"file": ("paper.pdf", b"%PDF-1.4 not really")}
    )
    assert broken.status_code == 422 and "paper.pdf" in broken.json()["error"]["message"]
    bad_name = client.post("/api/library/documents?library=../x", data={"text": "hello"})
    assert bad_name.status_code == 400
    cross_site = client.post(
        "/library/documents", data={"text": "hello"}, headers={"Origin": "http://evil.example"}
    )
    assert cross_site.status_code == 403
    before = listing(client)
    assert all(d["title"] not in ("tool", "paper") for d in before.values())


def test_a_question_over_one_document_or_all_cites_into_the_right_document(server: Any) -> None:
    client = server.client
    renda = h.document_text(h.BORN_RENDA, filler_before=3)
    tosa = h.document_text(h.BORN_TOSA, filler_before=1)
    add(client, data={"text": renda, "name": "kalomi-renda"})
    add(client, data={"text": tosa, "name": "kalomi-tosa"})
    docs = listing(client)
    for name, town, text in (("kalomi-renda", "Renda", renda), ("kalomi-tosa", "Tosa", tosa)):
        doc = docs[name]
        answer = ask(client, document=doc["id"])
        assert answer["found"] and answer["text"] == town
        (citation,) = answer["citations"]
        assert citation["document_id"] == doc["id"] and citation["path"] == doc["path"]
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        served = client.get(f"/api/library/documents/{doc['id']}").json()
        assert served["exact"] and served["text"] == text
        # The citation's link opens the document with the span marked.
        span = f"start={citation['start']}&end={citation['end']}"
        page = client.get(f"/library/documents/{doc['id']}?{span}")
        mark = re.search(r'<mark class="cited" id="cited">(.*?)</mark>', page.text, re.S)
        assert mark and html.unescape(mark.group(1)) == citation["quote"]

    over_all = ask(client)  # both towns are read; the conflict is resolved (Renda)
    assert over_all["found"] and over_all["citations"]
    assert {c["document_id"] for c in over_all["citations"]} <= {d["id"] for d in docs.values()}
    entries = client.get("/api/library/questions").json()
    assert [e["document_id"] for e in entries[:3]] == [
        "",
        docs["kalomi-tosa"]["id"],
        docs["kalomi-renda"]["id"],
    ]
    assert entries[1]["document_title"] == "kalomi-tosa"
    assert "kalomi-tosa" in client.get("/library").text  # the entry, listed on the page


def test_a_pdf_citation_shows_its_page(server: Any, make_pdf: Any) -> None:
    client = server.client
    pdf = make_pdf([["The museum opened its doors in spring."], [h.BORN_RENDA]])
    add(client, files={"file": ("life.pdf", pdf, "application/pdf")})
    doc = next(d for d in listing(client).values() if d["format"] == "pdf")
    answer = ask(client, document=doc["id"])
    (citation,) = answer["citations"]
    assert citation["page"] == 2 and citation["quote"] == h.BORN_RENDA
    served = client.get(f"/api/library/documents/{doc['id']}").json()
    assert [p["page"] for p in served["pages"]] == [1, 2]
    page = client.get(
        f"/library/documents/{doc['id']}?start={citation['start']}&end={citation['end']}"
    )
    assert '<span class="page">page 2</span>' in page.text


def test_unknown_documents_libraries_and_jobs_are_not_found(server: Any) -> None:
    client = server.client
    missing = "0" * 64
    assert client.get(f"/api/library/documents/{missing}").status_code == 404
    assert client.get(f"/library/documents/{missing}?library=empty").status_code == 404
    assert client.get("/library/documents/..%2f..%2fetc").status_code == 404
    assert client.get(f"/api/library/jobs/{'a' * 32}").status_code == 404
    asked = client.post("/api/library/questions", data={"question": QUESTION, "document": missing})
    # Which is missing depends on whether this worker's server has had an upload yet.
    said = asked.json()["error"]["message"]
    assert asked.status_code == 404 and ("no document" in said or "no library" in said)
    nowhere = client.post("/api/library/questions?library=empty", data={"question": QUESTION})
    assert nowhere.status_code == 404
    empty = client.get("/api/library?library=empty").json()
    assert empty == {"name": "empty", "exists": False, "documents": []}
    assert not (server.home / "libraries" / "empty").exists()  # a look creates nothing


def test_a_library_made_with_other_vectors_is_listed_but_not_added_to(
    server: Any, tmp_path: Path
) -> None:
    """A library `longagent add` filled with MiniLM vectors, served with another embedder."""

    class Other(HashEmbedder):
        name = "other-64"

    other = Library(server.home, "minilm", embedder=Other(), count_tokens=lambda t: len(t.split()))
    file = tmp_path / "notes.md"
    file.write_text("# Notes\n\nKalomi was born in the town of Renda.\n")
    assert other.add([file]).count("added") == 1
    client = server.client
    assert "minilm" in client.get("/api/libraries").json()
    assert [d["title"] for d in listing(client, "minilm").values()] == ["Notes"]
    job = add(client, library="minilm", data={"text": "More notes.", "name": "more"})
    assert job["status"] == "failed" and "longagent add" in job["error"]
    assert len(listing(client, "minilm")) == 1


def test_an_add_interrupted_by_a_restart_is_listed_and_added_again(tmp_path: Path) -> None:
    def app(model: Any) -> Any:
        return create_app(
            model,
            tmp_path / "data",
            embedder=HashEmbedder(),
            chunk_tokens=120,
            library_home=tmp_path / "home",
        )

    held = h.GatedModel()
    with h.LiveServer(app(held)) as server, httpx.Client(base_url=server.url) as client:
        seed = add(client, data={"text": h.document_text(h.BORN_TOSA), "name": "seed"})
        assert seed["status"] == "done"
        held.gate.clear()  # a question holds the model thread; the add waits behind it
        client.post("/api/library/questions", data={"question": QUESTION})
        assert held.entered.wait(30)
        queued = client.post("/api/library/documents", data={"text": "Late.", "name": "late"})
        assert queued.json()["status"] == "queued"
        threading.Timer(1.0, held.gate.set).start()  # once the shutdown asked it to stop

    with (
        h.LiveServer(app(h.scripted_model())) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        job_id = queued.json()["id"]
        page = client.get("/library").text
        assert f'id="add-{job_id}"' in page and "Interrupted" in page
        again = client.post(f"/library/jobs/{job_id}/rerun", headers={"HX-Request": "true"})
        assert again.status_code == 200 and "sse-connect" in again.text
        assert wait(client, {"id": job_id})["status"] == "done"
        assert "late" in listing(client)


def test_a_word_document_is_added_as_the_cli_adds_it(server: Any) -> None:
    import io

    import docx

    word = docx.Document()
    word.add_heading("Kalomi's life", level=1)
    word.add_paragraph(h.BORN_RENDA)
    buffer = io.BytesIO()
    word.save(buffer)
    kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    job = add(server.client, files={"file": ("life.docx", buffer.getvalue(), kind)})
    assert job["status"] == "done", job
    doc = listing(server.client)["life"]
    assert doc["format"] == "docx" and Path(doc["path"]).name == "life.docx"


def test_a_document_whose_file_is_gone_is_rebuilt_from_its_chunks(server: Any) -> None:
    client = server.client
    text = h.document_text(h.BORN_RENDA, filler_before=2)
    add(client, library="rebuilt", data={"text": text, "name": "gone"})
    doc = listing(client, "rebuilt")["gone"]
    Path(doc["path"]).unlink()
    served = client.get(f"/api/library/documents/{doc['id']}?library=rebuilt").json()
    assert not served["exact"] and len(served["text"]) == len(text)
    start = text.index(h.BORN_RENDA)  # every offset still points at the same characters
    assert served["text"][start : start + len(h.BORN_RENDA)] == h.BORN_RENDA
    assert served["text"].split() == text.split()
    answer = ask_in(client, "rebuilt", doc["id"])
    (citation,) = answer["citations"]
    page = client.get(
        f"/library/documents/{doc['id']}?library=rebuilt"
        f"&start={citation['start']}&end={citation['end']}"
    )
    assert f'id="cited">{h.BORN_RENDA}</mark>' in page.text and "rebuilt from" in page.text


def ask_in(client: httpx.Client, library: str, document: str) -> dict[str, Any]:
    response = client.post(
        f"/api/library/questions?library={library}",
        data={"question": QUESTION, "document": document},
    )
    assert response.status_code == 202, response.text
    return wait(client, response.json())["entry"]["answer"]


def test_a_not_found_answer_lists_where_it_looked_in_each_document(server: Any) -> None:
    client = server.client
    unread = "Kalomi grew up in the town beside the river."  # the scripted readers say nothing
    text = h.document_text(unread, filler_before=2)
    add(client, data={"text": text, "name": "kalomi-river"})
    doc = listing(client)["kalomi-river"]
    question = "In which town did Kalomi grow up?"

    def asked() -> dict[str, Any]:
        response = client.post(
            "/api/library/questions", data={"question": question, "document": doc["id"]}
        )
        job = wait(client, response.json())
        assert job["status"] == "done", job
        return job["entry"]

    entry = asked()
    assert not entry["answer"]["found"] and entry["passages"]
    assert any(unread in p["text"] for p in entry["passages"])
    for passage in entry["passages"]:
        assert passage["document_id"] == doc["id"] and passage["title"] == "kalomi-river"
        assert text[passage["start"] : passage["end"]] == passage["text"]
    first = entry["passages"][0]
    page = client.get(f"/library/documents/{doc['id']}?start={first['start']}&end={first['end']}")
    mark = re.search(r'<mark class="cited" id="cited">(.*?)</mark>', page.text, re.S)
    assert mark and html.unescape(mark.group(1)) == first["text"]
    shown = client.get("/library").text
    assert f"/library/documents/{doc['id']}?library=default&amp;start={first['start']}" in shown

    again = asked()  # the same question, the same settings: given again, nothing read
    assert again["answer"]["remembered"] and again["answer"]["usage"]["requests"] == 0
    assert again["passages"] == entry["passages"]
