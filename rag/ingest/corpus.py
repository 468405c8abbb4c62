"""Load: the corpus folder → Documents with real metadata.

Metadata comes from ``manifest.json`` in the corpus folder. A ``.txt`` dropped into the folder
without a manifest entry is ingested too: its metadata come from an optional sidecar
``<name>.json`` (same fields as a manifest entry), else from the file name and first line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rag.types import Document, DocumentMeta

MANIFEST = "manifest.json"
_META_FIELDS = ("id", "title", "date", "doc_type", "reference", "author", "url")


class CorpusError(ValueError):
    """A problem with the corpus a user can fix; the message says how."""


def read_text(path: Path) -> str:
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


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "document"


def _meta_from(entry: dict, file: str, where: str) -> DocumentMeta:
    unknown = set(entry) - set(_META_FIELDS) - {"file", "_comment"}
    if unknown:
        raise CorpusError(f"{where}: unknown metadata field(s) {sorted(unknown)}; allowed: {', '.join(_META_FIELDS)}")
    if not entry.get("id") or not entry.get("title"):
        raise CorpusError(f"{where}: every document needs an 'id' and a 'title'")
    return DocumentMeta(**{k: entry.get(k) for k in _META_FIELDS}, file=file)


def _load_manifest(corpus_dir: Path) -> dict[str, DocumentMeta]:
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
        metas[entry["file"]] = _meta_from(entry, entry["file"], f"{path} entry {i}")
    return metas


def _fallback_meta(path: Path, text: str) -> DocumentMeta:
    sidecar = path.with_suffix(".json")
    if sidecar.exists():
        try:
            entry = json.loads(read_text(sidecar))
        except ValueError as exc:
            raise CorpusError(f"{sidecar} is not valid JSON: {exc}") from exc
        if not isinstance(entry, dict):
            raise CorpusError(f"{sidecar} must hold a JSON object")
        entry = {"id": _slug(path.stem), "title": path.stem, **entry}
        return _meta_from(entry, path.name, str(sidecar))
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), path.stem)
    return DocumentMeta(id=_slug(path.stem), title=first_line[:120], file=path.name)


def load_corpus(corpus_dir: Path) -> list[Document]:
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist")
    manifest = _load_manifest(corpus_dir)
    files = sorted(corpus_dir.glob("*.txt"))
    if not files:
        raise CorpusError(f"no .txt documents in {corpus_dir}")
    missing = sorted(set(manifest) - {f.name for f in files})
    if missing:
        raise CorpusError(f"{corpus_dir / MANIFEST} names files that are not there: {', '.join(missing)}")
    docs = []
    for path in files:
        text = read_text(path)
        meta = manifest.get(path.name) or _fallback_meta(path, text)
        docs.append(Document(meta=meta, raw_text=text))
    ids = [d.meta.id for d in docs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CorpusError(f"duplicate document id(s) in {corpus_dir}: {', '.join(dupes)}")
    return docs
