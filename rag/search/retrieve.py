"""Retrieve and fuse: query → ranked Passages with citations.

Dense cosine similarity (EmbeddingGemma, multilingual: English questions find Dutch text) is the
backbone, scored twice: the whole chunk, and its best single paragraph (max-sim over the chunk's
units), blended by ``unit_weight`` — a precise fact in a long answer is otherwise diluted. BM25 over Dutch stems is added as a weighted, normalised bonus — plain RRF was
measured to hurt here (MODELS.md), so the weight is set by measurement on the dev set
(``VRAAGBAAK_LEXICAL_WEIGHT``; 0 turns the channel off). Answers repeated verbatim under several
questions are collapsed into one passage that cites every question number.

The store (rag/search/stores/) gives each channel's scores for the candidate chunks; fusing,
collapsing and citing happen here, the same for every store.
"""

from __future__ import annotations

import numpy as np

from rag.search.citations import make_citation
from rag.search.duplicates import duplicate_groups  # noqa: F401  (re-exported)
from rag.search.lexical import Analyzer
from rag.search.query import QueryNormalizer
from rag.search.stores.base import Filters, IndexVersion, period
from rag.types import Passage

__all__ = ["Filters", "Retriever", "duplicate_groups", "period", "range_is_empty"]

FOCUS_WEIGHT = 0.5  # share of a long input's question part in its dense scores (rag/search/query.py)
QUESTION_BONUS = 0.15  # cosine points for the answer to a question the query names ("Vraag 57")


def range_is_empty(date_from: str | None, date_to: str | None) -> bool:
    """True when ``date_from`` starts after ``date_to`` ends: no document could match."""
    return bool(date_from and date_to) and period(date_from)[0] > period(date_to)[1]


class Retriever:
    def __init__(self, index: IndexVersion, encoder, lexical_weight: float = 0.0, unit_weight: float = 0.0):
        self.index = index
        self.encoder = encoder
        self.lexical_weight = lexical_weight
        self.unit_weight = unit_weight
        self.chunks = index.chunks
        self._analyze = Analyzer()
        self.normalize_query = QueryNormalizer(c.retrieval_text for c in self.chunks)  # rag/search/query.py

    def search(self, query: str, top_k: int = 5, filters: Filters | None = None,
               query_vector: np.ndarray | None = None) -> list[Passage]:
        # Every channel sees the normalised question (NFKC, case, Turkish İ/ı, acronyms expanded).
        q = self.normalize_query(query)
        use_given = query_vector is not None and q.text == query  # a given vector encodes ``query`` as typed
        qv = query_vector if use_given else self.encoder.encode_query(q.text)
        scale = 1.0
        if q.focus:
            # A long input's question part weighs FOCUS_WEIGHT: the store is asked with the normalised
            # mix of both vectors and its cosines are scaled back, which gives exactly
            # (1 - w)·cos(text) + w·cos(focus) in the dense and paragraph channels of every store.
            mixed = (1 - FOCUS_WEIGHT) * qv + FOCUS_WEIGHT * self.encoder.encode_query(q.focus)
            scale = float(np.linalg.norm(mixed))
            qv = mixed / scale
        terms = list(dict.fromkeys(self._analyze(q.text))) if self.lexical_weight > 0 else []
        cand = self.index.candidates(qv, terms, filters)
        if not len(cand.positions):
            return []
        dense, unit = cand.dense * scale, cand.unit * scale
        if self.unit_weight > 0:
            dense = (1 - self.unit_weight) * dense + self.unit_weight * np.maximum(dense, unit)
        if q.question_numbers:  # "Wat is het antwoord op Vraag 57?": that answer moves up
            named = [not q.question_numbers.isdisjoint(self.chunks[i].question_numbers) for i in cand.positions]
            dense = dense + QUESTION_BONUS * np.array(named, dtype=np.float32)
        fused = dense
        top_lexical = float(cand.lexical.max())
        if self.lexical_weight > 0 and top_lexical > 0:
            # Lexical evidence moves a chunk up by at most `lexical_weight` cosine points. Scaled by the
            # best candidate's BM25 (the chunks with no query term score 0), so a store that sees only
            # candidates normalises exactly like one that scores every chunk.
            fused = dense + self.lexical_weight * (cand.lexical / top_lexical)
        order = np.argsort(-fused, kind="stable")  # ties: lower chunk position first, in every store
        passages: list[Passage] = []
        seen_groups: set[int] = set()
        for j in order:
            i = int(cand.positions[j])
            group = int(self.index.groups[i])
            if group in seen_groups:
                continue  # a repeat of a passage already taken: cited through it below
            seen_groups.add(group)
            chunk = self.chunks[i]
            # Collapse repeats: the same answer under other questions, or a near-identical passage.
            others = [m for m in self.index.group_members(group) if m != i and self.index.admits(m, filters)]
            questions = {q for m in others for q in self.chunks[m].question_numbers}
            meta = self.index.documents[chunk.doc_id]
            passages.append(Passage(chunk=chunk, document=meta, score=float(fused[j]), rank=len(passages) + 1,
                                    citation=make_citation(chunk, meta, tuple(questions)),
                                    duplicates=tuple(self.chunks[m].id for m in others),
                                    scores={"dense": float(dense[j]), "lexical": float(cand.lexical[j])}))
            if len(passages) >= top_k:
                break
        return passages
