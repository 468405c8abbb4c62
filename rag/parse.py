"""Parse: raw text as delivered (line-wrapped PDF text) → ParsedDocument.

Pure functions, no I/O. What the delivered texts look like, and what we do about it:

* A line that starts with a single space is the first line of a new PDF page.
* Footnotes sit at the bottom of a page as ``N text`` lines, numbered across the whole document;
  their markers stick to the text (``lid Becker1.``, ``in juli 20132,``). We take both out of
  the running text and keep each footnote with the offset of its marker.
* Page furniture (``Datum`` / ``Onze referentie 2013-0000024260`` repeated on each page, the
  letterhead before ``Betreft`` or ``Den Haag, <datum>``) is removed.
* Words broken at line ends are joined (``vol-`` + ``gende`` → ``volgende``) unless the hyphen
  is real (``LOM-organisaties``, ``EU-arbeidsmigranten``, ``vroeg- en voorschoolse``).
* Paragraphs are blank-line separated, but a blank line (or a page break) inside a sentence does
  not end it: a fragment that starts in lower case continues an unfinished paragraph.
* Short capitalised one-line paragraphs without final punctuation are headings.
* Q&A documents: ``Vraag N`` … ``Antwoord`` (also ``Antwoord 13``, ``Antwoord op vraag 21 en
  22``, and one ``Vraagt 46``). Several questions may share one answer.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from rag.types import Block, Document, Footnote, ParsedDocument

# Bump when the cleaned text or blocks change: indexes built by another version refuse to load.
PARSER_VERSION = "2"

# Footnote markers travel through the text as private-use sentinels until offsets are final.
_FN_OPEN, _FN_CLOSE = "\ue000", "\ue001"
_SENTINEL_RE = re.compile(f"{_FN_OPEN}(\\d+){_FN_CLOSE}")

_FOOTNOTE_LINE = re.compile(r"^(\d{1,3})\s+(\S.*)$")
_FURNITURE = re.compile(
    r"^(Datum|Onze referentie|Uw referentie|Ons kenmerk|Uw kenmerk|Pagina \d+( van \d+)?"
    r"|Tweede Kamer, vergaderjaar \d{4}[–-]\d{4}, [\d ]+, nr\. \d+ \d+)$",  # running page header
    re.IGNORECASE,
)
_NUMERIC_LINE = re.compile(r"^[\d\s./–-]+$")
_HEADER_END = re.compile(r"^(Betreft\s+\S.*|Den Haag,\s+\d{1,2}\s+\w+\s+\d{4})$")
_VRAAG = re.compile(r"^Vraag\w?\s+(\d+)\s*$")  # "Vraagt 46" is a typo in the source
_ANTWOORD = re.compile(r"^Antwoord\b\s*(.*)$")
_NUMBERED_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\)?\s+(?=\S)")
_BULLET = re.compile(r"^[-–•·*]\s*")
_LIST_ITEM = re.compile(r"^[-–•·*]\s+(?=[A-Z0-9\"«(])")  # "– Ondersteuning …", not "– onder omstandigheden –"
_SIGNATURE = re.compile(r"^(De\s+)?(Minister|Staatssecretaris)\b[^.]*,")  # closing signature of a letter
_NAME_LINE = re.compile(r"^(?:[A-Z]\.)+\s*[A-Z]")
_TERMINAL = ".!?:;"
_ELISION_NEXT = {"en", "of", "tot", "en/of", "als"}  # "vroeg- en voorschoolse": keep "- "
# Vowel pairs that would read as one sound: Dutch writes a hyphen between such compound parts.
_VOWEL_CLASH = {"aa", "ae", "ai", "au", "ee", "ei", "eu", "ie", "ii", "oe", "oi", "oo", "ou", "ui", "uu", "ij"}
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


@dataclass
class _Line:
    text: str
    page_start: bool = False


@dataclass
class _Para:
    lines: list[str]
    single_line: bool = True

    @property
    def first(self) -> str:
        return self.lines[0]


# ---------------------------------------------------------------- pages, furniture, footnotes


def _lines(raw: str) -> list[_Line]:
    out = []
    for line in raw.replace("\u00a0", " ").replace("\t", " ").split("\n"):
        line = line.rstrip()
        out.append(_Line(line.strip(), page_start=bool(re.match(r"^ \S", line))))
    return out


def _pages(lines: list[_Line]) -> list[list[str]]:
    pages: list[list[str]] = [[]]
    for line in lines:
        if line.page_start and pages[-1]:
            pages.append([])
        pages[-1].append(line.text)
    return pages


def _strip_letterhead(lines: list[str]) -> list[str]:
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


def _remove_furniture(pages: list[list[str]], counts: Counter) -> list[list[str]]:
    """``counts``: how often each line occurs in the whole document, letterhead included."""
    def is_furniture(line: str) -> bool:
        # A reference number or page number standing alone on several pages is running header.
        return bool(_FURNITURE.match(line)) or (counts[line] >= 3 and bool(_NUMERIC_LINE.match(line)))
    return [[line for line in page if not is_furniture(line)] for page in pages]


def _footnote_zone(page: list[str], expected: int) -> int | None:
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


def _parse_footnotes(zone: list[str]) -> list[tuple[int, str]]:
    notes: list[tuple[int, list[str]]] = []
    for line in zone:
        if not line:
            continue
        m = _FOOTNOTE_LINE.match(line)
        if m and (not notes or int(m.group(1)) == notes[-1][0] + 1):
            notes.append((int(m.group(1)), [m.group(2)]))
        elif notes:
            notes[-1][1].append(line)
    return [(n, _join_lines(parts, vocab=None)) for n, parts in notes]


def _marker_patterns(n: int) -> list[re.Pattern]:
    s = re.escape(str(n))
    after = r"(?=[\s.,;:)\]!?»”’]|$)"
    return [
        re.compile(rf"(?<=[^\W\d_]){s}{after}"),  # lid Becker1.
        re.compile(rf"(?<=[.,;:)\]»”’%]){s}{after}"),  # beleid.3  /  (2023/2024).1
        re.compile(rf"(?<=\b(?:19|20)\d\d){s}{after}"),  # juli 20132, → 2013 + footnote 2
        re.compile(rf"(?<=[A-Z]{{2}}){s}(?=-[^\W\d_])"),  # het OBI33-meldpunt → OBI-meldpunt
    ]


def _mark_footnotes(body: list[str], notes: list[tuple[int, str]]) -> list[str]:
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
        text = text[: best.start()] + f"{_FN_OPEN}{n}{_FN_CLOSE}" + text[best.end():]
        pos = best.start()
    return text.split("\n")


# ---------------------------------------------------------------- hyphenation and paragraphs


def _vocabulary(raw: str) -> tuple[set[str], set[str]]:
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
    if _LIST_ITEM.match(right):
        return left + "\n" + right  # keep list items on their own lines
    return left + " " + right


def _join_lines(lines: list[str], vocab) -> str:
    text = ""
    for line in lines:
        text = _join_pair(text, line.strip(), vocab)
    return re.sub(r"[ ]{2,}", " ", text).strip()


def _paragraphs(lines: list[str]) -> list[_Para]:
    paras: list[_Para] = []
    current: list[str] = []
    for line in lines + [""]:
        if line:
            current.append(line)
        elif current:
            paras.append(_Para(current, single_line=len(current) == 1))
            current = []
    return paras


def _unfinished(para: _Para) -> bool:
    last = _SENTINEL_RE.sub("", para.lines[-1]).rstrip()
    return bool(last) and (last[-1] not in _TERMINAL or last.endswith("-"))


def _continues(para: _Para) -> bool:
    first = para.first
    return bool(first) and (first[0].islower() or (first[0] in "(«" and len(first) > 1 and first[1].islower()))


def _merge_continuations(paras: list[_Para]) -> list[_Para]:
    """A fragment starting in lower case after an unfinished paragraph belongs to it (page breaks, PDF gaps)."""
    out: list[_Para] = []
    for para in paras:
        # A lone "Vraag N" / "Antwoord" line is not continued; a marker with its text is (page breaks).
        if out and _continues(para) and _unfinished(out[-1]) and not (len(out[-1].lines) == 1 and _is_marker(out[-1].first)):
            out[-1] = _Para(out[-1].lines + para.lines, single_line=False)
        else:
            out.append(para)
    return out


# ---------------------------------------------------------------- classification


def _is_marker(line: str) -> bool:
    return bool(_VRAAG.match(line) or _ANTWOORD.match(line))


def _is_heading(para: _Para, text: str) -> bool:
    if not text or not para.single_line or len(text) > 90 or len(text.split()) > 12:
        return False
    if text[-1] in _TERMINAL + ",)" or _BULLET.match(text) or _NAME_LINE.match(text):
        return False
    if _NUMERIC_LINE.match(text) or _is_marker(text) or "http" in text or "www." in text:
        return False
    body = _NUMBERED_HEADING.sub("", text, count=1).strip()
    return bool(body) and body[0].isupper()


def _in_sequence(text: str, last_number: int | None, after_signature: bool) -> bool:
    """A numbered heading continues the numbering (1, 2, 3 …); "1 Bewustwording …" inside a section is a list."""
    m = _NUMBERED_HEADING.match(text)
    if not m or after_signature or "." in m.group(1):
        return True
    n = int(m.group(1))
    return (last_number is None and n == 1) or (last_number is not None and n == last_number + 1)


# ---------------------------------------------------------------- the whole document


def parse_document(doc: Document) -> ParsedDocument:
    raw = doc.raw_text
    pages = _pages(_lines(raw))
    # Counted before the letterhead goes: its "Onze referentie <nr>" is one of the repeats.
    counts = Counter(line for page in pages for line in page if line)
    pages[0] = _strip_letterhead(pages[0])
    pages = _remove_furniture(pages, counts)

    # Footnotes out of each page bottom, their markers replaced by sentinels.
    footnote_text: dict[int, str] = {}
    body_lines: list[str] = []
    expected = 1
    for page in pages:
        zone = _footnote_zone(page, expected)
        body = page if zone is None else page[:zone]
        if zone is not None:
            notes = _parse_footnotes(page[zone:])
            footnote_text.update(notes)
            expected = notes[-1][0] + 1
            body = _mark_footnotes(body, notes)
            for n, _ in notes:  # unplaced markers: attach at the end of the page body
                if f"{_FN_OPEN}{n}{_FN_CLOSE}" not in "\n".join(body):
                    body = body + [f"{_FN_OPEN}{n}{_FN_CLOSE}"] if body else body
        body_lines.extend(body)
        body_lines.append("")  # a page break never glues two words together

    vocab = _vocabulary(raw)
    paras = _merge_continuations(_paragraphs(body_lines))
    return _assemble(doc, paras, vocab, footnote_text)


def _assemble(doc: Document, paras: list[_Para], vocab, footnote_text: dict[int, str]) -> ParsedDocument:
    pieces: list[tuple[str, str, str | None, tuple[int, ...]]] = []  # (kind, text, section, numbers)
    sections: dict[int, str] = {}  # level → heading text
    after_signature = False
    last_number: int | None = None  # top-level section numbers must run 1, 2, 3 … (restart after a part)
    group: list[int] | None = None  # question numbers that the next answer belongs to
    phase = None  # None | "question" | "answer"
    current_q: int | None = None
    i = 0
    while i < len(paras):
        para = paras[i]
        first = para.first
        vraag = _VRAAG.match(first)
        antwoord = _ANTWOORD.match(first)
        if vraag:
            number = int(vraag.group(1))
            if group is None or phase == "answer":
                group = []
            group.append(number)
            phase, current_q = "question", number
            pieces.append(("marker", first, f"Vraag {number}", (number,)))
            rest = para.lines[1:]
            if rest:
                pieces.append(("question", _join_lines(rest, vocab), f"Vraag {number}", (number,)))
            i += 1
            continue
        if antwoord and group is not None:
            header_lines = [first]
            rest = para.lines[1:]
            # "Antwoord op vragen 47, 79, … 114 en" wraps its last number onto the next line.
            while rest and re.search(r"(\ben|,)$", header_lines[-1]) and re.match(r"^\d+(\s|$)", rest[0]):
                m = re.match(r"^(\d+)\s*(.*)$", rest[0])
                header_lines.append(m.group(1))
                rest = ([m.group(2)] if m.group(2) else []) + rest[1:]
            header = " ".join(header_lines)
            numbers = tuple(group)
            phase = "answer"
            pieces.append(("marker", header, _qa_section(numbers), numbers))
            if rest:
                pieces.append(("answer", _join_lines(rest, vocab), _qa_section(numbers), numbers))
            i += 1
            continue
        text = _join_lines(para.lines, vocab)
        if phase == "question":
            pieces.append(("question", text, f"Vraag {current_q}", (current_q,)))
        elif phase == "answer":
            numbers = tuple(group)
            pieces.append(("answer", text, _qa_section(numbers), numbers))
        elif _is_heading(para, _SENTINEL_RE.sub("", text)) and _in_sequence(_SENTINEL_RE.sub("", text), last_number, after_signature):
            clean = _SENTINEL_RE.sub("", text)
            m = _NUMBERED_HEADING.match(clean)
            level = 0 if after_signature else (len(m.group(1).split(".")) if m else 9)
            if level == 0:
                last_number = None
            elif m and level == 1:
                last_number = int(m.group(1))
            sections = {k: v for k, v in sections.items() if k < level}
            sections[level] = clean
            pieces.append(("heading", clean, _section(sections), ()))
            after_signature = False
        else:
            pieces.append(("paragraph", text, _section(sections) or None, ()))
            after_signature = len(para.lines) <= 3 and bool(_SIGNATURE.match(text))
        i += 1
    return _build(doc, pieces, footnote_text)


def _section(sections: dict[int, str]) -> str:
    return " › ".join(sections[k] for k in sorted(sections))


def _qa_section(numbers: tuple[int, ...]) -> str:
    if len(numbers) == 1:
        return f"Vraag {numbers[0]}"
    return "Vragen " + ", ".join(map(str, numbers[:-1])) + f" en {numbers[-1]}"


def _build(doc: Document, pieces, footnote_text: dict[int, str]) -> ParsedDocument:
    """Concatenate blocks into the clean text; strip sentinels and record footnote offsets."""
    parts: list[str] = []
    blocks: list[Block] = []
    footnotes: list[Footnote] = []
    pos = 0

    def squeeze(s: str) -> str:
        return re.sub(r"[ ]{2,}", " ", s).lstrip()

    for kind, text, section, numbers in pieces:
        segments = _SENTINEL_RE.split(text)  # text, number, text, number, …, text
        clean = squeeze("".join(segments[0::2])).strip()
        # The block starts after its "\n\n" separator; a marker sits where its cleaned prefix ends.
        start = pos + (2 if parts and clean else 0)
        for k in range(1, len(segments), 2):
            n = int(segments[k])
            if n in footnote_text:
                at = min(len(squeeze("".join(segments[0:k:2])).rstrip()), len(clean))
                footnotes.append(Footnote(number=n, text=footnote_text[n], offset=start + at))
        if not clean:
            continue
        if parts:
            parts.append("\n\n")
            pos += 2
        blocks.append(Block(kind=kind, text=clean, start=pos, end=pos + len(clean), section=section, question_numbers=numbers))
        parts.append(clean)
        pos += len(clean)
    text = "".join(parts)
    return ParsedDocument(meta=doc.meta, text=text, blocks=tuple(blocks), footnotes=tuple(sorted(footnotes, key=lambda f: f.number)))
