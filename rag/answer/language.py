"""Which language is a question (or a reply) in? ``detect_language(text) -> "nl" | "en" | "tr" | …``.

Identified with lingua-language-detector (its n-gram models ship in the wheel), restricted to the
languages people who ask Vraagbaak write in (``LANGUAGES``), in its low-accuracy mode (trigrams only).
Measured on data/eval/language_id.jsonl and the dev questions (``python scripts/bench_language.py``,
204 texts): low-accuracy mode with these nine languages loads in ~1 s and +22 MiB, high-accuracy mode in
~14 s and +304 MiB, and both get 203 of 204 right once combined with the rules below.

Acronyms and names with inner capitals (WW, IND, DigiD) are left out first: they are Dutch names in
any language. Short questions are hard for any identifier ("Hoe lang duurt het?"). When lingua's best
guess is below ``CONFIDENT``, Dutch or English function words decide between those two — Dutch, the
documents' language, first — provided lingua gives that language at least ``PLAUSIBLE``; a text without
letters, or one nothing recognises, gets ``fallback`` (Dutch). Otherwise lingua's best guess stands if it
has at least ``2 * PLAUSIBLE``; ``guess=False`` gives ``fallback`` there instead, for callers that must
not put a language on text that has none ("xxxx…" is 0.38 Turkish to lingua). Of the 204 bench texts only
one is decided by that guess ("A potem?", wrong either way).
"""

from __future__ import annotations

import functools
import re

# ISO 639-1 codes lingua chooses among: nl and en, the languages of the larger newcomer groups, and the
# neighbouring languages a question may come in. More languages make short texts less certain (with
# Persian and Somali added, short Arabic questions were taken for Persian in the low-accuracy mode).
LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk", "de", "fr", "es")
CONFIDENT = 0.5  # lingua's top confidence at or above this is taken as it is
PLAUSIBLE = 0.1  # below CONFIDENT, a function-word language needs at least this confidence from lingua

# Only words that are not also common in the other language ("in", "is", "was", "die" are left out).
DUTCH = frozenset("""
de het een en van dat niet met voor op zijn ook aan bij naar om als maar wat hoe waarom wanneer wie welke
waar hoeveel er ik je jij mijn kan kunnen mag moet moeten wordt worden heeft hebben hij zij ze wij we jullie
u uw deze dit dan nog geen wel al door uit over tegen zo ons onze wordt zou zouden krijg krijgen ben bent
doet doen gaat gaan komt komen staat welk waarvoor daarom tot nou eigenlijk iets niets iemand hun
""".split())
ENGLISH = frozenset("""
the a an and of to for not with are what how why when who which where there their they i you your my can
could be been has have had does do did will would should it its this that these those on at by from about
if or were get gets got much many any some than then them our we us he she his her whether
""".split())
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Acronyms and names with inner capitals (WW, AOW, IND, DigiD) say nothing about the asker's language,
# and lingua, fed "DigiD" alone, is sure it is Turkish.
_ACRONYM = re.compile(r"\b[^\W\d_]*[A-Z][^\W\d_]*[A-Z][^\W\d_]*\b")
# A lone UTF-16 surrogate (JSON can carry "\\udfff") cannot be passed to lingua, which takes UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")


def build_detector(languages: tuple[str, ...] = LANGUAGES, high_accuracy: bool = False):
    """A lingua ``LanguageDetector`` for ISO 639-1 ``languages`` (models loaded now, not on first use)."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*(getattr(IsoCode639_1, c.upper()) for c in languages))
    if not high_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


@functools.lru_cache(maxsize=1)
def _detector():
    """The service's detector, built once per process (~0.4 s; safe to share between threads)."""
    return build_detector()


def prepare() -> None:
    """Build the detector now (~1 s), so that the first question does not wait for it."""
    _detector()


def function_word_language(text: str) -> str | None:
    """"nl" or "en" by counts of function words, or None when neither clearly wins."""
    words = [w.lower() for w in _WORD.findall(text)]
    nl = sum(w in DUTCH for w in words) + 0.5 * sum("ij" in w for w in words)
    en = sum(w in ENGLISH for w in words)
    if nl == en or max(nl, en) < 1:
        return None
    return "nl" if nl > en else "en"


def confidences(text: str, detector=None) -> dict[str, float]:
    """lingua's confidence per language (0..1, summing to 1; {} for no letters); ``detector``
    defaults to the service's (``LANGUAGES``, low-accuracy mode)."""
    values = (detector or _detector()).compute_language_confidence_values(text)
    return {v.language.iso_code_639_1.name.lower(): float(v.value) for v in values if v.value > 0}


def detect_language(text: str, fallback: str = "nl", detector=None, guess: bool = True) -> str:
    """The ISO 639-1 code of ``text``'s language, one of ``LANGUAGES``, else ``fallback``.

    Shape: any string (a question, an LLM reply) → a two-letter code. Never raises for odd input:
    no letters, digits only or an unknown script give ``fallback``. ~1 ms per question on one core.
    ``detector``: another lingua detector (scripts/bench_language.py compares them). ``guess=False``:
    ``fallback`` unless lingua is ``CONFIDENT`` or the function words decide (no low-confidence guess).
    """
    text = _ACRONYM.sub(" ", _SURROGATE.sub(" ", text or ""))
    if not _WORD.search(text):
        return fallback
    scores = confidences(text, detector)
    if not scores:
        return fallback
    best = max(scores, key=scores.get)
    if scores[best] >= CONFIDENT:
        return best
    by_words = function_word_language(text)
    if by_words is not None and scores.get(by_words, 0.0) >= PLAUSIBLE:
        return by_words
    return best if guess and scores[best] >= 2 * PLAUSIBLE else fallback
