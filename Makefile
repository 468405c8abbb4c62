# Vraagbaak. The two commands a person needs: `make run` (try it) and `make test` (check it).
# Everything is installed by the targets themselves, from a fresh clone with only python3.11 and PyPI.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vraagbaak-installed
LLM_STAMP := $(VENV)/.vraagbaak-llm-installed
MODEL ?= embeddinggemma-300m
# The browser tests use Debian's chromium (browser-setup); Playwright must not fetch one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: setup wordlist-setup llm-setup browser-setup index run llm test eval eval-llm bench owui-check format-fixtures

## setup: virtualenv with the project and its pinned dependencies, the verified embedding model, e5-small
##        (the cross-encoder's base, 72 MB) and
##        the Dutch word list
setup: $(STAMP) wordlist-setup
	$(BIN)/python -m embeddings.fetch $(MODEL) e5-small

## wordlist-setup: Debian's Dutch word list (package wdutch, /usr/share/dict/nederlands), which decides
##                 line-end hyphens at ingest (rag/ingest/hyphenation.py); apt-get only when it is missing.
##                 Without it ingest still works, on the documents' own words; so a failed install warns.
wordlist-setup:
	@if [ ! -r /usr/share/dict/nederlands ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "make: installing Debian's wdutch (Dutch word list) for line-end hyphens"; \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wdutch; } \
	    || echo "make: warning: wdutch not installed; line-end hyphens are decided on the documents' own words" >&2; \
	fi

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

## run: set up, build the index if needed and serve the HTTP API on http://127.0.0.1:8000 (docs at /docs)
##      (another port: VRAAGBAAK_PORT=8765 make run)
run: index
	$(BIN)/vraagbaak serve

## llm: a local OpenAI-compatible LLM server (Qwen2.5-Coder 0.5B) on 127.0.0.1:8080; then
##      VRAAGBAAK_LLM_BASE_URL=http://127.0.0.1:8080/v1 make run
llm: llm-setup
	scripts/llm_server.sh 0.5b 8080

## llm-setup: the LLM server (the prebuilt xllamacpp wheel, pyproject's [llm] extra; seconds) and the
##            verified 0.5B GGUF, for the LLM tests
llm-setup: setup $(LLM_STAMP)
	$(BIN)/python -m embeddings.fetch qwen2.5-coder-0.5b-gguf

# Reinstalls only when pyproject.toml is newer than the stamp.
$(LLM_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install -e '.[llm]'
	touch $@

## browser-setup: Debian's Chromium at /usr/bin/chromium for the browser tests (Playwright drives it and
##                never downloads a browser of its own); apt-get only when it is missing
browser-setup:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "make: installing Debian's chromium for the browser tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi

## test: the test suite (real model, real FAISS, real local LLM server, the web page in headless Chromium;
##       builds its own index in a temporary folder)
test: setup llm-setup browser-setup
	$(BIN)/python -m pytest -q

## format-fixtures: regenerate the committed PDF/HTML/XML test documents (tests/ingest/data/formats) from the
##                  corpus text; the PDF needs LibreOffice (Debian's libreoffice-writer-nogui, apt-get when missing)
format-fixtures: setup
	@if ! command -v soffice >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libreoffice-writer-nogui; \
	fi
	$(BIN)/python scripts/make_format_fixtures.py

## owui-check: Open WebUI 0.12.4 (its own virtualenv, OWUI_VENV=.owui-venv, made once: large) against
##             Vraagbaak in headless Chromium: source chips and pop-ups, after a reload too, its
##             background tasks, no 4xx/5xx; screenshot in docs/. Opt-in: not part of `make test` or CI.
owui-check: index browser-setup
	$(BIN)/python scripts/owui_check.py

## eval: the dev questions through search and ask (extractive), scored; reports/run-extractive/
##       (retrieval, faithfulness, citations, correctness, abstention, readability, latency)
eval: index
	$(BIN)/python -m eval run --questions data/eval/dev.jsonl --mode extractive --out reports/run-extractive --fresh

## eval-llm: the same with answers from the local LLM (`make llm` first), judged offline and by the LLM
eval-llm: index
	$(BIN)/python -m eval run --questions data/eval/dev.jsonl --mode generative --llm-url http://127.0.0.1:8080/v1 \
		--judge both --llm-judge-url http://127.0.0.1:8080/v1 --out reports/run-generative

## bench: search latency and throughput, and index build timings
bench: index
	$(BIN)/python scripts/bench_search.py
