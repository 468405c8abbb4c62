"""The store interface: what retrieval needs from an index, whichever engine holds it.

A :class:`Store` publishes index versions and says which one is active; an :class:`IndexVersion` is one
published, immutable version: its chunks and documents (for citations, the catalogue and the answer
engine) and :meth:`IndexVersion.candidates`, the per-channel scores of the chunks that may rank for a
query. Fusion, collapsing of repeated answers and citations are the retriever's own
(rag/search/retrieve.py), so every store ranks alike.

Two stores: ``faiss_store.FaissStore`` (files beside the process, the default) and
``pg_store.PostgresStore`` (PostgreSQL + pgvector, when ``VRAAGBAAK_DATABASE_URL`` is set).
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from rag.types import Chunk, DocumentMeta


class IndexUnavailable(RuntimeError):
    """The index is missing or does not fit the configuration; the message says how to rebuild."""


REBUILD_HINT = "rebuild it with `vraagbaak index` (or `make index`)"

# Chunks each channel (dense, best paragraph, BM25) contributes to the candidates of a store that
# does not score every chunk; the fused top 5..50 lies well inside the union of three top-200s.
CANDIDATES_PER_CHANNEL = 200


_PARTIAL_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")  # ASCII: \d would take "٢٠١٣"

# check_date's rule as one regular expression, for the OpenAPI document (api/schemas.py), where JSON
# Schema can state no more than a pattern: years 0001-9999, months 01-12, and a day only if the month
# has it (29 February in leap years: divisible by 4, centuries only by 400). Plain alternation, no
# look-around, so ECMA-262, Python and generators from regexes read it alike; tests/search/test_retrieve.py
# checks it agrees with check_date on every year and every day of several.
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH = "(?:0[1-9]|1[0-2])"
_DAY = (f"{_YEAR}-{_MONTH}-(?:0[1-9]|1[0-9]|2[0-8])|{_YEAR}-(?:0[13-9]|1[0-2])-(?:29|30)"
        f"|{_YEAR}-(?:0[13578]|1[02])-31|{_LEAP_YEAR}-02-29")
DATE_PATTERN = f"^(?:{_YEAR}|{_YEAR}-{_MONTH}|{_DAY})$"


def check_date(text: str) -> str:
    """``text`` stripped when it is YYYY, YYYY-MM or YYYY-MM-DD naming a real month and day (a filter
    bound); ValueError otherwise ("2013-02-30", "2013-13", "13-02-2013")."""
    m = _PARTIAL_DATE.match(text.strip())
    try:
        if not m:
            raise ValueError
        datetime.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
    except ValueError:
        raise ValueError(f"{text!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD (a real month and day)") from None
    return text.strip()


def period(date: str) -> tuple[str, str]:
    """First and last day a possibly partial ISO date covers: "2013" → ("2013-01-01", "2013-12-31"),
    "2013-02" → ("2013-02-01", "2013-02-28")."""
    first = (date + "-01-01")[:10]
    if len(date) == 7:  # a month: its own last day (appending "-31" would give "2013-02-12")
        year, month = int(date[:4]), int(date[5:7])
        return first, f"{date}-{calendar.monthrange(year, month)[1]:02d}"
    return first, (date + "-12-31")[:10]


@dataclass(frozen=True)
class Filters:
    doc_ids: tuple[str, ...] | None = None
    date_from: str | None = None  # ISO, possibly partial; compared on the document's date
    date_to: str | None = None

    def admits(self, doc_id: str, date: str | None) -> bool:
        if self.doc_ids and doc_id not in self.doc_ids:
            return False
        if self.date_from or self.date_to:
            if not date:
                return False  # undated documents cannot be shown to fall in a range
            first, last = period(date)
            if self.date_from and last < period(self.date_from)[0]:
                return False
            if self.date_to and first > period(self.date_to)[1]:
                return False
        return True


@dataclass(frozen=True)
class Candidates:
    """Per-channel scores of the chunks that may rank, in ascending chunk position.

    ``positions`` index :attr:`IndexVersion.chunks`; ``dense`` is the chunk's cosine with the query,
    ``unit`` the best cosine of one of its paragraphs, ``lexical`` its BM25 score (0 without a shared
    term). All are float32 arrays of the same length; only chunks the filters admit are included."""

    positions: np.ndarray
    dense: np.ndarray
    unit: np.ndarray
    lexical: np.ndarray


class IndexVersion:
    """One published version, as a reader sees it. Subclasses fill the fields and :meth:`candidates`.

    ``name`` identifies the version (a build folder, or ``v<id>`` in the database); ``groups[i]`` is the
    duplicate group of chunk ``i`` (chunks with the same answer or near-identical text share one)."""

    name: str
    manifest: dict
    chunks: list[Chunk]
    documents: dict[str, DocumentMeta]
    groups: np.ndarray

    def _index_groups(self) -> None:
        members: dict[int, list[int]] = {}
        for i, g in enumerate(self.groups.tolist()):
            members.setdefault(g, []).append(i)
        self._members = members
        self._dates = [self.documents[c.doc_id].date if c.doc_id in self.documents else None for c in self.chunks]

    def group_members(self, group: int) -> list[int]:
        """Positions of the chunks in one duplicate group, ascending."""
        return self._members.get(int(group), [])

    def admits(self, position: int, filters: Filters | None) -> bool:
        chunk = self.chunks[position]
        return filters is None or filters.admits(chunk.doc_id, self._dates[position])

    def candidates(self, query_vector: np.ndarray, terms: list[str], filters: Filters | None) -> Candidates:
        """The chunks that may rank for a query (unit-norm ``query_vector``, analysed ``terms``)."""
        raise NotImplementedError


class Store(Protocol):
    """Where versions are published and found. ``active_name()`` is cheap (a replica polls it)."""

    def active_manifest(self) -> dict | None: ...

    def active_name(self) -> str | None: ...

    def load(self, expected: dict) -> IndexVersion: ...

    def publish(self, manifest: dict, chunks: list[Chunk], documents: list[DocumentMeta], vectors: np.ndarray,
                unit_vectors: np.ndarray, unit_owner: np.ndarray, force: bool = False) -> str: ...


def check_compatible(manifest: dict, expected: dict, where: object) -> None:
    """Refuse an index built with another model, chunker or format: results would be garbage."""
    problems = []
    for key, label in (("model_hash", "embedding model"), ("embedding_dtype", "embedding precision"),
                       ("chunker_version", "chunker version"), ("parser_version", "parser version"),
                       ("format", "index format")):
        have, want = manifest.get(key), expected.get(key)
        if key == "embedding_dtype" and have is None:
            continue  # built before the precision was recorded; `vraagbaak index` rebuilds it
        if want is not None and have != want:
            shown_have = manifest.get("model") if key == "model_hash" else have
            shown_want = expected.get("model") if key == "model_hash" else want
            problems.append(f"{label}: index has {shown_have!r}, configuration wants {shown_want!r}")
    if problems:
        raise IndexUnavailable(f"the index at {where} was built differently ({'; '.join(problems)}); {REBUILD_HINT}")
