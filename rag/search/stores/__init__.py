"""Stores: where chunks, their vectors and metadata live, and how a version of them is published.

``base.py`` is the interface; ``faiss_store.py`` the embedded default (FAISS files in ``index_dir`` with
an atomic ``current`` link); ``pg_store.py`` PostgreSQL + pgvector (``VRAAGBAAK_DATABASE_URL``), shared
by any number of API replicas; ``pgserver_local.py`` runs a local PostgreSQL for tests and one machine.
"""

from __future__ import annotations

from rag.search.stores.base import IndexUnavailable, IndexVersion, Store


def open_store(settings) -> Store:
    """The store the settings choose: PostgreSQL when ``database_url`` is set, else the FAISS files."""
    if settings.database_url:
        from rag.search.stores.pg_store import PostgresStore

        return PostgresStore(settings.database_url, settings.index_type)
    from rag.search.stores.faiss_store import FaissStore

    return FaissStore(settings.index_dir, settings.index_type)


__all__ = ["IndexUnavailable", "IndexVersion", "Store", "open_store"]
