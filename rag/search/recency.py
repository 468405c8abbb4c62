"""When a question is about: the present (most questions, said or not) or a named past time.

``frame(question)`` reads the question's time (nl, en, tr, ar, pl, uk):

* a **past time**: a year ("in 2013", "2013'te", "w 2013 roku") or a word for back then ("toen",
  "destijds", "toenmalige", "back then", "at the time", "wtedy", "тоді", "آنذاك"). A year after
  "sinds"/"since"/"od"/"з"/"منذ"/"beri" starts a period that runs to now: that question is about the present.
* else the **present**: explicitly ("nu", "nog steeds", "huidige", "currently", "şu anda", "obecnie",
  "зараз", "حالياً" …) or implicitly — a citizen asks about today without saying so.

``prior(...)`` turns the frame into a per-candidate relevance bonus for the extractive answer
(rag/answer/extractive.py ``compose``): on a present question the newer a candidate's document, the
larger its bonus, so that of two statements on the same matter the newest leads; on a question about a
named year, statements from that year get it. Weights measured on data/eval/now_dev.jsonl and dev
(``scripts/measure_recency.py``); retrieval itself is untouched (its ranking is relevance only).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import numpy as np

from rag.search.stores.base import period
from rag.types import DocumentMeta

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
# A year that opens a period running to now ("sinds 2013", "since 2013", "2013'ten beri", "od 2013").
_SINCE = re.compile(r"(?:\b(?:sinds|sedert|vanaf|since|from|od|від|з|із|starting)\s+(?:\w+\s+){0,2}$|منذ\s*(?:عام\s*)?$)",
                    re.IGNORECASE)
_SINCE_AFTER = re.compile(r"^['’]?(?:\w{0,3}\s+)?(?:beri|itibaren)\b", re.IGNORECASE)
_PAST_WORDS = re.compile(
    r"(?<![\w-])(?:toen|destijds|toenmalige?|vroeger|in die tijd|in het verleden|oorspronkelijk|"
    r"back then|at the time|in those days|formerly|originally|the then|used to|"
    r"o zaman|o dönemde?|o sırada|eskiden|o yıllarda|"
    r"wtedy|w tamtym czasie|dawniej|ówczesn\w*|"
    r"тоді|на той час|у той час|колишн\w*|тодішн\w*|"
    r"آنذاك|في ذلك الوقت|في ذلك الحين|وقتها)(?![\w-])", re.IGNORECASE)
_PRESENT_WORDS = re.compile(
    r"(?<![\w-])(?:nu|nog|nog steeds|nog altijd|tegenwoordig|huidige?|momenteel|op dit moment|actuele?|vandaag|"
    r"inmiddels|anno \d{4}|"
    r"now|still|currently|current|today|these days|at present|nowadays|"
    r"şu anda|şu an|şimdi|hâlâ|hala|halen|güncel|mevcut|bugün|günümüzde|"
    r"obecnie|teraz|nadal|wciąż|aktualn\w*|obecn\w*|dzisiaj|dziś|"
    r"зараз|тепер|досі|нині|наразі|поточн\w*|сьогодні|сучасн\w*|"
    r"حالياً|حاليا|الآن|الحالي|الحالية|اليوم|لا يزال|ما زال)(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True)
class TimeFrame:
    """The question's time: ``present`` (about now), ``explicit`` (it says so), ``years`` (a named past
    time's years, empty when the past is named without a year)."""

    present: bool
    explicit: bool = False
    years: tuple[int, ...] = ()

    @property
    def past(self) -> bool:
        return not self.present


def frame(question: str, today: datetime.date | None = None) -> TimeFrame:
    """The time a question is about (see the module docstring)."""
    text = question or ""
    this_year = (today or datetime.date.today()).year
    years = []
    for m in _YEAR.finditer(text):
        year = int(m.group(1))
        if year > this_year or _SINCE.search(text[:m.start()]) or _SINCE_AFTER.match(text[m.end():]):
            continue  # a future year, or a period that runs to now
        years.append(year)
    if years:
        return TimeFrame(present=False, years=tuple(sorted(set(years))))
    if _PAST_WORDS.search(text):
        return TimeFrame(present=False)
    return TimeFrame(present=True, explicit=bool(_PRESENT_WORDS.search(text)))


def span(meta: DocumentMeta | None) -> tuple[str, str] | None:
    """(first day, last day) the document's date allows, ISO; None when it has no date at all.
    A ``date_bound`` raises the first day ("2025" not before "2025-03" → 2025-03-01 … 2025-12-31)."""
    if meta is None or not (meta.date or meta.date_bound):
        return None
    first, last = period(meta.date) if meta.date else ("0001-01-01", "9999-12-31")
    if meta.date_bound:
        first = max(first, period(meta.date_bound)[0])
        if not meta.date:
            last = "9999-12-31"
    return first, last


def date_key(meta: DocumentMeta | None) -> str | None:
    """The day a document is placed at when sources are ordered by time: the middle of what its date
    allows ("2013" → 2013-07-02; "2025" not before March → 2025-08-01); the bound for an open range."""
    s = span(meta)
    if s is None:
        return None
    if s[1].startswith("9999"):
        return s[0]
    a, b = datetime.date.fromisoformat(s[0]), datetime.date.fromisoformat(s[1])
    return (a + (b - a) / 2).isoformat()


def keys(passages) -> list[str | None]:
    """Each passage's place in time (``date_key``), None when undated."""
    return [date_key(p.document) for p in passages]


def newness(passages) -> np.ndarray:
    """Per passage, 0 (the oldest dated one) … 1 (the newest), linear in time; 0.5 for an undated one;
    all 0 when the passages are all from one time."""
    found = keys(passages)
    days = [datetime.date.fromisoformat(k).toordinal() if k else None for k in found]
    known = [d for d in days if d is not None]
    if not known or max(known) == min(known):
        return np.zeros(len(passages), dtype=np.float32)
    lo, hi = min(known), max(known)
    return np.array([0.5 if d is None else (d - lo) / (hi - lo) for d in days], dtype=np.float32)


def in_years(passages, years: tuple[int, ...]) -> np.ndarray:
    """1 for a passage whose document's date lies in one of ``years``, else 0."""
    out = []
    for p in passages:
        s = span(p.document)
        out.append(float(bool(s) and any(s[0][:4] <= str(y) <= s[1][:4] for y in years)))
    return np.array(out, dtype=np.float32)


@dataclass(frozen=True)
class RecencyConfig:
    """Bonus weights in cosine points (measured: module docstring)."""

    present: float = 0.06  # × newness, on a question about the present
    past_year: float = 0.06  # for a document from the named year, on a question about a past year


CONFIG = RecencyConfig()


def prior(sources: list[int], passages, time: TimeFrame, config: RecencyConfig = CONFIG) -> np.ndarray:
    """The relevance bonus of candidates from the given (1-based) ``sources`` of ``passages``."""
    idx = np.asarray(sources, dtype=int) - 1
    if time.present:
        per_passage = config.present * newness(passages)
    elif time.years:
        per_passage = config.past_year * in_years(passages, time.years)
    else:
        per_passage = np.zeros(len(passages), dtype=np.float32)
    return per_passage[idx] if len(idx) else np.zeros(0, dtype=np.float32)
