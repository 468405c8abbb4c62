"""Lexical channel: BM25 over Dutch-stemmed tokens (Snowball via PyStemmer).

Dense retrieval carries the meaning; this channel is for exact terms a citizen may type —
names, numbers, law titles, acronyms (WOM, LOM, PLON). The embedded store builds it in memory with
bm25s at load time (milliseconds for this corpus); the PostgreSQL store keeps the same per-term
weights in a table (rag/search/stores/pg_store.py), so both rank alike.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import Stemmer

# Function words carry no topic. Dutch (Snowball list, trimmed) plus the English ones that
# appear in questions asked in English.
STOPWORDS = set("""
aan al alles als altijd andere ben bij daar dan dat de der deze die dit doch doen door dus een eens en er ge geen
geweest haar had heb hebben heeft hem het hier hij hoe hun iemand iets ik in is ja je kan kon kunnen maar me meer men
met mij mijn moet na naar niet niets nog nu of om omdat onder ons ook op over reeds te tegen toch toen tot u uit uw van
veel voor want waren was wat we wel werd wezen wie wil worden wordt zal ze zelf zich zij zijn zo zonder zou welke
welk waarom wanneer waar hoeveel hoe
a an and are as at be by can did do does for from has have how in is it its of on or that the their there these this
to was were what when where which who why will with would about
""".split())

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


class Analyzer:
    def __init__(self):
        self._stemmer = Stemmer.Stemmer("dutch")

    def __call__(self, text: str) -> list[str]:
        tokens = [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]
        return self._stemmer.stemWords(tokens)


def lexical_text(title: str, section: str | None, retrieval_text: str) -> str:
    """What the lexical channel indexes for one chunk: document title, section and the framed text."""
    return f"{title} {section or ''} {retrieval_text}"


class BM25:
    """BM25 (Lucene's variant) over :class:`Analyzer` tokens, indexed and scored by bm25s.

    ``scores(query)`` gives one float32 score per text, in input order: the sum over the query's
    distinct terms of ``idf * tf / (tf + k1 * (1 - b + b * len / avg_len))`` with
    ``idf = ln(1 + (n - df + 0.5) / (df + 0.5))``. :meth:`weights` gives the per-(term, text)
    parts of that sum, which the PostgreSQL store keeps in a table so SQL computes the same scores.
    """

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75):
        import bm25s

        # bm25s sets its logger to DEBUG when imported; let it follow the level the process configured.
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        self.analyze = Analyzer()
        self.k1, self.b = k1, b
        self.n = len(texts)
        tokens = [self.analyze(t) for t in texts]
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        if any(tokens):
            self._bm25.index(tokens, show_progress=False)
            self.vocab = self._bm25.vocab_dict
        else:
            self.vocab = {}

    def terms(self, query: str) -> list[str]:
        """The query's distinct analysed terms, in first-seen order (a repeated word counts once)."""
        return list(dict.fromkeys(self.analyze(query)))

    def scores(self, query: str) -> np.ndarray:
        return self.term_scores(self.terms(query))

    def term_scores(self, terms: list[str]) -> np.ndarray:
        """Scores for already analysed, distinct ``terms`` (see :meth:`terms`)."""
        known = [t for t in terms if t in self.vocab]
        if not known:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def weights(self) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """(terms, term index, text index, idf * saturated tf) for every non-zero (term, text) pair."""
        if not self.vocab:
            return [], np.array([], np.int32), np.array([], np.int32), np.array([], np.float32)
        matrix = self._bm25.scores  # CSC: column = term id, rows = texts, data = idf * tf-part
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        names = [""] * len(self.vocab)
        for term, tid in self.vocab.items():
            names[tid] = term
        term_index = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
        return names, term_index, np.asarray(indices, np.int32), np.asarray(data, np.float32)
