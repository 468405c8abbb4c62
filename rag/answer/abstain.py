"""Retrieval confidence, which the answerability floor and the generative path still use.

Whether to abstain is decided by rag/answer/answerable.py (a fitted model over similarity, term
coverage, answer type and personal-situation cues; it replaced the single threshold below, which
separated far-off questions but not near-topic ones). What follows describes ``Confidence``, which
remains the yardstick for an LLM's own refusal (VRAAGBAAK_REFUSAL_THRESHOLD).

Retrieval confidence is the mean of two cosines: the top passage's dense score (the retriever's
chunk/paragraph blend, before the BM25 bonus, which English questions never get) and the best
question-to-sentence match among the top passages' candidate sentences (a question about a fine
for late civic integration finds passages *about* civic integration, but no sentence about a fine).
The threshold (VRAAGBAAK_ABSTAIN_THRESHOLD) is set by scripts/calibrate_abstention.py on the
dev set; with only 5 unanswerable dev questions it is deliberately conservative, because refusing
an answerable question costs a citizen more than a cautious extractive answer does. In generative
mode the model's own "the sources do not answer" counts too, below VRAAGBAAK_REFUSAL_THRESHOLD.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.types import Passage

@dataclass(frozen=True)
class Confidence:
    dense: float  # top passage's dense cosine
    sentence: float  # best question-to-sentence cosine in the top passages

    @property
    def score(self) -> float:
        return (self.dense + self.sentence) / 2

    def to_dict(self) -> dict:
        return {"dense": round(self.dense, 4), "sentence": round(self.sentence, 4), "score": round(self.score, 4)}


def confidence(passages: list[Passage], best_sentence: float) -> Confidence:
    dense = max((float(p.scores.get("dense", p.score)) for p in passages), default=0.0)
    return Confidence(dense=dense, sentence=best_sentence)
