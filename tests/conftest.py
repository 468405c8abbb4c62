"""Shared fixtures: the real corpus, parsed once, and one real index built once per test session.

The index is built into a temporary folder with the real model; vectors come from the embedding
cache (~/.cache/vraagbaak/embeddings, or VRAAGBAAK_CACHE_DIR), so after the first run on a
machine only the changed passages are embedded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.config import PROJECT_ROOT, load_settings
from rag.corpus import load_corpus
from rag.parse import parse_document

CORPUS_DIR = PROJECT_ROOT / "data" / "corpus"
DEV_QUESTIONS = PROJECT_ROOT / "data" / "eval" / "dev.jsonl"


@pytest.fixture(scope="session")
def documents():
    """The real corpus, by document id."""
    return {d.meta.id: d for d in load_corpus(CORPUS_DIR)}


@pytest.fixture(scope="session")
def parsed(documents):
    """Every real document parsed, by document id."""
    return {doc_id: parse_document(doc) for doc_id, doc in documents.items()}


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    """Settings for a fresh index in a temporary folder, over the real corpus."""
    return load_settings(index_dir=tmp_path_factory.mktemp("index"), corpus_dir=CORPUS_DIR)


@pytest.fixture(scope="session")
def service(settings):
    """The real service (model + FAISS), its index built once for the whole session."""
    from rag.service import Vraagbaak

    return Vraagbaak.open(settings, build_if_missing=True)


@pytest.fixture(scope="session")
def run_cli(service, settings):
    """Run the real ``vraagbaak`` command in a subprocess, pointed at the session's index."""
    base_env = {
        **os.environ,
        "VRAAGBAAK_INDEX_DIR": str(settings.index_dir),
        "VRAAGBAAK_CORPUS_DIR": str(settings.corpus_dir),
        "PYTHONPATH": str(PROJECT_ROOT),
    }

    def run(*args: str, stdin: str | None = None, env: dict | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "rag.cli", *args],
            cwd=PROJECT_ROOT, env={**base_env, **(env or {})}, input=stdin, capture_output=True, text=True,
            timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL,
        )

    return run


@pytest.fixture
def small_corpus(tmp_path):
    """A corpus folder holding one short document dropped in with a sidecar (no manifest)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fietsbrief.txt").write_text(
        "Betreft Fietsparkeren bij stations\n\n"
        "Het kabinet investeert de komende vier jaar extra in fietsenstallingen bij treinstations, "
        "omdat reizigers steeds vaker met de fiets naar het station komen en de bestaande stallingen vol zijn.\n",
        encoding="utf-8")
    (corpus / "fietsbrief.json").write_text(json.dumps({"title": "Brief over fietsparkeren", "date": "2025-03-01"}))
    return corpus
