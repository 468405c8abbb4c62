"""What is not a claim: refusals ("the sources do not say"), questions, echoes of the question or
of a source's label, and content-free answer words ("Nee."). Used by the verifier (rag/answer/verify.py).
"""

from __future__ import annotations

import re
from typing import Sequence

from rag.answer.facts import WORDS
from rag.answer.numbers import has_number
from rag.search.lexical import STOPWORDS

# About the sources themselves ("De bronnen geven geen antwoord", "The documents do not say"): never a
# claim from the corpus, so set aside even when its words happen to match a Q&A passage.
META_REFUSAL = re.compile(
    r"\b(bronnen|bron|documenten|teksten|passages)\b.{0,60}\b(geen|niet|niets)\b"
    r"|\b(sources?|documents?|texts?|passages?)\b.{0,60}\b(do not|does not|don't|doesn't|no|not|nothing)\b"
    r"|\bkan (ik )?(deze vraag |dit |die |uw vraag )?niet beantwoorden|\bcannot answer|\bcan't answer|\bunable to answer",
    re.IGNORECASE,
)
# Weaker wording ("Er is geen informatie over ..."): a refusal only if it is not supported.
REFUSAL = re.compile(
    META_REFUSAL.pattern
    + r"|\b(geen|niet)\b.{0,40}\b(informatie|antwoord|vermeld|genoemd|beschreven|te vinden|beschikbaar)"
    r"|\binformatie\b.{0,40}\b(geen|niet|niets)\b"
    r"|\b(no|not)\b.{0,40}\b(information|answer|mention(ed)?|stated|covered|available)\b",
    re.IGNORECASE,
)
# Vague words a question and its answer share without naming anything ("welke dingen ...").
VAGUE_STEMS = frozenset("ding manier soort mens keer iet thing way kind people".split())
# Words about the exchange itself; Q&A passages are full of "Vraag" and "Antwoord" headings.
META_WORDS = frozenset("vraag vragen antwoord antwoorden bron bronnen question questions answer answers source sources".split())


def is_refusal(sentence: str) -> bool:
    """Does the sentence say the sources do not answer? Asked of sentences that failed the support
    check (so "Over deze contacten wordt niet gerapporteerd [1]" stays content), and first of all
    for statements about the sources themselves (META_REFUSAL)."""
    return bool(REFUSAL.search(sentence))


def not_a_claim(sentence: str, question: str | None, labels: Sequence[str] = ()) -> str | None:
    """Why a sentence cannot be an answer, if it cannot: a question, the user's question echoed, or a
    source's citation label or title copied out (small models do: "Nadere memorie van antwoord: …")."""
    if sentence.rstrip("\"'»”’) ").endswith("?"):
        return "a question, not a statement"
    a = {w.lower() for w in WORDS.findall(sentence)}
    if question:
        b = {w.lower() for w in WORDS.findall(question)}
        if a and len(a & b) / len(a | b) >= 0.8:
            return "repeats the question"
    for label in labels:
        b = {w.lower() for w in WORDS.findall(label)}
        if a and b and len(a & b) / len(a) >= 0.8:
            return "repeats a source's title, not a claim"
    return None


_YES_NO = frozenset("ja nee neen yes no klopt correct inderdaad zeker niet not true right precies".split())


def content_free(sentence: str) -> bool:
    """"Nee.", "Ja, dat klopt.", "Yes." — an answer word that stands or falls with what follows."""
    words = [w.lower() for w in WORDS.findall(sentence)]
    return 0 < len(words) <= 4 and not has_number(sentence) and all(w in _YES_NO or w in STOPWORDS for w in words)
