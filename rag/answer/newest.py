"""The statements of the right time among an answer's passages.

Retrieval ranks by relevance alone (its figures on the dev set are unchanged by dates). A question about
the present, though, is answered by the newest statement on its matter, and that one is often not in the
top five: the 2013 letters say more, in more words, about most matters. So before an answer is written
(after the answerability decision, which keeps its own evidence), the answer engine searches again, with
the same query vector (no second embedding), among the documents **newer** than the top passage's, and
takes their best passages in when they are relevant enough (a fused score within ``gate`` of the top
passage's). A question about a named past year searches that year's documents the same way.
Taken-in passages replace the lowest-ranked ones, so an answer still has ``top_k`` passages, and the
extractive answer may quote from them (``quote_from``). The selection then prefers them by the recency
prior (rag/search/recency.py ``prior``), and rag/answer/dating.py labels what is older as earlier.

Measured on data/eval/now_dev.jsonl and the dev set: ``scripts/measure_recency.py`` (README, "Dates").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rag.search.recency import TimeFrame, date_key, span
from rag.search.stores.base import Filters
from rag.types import Passage


@dataclass(frozen=True)
class NewestConfig:
    """How many passages of the right time are looked for, and how relevant they must be."""

    fetch: int = 3  # passages searched among the newer (or the named year's) documents
    take: int = 2  # at most this many taken in
    gate: float = 0.10  # fused-score points a taken-in passage may lie below the top passage


CONFIG = NewestConfig()


def documents_of_time(documents: dict, passages: list[Passage], time: TimeFrame) -> tuple[str, ...]:
    """Ids of the documents of the question's time: newer than the top passage's document (present),
    or dated in a named year (past); empty when there are none or the time says nothing."""
    if not passages:
        return ()
    if time.present:
        top = date_key(passages[0].document)
        if top is None:
            return ()
        return tuple(d for d, meta in documents.items() if (date_key(meta) or "") > top and
                     (span(meta) or ("", ""))[0] > span(passages[0].document)[1])
    if time.years:
        out = []
        for d, meta in documents.items():
            s = span(meta)
            if s and any(s[0][:4] <= str(y) <= s[1][:4] for y in time.years):
                out.append(d)
        return tuple(out)
    return ()


def widen(retriever, query: str, query_vector, passages: list[Passage], time: TimeFrame,
          config: NewestConfig = CONFIG) -> tuple[list[Passage], list[int]]:
    """``passages`` with the best passages of the question's time taken in (see the module docstring), and
    the 1-based numbers they have there. Unchanged (and ``[]``) when nothing qualifies."""
    docs = documents_of_time(retriever.index.documents, passages, time)
    if not docs or not passages:
        return passages, []
    found = retriever.search(query, top_k=config.fetch, filters=Filters(doc_ids=docs), query_vector=query_vector)
    have = {p.chunk.id for p in passages} | {d for p in passages for d in p.duplicates}
    top = passages[0].score
    room = min(config.take, len(passages) - 1)  # the top passage always stays
    fresh = [p for p in found if p.chunk.id not in have and p.score >= top - config.gate][:room]
    already = [n for n, p in enumerate(passages, start=1) if p.document.id in docs and p.score >= top - config.gate]
    if not fresh:
        return passages, already
    keep = passages[:max(1, len(passages) - len(fresh))]
    merged = keep + fresh
    merged = [replace(p, rank=i) for i, p in enumerate(merged, start=1)]
    taken = sorted(set(already) & set(range(1, len(keep) + 1)) | set(range(len(keep) + 1, len(merged) + 1)))
    return merged, taken
