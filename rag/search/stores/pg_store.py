"""PostgreSQL + pgvector store: one database behind any number of API replicas.

Each index version lives in its own four tables (``vraagbaak_v<id>_passages``, ``…_units``,
``…_lexical``, ``…_documents``), written and switched on in one transaction:

    vraagbaak_index_versions (id, manifest jsonb, created_at, retired_at)
    vraagbaak_active_index   (one row: version_id)         -- the "current" pointer
    vraagbaak_v<id>_passages (pos, id, doc_id, date_first, date_last, dup_group, chunk jsonb, embedding vector)
    vraagbaak_v<id>_units    (pos, embedding vector)        -- one row per paragraph of a passage
    vraagbaak_v<id>_lexical  (term, pos, weight real)       -- BM25: idf × saturated tf, as bm25s computes it
    vraagbaak_v<id>_documents (id, meta jsonb)

A reader reads the pointer once and queries that version's tables; a new version becomes visible
with the commit that moves the pointer, so every reader sees the old or the new index, never a mix.
The commit also sends ``NOTIFY vraagbaak_index``. A replaced version is dropped by a later publish
once it has been retired for :data:`RETIRED_GRACE_SECONDS` (replicas notice a new version within
``VRAAGBAAK_INDEX_POLL_SECONDS``), so requests still running on it finish.

Search runs one SQL statement: the top :data:`CANDIDATES_PER_CHANNEL` chunks by dense inner product,
by best paragraph and by BM25 (document and date filters as ``WHERE``), and for their union the exact
scores of all three channels. Vectors are L2-normalised float32 (``vector``; inner product = cosine,
as in FAISS); ``index_type`` ``flat`` scans exactly, ``hnsw`` adds HNSW indexes (approximate, for
millions of passages; ``hnsw.iterative_scan`` keeps filtered searches filled).
"""

from __future__ import annotations

import json
import re
import threading
import time

import numpy as np

from embeddings.write_errors import writing
from rag.search.duplicates import duplicate_groups
from rag.search.lexical import BM25, lexical_text
from rag.search.stores.base import (CANDIDATES_PER_CHANNEL, REBUILD_HINT, Candidates, Filters, IndexUnavailable,
                                    IndexVersion, check_compatible, period)
from rag.search.stores.faiss_store import INDEX_FORMAT, _chunk_from_json, _chunk_to_json, _meta_to_json
from rag.types import Chunk, DocumentMeta

CHANNEL = "vraagbaak_index"  # NOTIFY channel; the payload is the new version's name
RETIRED_GRACE_SECONDS = 120
_LOCK_KEY = 0x76726167  # pg_advisory_xact_lock: one publish (and schema set-up) at a time

_SCHEMA = (
    "CREATE EXTENSION IF NOT EXISTS vector",
    """CREATE TABLE IF NOT EXISTS vraagbaak_index_versions (
           id bigserial PRIMARY KEY, manifest jsonb NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now(), retired_at timestamptz)""",
    """CREATE TABLE IF NOT EXISTS vraagbaak_active_index (
           singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
           version_id bigint NOT NULL REFERENCES vraagbaak_index_versions (id))""",
)


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


def _tables(version_id: int) -> dict[str, str]:
    return {k: f"vraagbaak_v{int(version_id)}_{k}" for k in ("passages", "units", "lexical", "documents")}


class PgVersion(IndexVersion):
    """One published version, as read from the database. Chunks and documents are held in memory
    (citations, the catalogue and the answer engine use them); the channels are scored in SQL."""

    def __init__(self, store: "PostgresStore", version_id: int, manifest: dict, chunks: list[Chunk],
                 documents: dict[str, DocumentMeta], groups: np.ndarray):
        self.store, self.version_id, self.name = store, version_id, f"v{version_id}"
        self.manifest, self.chunks, self.documents, self.groups = manifest, chunks, documents, groups
        self._index_groups()
        self._t = _tables(version_id)

    def _sql(self, filters: Filters | None) -> tuple[str, dict]:
        conds, params = [], {}
        if filters and filters.doc_ids:
            conds.append("p.doc_id = ANY(%(docs)s)")
            params["docs"] = list(filters.doc_ids)
        if filters and (filters.date_from or filters.date_to):
            conds.append("p.date_first IS NOT NULL")
            if filters.date_from:
                conds.append("p.date_last >= %(from)s")
                params["from"] = period(filters.date_from)[0]
            if filters.date_to:
                conds.append("p.date_first <= %(to)s")
                params["to"] = period(filters.date_to)[1]
        where = " AND ".join(conds) or "true"
        P, U, L = self._t["passages"], self._t["units"], self._t["lexical"]

        def join(alias: str) -> str:  # the passage row, for its filter columns; not needed without filters
            return f"JOIN {P} p ON p.pos = {alias}.pos" if conds else ""

        sql = f"""
            WITH d AS (SELECT p.pos FROM {P} p WHERE {where} ORDER BY p.embedding <#> %(q)s LIMIT %(n)s),
            u AS (SELECT u.pos FROM {U} u {join("u")} WHERE {where}
                  ORDER BY u.embedding <#> %(q)s LIMIT %(n)s),
            l AS (SELECT x.pos FROM {L} x {join("x")} WHERE x.term = ANY(%(terms)s) AND {where}
                  GROUP BY x.pos ORDER BY sum(x.weight) DESC, x.pos LIMIT %(n)s),
            c AS (SELECT pos FROM d UNION SELECT pos FROM u UNION SELECT pos FROM l),
            us AS (SELECT u.pos, max(-(u.embedding <#> %(q)s)) AS s FROM {U} u
                   WHERE u.pos IN (SELECT pos FROM c) GROUP BY u.pos),
            ls AS (SELECT x.pos, sum(x.weight) AS s FROM {L} x
                   WHERE x.term = ANY(%(terms)s) AND x.pos IN (SELECT pos FROM c) GROUP BY x.pos)
            SELECT c.pos, -(p.embedding <#> %(q)s), coalesce(us.s, -1), coalesce(ls.s, 0)
            FROM c JOIN {P} p ON p.pos = c.pos LEFT JOIN us ON us.pos = c.pos LEFT JOIN ls ON ls.pos = c.pos
            ORDER BY c.pos"""
        return sql, params

    def candidates(self, query_vector: np.ndarray, terms: list[str], filters: Filters | None) -> Candidates:
        import psycopg

        from pgvector import Vector

        sql, params = self._sql(filters)
        params.update(q=Vector(np.asarray(query_vector, dtype=np.float32)), terms=list(terms),
                      n=CANDIDATES_PER_CHANNEL)
        try:
            with self.store.pool.connection() as conn:
                rows = conn.execute(sql, params).fetchall()
        except psycopg.errors.UndefinedTable as exc:
            raise IndexUnavailable(f"index version {self.name} was replaced and removed; reload it") from exc
        except psycopg.OperationalError as exc:
            raise IndexUnavailable(f"the database at {self.store} cannot be reached: {exc}") from exc
        arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
        return Candidates(arr[:, 0].astype(int), arr[:, 1].astype(np.float32), arr[:, 2].astype(np.float32),
                          arr[:, 3].astype(np.float32))


class PostgresStore:
    """Index versions in a PostgreSQL database with pgvector (``VRAAGBAAK_DATABASE_URL``).

    Thread-safe: one connection pool per store (per process). Raises IndexUnavailable when the
    database cannot be reached or holds no index."""

    def __init__(self, url: str, index_type: str = "flat", pool_size: int = 8):
        if index_type not in ("flat", "hnsw"):
            raise ValueError(f"unknown index type {index_type!r}: use 'flat' or 'hnsw'")
        self.url, self.index_type, self.pool_size = url, index_type, pool_size
        self._pool = None
        self._lock = threading.Lock()

    def __str__(self) -> str:
        return _redact(self.url)

    # -- connections ---------------------------------------------------------------------------------

    def connect(self):
        """A new autocommit connection with pgvector's types (the schema is created first if needed)."""
        import psycopg
        from pgvector.psycopg import register_vector

        try:
            conn = psycopg.connect(self.url, autocommit=True)
        except psycopg.OperationalError as exc:
            raise IndexUnavailable(f"the database at {self} cannot be reached: {exc}") from exc
        try:
            self._ensure_schema(conn)
            register_vector(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _ensure_schema(conn) -> None:
        if conn.execute("SELECT to_regclass('vraagbaak_active_index') IS NOT NULL "
                        "AND EXISTS (SELECT 1 FROM pg_type WHERE typname = 'vector')").fetchone()[0]:
            return
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            for statement in _SCHEMA:
                conn.execute(statement)

    @property
    def pool(self):
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    from psycopg_pool import ConnectionPool

                    self.connect().close()  # schema and extension exist before pooling
                    self._pool = ConnectionPool(self.url, min_size=1, max_size=self.pool_size, open=True,
                                                kwargs={"autocommit": True}, configure=self._configure,
                                                timeout=30)
        return self._pool

    def _configure(self, conn) -> None:
        from pgvector.psycopg import register_vector

        register_vector(conn)
        # HNSW only: candidates per probe, and keep scanning until a filtered search has its n rows.
        conn.execute(f"SET hnsw.ef_search = {max(40, CANDIDATES_PER_CHANNEL)}")
        conn.execute("SET hnsw.iterative_scan = relaxed_order")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # -- reading -------------------------------------------------------------------------------------

    def _active(self, conn) -> tuple[int, dict] | None:
        row = conn.execute("SELECT v.id, v.manifest FROM vraagbaak_active_index a "
                           "JOIN vraagbaak_index_versions v ON v.id = a.version_id").fetchone()
        return (int(row[0]), row[1]) if row else None

    def active_manifest(self) -> dict | None:
        with self.pool.connection() as conn:
            active = self._active(conn)
        return active[1] if active else None

    def active_name(self) -> str | None:
        """The active version's name, ``v<id>``: one primary-key read (replicas poll it)."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT version_id FROM vraagbaak_active_index").fetchone()
        return f"v{row[0]}" if row else None

    def load(self, expected: dict) -> PgVersion:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one snapshot: pointer and rows
            active = self._active(conn)
            if active is None:
                raise IndexUnavailable(f"no index in the database at {self}; {REBUILD_HINT}")
            version_id, manifest = active
            check_compatible(manifest, {**expected, "format": INDEX_FORMAT}, f"{self} (v{version_id})")
            t = _tables(version_id)
            documents = {r[0]: DocumentMeta(**r[1]) for r in conn.execute(f"SELECT id, meta FROM {t['documents']}")}
            rows = conn.execute(f"SELECT pos, chunk, dup_group FROM {t['passages']} ORDER BY pos").fetchall()
        if [r[0] for r in rows] != list(range(len(rows))):
            raise IndexUnavailable(f"index version v{version_id} in {self} is damaged; {REBUILD_HINT}")
        chunks = [_chunk_from_json(r[1]) for r in rows]
        return PgVersion(self, version_id, manifest, chunks, documents, np.array([r[2] for r in rows], dtype=int))

    # -- writing -------------------------------------------------------------------------------------

    def publish(self, manifest: dict, chunks: list[Chunk], documents: list[DocumentMeta], vectors: np.ndarray,
                unit_vectors: np.ndarray, unit_owner: np.ndarray, force: bool = False) -> str:
        """Write a complete version and make it the active one, in one transaction; returns ``v<id>``.
        An identical active version (same manifest: replicas starting together) is kept instead,
        unless ``force``. Then
        drop versions retired more than RETIRED_GRACE_SECONDS ago. A full database disk (SQLSTATE
        53100) is an IndexWriteError naming the database; the active version stays."""
        titles = {d.id: d.title for d in documents}
        groups = duplicate_groups(chunks)
        bm25 = BM25([lexical_text(titles.get(c.doc_id, ""), c.section, c.retrieval_text) for c in chunks])
        full = {**manifest, "format": INDEX_FORMAT, "index_type": self.index_type, "count": len(chunks),
                "dimension": int(vectors.shape[1]), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "store": "postgresql"}
        with writing("the index", f"the PostgreSQL database {self}", "VRAAGBAAK_DATABASE_URL"):
            return self._publish(full, manifest, chunks, documents, vectors, unit_vectors, unit_owner, groups,
                                 bm25.weights(), force)

    def _publish(self, full: dict, manifest: dict, chunks: list[Chunk], documents: list[DocumentMeta],
                 vectors: np.ndarray, unit_vectors: np.ndarray, unit_owner: np.ndarray, groups, weighted,
                 force: bool) -> str:
        from psycopg.types.json import Jsonb

        dim = int(vectors.shape[1])
        dates = {d.id: d.date for d in documents}
        names, term_index, text_index, weights = weighted
        with self.connect() as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                active = self._active(conn)
                same = active and all(active[1].get(k) == full[k] for k in (*manifest, "format", "index_type"))
                if same and not force:
                    return f"v{active[0]}"  # another replica published this same build while we embedded
                version_id = conn.execute("INSERT INTO vraagbaak_index_versions (manifest) VALUES (%s) RETURNING id",
                                          (json.dumps(full),)).fetchone()[0]
                t = _tables(version_id)
                conn.execute(f"""CREATE TABLE {t['passages']} (
                    pos int PRIMARY KEY, id text NOT NULL, doc_id text NOT NULL, date_first text, date_last text,
                    dup_group int NOT NULL, chunk jsonb NOT NULL, embedding vector({dim}) NOT NULL)""")
                conn.execute(f"CREATE TABLE {t['units']} (pos int NOT NULL, embedding vector({dim}) NOT NULL)")
                conn.execute(f"CREATE TABLE {t['lexical']} (term text NOT NULL, pos int NOT NULL, "
                             "weight real NOT NULL)")
                conn.execute(f"CREATE TABLE {t['documents']} (id text PRIMARY KEY, meta jsonb NOT NULL)")
                with conn.cursor() as cur:
                    with cur.copy(f"COPY {t['documents']} (id, meta) FROM STDIN") as copy:
                        for d in documents:
                            copy.write_row((d.id, json.dumps(_meta_to_json(d), ensure_ascii=False)))
                    with cur.copy(f"COPY {t['passages']} FROM STDIN WITH (FORMAT BINARY)") as copy:
                        copy.set_types(["int4", "text", "text", "text", "text", "int4", "jsonb", "vector"])
                        for i, c in enumerate(chunks):
                            first, last = period(dates[c.doc_id]) if dates.get(c.doc_id) else (None, None)
                            copy.write_row((i, c.id, c.doc_id, first, last, int(groups[i]), Jsonb(_chunk_to_json(c)),
                                            np.asarray(vectors[i], dtype=np.float32)))
                    with cur.copy(f"COPY {t['units']} FROM STDIN WITH (FORMAT BINARY)") as copy:
                        copy.set_types(["int4", "vector"])
                        for owner, vec in zip(unit_owner.tolist(), unit_vectors):
                            copy.write_row((owner, np.asarray(vec, dtype=np.float32)))
                    with cur.copy(f"COPY {t['lexical']} (term, pos, weight) FROM STDIN") as copy:
                        for ti, di, w in zip(term_index.tolist(), text_index.tolist(), weights.tolist()):
                            copy.write_row((names[ti], di, w))
                conn.execute(f"ALTER TABLE {t['lexical']} ADD PRIMARY KEY (term, pos)")
                conn.execute(f"CREATE INDEX ON {t['units']} (pos)")
                conn.execute(f"CREATE INDEX ON {t['passages']} (doc_id)")
                if self.index_type == "hnsw":
                    for table in (t["passages"], t["units"]):
                        conn.execute(f"CREATE INDEX ON {table} USING hnsw (embedding vector_ip_ops)")
                for table in t.values():
                    conn.execute(f"ANALYZE {table}")
                conn.execute("UPDATE vraagbaak_index_versions SET retired_at = now() WHERE id IN "
                             "(SELECT version_id FROM vraagbaak_active_index)")
                conn.execute("INSERT INTO vraagbaak_active_index (singleton, version_id) VALUES (true, %s) "
                             "ON CONFLICT (singleton) DO UPDATE SET version_id = excluded.version_id", (version_id,))
                conn.execute(f"NOTIFY {CHANNEL}, 'v{int(version_id)}'")
            self._prune(conn)
        return f"v{version_id}"

    def _prune(self, conn) -> None:
        with conn.transaction():
            old = conn.execute("SELECT id FROM vraagbaak_index_versions WHERE retired_at < now() - %s * interval '1 s' "
                               "AND id NOT IN (SELECT version_id FROM vraagbaak_active_index)",
                               (RETIRED_GRACE_SECONDS,)).fetchall()
            for (version_id,) in old:
                for table in _tables(version_id).values():
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
                conn.execute("DELETE FROM vraagbaak_index_versions WHERE id = %s", (version_id,))
