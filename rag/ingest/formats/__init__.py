"""Format readers: one corpus file → its text or structure, the metadata it carries, its pages.

Every reader is ``read(path) -> Extracted`` and raises ``Unreadable`` with a one-line reason a person
can act on ("has no text layer on any of its 3 pages (a scan?) …"); rag/ingest/corpus.py turns that
into a skipped file while the rest of the corpus is indexed.

* ``.txt``: rag/ingest/corpus.py's ``read_document`` (encoding detected, normalised);
* ``.pdf``: ``pdf.py`` (pypdfium2: the text layer, page by page; document info and first page);
* ``.html`` / ``.htm``: ``html.py`` (the document's content, not the site's navigation; meta tags);
* ``.xml``: ``xml_ob.py`` (the officiële-bekendmakingen XML: its metadata and structure).

Open ``base.py`` first (the interface), then ``pdf.py``; ``kamerstuk.py`` reads what a Kamerstuk's head
says, for all three.
"""

from __future__ import annotations

from pathlib import Path

from rag.ingest.formats.base import COMPANION, SUFFIXES, Extracted, Unreadable, is_document

__all__ = ["COMPANION", "SUFFIXES", "Extracted", "Unreadable", "is_document", "read"]


def read(path: Path) -> Extracted:
    """The file read by the reader for its suffix. Raises Unreadable (and nothing else for a bad file)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from rag.ingest.formats import pdf

        return pdf.read(path)
    if suffix in (".html", ".htm"):
        from rag.ingest.formats import html

        return html.read(path)
    if suffix == ".xml":
        from rag.ingest.formats import xml_ob

        return xml_ob.read(path)
    raise Unreadable(f"has no reader for {suffix!r} files (read: {', '.join(SUFFIXES)})")
