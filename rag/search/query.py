"""Query normalisation: a question as people type it → the text every retrieval channel sees.

Applied before both channels (dense and BM25), so the same question retrieves alike however it was typed:

1. Characters: the ingest normalisation (rag/ingest/normalize.py: NFKC, soft hyphens, special spaces),
   so a question in NFD form or with ligatures matches the NFKC-normalised corpus.
2. Turkish dotted capital İ and dotless ı: ``"İ".lower()`` is "i" + a combining dot, which splits
   the word for BM25 and shifts the embedding. A word with İ/ı is folded to I/i when the folded word
   is a corpus word ("İnburgering" → "Inburgering"); Turkish words stay as typed.
3. Capitals: EmbeddingGemma is case-sensitive (measured: "GEÏNTEGREERD" shared 0 of its top 5 with
   "geïntegreerd"). A word in capitals that the corpus writes in lower or title case takes the
   corpus's most frequent spelling ("NEDERLAND" → "Nederland"); acronyms (words the corpus only
   writes in capitals: WOM, LOM, EU) stay. A question typed wholly in capitals then starts with a capital.
4. Acronyms: pairs learnt from the corpus ("Wet overleg minderhedenbeleid (WOM)", Schwartz & Hearst,
   PSB 2003) plus ``KNOWN_ACRONYMS``. Either form in a question becomes "expansion (ACRONYM)", so
   "de WOM" and "de Wet overleg minderhedenbeleid" are the same query.
5. Long input: when a question follows a long pasted text, its last question (or sentence) is the
   ``focus``; the retriever scores it on its own and mixes it in (rag/search/retrieve.py).
6. Numbered questions: "Vraag 57", "vragen 12 en 13", "question 57" (in the focus, if any) name the
   questions of a Q&A document; the retriever moves their answers up. Embeddings hardly tell 57 from 12
   (measured: focus alone put the answer to Vraag 57 at rank 4, Vraag 100 at rank 32).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from rag.ingest.normalize import normalize_text

# Ministries and agencies a citizen names by their letters; the corpus spells out only some of them.
# The first form is the one a query is rewritten to; later ones are also recognised.
KNOWN_ACRONYMS: dict[str, tuple[str, ...]] = {
    "SZW": ("ministerie van Sociale Zaken en Werkgelegenheid", "Sociale Zaken en Werkgelegenheid"),
    "BZK": ("ministerie van Binnenlandse Zaken en Koninkrijksrelaties", "Binnenlandse Zaken en Koninkrijksrelaties"),
    "OCW": ("ministerie van Onderwijs, Cultuur en Wetenschap", "Onderwijs, Cultuur en Wetenschap"),
    "VWS": ("ministerie van Volksgezondheid, Welzijn en Sport", "Volksgezondheid, Welzijn en Sport"),
    "JenV": ("ministerie van Justitie en Veiligheid", "Justitie en Veiligheid"),
    "IND": ("Immigratie- en Naturalisatiedienst",),
    "DUO": ("Dienst Uitvoering Onderwijs",),
    "COA": ("Centraal Orgaan opvang asielzoekers",),
    "UWV": ("Uitvoeringsinstituut Werknemersverzekeringen",),
    "SVB": ("Sociale Verzekeringsbank",),
    "VNG": ("Vereniging van Nederlandse Gemeenten",),
    "CBS": ("Centraal Bureau voor de Statistiek",),
    "SCP": ("Sociaal en Cultureel Planbureau",),
    "WRR": ("Wetenschappelijke Raad voor het Regeringsbeleid",),
    "AIVD": ("Algemene Inlichtingen- en Veiligheidsdienst",),
    "NCTV": ("Nationaal Coördinator Terrorismebestrijding en Veiligheid",),
}

LONG_INPUT_CHARS = 600  # a question longer than this is taken for pasted text plus a question
_FOCUS_MAX_CHARS = 300  # the question part is at most this long, and at most half the input
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_ACRONYM_IN_PARENS = re.compile(r"\(([A-Z][A-Za-z]*[A-Z][A-Za-z]?)[),;]")  # "(WOM)", "(WOM, gepland …)"
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_QUESTION_REF = re.compile(r"\b(?:vraag|vragen|question|questions)\s+(\d{1,3}(?:\s*(?:,|en|and|&)\s*\d{1,3})*)\b",
                           re.IGNORECASE)


def _long_form(acronym: str, before: str) -> str | None:
    """Schwartz & Hearst: the shortest tail of ``before`` whose letters spell ``acronym`` in order,
    the first letter starting a word, within min(|A| + 5, 2|A|) words."""
    words = before.split()
    words = words[-min(len(acronym) + 5, 2 * len(acronym)):]
    text = " ".join(words)
    s, i = len(acronym) - 1, len(text) - 1
    while s >= 0:
        c = acronym[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (text[i].lower() != c or (s == 0 and i > 0 and text[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = text.rfind(" ", 0, i + 1) + 1
    long = text[start:].strip(" ,;:")
    if len(long.split()) < 2 or len(long) <= len(acronym) or long.split()[0].lower() in ("de", "het", "een", "van"):
        return None
    return long


def learn_acronyms(texts: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Acronym → its long forms, most frequent first, from "long form (ACRONYM)" in ``texts``."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for text in texts:
        for m in _ACRONYM_IN_PARENS.finditer(text):
            sentence_start = max(text.rfind(".", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
            long = _long_form(m.group(1), text[sentence_start:m.start()])
            if long:
                seen[m.group(1)][long] += 1
    return {acronym: tuple(f for f, _ in forms.most_common()) for acronym, forms in seen.items()}


@dataclass(frozen=True)
class Query:
    text: str  # the normalised question, for both channels
    focus: str | None = None  # the question part of a long input, normalised; None for a plain question
    question_numbers: frozenset[int] = frozenset()  # "Vraag 57" → {57}: questions of a Q&A document it names


class QueryNormalizer:
    """Built once per index from its passages (milliseconds); ``normalize`` is pure string work (~0.1 ms)."""

    def __init__(self, texts: Iterable[str], known: dict[str, tuple[str, ...]] | None = None):
        texts = list(texts)
        surface: dict[str, Counter] = defaultdict(Counter)
        for text in texts:
            for m in _WORD.finditer(text):
                word = m.group(0)
                j = m.start() - 1
                while j >= 0 and text[j] in " \t":
                    j -= 1
                # A capital at a sentence start says nothing about the word: it counts a little.
                surface[word.lower()][word] += 1 if j >= 0 and text[j] not in ".!?:\n" else 0.01
        # The corpus's usual spelling of each word; words it writes only in capitals are acronyms.
        self.spelling = {low: forms.most_common(1)[0][0] for low, forms in surface.items()
                         if any(not f.isupper() for f in forms)}
        self.capitals_only = {low for low, forms in surface.items() if all(f.isupper() for f in forms)}
        self.acronyms = {**learn_acronyms(texts), **(KNOWN_ACRONYMS if known is None else known)}
        forms = [(form, acronym) for acronym, longs in self.acronyms.items() for form in longs]
        forms.sort(key=lambda fa: -len(fa[0]))  # longest first: "ministerie van Sociale Zaken …" before "Sociale Zaken …"
        alternatives = "|".join(re.escape(form) for form, _ in forms) or r"(?!)"
        self._form_acronym = {form.lower(): acronym for form, acronym in forms}
        names = "|".join(re.escape(a) for a in self.acronyms) or r"(?!)"
        # A long form, and the "(ACRONYM)" already after it, if any (so it is not written twice).
        self._long = re.compile(rf"(?<!\w)({alternatives})(?!\w)(\s*\(\s*(?:{names})\s*\))?", re.IGNORECASE)
        self._short = re.compile(rf"(?<![\w(-])({names})(?![\w)-])")  # not in "EU-burgers"

    # ------------------------------------------------------------ steps

    def _turkish(self, text: str) -> str:
        def fold(m: re.Match) -> str:
            word = m.group(0)
            folded = word.replace("İ", "I").replace("ı", "i")
            return folded if folded.lower() in self.spelling or folded.lower() in self.capitals_only else word
        return _WORD.sub(fold, text) if ("İ" in text or "ı" in text) else text

    def _case(self, text: str) -> str:
        cased = [c for c in text if c.isalpha() and c.lower() != c.upper()]
        shouting = len(cased) >= 8 and sum(c.isupper() for c in cased) >= 0.8 * len(cased)

        def fix(m: re.Match) -> str:
            word = m.group(0)
            low = word.lower()
            # An acronym stays, unless a shouted question uses it as a word ("OM" for "om", "VIA").
            if not word.isupper() or len(word) < 2 or (word in self.acronyms and not (shouting and low in self.spelling)):
                return word
            if low in self.spelling:
                return self.spelling[low]
            # Unknown to the corpus: in a shouted question lower-case it (Turkish İ → i), else it may be an acronym.
            return word.replace("İ", "i").lower() if shouting and low not in self.capitals_only else word

        text = _WORD.sub(fix, text)
        if shouting and (len(text.split()) >= 3 or text.rstrip()[-1:] in "?.!"):
            text = re.sub(r"^(\W*)(\w)", lambda m: m.group(1) + m.group(2).upper(), text, count=1)
        return text

    def _expand(self, text: str) -> str:
        def long(m: re.Match) -> str:
            acronym = self._form_acronym[m.group(1).lower()]
            return f"{self.acronyms[acronym][0]} ({acronym})"

        def short(m: re.Match) -> str:
            return f"{self.acronyms[m.group(1)][0]} ({m.group(1)})"

        marked = self._long.sub(lambda m: "\x00" + long(m) + "\x01", text)
        # Acronyms outside the spans just written (between \x00 and \x01) are spelled out.
        parts = re.split("(\x00[^\x01]*\x01)", marked)
        return "".join(p[1:-1] if p.startswith("\x00") else self._short.sub(short, p) for p in parts)

    # ------------------------------------------------------------ the whole

    def normalize_text(self, text: str) -> str:
        text = " ".join(normalize_text(text).split())
        return self._expand(self._case(self._turkish(text)))

    def __call__(self, question: str) -> Query:
        """The question as every channel should see it, and its focus when it is long (module docstring)."""
        text = self.normalize_text(question)
        focus = self._focus(text)
        numbers = frozenset(int(n) for m in _QUESTION_REF.finditer(focus or text) for n in re.findall(r"\d+", m.group(1)))
        return Query(text=text, focus=focus, question_numbers=numbers)

    @staticmethod
    def _focus(text: str) -> str | None:
        if len(text) < LONG_INPUT_CHARS:
            return None
        sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
        if len(sentences) < 2:
            return None
        asked = [s for s in sentences[-3:] if s.endswith("?")]
        focus = asked[-1] if asked else sentences[-1]
        if len(focus) > min(_FOCUS_MAX_CHARS, len(text) // 2) or len(focus.split()) < 2:
            return None
        return focus
