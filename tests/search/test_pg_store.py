"""PostgreSQL store against a real PostgreSQL 18 + pgvector server: the same rankings as the embedded
store, versions published atomically, an unchanged corpus left alone, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import psycopg
import pytest

from rag.config import PROJECT_ROOT
from rag.ingest.build import build_index, expected_manifest
from rag.search.retrieve import Filters
from rag.search.stores.base import IndexUnavailable
from rag.search.stores.pg_store import PostgresStore

DEV = [json.loads(line) for line in (PROJECT_ROOT / "data" / "eval" / "dev.jsonl").read_text("utf-8").splitlines()
       if line.strip()]


def expected(service):
    return expected_manifest(service.settings, service.encoder.model_hash)


def test_round_trip(service, pg_service):
    assert pg_service.index.chunks == service.index.chunks  # every field, in the same order
    assert pg_service.index.documents == service.index.documents
    assert (pg_service.index.groups == service.index.groups).all()
    assert pg_service.index.name.startswith("v") and pg_service.index.manifest["store"] == "postgresql"


FILTERS = [None, Filters(doc_ids=("kst-32824-445",)), Filters(date_from="2013", date_to="2013")]


class _SameVectors:
    """The real encoder, each text encoded once: a retriever re-encodes a normalised question ("IND" →
    its full name), and a server's query batching (started by the session's API servers on this shared
    encoder) may pad that call with a warm-up query, which moves bf16 vectors by ~1e-3. Both stores must
    see the same vector for the comparison to be about the stores."""

    def __init__(self, encoder):
        self.encoder, self.memo = encoder, {}

    def encode_query(self, text):
        if text not in self.memo:
            self.memo[text] = self.encoder.encode_query(text)
        return self.memo[text]

    def __getattr__(self, name):
        return getattr(self.encoder, name)


def test_both_stores_rank_every_dev_question_alike(service, pg_service, monkeypatch):
    """Same passages, same order, same scores (float32 arithmetic on both sides) for all dev questions,
    with and without filters."""
    same = _SameVectors(service.encoder)
    monkeypatch.setattr(service.retriever, "encoder", same)
    monkeypatch.setattr(pg_service.retriever, "encoder", same)
    for q in DEV:
        qv = service.encoder.encode_query(q["question"])
        for filters in FILTERS:
            embedded = service.retriever.search(q["question"], top_k=10, filters=filters, query_vector=qv)
            pg = pg_service.retriever.search(q["question"], top_k=10, filters=filters, query_vector=qv)
            where = (q["id"], filters)
            assert [p.chunk.id for p in pg] == [p.chunk.id for p in embedded], where
            assert np.allclose([p.score for p in pg], [p.score for p in embedded], atol=1e-5), where
            assert [p.citation for p in pg] == [p.citation for p in embedded], where
            assert [p.duplicates for p in pg] == [p.duplicates for p in embedded], where


def test_unchanged_corpus_writes_nothing(pg_service):
    store = pg_service.store
    with psycopg.connect(store.url) as conn:
        before = conn.execute("SELECT count(*), max(id) FROM vraagbaak_index_versions").fetchone()
    report = build_index(pg_service.settings, pg_service.encoder, store=store)
    assert (report.status, report.embedded, report.version) == ("up-to-date", 0, pg_service.index.name)
    with psycopg.connect(store.url) as conn:
        assert conn.execute("SELECT count(*), max(id) FROM vraagbaak_index_versions").fetchone() == before


def test_a_failed_publish_leaves_the_active_version_and_no_tables(service, pg_database):
    store = PostgresStore(pg_database())
    index = service.index
    name = store.publish({"model": "m"}, index.chunks[:20], list(index.documents.values()),
                         index.faiss_index.reconstruct_n(0, 20), index.unit_vectors[:30],
                         np.minimum(index.unit_owner[:30], 19))
    bad_vectors = index.faiss_index.reconstruct_n(0, 20)[:, :100]  # another dimension than the units: COPY fails
    with pytest.raises(psycopg.Error):
        store.publish({"model": "m2"}, index.chunks[:20], list(index.documents.values()), bad_vectors,
                      index.unit_vectors[:30], np.minimum(index.unit_owner[:30], 19))
    assert store.active_name() == name
    with psycopg.connect(store.url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'vraagbaak_v%'")}
        assert tables == {f"vraagbaak_{name}_{t}" for t in ("passages", "units", "lexical", "documents")}
        assert conn.execute("SELECT count(*) FROM vraagbaak_index_versions").fetchone()[0] == 1
    assert len(store.load({}).chunks) == 20
    again = store.publish({"model": "m"}, index.chunks[:20], list(index.documents.values()),
                          index.faiss_index.reconstruct_n(0, 20), index.unit_vectors[:30],
                          np.minimum(index.unit_owner[:30], 19))
    assert again == name  # the same build, published again (replicas starting together): kept once
    store.close()


def test_an_empty_database_says_how_to_build(pg_database):
    store = PostgresStore(pg_database())
    assert store.active_manifest() is None and store.active_name() is None
    with pytest.raises(IndexUnavailable, match="vraagbaak index"):
        store.load({})
    store.close()


def test_a_version_for_another_model_is_refused(pg_service, service):
    with pytest.raises(IndexUnavailable, match="embedding model"):
        pg_service.store.load({**expected(service), "model_hash": "0" * 64})


def test_an_unreachable_database_is_a_clear_error():
    store = PostgresStore("postgresql://vraagbaak:secret@127.0.0.1:9/vraagbaak?connect_timeout=2")
    with pytest.raises(IndexUnavailable, match="cannot be reached") as info:
        store.active_manifest()
    assert "secret" not in str(info.value)  # the password is not repeated in messages or logs
