"""A document's date from its own text, when the manifest does not give one.

Runs at load (rag/ingest/corpus.py) on the text as read, before parsing: the parser removes exactly the
lines that carry a date (the letterhead's ``Datum 5 maart 2013``, ``Den Haag, 21 november 2024``, and
the running footer ``Tweede Kamer, vergaderjaar 2024–2025, 32 824, nr. 451 26``). Every reader (text,
PDF, HTML, XML) yields such a text, so the rules hold for any format. In order:

1. **A date line** — ``Datum 5 maart 2013``, ``Den Haag, 21 november 2024``, ``'s-Gravenhage, …``
   near the top: the document's own date (``date_source="text"``).
2. **A parliamentary session** — the document's ``vergaderjaar 2024–2025`` (the one its page footers
   repeat most often; a footnote citing another year's Kamerstuk is not it) runs from September 2024 to
   September 2025. The latest date the text mentions as past inside that session raises the lower
   bound: 004 mentions "op 1 maart 2025 van kracht werd", so it is from March 2025 or later
   (``date_bound="2025-03"``, ``date_source="derived-bound"``). ``date`` is the year when both bounds
   lie in one year ("2025"), else None.
3. **Only mentions** — the latest date the text mentions as past is a lower bound; no ``date``.

A mention counts as past when its sentence says so (a past or perfect verb, "jl.", "sinds", or a
source cited as "(KIS, februari 2025)") and does not look ahead ("zal", "gepland", "naar verwachting",
"aanstaande", "vóór", "vanaf" …): 001 of 5 March 2013 mentions the debate "gepland op 6 maart 2013",
and Dutch states plans in the present tense ("U ontvangt in januari 2014 …").
Only day- and month-precise mentions count ("medio 2025", "eind 2025" are plans, not evidence).

Manifest (or sidecar) values always win: a given ``date`` is kept and marked ``date_source="manifest"``.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections import Counter
from dataclasses import dataclass, replace

from rag.types import DocumentMeta

log = logging.getLogger("vraagbaak.ingest")

MONTHS = {name: i for i, names in enumerate((
    ("januari", "jan"), ("februari", "feb", "febr"), ("maart", "mrt", "mar"), ("april", "apr"), ("mei",),
    ("juni", "jun"), ("juli", "jul"), ("augustus", "aug"), ("september", "sep", "sept"), ("oktober", "okt", "oct"),
    ("november", "nov"), ("december", "dec")), start=1) for name in names}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY_DATE = re.compile(r"\b(?P<day>[0-3]?\d)\s+" + _MONTH + r"\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)
_MONTH_DATE = re.compile(r"(?<![\d\w])" + _MONTH + r"\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE)
_DATE_LINE = re.compile(r"^\s*(?:Datum\s*:?|Dagtekening\s*:?|(?:Den Haag|'s-Gravenhage|’s-Gravenhage),)\s*"
                        r"(?P<day>[0-3]?\d)\s+" + _MONTH + r"\s+(?P<year>(?:19|20)\d\d)\s*$",
                        re.IGNORECASE | re.MULTILINE)
_SESSION = re.compile(r"vergaderjaar\s+((?:19|20)\d\d)\s*[–—/-]\s*((?:19|20)\d\d)", re.IGNORECASE)
# Words that put a mentioned date in the future (a plan, a deadline) rather than the past.
_AHEAD = re.compile(r"\b(?:zal|zullen|zult|gaat|gaan|gepland|planning|verwacht\w*|voornemens|aanstaande|a\.s\.|"
                    r"komende?|volgende?|uiterlijk|streven|streeft|beoogd\w*)\b|vóór", re.IGNORECASE)
_BEFORE_DATE = re.compile(r"\b(?:voor|vóór|vanaf|per|tot|na|uiterlijk)(?:\s+(?:begin|eind|half|medio|midden))?\s*$",
                          re.IGNORECASE)
# Dutch uses the present tense for plans ("U ontvangt in januari 2014 …"), so a mention counts as past
# only on positive evidence: a past or perfect verb, "jl.", "sinds", or a source citation "(KIS, februari 2025)".
_PAST = re.compile(r"\b(?:werd|werden|was|waren|had|hadden|heeft|hebben|heb|vond|vonden|verscheen|verschenen|"
                   r"kwam|kwamen|stuurde|stuurden|ontving|ontvingen|sinds|jl\.|j\.l\.|afgelopen)\b"
                   r"|\b(?:is|zijn)\b[^.]{0,80}\bge\w{3,}[dt]\b",  # passive perfect: "is … geïnformeerd"
                   re.IGNORECASE)
_CITED_IN_BRACKETS = re.compile(r"\([^()]{0,80},\s*$")
_SENTENCE_END = re.compile(r"[.!?]\s|\n\s*\n")
DATE_LINE_LINES = 60  # a letter's date line stands in its letterhead, near the top
SESSION_START_MONTH = 9  # a Dutch parliamentary session opens on the third Tuesday of September
DATING_VERSION = "1"  # part of the index manifest: a change here rebuilds the index (the metadata change)


@dataclass(frozen=True)
class Mention:
    """A date the text mentions: ISO (``YYYY-MM-DD`` or ``YYYY-MM``) and where it stands."""

    iso: str
    start: int
    past: bool  # not announced as a plan or deadline


@dataclass(frozen=True)
class Derived:
    """A date read from the text: ``date`` (ISO, possibly partial, or None), ``bound`` (not before:
    ISO month), ``source`` ("text" | "derived-bound") and ``basis`` (what it rests on, for the log)."""

    date: str | None
    bound: str | None
    source: str
    basis: str


def _iso(m: re.Match) -> str | None:
    month = MONTHS[m.group("month").lower()]
    year = int(m.group("year"))
    if "day" in m.groupdict() and m.group("day"):
        day = int(m.group("day"))
        if not 1 <= day <= calendar.monthrange(year, month)[1]:
            return None
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}"


def _sentence_before(text: str, start: int) -> str:
    """The part of the sentence before ``start`` (back to the last sentence end)."""
    head = text[max(0, start - 300):start]
    ends = list(_SENTENCE_END.finditer(head))
    return head[ends[-1].end():] if ends else head


def _sentence_after(text: str, end: int) -> str:
    tail = text[end:end + 200]
    m = _SENTENCE_END.search(tail)
    return tail[:m.start()] if m else tail


def mentions(text: str) -> list[Mention]:
    """Every day- or month-precise Dutch date in ``text`` ("1 maart 2025", "februari 2025"), in order."""
    out: list[Mention] = []
    taken: list[tuple[int, int]] = []
    for rx in (_DAY_DATE, _MONTH_DATE):
        for m in rx.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue  # "maart 2025" inside "1 maart 2025"
            iso = _iso(m)
            if iso is None:
                continue
            taken.append((m.start(), m.end()))
            before, after = _sentence_before(text, m.start()), _sentence_after(text, m.end())
            ahead = _AHEAD.search(before) or _AHEAD.search(after) or _BEFORE_DATE.search(before)
            cited = _CITED_IN_BRACKETS.search(before) and text[m.end():m.end() + 1] == ")"
            past = not ahead and bool(cited or _PAST.search(f"{before} {m.group(0)} {after}"))
            out.append(Mention(iso, m.start(), past))
    return sorted(out, key=lambda x: x.start)


def letter_date(text: str) -> str | None:
    """The date of a letter's date line near the top ("Datum 5 maart 2013" → "2013-03-05"), or None."""
    head = "\n".join(text.splitlines()[:DATE_LINE_LINES])
    for m in _DATE_LINE.finditer(head):
        iso = _iso(m)
        if iso:
            return iso
    return None


def session(text: str) -> tuple[int, int] | None:
    """The document's own parliamentary session (vergaderjaar): the one it names most often, the later
    one on a tie (a document may cite earlier sessions' papers, never later ones)."""
    counts = Counter((int(a), int(b)) for a, b in _SESSION.findall(text) if int(b) == int(a) + 1)
    if not counts:
        return None
    return max(counts, key=lambda s: (counts[s], s))


def _month(iso: str) -> str:
    return iso[:7]


def derive(text: str) -> Derived | None:
    """The most precise date the text supports (see the module docstring), or None when it names none."""
    exact = letter_date(text)
    if exact:
        return Derived(exact, None, "text", f"date line {exact}")
    found = [m for m in mentions(text) if m.past]
    years = session(text)
    if years:
        first = f"{years[0]:04d}-{SESSION_START_MONTH:02d}"
        last = f"{years[1]:04d}-{SESSION_START_MONTH:02d}"
        inside = [m.iso for m in found if first <= _month(m.iso) <= last]
        bound = max([first] + [_month(i) for i in inside])
        date = bound[:4] if bound[:4] == last[:4] else None  # the year, when both bounds lie in it
        basis = f"vergaderjaar {years[0]}–{years[1]}" + (f"; latest date in the text {max(inside)}" if inside else "")
        return Derived(date, bound, "derived-bound", basis)
    if found:
        latest = max(m.iso for m in found)
        return Derived(None, _month(latest), "derived-bound", f"latest date in the text {latest}")
    return None


def dated(meta: DocumentMeta, text: str) -> DocumentMeta:
    """``meta`` with its date's provenance: a given date (``date_source="manifest"``, or ``"document"`` when
    a format reader took it from the file's own metadata, ``meta.derived``),
    else the date derived from ``text`` (``"text"`` or ``"derived-bound"`` with ``date_bound``), else as is."""
    if meta.date:  # given: by the manifest or sidecar, or read from the file's own metadata (formats/)
        source = "document" if "date" in (meta.derived or {}) else "manifest"
        return meta if meta.date_source else replace(meta, date_source=source)
    got = derive(text)
    if got is None:
        return meta
    log.info("dated %s from its text: %s (%s)", meta.id, got.date or f"not before {got.bound}", got.basis)
    return replace(meta, date=got.date, date_source=got.source, date_bound=got.bound)
