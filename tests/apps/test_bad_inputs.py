"""Bad command lines: every command, with bad paths, bad numbers, unwritable folders and
bad settings, run as real subprocesses. Each must exit 2 with one line on stderr, never a
traceback, and fail before any model loads (so the whole file runs in well under a
minute with the cases in parallel).

The second half: random option values fed in-process never escape as an exception. Big
and endless input is tests/apps/test_big_inputs.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from filelock import FileLock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._cli_helpers import CLI, base_env

CASE_TIMEOUT = 60  # a hang fails the case instead of the whole run

# (id, argv with {placeholders}, extra environment). Placeholders name paths the
# `paths` fixture makes: doc (a text file), file (a plain file where a folder is wanted),
# ro (a folder nobody may write, /sys for root), fifo (a FIFO with no writer), missing.
CASES: list[tuple[str, list[str], dict[str, str]]] = [
    # ask
    ("ask-missing", ["ask", "{missing}", "q"], {}),
    ("ask-directory", ["ask", "{dir}", "q"], {}),
    ("ask-fifo-no-writer", ["ask", "{fifo}", "q"], {}),
    ("ask-dev-zero", ["ask", "/dev/zero", "q"], {}),
    ("ask-dev-null", ["ask", "/dev/null", "q"], {}),
    ("ask-unsupported", ["ask", "{xyz}", "q"], {}),
    ("ask-binary", ["ask", "{binary}", "q"], {}),
    ("ask-empty", ["ask", "{empty}", "q"], {}),
    ("ask-over-limit", ["ask", "{doc}", "q"], {"LONGAGENT_MAX_DOCUMENT_BYTES": "10"}),
    ("ask-max-rounds-0", ["ask", "{doc}", "q", "--max-rounds", "0"], {}),
    ("ask-max-rounds-neg", ["ask", "{doc}", "q", "--max-rounds", "-3"], {}),
    ("ask-max-rounds-abc", ["ask", "{doc}", "q", "--max-rounds", "abc"], {}),
    ("ask-chunk-tokens-0", ["ask", "{doc}", "q", "--chunk-tokens", "0"], {}),
    ("ask-chunk-tokens-neg", ["ask", "{doc}", "q", "--chunk-tokens", "-5"], {}),
    ("ask-reading-bogus", ["ask", "{doc}", "q", "--reading", "bogus"], {}),
    ("ask-empty-question", ["ask", "{doc}", "  "], {}),
    # checked by LongAgent against its registries, once the model is loaded
    ("ask-profile-bogus", ["ask", "{doc}", "q", "--profile", "huge"], {}),
    ("ask-leader-bogus", ["ask", "{doc}", "q", "--leader", "boss"], {}),
    ("ask-verifier-bogus", ["ask", "{doc}", "q", "--verifier", "nope"], {}),
    ("ask-profile-setting-bogus", ["ask", "{doc}", "q"], {"LONGAGENT_PROFILE": "huge"}),
    ("ask-model-bogus", ["ask", "{doc}", "q", "--model", "no-such-model"], {}),
    ("ask-model-empty-openai", ["ask", "{doc}", "q", "--model", "openai:"], {}),
    ("ask-missing-question", ["ask", "{doc}"], {}),
    # settings from the environment
    ("env-threads-abc", ["ask", "{doc}", "q"], {"LONGAGENT_THREADS": "abc"}),
    ("env-threads-0", ["ask", "{doc}", "q"], {"LONGAGENT_THREADS": "0"}),
    ("env-max-bytes-neg", ["ask", "{doc}", "q"], {"LONGAGENT_MAX_DOCUMENT_BYTES": "-5"}),
    ("env-max-bytes-abc", ["ask", "{doc}", "q"], {"LONGAGENT_MAX_DOCUMENT_BYTES": "abc"}),
    ("env-prefix-cache-neg", ["ask", "{doc}", "q"], {"LONGAGENT_PREFIX_CACHE_MB": "-1"}),
    ("env-home-file", ["chat"], {"LONGAGENT_HOME": "{file}"}),
    # demo
    ("demo-tokens-0", ["demo", "--tokens", "0"], {}),
    ("demo-tokens-neg", ["demo", "--tokens", "-5"], {}),
    ("demo-tokens-abc", ["demo", "--tokens", "abc"], {}),
    ("demo-home-readonly", ["demo"], {"LONGAGENT_HOME": "{ro}"}),
    ("demo-home-file", ["demo"], {"LONGAGENT_HOME": "{file}"}),
    ("demo-model-bogus", ["demo", "--model", "no-such-model"], {}),
    # chat
    ("chat-home-file", ["chat", "--home", "{file}"], {}),
    ("chat-home-readonly", ["chat", "--home", "{ro}"], {}),
    ("chat-env-home-readonly", ["chat"], {"LONGAGENT_HOME": "{ro}"}),
    ("chat-budget-0", ["chat", "--budget", "0"], {}),
    ("chat-budget-neg", ["chat", "--budget", "-5"], {}),
    ("chat-budget-abc", ["chat", "--budget", "abc"], {}),
    ("chat-agent-bad-name", ["chat", "--agent", "../evil"], {}),
    ("chat-model-bogus", ["chat", "--model", "no-such-model"], {}),
    # serve (the web app)
    ("serve-port-big", ["serve", "--port", "99999"], {}),
    ("serve-port-neg", ["serve", "--port", "-1"], {}),
    ("serve-port-abc", ["serve", "--port", "abc"], {}),
    ("serve-data-dir-readonly", ["serve", "--data-dir", "{ro}"], {}),
    ("serve-data-dir-file", ["serve", "--data-dir", "{file}"], {}),
    ("serve-upload-0", ["serve", "--max-upload-mb", "0"], {}),
    ("serve-upload-neg", ["serve", "--max-upload-mb", "-1"], {}),
    ("serve-upload-inf", ["serve", "--max-upload-mb", "inf"], {}),
    ("serve-upload-nan", ["serve", "--max-upload-mb", "nan"], {}),
    ("serve-chunk-tokens-0", ["serve", "--chunk-tokens", "0"], {}),
    ("serve-model-bogus", ["serve", "--model", "no-such-model"], {}),
    # serve-model (the OpenAI-compatible server)
    ("serve-model-port-big", ["serve-model", "--port", "99999"], {}),
    ("serve-model-port-neg", ["serve-model", "--port", "-1"], {}),
    ("serve-model-batch-0", ["serve-model", "--max-batch", "0"], {}),
    ("serve-model-model-bogus", ["serve-model", "--model", "no-such-model"], {}),
    # generate
    ("generate-max-tokens-0", ["generate", "hi", "--max-tokens", "0"], {}),
    ("generate-max-tokens-neg", ["generate", "hi", "--max-tokens", "-1"], {}),
    ("generate-no-prompt", ["generate"], {}),
    ("generate-model-bogus", ["generate", "hi", "--model", "no-such-model"], {}),
    # extend
    ("extend-model-bogus", ["extend", "no-such-model"], {}),
    ("extend-to-abc", ["extend", "smollm2-135m", "--to", "abc"], {}),
    ("extend-to-0", ["extend", "smollm2-135m", "--to", "0"], {}),
    ("extend-method-bogus", ["extend", "smollm2-135m", "--method", "bogus"], {}),
    # bench qa
    ("bench-qa-lengths-abc", ["bench", "qa", "--lengths", "abc"], {}),
    ("bench-qa-lengths-0", ["bench", "qa", "--lengths", "0"], {}),
    ("bench-qa-kinds-bogus", ["bench", "qa", "--kinds", "bogus"], {}),
    ("bench-qa-depths-abc", ["bench", "qa", "--depths", "abc"], {}),
    ("bench-qa-depths-2", ["bench", "qa", "--depths", "2"], {}),
    ("bench-qa-samples-0", ["bench", "qa", "--samples", "0"], {}),
    ("bench-qa-systems-bogus", ["bench", "qa", "--systems", "bogus"], {}),
    ("bench-qa-reading-bogus", ["bench", "qa", "--reading", "bogus"], {}),
    ("bench-qa-chunk-tokens-0", ["bench", "qa", "--chunk-tokens", "0"], {}),
    ("bench-qa-extend-to-abc", ["bench", "qa", "--extend-to", "abc"], {}),
    ("bench-qa-out-dir-file", ["bench", "qa", "--out-dir", "{file}"], {}),
    # bench model
    ("bench-model-batch-x", ["bench", "model", "--batch-sizes", "x"], {}),
    ("bench-model-batch-0", ["bench", "model", "--batch-sizes", "0"], {}),
    ("bench-model-prompt-0", ["bench", "model", "--prompt-tokens", "0"], {}),
    ("bench-model-decode-0", ["bench", "model", "--decode-steps", "0"], {}),
    # bench memory
    ("bench-memory-sizes-0", ["bench", "memory", "--sizes", "0"], {}),
    ("bench-memory-sizes-abc", ["bench", "memory", "--sizes", "abc"], {}),
    ("bench-memory-queries-neg", ["bench", "memory", "--queries", "-1"], {}),
    ("bench-memory-batch-0", ["bench", "memory", "--batch", "0"], {}),
    ("bench-memory-out-readonly", ["bench", "memory", "--out", "{ro}/m.json"], {}),
    # bench speed
    ("bench-speed-lengths-foo", ["bench", "speed", "--lengths", "foo"], {}),
    ("bench-speed-chunk-tokens-0", ["bench", "speed", "--chunk-tokens", "0"], {}),
    ("bench-speed-reading-bogus", ["bench", "speed", "--reading", "bogus"], {}),
    # bench chunking
    ("bench-chunking-size-0", ["bench", "chunking", "--size-mb", "0"], {}),
    ("bench-chunking-tokens-0", ["bench", "chunking", "--max-tokens", "0"], {}),
    # bench extend
    ("bench-extend-lengths-abc", ["bench", "extend", "--lengths", "abc"], {}),
    ("bench-extend-samples-0", ["bench", "extend", "--samples", "0"], {}),
    ("bench-extend-methods-bogus", ["bench", "extend", "--methods", "bogus"], {}),
    ("bench-extend-ppl-tokens-0", ["bench", "extend", "--ppl-tokens", "0"], {}),
    # bench chat
    ("bench-chat-sessions-0", ["bench", "chat", "--sessions", "0"], {}),
    ("bench-chat-questions-9", ["bench", "chat", "--questions", "9"], {}),
    ("bench-chat-budget-0", ["bench", "chat", "--budget", "0"], {}),
    ("bench-chat-filler-neg", ["bench", "chat", "--filler", "-1"], {}),
    ("bench-chat-systems-bogus", ["bench", "chat", "--systems", "bogus"], {}),
    # bench ingest
    ("bench-ingest-sizes-abc", ["bench", "ingest", "--sizes", "abc"], {}),
    ("bench-ingest-sizes-0", ["bench", "ingest", "--sizes", "0"], {}),
    # add and library (a document library)
    ("add-missing", ["add", "{missing}"], {}),
    ("add-glob-no-match", ["add", "{dir}/*.pdf"], {}),
    ("add-library-bad-name", ["add", "{doc}", "--library", "../evil"], {}),
    ("add-chunk-tokens-0", ["add", "{doc}", "--chunk-tokens", "0"], {}),
    ("add-home-file", ["add", "{doc}"], {"LONGAGENT_HOME": "{file}"}),
    ("add-home-readonly", ["add", "{doc}"], {"LONGAGENT_HOME": "{ro}"}),
    ("add-no-paths", ["add"], {}),
    ("library-ls-no-library", ["library", "ls", "--library", "nobody"], {}),
    ("library-ls-bad-name", ["library", "ls", "--library", "../evil"], {}),
    ("library-rm-no-library", ["library", "rm", "abc", "--library", "nobody"], {}),
    ("library-info-no-library", ["library", "info", "--library", "nobody"], {}),
    # bench reuse (its `ask` runs in a child process: the child's error is the one line)
    ("bench-reuse-binary", ["bench", "reuse", "--document", "{binary}", "--no-before"], {}),
    # bench library
    ("bench-library-docs-0", ["bench", "library", "--docs", "0"], {}),
    ("bench-library-kb-abc", ["bench", "library", "--kb", "abc"], {}),
    # the command itself
    ("unknown-command", ["bogus"], {}),
    ("unknown-option", ["ask", "{doc}", "q", "--bogus"], {}),
]


def _unwritable(tmp: Path) -> Path:
    """A folder this process may not write: read-only for a normal user; root writes
    anywhere but in /sys."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def make_paths(tmp: Path) -> dict[str, str]:
    (tmp / "doc.txt").write_text("The founder of Acme was Ada Lovelace.\n" * 20)
    (tmp / "plain-file").write_text("not a folder")
    (tmp / "doc.xyz").write_text("text")
    (tmp / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp / "empty.txt").write_text("")
    (tmp / "folder").mkdir()
    os.mkfifo(tmp / "fifo")
    return {
        "doc": str(tmp / "doc.txt"),
        "file": str(tmp / "plain-file"),
        "xyz": str(tmp / "doc.xyz"),
        "binary": str(tmp / "binary.txt"),
        "empty": str(tmp / "empty.txt"),
        "dir": str(tmp / "folder"),
        "fifo": str(tmp / "fifo"),
        "missing": str(tmp / "no-such-file.txt"),
        "ro": str(_unwritable(tmp)),
    }


def run_case(
    argv: list[str], extra: dict[str, str], paths: dict[str, str], env: dict[str, str]
) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr, seconds); exit code -9 when it hung."""
    args = [a.format(**paths) for a in argv]
    env = env | {k: v.format(**paths) for k, v in extra.items()}
    start = time.monotonic()
    try:
        done = subprocess.run(
            CLI + args,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CASE_TIMEOUT,
            cwd=paths["dir"],
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        return -9, "", err, time.monotonic() - start
    return done.returncode, done.stdout, done.stderr, time.monotonic() - start


def run_all(tmp: Path) -> dict[str, tuple[int, str, str, float]]:
    paths = make_paths(tmp)
    env = base_env(tmp)
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {
            name: pool.submit(run_case, argv, extra, paths, env) for name, argv, extra in CASES
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.fixture(scope="session")
def results(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> dict[str, tuple[int, str, str, float]]:
    """Every case's outcome, run once per test run: under pytest-xdist the first worker
    that needs them runs them and leaves them in the run's shared temporary folder, and
    the other reads them (pytest-xdist's recipe for a session fixture run once)."""
    if worker_id == "master":  # no xdist
        return run_all(tmp_path_factory.mktemp("bad-inputs"))
    shared = tmp_path_factory.getbasetemp().parent  # this run's, shared by its workers
    done = shared / "bad-inputs.json"
    with FileLock(f"{done}.lock"):
        if not done.is_file():
            outcomes = run_all(tmp_path_factory.mktemp("bad-inputs"))
            done.write_text(json.dumps(outcomes))
        return {name: tuple(row) for name, row in json.loads(done.read_text()).items()}


@pytest.mark.parametrize("name", [name for name, _, _ in CASES])
def test_bad_command_line_is_one_line_and_exit_2(
    name: str, results: dict[str, tuple[int, str, str, float]]
) -> None:
    code, _, stderr, _seconds = results[name]
    assert "Traceback" not in stderr, stderr
    assert code == 2, (code, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    # One line also means no model was loaded first (loading prints its progress).
    assert lines[0].startswith("error:"), stderr


def test_models_lists_the_vllm_extra() -> None:
    shown = subprocess.run([*CLI, "models"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "longagent[vllm]" in shown.stdout


# -- random option values, in-process -----------------------------------------------------

_COMMANDS: dict[tuple[str, ...], dict[str, st.SearchStrategy[str]]] = {}
_INT = st.one_of(st.integers(-(2**40), 2**40), st.sampled_from(["0", "-1", "abc", "", "1e3"]))
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_NUMBER = st.one_of(_INT.map(str), _TEXT)
_COMMANDS = {
    ("ask", "{doc}", "q"): {"--max-rounds": _NUMBER, "--chunk-tokens": _NUMBER, "--reading": _TEXT},
    ("demo",): {"--tokens": _NUMBER},
    ("chat",): {"--budget": _NUMBER, "--agent": _TEXT, "--home": _TEXT},
    ("serve",): {"--port": _NUMBER, "--max-upload-mb": _NUMBER, "--chunk-tokens": _NUMBER},
    ("serve-model",): {"--port": _NUMBER, "--max-batch": _NUMBER, "--host": _TEXT},
    ("generate", "hi"): {"--max-tokens": _NUMBER},
    ("bench", "qa"): {
        "--lengths": _TEXT,
        "--kinds": _TEXT,
        "--depths": _TEXT,
        "--samples": _NUMBER,
    },
    ("bench", "model"): {"--batch-sizes": _TEXT, "--prompt-tokens": _NUMBER},
    ("bench", "speed"): {"--lengths": _TEXT, "--chunk-tokens": _NUMBER},
    ("bench", "chat"): {"--sessions": _NUMBER, "--questions": _NUMBER, "--budget": _NUMBER},
}


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(_COMMANDS)))
    options = _COMMANDS[command]
    argv = list(command)
    for option in draw(st.lists(st.sampled_from(sorted(options)), unique=True, min_size=1)):
        argv += [option, draw(options[option])]
    # A model spec that does not exist: a valid command line ends at loading the model.
    return [*argv, "--model", "no-such-model"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("hypothesis")
    (folder / "doc.txt").write_text("The founder of Acme was Ada Lovelace.\n")
    (folder / "cwd").mkdir()
    return {
        "doc": str(folder / "doc.txt"),
        "home": str(folder / "home"),
        "cwd": str(folder / "cwd"),
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(argv=command_lines())
def test_random_options_exit_0_or_2_never_raise(
    argv: list[str], scratch: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from longagent.apps.cli import run

    monkeypatch.setenv("LONGAGENT_HOME", scratch["home"])
    monkeypatch.chdir(scratch["cwd"])  # relative --home or --out-dir values land there
    code = run([a.replace("{doc}", scratch["doc"]) for a in argv])
    captured = capsys.readouterr()
    assert code in (0, 2), (argv, captured.err)
    assert "Traceback" not in captured.err
