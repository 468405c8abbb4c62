"""Both stores over the session's corpus: the embedded one (``service``, tests/conftest.py) and
PostgreSQL (``pg_service``), and ``any_service`` to run a contract test on each."""

from __future__ import annotations

import pytest


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
    """The service on each store in turn."""
    return request.getfixturevalue("service" if request.param == "embedded" else "pg_service")
