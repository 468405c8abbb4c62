"""Helpers for the format reader tests (pytest puts this folder on sys.path: ``from format_helpers import …``)."""

from __future__ import annotations

from pathlib import Path

from rag.ingest.chunk import chunk_document
from rag.ingest.parse import parse_document
from rag.types import Document

FORMATS = Path(__file__).resolve().parent.parent / "data" / "formats"

# The metadata every reader must find in the Kamerbrief nr. 445 (kst-32824-445.pdf, .html, .xml), each in
# its own format's places; the type is the printed head's ("Kamerbrief"), not DC.type's "Kamerstuk".
LETTER_445_META = {
    "title": "Brief over contacten met maatschappelijke organisaties (moties Palland en Becker)",
    "date": "2024-11-21",
    "reference": "Kamerstuk 32 824, nr. 445",
    "url": "https://zoek.officielebekendmakingen.nl/kst-32824-445.html",
    "doc_type": "Kamerbrief",
    "author": "J.N.J. Nobel, Staatssecretaris van Sociale Zaken en Werkgelegenheid",
}


def as_document(read, meta) -> Document:
    """What rag/ingest/corpus.py makes of a reader's result, with the given metadata."""
    return Document(meta, read.text, blocks=read.blocks, footnotes=read.footnotes, paged=read.format == "pdf")


def passages(doc: Document) -> list:
    return chunk_document(parse_document(doc))


def same_passages(expected: list, got: list) -> float:
    """The share of ``expected`` passages found in ``got`` with the same text (white space aside), question
    numbers and footnotes."""
    def key(c):
        return " ".join(c.text.split()), c.question_numbers, tuple((f.number, f.text) for f in c.footnotes)

    found = {key(c) for c in got}
    return sum(key(c) in found for c in expected) / len(expected)
