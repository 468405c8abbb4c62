"""Parse: raw text as delivered (line-wrapped PDF text) → ParsedDocument.

Pure functions, no I/O (but the Dutch word list, read once). What the delivered texts look like, and
what we do about it:

* Characters first: ``normalize_text`` (rag/ingest/normalize.py: NFKC, soft hyphens, NBSP, line ends),
  so every offset below is into normalised text.
* A line that starts with a single space, or follows a form feed, is the first line of a new page.
* Footnotes sit at the bottom of a page as ``N text`` lines, numbered across the whole document;
  their markers stick to the text (``lid Becker1.``, ``in juli 20132,``). We take both out of
  the running text and keep each footnote with the offset of its marker.
* Page furniture (``Datum`` / ``Onze referentie 2013-0000024260`` repeated on each page, the
  letterhead before ``Betreft`` or ``Den Haag, <datum>``) is removed.
* Words broken at line ends are joined (``vol-`` + ``gende`` → ``volgende``) unless the hyphen
  is real (``LOM-organisaties``, ``EU-arbeidsmigranten``, ``vroeg- en voorschoolse``,
  ``niet-westerse``: the document's words and a Dutch word list decide, rag/ingest/hyphenation.py).
* Paragraphs are blank-line separated, but a blank line (or a page break) inside a sentence does
  not end it: a fragment that starts in lower case continues an unfinished paragraph.
* Short capitalised one-line paragraphs without final punctuation are headings.
* Q&A documents: ``Vraag N`` … ``Antwoord`` (also ``Antwoord 13``, ``Antwoord op vraag 21 en
  22``, and one ``Vraagt 46``). Several questions may share one answer.
* PDF text (``Document.paged``): its form feeds are the PDF's pages, and every block records the pages
  it starts and ends on.
* Structured formats (HTML, XML: ``Document.blocks``) skip the line work: their paragraphs, headings and
  footnotes are given by the markup, and from the letterhead on the same classification runs, so a
  document yields the same blocks as text or as markup.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from rag.ingest.hyphenation import join_lines, vocabulary
from rag.ingest.normalize import normalize_text
from rag.ingest.pages import (FN_CLOSE, FN_OPEN, NUMERIC_LINE, footnote_zone, mark_footnotes, parse_footnotes,
                              remove_furniture, split_lines, split_pages, strip_letterhead)
from rag.types import Block, Document, Footnote, ParsedDocument, SourceBlock

# Bump when the cleaned text or blocks change: indexes built by another version refuse to load.
# 3: Unicode normalisation, form feeds, generic running headers, word-list hyphenation.
PARSER_VERSION = "3"

# Footnote markers travel through the text as private-use sentinels until offsets are final.
_SENTINEL_RE = re.compile(f"{FN_OPEN}(\\d+){FN_CLOSE}")

_VRAAG = re.compile(r"^Vraag\w?\s+(\d+)\s*$")  # "Vraagt 46" is a typo in the source
_ANTWOORD = re.compile(r"^Antwoord\b\s*(.*)$")
_NUMBERED_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\)?\s+(?=\S)")
_BULLET = re.compile(r"^[-–•·*]\s*")
_SIGNATURE = re.compile(r"^(De\s+)?(Minister|Staatssecretaris)\b[^.]*,")  # closing signature of a letter
_NAME_LINE = re.compile(r"^(?:[A-Z]\.)+\s*[A-Z]")
_TERMINAL = ".!?:;"


@dataclass
class _Para:
    lines: list[str]
    single_line: bool = True
    pages: tuple[int, int] | None = None  # (first, last) page of its lines, 1-based
    heading: bool | None = None  # given by markup (structured formats); None: decided by the text

    @property
    def first(self) -> str:
        return self.lines[0]


# ---------------------------------------------------------------- hyphenation and paragraphs


def _paragraphs(lines: list[str], line_pages: list[int]) -> list[_Para]:
    paras: list[_Para] = []
    current: list[str] = []
    first = 0
    for line, page in zip(lines + [""], line_pages + [0]):
        if line:
            first = first if current else page
            current.append(line)
        elif current:
            paras.append(_Para(current, single_line=len(current) == 1, pages=(first, last)))
            current = []
        last = page
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
            out[-1] = _Para(out[-1].lines + para.lines, single_line=False, pages=(out[-1].pages[0], para.pages[1]))
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
    if NUMERIC_LINE.match(text) or _is_marker(text) or "http" in text or "www." in text:
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
    if doc.blocks:
        return _parse_blocks(doc)
    raw = normalize_text(doc.raw_text)  # a no-op for documents loaded by rag/ingest/corpus.py
    pages = split_pages(split_lines(raw))
    # Counted before the letterhead goes: its "Onze referentie <nr>" is one of the repeats.
    counts = Counter(line for page in pages for line in page if line)
    pages[0] = strip_letterhead(pages[0])
    pages = remove_furniture(pages, counts)

    # Footnotes out of each page bottom, their markers replaced by sentinels.
    footnote_text: dict[int, str] = {}
    body_lines: list[str] = []
    line_pages: list[int] = []  # the (1-based) page of each body line
    expected = 1
    for number, page in enumerate(pages, start=1):
        zone = footnote_zone(page, expected)
        body = page if zone is None else page[:zone]
        if zone is not None:
            notes = parse_footnotes(page[zone:])
            footnote_text.update(notes)
            expected = notes[-1][0] + 1
            body = mark_footnotes(body, notes)
            for n, _ in notes:  # unplaced markers: attach at the end of the page body
                if f"{FN_OPEN}{n}{FN_CLOSE}" not in "\n".join(body):
                    body = body + [f"{FN_OPEN}{n}{FN_CLOSE}"] if body else body
        body_lines.extend(body)
        body_lines.append("")  # a page break never glues two words together
        line_pages.extend([number] * (len(body) + 1))

    vocab = vocabulary(raw)
    paras = _merge_continuations(_paragraphs(body_lines, line_pages))
    return _assemble(doc, paras, vocab, footnote_text)


def _parse_blocks(doc: Document) -> ParsedDocument:
    """A structured document: one paragraph per given block, the letterhead dropped as in text."""
    blocks = [SourceBlock(normalize_text(b.text).strip(), b.heading) for b in doc.blocks]
    blocks = [b for b in blocks if b.text]
    lines = strip_letterhead([b.text for b in blocks])
    blocks = blocks[len(blocks) - len(lines):]
    paras = [_Para([b.text], single_line=True, heading=b.heading) for b in blocks]
    return _assemble(doc, paras, None, {n: normalize_text(t).strip() for n, t in doc.footnotes})


def _assemble(doc: Document, paras: list[_Para], vocab, footnote_text: dict[int, str]) -> ParsedDocument:
    pieces: list[tuple] = []  # (kind, text, section, numbers, pages)
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
            pieces.append(("marker", first, f"Vraag {number}", (number,), para.pages))
            rest = para.lines[1:]
            if rest:
                pieces.append(("question", join_lines(rest, vocab), f"Vraag {number}", (number,), para.pages))
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
            pieces.append(("marker", header, _qa_section(numbers), numbers, para.pages))
            if rest:
                pieces.append(("answer", join_lines(rest, vocab), _qa_section(numbers), numbers, para.pages))
            i += 1
            continue
        text = join_lines(para.lines, vocab)
        plain = _SENTINEL_RE.sub("", text)
        if para.heading is not None:
            is_heading = para.heading and bool(plain.strip())
        else:
            is_heading = _is_heading(para, plain) and _in_sequence(plain, last_number, after_signature)
        if phase == "question":
            pieces.append(("question", text, f"Vraag {current_q}", (current_q,), para.pages))
        elif phase == "answer":
            numbers = tuple(group)
            pieces.append(("answer", text, _qa_section(numbers), numbers, para.pages))
        elif is_heading:
            clean = _SENTINEL_RE.sub("", text)
            m = _NUMBERED_HEADING.match(clean)
            level = 0 if after_signature else (len(m.group(1).split(".")) if m else 9)
            if level == 0:
                last_number = None
            elif m and level == 1:
                last_number = int(m.group(1))
            sections = {k: v for k, v in sections.items() if k < level}
            sections[level] = clean
            pieces.append(("heading", clean, _section(sections), (), para.pages))
            after_signature = False
        else:
            pieces.append(("paragraph", text, _section(sections) or None, (), para.pages))
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

    for kind, text, section, numbers, pages in pieces:
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
        page, page_end = pages if doc.paged and pages else (None, None)
        blocks.append(Block(kind=kind, text=clean, start=pos, end=pos + len(clean), section=section,
                            question_numbers=numbers, page=page, page_end=page_end))
        parts.append(clean)
        pos += len(clean)
    text = "".join(parts)
    return ParsedDocument(meta=doc.meta, text=text, blocks=tuple(blocks), footnotes=tuple(sorted(footnotes, key=lambda f: f.number)))
