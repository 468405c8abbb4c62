"""Feedback in PostgreSQL (when ``VRAAGBAAK_DATABASE_URL`` is set): every API replica writes to one table.

The same columns as the SQLite file (sqlite_store.py) and the same numbered migrations, applied in
order the first time a process touches the database; the version is kept in
``vraagbaak_schema`` (``component = 'feedback'``). PostgreSQL runs DDL in transactions, so each
migration and its version bump commit together, and an advisory lock lets several replicas start at
once. Each insert is one transaction (committed with the server's durable defaults); reads of many
rows use one snapshot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

from rag.feedback.base import (CSV_COLUMNS, Feedback, FeedbackStore, FeedbackStoreError, NewFeedback, check_window,
                               now_utc, row_to_feedback, stored)

_LOCK_KEY = 0x66656564  # pg_advisory_xact_lock while migrating

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE feedback (
               id          bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
               created_at  text    NOT NULL,              -- UTC, ISO 8601
               answer_id   text    NOT NULL,              -- the answer_id of the /v1/ask response
               rating      text    NOT NULL CHECK (rating IN ('up', 'down')),
               comment     text    NOT NULL DEFAULT '',
               question    text    NOT NULL,
               answer      text    NOT NULL DEFAULT '',
               passage_ids text    NOT NULL DEFAULT '[]',  -- JSON list: the cited passages, in [n] order
               mode        text,                          -- extractive | generative
               language    text,                          -- of the answer: nl | en
               abstained   integer,                       -- 1: the documents did not answer the question
               request_id  text                           -- of the POST /v1/feedback request (logs)
           )""",
        "CREATE INDEX feedback_answer ON feedback (answer_id)",
        "CREATE INDEX feedback_rating ON feedback (rating, id)",
    ),
)


def _redact(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


class PostgresFeedbackStore(FeedbackStore):
    """:class:`rag.feedback.base.FeedbackStore` on a PostgreSQL database. Thread-safe; any number of
    processes may write at once. Raises FeedbackStoreError when the database cannot be used."""

    def __init__(self, url: str, migrations: Sequence[Sequence[str]] = MIGRATIONS, timeout: float = 10.0) -> None:
        super().__init__()
        self.url = url
        self.path = _redact(url)  # shown in messages, like the SQLite store's file path
        self.migrations = tuple(tuple(m) for m in migrations)
        self.timeout = timeout

    def _connect(self):
        import psycopg

        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, int(self.timeout)))
        except psycopg.Error as exc:
            raise FeedbackStoreError(f"cannot open the feedback database {self.path}: {exc}") from exc

    def _run(self, what: str, work):
        import psycopg

        self._ensure_ready()
        try:
            with self._connect() as conn:
                return work(conn)
        except psycopg.Error as exc:
            raise FeedbackStoreError(f"cannot {what} the feedback database {self.path}: {exc}") from exc

    def migrate(self) -> int:
        """Apply the migrations the database lacks, in one transaction under an advisory lock."""
        import psycopg

        try:
            with self._connect() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
                conn.execute("CREATE TABLE IF NOT EXISTS vraagbaak_schema "
                             "(component text PRIMARY KEY, version int NOT NULL)")
                row = conn.execute("SELECT version FROM vraagbaak_schema WHERE component = 'feedback'").fetchone()
                version = row[0] if row else 0
                if version > len(self.migrations):
                    raise FeedbackStoreError(
                        f"the feedback database {self.path} has schema version {version}, newer than this "
                        f"Vraagbaak knows ({len(self.migrations)}): upgrade Vraagbaak")
                for number in range(version + 1, len(self.migrations) + 1):
                    for statement in self.migrations[number - 1]:
                        conn.execute(statement)
                    conn.execute("INSERT INTO vraagbaak_schema VALUES ('feedback', %s) ON CONFLICT (component) "
                                 "DO UPDATE SET version = excluded.version", (number,))
        except psycopg.Error as exc:
            raise FeedbackStoreError(f"cannot prepare the feedback database {self.path}: {exc}") from exc
        self._ready = True
        return len(self.migrations)

    def add(self, item: NewFeedback) -> Feedback:
        """Store one feedback row in one transaction; returns it with its id and time."""
        created = now_utc()

        def insert(conn) -> int:
            return conn.execute(
                "INSERT INTO feedback (created_at, answer_id, rating, comment, question, answer, passage_ids, mode,"
                " language, abstained, request_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (created, item.answer_id, item.rating, item.comment, item.question, item.answer,
                 json.dumps(list(item.passage_ids), ensure_ascii=False), item.mode, item.language,
                 None if item.abstained is None else int(item.abstained), item.request_id)).fetchone()[0]

        row_id = self._run("store feedback in", insert)
        return stored(item, row_id, created)

    def count(self, rating: str | None = None) -> int:
        """The number of rows (with this rating, if given)."""
        where, args = ("WHERE rating = %s", (rating,)) if rating else ("", ())
        sql = f"SELECT count(*) FROM feedback {where}"
        return self._run("read", lambda conn: conn.execute(sql, args).fetchone()[0])

    def rows(self, limit: int | None = None, offset: int = 0, rating: str | None = None,
             newest_first: bool = False) -> Iterator[Feedback]:
        """Rows one by one, from one snapshot (a server-side cursor: memory stays flat); ValueError (at
        the first row) for a ``limit`` or ``offset`` outside 0..MAX_SQL_INT."""
        import psycopg

        check_window(limit, offset)
        where, args = ("WHERE rating = %s", (rating,)) if rating else ("", ())
        order = "DESC" if newest_first else "ASC"
        self._ensure_ready()
        try:
            with self._connect() as conn, conn.transaction(), conn.cursor(name="feedback_rows") as cur:
                cur.execute(f"SELECT {', '.join(CSV_COLUMNS)} FROM feedback {where} ORDER BY id {order} "
                            "LIMIT %s OFFSET %s", (*args, limit, offset))
                for values in cur:
                    yield row_to_feedback(dict(zip(CSV_COLUMNS, values)))
        except psycopg.Error as exc:
            raise FeedbackStoreError(f"cannot read the feedback database {self.path}: {exc}") from exc
