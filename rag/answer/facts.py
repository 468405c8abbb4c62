"""Facts a sentence states and a passage offers: numbers, calendar dates and names.

The hard part of verification (rag/answer/verify.py): a stated number, date or name must occur in what
a sentence cites. Numbers are read as quantities (value, magnitude, unit, range, direction) by
rag/answer/numbers.py. Also the corpus lexicon (its proper names and how common each stem is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from rag.answer.numbers import NumberFacts
from rag.answer.sentences import split_spans
from rag.search.lexical import Analyzer

# Facts: names (numbers: rag/answer/numbers.py)

WORDS = re.compile(r"[^\W\d_][\w'’&-]*", re.UNICODE)
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]*[A-Z0-9]$")  # WOM, SZW, G4, VNO-NCW's parts
# Capitalised words that are not names in an answer (addressees, months, generic government words).
COMMON_CAPITALISED = frozenset("""
nederland nederlands nederlandse nederlanders kamer tweede eerste rijk kabinet minister ministerie ministers
staatssecretaris regering overheid grondwet vraag antwoord bron bronnen
januari februari maart april mei juni juli augustus september oktober november december
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
""".split())


_MONTHS = {m: i for i, names_ in enumerate((
    "januari january jan", "februari february feb", "maart march mrt mar", "april apr", "mei may",
    "juni june jun", "juli july jul", "augustus august aug", "september sept sep", "oktober october okt oct",
    "november nov", "december dec"), start=1) for m in names_.split()}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH})\.?\b(?:\s+(\d{{4}}))?", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{4}})\b", re.IGNORECASE)


def dates(text: str) -> list[tuple[str, tuple]]:
    """(as written, fact) for each calendar date: ("day", day, month) for "19 december (2013)" or
    "December 19, 2013"; ("month", month, year) for "december 2013". The numbers in a date are also
    checked one by one; this catches a day moved to another month ("19 november" for "19 december")."""
    out: list[tuple[str, tuple]] = []
    taken: list[tuple[int, int]] = []
    for m in _DAY_MONTH.finditer(text):
        out.append((m.group(0), ("day", int(m.group(1)), _MONTHS[m.group(2).lower()])))
        taken.append(m.span())
    for m in _MONTH_DAY.finditer(text):
        if not any(a <= m.start() < b for a, b in taken) and int(m.group(2)) <= 31:
            out.append((m.group(0), ("day", int(m.group(2)), _MONTHS[m.group(1).lower()])))
            taken.append(m.span())
    for m in _MONTH_YEAR.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            out.append((m.group(0), ("month", _MONTHS[m.group(1).lower()], int(m.group(2)))))
    return out


def date_facts(text: str) -> set[tuple]:
    """Every date fact a text offers: a full date also offers its month and year."""
    facts = set()
    for m in _DAY_MONTH.finditer(text):
        month = _MONTHS[m.group(2).lower()]
        facts.add(("day", int(m.group(1)), month))
        if m.group(3):
            facts.add(("month", month, int(m.group(3))))
    for m in _MONTH_DAY.finditer(text):
        month = _MONTHS[m.group(1).lower()]
        facts.add(("day", int(m.group(2)), month))
        if m.group(3):
            facts.add(("month", month, int(m.group(3))))
    for m in _MONTH_YEAR.finditer(text):
        facts.add(("month", _MONTHS[m.group(1).lower()], int(m.group(2))))
    return facts


class CorpusLexicon:
    """What the verifier knows about the corpus as a whole: its proper names (words written
    capitalised mid-sentence and never in lowercase) and how common each word stem is."""

    def __init__(self, names: Iterable[str] = (), stem_df: dict[str, int] | None = None, n_docs: int = 0):
        self.names = frozenset(n.lower() for n in names)
        self.stem_df = stem_df or {}
        self.n_docs = n_docs

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "CorpusLexicon":
        capital, lower = set(), set()
        analyze = Analyzer()
        df: dict[str, int] = {}
        n = 0
        for text in texts:
            n += 1
            for stem in set(analyze(text)):
                df[stem] = df.get(stem, 0) + 1
            for span in split_spans(text):
                for i, w in enumerate(WORDS.findall(span.text)):
                    if w[0].isupper():
                        if i > 0:
                            capital.add(w)
                    else:
                        lower.add(w.lower())
        return cls((w for w in capital if w.lower() not in lower), df, n)

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.names

    def rare(self, stem: str, max_share: float) -> bool:
        """In at most ``max_share`` of the corpus's passages (never seen counts as rare)."""
        return bool(self.n_docs) and self.stem_df.get(stem, 0) <= max_share * self.n_docs


def names(sentence: str, language: str, lexicon: CorpusLexicon) -> list[str]:
    """The names a sentence states, which the cited passages must also contain (rule in the docstring)."""
    out: list[str] = []
    for i, word in enumerate(WORDS.findall(sentence)):
        for part in word.strip("'’").split("-"):  # "LOM-organisaties", "VNO-NCW"
            part = part.strip("'’")
            if len(part) < 2 or not part[0].isupper():
                continue
            if _ACRONYM.match(part) and sum(c.isupper() for c in part) >= 2:
                out.append(part)
            elif any(c.isupper() for c in part[1:]):
                out.append(part)  # "GroenLinks", "MinVRO": a name in any language
            elif part.lower() in COMMON_CAPITALISED:
                continue
            elif part in lexicon:
                out.append(part)
            elif language == "nl" and i > 0:
                out.append(part)
    return list(dict.fromkeys(out))


def _name_found(name: str, tokens: set[str]) -> bool:
    low = name.lower()
    if low in tokens:
        return True
    if len(low) >= 6:  # inflections of names: "Marokkaanse" / "Marokkanen", "Asscher" / "Asschers"
        return any(t.startswith(low[:5]) for t in tokens)
    return any(t.startswith(low + "-") or t.endswith("-" + low) for t in tokens)


@dataclass(frozen=True)
class Facts:
    """The checkable facts a text offers: its numbers (as quantities), calendar dates, and its words
    (lowercase, with the parts of hyphenated words: "LOM-organisaties" offers "lom")."""

    numbers: NumberFacts
    dates: frozenset[tuple]
    tokens: frozenset[str]

    @classmethod
    def of(cls, text: str) -> "Facts":
        words = [w.lower().strip("'’") for w in WORDS.findall(text)]
        tokens = set(words) | {part for w in words if "-" in w for part in w.split("-") if part}
        return cls(NumberFacts.of(text), frozenset(date_facts(text)), frozenset(tokens))

    @classmethod
    def union(cls, many: Iterable["Facts"]) -> "Facts":
        """What several texts offer together (a sentence citing [1][2] may draw on both)."""
        many = list(many)
        return cls(NumberFacts.union(f.numbers for f in many), frozenset().union(*(f.dates for f in many)),
                   frozenset().union(*(f.tokens for f in many)))

    def missing(self, sentence: str, language: str, lexicon: CorpusLexicon) -> list[str]:
        """The numbers, dates and names ``sentence`` states that these facts do not contain (numbers:
        value, unit, magnitude, range order and direction, read in ``language``'s notation)."""
        out = self.numbers.missing(sentence, language)
        out += [f"date {w}" for w, fact in dates(sentence) if fact not in self.dates]
        out += [f"name {n}" for n in names(sentence, language, lexicon) if not _name_found(n, self.tokens)]
        return list(dict.fromkeys(out))
