"""Lexical channel: BM25 over Dutch-stemmed tokens (Snowball via PyStemmer).

Dense retrieval carries the meaning; this channel is for exact terms a citizen may type —
names, numbers, law titles, acronyms (WOM, LOM, PLON). Built in memory from the chunks at load
time: for this corpus that takes milliseconds, so nothing extra is persisted.
"""

from __future__ import annotations

import math
import re
from collections import Counter

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


class BM25:
    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75):
        self.analyze = Analyzer()
        self.k1, self.b = k1, b
        docs = [Counter(self.analyze(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in docs], dtype=np.float32)
        self.avg_len = float(self.lengths.mean()) if len(docs) else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, d in enumerate(docs):
            for term, tf in d.items():
                self.postings.setdefault(term, []).append((i, tf))
        n = len(docs)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}
        self.n = n

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for term in set(self.analyze(query)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, tf in self.postings[term]:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg_len)
                out[i] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out
