"""Feedback in one SQLite file (the default): :class:`SqliteFeedbackStore`.

One file (``VRAAGBAAK_FEEDBACK_DB``, default ``<cache_dir>/feedback.sqlite3``) in WAL mode with
``synchronous=FULL``: an insert that returned is on disk, whatever happens to the process after it.
Every call opens its own connection, so threads and processes may write at once; SQLite serialises
the writers (each waits up to ``busy_timeout`` seconds for the lock) and every insert is one
transaction. A few lock conflicts SQLite reports at once instead of waiting (switching a new file to
WAL while others open it too) are retried with backoff within the same ``busy_timeout``. The schema is
versioned with ``PRAGMA user_version``: :data:`MIGRATIONS` are applied in order, each in the same
transaction as the version bump, the first time a store touches the file. Reading a file that does
not exist yet gives no rows and does not create it.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from rag.feedback.base import (Feedback, FeedbackStore, FeedbackStoreError, NewFeedback, check_window, now_utc,
                               row_to_feedback, stored)

# Migration n (1-based) brings the schema from version n-1 to n. Append only; never edit a released one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE feedback (
               id          INTEGER PRIMARY KEY AUTOINCREMENT,
               created_at  TEXT    NOT NULL,              -- UTC, ISO 8601
               answer_id   TEXT    NOT NULL,              -- the answer_id of the /v1/ask response
               rating      TEXT    NOT NULL CHECK (rating IN ('up', 'down')),
               comment     TEXT    NOT NULL DEFAULT '',
               question    TEXT    NOT NULL,
               answer      TEXT    NOT NULL DEFAULT '',
               passage_ids TEXT    NOT NULL DEFAULT '[]',  -- JSON list: the cited passages, in [n] order
               mode        TEXT,                          -- extractive | generative
               language    TEXT,                          -- of the answer: nl | en
               abstained   INTEGER,                       -- 1: the documents did not answer the question
               request_id  TEXT                           -- of the POST /v1/feedback request (logs)
           )""",
        "CREATE INDEX feedback_answer ON feedback (answer_id)",
        "CREATE INDEX feedback_rating ON feedback (rating, id)",
    ),
)


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class SqliteFeedbackStore(FeedbackStore):
    """Feedback rows in one SQLite file. Safe to share between threads; several processes may use the
    same file. The schema is brought up to date on first use (see :data:`MIGRATIONS`)."""

    def __init__(self, path: Path | str, busy_timeout: float = 10.0,
                 migrations: Sequence[Sequence[str]] = MIGRATIONS) -> None:
        super().__init__()
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.migrations = tuple(tuple(m) for m in migrations)

    # -- connections and migrations ----------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise FeedbackStoreError(f"cannot open the feedback database {self.path}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA synchronous = FULL")  # a returned insert survives a crash or power cut
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            conn.close()
            raise FeedbackStoreError(f"cannot open the feedback database {self.path}: {exc}") from exc
        return conn

    def _open(self) -> sqlite3.Connection:
        """A connection to an up-to-date database (created and migrated the first time)."""
        self._ensure_ready()
        return self._connect()

    def _retrying(self, what: str, attempt):
        """``attempt()``, again after a lock conflict SQLite reported without waiting, until busy_timeout.
        Safe for writes: an attempt that fails has rolled back, so nothing is stored twice."""
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.005
        while True:
            try:
                return attempt()
            except sqlite3.Error as exc:
                if not _busy(exc) or time.monotonic() >= deadline:
                    raise FeedbackStoreError(f"cannot {what} the feedback database {self.path}: {exc}") from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.2)

    def migrate(self) -> int:
        """Create the file if needed and apply the migrations it lacks; returns the schema version.
        Several processes may do this at once: the check and the migrations run under one write lock."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FeedbackStoreError(f"cannot create the folder for the feedback database {self.path}: {exc}") from exc
        self._retrying("prepare", self._migrate_once)
        self._ready = True
        return len(self.migrations)

    def _migrate_once(self) -> None:
        conn = self._connect()
        try:
            # Persistent; readers never block the writer. A switch that could not get its lock returns
            # the old mode instead of failing: treated as the lock conflict it is.
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"database is locked (journal mode stayed {mode})")
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > len(self.migrations):
                    raise FeedbackStoreError(
                        f"the feedback database {self.path} has schema version {version}, newer than this "
                        f"Vraagbaak knows ({len(self.migrations)}): upgrade Vraagbaak, or set VRAAGBAAK_FEEDBACK_DB")
                for number in range(version + 1, len(self.migrations) + 1):
                    for statement in self.migrations[number - 1]:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    # -- writing -------------------------------------------------------------------------------------

    def add(self, item: NewFeedback) -> Feedback:
        """Store one feedback row atomically; returns it with its id and time."""
        created = now_utc()
        self._ensure_ready()
        row_id = self._retrying("store feedback in", lambda: self._insert(item, created))
        return stored(item, row_id, created)

    def _insert(self, item: NewFeedback, created: str) -> int:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")  # waits for the write lock up to busy_timeout
            try:
                cursor = conn.execute(
                    "INSERT INTO feedback (created_at, answer_id, rating, comment, question, answer, passage_ids,"
                    " mode, language, abstained, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (created, item.answer_id, item.rating, item.comment, item.question, item.answer,
                     json.dumps(list(item.passage_ids), ensure_ascii=False), item.mode, item.language,
                     None if item.abstained is None else int(item.abstained), item.request_id))
                row_id = cursor.lastrowid
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()
        return row_id

    # -- reading -------------------------------------------------------------------------------------

    def _where(self, rating: str | None) -> tuple[str, tuple]:
        return ("WHERE rating = ?", (rating,)) if rating else ("", ())

    def count(self, rating: str | None = None) -> int:
        if not self.path.exists():
            return 0
        where, args = self._where(rating)
        conn = self._open()
        try:
            return conn.execute(f"SELECT COUNT(*) FROM feedback {where}", args).fetchone()[0]
        except sqlite3.Error as exc:
            raise FeedbackStoreError(f"cannot read the feedback database {self.path}: {exc}") from exc
        finally:
            conn.close()

    def rows(self, limit: int | None = None, offset: int = 0, rating: str | None = None,
             newest_first: bool = False) -> Iterator[Feedback]:
        """Rows one by one (a consistent snapshot: the read is one transaction); ValueError (at the
        first row) for a ``limit`` or ``offset`` outside 0..MAX_SQL_INT."""
        check_window(limit, offset)
        if not self.path.exists():
            return
        where, args = self._where(rating)
        order = "DESC" if newest_first else "ASC"
        conn = self._open()
        try:
            conn.execute("BEGIN")
            rows = conn.execute(f"SELECT * FROM feedback {where} ORDER BY id {order} LIMIT ? OFFSET ?",
                                (*args, -1 if limit is None else limit, offset))
            for row in rows:
                yield row_to_feedback(row)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise FeedbackStoreError(f"cannot read the feedback database {self.path}: {exc}") from exc
        finally:
            conn.close()
