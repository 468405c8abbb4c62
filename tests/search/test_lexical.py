"""lexical: BM25 by bm25s over Dutch Snowball stems gives the textbook BM25 (Lucene's idf) on the real
corpus, up to the constant factor (k1 + 1) that Lucene drops; a ranking is the same either way."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from rag.ingest.chunk import chunk_document
from rag.search.lexical import BM25, Analyzer

QUERIES = ["Waarom is de Wet overleg minderhedenbeleid ingetrokken?", "participatieverklaring inburgering",
           "What happens to my benefits?", "startbaan bijstand weigeren", "woord-dat-niet-voorkomt"]


def reference_scores(texts: list[str], query: str, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    """BM25 written out: sum over distinct query terms of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg))."""
    analyze = Analyzer()
    docs = [Counter(analyze(t)) for t in texts]
    lengths = [sum(d.values()) for d in docs]
    avg = sum(lengths) / len(docs)
    out = np.zeros(len(docs))
    for term in set(analyze(query)):
        df = sum(1 for d in docs if term in d)
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            tf = d.get(term, 0)
            if tf:
                out[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / avg))
    return out


@pytest.fixture(scope="module")
def texts(parsed):
    return [c.retrieval_text for p in parsed.values() for c in chunk_document(p)]


@pytest.mark.parametrize("query", QUERIES)
def test_bm25s_scores_are_textbook_bm25(texts, query):
    scores = BM25(texts).scores(query)
    assert np.allclose(scores * (1.2 + 1), reference_scores(texts, query), rtol=1e-4, atol=1e-5)


def test_weights_reproduce_the_scores(texts):
    """What the PostgreSQL store keeps per (term, passage) sums to the same scores."""
    bm25 = BM25(texts)
    names, term_index, text_index, weights = bm25.weights()
    for query in QUERIES:
        terms = set(bm25.terms(query))
        summed = np.zeros(len(texts))
        for t, d, w in zip(term_index, text_index, weights):
            if names[t] in terms:
                summed[d] += w
        assert np.allclose(summed, bm25.scores(query), atol=1e-5)


def test_no_texts_and_unknown_words_score_zero():
    assert BM25(["", ""]).scores("inburgering").tolist() == [0.0, 0.0]
    assert BM25(["de taal"]).scores("de").tolist() == [0.0]  # a stopword only
