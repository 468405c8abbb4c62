"""Load: the corpus folder → Documents with real metadata.

The folder holds ``.txt``, ``.pdf``, ``.html``/``.htm`` and ``.xml`` documents (rag/ingest/formats/ reads
each format; a text file's encoding is detected by rag/ingest/normalize.py). Metadata, per field, in this
order: the document's entry in ``manifest.json``, else an optional sidecar ``<name>.json`` (same fields),
else what the document itself says (PDF document info and first page, HTML meta tags, the XML's metadata;
``DocumentMeta.derived`` names where each such field was read), else the file name and first line. A date the
metadata do not give is derived from the text (rag/ingest/dates.py: a date line, or bounds).

A document that cannot be read (not text, empty, a scanned PDF without a text layer, a damaged file, an
HTML page of only navigation, XML of another schema) is skipped with a one-line reason
(``SkippedFile``); the rest is loaded. Mistakes in the metadata (manifest, sidecars, duplicate ids)
still stop the load: they are the operator's, and silently dropping a document they described would
hide them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.ingest.dates import dated
from rag.ingest import formats
from rag.ingest.formats import Extracted, Unreadable
from rag.ingest.normalize import NotText, ascii_slug, decode_bytes, normalize_text
from rag.types import Document, DocumentMeta

log = logging.getLogger("vraagbaak.ingest")

MANIFEST = "manifest.json"
_META_FIELDS = ("id", "title", "date", "doc_type", "reference", "author", "url")


class CorpusError(ValueError):
    """A problem with the corpus a user can fix; the message says how."""


def read_text(path: Path) -> str:
    """A UTF-8 text file (manifest, sidecar, queries file) with LF line ends; CorpusError otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
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
    """A manifest entry or sidecar; fields it leaves out (or null) are filled from what the document says."""
    unknown = set(entry) - set(_META_FIELDS) - {"file", "_comment"}
    if unknown:
        raise CorpusError(f"{where}: unknown metadata field(s) {sorted(unknown)}; allowed: {', '.join(_META_FIELDS)}")
    fields = {k: entry.get(k) for k in _META_FIELDS}
    derived = {}
    for k, v in (read.meta.items() if read else ()):
        if fields.get(k) is None and k in fields:
            fields[k], derived[k] = v, read.sources[k]
    if not fields["id"] or not fields["title"]:
        raise CorpusError(f"{where}: every document needs an 'id' and a 'title'")
    return DocumentMeta(**fields, file=file, derived=derived)


def _load_manifest(corpus_dir: Path) -> dict[str, dict]:
    """file name → its manifest entry (checked: known fields, an id and a title)."""
    path = corpus_dir / MANIFEST
    if not path.exists():
        return {}
    try:
        entries = json.loads(read_text(path))["documents"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorpusError(f"{path} is not a valid manifest ({{\"documents\": [...]}}): {exc}") from exc
    metas = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("file"):
            raise CorpusError(f"{path}: entry {i} needs a 'file'")
        _meta_from(entry, entry["file"], f"{path} entry {i}")
        metas[entry["file"]] = entry
    return metas


def _fallback_meta(path: Path, text: str, read: Extracted | None = None) -> DocumentMeta:
    """Metadata of a document without a manifest entry: its sidecar, what it says itself, its name."""
    own_title = read.meta.get("title") if read else None
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        try:
            entry = json.loads(read_text(sidecar))
        except ValueError as exc:
            raise CorpusError(f"{sidecar} is not valid JSON: {exc}") from exc
        if not isinstance(entry, dict):
            raise CorpusError(f"{sidecar} must hold a JSON object")
        entry = {"id": _slug(path.stem), **({} if own_title else {"title": normalize_text(path.stem)}), **entry}
        return _meta_from(entry, path.name, str(sidecar), read)
    if own_title:
        return _meta_from({"id": _slug(path.stem)}, path.name, str(path), read)
    first_line = next((line.strip() for line in text.splitlines() if line.strip() and "\f" not in line),
                      normalize_text(path.stem))
    return _meta_from({"id": _slug(path.stem), "title": first_line[:120]}, path.name, str(path), read)


def _read(path: Path) -> tuple[str, Extracted | None]:
    """(text, what a format reader got) for one corpus file; CorpusError with the reason it cannot be used."""
    if path.suffix.lower() == ".txt":
        return read_document(path), None
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


def _one_per_name(files: list[Path], manifest: dict) -> tuple[list[Path], list[SkippedFile]]:
    """Files that share a name in several formats (``kst-32824-445.pdf`` and ``.xml``, as published) are one
    document: the file the manifest names is read, else the XML, HTML, PDF, text in that order; the others
    are skipped with the reason (two would be the same passages twice, under one id)."""
    by_name: dict[str, list[Path]] = {}
    for path in files:
        by_name.setdefault(path.stem.lower(), []).append(path)
    keep, skipped = [], []
    for group in by_name.values():
        group.sort(key=lambda p: (p.name not in manifest, _PREFERRED.get(p.suffix.lower(), 9)))
        keep.append(group[0])
        skipped += [SkippedFile(p.name, f"the same document as {group[0].name} (one name, two formats); "
                                        "remove one, or rename it if it is another document") for p in group[1:]]
    return sorted(keep), skipped


def load_corpus(corpus_dir: Path) -> list[Document]:
    """The readable documents of the corpus folder (skipped files are logged; see ``scan_corpus``)."""
    return scan_corpus(corpus_dir).documents


def scan_corpus(corpus_dir: Path) -> Corpus:
    """Documents and skipped files of a corpus folder. CorpusError when the folder is missing, holds no
    document, the metadata are wrong, or no document at all can be read (then the message lists why)."""
    corpus_dir = Path(corpus_dir)
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
    files, twins = _one_per_name(files, manifest)
    skipped.extend(twins)
    for path in files:
        try:
            text, read = _read(path)
        except CorpusError as exc:
            skipped.append(SkippedFile(path.name, f"the file {exc}"))
            # info, not warning: every up-to-date check scans the corpus, and `vraagbaak index`, /readyz and the
            # metrics report skipped files already (a warning repeated it on stderr at each `vraagbaak search`)
            log.info(f"skipped {path}: {skipped[-1].reason}; the other documents are indexed")
            continue
        entry = manifest.get(path.name)
        meta = _meta_from(entry, path.name, str(corpus_dir / MANIFEST), read) if entry else \
            _fallback_meta(path, text, read)
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
