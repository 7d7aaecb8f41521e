"""The document library on a real LanceDB in a temporary folder: adding files, folders and
globs, re-adding, removing, hybrid search and damage. Adds killed by SIGKILL or run by two
processes at once are in test_library_processes.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from longagent.chunking import load
from longagent.errors import ConfigError, DocumentError
from longagent.memory import MiniLMEmbedder, StoreDamagedError, StoreError
from longagent.memory.embedder import HashEmbedder
from longagent.memory.library import Library, library_dir

from ._library_helpers import consistent, docs, open_library, words, write_doc

__all__ = ["docs"]  # the fixture, imported for pytest


def test_add_a_folder_then_again_is_a_no_op(tmp_path: Path, docs: Path) -> None:
    write_doc(docs / "sub" / "notes.md", "delta", 3)
    (docs / "image.png").write_bytes(b"\x89PNG")
    (docs / ".hidden.txt").write_text("not added")
    library = open_library(tmp_path / "home")
    report = library.add([docs])
    assert report.count("added") == 4 and report.count("skipped") == 1
    assert report.chunks == 33 and report.files[0].reason.startswith("unsupported")
    listed = consistent(library)
    assert sorted(Path(d.path).name for d in listed) == ["d0.txt", "d1.txt", "d2.txt", "notes.md"]
    # Exact offsets: each stored chunk is its document's text at [start, end).
    text = load(docs / "d1.txt").text
    for row in library.chunks_table.to_arrow().to_pylist():
        if row["document_id"] == next(d.id for d in listed if d.path.endswith("d1.txt")):
            assert text[row["start"] : row["end"]] == row["text"]
    version = library.chunks_table.version
    again = library.add([docs / "*.txt", docs / "sub"])
    assert again.count("unchanged") == 4 and again.chunks == 0
    assert library.chunks_table.version == version  # nothing was written
    info = library.info()
    assert (info["documents"], info["chunks"], info["stray_chunks"]) == (4, 33, 0)
    assert info["bytes"] == sum(d.size for d in listed) and info["disk_bytes"] > 0


def test_a_changed_file_is_reindexed_and_its_old_rows_go(tmp_path: Path, docs: Path) -> None:
    library = open_library(tmp_path / "home")
    library.add([docs])
    old = library.find(str(docs / "d0.txt"))
    write_doc(docs / "d0.txt", "omega", 4)
    report = library.add([docs])
    assert report.count("replaced") == 1 and report.count("unchanged") == 2
    new = library.find(str(docs / "d0.txt"))
    assert new.id != old.id and new.chunk_count == 4
    consistent(library)
    assert library.chunks_table.count_rows(f"document_id = '{old.id}'") == 0
    assert all("alpha" not in h.text for h in library.search("alpha0w1", k=5))


def test_bad_files_are_reported_and_the_batch_goes_on(tmp_path: Path, docs: Path) -> None:
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 50)
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "notes.xyz").write_text("text")
    (tmp_path / "same.txt").write_bytes((docs / "d2.txt").read_bytes())
    library = open_library(tmp_path / "home", settings=None)
    inputs = [
        tmp_path / "missing.txt",
        tmp_path / "binary.txt",
        docs / "d0.txt",
        tmp_path / "empty.md",
        tmp_path / "notes.xyz",
        str(tmp_path / "nothing-*.pdf"),
        docs / "d2.txt",
        tmp_path / "same.txt",
    ]
    report = library.add(inputs)
    outcomes = {Path(f.path).name: (f.outcome, f.reason) for f in report.files}
    assert outcomes["missing.txt"] == ("skipped", "no such file")
    assert outcomes["binary.txt"][0] == "failed" and "binary" in outcomes["binary.txt"][1]
    assert outcomes["empty.md"][0] == "failed" and "empty" in outcomes["empty.md"][1]
    assert outcomes["notes.xyz"][0] == "skipped" and "unsupported" in outcomes["notes.xyz"][1]
    assert outcomes["nothing-*.pdf"] == ("skipped", "no file matches")
    assert outcomes["same.txt"][0] == "duplicate" and "d2.txt" in outcomes["same.txt"][1]
    assert report.count("added") == 2 and len(consistent(library)) == 2


def test_oversized_files_fail_before_they_are_read(tmp_path: Path, docs: Path) -> None:
    from longagent.config import get_settings

    library = open_library(tmp_path / "home", settings=get_settings(max_document_bytes=100))
    report = library.add([docs / "d0.txt"])
    assert report.files[0].outcome == "failed" and "too large" in report.files[0].reason


def test_pdf_chunks_keep_their_pages(tmp_path: Path, make_pdf) -> None:  # type: ignore[no-untyped-def]
    pages = [[f"Page {n} line {i} " + "word " * 30 for i in range(3)] for n in range(1, 4)]
    (tmp_path / "report.pdf").write_bytes(make_pdf(pages))
    library = open_library(tmp_path / "home")
    assert library.add([tmp_path / "report.pdf"]).count("added") == 1
    [doc] = library.documents()
    assert doc.format == "pdf"
    hit = library.search("Page 3 line 2", k=1)[0]
    assert 3 in hit.pages and hit.text[:20] == load(tmp_path / "report.pdf").text[hit.start :][:20]
    rows = library.chunks_table.to_arrow().to_pylist()
    assert rows[0]["pages"][0] == 1 and {p for r in rows for p in r["pages"]} == {1, 2, 3}


def test_remove_by_id_prefix_and_path(tmp_path: Path, docs: Path) -> None:
    library = open_library(tmp_path / "home")
    library.add([docs])
    first, second, third = library.documents()
    assert library.remove(first.id).id == first.id
    assert library.remove(second.id[:10]).id == second.id
    assert library.remove(third.path).id == third.id
    assert library.documents() == [] and library.chunks_table.count_rows() == 0
    with pytest.raises(DocumentError, match="no document"):
        library.remove("nope")


def test_search_ranks_the_matching_chunk_first_with_and_without_vectors(
    tmp_path: Path, docs: Path
) -> None:
    for embedder in (HashEmbedder(), None):
        library = open_library(tmp_path / "home", str(embedder is None), embedder=embedder)
        library.add([docs])
        hits = library.search("beta3w7 beta3w8", k=3)
        assert hits[0].path.endswith("d1.txt") and hits[0].index == 3
        assert hits[0].bm25 is not None and (hits[0].similarity is None) == (embedder is None)
        assert "beta3w7" in hits[0].text and len(library.search("beta", k=2)) == 2


def test_names_and_embedders_are_checked(tmp_path: Path, docs: Path) -> None:
    with pytest.raises(ConfigError, match="bad library name"):
        library_dir(tmp_path, "../evil")
    library = open_library(tmp_path / "home")
    library.add([docs / "d0.txt"])
    reader = Library(tmp_path / "home", "t")  # no embedder: lists, removes, searches BM25
    assert len(reader.documents()) == 1
    with pytest.raises(StoreError, match="pass that embedder"):
        Library(tmp_path / "home", "t", count_tokens=words).add([docs / "d1.txt"])

    class Wider(HashEmbedder):
        dim = 128

    with pytest.raises(StoreError, match="makes 128"):
        Library(tmp_path / "home", "t", embedder=Wider())


def test_a_damaged_or_foreign_folder_is_a_clear_error(tmp_path: Path, docs: Path) -> None:
    home = tmp_path / "home"
    (home / "libraries").mkdir(parents=True)
    (home / "libraries" / "file").write_text("not a folder")
    with pytest.raises(StoreDamagedError, match="is a file"):
        open_library(home, "file")
    (home / "libraries" / "foreign").mkdir()
    (home / "libraries" / "foreign" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a longagent library"):
        open_library(home, "foreign")
    library = open_library(home)
    library.add([docs])
    for data in (library.root / "chunks.lance" / "data").iterdir():  # old versions' too
        data.write_bytes(os.urandom(data.stat().st_size))
    with pytest.raises(StoreDamagedError, match="chunks table cannot be read"):
        open_library(home)


# -- SIGKILL and concurrency, with real subprocesses --------------------------------------


def test_a_creation_cut_short_is_finished_and_rows_without_metadata_are_refused(
    tmp_path: Path, docs: Path
) -> None:
    home = tmp_path / "home"
    library = open_library(home)
    meta = library.root / "_meta.lance"
    os.rename(meta, tmp_path / "meta-aside")  # as if killed before the metadata was written
    assert open_library(home).documents() == []  # finished: the metadata is there again
    open_library(home).add([docs / "d0.txt"])

    shutil.rmtree(library.root / "_meta.lance")
    with pytest.raises(StoreDamagedError, match="no metadata"):
        open_library(home)


# -- the real embedder --------------------------------------------------------------------


def test_hybrid_search_finds_a_paraphrase_with_minilm(
    tmp_path: Path, embedder: MiniLMEmbedder
) -> None:
    folder = tmp_path / "docs"
    filler = [
        "The recipe needs two cups of flour, one egg and a pinch of salt.",
        "Rain is expected over the northern hills through the weekend.",
        "The orchestra tuned their violins before the evening concert.",
        "Our garden grows tomatoes, beans and a few pumpkins each summer.",
        "Trains to the coast leave every hour from the central station.",
    ]
    (folder).mkdir()
    (folder / "history.txt").write_text("Acme Corporation was founded by Ada Lovelace in 1843.\n")
    for i, line in enumerate(filler):
        (folder / f"other{i}.txt").write_text(line + "\n")
    library = Library(tmp_path / "home", "real", embedder=embedder, count_tokens=words)
    library.add([folder])
    hits = library.search("Who started the business?", k=3)
    assert hits[0].path.endswith("history.txt")
    assert hits[0].bm25 is None and hits[0].similarity is not None  # found by meaning alone


def test_a_long_add_keeps_the_documents_table_compact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each document's row is one small file, and every file added reads the table: it is
    # compacted as the add goes, not only at the end.
    from longagent.memory import library_writes

    monkeypatch.setattr(library_writes, "COMPACT_DOCUMENTS_EVERY", 3)
    folder = tmp_path / "many"
    for i in range(7):
        write_doc(folder / f"m{i}.txt", f"topic{i}", paragraphs=2)
    library = open_library(tmp_path / "home")
    fragments: list[int] = []

    def after_each_file(progress: object) -> None:
        if getattr(progress, "stage", "") == "file":
            stats = library.documents_table.stats()
            fragments.append(stats["fragment_stats"]["num_fragments"])

    report = library.add([folder], on_progress=after_each_file)
    assert report.count("added") == 7 and len(consistent(library)) == 7
    assert fragments[2] == 1 and fragments[5] == 1  # compacted after the 3rd and 6th file
    assert fragments[1] == 2 and fragments[4] == 3  # appended one by one in between
