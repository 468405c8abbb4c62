"""Pages, page furniture and footnotes of line-wrapped PDF text (used by rag/ingest/parse.py).

* A line that starts with a single space is the first line of a new PDF page.
* Page furniture (``Datum`` / ``Onze referentie 2013-0000024260`` repeated on each page, running page
  headers, the letterhead before ``Betreft`` or ``Den Haag, <datum>``) is removed.
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


@dataclass
class _Line:
    text: str
    page_start: bool = False


def split_lines(raw: str) -> list[_Line]:
    out = []
    for line in raw.replace("\u00a0", " ").replace("\t", " ").split("\n"):
        line = line.rstrip()
        out.append(_Line(line.strip(), page_start=bool(re.match(r"^ \S", line))))
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
    (what it says — date, reference, subject — lives in the corpus manifest)."""
    seen = 0
    for i, line in enumerate(lines):
        if line:
            seen += 1
        if seen > 45:
            break
        if _HEADER_END.match(line):
            return lines[i + 1:]
    return lines


def remove_furniture(pages: list[list[str]], counts: Counter) -> list[list[str]]:
    """``counts``: how often each line occurs in the whole document, letterhead included."""
    def is_furniture(line: str) -> bool:
        # A reference number or page number standing alone on several pages is running header.
        return bool(_FURNITURE.match(line)) or (counts[line] >= 3 and bool(NUMERIC_LINE.match(line)))
    return [[line for line in page if not is_furniture(line)] for page in pages]


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
