"""What retrieval produced for one question (:class:`Context`), the small rules that shape it, and
the events an answer streams (:class:`AnswerEvent`).

The answer engine (engine.py) builds a Context per question; the extractive, plain (rewrite.py) and
generative (generate.py) paths all read from it, so retrieval runs once whatever the mode.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from rag.answer import abstain, answerable, extractive
from rag.answer.facts import CorpusLexicon
from rag.answer.verify import Source
from rag.types import Answer, Passage

# Sentences to quote and to judge confidence by come from the top 5 passages (as calibrated), whatever top_k.
CANDIDATE_PASSAGES = 5


@dataclass
class AnswerEvent:
    """One event of ``AnswerEngine.answer_stream``."""

    kind: str  # "sources" (data: list[Passage]) | "delta" (text: str) | "done" (answer: Answer) | "error" (text)
    data: list[Passage] | None = None
    text: str = ""
    answer: Answer | None = None


@dataclass
class Context:
    """Everything retrieval produced for one question."""

    question: str
    language: str
    passages: list[Passage]
    query_vector: np.ndarray
    candidates: list[extractive.Candidate]
    sources: list[Source]
    confidence: abstain.Confidence
    started: float  # time.perf_counter() when the question arrived: took_ms counts from here
    decision: answerable.Decision | None = None
    previous: frozenset = frozenset()  # normalised sentences of the previous answer (not to repeat)
    dependent: bool = False  # a follow-up (rag/answer/followup.py): the conversation is used; else it is not
    time: object | None = None  # the question's time (rag/search/recency.py TimeFrame; rag/answer/timing.py)
    taken: tuple = ()  # 1-based numbers of the passages of that time taken in (rag/answer/newest.py)


_LEXICONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def lexicon(index) -> CorpusLexicon:
    """The corpus's proper names, computed once per loaded index (~0.1 s)."""
    try:
        return _LEXICONS[index]
    except (KeyError, TypeError):
        found = CorpusLexicon.from_texts(c.text for c in index.chunks)
        try:
            _LEXICONS[index] = found
        except TypeError:
            pass
        return found
