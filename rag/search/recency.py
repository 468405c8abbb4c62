"""When a question is about: the present (most questions, said or not) or a named past time.

``frame(question)`` reads the question's time (nl, en, tr, ar, pl, uk):

* a **past time**: a year ("in 2013", "2013'te", "w 2013 roku"), a word for back then ("toen",
  "destijds", "toenmalige", "back then", "at the time", "wtedy", "тоді", "آنذاك"), or a Dutch or English
  question in the simple past ("Hoe wilde de regering …", "What did …") without a word for now. A year after
  "sinds"/"since"/"od"/"з"/"منذ"/"beri" starts a period that runs to now: that question is about the present.
* else the **present**: explicitly ("nu", "nog steeds", "huidige", "currently", "şu anda", "obecnie",
  "зараз", "حالياً" …) or implicitly — a citizen asks about today without saying so.

``date_key(meta)`` places a document in time (the middle of what its possibly partial, possibly bounded
date allows), so sources can be ordered; ``span(meta)`` gives the first and last day it allows.
What the answer does with the frame: rag/answer/newest.py and rag/answer/timing.py. Retrieval itself is
untouched (its ranking is relevance only).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

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
# A question in the simple past asks about then ("Hoe wilde de regering …", "What did the minister say …");
# the present perfect ("Waarom is de WOM ingetrokken?") asks about what still holds, and stays present.
_PAST_TENSE = re.compile(
    r"(?<![\w-])(?:wilde|wilden|werd|werden|was|waren|had|hadden|deed|deden|kwam|kwamen|zei|zeiden|stuurde|"
    r"stuurden|ging|gingen|moest|moesten|kon|konden|besloot|besloten|"
    r"did|was|were|had|said|wanted|decided|planned)(?![\w-])", re.IGNORECASE)
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


_SENTENCE = re.compile(r"[^.!?؟]+[.!?؟]*")


def asking_part(text: str) -> str:
    """The sentences that ask ("… ?"), or the last sentence: a citizen's own story before the question
    ("Ik ben in juli 2024 naar Nederland verhuisd. Moet ik …?") does not set the question's time."""
    sentences = [m.group(0).strip() for m in _SENTENCE.finditer(text or "") if m.group(0).strip()]
    asked = [s for s in sentences if s.endswith(("?", "؟"))]
    return " ".join(asked) if asked else (sentences[-1] if sentences else "")


def frame(question: str, today: datetime.date | None = None) -> TimeFrame:
    """The time a question is about (see the module docstring), read from its asking part."""
    text = asking_part(question)
    this_year = (today or datetime.date.today()).year
    years = []
    for m in _YEAR.finditer(text):
        year = int(m.group(1))
        if year > this_year or _SINCE.search(text[:m.start()]) or _SINCE_AFTER.match(text[m.end():]):
            continue  # a future year, or a period that runs to now
        years.append(year)
    if years:
        return TimeFrame(present=False, years=tuple(sorted(set(years))))
    explicit = bool(_PRESENT_WORDS.search(text))
    if _PAST_WORDS.search(text) or (_PAST_TENSE.search(text) and not explicit):
        return TimeFrame(present=False)
    return TimeFrame(present=True, explicit=explicit)


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
    allows ("2013" → 2013-07-02; "2025" not before March → 2025-07-31); the bound for an open range."""
    s = span(meta)
    if s is None:
        return None
    if s[1].startswith("9999"):
        return s[0]
    a, b = datetime.date.fromisoformat(s[0]), datetime.date.fromisoformat(s[1])
    return (a + (b - a) / 2).isoformat()
