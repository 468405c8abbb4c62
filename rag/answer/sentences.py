"""Sentences and [n] citation markers, for source passages and for answers.

One splitter serves both sides, so the extractive answer, the verifier and the eval harness agree
on what a sentence is. Rules (tested in tests/answer/test_verify.py):
- a newline always ends a sentence (in the corpus single newlines only separate list items);
- ".", "!", "?" end a sentence when the next word starts with a capital, a digit, a quote or a
  bullet — unless the word before the period is an abbreviation ("nr.", "o.a.", "m.b.t.", "ca."),
  an initial ("L.F. Asscher") or a leading list number ("1. Inleiding");
- citation markers right after the end ("… gestopt. [1] De …") belong to the sentence before;
- a marker followed by a capital also ends a sentence (small LLMs often drop the period).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lowercase, without the final period. Multi-part ones ("m.b.t") are also caught by _DOTTED.
ABBREVIATIONS = frozenset("""
nr nrs no o.a m.b.t t.a.v i.v.m bijv bv b.v d.w.z e.d e.a enz etc ca c.a vs mr dr drs ir ing prof dhr mevr mw st
art jl j.l blz p pp z.g zgn resp incl excl evt i.c i.e e.g a.s m.i o.b.v t.b.v m.n t.o.v v.w.b i.p.v n.a.v vgl
min max fig hfdst par stb stcrt kst mln mld mrd d.d i.s.m tel jr ll nl red vnl m.u.v a.d cs
""".split())

_DOTTED = re.compile(r"^(?:[a-z]{1,3}\.)+[a-z]{1,3}$")  # "m.b.t", "o.a", "i.s.m"

# "[1]", "[1, 2]", "[1;2]", "[1-3]", "[bron 1]", "[source 2]"
MARKER = re.compile(r"\[\s*(?:bron|bronnen|source|sources)?\s*(\d+(?:\s*(?:[,;]|-|–|en|and)\s*\d+)*)\s*\]",
                    re.IGNORECASE)
_MARKERS_RUN = re.compile(r"(?:\s*" + MARKER.pattern + r")+", re.IGNORECASE)
_END = re.compile(r"[.!?…]+[\"'»”’)\]]*")
_BULLET = re.compile(r"^\s*(?:[-–•*·▪]|\d{1,2}[.)])\s+")
_STARTS_SENTENCE = re.compile(r"[A-ZÀ-ÝĲ0-9\"'«“‘(€•\-–]")


@dataclass(frozen=True)
class Span:
    """A sentence of a text: ``text`` is exactly ``source[start:end]`` (markers included)."""

    text: str
    start: int
    end: int


def _is_abbreviation(text: str, dot: int) -> bool:
    """Is the period at ``text[dot]`` the end of an abbreviation, an initial or a list number?"""
    m = re.search(r"(\S+)$", text[:dot])
    if not m:
        return False
    word = m.group(1).lstrip("(\"'«“‘")
    low = word.lower()
    if low in ABBREVIATIONS or _DOTTED.match(low):
        return True
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: "L.F. Asscher", "J. de Vries"
    if word.isdigit() and not text[:m.start()].strip():
        return True  # "1. Inleiding" at the start of a line
    return False


def split_spans(text: str) -> list[Span]:
    """Sentences of ``text`` with their offsets; blank pieces are left out."""
    spans: list[Span] = []
    start = pos = 0
    for line in text.split("\n"):
        pos += len(line) + 1
        piece = text[start:pos - 1]
        if piece.count("«") > piece.count("»") and pos <= len(text) and len(piece) < 300:
            continue  # a title in «…» broken over lines by the source's layout: keep it whole
        _split_line(text, start, pos - 1, spans)
        start = pos
    if start < len(text):
        _split_line(text, start, len(text), spans)
    return spans


def _split_line(text: str, start: int, end: int, out: list[Span]) -> None:
    line = text[start:end]
    cut = 0  # start of the current sentence, relative to the line
    pos = 0
    while pos < len(line):
        end_m = _END.search(line, pos)
        mark_m = _MARKERS_RUN.search(line, pos)
        # The next candidate end: sentence punctuation, or a run of markers with no punctuation.
        if end_m and (not mark_m or end_m.start() <= mark_m.start()):
            if end_m.group(0).startswith(".") and _is_abbreviation(line, end_m.start()):
                pos = end_m.end()
                continue
            stop = end_m.end()
            after = _MARKERS_RUN.match(line, stop)
            if after:
                stop = after.end()
        elif mark_m:
            stop = mark_m.end()
            if not line[cut:mark_m.start()].strip():
                pos = stop  # markers that open a sentence ("[1] De wet ...") belong to it
                continue
            punct = _END.match(line, stop)  # "Zin [1]." — the period after the marker
            if punct:
                stop = punct.end()
        else:
            break
        rest = line[stop:]
        nxt = rest.lstrip()
        if not nxt:
            break
        opened = line.rfind("«", cut, stop)
        inside_title = opened >= 0 and "»" not in line[opened:stop] and stop - opened < 150
        if rest[:1].isspace() and _STARTS_SENTENCE.match(nxt) and not inside_title:
            _add(text, start + cut, start + stop, out)
            cut = stop
        pos = stop
    _add(text, start + cut, end, out)


def _add(text: str, a: int, b: int, out: list[Span]) -> None:
    piece = text[a:b]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    if piece.strip():
        out.append(Span(piece.strip(), a + lead, b - trail))


def split_sentences(text: str) -> list[str]:
    return [s.text for s in split_spans(text)]


def _expand(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:[,;]|en|and)\s*", group.strip()):
        if not part:
            continue
        rng = re.match(r"^(\d+)\s*[-–]\s*(\d+)$", part)
        if rng:
            a, b = int(rng.group(1)), int(rng.group(2))
            if 0 < b - a < 20:
                numbers.extend(range(a, b + 1))
                continue
        numbers.extend(int(x) for x in re.findall(r"\d+", part))
    return numbers


def parse_markers(sentence: str) -> tuple[str, tuple[int, ...]]:
    """(sentence without markers, cited numbers in order of first mention)."""
    cited: list[int] = []
    for m in MARKER.finditer(sentence):
        for n in _expand(m.group(1)):
            if n not in cited:
                cited.append(n)
    bare = MARKER.sub("", sentence)
    bare = re.sub(r"\s+([.,;:!?…])", r"\1", bare)  # "gestopt [1]." → "gestopt."
    bare = re.sub(r"[ \t]{2,}", " ", bare).strip()
    return bare, tuple(cited)


def render(sentence: str, cited: tuple[int, ...] | list[int]) -> str:
    """A sentence with its markers after it: "Zin. [1][3]"."""
    markers = "".join(f"[{n}]" for n in cited)
    return f"{sentence} {markers}" if markers else sentence


def strip_bullet(text: str) -> str:
    return _BULLET.sub("", text, count=1)


def clean_sentence(text: str) -> str:
    """A source sentence as quoted in an answer: no list bullet, whitespace collapsed."""
    return re.sub(r"\s+", " ", strip_bullet(text)).strip()


# ---------------------------------------------------------------- streaming answers sentence by sentence

_ENDS_SENTENCE = re.compile(r"[.!?…][\"'»”’)]*$")


def drop_cut_off(text: str) -> str:
    """Without the last sentence if max_tokens cut it off mid-way (no closing punctuation)."""
    spans = split_spans(text)
    if spans and not _ENDS_SENTENCE.search(parse_markers(spans[-1].text)[0]):
        return text[:spans[-1].start]
    return text


_CONTENT = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def complete_sentences(buffer: str) -> tuple[str, str]:
    """(text of the sentences that are certainly complete, the rest). A sentence is complete when the
    next one has begun; a content-free one ("Nee.") waits for the sentence after it."""
    spans = split_spans(buffer)
    if len(spans) < 2:
        return "", buffer
    cut = spans[-1].start
    # Keep a trailing "Ja." / "Nee." together with what follows it.
    k = len(spans) - 1
    while k > 0 and len(spans[k - 1].text.split()) <= 2 and len(_CONTENT.findall(parse_markers(spans[k - 1].text)[0])) <= 1:
        k -= 1
        cut = spans[k].start
    return buffer[:cut], buffer[cut:]


def sentence_deltas(text: str) -> list[str]:
    """The text as one delta per sentence (for streaming); they concatenate back to it exactly."""
    spans = split_spans(text)
    if not spans:
        return [text] if text else []
    cuts = [s.end for s in spans[:-1]] + [len(text)]
    out, pos = [], 0
    for cut in cuts:
        out.append(text[pos:cut])
        pos = cut
    return out
