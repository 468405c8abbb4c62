"""Repeated answers: which chunks say the same thing, so retrieval shows them once.

A Q&A document often answers several questions with one text, and the parser keeps each copy; the
retriever returns the best-ranked copy and cites every question number of its group.
"""

from __future__ import annotations

import re

import numpy as np

from rag.types import Chunk

NEAR_DUPLICATE = 0.8  # share of the smaller passage's word 4-grams found in the larger one
_MIN_SHINGLES = 15  # tiny passages (a heading's worth) are never called duplicates


def _shingles(text: str) -> frozenset:
    words = re.findall(r"\w+", text.lower())
    return frozenset(tuple(words[i:i + 4]) for i in range(max(1, len(words) - 3)))


def duplicate_groups(chunks: list[Chunk]) -> np.ndarray:
    """Group id per chunk: chunks with the same answer, or near-duplicate texts, share one.

    Computed once per index version (a sparse chunk×shingle product gives every pairwise overlap),
    so a query only looks groups up; the grouping is transitive (47 ~ 79 ~ 80 is one group)."""
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
