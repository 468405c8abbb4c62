"""Citizens' feedback on answers, stored durably in SQLite: :class:`FeedbackStore`.

One file (``VRAAGBAAK_FEEDBACK_DB``, default ``<cache_dir>/feedback.sqlite3``) in WAL mode with
``synchronous=FULL``: an insert that returned is on disk, whatever happens to the process after it.
Every call opens its own connection, so threads and processes may write at once; SQLite serialises
the writers (each waits up to ``busy_timeout`` seconds for the lock) and every insert is one
transaction. A few lock conflicts SQLite reports at once instead of waiting (switching a new file to
WAL while others open it too) are retried with backoff within the same ``busy_timeout``. The schema is versioned with ``PRAGMA user_version``: :data:`MIGRATIONS` are applied in
order, each in the same transaction as the version bump, the first time a store touches the file.
Reading a file that does not exist yet gives no rows and does not create it.

Nothing about the person is stored: no address, no browser, no account; only what they chose to send.
"""

from __future__ import annotations

import csv
import io
import json
import random
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

RATINGS = ("up", "down")
# SQLite's largest integer: a LIMIT or OFFSET beyond it cannot be bound (OverflowError), so the store
# refuses it and the API documents it as the bound of ``?limit`` and ``?offset``.
MAX_SQL_INT = 2**63 - 1

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

# The table's columns, in order (both stores; also the CSV export's header).
CSV_COLUMNS = ("id", "created_at", "answer_id", "rating", "comment", "question", "answer", "passage_ids",
               "mode", "language", "abstained", "request_id")


class FeedbackStoreError(Exception):
    """The feedback database cannot be used (unwritable folder, corrupt file, newer schema)."""


@dataclass(frozen=True)
class NewFeedback:
    """What a citizen sends about one answer."""

    answer_id: str
    rating: str  # "up" | "down"
    question: str
    comment: str = ""
    answer: str = ""
    passage_ids: tuple[str, ...] = ()
    mode: str | None = None
    language: str | None = None
    abstained: bool | None = None
    request_id: str | None = None

    def __post_init__(self) -> None:
        if self.rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS}, not {self.rating!r}")


@dataclass(frozen=True)
class Feedback(NewFeedback):
    """A stored feedback row."""

    id: int = 0
    created_at: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["passage_ids"] = list(self.passage_ids)
        order = ("id", "created_at") + tuple(k for k in data if k not in ("id", "created_at"))
        return {k: data[k] for k in order}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def row_to_feedback(row) -> Feedback:
    """A stored row (any mapping of CSV_COLUMNS to column values: sqlite3.Row, or a dict built from a
    PostgreSQL row) as Feedback: passage ids decoded from JSON, ``abstained`` as a bool."""
    return Feedback(
        id=row["id"], created_at=row["created_at"], answer_id=row["answer_id"], rating=row["rating"],
        comment=row["comment"], question=row["question"], answer=row["answer"],
        passage_ids=tuple(json.loads(row["passage_ids"] or "[]")), mode=row["mode"], language=row["language"],
        abstained=None if row["abstained"] is None else bool(row["abstained"]), request_id=row["request_id"])


def _check_window(limit: int | None, offset: int) -> None:
    if limit is not None and not 0 <= limit <= MAX_SQL_INT:
        raise ValueError(f"limit must be between 0 and {MAX_SQL_INT}, not {limit}")
    if not 0 <= offset <= MAX_SQL_INT:
        raise ValueError(f"offset must be between 0 and {MAX_SQL_INT}, not {offset}")


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): a leading = + - @ tab or CR is quoted."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class FeedbackStore:
    """Feedback rows in one SQLite file. Safe to share between threads; several processes may use the
    same file. The schema is brought up to date on first use (see :data:`MIGRATIONS`)."""

    def __init__(self, path: Path | str, busy_timeout: float = 10.0,
                 migrations: Sequence[Sequence[str]] = MIGRATIONS) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.migrations = tuple(tuple(m) for m in migrations)
        self._ready = False
        self._lock = threading.Lock()

    @property
    def schema_version(self) -> int:
        """The newest schema this code knows."""
        return len(self.migrations)

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

    def _ensure_ready(self) -> None:
        """Create and migrate the file, once per store."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.migrate()

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
        created = _now()
        self._ensure_ready()
        row_id = self._retrying("store feedback in", lambda: self._insert(item, created))
        return Feedback(**{**asdict(item), "passage_ids": tuple(item.passage_ids)}, id=row_id, created_at=created)

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

    def page(self, limit: int = 100, offset: int = 0, rating: str | None = None) -> list[Feedback]:
        """The newest rows first, ``limit`` of them after skipping ``offset``.
        ValueError when ``limit`` is not in 0..MAX_SQL_INT or ``offset`` not in 0..MAX_SQL_INT."""
        _check_window(limit, offset)
        return list(self.rows(limit=limit, offset=offset, rating=rating, newest_first=True))

    def rows(self, limit: int | None = None, offset: int = 0, rating: str | None = None,
             newest_first: bool = False) -> Iterator[Feedback]:
        """Rows one by one (a consistent snapshot: the read is one transaction); ValueError (at the
        first row) for a ``limit`` or ``offset`` outside 0..MAX_SQL_INT."""
        _check_window(limit, offset)
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

    def csv_lines(self, rating: str | None = None) -> Iterator[str]:
        """The rows as CSV (RFC 4180, UTF-8 with BOM, header first, oldest first), line by line, safe to open in a spreadsheet."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + flush()  # a byte-order mark: Excel reads the file as UTF-8 only with one (é, ë, €)
        for item in self.rows(rating=rating):
            data = item.to_dict()
            data["passage_ids"] = " ".join(item.passage_ids)
            data["abstained"] = "" if item.abstained is None else str(item.abstained).lower()
            writer.writerow([_spreadsheet_safe("" if data[c] is None else str(data[c])) for c in CSV_COLUMNS])
            yield flush()


def open_feedback_store(settings) -> FeedbackStore:
    """The configured store: PostgreSQL (rag/feedback_pg.py) when ``VRAAGBAAK_DATABASE_URL`` is set,
    else the SQLite file at ``VRAAGBAAK_FEEDBACK_DB``."""
    if getattr(settings, "database_url", ""):
        from rag.feedback_pg import PostgresFeedbackStore

        return PostgresFeedbackStore(settings.database_url)
    return FeedbackStore(settings.feedback_path)
