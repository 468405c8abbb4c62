"""Which PDF library reads Kamerstukken best? Passages and words of each reader's text vs. the same document as text.

For each PDF (default: the generated test PDFs, tests/ingest/data/formats/*.pdf, made from data/corpus by
scripts/make_format_fixtures.py) the text of every candidate reader goes through the same parser and
chunker as the corpus's .txt of that document; reported per reader: the share of the text's passages
that come out identical (whitespace aside), the word-level similarity of the cleaned texts (difflib ratio),
pages per second (CPU time, the second of two reads). Candidates: pypdfium2 (rag/ingest/formats/pdf.py, and its
plain text without layout work), pdfplumber (lines with positions, the same paragraph rule) and pypdf
(plain and layout mode). pdfplumber and pypdf are not project dependencies; to rerun with them install
``pdfplumber==0.11.10 pypdf==7.1.0`` next to the project (a scratch virtualenv is enough).

    python scripts/compare_pdf_readers.py [PDF …]
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.ingest.chunk import chunk_document  # noqa: E402
from rag.ingest.corpus import load_corpus  # noqa: E402
from rag.ingest.formats import pdf as pdf_reader  # noqa: E402
from rag.ingest.normalize import normalize_text  # noqa: E402
from rag.ingest.parse import parse_document  # noqa: E402
from rag.types import Document  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "ingest" / "data" / "formats"
SOURCE = {"kst-32824-445": "kst-32824-445", "kst-32824-451": "vragen-actieagenda-integratie-2024"}


def pdfium_layout(path: Path) -> str:
    return pdf_reader.read(path).text


def pdfium_plain(path: Path) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    return "\f".join(page.get_textpage().get_text_range() for page in doc)


def pdfplumber_lines(path: Path) -> str:
    import pdfplumber

    pages = []
    with pdfplumber.open(path) as doc:
        for page in doc.pages:
            lines = []
            for line in page.extract_text_lines():
                sizes = [c["size"] for c in line["chars"]]
                lines.append(pdf_reader._Line(line["text"], page.height - line["bottom"], median(sizes)))
            pages.append(lines)
    pitch = pdf_reader._usual_pitch(pages)
    return "\f".join(pdf_reader._page_text(lines, pitch) for lines in pages)


def pypdf_plain(path: Path) -> str:
    import pypdf

    return "\f".join(page.extract_text() for page in pypdf.PdfReader(path).pages)


def pypdf_layout(path: Path) -> str:
    import pypdf

    pages = pypdf.PdfReader(path).pages
    return "\f".join(re.sub(r"\n\s*\n+", "\n\n", page.extract_text(extraction_mode="layout")) for page in pages)


READERS = {"pypdfium2 (formats/pdf.py)": pdfium_layout, "pypdfium2 plain": pdfium_plain,
           "pdfplumber lines": pdfplumber_lines, "pypdf plain": pypdf_plain, "pypdf layout": pypdf_layout}


def _passages(doc: Document) -> list[str]:
    return [" ".join(c.text.split()) for c in chunk_document(parse_document(doc))]


def compare(path: Path, truth: Document) -> None:
    want = _passages(truth)
    want_words = parse_document(truth).text.split()
    print(f"\n{path.name}: {len(want)} passages in the text version")
    for name, reader in READERS.items():
        try:
            reader(path)  # warm: imports
            started = time.process_time()  # CPU time: on a shared machine wall time measures the neighbours
            text = reader(path)
            took = time.process_time() - started
        except ImportError as exc:
            print(f"  {name:28s} not installed ({exc.name})")
            continue
        doc = Document(truth.meta, normalize_text(text), paged=True)
        got = set(_passages(doc))
        same = sum(p in got for p in want) / len(want)
        words = parse_document(doc).text.split()
        ratio = difflib.SequenceMatcher(None, want_words, words, autojunk=False).ratio()
        pages = text.count("\f") + 1
        print(f"  {name:28s} passages {same:6.1%}  words {ratio:6.1%}  {pages / took:7.1f} pages/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdfs", nargs="*", type=Path, default=sorted(FIXTURES.glob("kst-*.pdf")))
    args = parser.parse_args(argv)
    docs = {d.meta.id: d for d in load_corpus(ROOT / "data" / "corpus")}
    for path in args.pdfs:
        compare(path, docs[SOURCE[path.stem]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
