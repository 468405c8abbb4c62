"""Lines of wrapped text joined back into running text, deciding what a line-end hyphen means.

``vol-`` + ``gende`` → ``volgende``; kept when the hyphen is real: ``LOM-organisaties``,
``EU-arbeidsmigranten`` (capital or digit before it), ``decentralisatie-uitkering`` (Dutch vowel clash),
``vroeg- en voorschoolse`` (elision). Otherwise the evidence decides, in this order:

1. the document: the hyphenated form seen inside a line and the joined one not → keep; the joined
   form seen and the hyphenated one not → join;
2. the Dutch word list (Debian's ``wdutch``, /usr/share/dict/nederlands, 413k words including
   ``niet-westerse``; ``make wordlist-setup`` installs it): the same test;
3. neither knows either form: keep the hyphen when the right half is a word and the list writes
   most compounds of the left half with a hyphen (``oud-`` + ``asielzoekers``: oud-minister,
   oud-burgemeester …); else join (``netwerk-`` + ``opbouw``, ``inburge-`` + ``ringen``).

Without the word list (not installed) steps 2 and 3 have no evidence: the document decides, else join.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections import Counter
from pathlib import Path

log = logging.getLogger("vraagbaak.ingest")

WORDLIST = Path("/usr/share/dict/nederlands")  # Debian package wdutch (make wordlist-setup)

_ELISION_NEXT = {"en", "of", "tot", "en/of", "als"}  # "vroeg- en voorschoolse": keep "- "
# Vowel pairs that would read as one sound: Dutch writes a hyphen between such compound parts.
_VOWEL_CLASH = {"aa", "ae", "ai", "au", "ee", "ei", "eu", "ie", "ii", "oe", "oi", "oo", "ou", "ui", "uu", "ij"}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)
LIST_ITEM = re.compile(r"^[-–•·*]\s+(?=[A-Z0-9\"«(])")  # "– Ondersteuning …", not "– onder omstandigheden –"


class WordList:
    """Lower-cased Dutch words, split into plain words and hyphenated ones; empty when the file is missing."""

    def __init__(self, words: set[str], hyphenated: set[str], source: str | None):
        self.words, self.hyphenated, self.source = words, hyphenated, source
        self._hyphen_prefixes = Counter(w.split("-", 1)[0] for w in hyphenated)  # "oud" → 221
        self._prefixes: dict[str, bool] = {}

    def __bool__(self) -> bool:
        return bool(self.words)

    def takes_hyphen(self, prefix: str) -> bool:
        """Whether the list writes compounds of ``prefix`` mostly with a hyphen: at least 5 ``prefix-…``
        entries, and more of them than ``prefix…`` entries whose rest is a word. Measured on wdutch:
        oud 221 : 78, niet 470 : 14, ex 209 : 69, non 71 : 10 (hyphen); netwerk 0 : 136, anti 49 : 251,
        midden 25 : 133 (joined)."""
        prefix = prefix.lower()
        hyphenated = self._hyphen_prefixes[prefix]
        if hyphenated < 5:
            return False  # most prefixes ("netwerk", "fenomeen"): no need to count the joined ones
        if prefix not in self._prefixes:  # one pass over the list per prefix (~30 ms), then cached
            n = len(prefix)
            joined = sum(1 for w in self.words if w.startswith(prefix) and len(w) - n >= 3 and w[n:] in self.words)
            self._prefixes[prefix] = hyphenated > joined
        return self._prefixes[prefix]


@functools.lru_cache(maxsize=4)
def load_wordlist(path: Path = WORDLIST) -> WordList:
    """The word list at ``path`` (one word a line, UTF-8), read once per process (~0.3 s, ~40 MB).
    A missing or unreadable file gives an empty list and one warning: hyphens are then decided on
    the corpus's own words."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        log.warning(f"Dutch word list {path} not available ({exc.strerror or exc}); line-end hyphens are "
                    "decided on the documents' own words (make wordlist-setup installs it)")
        return WordList(set(), set(), None)
    everything = set(data.decode("utf-8", errors="replace").lower().split())
    hyphenated = {w for w in everything if "-" in w}
    return WordList(everything - hyphenated, hyphenated, str(path))


@functools.lru_cache(maxsize=4)
def wordlist_id(path: Path = WORDLIST) -> str | None:
    """Which word list ingest uses (path and content hash), or None when there is none: recorded in the
    index manifest, since the parsed text depends on it. Hashes the file without loading the words."""
    try:
        return f"{path}#{hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]}"
    except OSError:
        return None


def vocabulary(raw: str, wordlist: WordList | None = None) -> tuple[set[str], set[str], WordList]:
    """Words seen whole inside the document's lines (plain, hyphenated) and the Dutch word list:
    the evidence for joining or keeping a line-end hyphen. ``wordlist`` defaults to ``load_wordlist()``."""
    words, hyphenated = set(), set()
    for line in raw.split("\n"):
        line = line.strip()
        tokens = _WORD.findall(line.rstrip("-"))
        # A line's first token may end a broken word ("siteit"), its last one before "-" start one.
        for token in tokens[1:-1] if line.endswith("-") else tokens[1:]:
            (hyphenated if "-" in token else words).add(token.lower())
    return words, hyphenated, load_wordlist() if wordlist is None else wordlist


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
            if vocab is not None and _keep_hyphen(a, b, vocab):
                return left + right
            return head + right
        return left + right
    if LIST_ITEM.match(right):
        return left + "\n" + right  # keep list items on their own lines
    return left + " " + right


def _keep_hyphen(a: str, b: str, vocab) -> bool:
    """``a-`` at a line end, ``b`` starting the next: is the hyphen part of the word? (module docstring)."""
    words, hyphenated = vocab[0], vocab[1]
    wordlist = vocab[2] if len(vocab) > 2 else WordList(set(), set(), None)
    whole, split = (a + b).lower(), f"{a}-{b}".lower()
    for known, known_hyphenated in ((words, hyphenated), (wordlist.words, wordlist.hyphenated)):
        if split in known_hyphenated and whole not in known:
            return True
        if whole in known and split not in known_hyphenated:
            return False
    # Neither form known: a prefix the list mostly hyphenates ("oud-", "niet-", "ex-") keeps it.
    return bool(wordlist) and b.lower() in wordlist.words and wordlist.takes_hyphen(a)


def join_lines(lines: list[str], vocab) -> str:
    text = ""
    for line in lines:
        text = _join_pair(text, line.strip(), vocab)
    return re.sub(r"[ ]{2,}", " ", text).strip()
