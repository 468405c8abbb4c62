"""Lines of wrapped text joined back into running text, deciding what a line-end hyphen means.

``vol-`` + ``gende`` → ``volgende``; kept when the hyphen is real: ``LOM-organisaties``,
``EU-arbeidsmigranten`` (capital or digit before it), ``decentralisatie-uitkering`` (Dutch vowel clash),
``vroeg- en voorschoolse`` (elision), or a form seen with its hyphen elsewhere in the document.
"""

from __future__ import annotations

import re

_ELISION_NEXT = {"en", "of", "tot", "en/of", "als"}  # "vroeg- en voorschoolse": keep "- "
# Vowel pairs that would read as one sound: Dutch writes a hyphen between such compound parts.
_VOWEL_CLASH = {"aa", "ae", "ai", "au", "ee", "ei", "eu", "ie", "ii", "oe", "oi", "oo", "ou", "ui", "uu", "ij"}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
LIST_ITEM = re.compile(r"^[-–•·*]\s+(?=[A-Z0-9\"«(])")  # "– Ondersteuning …", not "– onder omstandigheden –"


def vocabulary(raw: str) -> tuple[set[str], set[str]]:
    """Words seen whole inside lines: evidence for joining or keeping a line-end hyphen."""
    words, hyphenated = set(), set()
    for line in raw.split("\n"):
        for token in _WORD.findall(line.strip().rstrip("-")):
            (hyphenated if "-" in token else words).add(token.lower())
    return words, hyphenated


def _join_pair(left: str, right: str, vocab) -> str:
    """Join two wrapped lines, deciding what a hyphen at the end of ``left`` means."""
    if not left:
        return right
    if not right:
        return left
    if left.endswith("-") and not left.endswith(" -") and not left.endswith("--"):
        head = left[:-1]
        first_word = right.split(" ", 1)[0]
        tail_token = re.split(r"\s", left)[-1]
        if "http" in tail_token or "www." in tail_token or "/" in tail_token:
            return left + right  # a URL broken after a real hyphen
        if first_word.lower().rstrip(",.;") in _ELISION_NEXT:
            return left + " " + right  # "vroeg- en voorschoolse"
        prev = re.findall(r"[^\W_]+$", head)
        nxt = re.match(r"[^\W\d_]+", right)
        if prev and nxt and right[0].islower():
            a, b = prev[0], nxt.group(0)
            if a[-1].isupper() or a[-1].isdigit():
                return left + right  # LOM-organisaties, EU-arbeidsmigranten
            if (a[-1] + b[0]).lower() in _VOWEL_CLASH:
                return left + right  # klinkerbotsing: decentralisatie-uitkering, zee-egel
            if vocab is not None:
                words, hyphenated = vocab
                whole, split = (a + b).lower(), f"{a}-{b}".lower()
                if split in hyphenated and whole not in words:
                    return left + right  # seen with its hyphen elsewhere: a real compound
            return head + right
        return left + right
    if LIST_ITEM.match(right):
        return left + "\n" + right  # keep list items on their own lines
    return left + " " + right


def join_lines(lines: list[str], vocab) -> str:
    text = ""
    for line in lines:
        text = _join_pair(text, line.strip(), vocab)
    return re.sub(r"[ ]{2,}", " ", text).strip()
