"""The library QA benchmark's documents: each planted fact in exactly one document, the
others holding decoys of the same shape."""

from __future__ import annotations

from pathlib import Path

from longagent.apps.bench.library_qa import make_library_documents


def test_each_fact_is_planted_in_one_document_of_about_two_kb(tmp_path: Path) -> None:
    paths, questions = make_library_documents(
        tmp_path, docs=12, facts=3, tokens=300, count_tokens=lambda s: len(s.split())
    )
    assert len(paths) == 12 and len(questions) == 3
    texts = {str(p): p.read_text() for p in paths}
    for item in questions:
        town = item["answers"][0]
        holding = [p for p, t in texts.items() if f"born in the town of {town}." in t]
        assert holding == [item["path"]]
    decoys = [t for p, t in texts.items() if p not in {q["path"] for q in questions}]
    assert all("was born in the town of" in t for t in decoys)
    assert all(1000 < len(t) < 4000 for t in texts.values())
