"""Pages, page furniture and footnotes of line-wrapped PDF text (used by rag/ingest/parse.py).

* A line that starts with a single space, or follows a form feed, is the first line of a new page.
* Page furniture (``Datum`` / ``Onze referentie 2013-0000024260`` repeated on each page, running page
  headers, the letterhead before ``Betreft`` or ``Den Haag, <datum>``) is removed. Besides these known
  forms, any line near a page's top or bottom that recurs on at least half of the pages with one
  number counting up with the page (``Tweede Kamer der Staten-Generaal   Pagina 2 van 3``) is
  running header or footer (``generic_furniture``). A page is never emptied by this.
* Footnotes sit at the bottom of a page as ``N text`` lines, numbered across the whole document; their
  markers stick to the text (``lid Becker1.``, ``in juli 20132,``) and are replaced by sentinels.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from rag.ingest.hyphenation import join_lines

# Footnote markers travel through the text as private-use sentinels until offsets are final.
FN_OPEN, FN_CLOSE = "\ue000", "\ue001"
NUMERIC_LINE = re.compile(r"^[\d\s./–-]+$")
_FOOTNOTE_LINE = re.compile(r"^(\d{1,3})\s+(\S.*)$")
_FURNITURE = re.compile(
    r"^(Datum|Onze referentie|Uw referentie|Ons kenmerk|Uw kenmerk|Pagina \d+( van \d+)?"
    r"|Tweede Kamer, vergaderjaar \d{4}[–-]\d{4}, [\d ]+, nr\. \d+ \d+)$",  # running page header
    re.IGNORECASE,
)
_HEADER_END = re.compile(r"^(Betreft\s+\S.*|Den Haag,\s+\d{1,2}\s+\w+\s+\d{4})$")
# A Kamerstuk's printed head without a letter's date line: "32 824 Integratiebeleid" / "Nr. 451 LIJST VAN …".
_HEAD_DOSSIER = re.compile(r"^(\d{2} \d{3}|\d{5})(?: [A-Z]{1,6})?\s+\S")
_HEAD_NR = re.compile(r"^Nr\.\s*\d+\s+[A-Z]")


@dataclass
class _Line:
    text: str
    page_start: bool = False


def split_lines(raw: str) -> list[_Line]:
    out = []
    # A form feed starts a page: put it at the head of a line of its own.
    for line in raw.replace("\u00a0", " ").replace("\t", " ").replace("\f", "\n\f").split("\n"):
        feed = line.startswith("\f")
        line = line.lstrip("\f").rstrip()
        out.append(_Line(line.strip(), page_start=feed or bool(re.match(r"^ \S", line))))
    return out


def split_pages(lines: list[_Line]) -> list[list[str]]:
    pages: list[list[str]] = [[]]
    for line in lines:
        if line.page_start and pages[-1]:
            pages.append([])
        pages[-1].append(line.text)
    return pages


def strip_letterhead(lines: list[str]) -> list[str]:
    """Drop a letter's address block, up to and including ``Betreft …`` / ``Den Haag, <datum>``
    (what it says — date, reference, subject — lives in the corpus manifest); without one, a Kamerstuk's
    printed head up to its title ("Nr. 451 LIJST VAN VRAGEN EN ANTWOORDEN", wrapped in capitals)."""
    seen = 0
    head_end = None
    for i, line in enumerate(lines):
        if line:
            seen += 1
        if seen > 45:
            break
        if _HEADER_END.match(line):
            return lines[i + 1:]
        if head_end is None and _HEAD_NR.match(line) and any(map(_HEAD_DOSSIER.match, lines[max(0, i - 3):i])):
            head_end = i + 1
            while head_end < len(lines) and lines[head_end].isupper():  # the title wraps in capitals
                head_end += 1
    return lines[head_end:] if head_end is not None else lines


_EDGE_LINES = 3  # running headers and footers sit within this many text lines of a page's top or bottom
_NUMBER = re.compile(r"\d+")


def _edges(page: list[str]) -> list[int]:
    filled = [i for i, line in enumerate(page) if line]
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def generic_furniture(pages: list[list[str]]) -> set[tuple[int, int]]:
    """(page, line) positions of running headers and footers found by their shape alone.

    A line is one when its text with the numbers blanked out recurs near the top or bottom of at
    least half of the pages (and of two), and across those pages exactly one of its numbers changes,
    always upwards: a page number ("Pagina 2 van 3", "- 4 -", "vergaderjaar 2013–2014, nr. 47 5").
    Footnotes at page bottoms look alike but change several numbers at once, or none."""
    if len(pages) < 2:
        return set()
    seen: dict[str, list[tuple[int, int, tuple[int, ...]]]] = {}
    for p, page in enumerate(pages):
        for i in _edges(page):
            numbers = tuple(int(n) for n in _NUMBER.findall(page[i]))
            if numbers:
                shape = " ".join(_NUMBER.sub("#", page[i]).split())
                seen.setdefault(shape, []).append((p, i, numbers))
    found: set[tuple[int, int]] = set()
    for hits in seen.values():
        on_pages = sorted({p for p, _, _ in hits})
        if len(on_pages) < max(2, (len(pages) + 1) // 2) or len(on_pages) != len(hits):
            continue  # too rare, or twice on one page (a list, not a header)
        hits.sort()
        columns = list(zip(*(numbers for _, _, numbers in hits)))
        varying = [c for c in columns if len(set(c)) > 1]
        if len(varying) == 1 and all(a < b for a, b in zip(varying[0], varying[0][1:])):
            found.update((p, i) for p, i, _ in hits)
    return found


def remove_furniture(pages: list[list[str]], counts: Counter) -> list[list[str]]:
    """``counts``: how often each line occurs in the whole document, letterhead included.
    Lines found by shape alone (``generic_furniture``) stay when they are all the text a page has."""
    generic = generic_furniture(pages)

    def is_furniture(line: str) -> bool:
        # A reference number or page number standing alone on several pages is running header.
        return bool(_FURNITURE.match(line)) or (counts[line] >= 3 and bool(NUMERIC_LINE.match(line)))

    out = []
    for p, page in enumerate(pages):
        known = [(i, line) for i, line in enumerate(page) if not is_furniture(line)]
        kept = [line for i, line in known if (p, i) not in generic]
        out.append(kept if any(kept) else [line for _, line in known])
    return out


def footnote_zone(page: list[str], expected: int) -> int | None:
    """Index where the page's footnote zone starts, or None.

    The zone runs to the end of the page, follows a blank line, and its footnotes are numbered
    consecutively from ``expected`` (footnote numbers run across the whole document).
    """
    for start in range(len(page)):
        m = _FOOTNOTE_LINE.match(page[start])
        if not m or int(m.group(1)) != expected or start == 0 or page[start - 1]:
            continue
        number, continuation = expected, 0
        ok = True
        for line in page[start + 1:]:
            m2 = _FOOTNOTE_LINE.match(line)
            if m2 and int(m2.group(1)) == number + 1:
                number, continuation = number + 1, 0
            elif m2 and int(m2.group(1)) <= number:
                ok = False  # a list or numbered heading, not footnotes
                break
            elif line:
                continuation += 1
                if continuation > 3:  # running text, not a footnote's wrapped URL or title
                    ok = False
                    break
        if ok:
            return start
    return None


def parse_footnotes(zone: list[str]) -> list[tuple[int, str]]:
    notes: list[tuple[int, list[str]]] = []
    for line in zone:
        if not line:
            continue
        m = _FOOTNOTE_LINE.match(line)
        if m and (not notes or int(m.group(1)) == notes[-1][0] + 1):
            notes.append((int(m.group(1)), [m.group(2)]))
        elif notes:
            notes[-1][1].append(line)
    return [(n, join_lines(parts, vocab=None)) for n, parts in notes]


def _marker_patterns(n: int) -> list[re.Pattern]:
    s = re.escape(str(n))
    after = r"(?=[\s.,;:)\]!?»”’]|$)"
    return [
        re.compile(rf"(?<=[^\W\d_]){s}{after}"),  # lid Becker1.
        re.compile(rf"(?<=[.,;:)\]»”’%]){s}{after}"),  # beleid.3  /  (2023/2024).1
        re.compile(rf"(?<=\b(?:19|20)\d\d){s}{after}"),  # juli 20132, → 2013 + footnote 2
        re.compile(rf"(?<=[A-Z]{{2}}){s}(?=-[^\W\d_])"),  # het OBI33-meldpunt → OBI-meldpunt
    ]


def mark_footnotes(body: list[str], notes: list[tuple[int, str]]) -> list[str]:
    """Replace each footnote's marker in the page body by a sentinel, searching in order."""
    text = "\n".join(body)
    pos = 0
    for n, _ in notes:
        best = None
        for pattern in _marker_patterns(n):
            m = pattern.search(text, pos)
            if m and (best is None or m.start() < best.start()):
                best = m
        if best is None:
            continue  # marker not on this page; the footnote is kept, attached at the page end
        text = text[: best.start()] + f"{FN_OPEN}{n}{FN_CLOSE}" + text[best.end():]
        pos = best.start()
    return text.split("\n")
