"""The web app through FastAPI's test client: the real LongAgent and ChatAgent (real
LanceDB) on a scripted model, pages, SSE progress, the JSON API, and every refusal."""

from __future__ import annotations

import html
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from longagent.agents.chat_functions import FunctionError
from longagent.llm import ScriptedModel

h = sys.modules["longagent_web_test_helpers"]  # _helpers.py, loaded by conftest.py
BORN_RENDA, BORN_TOSA, SISTER, XSS_FACT = h.BORN_RENDA, h.BORN_TOSA, h.SISTER, h.XSS_FACT
document_text = h.document_text

HX = {"HX-Request": "true"}
QUESTION = "In which town was Kalomi born?"


@pytest.fixture
def client(make_app: Callable[..., Any]) -> Iterator[TestClient]:
    with TestClient(make_app()) as c:
        yield c


def upload_text(client: TestClient, text: str, name: str = "bio") -> str:
    response = client.post("/documents", data={"text": text, "name": name}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


def ask(client: TestClient, doc_id: str, question: str = QUESTION) -> tuple[str, str]:
    """Ask through HTMX; returns the pending entry's HTML and the job id."""
    response = client.post(
        f"/documents/{doc_id}/questions", data={"question": question}, headers=HX
    )
    assert response.status_code == 200, response.text
    job_id = re.search(r'sse-connect="/jobs/([0-9a-f]{32})/events"', response.text)
    assert job_id, response.text
    return response.text, job_id.group(1)


def events(client: TestClient, job_id: str, last_id: int = 0) -> list[tuple[str, str]]:
    """Read the job's SSE stream to its `done` event: (event, data) pairs."""
    out: list[tuple[str, str]] = []
    kind, data = "", []
    headers = {"Last-Event-ID": str(last_id)} if last_id else {}
    with client.stream("GET", f"/jobs/{job_id}/events", headers=headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("event:"):
                kind = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").removeprefix(" "))
            elif not line and kind:
                out.append((kind, "\n".join(data)))
                if kind == "done":
                    return out
                kind, data = "", []
    return out


# -- QA -------------------------------------------------------------------------------------


def test_paste_ask_stream_and_cite(client: TestClient) -> None:
    text = document_text(BORN_RENDA)
    doc_id = upload_text(client, text)
    page = client.get(f"/documents/{doc_id}")
    assert page.status_code == 200 and "No questions yet" in page.text
    # The document view holds the exact text, so citation offsets index into it.
    shown = re.search(r'<div id="doc-text" class="doctext">(.*?)</div>', page.text, re.S)
    assert shown and html.unescape(shown.group(1)) == text

    pending, job_id = ask(client, doc_id)
    assert QUESTION in pending and 'sse-close="done"' in pending
    stream = events(client, job_id)
    progress = [data for kind, data in stream if kind == "progress"]
    assert "round 1: asking" in progress[0] and "members grounded" in progress[1]
    kind, done = stream[-1]
    assert kind == "done" and "Renda" in done and "sse-connect" not in done
    start, end = (int(x) for x in re.search(r'data-start="(\d+)" data-end="(\d+)"', done).groups())
    assert text[start:end] == BORN_RENDA  # ASCII text: JS and Python offsets agree

    (entry,) = client.get(f"/api/documents/{doc_id}/questions").json()
    assert entry["id"] == job_id and entry["answer"]["text"] == "Renda"
    citation = entry["answer"]["citations"][0]
    assert text[citation["start"] : citation["end"]] == citation["quote"] == BORN_RENDA
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["done"] and job["events"][-1]["kind"] == "answered"
    assert "Renda" in client.get(f"/documents/{doc_id}").text  # listed on the page


def test_a_reconnecting_browser_gets_only_the_events_it_missed(client: TestClient) -> None:
    doc_id = upload_text(client, document_text(BORN_RENDA))
    job_id = ask(client, doc_id)[1]
    everything = events(client, job_id)
    assert len(everything) > 3 and events(client, job_id, last_id=2) == everything[2:]


def test_earlier_questions_stay_listed_after_a_restart(
    make_app: Callable[..., Any],
) -> None:
    with TestClient(make_app()) as first:
        doc_id = upload_text(first, document_text(BORN_RENDA))
        for question in (QUESTION, "Where was Kalomi born?"):
            events(first, ask(first, doc_id, question)[1])
    with TestClient(make_app()) as second:  # a new app on the same data directory
        page = second.get(f"/documents/{doc_id}").text
        assert page.index("Where was Kalomi born?") < page.index(QUESTION)  # newest first
        assert [d["id"] for d in second.get("/api/documents").json()] == [doc_id]


def test_documents_and_answers_are_written_with_fsync(
    make_app: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with TestClient(make_app()) as client:
        doc_id = upload_text(client, document_text(BORN_RENDA))
        events(client, ask(client, doc_id)[1])  # to the end: the answer is saved
    for name in ("document.json", "text.txt", "info.json", "questions.json", "jobs.json"):
        assert any(s.startswith(f".{name}.") for s in synced), (name, synced)


def test_a_conflict_is_traced_and_drawn(client: TestClient) -> None:
    doc_id = upload_text(client, document_text(BORN_RENDA, BORN_TOSA))
    _, job_id = ask(client, doc_id)
    _, done = events(client, job_id)[-1]
    assert "Renda" in done and "resolve" in done
    svg = re.search(r"<svg.*?</svg>", done, re.S)
    assert svg and svg.group().count("<circle") == 2 and svg.group().count("<line") == 1
    assert ">Tosa<" in svg.group() and "grounded" in done


def test_a_non_unicode_document_gets_utf16_offsets_for_the_browser(client: TestClient) -> None:
    text = document_text(BORN_RENDA).replace("Modules", "Módulos 🙂", 1)
    doc_id = upload_text(client, text)
    _, done = events(client, ask(client, doc_id)[1])[-1]
    start = int(re.search(r'data-start="(\d+)"', done).group(1))
    python_start = text.index(BORN_RENDA)
    assert start == python_start + 1  # the emoji is two UTF-16 code units


def test_a_not_found_answer_lists_the_passages_read_first(client: TestClient) -> None:
    unread = "Kalomi grew up in the town beside the river."  # the scripted readers say nothing
    doc_id = upload_text(client, document_text(unread))
    _, done = events(client, ask(client, doc_id, "In which town did Kalomi grow up?")[1])[-1]
    (entry,) = client.get(f"/api/documents/{doc_id}/questions").json()
    answer = entry["answer"]
    assert not answer["found"] and not answer["citations"]
    searched = [tuple(p) for r in answer["trace"] if r["kind"] == "search" for p in r["passages"]]
    buttons = re.findall(r'data-start="(\d+)" data-end="(\d+)"', done)
    assert searched and [(int(a), int(b)) for a, b in buttons] == searched[:4]
    assert unread in html.unescape(done)  # the likeliest passage, shown as read


def test_a_failing_model_shows_the_error(make_app: Callable[..., Any]) -> None:
    def broken(_: Any) -> str:
        raise RuntimeError("out of memory")

    with TestClient(make_app(model=ScriptedModel(broken))) as client:
        doc_id = upload_text(client, document_text(BORN_RENDA))
        _, done = events(client, ask(client, doc_id)[1])[-1]
        assert "The model failed" in done and "out of memory" in done
        assert client.get(f"/api/documents/{doc_id}/questions").json()[0]["error"]


def test_empty_and_long_questions_are_refused(client: TestClient) -> None:
    doc_id = upload_text(client, document_text(BORN_RENDA))
    empty = client.post(f"/documents/{doc_id}/questions", data={"question": "  "}, headers=HX)
    assert empty.status_code == 400 and "Write a question first" in empty.text
    assert empty.headers["HX-Retarget"] == "#flash"  # shown above the page, not as an entry
    long = client.post(f"/documents/{doc_id}/questions", data={"question": "why " * 200})
    assert long.status_code == 400 and "limited to 500" in long.text


# -- uploads --------------------------------------------------------------------------------


def test_markdown_html_and_pdf_files_are_read(client: TestClient, make_pdf) -> None:
    files = {
        "notes.md": b"# Family\n\nKalomi was born in the town of Renda.\n",
        "page.html": b"<html><body><h1>Bio</h1><p>Kalomi was born in Tosa.</p></body></html>",
        "report.pdf": make_pdf([["Kalomi was born in the town of Renda."]]),
    }
    for name, data in files.items():
        response = client.post("/documents", files={"file": (name, data)}, follow_redirects=False)
        assert response.status_code == 303, (name, response.text)
        page = client.get(response.headers["location"]).text
        assert name in page and "Kalomi was born" in page
    formats = {d["name"]: d["format"] for d in client.get("/api/documents").json()}
    assert formats == {"notes.md": "markdown", "page.html": "html", "report.pdf": "pdf"}


def test_the_json_api_uploads_too(client: TestClient) -> None:
    response = client.post("/api/documents", files={"file": ("a.txt", b"Kalomi lived in Renda.")})
    assert response.status_code == 201 and response.json()["chars"] == 22


def test_refusals_are_readable_pages(make_app: Callable[..., Any]) -> None:
    with TestClient(make_app(max_upload_bytes=4096)) as client:
        exe = client.post("/documents", files={"file": ("tool.exe", b"MZ\x90\x00")})
        assert exe.status_code == 415 and "Unsupported file type" in exe.text
        assert "tool.exe: only" in exe.text and exe.headers["content-type"].startswith("text/html")
        big = client.post("/documents", files={"file": ("big.txt", b"word " * 2000)})
        assert big.status_code == 413 and "limited to 4 KB" in big.text
        assert "Document too large" in big.text and "--max-upload-mb" in big.text
        huge = client.post("/documents", files={"file": ("huge.txt", b"x" * 200_000)})
        assert huge.status_code == 413  # refused by its Content-Length, before reading
        pasted = client.post("/documents", data={"text": "word " * 2000})
        assert pasted.status_code == 413
        binary = client.post("/documents", files={"file": ("data.txt", bytes(range(256)) * 4)})
        assert binary.status_code == 422 and "binary" in binary.text
        nothing = client.post("/documents", data={"text": "  "})
        assert nothing.status_code == 400 and "Choose a file or paste some text" in nothing.text
        api = client.post("/api/documents", files={"file": ("x.exe", b"x")})
        assert api.status_code == 415 and "only" in api.json()["error"]["message"]


# -- safety ---------------------------------------------------------------------------------


def test_document_text_is_always_escaped(client: TestClient) -> None:
    doc_id = upload_text(client, document_text(XSS_FACT), name="<img src=x onerror=alert(1)>")
    page = client.get(f"/documents/{doc_id}")
    assert "&lt;script&gt;window.__pwned" in page.text and "<script>window" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    _, done = events(client, ask(client, doc_id, "What is the secret word? <script>x</script>")[1])[
        -1
    ]
    assert "zebra" in done and "<script>" not in done and "&lt;script&gt;" in done


def test_no_request_reaches_outside_the_data_directory(client: TestClient, tmp_path: Path) -> None:
    for path in (
        "/documents/..%2F..%2F..%2Fetc%2Fpasswd",
        "/documents/ABCDEF0123456789",
        "/documents/0123456789abcdef",
        "/jobs/..%2Fx/events",
        "/api/jobs/0123",
        "/chat/..%2F..%2Fetc",
        "/chat/.hidden",
        "/static/..%2F..%2Fapp.py",
    ):
        assert client.get(path).status_code == 404, path
    for name in ("../evil", "a/b", "..", "a.b", "x" * 65, ""):
        assert client.post("/chat", data={"name": name}).status_code == 400, name
    assert not (tmp_path / "evil").exists()
    top = {p.name for p in (tmp_path / "data").iterdir()}
    assert top <= {"documents", "agents", "jobs.json"}


def test_the_chat_agent_reads_only_uploaded_documents(client: TestClient, tmp_path: Path) -> None:
    doc_id = upload_text(client, document_text(BORN_RENDA))
    pool = client.app.state.agents
    agent = pool.open("reader")
    secret = tmp_path / "secret.txt"
    secret.write_text("Kalomi was born in the town of Renda.")
    for path in (str(secret), "/etc/hostname", f"{tmp_path}/data/documents/../../secret.txt"):
        with pytest.raises(FunctionError, match="only documents uploaded"):
            agent.functions.read(path, QUESTION)
    reading = agent.functions.read(doc_id, QUESTION)  # by id: allowed
    assert reading.answer == "Renda" and reading.found


def test_cross_site_posts_are_refused(client: TestClient) -> None:
    response = client.post(
        "/documents", data={"text": "hello"}, headers={"Origin": "http://evil.example"}
    )
    assert response.status_code == 403
    same = client.post(
        "/documents",
        data={"text": "hello"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same.status_code == 303


def test_the_token_guards_every_page_and_the_api(make_app: Callable[..., Any]) -> None:
    with TestClient(make_app(token="s3cret")) as client:
        page = client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2F"
        assert client.get("/api/documents").status_code == 401
        assert client.get("/static/htmx.min.js").status_code == 200
        assert client.get("/health").status_code == 200
        bearer = {"Authorization": "Bearer s3cret"}
        assert client.get("/api/documents", headers=bearer).status_code == 200
        wrong = client.post("/login", data={"token": "nope", "next": "/chat"})
        assert wrong.status_code == 401 and "not right" in wrong.text
        outside = client.post(
            "/login", data={"token": "s3cret", "next": "//evil.example"}, follow_redirects=False
        )
        assert outside.headers["location"] == "/"  # no open redirect
        client.cookies.clear()
        link = client.get("/chat?token=s3cret&x=1", follow_redirects=False)
        assert link.status_code == 303 and link.headers["location"] == "/chat?x=1"
        assert client.get("/chat").status_code == 200  # the cookie logs the browser in
        client.cookies.clear()
        assert client.get("/api/chat").status_code == 401


# -- chat -----------------------------------------------------------------------------------


def test_chat_creates_an_agent_and_shows_its_memory(client: TestClient) -> None:
    assert "No agents yet" in client.get("/chat").text
    created = client.post("/chat", data={"name": "alice"}, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/chat/alice"
    page = client.get("/chat/alice").text
    assert "Core memory" in page and "persona" in page and "(no notes yet)" in page
    before = client.get("/api/chat/alice/memory").json()

    turn = client.post("/chat/alice/messages", data={"message": SISTER}, headers=HX)
    assert turn.status_code == 200
    assert 'id="conversation"' in turn.text and 'hx-swap-oob="true"' in turn.text
    assert "Noted: your sister Ines lives in Porto." in turn.text
    assert "core_memory_append(" in turn.text  # the calls show in the conversation
    after = client.get("/api/chat/alice/memory").json()
    human = next(b for b in after["blocks"] if b["label"] == "human")
    assert human["value"] == "Sister is called Ines."
    assert [a["text"] for a in after["archival"]] == ["Ines lives in Porto."]
    assert after["tokens"] > before["tokens"] and after["budget"] == before["budget"]
    assert 0 < after["percent"] < 100


def test_chat_api_and_refusals(client: TestClient) -> None:
    client.post("/chat", data={"name": "bob"})
    reply = client.post("/api/chat/bob/messages", data={"message": "Hi there"}).json()
    assert reply["reply"]["text"] == "Hello!" and reply["memory"]["lines"][-1]["text"] == "Hello!"
    assert client.get("/api/chat").json() == ["bob"]
    assert client.post("/chat/nobody/messages", data={"message": "hi"}).status_code == 404
    empty = client.post("/chat/bob/messages", data={"message": " "}, headers=HX)
    assert empty.status_code == 400 and "Write a message first" in empty.text


def test_memory_pressure_folds_old_messages_into_the_summary(
    make_app: Callable[..., Any],
) -> None:
    with TestClient(make_app(chat_budget=260)) as client:
        client.post("/chat", data={"name": "tiny"})
        for i in range(8):
            client.post("/chat/tiny/messages", data={"message": f"Greeting number {i} to you"})
        memory = client.get("/api/chat/tiny/memory").json()
        assert memory["evicted"] > 0 and memory["summary"]
        page = client.get("/chat/tiny").text
        assert "moved out of the context into the summary" in page
