"""Load: the corpus folder → Documents with real metadata.

The folder holds ``.txt``, ``.pdf``, ``.html``/``.htm`` and ``.xml`` documents (rag/ingest/formats/ reads
each format; a text file's encoding is detected by rag/ingest/normalize.py). Metadata, per field, in this
order: the document's entry in ``manifest.json``, else an optional sidecar ``<name>.json`` (same fields),
else what the document itself says (PDF document info and first page, HTML meta tags, the XML's metadata;
``DocumentMeta.derived`` names where each such field was read), else the file name and first line. A date the
metadata do not give is derived from the text (rag/ingest/dates.py: a date line, or bounds).

A document that cannot be read (not text, empty, a scanned PDF without a text layer, a damaged file, an
HTML page of only navigation, XML of another schema) or whose own metadata are wrong (a sidecar that is not
a JSON object, a field that is not text, a date that is not a real one) is skipped with a one-line reason
(``SkippedFile``, reported by ``vraagbaak index``, /readyz and the reindex status); the rest is loaded. One
name in several formats is one document: the first readable of them is used. Mistakes that concern every
document (a manifest that is not one, duplicate ids) still stop the load.
"""

from __future__ import annotations

import codecs
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.ingest.dates import dated
from rag.ingest import formats
from rag.ingest.formats import Extracted, Unreadable
from rag.ingest.normalize import NotText, ascii_slug, decode_bytes, normalize_text
from rag.search.stores.base import check_date
from rag.types import Document, DocumentMeta

log = logging.getLogger("vraagbaak.ingest")

MANIFEST = "manifest.json"
_META_FIELDS = ("id", "title", "date", "doc_type", "reference", "author", "url")


class CorpusError(ValueError):
    """A problem with the corpus a user can fix; the message says how."""


# A byte order mark names the encoding for certain (UTF-32's before UTF-16's: FF FE 00 00 starts with FF FE),
# as Notepad's "Unicode" and PowerShell's redirection write; the codec reads and drops the mark.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def read_text(path: Path) -> str:
    """A UTF-8 text file (manifest, sidecar, queries file) with LF line ends, or UTF-16/32 with its byte
    order mark; CorpusError otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from exc
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8-sig")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8-sig":
            raise CorpusError(f"{path} starts with a {encoding.upper()} byte order mark but is not valid "
                              f"{encoding.upper()} (invalid bytes at position {exc.start}); save it as UTF-8") from exc
        raise CorpusError(
            f"{path} is not UTF-8 text (invalid byte at position {exc.start}); "
            f"convert it first, e.g. `iconv -f windows-1252 -t utf-8 {path.name}`"
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file left out of the index, and why (one line a person can act on)."""

    file: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    skipped: list[SkippedFile]


def read_document(path: Path) -> str:
    """A document's text: encoding detected, normalised (NFKC, soft hyphens, NBSP, line ends).

    Raises CorpusError when the file cannot be read, is not text, or holds no text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot be read ({exc.strerror or exc})") from exc
    try:
        text, _ = decode_bytes(data)
    except NotText as exc:
        raise CorpusError(f"is not text: {exc}") from exc
    text = normalize_text(text)
    if not text.strip():
        raise CorpusError("is empty" if not data else "holds no text (only white space)")
    return text


def _slug(name: str) -> str:
    return ascii_slug(name)


def _meta_from(entry: dict, file: str, where: str, read: Extracted | None = None) -> DocumentMeta:
    """A manifest entry or sidecar; fields it leaves out (or null, or empty) are filled from what the document
    says. CorpusError naming ``where`` and the field when a value is not text or a date is not a real date:
    an index must never hold metadata the service cannot serve."""
    unknown = set(entry) - set(_META_FIELDS) - {"file", "_comment"}
    if unknown:
        raise CorpusError(f"{where}: unknown metadata field(s) {sorted(unknown)}; allowed: {', '.join(_META_FIELDS)}")
    fields = {}
    for k in _META_FIELDS:
        value = entry.get(k)
        if value is not None and not isinstance(value, str):
            raise CorpusError(f"{where}: {k!r} must be text (a JSON string), not {json.dumps(value)[:40]}")
        fields[k] = value.strip() or None if isinstance(value, str) else None
    if fields["date"]:
        try:
            fields["date"] = check_date(fields["date"])
        except ValueError as exc:
            raise CorpusError(f"{where}: 'date' {exc}") from None
    derived = {}
    for k, v in (read.meta.items() if read else ()):
        if fields.get(k) is None and k in fields:
            fields[k], derived[k] = v, read.sources[k]
    if not fields["id"] or not fields["title"]:
        raise CorpusError(f"{where}: every document needs an 'id' and a 'title'")
    return DocumentMeta(**fields, file=file, derived=derived)


def _load_manifest(corpus_dir: Path) -> dict[str, tuple[dict, str]]:
    """file name → (its manifest entry, where it stands: "manifest.json entry 3"). CorpusError when the
    manifest as a whole is unusable (not JSON, no "documents" list, an entry without a "file"): that is every
    document's metadata. An entry's own mistakes
    (a field that is not text, a date that is not one) skip only its document (``scan_corpus``)."""
    path = corpus_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        entries = json.loads(read_text(path))["documents"]
        if not isinstance(entries, list):
            raise TypeError("'documents' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise CorpusError(f"{path} is not a valid manifest ({{\"documents\": [...]}}): {exc}") from exc
    metas = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str) or not entry["file"]:
            raise CorpusError(f"{path}: entry {i} needs a 'file' (the document's file name)")
        metas[entry["file"]] = (entry, f"{MANIFEST} entry {i}")
    return metas


def _first_line(path: Path, text: str) -> str:
    line = next((line.strip() for line in text.splitlines() if line.strip() and "\f" not in line),
                normalize_text(path.stem))
    return line[:120]


def _fallback_meta(path: Path, text: str, read: Extracted | None = None) -> DocumentMeta:
    """Metadata of a document without a manifest entry: its sidecar, what it says itself, its first line and
    name. CorpusError (the document is skipped) when the sidecar is not a JSON object of text fields."""
    own_title = read.meta.get("title") if read else None
    defaults = {"id": _slug(path.stem), **({} if own_title else {"title": _first_line(path, text)})}
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        try:
            entry = json.loads(read_text(sidecar))
        except ValueError as exc:
            raise CorpusError(f"its sidecar {sidecar.name} is not valid JSON: {exc}") from exc
        if not isinstance(entry, dict):
            raise CorpusError(f"its sidecar {sidecar.name} must hold a JSON object ({{\"date\": \"2024-11-21\"}})")
        given = {k: v for k, v in entry.items() if v is not None and v != ""}
        return _meta_from({**defaults, **given}, path.name, f"its sidecar {sidecar.name}", read)
    return _meta_from(defaults, path.name, str(path), read)


def _read(path: Path) -> tuple[str, Extracted | None]:
    """(text, what a format reader got) for one corpus file; CorpusError with the reason it cannot be used."""
    if path.suffix.lower() == ".txt":
        return read_document(path), None
    try:
        empty = path.stat().st_size == 0
    except OSError as exc:
        raise CorpusError(f"cannot be read ({exc.strerror or exc})") from exc
    if empty:
        raise CorpusError("is empty (0 bytes)")
    try:
        read = formats.read(path)
    except Unreadable as exc:
        raise CorpusError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 — a library's failure on one odd file must not stop the others
        log.warning(f"reading {path} failed", exc_info=True)
        raise CorpusError(f"could not be read ({type(exc).__name__}: {exc})") from None
    return normalize_text(read.text), read


# Of one document in several formats, the one whose structure is marked up best is read.
_PREFERRED = {".xml": 0, ".html": 1, ".htm": 1, ".pdf": 2, ".txt": 3}


def _twins(files: list[Path], manifest: dict) -> list[list[Path]]:
    """Files that share a name in several formats (``kst-32824-445.pdf`` and ``.xml``, as published) are one
    document: each group in the order they are tried — the file the manifest names, else XML, HTML, PDF, text
    (two would be the same passages twice, under one id)."""
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(path.stem.lower(), []).append(path)
    groups = [sorted(g, key=lambda p: (p.name not in manifest, _PREFERRED.get(p.suffix.lower(), 9)))
              for g in by_name.values()]
    return sorted(groups, key=lambda g: g[0])


def load_corpus(corpus_dir: Path) -> list[Document]:
    """The readable documents of the corpus folder (skipped files are logged; see ``scan_corpus``)."""
    return scan_corpus(corpus_dir).documents


def scan_corpus(corpus_dir: Path) -> Corpus:
    """Documents and skipped files of a corpus folder. CorpusError when the folder is missing, holds no
    document, the metadata are wrong, or no document at all can be read (then the message lists why)."""
    corpus_dir = Path(corpus_dir)
    if corpus_dir.exists() and not corpus_dir.is_dir():
        raise CorpusError(f"{corpus_dir} is a file, not a folder; give the folder that holds the documents")
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist")
    manifest = _load_manifest(corpus_dir)
    files = sorted(p for p in corpus_dir.iterdir() if formats.is_document(p))
    if not files:
        raise CorpusError(f"no documents ({', '.join(formats.SUFFIXES)}) in {corpus_dir}")
    missing = sorted(set(manifest) - {f.name for f in files})
    if missing:
        raise CorpusError(f"{corpus_dir / MANIFEST} names files that are not there: {', '.join(missing)}")
    docs, skipped = [], []
    for group in _twins(files, manifest):
        used = None
        for path in group:
            if used is not None:
                skipped.append(SkippedFile(path.name, f"the same document as {used.name} (one name, two formats); "
                                                      "remove one, or rename it if it is another document"))
                continue
            try:
                text, read = _read(path)
            except CorpusError as exc:
                reason = f"the file {exc}"
            else:
                try:
                    entry, where = manifest.get(path.name) or (None, "")
                    meta = _meta_from(entry, path.name, f"{corpus_dir / MANIFEST}: {where}", read) if entry else \
                        _fallback_meta(path, text, read)
                    reason = None
                except CorpusError as exc:
                    reason = str(exc)  # names the manifest entry or sidecar and the field
            if reason is not None:
                skipped.append(SkippedFile(path.name, reason))
                # info, not warning: every up-to-date check scans the corpus, and `vraagbaak index`, /readyz and the
                # metrics report skipped files already (a warning repeated it on stderr at each `vraagbaak search`)
                log.info(f"skipped {path}: {reason}; the other documents are indexed")
                continue
            used = path
            meta = dated(meta, text)  # a date the metadata lack is read from the text (rag/ingest/dates.py)
            if read is None:
                docs.append(Document(meta=meta, raw_text=text))
            else:
                docs.append(Document(meta=meta, raw_text=text, blocks=read.blocks, footnotes=read.footnotes,
                                     paged=read.format == "pdf"))
                for note in read.notes:  # parts of an indexed file that were left out (a scanned page)
                    skipped.append(SkippedFile(path.name, note))
                    log.info(f"{path}: {note}")
    if not docs:
        raise CorpusError(f"no readable documents in {corpus_dir}: " + "; ".join(map(str, skipped)))
    ids = [d.meta.id for d in docs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CorpusError(f"duplicate document id(s) in {corpus_dir}: {', '.join(dupes)}")
    return Corpus(docs, skipped)
