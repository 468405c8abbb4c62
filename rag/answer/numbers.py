"""Numbers as claims: value, magnitude, unit, range order and direction, in the writer's notation.

The verifier (rag/answer/verify.py via facts.py) asks whether a sentence's numbers are what its cited
passages say. Comparing digit strings is not enough: "6,83" and "68,3" share the digits 683, "€ 20
miljard" shares 20 with "€ 20 miljoen", and "van 68,3% tot 57,1%" holds both numbers of "gestegen van
57,1% tot 68,3%". Here a number is read as a ``Quantity``:

- value: the token read in the writer's language's notation (babel's CLDR data, strict grouping: Dutch,
  Turkish, Polish, Ukrainian "68,3" = 68.3 and "1.200" = 1200; English "1,200" = 1200, "6.83" = 6.83;
  Polish/Ukrainian "1 200" = 1200; Arabic-Indic digits with "٫" and "٬"). A lone separator not followed
  by exactly three digits is a decimal mark in any language ("68,3" in an English sentence is 68.3). A
  token written exactly as a cited passage writes it (a Dutch "€ 370.000" copied into an English answer)
  also has the passage's reading: copying the source's notation is not changing its number. Number
  words become digits first (text2num, Dutch and English here: "veertig" = 40, "twintig miljoen" =
  20000000); ordinals ("2e", "3rd") are not quantities.
- magnitude, multiplied in: duizend/thousand/bin/tys./тис./ألف, miljoen/mln/million/milyon/milion/млн/
  мільйон/مليون, miljard/mld/mrd/billion/bn/milyar/miliard/млрд/мільярд/مليار, and "300K".
- unit: ``percent`` (%, ٪, procent, percent, yüzde, proc., відсот…, بالمئة), ``point`` (procentpunt,
  %-punt, percentage point, yüzde puan, punkt procentowy, відсотковий пункт, نقطة مئوية), ``euro`` (€,
  EUR, euro, avro, євро, يورو) and ``year`` (a duration: jaar, years, yıl, lat, років, سنة; not for a value
  of 1000 or more, a calendar year). In "57,1 tot 68,3%" and "20 tot 30 miljoen" the first number may
  also be read with the second's unit and magnitude.
- direction: up or down words in the same clause within a few words (gestegen/toegenomen/meer/hoger,
  gedaald/afgenomen/minder/lager, increased/decreased, more/less, arttı/azaldı, wzrósł/spadł,
  зріс/знизився, ارتفع/انخفض).
- ranges, ordered: "van X (…) tot/naar Y", "from X to Y", "X'ten Y'ye", "od/z X do Y", "від/з X до Y",
  "من X إلى Y", "X–Y".

A claimed number is supported (``NumberFacts.missing``) when the passages give the same value with the
same unit (a claim without a unit matches any); its direction word, if any, is not contradicted by every
mention of that value in the passages; a claimed range is not the reverse of one the passages state (or
of the order in which one passage sentence gives the two values); and a range with one direction word
goes that way. Why not a library for all of it: quantulum3 reads English only and averages a range
("57.1% to 68.3%" → 62.7), price-parser guesses separators ("68,3%" → 68), number-parser has no Dutch;
none keeps ranges, directions or these units in six languages. babel parses the tokens and text2num the
number words; the rest is here. Measured on data/eval/judge_pairs.jsonl (``python -m eval judges``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterable, Mapping

from babel.numbers import NumberFormatError, parse_decimal
from text_to_num import text2num

from rag.answer.sentences import split_spans

# ----------------------------------------------------------------------------------------- tokens

_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_LETTER = r"[^\W\d_]"
# A number: digits with inner separators, not glued to a letter before ("G4", "Q2" are names).
_TOKEN = re.compile(rf"(?<!{_LETTER})(?<![.,٫٬\d])\d+(?:[.,٫٬]\d+)*")
# Polish and Ukrainian group thousands with a (narrow) space: "1 200" is one number there.
_TOKEN_SPACED = re.compile(rf"(?<!{_LETTER})(?<![.,٫٬\d])\d{{1,3}}(?:[\u00a0\u202f ]\d{{3}}(?!\d))+(?:[.,٫]\d+)?"
                           rf"|{_TOKEN.pattern}")
_GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:[\u00a0\u202f ]\d{3}(?![\d.,]))+")  # Kamerstuk "32 824"
_ORDINAL = re.compile(r"(?:e|de|ste|st|nd|rd|th|-?(?:й|го|му))(?!\w)", re.IGNORECASE)
_LOCALES = {"nl": "nl", "en": "en", "tr": "tr", "pl": "pl", "uk": "uk", "ar": "en", "de": "de", "fr": "fr",
            "es": "es", "ru": "ru"}  # Arabic with Latin digits: "." decimal, "," thousands, as in English
_SPACE_GROUPED = frozenset({"pl", "uk", "fr", "ru"})

_MAGNITUDES = [
    (10**12, r"biljoen|trillions?|trilyon|bilion\w*"),
    (10**9, r"miljard|mld|mrd|billions?|bn|milyar|miliard\w*|млрд|мільярд\w*|مليارات|مليار"),
    (10**6, r"miljoen|mln|millions?|milyon|milion\w*|млн|мільйон\w*|ملايين|مليون|m"),
    (10**3, r"duizend|thousand|bin|tys|tysi[ąę]c\w*|тис|тисяч\w*|آلاف|ألف|الف|k"),
]
_UNITS = [  # after the number and its magnitude; "point" first: "%-punt" is a point, not a percent
    ("point", r"%\s*-?\s*punt(?:en)?|procentpunt(?:en)?|percentage[- ]points?|pp|p\.p\.|puan|"
              r"punkt\w*\s+procent\w*|відсотков\w*\s+пункт\w*|в\.\s?п\.|نقط\w*\s+مئوية"),
    ("percent", r"%|٪|procent|percent|per\s+cent|pct|proc\.?|відс\.|відсот\w*|بالمئة|بالمائة|في\s+الم[ئا]+ة"),
    ("euro", r"€|euro'?s?|eur|avro|євро|يورو"),
    ("year", r"jaar|jaren|years?|yrs|yıl(?:dır|lık|lik)?|lat(?:a)?|rok|років|роки|рік|سنوات|سنة|أعوام|عامًا|عاما|عام"),
]
_PREFIX_UNITS = [("point", r"yüzde\s+puan"), ("percent", r"%|٪|yüzde"), ("euro", r"€|eur")]
_MAG = re.compile(r"\s*(" + "|".join(f"(?:{p})" for _, p in _MAGNITUDES) + rf")\.?(?!{_LETTER})", re.IGNORECASE)
_UNIT = re.compile(r"\s*(?:" + "|".join(f"(?P<{u}>{p})" for u, p in _UNITS) + rf")(?!{_LETTER})", re.IGNORECASE)
_PREFIX = re.compile(r"(?:" + "|".join(f"(?P<{u}>{p})" for u, p in _PREFIX_UNITS) + r")\s*$", re.IGNORECASE)


def _magnitude(word: str) -> int:
    return next((f for f, p in _MAGNITUDES if re.fullmatch(p, word, re.IGNORECASE)), 1)


@functools.lru_cache(maxsize=16384)
def parse_token(token: str, language: str = "nl") -> Decimal | None:
    """The value of one written number in ``language``'s notation, or None when it fits none.
    "68,3" → 68.3 in any language; "1.200" → 1200 in Dutch and 1.2 in English; "٦٨٫٣" → 68.3."""
    plain = token.translate(_ARABIC_DIGITS)
    locale = _LOCALES.get(language, "nl")
    if re.search(r"[\u00a0\u202f ]", plain):
        plain = re.sub(r"[\u00a0\u202f ]", "", plain)  # _TOKEN_SPACED checked the groups
        if "." in plain:
            return None
        plain, locale = plain.replace(",", "."), "en"
    if "٫" in plain or "٬" in plain:  # the Arabic marks: decimal ٫, thousands ٬
        plain, locale = plain.replace("٬", ",").replace("٫", "."), "en"
    try:
        return parse_decimal(plain, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        pass
    parts = re.split(r"[.,]", plain)
    if len(parts) == 2 and len(parts[1]) != 3:
        return Decimal(parts[0] + "." + parts[1])  # one separator, not before three digits: a decimal mark
    return None


_NL_PART = ("een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|zestien|"
            "zeventien|achttien|negentien|twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig|honderd|"
            "duizend|en|ën")
_EN_WORD = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
            "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand")
_NUMBER_RUN = {
    # A run starts with a number word (not "en", not a magnitude: "20 miljoen en twintig miljoen").
    "nl": re.compile(rf"(?<!{_LETTER})(?!(?:en|ën)(?!{_LETTER}))(?:{_NL_PART})+(?:\s+(?:(?:{_NL_PART})+|miljoen|miljard))*"
                     rf"(?!{_LETTER})", re.IGNORECASE),
    "en": re.compile(rf"(?<!{_LETTER})(?:{_EN_WORD})(?:(?:\s+and\s+|\s+|-)(?:{_EN_WORD}|million|billion))*"
                     rf"(?!{_LETTER})", re.IGNORECASE),
}
_VERB_ACHT = re.compile(r"\s+(?:het|dit|dat|deze|die|zich|een|de|wenselijk|nodig|noodzakelijk|mogelijk)\b", re.IGNORECASE)


def _words_to_digits(text: str, language: str) -> str:
    """Number words as digits ("veertig" → "40", "twintig miljoen" → "20000000"), each run checked by
    text2num. Not: "een"/"one" (also the article), a word right after digits ("20 miljoen" stays: read
    below), the verb "acht" ("De regering acht het ...")."""
    run = _NUMBER_RUN.get(language)
    if run is None:
        return text

    def value(words: str) -> str | None:
        try:
            n = text2num(words.lower(), language)
        except ValueError:
            return None
        return None if n == 1 else str(n)

    def digits(m: re.Match) -> str:
        words = m.group(0)
        if re.search(r"\d\s*$", text[max(0, m.start() - 8):m.start()]) or (
                words.lower() == "acht" and _VERB_ACHT.match(text, m.end())):
            return words
        whole = value(words)
        if whole is not None:
            return whole
        # "twee en er komen er drie bij": not one number, so each word on its own
        return re.sub(r"\S+", lambda w: value(w.group(0)) or w.group(0), words)

    return run.sub(digits, text)


# ----------------------------------------------------------------------------------------- quantities


@dataclass(frozen=True)
class Quantity:
    """One number as a text states it. ``options``: the (value, unit) readings it may have — one as a
    rule; more for a notation copied from a passage or a unit/magnitude taken from its range partner."""

    written: str  # as written, with its magnitude and unit: "€ 20 miljoen", "68,3%"
    token: str  # the digits as written: "20", "68,3"
    options: frozenset[tuple[Decimal, str | None]]
    start: int  # in ``Reading.text``
    end: int
    directions: frozenset[str] = frozenset()  # "up" / "down" words near it
    unit: str | None = None

    @property
    def values(self) -> frozenset[Decimal]:
        return frozenset(v for v, _ in self.options)


_UP = (r"gestegen|stijg\w*|steeg|stegen|toegenomen|toename|neemt\s+toe|nam\s+toe|gegroeid|groei\w*|verhoogd|"
       r"verhoging|hoger|meer|increas\w*|rose|risen|rising|grew|grown|growth|higher|more|raised|"
       r"art(?:tı|ış|arak|mış)\w*|yüksel\w*|fazla|wzr[oó]s\w*|zwiększ\w*|więcej|"
       r"зр[іо]с\w*|збільш\w*|більше|و?ارتفع\w*|و?ارتفاع|و?زاد\w*|و?زيادة|أكثر")
_DOWN = (r"gedaald|daal\w*|daling|afgenomen|afname|neemt\s+af|nam\s+af|gekrompen|geslonken|verlaagd|verlaging|"
         r"lager|minder|verminderd|decreas\w*|fell|fallen|falling|dropped|declin\w*|lower|less|fewer|reduced|"
         r"shr[au]nk|narrowed|azal\w*|düş\w*|daha\s+az|spad\w*|spadek|zmniejsz\w*|mniej|"
         r"зниз\w*|зниж\w*|зменш\w*|скорот\w*|впа\w*|менше|و?انخفض\w*|و?انخفاض|و?تراجع\w*|أقل")
_DIRECTION = re.compile(rf"(?<!{_LETTER})(?:(?P<up>{_UP})|(?P<down>{_DOWN}))(?!{_LETTER})", re.IGNORECASE)
_SIGN = r"(?:[-–−]\s*)?"  # "van – 7,1%-punt tot – 4,8%-punt": a sign is not read, but may stand between
_FROM = re.compile(rf"(?<!{_LETTER})(?:van|vanaf|from|od|z|ze|від|з|із|من)\s+{_SIGN}$", re.IGNORECASE)
_TO = re.compile(rf"(?<!{_LETTER})(?:tot(?:\s+en\s+met)?|t/m|naar|to|until|till|do|до|إلى|الى|حتى)\s+"
                 rf"(?:(?:ca\.|circa|about|ongeveer|ruim|bijna)\s+)?{_SIGN}$", re.IGNORECASE)
_DASH = re.compile(r"\s*[-–—]\s*")
_TR_FROM = re.compile(r"['’]?[dt][ae]n(?!\w)", re.IGNORECASE)  # "%57,1'den", "2003'ten"
_TR_TO = re.compile(r"['’]?y?[ae](?!\w)", re.IGNORECASE)  # "%68,3'e", "2023'e"
_JOIN = re.compile(r"\s*(?:tot(?:\s+en\s+met)?|t/m|en|of|à|a|[-–—]|tegen|versus|vs\.?|to|and|or|ile|ve|veya|i|lub|albo|do|і|та|"
                   r"або|до|و|أو|إلى)\s*", re.IGNORECASE)
_CLAUSE = re.compile(r"[.;:!?\n]|,\s")


def _near(text: str, start: int, end: int) -> frozenset[str]:
    """Direction words in the same clause, up to about five words before or four after the number."""
    left = _CLAUSE.split(text[max(0, start - 45):start])[-1]
    right = _CLAUSE.split(text[end:end + 35])[0]
    return frozenset("up" if m.group("up") else "down" for part in (left, right) for m in _DIRECTION.finditer(part))


@dataclass
class Reading:
    """A text as read for its numbers: ``text`` (number words as digits), its quantities and ranges."""

    text: str
    quantities: list[Quantity]
    ranges: list[tuple[Quantity, Quantity]]


def read(text: str, language: str = "nl", known: Mapping[str, Decimal] | None = None) -> Reading:
    """The quantities and ranges ``text`` (in ``language``) states. ``known``: how the cited passages
    read the tokens they write (a claim that copies one verbatim may mean that)."""
    text = _words_to_digits(text or "", language)
    pattern = _TOKEN_SPACED if language in _SPACE_GROUPED else _TOKEN
    raw: list[dict] = []
    for m in pattern.finditer(text):
        token, start, end = m.group(0), m.start(), m.end()
        if _ORDINAL.match(text, end):
            continue  # "2e", "3rd", "19-го"
        value = parse_token(token, language)
        readings = {value} if value is not None else set()
        if known and token in known:
            readings.add(known[token])
        if not readings:  # "3.2.1", a misgrouped "1.20": compared as an identifier
            readings = {Decimal(re.sub(r"\D", "", token.translate(_ARABIC_DIGITS)))}
        magnitude, unit = 1, None
        mag = _MAG.match(text, end)
        if mag and not (mag.group(1).lower() in ("k", "m") and mag.start(1) != end):  # "300K", "€20m"; not "300 k…"
            magnitude, end = _magnitude(mag.group(1)), mag.end()
        if (um := _UNIT.match(text, end)) is not None:
            unit, end = um.lastgroup, um.end()
        if (pm := _PREFIX.search(text, max(0, start - 12), start)) is not None:
            unit, start = unit or pm.lastgroup, pm.start()
        if unit == "year" and any(v >= 1000 for v in readings):
            unit = None  # "2013 yılında", "w 2013 roku": a calendar year, not a duration
        raw.append({"token": token, "start": start, "end": end, "readings": readings,
                    "own": {(magnitude, unit)}, "magnitude": magnitude, "unit": unit})
    for a, b in zip(raw, raw[1:]):  # "57,1 tot 68,3%", "20 tot 30 miljoen", "€ 20 tot 30"
        if _JOIN.fullmatch(text, a["end"], b["start"]):
            if a["unit"] is None and b["unit"] is not None:
                a["own"].add((a["magnitude"], b["unit"]))
            if b["unit"] is None and a["unit"] not in (None, "year"):
                b["own"].add((b["magnitude"], a["unit"]))
            if a["magnitude"] == 1 and b["magnitude"] != 1:
                a["own"] |= {(b["magnitude"], u) for _, u in a["own"]}
    found = [Quantity(text[r["start"]:r["end"]].strip(), r["token"],
                      frozenset((v * f, u) for v in r["readings"] for f, u in r["own"]),
                      r["start"], r["end"], _near(text, r["start"], r["end"]), r["unit"]) for r in raw]
    return Reading(text, found, _ranges(text, found, language))


def _ranges(text: str, found: list[Quantity], language: str) -> list[tuple[Quantity, Quantity]]:
    """Ordered (from, to) pairs: "van X … tot Y" (the first number after the nearest "van"), "X–Y",
    Turkish "X'ten … Y'ye"."""
    pairs = []
    for i in range(1, len(found)):
        a, b = found[i - 1], found[i]
        if _DASH.fullmatch(text, a.end, b.start):
            pairs.append((a, b))
            continue
        if _TO.search(text, a.end, b.start) is not None:
            for q in reversed(found[:i]):
                if b.start - q.end > 90:
                    break
                if _FROM.search(text, max(0, q.start - 12), q.start):
                    pairs.append((q, b))
                    break
        elif language == "tr" and _TR_TO.match(text, b.end):
            start = next((q for q in reversed(found[:i]) if _TR_FROM.match(text, q.end)), None)
            if start is not None and b.start - start.end < 80:
                pairs.append((start, b))
    return pairs


# ----------------------------------------------------------------------------------------- what passages offer


@dataclass
class NumberFacts:
    """The numbers passages state: each value with the units it is given with (None: bare), the
    directions said near each mention, the ranges (from → to), and which value precedes which within
    one sentence. ``tokens``: each written token's value, for claims that copy the notation."""

    units: dict[Decimal, set] = field(default_factory=dict)
    directions: dict[Decimal, list[frozenset[str]]] = field(default_factory=dict)
    pairs: set[tuple[Decimal, Decimal]] = field(default_factory=set)
    before: set[tuple[Decimal, Decimal]] = field(default_factory=set)
    tokens: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def of(cls, text: str, language: str = "nl") -> "NumberFacts":
        facts = cls()
        reading = read(text, language)
        for q in reading.quantities:
            for value, unit in q.options:
                facts.units.setdefault(value, set()).add(unit)
                facts.directions.setdefault(value, []).append(q.directions)
            if (value := parse_token(q.token, language)) is not None:
                facts.tokens.setdefault(q.token, value)
        for m in _GROUPED.finditer(reading.text):  # "32 824" read as one number, as Polish writes it
            facts.units.setdefault(Decimal(re.sub(r"\D", "", m.group(0))), set()).add(None)
        for a, b in reading.ranges:
            facts.pairs |= {(x, y) for x in a.values for y in b.values}
        for span in split_spans(reading.text):
            inside = [q for q in reading.quantities if span.start <= q.start < span.end]
            for i, a in enumerate(inside):
                facts.before |= {(x, y) for b in inside[i + 1:] for x in a.values for y in b.values if x != y}
        return facts

    @classmethod
    def union(cls, many: Iterable["NumberFacts"]) -> "NumberFacts":
        out = cls()
        for f in many:
            for value, units in f.units.items():
                out.units.setdefault(value, set()).update(units)
            for value, dirs in f.directions.items():
                out.directions.setdefault(value, []).extend(dirs)
            out.pairs |= f.pairs
            out.before |= f.before
            for token, value in f.tokens.items():
                out.tokens.setdefault(token, value)
        return out

    def has(self, q: Quantity) -> bool:
        """Do the passages give ``q``'s value, with its unit if it has one?"""
        return any(v in self.units and (u is None or u in self.units[v]) for v, u in q.options)

    def _direction_ok(self, q: Quantity) -> bool:
        """A direction word next to a claimed number must not be contradicted by every passage mention.
        Not for a calendar year: "in 2023 gedaald" says when, not what went down."""
        if q.unit is None and all(v == v.to_integral_value() and 1900 <= v <= 2100 for v in q.values):
            return True
        mentions = [d for v in q.values for d in self.directions.get(v, ())]
        return not q.directions or not mentions or any(not d or d & q.directions for d in mentions)

    def missing(self, sentence: str, language: str = "nl") -> list[str]:
        """What ``sentence`` (in ``language``) says with numbers that these facts do not support, one
        reason each: "number 6,83", "unit of 68,3 procentpunt", "direction (gedaald) of 57,1%",
        "range 68,3% … 57,1% reversed"."""
        reading = read(sentence, language, self.tokens)
        out: list[str] = []
        for q in reading.quantities:
            if not self.has(q):
                out.append(f"unit of {q.written}" if q.values & self.units.keys() else f"number {q.written}")
            elif not self._direction_ok(q):
                out.append(f"direction ({_direction_word(reading.text, q)}) of {q.written}")
        for a, b in reading.ranges:
            combos = {(x, y) for x in a.values for y in b.values if x != y}
            if not combos or combos & self.pairs:
                continue
            if any((y, x) in self.pairs or ((y, x) in self.before and (x, y) not in self.before) for x, y in combos):
                out.append(f"range {a.written} … {b.written} reversed")
            elif len(dirs := a.directions | b.directions) == 1 and a.unit == b.unit and len(combos) == 1:
                x, y = next(iter(combos))
                if ("up" in dirs) != (y > x):
                    out.append(f"direction ({_direction_word(reading.text, b)}) of {a.written} … {b.written}")
        return list(dict.fromkeys(out))


def _direction_word(text: str, q: Quantity) -> str:
    m = _DIRECTION.search(text, max(0, q.start - 45), q.end + 35)
    return m.group(0) if m else "?"


def number_values(text: str, language: str = "nl") -> set[str]:
    """Every value ``text`` states, as plain decimal strings ("€ 20 miljoen" → "20000000", "3,5" → "3.5")."""
    return {_canon(v) for q in read(text, language).quantities for v in q.values}


def has_number(text: str, language: str = "nl") -> bool:
    return bool(read(text, language).quantities)


def _canon(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
