"""What every format reader returns (``Extracted``) or raises (``Unreadable``), and which files are documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rag.types import SourceBlock

SUFFIXES = (".txt", ".pdf", ".html", ".htm", ".xml")
# A file an XML publication brings along (its metadata record), read with it and not a document itself.
COMPANION = ".metadata.xml"


class Unreadable(ValueError):
    """The file cannot be indexed; the message is one line that says why (and what to do)."""


@dataclass(frozen=True)
class Extracted:
    """What a reader got out of one file.

    ``text``: the document's text for the text parser (PDF: pages separated by form feeds); for a structured
    format the plain text of ``blocks``. ``blocks`` and ``footnotes``: the structure a format marks up
    (rag.types.SourceBlock; footnote markers inline as sentinels), empty for text and PDF. ``meta``: fields
    read from the document (title, date, doc_type, reference, author, url), and ``sources`` where each was
    read ("PDF info Title"). ``pages``: a PDF's page count (0 for other formats)."""

    format: str  # "txt" | "pdf" | "html" | "xml"
    text: str
    meta: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    blocks: tuple[SourceBlock, ...] = ()
    footnotes: tuple[tuple[int, str], ...] = ()
    pages: int = 0
    notes: tuple[str, ...] = ()  # parts left out, each a line a person can act on ("p. 3: no text layer …")


def is_document(path: Path) -> bool:
    """A file of a format Vraagbaak reads (a publication's metadata record is not a document)."""
    return path.suffix.lower() in SUFFIXES and not path.name.lower().endswith(COMPANION)
