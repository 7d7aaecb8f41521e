"""The prefix cache's disk tier outlives the process: a second cache (or process) on the same
folder serves the blocks, bounded, never from a damaged or foreign file, never across models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from longagent.llm.prefix_cache import PrefixCache, block_keys

LAYERS, HEADS, DIM, BLOCK = 2, 3, 4, 4


def kv_for(tokens: list[int]) -> torch.Tensor:
    """Fake KV whose values encode token and position, so slices can be checked."""
    values = torch.tensor(tokens, dtype=torch.float32) * 1000 + torch.arange(len(tokens))
    return values.view(1, 1, 1, -1, 1).expand(LAYERS, 2, HEADS, -1, DIM).clone()


def cache(folder: Path, fingerprint: str = "model-a", **kwargs: int) -> PrefixCache:
    return PrefixCache(block_tokens=BLOCK, spill_dir=folder, fingerprint=fingerprint, **kwargs)


PROMPT = list(range(100, 116))  # four full blocks


def files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.kv"))


def test_a_second_cache_on_the_same_folder_serves_the_blocks(tmp_path: Path) -> None:
    cache(tmp_path).store(PROMPT, kv_for(PROMPT))
    assert len(files(tmp_path)) == 4  # written as computed, not only when evicted
    later = cache(tmp_path)  # a new process: nothing in memory
    assert len(later) == 4 and later.bytes == 0
    n, kv = later.lookup([*PROMPT, 7])
    assert n == 16 and torch.equal(kv, kv_for(PROMPT))
    assert later.disk_hits == 4 and later.hits == 4
    assert len(files(tmp_path)) == 4  # reading keeps the files for the next process


def test_another_fingerprint_never_reads_the_blocks(tmp_path: Path) -> None:
    cache(tmp_path, "model-a").store(PROMPT, kv_for(PROMPT))
    other = cache(tmp_path, "model-b")
    assert other.lookup([*PROMPT, 7]) == (0, None) and other.misses == 4
    # Even a block file copied into its folder is refused: the file names its model.
    for path in files(tmp_path):
        (tmp_path / "model-b").joinpath(path.name).write_bytes(path.read_bytes())
    other = cache(tmp_path, "model-b")
    assert other.lookup([*PROMPT, 7]) == (0, None)
    # The first block, read and refused, is removed; the chain stops there.
    assert len(list((tmp_path / "model-b").glob("*.kv"))) == 3


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short by a crash
        lambda data: data[:-4] + bytes(4),  # payload bytes changed
        lambda data: b"\x00" * len(data),  # zeroed
        lambda data: b"not a block at all",  # a foreign file with a block's name
        lambda data: data + b"extra",  # too long
    ],
)
def test_a_damaged_or_foreign_file_is_skipped_and_removed(tmp_path: Path, damage) -> None:
    cache(tmp_path).store(PROMPT, kv_for(PROMPT))
    keys = block_keys(PROMPT, BLOCK)
    third = tmp_path / "model-a" / f"{keys[2]}.kv"
    third.write_bytes(damage(third.read_bytes()))
    later = cache(tmp_path)
    n, kv = later.lookup([*PROMPT, 7])
    # The blocks before the damaged one are served; it and what follows it are not.
    assert n == 8 and torch.equal(kv, kv_for(PROMPT)[:, :, :, :8])
    assert not third.exists() and len(files(tmp_path)) == 3


def test_other_files_in_the_folder_are_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "model-a"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "short.kv").write_text("not a key name")
    stale = folder / ".abc.tmp"  # a temp file of a writer killed long ago
    stale.write_bytes(b"half a block")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    fresh = folder / ".def.tmp"  # a writer at work right now
    fresh.write_bytes(b"half a block")
    later = cache(tmp_path)
    assert len(later) == 0 and later.disk_bytes == 0
    assert (folder / "notes.txt").exists() and (folder / "short.kv").exists()
    assert not stale.exists() and fresh.exists()


def test_the_disk_bound_holds_for_a_new_process_and_keeps_the_newest(tmp_path: Path) -> None:
    first = cache(tmp_path)
    first.store(PROMPT, kv_for(PROMPT))
    size = files(tmp_path)[0].stat().st_size
    # Make the last block the most recently used, as a later process would see it.
    for age, path in enumerate(reversed([tmp_path / "model-a" / f"{k}.kv" for k in
                                         block_keys(PROMPT, BLOCK)])):  # fmt: skip
        os.utime(path, (time.time() - age * 10, time.time() - age * 10))
    later = cache(tmp_path, max_disk_bytes=2 * size)
    assert later.disk_bytes == sum(p.stat().st_size for p in files(tmp_path)) <= 2 * size
    assert {p.stem for p in files(tmp_path)} == set(block_keys(PROMPT, BLOCK)[2:])
    # Writing more stays under the bound.
    other = list(range(500, 540))
    later.store(other, kv_for(other))
    assert later.disk_bytes == sum(p.stat().st_size for p in files(tmp_path)) <= 2 * size


def test_blocks_another_process_removed_or_wrote_since_are_handled(tmp_path: Path) -> None:
    writer = cache(tmp_path)
    reader = cache(tmp_path)  # opened before anything was written
    writer.store(PROMPT, kv_for(PROMPT))
    assert reader.match([*PROMPT, 7]) == 16  # found on the miss
    keys = block_keys(PROMPT, BLOCK)
    (tmp_path / "model-a" / f"{keys[1]}.kv").unlink()  # another process trimmed it
    n, kv = reader.lookup([*PROMPT, 7])
    assert n == 4 and torch.equal(kv, kv_for(PROMPT)[:, :, :, :4])


def test_a_folder_that_cannot_be_written_leaves_the_cache_in_memory(tmp_path: Path) -> None:
    (tmp_path / "model-a").write_text("a file where the folder should be")
    unusable = cache(tmp_path)
    assert unusable.disk is None
    unusable.store(PROMPT, kv_for(PROMPT))
    assert unusable.lookup([*PROMPT, 7])[0] == 16  # still served from memory
    # A folder that goes away while in use (disk full, unmounted): writing stops, no error.
    working = cache(tmp_path, "model-b")
    shutil.rmtree(tmp_path / "model-b")
    (tmp_path / "model-b").write_text("gone")
    working.store(PROMPT, kv_for(PROMPT))
    assert working.disk is not None and not working.disk.writable
    assert working.lookup([*PROMPT, 7])[0] == 16


def test_clear_removes_the_files(tmp_path: Path) -> None:
    first = cache(tmp_path)
    first.store(PROMPT, kv_for(PROMPT))
    first.clear()
    assert files(tmp_path) == [] and len(first) == 0 and first.disk_bytes == 0


# -- the model's side -------------------------------------------------------------------


def test_blocks_go_under_home_by_default_and_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from longagent.config import Settings

    monkeypatch.delenv("LONGAGENT_PREFIX_CACHE_DIR", raising=False)
    monkeypatch.delenv("LONGAGENT_PREFIX_CACHE_DISK_MB", raising=False)
    settings = Settings(home=tmp_path / "home")
    assert settings.prefix_cache_dir == tmp_path / "home" / "kv"
    assert settings.prefix_cache_disk_mb > 0
    monkeypatch.setenv("LONGAGENT_PREFIX_CACHE_DISK_MB", "0")
    assert Settings().prefix_cache_disk_mb == 0


def test_the_fingerprint_changes_with_dtype_and_extension_plan(bundled_model) -> None:
    from longagent.kernels import plan_extension

    base = bundled_model._kv_fingerprint("float32")
    assert base == bundled_model._kv_fingerprint("float32")  # stable: a new process agrees
    assert base != bundled_model._kv_fingerprint("bfloat16")
    saved = bundled_model.extension
    try:
        config = bundled_model.hf_model.config
        bundled_model.extension = plan_extension(config, 4 * config.max_position_embeddings)
        assert bundled_model._kv_fingerprint("float32") != base
    finally:
        bundled_model.extension = saved


# -- two real processes ------------------------------------------------------------------

ASK = """
import json, sys
from longagent.config import Settings
from longagent.llm import GenerationRequest, load_model

model = load_model(settings=Settings())
chunk = open(sys.argv[1]).read()
requests = [
    GenerationRequest.chat(
        ("system", "Answer from the text only."),
        ("user", f"<text>\\n{chunk}\\n</text>\\n\\nQuestion: {q}"),
        max_new_tokens=16,
    )
    for q in ("Who kept the lighthouse?", "What did the Aurora carry?")
]
out = model.generate(requests)
cache = model.prefix_cache
print(json.dumps({"texts": [g.text for g in out], "tokens": [g.completion_tokens for g in out],
                  "disk_hits": cache.disk_hits, "folder": str(cache.disk.folder),
                  "chunk_blocks": model.count_tokens(chunk) // cache.block_tokens}))
"""

CHUNK = (
    "The lighthouse keeper, Mara Venn, logged every ship that passed the northern cape. "
    "In the spring of 1911 she recorded forty-two vessels, among them the steamer Aurora, "
    "which carried copper ore from the mines at Kettle Bay. "
) * 4


@pytest.mark.slow
def test_a_second_process_reads_the_first_one_s_blocks_and_answers_the_same(
    tmp_path: Path,
) -> None:
    chunk = tmp_path / "chunk.txt"
    chunk.write_text(CHUNK)
    env = {
        **os.environ,
        "LONGAGENT_THREADS": "1",
        "LONGAGENT_HOME": str(tmp_path / "home"),
        "LONGAGENT_PREFIX_CACHE_DIR": str(tmp_path / "kv"),
        "LONGAGENT_PREFIX_CACHE_DISK_MB": "1024",
        "HF_HUB_OFFLINE": "1",
    }

    def run() -> dict:
        done = subprocess.run(
            [sys.executable, "-c", ASK, str(chunk)],
            env=env,
            cwd=tmp_path,  # not the repository root (see longagent/kernels/__init__.py)
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = run()
    stored = sorted(Path(first["folder"]).glob("*.kv"))
    assert first["disk_hits"] == 0 and len(stored) >= first["chunk_blocks"]
    second = run()
    assert second["folder"] == first["folder"]
    # Both prompts' chunk came from the first process's files, and the answers are the same.
    assert second["disk_hits"] >= first["chunk_blocks"]
    assert second["texts"] == first["texts"] and second["tokens"] == first["tokens"]
