"""Text as delivered → text the parser can trust: bytes decoded, Unicode and line ends normalised.

The one place where ingest normalises characters (``normalize_text``), so every later offset —
block spans, chunk spans, citation offsets — points into text that no later step rewrites.

* ``decode_bytes``: BOMs, UTF-16/32 and legacy code pages detected with charset-normalizer. Among the
  code pages it finds plausible, Windows-1252 is preferred: for short Dutch texts its first guess is
  often a Central-European or Mac page (measured: "Café in één regel." in cp1252 → ``mac_latin2``),
  which would turn ``ï`` into ``ď``. Bytes that decode to control characters are not text.
* ``normalize_text``: NFKC (ligatures ``ﬁ`` → ``fi``, full-width forms), soft hyphens removed — a
  soft hyphen before a line break joins the two lines, as it marks a word broken there — NBSP and
  other fixed-width spaces to a plain space, zero-width characters dropped, CRLF and CR to LF.
  Form feeds (page breaks) are kept for the page splitter.
* ``ascii_slug``: ids from file names, folded to ASCII (NFKD, marks dropped), so an NFD file name
  gives the same id as its NFC twin.
"""

from __future__ import annotations

import re
import unicodedata

SOFT_HYPHEN = "\u00ad"
# Spaces NFKC leaves alone or that PDF extractors emit; all read as one plain space.
_SPACES = re.compile("[\u00a0\u2007\u202f\u2000-\u200a\u3000]")
_ZERO_WIDTH = re.compile("[\u200b\u2060\ufeff]")  # not U+200D: it joins emoji and Indic letters
_HYPHENS = re.compile("[\u2010\u2011]")  # typographic and non-breaking hyphen → "-"
_SOFT_BREAK = re.compile(f"{SOFT_HYPHEN}[ \t]*(?:\r\n|\r|\n)[ \t]*")  # "inburge\xad\nringsplicht"
# Control characters other than tab, LF, VT, FF, CR: their presence means binary data, not text.
_BINARY = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
PREFERRED_CODE_PAGES = ("cp1252",)  # Windows exports of Dutch text


class NotText(ValueError):
    """The bytes are not text in any encoding we can detect; the message says why."""


def decode_bytes(data: bytes) -> tuple[str, str]:
    """(text, encoding name) for a file's bytes. Raises NotText for binary data or an unknown encoding.

    UTF-8 (with or without BOM) is tried first and exactly; anything else goes to charset-normalizer."""
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        matches = from_bytes(data)
        best = matches.best()
        if best is None:
            raise NotText("its encoding could not be detected (binary data?)") from None
        encoding = best.encoding
        plausible = {name for m in matches for name in m.could_be_from_charset}
        if not encoding.startswith("utf") and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            for page in PREFERRED_CODE_PAGES:
                if page in plausible:
                    encoding = page
                    break
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            text, encoding = str(best), best.encoding
        text = text.lstrip("\ufeff")
    if _BINARY.search(text[:65536]) and len(_BINARY.findall(text)) > max(1, len(text) // 1000):
        raise NotText("it holds binary data, not text")
    return text, encoding


def normalize_text(text: str) -> str:
    """NFKC, soft hyphens, special spaces and line ends normalised (see the module docstring).

    Idempotent; the output has only "\\n" line ends (and "\\f" page breaks where the input had them)."""
    text = _SOFT_BREAK.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)
    text = text.replace(SOFT_HYPHEN, "")
    text = _ZERO_WIDTH.sub("", text)
    text = _SPACES.sub(" ", text)
    return _HYPHENS.sub("-", text)


def ascii_slug(name: str, default: str = "document") -> str:
    """A lower-case ASCII id from a name: "Brief geïntegreerd (U)" (NFC or NFD) → "brief-geintegreerd-u"."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or default
