"""Two API replicas on one PostgreSQL database, 8 clients querying both while one replica reindexes:
no failed request, every response wholly from the old or the new version, and the other replica
serves the new version within its poll interval plus the load."""

from __future__ import annotations

import json
import threading
import time

import httpx

from rag.config import load_settings
from rag.ingest.build import build_index, expected_manifest
from rag.search.stores.pg_store import PostgresStore
from rag.service import Vraagbaak

POLL_SECONDS = 1.0
LOAD_ALLOWANCE = 10.0  # loading a version and its answer engine, on a loaded 2-core machine
QUERIES = ["Waarom is het overleg met minderhedenorganisaties gestopt?", "Wat is de participatieverklaring?",
           "Why was the consultation act withdrawn?", "inburgering en taal"]


def _write(corpus, name: str, text: str) -> None:
    for old in corpus.iterdir():
        old.unlink()
    (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    (corpus / f"{name}.json").write_text(json.dumps({"title": "Antwoorden op Kamervragen", "date": "2024-11-21"}))


def test_reindex_under_load_reaches_both_replicas(tmp_path, service, documents, pg_database, serve_app):
    from api.app import create_app

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = documents["kst-32824-445"].raw_text
    _write(corpus, "oud", text)  # version 1: document "oud"; version 2: the same text as "nieuw"
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "unused", database_url=pg_database(),
                             api_keys="k", llm_base_url="", index_poll_seconds=POLL_SECONDS)
    first = build_index(settings, service.encoder, store=PostgresStore(settings.database_url))
    assert first.status == "built"
    service.search("warm-up", top_k=1)  # the model loads on its first query: not inside the clients' timeout

    replicas = []
    for _ in range(2):  # each with its own store and pool, as separate processes would have
        store = PostgresStore(settings.database_url)
        index = store.load(expected_manifest(settings, service.encoder.model_hash))
        replicas.append(serve_app(create_app(settings, service=Vraagbaak(settings, service.encoder, index, store))))

    stop = threading.Event()
    results: list[tuple[int, int, frozenset]] = []  # (replica, status, document ids)
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(timeout=120) as http:
            i = 0
            while not stop.is_set():
                replica = (n + i) % 2
                r = http.post(f"{replicas[replica]}/v1/search", json={"query": QUERIES[i % len(QUERIES)], "top_k": 5})
                ok = r.status_code == 200
                docs = frozenset(p["document"]["id"] for p in r.json()["results"]) if ok else None
                with lock:
                    results.append((replica, r.status_code, docs))
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    def served(version: str, count: int = 2, deadline: float = 180) -> None:
        """Wait until each replica has answered ``count`` requests from ``version``."""
        end = time.monotonic() + deadline
        while any(sum(1 for r, _, docs in list(results) if r == replica and docs == {version}) < count
                  for replica in (0, 1)):
            assert time.monotonic() < end, f"too few answers from {version}"
            time.sleep(0.1)

    try:
        served("oud")
        _write(corpus, "nieuw", text)
        with httpx.Client(timeout=600, headers={"Authorization": "Bearer k"}) as http:
            done = http.post(f"{replicas[0]}/v1/admin/reindex", json={"wait": True}).json()
            assert (done["state"], done["status"], done["embedded"]) == ("succeeded", "built", 0), done
            published = time.monotonic()
            new_name = http.get(f"{replicas[0]}/readyz").json()["index"]
            while http.get(f"{replicas[1]}/readyz").json()["index"] != new_name:
                assert time.monotonic() - published < POLL_SECONDS + LOAD_ALLOWANCE, "replica 2 kept the old version"
                time.sleep(0.05)
            followed = time.monotonic() - published
        served("nieuw")
    finally:
        stop.set()
        for t in threads:
            t.join(60)

    print(f"\n{len(results)} requests; replica 2 served the new version {followed:.2f} s after the reindex")
    assert followed <= POLL_SECONDS + LOAD_ALLOWANCE
    assert [r for r in results if r[1] != 200] == []
    versions = {docs for _, _, docs in results}
    assert versions <= {frozenset({"oud"}), frozenset({"nieuw"})}  # never a mix of the two
    for replica in (0, 1):
        seen = [docs for r, _, docs in results if r == replica]
        assert seen[0] == {"oud"} and seen[-1] == {"nieuw"}
