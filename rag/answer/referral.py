"""Refer instead of quoting: when the documents do not answer, say so and say where to ask.

The channel table is data/referrals.json (topic → official channel(s), what each does, in nl, en, tr,
ar, pl and uk; README "Referrals" says how to extend it). This module finds the question's topic and
writes the notice; it never decides *whether* to abstain (rag/answer/abstain.py does): a question
on a table topic that the documents answer is answered.

Topic: keywords first (every language's keywords count for every question: "zorgtoeslag" turns up
in English questions too); the topics with the most distinct keyword hits are the candidates, and
the question's similarity to each topic's ``describe`` text (EmbeddingGemma, the service's encoder)
picks among them. With no keyword, the most similar topic is taken when its cosine reaches
``EMBEDDING_MIN`` and leads the runner-up by ``EMBEDDING_MARGIN``; else the general pointer
(Informatie Rijksoverheid, 1400, or the gemeente). Measured on the dev set's unanswerable questions
with ``python scripts/measure_referrals.py``.

Notice texts exist for ``TEXT_LANGUAGES``; a question in another language gets English.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.config import PROJECT_ROOT
from rag.types import Referral

TABLE_PATH = PROJECT_ROOT / "data" / "referrals.json"
TEXT_LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")
EMBEDDING_MIN = 0.45  # cosine (query prompt vs document prompt) a topic needs without a keyword
EMBEDDING_MARGIN = 0.02  # and its lead over the next topic
_ARABIC = re.compile(r"[\u0600-\u06FF]")

# One notice per language: not answered; where to ask (one line per channel); the related passages. The last
# claims no shared topic: a far-off question (a library's opening hours) gets the closest passages too.
TEXTS = {
    "nl": {"own_case": "Voor uw eigen situatie: {channels}.",
           "not_answered": "De documenten van Vraagbaak geven geen antwoord op deze vraag.",
           "ask": "Waar u het kunt vragen: {channels}.",
           "general": "Weet u niet waar u met uw vraag terecht kunt? {channels}.",
           "related": "Hieronder staan de passages die er het dichtst bij komen, maar ze zijn geen antwoord op "
                      "uw vraag."},
    "en": {"own_case": "For your own situation: {channels}.",
           "not_answered": "The documents Vraagbaak searches do not answer this question.",
           "ask": "Where to ask: {channels}.",
           "general": "Not sure where to ask? {channels}.",
           "related": "Below are the passages that come closest, but they do not answer your question."},
    "tr": {"own_case": "Kendi durumunuz için: {channels}.",
           "not_answered": "Vraagbaak'ın aradığı belgeler bu soruyu yanıtlamıyor.",
           "ask": "Nereye sorabilirsiniz: {channels}.",
           "general": "Nereye soracağınızı bilmiyor musunuz? {channels}.",
           "related": "Aşağıda sorunuza en yakın pasajlar yer alıyor, ancak bunlar sorunuzun yanıtı değildir."},
    "ar": {"own_case": "بشأن وضعك الشخصي: {channels}.",
           "not_answered": "الوثائق التي يبحث فيها Vraagbaak لا تجيب عن هذا السؤال.",
           "ask": "الجهة التي يمكنك سؤالها: {channels}.",
           "general": "لا تعرف إلى من تتوجه بسؤالك؟ {channels}.",
           "related": "تجد أدناه أقرب المقاطع إلى سؤالك، لكنها لا تجيب عنه."},
    "pl": {"own_case": "W Twojej indywidualnej sprawie: {channels}.",
           "not_answered": "Dokumenty, które przeszukuje Vraagbaak, nie odpowiadają na to pytanie.",
           "ask": "Gdzie zapytać: {channels}.",
           "general": "Nie wiesz, gdzie zapytać? {channels}.",
           "related": "Poniżej znajdują się fragmenty najbliższe Twojemu pytaniu, ale nie są odpowiedzią na nie."},
    "uk": {"own_case": "Щодо вашої власної ситуації: {channels}.",
           "not_answered": "Документи, у яких шукає Vraagbaak, не відповідають на це запитання.",
           "ask": "Куди звернутися: {channels}.",
           "general": "Не знаєте, куди звернутися? {channels}.",
           "related": "Нижче наведено уривки, найближчі до вашого запитання, але вони не є відповіддю на нього."},
}


class TableError(ValueError):
    """data/referrals.json is malformed; the message lists every problem."""


@dataclass(frozen=True)
class Topic:
    topic: str
    describe: str
    refer: tuple[dict, ...]  # {"channel": id, "does": {lang: text}}
    keywords: tuple[str, ...]  # all languages together


def text_language(language: str) -> str:
    """The language the notice is written in: the asker's, when the table has it, else English."""
    return language if language in TEXT_LANGUAGES else "en"


def _problems(data: dict) -> list[str]:
    problems: list[str] = []
    channels = data.get("channels") or {}
    for cid, channel in channels.items():
        name, url = channel.get("name"), channel.get("url")
        if isinstance(name, dict):
            problems += [f"channel {cid}: no name in {lang}" for lang in TEXT_LANGUAGES if not name.get(lang)]
        elif not isinstance(name, str) or not name.strip():
            problems.append(f"channel {cid}: no name")
        if url is not None:
            parts = urlparse(url)
            if parts.scheme != "https" or not parts.netloc or parts.path not in ("", "/") or parts.query:
                problems.append(f"channel {cid}: url {url!r} is not an https address of a whole site")

    def check_refer(where: str, refer: dict) -> None:
        if refer.get("channel") not in channels:
            problems.append(f"{where}: unknown channel {refer.get('channel')!r}")
        does = refer.get("does") or {}
        problems.extend(f"{where}: no 'does' text in {lang}" for lang in TEXT_LANGUAGES if not does.get(lang))

    general = data.get("general") or {}
    check_refer("general", general)
    seen = set()
    for i, topic in enumerate(data.get("topics") or []):
        tid = topic.get("topic") or f"#{i}"
        if tid in seen:
            problems.append(f"topic {tid}: listed twice")
        seen.add(tid)
        if not (topic.get("describe") or "").strip():
            problems.append(f"topic {tid}: no 'describe' text")
        if not topic.get("refer"):
            problems.append(f"topic {tid}: no channel")
        for refer in topic.get("refer") or []:
            check_refer(f"topic {tid}", refer)
        keywords = topic.get("keywords") or {}
        problems += [f"topic {tid}: no keywords in {lang}" for lang in TEXT_LANGUAGES if not keywords.get(lang)]
        problems += [f"topic {tid}: keyword {k!r} is not lowercase" for ks in keywords.values() for k in ks
                     if k != k.lower()]
    if not seen:
        problems.append("no topics")
    return problems


def load_table(path: Path = TABLE_PATH) -> dict:
    """The channel table as a dict; raises TableError (every problem listed) or OSError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise TableError(f"{path}: not valid JSON: {exc}") from None
    problems = _problems(data)
    if problems:
        raise TableError(f"{path}: " + "; ".join(problems))
    return data


def table_urls(data: dict) -> set[str]:
    """Every url the table holds (the only urls a referral may contain)."""
    return {c["url"] for c in data["channels"].values() if c.get("url")}


def _keyword_pattern(keyword: str) -> re.Pattern:
    """A keyword at the start of a word; Arabic ones anywhere (articles and prepositions attach: ال, و, ب)."""
    return re.compile(re.escape(keyword) if _ARABIC.search(keyword) else r"(?<![^\W_])" + re.escape(keyword))


class Referrer:
    """Finds a question's topic in the table and writes the notice. Thread-safe; the topic vectors
    are embedded once (disk-cached by the encoder), on first use or by ``prepare()``."""

    def __init__(self, encoder=None, path: Path = TABLE_PATH):
        self.encoder = encoder
        self.data = load_table(path)
        self.topics = [Topic(topic=t["topic"], describe=t["describe"], refer=tuple(t["refer"]),
                             keywords=tuple(dict.fromkeys(k for ks in t["keywords"].values() for k in ks)))
                       for t in self.data["topics"]]
        self._patterns = [[(k, _keyword_pattern(k)) for k in t.keywords] for t in self.topics]
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Embed the topic descriptions now (a second or two the first time on a machine)."""
        self.vectors()

    def vectors(self) -> np.ndarray | None:
        if self.encoder is None:
            return None
        with self._lock:
            if self._vectors is None:
                self._vectors, _ = self.encoder.encode_documents([t.describe for t in self.topics], progress=False)
            return self._vectors

    def keyword_hits(self, question: str) -> list[int]:
        """Distinct keywords of each topic found in the question (lowercased), in table order."""
        text = question.lower()
        # A substring test first (cheap); the word-start pattern only for the few keywords that occur.
        return [sum(k in text and p.search(text) is not None for k, p in patterns) for patterns in self._patterns]

    def similarities(self, query_vector: np.ndarray | None) -> np.ndarray:
        vectors = self.vectors()
        if vectors is None or query_vector is None:
            return np.zeros(len(self.topics), dtype=np.float32)
        return vectors @ np.asarray(query_vector, dtype=np.float32)

    def match(self, question: str, query_vector: np.ndarray | None = None) -> tuple[Topic | None, str]:
        """(topic or None, method): "keywords", "embedding" or "general"."""
        hits = self.keyword_hits(question)
        sims = self.similarities(query_vector)
        best_hits = max(hits, default=0)
        if best_hits > 0:
            candidates = [i for i, h in enumerate(hits) if h == best_hits]
            return self.topics[max(candidates, key=lambda i: sims[i])], "keywords"
        if len(sims) and query_vector is not None:
            order = np.argsort(-sims)
            top = float(sims[order[0]])
            second = float(sims[order[1]]) if len(order) > 1 else -1.0
            if top >= EMBEDDING_MIN and top - second >= EMBEDDING_MARGIN:
                return self.topics[int(order[0])], "embedding"
        return None, "general"

    def _channel(self, refer: dict, lang: str) -> dict:
        channel = self.data["channels"][refer["channel"]]
        name = channel["name"][lang] if isinstance(channel["name"], dict) else channel["name"]
        return {"id": refer["channel"], "name": name, "url": channel.get("url"), "does": refer["does"][lang]}

    def refer(self, question: str, language: str, query_vector: np.ndarray | None = None) -> Referral:
        """The referral for an unanswered question; ``language`` is the asker's (detect_language)."""
        lang = text_language(language)
        topic, method = self.match(question, query_vector)
        refers = topic.refer if topic is not None else (self.data["general"],)
        channels = tuple(self._channel(r, lang) for r in refers)
        return Referral(topic=topic.topic if topic else None, channel=channels[0]["name"], url=channels[0]["url"],
                        language=lang, channels=channels, method=method)


def channel_lines(referral: Referral) -> str:
    """The channels as one clause: "name (url) – what it does; …"."""
    return "; ".join(c["name"] + (f" ({c['url']})" if c["url"] else "") + " – " + c["does"] for c in referral.channels)


def personal_line(referral: Referral) -> str:
    """The line an answer to a question about one's own case ends with: the documents give the policy,
    the channel decides the case ("Voor uw eigen situatie: DUO (https://duo.nl) – …."). No [n]: it is a
    referral, not a claim from the sources, and is shown apart from the answer's cited sentences."""
    return TEXTS[referral.language]["own_case"].format(channels=channel_lines(referral))


_PERSONAL_LINE = re.compile(r"(?:\n\n|^)(?:" + "|".join(re.escape(t["own_case"].split("{")[0]) for t in TEXTS.values())
                            + r")[^\n]*", re.MULTILINE)


def strip_personal_line(text: str) -> str:
    """``text`` without a ``personal_line`` (an assistant turn sent back as history holds one)."""
    return _PERSONAL_LINE.sub("", text) if text else text


def notice(referral: Referral) -> str:
    """The abstention text: not answered; where to ask; the passages shown are related, not the answer."""
    texts = TEXTS[referral.language]
    where = texts["ask" if referral.topic else "general"].format(channels=channel_lines(referral))
    return " ".join([texts["not_answered"], where, texts["related"]])
