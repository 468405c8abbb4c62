"""Does a chat question depend on the conversation, and what should be searched for it?

    resolve(question, history) -> Resolution(query, dependent, reason, previous, language)

A follow-up is a question that cannot be understood without the previous turn, whatever its length:
"En wat kwam ervoor in de plaats?", "and in 2024?", "waarom?", "Wanneer is de wet ingetrokken?",
"Geldt die regeling ook voor mensen die al tien jaar hier wonen?". A question that names its own
subject ("What does the government do against discrimination in hiring?") is answered on its own,
after any conversation, exactly as in a new chat.

The signs of dependence are read from the words (rag/answer/followup_signs.py: no subject of its own,
a lead word before a fragment, a demonstrative or pronoun that points back, an ordinal naming a listed
item, a definite common noun, how specific its words are) and weighed by a logistic model whose
weights are plain JSON (data/followup_model.json, fitted by scripts/train_followups.py on the labelled
sets in data/eval/, with its cross-validated precision and recall). The languages are those of the
question and of the previous user turn (lingua, rag/answer/language.py), so "I w 2024?" after a
Polish turn is read as Polish.

A dependent question is searched as the previous question resolved the same way, followed by the new
one; one that only names a time ("and in 2024?") is searched as the previous question with its years
replaced by the new ones. A standalone question is searched as it is.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass

from rag.answer.followup_signs import LANGUAGES, Signs, signs
from rag.answer.language import detect_language
from rag.config import PROJECT_ROOT

__all__ = ["MODEL_PATH", "Resolution", "Signs", "judge", "probability", "resolve", "signs"]

MODEL_PATH = PROJECT_ROOT / "data" / "followup_model.json"
MAX_PREVIOUS_CHARS = 300  # of the previous question, in a dependent question's search text
MAX_DEPTH = 4  # earlier user turns followed back when the previous question was itself a follow-up
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_REASONS = {"no_content": "subject", "common": "subject", "words": "subject"}  # feature -> reason


@dataclass(frozen=True)
class Resolution:
    """What to search for a chat question. ``query``: the text retrieval and the answerability
    decision see; ``dependent``: whether the question needs the previous turn; ``reason``: the sign
    that weighed most ("subject", "time", "lead", "points", "pronoun", "ordinal", "definite"; or
    "standalone"/"no history"); ``previous``: the previous user question as resolved (empty without
    one); ``language``: the conversation's language for a dependent question, else the question's
    (ISO 639-1)."""

    query: str
    dependent: bool
    reason: str
    previous: str = ""
    language: str = "nl"


@functools.lru_cache(maxsize=1)
def _model() -> dict:
    """data/followup_model.json: {"weights": {feature: w}, "bias": b, "threshold": t, ...}."""
    return json.loads(MODEL_PATH.read_text(encoding="utf-8"))


def probability(features: dict[str, float], model: dict | None = None) -> float:
    """P(dependent) for :meth:`Signs.features` under the logistic ``model`` (default: the fitted one)."""
    model = model or _model()
    z = model["bias"] + sum(w * features.get(k, 0.0) for k, w in model["weights"].items())
    return 1.0 / (1.0 + math.exp(-z))


def judge(question: str, languages: tuple[str, ...], history: str = "", previous: str = "") -> tuple[bool, str]:
    """(dependent, reason) for ``question`` asked after a conversation whose text is ``history`` and
    whose last user turn is ``previous``, read in ``languages`` (ISO 639-1, the question's first)."""
    s = signs(question, languages, history, previous)
    features = s.features()
    model = _model()
    if probability(features, model) < model["threshold"]:
        return False, "standalone"
    if not s.content and s.time and not s.wh:
        return True, "time"
    name = max(features, key=lambda k: model["weights"].get(k, 0.0) * features[k])
    return True, _REASONS.get(name, name)


def _user_turns(history: list[dict] | None) -> list[str]:
    out = []
    for message in history or ():
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            if isinstance(content, str) and content.strip():
                out.append(" ".join(content.split()))
    return out


def _languages(question: str, previous: str) -> tuple[str, ...]:
    """The question's language, then the previous turn's. A question in Arabic or Cyrillic script is
    read as Arabic or Ukrainian even when a Dutch term in it sways the identifier."""
    found = []
    for text in (question, previous):
        arabic, cyrillic = (len(re.findall(rf"(?:^|\s)[{s}]", text)) for s in ("\u0600-\u06ff", "\u0400-\u04ff"))
        latin = len(re.findall(r"(?:^|\s)[A-Za-z]", text))  # words, by the script they start with
        if max(arabic, cyrillic) > latin:
            language = "ar" if arabic > cyrillic else "uk"
        else:
            language = detect_language(text, fallback="")
            language = language if language in LANGUAGES else ("en" if language else "")
        if language and language not in found:
            found.append(language)
    return tuple(found) or ("nl",)


def _with_time(previous: str, question: str) -> str:
    """The previous question asked for the new time: its years replaced by the question's, or the
    question appended when either has no year."""
    years = _YEAR.findall(question)
    if years and _YEAR.search(previous):
        it = iter(years + [years[-1]] * 8)
        return _YEAR.sub(lambda m: next(it), previous)
    return f"{previous} {question}"


def resolve(question: str, history: list[dict] | None, *, _depth: int = 0) -> Resolution:
    """The search text for ``question`` after ``history`` (OpenAI-style messages, oldest first;
    only user turns are read). Never raises; 1–3 ms (two language identifications, word lookups; the
    first call in a process loads the word lists, ~0.5 s)."""
    asked = question or ""
    question = " ".join(asked.split())
    turns = _user_turns(history)
    if not turns:
        return Resolution(asked, False, "no history", "", detect_language(asked))
    previous_turn = turns[-1]
    languages = _languages(question, previous_turn)
    text = " ".join(str(m.get("content") or "") for m in history or () if isinstance(m, dict))
    dependent, reason = judge(question, languages, text, previous_turn)
    if not dependent:  # searched exactly as in a new chat
        return Resolution(asked, False, reason, "", detect_language(asked))
    earlier = [{"role": "user", "content": t} for t in turns[:-1]]
    previous = previous_turn
    if _depth < MAX_DEPTH and earlier:
        previous = resolve(previous_turn, earlier, _depth=_depth + 1).query
    previous = previous[-MAX_PREVIOUS_CHARS:] if len(previous) > MAX_PREVIOUS_CHARS else previous
    query = _with_time(previous, question) if reason == "time" else f"{previous} {question}"
    return Resolution(query, True, reason, previous, detect_language(f"{question} {previous_turn}"))
