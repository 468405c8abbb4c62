"""The feedback interface: what a citizen sends (:class:`NewFeedback`), a stored row (:class:`Feedback`),
and :class:`FeedbackStore`, which both stores implement (sqlite_store.py, pg_store.py).

A store creates and migrates its schema the first time it is used (numbered migrations, applied in
order, each with its version bump in one transaction), stores each row in one transaction, and reads
rows from one snapshot. Every failure to use the database is a :class:`FeedbackStoreError`.

Nothing about the person is stored: no address, no browser, no account; only what they chose to send.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

RATINGS = ("up", "down")
# SQLite's largest integer: a LIMIT or OFFSET beyond it cannot be bound (OverflowError), so the stores
# refuse it and the API documents it as the bound of ``?limit`` and ``?offset``.
MAX_SQL_INT = 2**63 - 1

# The table's columns, in order (both stores; also the CSV export's header).
CSV_COLUMNS = ("id", "created_at", "answer_id", "rating", "comment", "question", "answer", "passage_ids",
               "mode", "language", "abstained", "request_id")


class FeedbackStoreError(Exception):
    """The feedback database cannot be used (unwritable folder, corrupt file, newer schema, server down)."""


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


def now_utc() -> str:
    """The current time as stored in ``created_at``: UTC, ISO 8601 with milliseconds and a Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def stored(item: NewFeedback, row_id: int, created_at: str) -> Feedback:
    """``item`` as the row it became."""
    return Feedback(**{**asdict(item), "passage_ids": tuple(item.passage_ids)}, id=row_id, created_at=created_at)


def row_to_feedback(row) -> Feedback:
    """A stored row (any mapping of CSV_COLUMNS to column values: sqlite3.Row, or a dict built from a
    PostgreSQL row) as Feedback: passage ids decoded from JSON, ``abstained`` as a bool."""
    return Feedback(
        id=row["id"], created_at=row["created_at"], answer_id=row["answer_id"], rating=row["rating"],
        comment=row["comment"], question=row["question"], answer=row["answer"],
        passage_ids=tuple(json.loads(row["passage_ids"] or "[]")), mode=row["mode"], language=row["language"],
        abstained=None if row["abstained"] is None else bool(row["abstained"]), request_id=row["request_id"])


def check_window(limit: int | None, offset: int) -> None:
    """ValueError when ``limit`` (None: all) or ``offset`` is outside 0..MAX_SQL_INT."""
    if limit is not None and not 0 <= limit <= MAX_SQL_INT:
        raise ValueError(f"limit must be between 0 and {MAX_SQL_INT}, not {limit}")
    if not 0 <= offset <= MAX_SQL_INT:
        raise ValueError(f"offset must be between 0 and {MAX_SQL_INT}, not {offset}")


def _spreadsheet_safe(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection): a leading = + - @ tab or CR is quoted."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class FeedbackStore(ABC):
    """Feedback rows in a database. Implementations are safe to share between threads, and several
    processes may write at once. ``path`` names the database in messages (a file, or a URL without
    its password); ``migrations`` are the schema's numbered steps."""

    path: object
    migrations: tuple[tuple[str, ...], ...]

    def __init__(self) -> None:
        self._ready = False
        self._lock = threading.Lock()

    @property
    def schema_version(self) -> int:
        """The newest schema this code knows."""
        return len(self.migrations)

    def _ensure_ready(self) -> None:
        """Create and migrate the schema, once per store."""
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.migrate()

    @abstractmethod
    def migrate(self) -> int:
        """Apply the migrations the database lacks (safe when several processes do it at once);
        returns the schema version. FeedbackStoreError when the database's schema is newer."""

    @abstractmethod
    def add(self, item: NewFeedback) -> Feedback:
        """Store one feedback row atomically; returns it with its id and time."""

    @abstractmethod
    def count(self, rating: str | None = None) -> int:
        """The number of rows (with this rating, if given)."""

    @abstractmethod
    def rows(self, limit: int | None = None, offset: int = 0, rating: str | None = None,
             newest_first: bool = False) -> Iterator[Feedback]:
        """Rows one by one from one snapshot, oldest first unless ``newest_first``."""

    def page(self, limit: int = 100, offset: int = 0, rating: str | None = None) -> list[Feedback]:
        """The newest rows first, ``limit`` of them after skipping ``offset``.
        ValueError when ``limit`` is not in 0..MAX_SQL_INT or ``offset`` not in 0..MAX_SQL_INT."""
        check_window(limit, offset)
        return list(self.rows(limit=limit, offset=offset, rating=rating, newest_first=True))

    def csv_lines(self, rating: str | None = None) -> Iterator[str]:
        """The rows as CSV (RFC 4180, UTF-8 with BOM, header first, oldest first), line by line, safe to
        open in a spreadsheet."""
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
