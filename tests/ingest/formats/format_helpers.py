"""Helpers for the format reader tests (pytest puts this folder on sys.path: ``from format_helpers import …``)."""

from __future__ import annotations

from pathlib import Path

from rag.ingest.chunk import chunk_document
from rag.ingest.parse import parse_document
from rag.types import Document

FORMATS = Path(__file__).resolve().parent.parent / "data" / "formats"


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
