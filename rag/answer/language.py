"""Is a question Dutch or English? Counted on function words, which every sentence has.

Questions come in Dutch or English (the corpus is Dutch). Anything the counts cannot decide —
another language, a bare keyword like "WOM" — gets ``fallback`` (Dutch: the documents' language).
"""

from __future__ import annotations

import re

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


def detect_language(text: str, fallback: str = "nl") -> str:
    """"nl" or "en" by function-word counts; ``fallback`` when neither clearly wins."""
    words = [w.lower() for w in _WORD.findall(text)]
    nl = sum(w in DUTCH for w in words) + 0.5 * sum("ij" in w for w in words)
    en = sum(w in ENGLISH for w in words)
    if nl == en or max(nl, en) < 1:
        return fallback
    return "nl" if nl > en else "en"
