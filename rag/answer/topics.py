"""Vraagbaak's own topics: citizen questions to suggest next, and chat titles, in the asker's language.

    topics = Topics(engine)                                   # data/suggestions.json, read once
    await topics.suggestions(question, cited_ids, "en")       # -> ["What does the government do …?", …]
    await topics.title(question, "tr")                        # -> "İşe alımda ayrımcılık" or None

Each topic of the documents (data/suggestions.json) has a title (a short noun phrase) and one citizen
question in each of nl, en, tr, ar, pl, uk, written for Vraagbaak: the parliamentary questions in the
documents are addressed to a minister and are never offered. A question is suggested only when the
documents answer it: the engine's retrieval and answerability decision (rag/answer/answerable.py) find
a passage that answers it, checked the first time it is needed and remembered for the process. Of the
answerable ones, those closest to the question just answered come first (cosine of EmbeddingGemma
query vectors), leaving out the topic that question was about and any whose best passage was already
cited; when none is related enough (``RELATED``), none is suggested.

A chat's title is the title of the topic closest to its first question when that is close enough
(``TITLE``), else None (the caller words one from the question).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import numpy as np

from rag.config import PROJECT_ROOT

TOPICS_PATH = PROJECT_ROOT / "data" / "suggestions.json"
LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")
# Cosine thresholds between EmbeddingGemma query vectors, read off the closest topic of the 154 dev and
# probe2 questions (scripts: README "Chat suggestions and titles"): from 0.62 up the closest topic's title
# fitted the question in every case looked at, between 0.58 and 0.62 some did not (a question about a
# Polish organisation → "Roma"). A question this close to a topic is about it: the topic's title names
# the chat, and the topic is not suggested after it ...
TITLE = 0.62
# ... and a suggestion this close to the answered question is related enough to be offered (questions
# of different topics: mean 0.29, 95th percentile 0.50).
RELATED = 0.45
MORE_CHECKS = 3  # candidates checked beyond ``limit`` per request (a first check is a retrieval: ~0.1–1 s)


@dataclass(frozen=True)
class Topic:
    id: str
    title: dict[str, str]  # language → a short noun phrase
    questions: dict[str, str]  # language → a citizen question


def load(path=TOPICS_PATH) -> list[Topic]:
    """The topics in ``path`` (JSON: {"topics": [{id, title: {lang: …}, questions: {lang: …}}]}).
    Raises ValueError when a topic lacks a language."""
    data = json.loads(path.read_text(encoding="utf-8"))
    topics = [Topic(t["id"], dict(t["title"]), dict(t["questions"])) for t in data["topics"]]
    for topic in topics:
        missing = [lang for lang in LANGUAGES if not topic.title.get(lang) or not topic.questions.get(lang)]
        if missing:
            raise ValueError(f"{path}: topic {topic.id!r} has no title or question in {', '.join(missing)}")
    return topics


@dataclass(frozen=True)
class Check:
    """What retrieval found for a suggestion: whether it is answered, and its best passages' ids."""

    answerable: bool
    passages: tuple[str, ...]


class Topics:
    """The topics for one answer engine (rag.answer.engine.AnswerEngine): its encoder for similarity,
    its retrieval and answerability decision for the check. Safe to share between requests."""

    def __init__(self, engine, topics: list[Topic] | None = None) -> None:
        self.engine = engine
        self.topics = topics if topics is not None else load()
        self._vectors: dict[str, np.ndarray] = {}
        self._checks: dict[str, Check] = {}
        self._lock = asyncio.Lock()

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Unit query vectors, [len(texts), dim]: one forward pass for a list (the topics of a language),
        the encoder's batching queue for one text (it shares passes with concurrent questions)."""
        encoder = self.engine.service.encoder
        if len(texts) == 1:
            return encoder.encode_query(texts[0])[None, :]
        return np.asarray(encoder.encode_queries(texts), dtype=np.float32)

    async def vectors(self, language: str) -> np.ndarray:
        """The topics' questions in ``language`` as unit query vectors, [n_topics, dim]."""
        if language not in self._vectors:
            texts = [t.questions[language] for t in self.topics]
            self._vectors[language] = await self.engine._run(self._encode, texts)
        return self._vectors[language]

    async def similarity(self, text: str, language: str) -> np.ndarray:
        """Cosine of ``text`` to each topic's question in ``language``, [n_topics]."""
        vectors = await self.vectors(language)
        query = await self.engine._run(self._encode, [text])
        return vectors @ query[0]

    async def check(self, question: str) -> Check:
        """Retrieval and the answerability decision for ``question``, as the engine answers it alone."""
        if question not in self._checks:
            ctx = await self.engine._retrieve(question, 5, None)
            self._checks[question] = Check(not self.engine._should_abstain(ctx),
                                           tuple(p.chunk.id for p in ctx.passages[:1]))
        return self._checks[question]

    async def title(self, question: str, language: str) -> str | None:
        """The title of the topic ``question`` is about, in ``language``; None when none is close."""
        language = language if language in LANGUAGES else "en"
        scores = await self.similarity(question, language)
        best = int(np.argmax(scores))
        return self.topics[best].title[language] if scores[best] >= TITLE else None

    async def suggestions(self, question: str, cited: tuple[str, ...] | list[str], language: str,
                          limit: int = 3) -> list[str]:
        """Up to ``limit`` questions in ``language`` that the documents answer, related to ``question``
        (answered with the passages whose ids are ``cited``) but not the same; [] when none is."""
        language = language if language in LANGUAGES else "en"
        scores = await self.similarity(question, language)
        out: list[str] = []
        checked = 0
        for i in np.argsort(-scores):
            if len(out) >= limit or scores[i] < RELATED or checked >= limit + MORE_CHECKS:
                break
            if scores[i] >= TITLE:
                continue  # the topic just asked about
            text = self.topics[i].questions[language]
            async with self._lock:  # one check at a time: tasks come in bursts after an answer
                found = await self.check(text)
            checked += 1
            if found.answerable and not set(found.passages) & set(cited):
                out.append(text)
        return out
