"""The officiële-bekendmakingen XML (Kamerstukken, Aanhangsel/Kamervragen) → structure and metadata (lxml).

The XML officielebekendmakingen.nl and the Tweede Kamer publish: ``<officiele-publicatie>`` holding its
``<metadata>`` (``<meta name="DC.identifier" content="kst-32824-445"/>`` …) and one publication, a
``<kamerstuk>`` (head: ``kamerstukkop``, ``dossier``, ``stuk`` with ``stuknr``/``titel``) or
``<kamervragen>``. The full metadata record can also come as a companion file, ``<name>.metadata.xml``
(root ``metadata_gegevens``, ``<metadata name=… content=…/>``), read with it when present.

Structure, mapped to the blocks the text parser yields for the same document (rag/ingest/parse.py):
``<al>`` a paragraph, ``<kop>``/``<tussenkop>`` a heading, ``<vraag>``/``<antwoord>`` a "Vraag N" /
"Antwoord …" marker block (its ``<nr>``) followed by its paragraphs, ``<li>`` a paragraph with its
``<li.nr>``, a table row a paragraph, ``<ondertekening>`` the closing signature; a ``<noot type="voet">``
a footnote at its marker's place. Text in elements not named here is kept as paragraphs, never dropped.

Parsed with entities unresolved and no network access (a hostile file cannot expand or fetch anything).
A file that is not well-formed, or is XML of another schema, is Unreadable with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.ingest.formats.base import COMPANION, Extracted, Unreadable
from rag.ingest.formats.kamerstuk import (doc_type, from_fields, kamerstuk_ident, office, official_url, reference,
                                           title_case)
from rag.ingest.pages import FN_CLOSE, FN_OPEN
from rag.types import SourceBlock

PUBLICATIONS = ("kamerstuk", "kamervragen", "handelingen", "staatscourant", "staatsblad", "stcrt", "stb")
ROOTS = ("officiele-publicatie", *PUBLICATIONS)
# The head of a publication: metadata, not running text.
_HEAD = {"metadata", "kamerstukkop", "dossier", "stuknr", "dagtekening", "datumtekst", "kamervraagkop",
         "kamervraagnummer", "meta"}
_SKIP = {"noot"} | _HEAD  # notes are placed by their marker
# Parts of a line that print apart: "<functie>De Minister,</functie><naam>…</naam>" has a space between them.
_SPACED = {"functie", "naam", "voornaam", "achternaam", "voorvoegsels", "nr", "titel", "label", "li.nr", "entry"}
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _syntax_error(exc) -> str:
    """libxml2's message with its position said once: "Premature end of data in tag <bar> (opened on line 1),
    at line 1, column 32" (lxml's ``msg`` already ends with ", line 1, column 32"; libxml2 writes an open
    tag as "bar line 1")."""
    last = exc.error_log.last_error
    message = last.message if last is not None and last.message else exc.msg.rsplit(", line ", 1)[0]
    message = re.sub(r"\b([\w.:-]+) line (\d+)\b", r"<\1> (opened on line \2)", message.strip())
    line, column = exc.position if exc.position else (exc.lineno, 0)
    return f"{message}, at line {line}, column {column}" if column else f"{message}, at line {line}"


def _parse(path: Path):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True,
                             huge_tree=False)
    try:
        return etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise Unreadable(f"is not well-formed XML ({_syntax_error(exc)}); is the file complete?") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None


def _words(text: str | None) -> str:
    return " ".join((text or "").split())


class _Reader:
    """Walks a publication in document order, collecting blocks and footnotes."""

    def __init__(self):
        self.blocks: list[SourceBlock] = []
        self.footnotes: dict[int, str] = {}
        self.questions = 0

    def inline(self, el) -> str:
        """An element's text with its footnote markers as sentinels (notes recorded), descendants inline."""
        parts = [el.text or ""]
        for child in el:
            name = _local(child.tag)
            if name == "noot":
                parts.append(self.note(child))
            elif name in ("lijst", "table"):
                pass  # a list or table inside a paragraph: its own blocks, after this one
            elif name in _SPACED:
                parts.append(f" {self.inline(child)} ")
            else:
                parts.append(self.inline(child))
            parts.append(child.tail or "")
        return _words("".join(parts))

    def note(self, el) -> str:
        number = next((_words(c.text) for c in el if _local(c.tag) == "noot.nr"), "")
        text = _words(" ".join(self.inline(al) for al in el if _local(al.tag) == "noot.al"))
        if el.get("type", "voet") != "voet" or not number.isdigit():
            return f" ({text})" if text else ""  # a table's note: kept where it stands
        self.footnotes[int(number)] = text
        return f"{FN_OPEN}{int(number)}{FN_CLOSE}"

    def add(self, text: str, heading: bool | None = None) -> None:
        if text.replace(FN_OPEN, "").replace(FN_CLOSE, "").strip():
            self.blocks.append(SourceBlock(text, heading))

    def marker(self, el, kind: str) -> None:
        nr = next((c for c in el if _local(c.tag) == "nr"), None)
        label = self.inline(nr) if nr is not None else ""
        if kind == "Vraag":
            self.questions += 1
            label = label if label.startswith("Vraag") else f"Vraag {label or self.questions}"
        elif not label.startswith("Antwoord"):
            label = f"Antwoord {label}".strip()
        self.add(label)
        for child in el:
            if _local(child.tag) != "nr":
                self.walk(child)

    def walk(self, el) -> None:
        name = _local(el.tag)
        if name in _SKIP or not name:
            return
        if name == "titel" and _local(el.getparent().tag) in ("stuk", *PUBLICATIONS):
            return  # the publication's title: metadata
        if name == "vraag":
            self.marker(el, "Vraag")
        elif name == "antwoord":
            self.marker(el, "Antwoord")
        elif name == "kop":
            parts = [self.inline(c) for c in el if _local(c.tag) in ("label", "nr", "titel")]
            self.add(" ".join(p for p in parts if p), heading=True)
        elif name == "tussenkop":
            self.add(self.inline(el), heading=True)
        elif name == "ondertekening":
            self.add(self.inline(el), heading=False)  # "De Minister …, <naam>": never a heading
        elif name == "al":
            self.add(self.inline(el))
            for child in el:
                if _local(child.tag) in ("lijst", "table"):
                    self.walk(child)
        elif name == "li":
            nr = next((self.inline(c) for c in el if _local(c.tag) == "li.nr"), "")
            first = True
            for child in el:
                if _local(child.tag) == "al":
                    self.add(f"{nr} {self.inline(child)}".strip() if first else self.inline(child))
                    first = False
                elif _local(child.tag) != "li.nr":
                    self.walk(child)
        elif name == "row":
            self.add(" ".join(self.inline(c) for c in el if self.inline(c)))
        elif len(el):
            if _words(el.text):
                self.add(_words(el.text))
            for child in el:
                self.walk(child)
                if _words(child.tail):
                    self.add(_words(child.tail))
        else:
            self.add(self.inline(el))


def _meta_fields(root, companion: Path) -> dict[str, list[str]]:
    """name → values of the publication's ``<meta>`` elements and of its companion metadata record."""
    fields: dict[str, list[str]] = {}
    records = [root]
    if companion.exists():
        records.append(_parse(companion))
    for record in records:
        for el in record.iter("{*}meta", "{*}metadata"):
            name, content = el.get("name"), _words(el.get("content"))
            if name and content and content not in fields.setdefault(name, []):
                fields[name].append(content)
    return fields


def _metadata(root, publication, fields: dict[str, list[str]]) -> tuple[dict[str, str], dict[str, str]]:
    """The metadata fields first (kamerstuk.from_fields), then what the publication's head elements say."""
    meta, sources = from_fields(fields, "XML")

    def put(name: str, value: str | None, where: str) -> None:
        if value and name not in meta:
            meta[name], sources[name] = value, f"XML {where}"

    stuk = publication.find(".//{*}stuk")
    titel = stuk.find("{*}titel") if stuk is not None else None
    stuk_title = _words(" ".join(titel.itertext())) if titel is not None else ""
    put("title", title_case(stuk_title) if stuk_title.isupper() else stuk_title, "<stuk><titel>")
    dated = next((d for d in root.iter("{*}datum") if _ISO.match(d.get("isodatum", ""))), None)
    put("date", dated.get("isodatum") if dated is not None else None, "<datum isodatum>")
    dossier, number = root.find(".//{*}dossiernr"), root.find(".//{*}ondernummer")
    if dossier is not None and number is not None and _words(number.text).isdigit():
        put("reference", reference(_words(dossier.text), _words(number.text)), "<dossiernr> and <ondernummer>")
        put("url", official_url(kamerstuk_ident(_words(dossier.text), _words(number.text))), "from the Kamerstuk number")
    kind = doc_type(stuk_title) if stuk_title else None
    if kind:  # the printed type is more telling than DC.type ("Kamerstuk")
        meta["doc_type"], sources["doc_type"] = kind, "XML <stuk><titel>"
    put("doc_type", "Kamervragen met antwoorden" if _local(publication.tag) == "kamervragen" else None, "<kamervragen>")
    post = office(stuk_title) if stuk_title else None
    if post and sources.get("author") == "XML OVERHEIDop.indiener":
        meta["author"], sources["author"] = f"{meta['author']}, {post}", "XML OVERHEIDop.indiener and <stuk><titel>"
    put("author", post, "<stuk><titel>")
    return meta, sources


def read(path: Path) -> Extracted:
    """The publication's blocks, footnotes and metadata. Raises Unreadable (see the module docstring)."""
    root = _parse(path)
    name = _local(root.tag)
    if name not in ROOTS:
        raise Unreadable(f"is XML of an unknown schema (root element <{name}>); Vraagbaak reads the officiële-"
                         "bekendmakingen XML (<officiele-publicatie>, <kamerstuk>, <kamervragen>)")
    publication = root if name in PUBLICATIONS else next(
        (el for el in root if _local(el.tag) in PUBLICATIONS), None)
    body = publication if publication is not None else root
    reader = _Reader()
    for child in body:
        reader.walk(child)
    if not reader.blocks:
        raise Unreadable(f"holds no document text (<{name}> without paragraphs)")
    fields = _meta_fields(root, path.with_name(path.name[: -len(".xml")] + COMPANION))
    meta, sources = _metadata(root, body, fields)
    text = "\n\n".join(b.text.replace(FN_OPEN, " ").replace(FN_CLOSE, " ") for b in reader.blocks)
    return Extracted("xml", text, meta, sources, blocks=tuple(reader.blocks),
                     footnotes=tuple(sorted(reader.footnotes.items())))
