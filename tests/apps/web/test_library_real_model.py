"""A library question through the web API on the real bundled model (SmolLM2-135M on
CPU) and the real MiniLM embedder, against a real uvicorn server."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from longagent.apps.web import create_app

h = sys.modules["longagent_web_test_helpers"]  # _helpers.py, loaded by conftest.py

MUSEUM = (
    "The Harbor Museum\n\n"
    "The Harbor Museum stands on the old quay of Renda. It was founded in 1921 by "
    "Marta Ilves, a ship's captain who collected maps. Its largest room holds a model "
    "of the lighthouse, and the garden has a bell that rings at noon."
)
BAKERY = (
    "The Rye Bakery\n\n"
    "The Rye Bakery bakes bread with caraway seeds every morning before dawn. Its ovens "
    "were built of brick in 1950, and the shop sells twelve kinds of loaves."
)


def finished(client: httpx.Client, job: dict[str, Any], timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/library/jobs/{job['id']}").json()
        if job["done"]:
            return job
        time.sleep(0.25)
    raise AssertionError(f"the job did not finish: {job}")


@pytest.mark.slow
def test_the_real_model_answers_a_library_question_with_cited_documents(
    bundled_model: Any, tmp_path: Path
) -> None:
    app = create_app(bundled_model, tmp_path / "data", library_home=tmp_path / "home")
    with h.LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        for text, name in ((MUSEUM, "museum"), (BAKERY, "bakery")):
            added = client.post("/api/library/documents", data={"text": text, "name": name})
            assert added.status_code == 202, added.text
            assert finished(client, added.json())["status"] == "done"
        docs = {d["id"]: d for d in client.get("/api/library").json()["documents"]}
        assert sorted(d["title"] for d in docs.values()) == ["bakery", "museum"]

        asked = client.post("/api/library/questions", data={"question": "Who founded the museum?"})
        job = finished(client, asked.json())
        assert job["status"] == "done", job
        answer = job["entry"]["answer"]
        assert answer["trace"] and answer["usage"]["model_calls"] >= 1
        for citation in answer["citations"]:  # whatever the model found is cited exactly
            assert citation["document_id"] in docs
            served = client.get(f"/api/library/documents/{citation['document_id']}").json()
            assert served["text"][citation["start"] : citation["end"]] == citation["quote"]
        if answer["found"]:  # grounded in the museum, not the bakery
            assert {docs[c["document_id"]]["title"] for c in answer["citations"]} == {"museum"}
