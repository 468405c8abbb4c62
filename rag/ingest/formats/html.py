"""An HTML page → the document's content (not the site's navigation), its structure and its meta tags.

The main content is found by readability-lxml (Mozilla Readability's scoring on lxml): chosen over
trafilatura by measurement on the test pages (README "Corpus"): both kept every paragraph, Vraag/Antwoord
marker and footnote of the documents and none of the site navigation, also with the page's semantic
elements (``<main>``, ``<article>``, ``<nav>``, ``<aside>``) replaced by plain ``<div>``s; readability keeps
the page's own elements (ids, ``<sup>`` links, heading levels), returns nothing for a page of only
navigation (trafilatura returned its links as text), and brings fewer dependencies. Its default drops
paragraphs under 25 characters, among them answers such as "Ja."; we keep every paragraph.

Within the content: ``<h1>``–``<h6>`` are headings, ``<p>``, ``<li>``, ``<dt>``/``<dd>``, table rows and
text directly in a ``<div>`` are paragraphs. A footnote is a link to an element of the page
(``<sup><a href="#n1">1</a></sup>``, or a link whose class names a note) whose text is its number: the
marker stays in place, the target's text becomes the footnote and is not repeated as a paragraph.

Metadata: the officiële-bekendmakingen meta tags (``DC.title``, ``DC.identifier``,
``OVERHEIDop.dossiernummer`` …, rag/ingest/formats/kamerstuk.py), then ``og:title``/``<title>``, the
canonical link, and the printed head of the document. A page without running text (only navigation and
links) is Unreadable.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.ingest.formats.base import Extracted, Unreadable
from rag.ingest.formats.kamerstuk import from_fields, read_head
from rag.ingest.normalize import NotText, decode_bytes
from rag.ingest.pages import FN_CLOSE, FN_OPEN
from rag.types import SourceBlock

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = _HEADINGS | {"p", "li", "dt", "dd", "tr", "pre", "caption", "figcaption", "address"}
_DROP = {"script", "style", "noscript", "nav", "form", "button", "template", "svg", "iframe", "select"}
_NOTE_CLASS = re.compile(r"noot|note|footnote|voetnoot", re.I)
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,40}$")  # "… | Overheid.nl"
MIN_WORDS = 25  # running text (outside links) a page must have to be a document


def _words(text: str | None) -> str:
    return " ".join((text or "").split())


def _decode(data: bytes) -> str:
    head = data[:2048].decode("ascii", "replace")
    declared = re.search(r"<meta[^>]+charset=[\"']?([\w-]+)", head, re.I)
    if declared:
        try:
            return data.decode(declared.group(1))
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return decode_bytes(data)[0]
    except NotText as exc:
        raise Unreadable(f"is not HTML: {exc}") from None


class _Walker:
    def __init__(self, page):
        self.page = page  # the whole page: footnote targets may lie outside the main content
        self.blocks: list[SourceBlock] = []
        self.footnotes: dict[int, str] = {}
        self.note_ids: set[str] = set()
        self.link_words = 0

    def note(self, a) -> str | None:
        """A footnote marker's sentinel, its target's text recorded; None when ``a`` is no footnote link."""
        href, number = a.get("href", ""), _words(a.text_content())
        parent = a.getparent()
        if not href.startswith("#") or not number.isdigit() or len(number) > 3:
            return None
        if not (parent is not None and parent.tag == "sup") and not _NOTE_CLASS.search(a.get("class", "")):
            return None
        target = self.page.get_element_by_id(href[1:], None)
        if target is None:
            return None
        text = _words(target.text_content())
        text = re.sub(rf"^\[?{number}\]?[.):]?\s*", "", text)  # the note's own number (and back link)
        if not text:
            return None
        self.footnotes[int(number)] = text
        self.note_ids.add(href[1:])
        return f"{FN_OPEN}{int(number)}{FN_CLOSE}"

    def inline(self, el) -> tuple[str, bool]:
        """(text with footnote sentinels, whether it holds a line break)."""
        parts, broken = [el.text or ""], False
        for child in el:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in _DROP:
                pass
            elif tag == "br":
                parts.append(" ")
                broken = True
            elif tag == "a" and (marker := self.note(child)) is not None:
                parts.append(marker)
            elif tag == "sup" and len(child) == 1 and child[0].tag == "a" and (marker := self.note(child[0])):
                parts.append(marker + (child[0].tail or ""))
            elif tag in _BLOCKS or tag in ("ul", "ol", "table", "div"):
                pass  # nested blocks are walked on their own
            else:
                text, nested = self.inline(child)
                parts.append(text)
                broken |= nested
                if tag == "a":
                    self.link_words += len(text.split())
            parts.append(child.tail or "")
        return _words("".join(parts)), broken

    def add(self, text: str, heading: bool | None) -> None:
        if text.replace(FN_OPEN, "").replace(FN_CLOSE, "").strip():
            self.blocks.append(SourceBlock(text, heading))

    def walk(self, el, bullet: str = "") -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _DROP or not tag or el.get("id") in self.note_ids or el.get("hidden") is not None:
            return
        if tag in _BLOCKS:
            text, broken = self.inline(el)
            if tag == "tr":
                text = " ".join(_words(c.text_content()) for c in el if isinstance(c.tag, str))
            prefix = bullet if tag == "li" and not re.match(r"^([-–•·*]|\d+[.)])\s", text) else ""
            self.add(prefix + text, True if tag in _HEADINGS else (False if broken else None))
            for child in el:  # lists and tables inside a block
                if child.tag in ("ul", "ol", "table", "div") or child.tag in _BLOCKS:
                    self.walk(child)
            return
        if tag in ("ul", "ol"):
            start = int(el.get("start", "1")) if el.get("start", "1").isdigit() else 1
            for i, item in enumerate(c for c in el if c.tag == "li"):
                self.walk(item, f"{start + i}. " if tag == "ol" else "– ")
            return
        text = _words(el.text)
        if text:
            self.add(text, None)
        for child in el:
            self.walk(child)
            if _words(child.tail):
                self.add(_words(child.tail), None)


def _metadata(page, first_blocks: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    fields: dict[str, list[str]] = {}
    for el in page.iter("meta"):
        name = el.get("name") or el.get("property")
        content = _words(el.get("content"))
        if name and content:
            fields.setdefault(name, []).append(content)
    meta, sources = from_fields(fields, "HTML meta")

    def put(name: str, value: str | None, where: str) -> None:
        if value and name not in meta:
            meta[name], sources[name] = value, f"HTML {where}"

    put("title", fields.get("og:title", [None])[0], "meta og:title")
    canonical = next((el.get("href") for el in page.iter("link") if (el.get("rel") or "").lower() == "canonical"), None)
    put("url", canonical if (canonical or "").startswith(("http://", "https://")) else None, "link rel=canonical")
    put("url", next((u for u in fields.get("og:url", []) if u.startswith("http")), None), "meta og:url")
    head = read_head(first_blocks)
    if "doc_type" in head and meta.get("doc_type") in (None, "Kamerstuk"):  # the printed type says more
        meta.pop("doc_type", None)
    if "author" in head and sources.get("author") == "HTML meta OVERHEIDop.indiener":
        meta["author"] = f"{meta['author']}, {head.pop('author')[0]}"
        sources["author"] += " and the document head"
    for name, (value, where) in head.items():
        put(name, value, f"document head: {where.removeprefix('first page: ')}")
    title = page.find(".//title")
    put("title", _TITLE_SUFFIX.sub("", _words(title.text_content())) if title is not None else None, "<title>")
    return meta, sources


def read(path: Path) -> Extracted:
    """The page's content blocks, footnotes and metadata. Raises Unreadable (see the module docstring)."""
    import lxml.html
    from lxml.etree import ParserError
    from readability import Document as Readable

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
    text = _decode(data)
    if not re.search(r"<(html|body|p|div|h[1-6])\b", text[:100000], re.I):
        raise Unreadable("is not HTML (no <html>, <body> or paragraph elements)")
    try:
        page = lxml.html.document_fromstring(text)
        # min_text_length=1: by default paragraphs under 25 characters go, and with them answers like "Ja."
        main = lxml.html.fragment_fromstring(Readable(text, min_text_length=1).summary(html_partial=True),
                                             create_parent="div")
    except (ParserError, ValueError) as exc:
        raise Unreadable(f"cannot be read as HTML ({exc})") from None
    walker = _Walker(page)
    walker.walk(main)
    while walker.blocks and walker.blocks[-1].heading:  # "Noten" above the notes: a heading of nothing
        walker.blocks.pop()
    plain = [b.text.replace(FN_OPEN, " ").replace(FN_CLOSE, " ") for b in walker.blocks]
    running = sum(len(t.split()) for t in plain) - walker.link_words
    if running < MIN_WORDS or not any(len(t.split()) >= 8 for t in plain):
        links = len(page.findall(".//a"))
        raise Unreadable(f"has no document text, only navigation and links ({links} links, {max(running, 0)} words "
                         "of running text); save the page of the document itself")
    meta, sources = _metadata(page, [b.text for b in walker.blocks[:40]])
    return Extracted("html", "\n\n".join(plain), meta, sources, blocks=tuple(walker.blocks),
                     footnotes=tuple(sorted(walker.footnotes.items())))
