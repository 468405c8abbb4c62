"""Retrieval metrics with the project's quote-matching rule (../shared/README.md).

A passage "contains" a gold quote when the quote, lowercased with every non-letter/non-digit
removed, is a substring of the passage treated the same way.
"""

from __future__ import annotations

import math
import re

_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


def contains(passage: str, quote: str) -> bool:
    q = normalise(quote)
    return bool(q) and q in normalise(passage)


def relevance(passages: list[str], quotes: list[str]) -> list[set[int]]:
    """For each passage (in rank order), the indices of the gold quotes it contains."""
    norm_quotes = [normalise(q) for q in quotes]
    return [{j for j, q in enumerate(norm_quotes) if q and q in normalise(p)} for p in passages]


def recall_at_k(rel: list[set[int]], n_gold: int, k: int) -> float:
    """Share of the gold quotes found in the top k."""
    if n_gold == 0:
        return 0.0
    found = set().union(*rel[:k]) if rel[:k] else set()
    return len(found) / n_gold


def hit_at_k(rel: list[set[int]], k: int) -> float:
    return 1.0 if any(rel[:k]) else 0.0


def reciprocal_rank(rel: list[set[int]]) -> float:
    return next((1.0 / (i + 1) for i, r in enumerate(rel) if r), 0.0)


def ndcg_at_k(rel: list[set[int]], n_gold: int, k: int = 10) -> float:
    """Binary gain for a passage that brings a gold quote not seen higher up."""
    seen: set[int] = set()
    dcg = 0.0
    for i, r in enumerate(rel[:k]):
        new = r - seen
        if new:
            dcg += 1.0 / math.log2(i + 2)
            seen |= new
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(n_gold, k)))
    return dcg / ideal if ideal else 0.0


def percentile(values, q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..1) of the values that are not None; None if there are none.
    The one definition every report and benchmark uses, so their p50/p95 agree."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
