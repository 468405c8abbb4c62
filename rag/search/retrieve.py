"""Retrieve and fuse: query → ranked Passages with citations.

Dense cosine similarity (EmbeddingGemma, multilingual: English questions find Dutch text) is the
backbone, scored twice: the whole chunk, and its best single paragraph (max-sim over the chunk's
units), blended by ``unit_weight`` — a precise fact in a long answer is otherwise diluted. BM25 over Dutch stems is added as a weighted, normalised bonus — plain RRF was
measured to hurt here (MODELS.md), so the weight is set by measurement on the dev set
(``VRAAGBAAK_LEXICAL_WEIGHT``; 0 turns the channel off). Answers repeated verbatim under several
questions are collapsed into one passage that cites every question number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.search.citations import make_citation
from rag.search.stores.faiss_store import StoredIndex
from rag.search.lexical import BM25
from rag.search.query import QueryNormalizer
from rag.types import Chunk, Passage


def period(date: str) -> tuple[str, str]:
    """First and last day a possibly partial ISO date covers: "2013" → ("2013-01-01", "2013-12-31")."""
    return (date + "-01-01")[:10], (date + "-12-31")[:10]


def range_is_empty(date_from: str | None, date_to: str | None) -> bool:
    """True when ``date_from`` starts after ``date_to`` ends: no document could match."""
    return bool(date_from and date_to) and period(date_from)[0] > period(date_to)[1]


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


FOCUS_WEIGHT = 0.5  # share of a long input's question part in its scores (rag/search/query.py)
QUESTION_BONUS = 0.15  # cosine points for the answer to a question the query names ("Vraag 57")
NEAR_DUPLICATE = 0.8  # share of the smaller passage's word 4-grams found in the larger one
_MIN_SHINGLES = 15  # tiny passages (a heading's worth) are never called duplicates


def _shingles(text: str) -> frozenset:
    words = re.findall(r"\w+", text.lower())
    return frozenset(tuple(words[i:i + 4]) for i in range(max(1, len(words) - 3)))


def duplicate_groups(chunks: list[Chunk]) -> np.ndarray:
    """Group id per chunk: chunks with the same answer, or near-duplicate texts, share one.

    Computed once at load (a sparse chunk×shingle product gives every pairwise overlap), so a
    query only looks groups up; the grouping is transitive (47 ~ 79 ~ 80 is one group)."""
    from scipy.sparse import csr_matrix

    shingles = [_shingles(c.text) for c in chunks]
    vocab: dict[tuple, int] = {}
    rows, cols = [], []
    for i, sh in enumerate(shingles):
        for g in sh:
            rows.append(i)
            cols.append(vocab.setdefault(g, len(vocab)))
    m = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(chunks), max(len(vocab), 1)))
    overlap = (m @ m.T).tocoo()
    parent = list(range(len(chunks)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sizes = [len(sh) for sh in shingles]
    for i, j, shared in zip(overlap.row, overlap.col, overlap.data):
        if i < j:
            small = min(sizes[i], sizes[j])
            dup = (shingles[i] == shingles[j]) if small < _MIN_SHINGLES else shared / small >= NEAR_DUPLICATE
            if dup:
                parent[find(i)] = find(j)
    by_answer: dict[tuple, int] = {}
    for i, c in enumerate(chunks):
        if c.answer_key:
            other = by_answer.setdefault((c.doc_id, c.answer_key), i)
            parent[find(i)] = find(other)
    return np.array([find(i) for i in range(len(chunks))])


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return np.zeros_like(x) if hi - lo < 1e-9 else (x - lo) / (hi - lo)


class Retriever:
    def __init__(self, index: StoredIndex, encoder, lexical_weight: float = 0.0, unit_weight: float = 0.0):
        self.index = index
        self.encoder = encoder
        self.lexical_weight = lexical_weight
        self.unit_weight = unit_weight
        owner = index.unit_owner
        # Units are stored chunk by chunk: the start of each chunk's run, for np.maximum.reduceat.
        self._unit_starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else np.array([], int)
        self._unit_chunks = owner[self._unit_starts] if len(owner) else np.array([], int)
        self.chunks: list[Chunk] = index.chunks
        titles = {d.id: d.title for d in index.documents.values()}
        self.bm25 = BM25([f"{titles.get(c.doc_id, '')} {c.section or ''} {c.retrieval_text}" for c in self.chunks])
        self._groups = duplicate_groups(self.chunks)
        self._dates = [index.documents[c.doc_id].date if c.doc_id in index.documents else None for c in self.chunks]
        self.normalize_query = QueryNormalizer(c.retrieval_text for c in self.chunks)  # rag/search/query.py

    def scores(self, query: str, query_vector: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(dense cosine, lexical BM25) for every chunk, in index order."""
        qv = self.encoder.encode_query(query) if query_vector is None else query_vector
        n = len(self.chunks)
        dense = np.full(n, -1.0, dtype=np.float32)
        k = n if self.index.faiss_index.ntotal <= 20000 else 1000
        sims, ids = self.index.search(qv, k)
        valid = ids >= 0
        dense[ids[valid]] = sims[valid]
        if self.unit_weight > 0 and len(self._unit_starts):
            best_unit = np.full(n, -1.0, dtype=np.float32)
            best_unit[self._unit_chunks] = np.maximum.reduceat(self.index.unit_vectors @ qv, self._unit_starts)
            dense = (1 - self.unit_weight) * dense + self.unit_weight * np.maximum(dense, best_unit)
        lexical = self.bm25.scores(query) if self.lexical_weight > 0 else np.zeros(n, dtype=np.float32)
        return dense, lexical

    def normalized_scores(self, query: str, query_vector: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``scores`` of the normalised question (rag/search/query.py); a long input's question part
        is scored on its own and weighs ``FOCUS_WEIGHT`` in both channels; passages of the questions it
        names ("Vraag 57") gain ``QUESTION_BONUS``. ``query_vector``, when given, must be the encoding
        of ``query``: it is used only when normalising changed nothing."""
        q = self.normalize_query(query)
        dense, lexical = self.scores(q.text, query_vector if q.text == query else None)
        if q.focus:
            focus_dense, focus_lexical = self.scores(q.focus)
            dense = (1 - FOCUS_WEIGHT) * dense + FOCUS_WEIGHT * focus_dense
            lexical = (1 - FOCUS_WEIGHT) * _minmax(lexical) + FOCUS_WEIGHT * _minmax(focus_lexical)
        if q.question_numbers:
            named = np.array([not q.question_numbers.isdisjoint(c.question_numbers) for c in self.chunks])
            dense = dense + QUESTION_BONUS * named
        return dense, lexical

    def fuse(self, dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        if self.lexical_weight <= 0 or float(lexical.max()) <= 0:
            return dense
        # Lexical evidence moves a chunk up by at most `lexical_weight` cosine points.
        return dense + self.lexical_weight * _minmax(lexical)

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None,
               query_vector: np.ndarray | None = None) -> list[Passage]:
        dense, lexical = self.normalized_scores(query, query_vector)
        fused = self.fuse(dense, lexical)
        order = np.argsort(-fused, kind="stable")
        passages: list[Passage] = []
        slot_of_group: dict[int, int] = {}
        extra_questions: dict[int, set[int]] = {}
        duplicates: dict[int, list[str]] = {}
        for i in order:
            chunk = self.chunks[i]
            if filters and not filters.admits(chunk.doc_id, self._dates[i]):
                continue
            # Collapse repeats: the same answer under other questions, or a near-identical passage.
            keeper = slot_of_group.get(self._groups[i])
            if keeper is not None:
                extra_questions[keeper].update(chunk.question_numbers)
                duplicates[keeper].append(chunk.id)
                continue
            if len(passages) >= top_k:
                continue  # keep scanning only to gather the duplicates of the passages we return
            slot = len(passages)
            slot_of_group[self._groups[i]] = slot
            extra_questions[slot] = set()
            duplicates[slot] = []
            meta = self.index.documents[chunk.doc_id]
            passages.append(Passage(chunk=chunk, document=meta, score=float(fused[i]), rank=slot + 1,
                                    citation=make_citation(chunk, meta),
                                    scores={"dense": float(dense[i]), "lexical": float(lexical[i])}))
        return [
            Passage(chunk=p.chunk, document=p.document, score=p.score, rank=p.rank,
                    citation=make_citation(p.chunk, p.document, tuple(extra_questions[s])),
                    duplicates=tuple(duplicates[s]), scores=p.scores)
            for s, p in enumerate(passages)
        ]
