"""PDF → text by page, with the metadata the file and its first page carry (pypdfium2, PDFium's text layer).

Why PDFium: measured on the test PDFs against the same documents' text (scripts/compare_pdf_readers.py,
README "Corpus"), it kept the most passages identical and is the fastest of pypdfium2, pdfplumber and pypdf;
it reads characters with their boxes and font sizes, which the text parser needs rebuilt into lines:

* A line is what PDFium ends with CR LF; its U+FFFE (a hyphen PDFium took for a soft one at a line end)
  becomes "-" and a line end, so the parser's hyphenation decides (rag/ingest/hyphenation.py).
* A space is added where two characters stand apart by more than a quarter of the font size with none
  between them (a footnote's number and its text are set apart by position, not by a space).
* A blank line (a paragraph break) goes where the distance to the previous line's baseline is more
  than 1.3 times the document's usual line pitch, or the font size changes (body → footnotes).
* Pages are joined with form feeds, so passages know their page (``Document.paged``).

A page with no text but an image is a scanned page: it is left out and named in ``Extracted.notes``;
a PDF without text on any page is ``Unreadable`` (run OCR first). A damaged or password-protected
file is ``Unreadable`` with PDFium's reason.

Metadata: the document information dictionary (Title, Author, Subject) and the printed head of the
first page (rag/ingest/formats/kamerstuk.py). The info's CreationDate is when the file was made, not
when the document was published, and is never taken as its date.
"""

from __future__ import annotations

import ctypes
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from rag.ingest.formats.base import Extracted, Unreadable
from rag.ingest.formats.kamerstuk import read_head

_GAP = 0.25  # × font size: a gap this wide between two characters is a space
_PARAGRAPH = 1.3  # × usual line pitch: a larger distance between baselines is a paragraph break
# Titles that word processors write for the file, not for the document.
_JUNK_TITLE = re.compile(r"(^(microsoft (word|powerpoint)|untitled|naamloos|document\d*$|brief$))|\.(docx?|odt|pdf|rtf)$",
                         re.I)
_PERSON = re.compile(r"^(?:[A-Z]\.){1,5}\s*(?:[a-z]+\s+)*[A-Z][\w'-]+$")  # "J.N.J. Nobel", "L.F. Asscher"
_KAMERSTUK = re.compile(r"^Kamerstuk\s+\d{2} ?\d{3}.*, nr\. \d+$")


@dataclass
class _Line:
    text: str
    baseline: float
    size: float
    left: float = 0.0
    right: float = 0.0


def _lines(textpage, raw) -> list[_Line]:
    """A page's lines in PDFium's reading order, spaces restored from the characters' positions."""
    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    if len(text) != count:  # characters outside the BMP: positions would not line up; take the text as is
        return [_Line(t, 0.0, 0.0) for t in text.replace("\ufffe", "-\n").replace("\r", "").split("\n")]
    box, x, y = raw.FS_RECTF(), ctypes.c_double(), ctypes.c_double()
    lines: list[_Line] = []
    chars: list[str] = []
    bottoms: list[float] = []
    sizes: list[float] = []
    last_right = first_left = None

    def close():
        nonlocal last_right, first_left
        if bottoms:
            line = _Line("".join(chars).strip(), median(bottoms), median(sizes), first_left, last_right)
            prev = lines[-1] if lines else None
            # PDFium ends a line at a raised footnote marker ("lid Becker¹" / ". Jaarlijks"); one baseline is one line.
            if (prev and abs(prev.baseline - line.baseline) < 0.35 * line.size and abs(prev.size - line.size) < 0.5
                    and line.left >= prev.right - 1):
                space = " " if chars[0] == " " or line.left - prev.right > _GAP * line.size else ""
                lines[-1] = _Line(prev.text + space + line.text, prev.baseline, prev.size, prev.left, line.right)
            else:
                lines.append(line)
        chars.clear(), bottoms.clear(), sizes.clear()
        last_right = first_left = None

    for i, ch in enumerate(text):
        if ch in "\r\n":
            close()
            continue
        if ch == "\ufffe":
            chars.append("-")
            close()
            continue
        if ch.isspace():
            if not chars or chars[-1] != " ":
                chars.append(" ")
            last_right = None
            continue
        # The loose box spans the glyph's advance (a tight box of "1" leaves a gap in "11"); the origin
        # is on the baseline.
        raw.FPDFText_GetLooseCharBox(textpage, i, box)
        raw.FPDFText_GetCharOrigin(textpage, i, x, y)
        size = raw.FPDFText_GetFontSize(textpage, i) or 1.0
        if last_right is not None and box.left - last_right > _GAP * size and chars and chars[-1] != " ":
            chars.append(" ")
        chars.append(ch)
        bottoms.append(y.value)
        sizes.append(size)
        first_left = box.left if first_left is None else first_left
        last_right = box.right
    close()
    return [line for line in lines if line.text]


def _usual_pitch(pages: list[list[_Line]]) -> float:
    """The most common distance between baselines of consecutive lines of one font size (points)."""
    pitches = Counter()
    for lines in pages:
        for a, b in zip(lines, lines[1:]):
            if abs(a.size - b.size) < 0.5 and 0 < a.baseline - b.baseline < 3 * a.size:
                pitches[round(a.baseline - b.baseline)] += 1
    return float(pitches.most_common(1)[0][0]) if pitches else 0.0


def _page_text(lines: list[_Line], pitch: float) -> str:
    out: list[str] = []
    for prev, line in zip([None] + lines, lines):
        if prev is not None and pitch and (
                prev.baseline - line.baseline > _PARAGRAPH * pitch or prev.baseline < line.baseline
                or abs(prev.size - line.size) >= 1.0):
            out.append("")
        out.append(line.text)
    return "\n".join(out)


def _has_image(page, pdfium_c) -> bool:
    return any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2))


def _open(path: Path):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        detail = str(exc).split("(PDFium: ")[-1].rstrip(").") if "PDFium:" in str(exc) else str(exc)
        if "password" in detail.lower():
            raise Unreadable("is password-protected; add a copy without a password") from None
        raise Unreadable(f"cannot be read as a PDF ({detail.lower()}); is the file complete?") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None


def _metadata(info: dict, first_page: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    head = read_head(first_page)
    meta = {k: v for k, (v, _) in head.items()}
    sources = {k: f"PDF {where}" for k, (_, where) in head.items()}
    title = " ".join((info.get("Title") or "").split())
    if title and not _JUNK_TITLE.search(title):
        meta["title"], sources["title"] = title, "PDF info Title"
    subject = " ".join((info.get("Subject") or "").split())
    if "reference" not in meta and _KAMERSTUK.match(subject):
        meta["reference"], sources["reference"] = subject, "PDF info Subject"
    author = " ".join((info.get("Author") or "").split())
    if _PERSON.match(author):  # a name, not a login or a program
        office = meta.get("author")
        meta["author"] = f"{author}, {office}" if office else author
        sources["author"] = "PDF info Author" + (" and " + sources["author"] if office else "")
    return meta, sources


def read(path: Path) -> Extracted:
    """The PDF's text layer, page by page, and its metadata. Raises Unreadable (see the module docstring)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = _open(path)
    try:
        pages: list[list[_Line]] = []
        scanned: list[int] = []
        for number in range(len(doc)):
            page = doc[number]
            try:
                textpage = page.get_textpage()
                lines = _lines(textpage, raw)
                textpage.close()
                if not lines and _has_image(page, pdfium.raw):
                    scanned.append(number + 1)
                pages.append(lines)
            finally:
                page.close()
        info = doc.get_metadata_dict(skip_empty=True)
    except pdfium.PdfiumError as exc:
        raise Unreadable(f"cannot be read as a PDF ({exc}); is the file complete?") from None
    finally:
        doc.close()
    if not pages:
        raise Unreadable("has no pages")
    if not any(pages):
        if scanned:
            raise Unreadable(f"has no text layer on any of its {len(pages)} page(s) (scanned images?); run OCR on it "
                             "first (e.g. `ocrmypdf -l nld in.pdf out.pdf`) and add the result")
        raise Unreadable(f"holds no text ({len(pages)} empty page(s))")
    pitch = _usual_pitch(pages)
    text = "\f".join(_page_text(lines, pitch) for lines in pages)
    first = [line.text for line in pages[0]]
    meta, sources = _metadata(info, first[:40] + first[-3:])
    notes = ()
    if scanned:
        listed = ", ".join(map(str, scanned))
        notes = (f"p. {listed}: no text layer (scanned?), left out; the other pages are indexed",)
    return Extracted("pdf", text, meta, sources, pages=len(pages), notes=notes)
