# Vraagbaak. The two commands a person needs: `make run` (try it) and `make test` (check it).
# Everything is installed by the targets themselves, from a fresh clone with only python3.11 and PyPI.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vraagbaak-installed
MODEL ?= embeddinggemma-300m
QUESTION ?= Waarom is het overleg met minderhedenorganisaties gestopt?

.PHONY: setup index run test eval bench

## setup: virtualenv with the project and its pinned dependencies, and the verified embedding model
setup: $(STAMP)
	$(BIN)/python -m embeddings.fetch $(MODEL)

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; install Python 3.11 (or make PYTHON=/path/to/python3.11)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

## index: build the search index (a no-op when it is up to date)
index: setup
	$(BIN)/vraagbaak index

## run: build the index if needed and answer a demo question (QUESTION="..." for another)
run: index
	$(BIN)/vraagbaak search "$(QUESTION)"

## test: the test suite (real model, real FAISS; builds its own index in a temporary folder)
test: setup
	$(BIN)/python -m pytest -q

## eval: retrieval metrics on the development questions
eval: setup
	$(BIN)/python -m eval retrieval --questions data/eval/dev.jsonl

## bench: search latency and throughput, and index build timings
bench: index
	$(BIN)/python scripts/bench_search.py
