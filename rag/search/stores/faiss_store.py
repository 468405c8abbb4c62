"""Index: chunks + vectors → a FAISS index on disk, published atomically with a manifest.

Layout under the index folder::

    current -> builds/<id>/          (a symlink, swapped with one atomic rename)
    builds/<id>/index.faiss          vectors (L2-normalised: inner product = cosine)
    builds/<id>/chunks.jsonl         the chunks, in vector order
    builds/<id>/units.npy            one vector per paragraph of each chunk (for max-sim scoring)
    builds/<id>/unit_owner.npy       the chunk each unit vector belongs to (non-decreasing)
    builds/<id>/manifest.json        model id and hash, dimension, corpus hash, chunker version …

A reader resolves ``current`` once and sees one complete build; an interrupted build leaves only
an unreferenced folder in ``builds/`` that the next build removes. :class:`FaissStore` is this layout
behind the store interface (rag/search/stores/base.py); its versions score every chunk exactly
(FAISS inner product, unit max-sim with numpy, BM25 with bm25s built at load).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from embeddings.write_errors import writing
from rag.search.duplicates import duplicate_groups
from rag.search.lexical import BM25, lexical_text
from rag.search.stores.base import REBUILD_HINT, Candidates, Filters, IndexUnavailable, IndexVersion, check_compatible
from rag.types import Chunk, DocumentMeta, Footnote

INDEX_FORMAT = 2
EXACT_UP_TO = 20000  # chunks scored exhaustively; above, the dense channel keeps FAISS's top 1000

__all__ = ["INDEX_FORMAT", "FaissStore", "IndexUnavailable", "REBUILD_HINT", "StoredIndex", "check_compatible",
           "load_index", "read_manifest", "write_index"]


@dataclass
class StoredIndex(IndexVersion):
    """One build folder, loaded: every chunk is scored for every query."""

    path: Path
    manifest: dict
    faiss_index: faiss.Index
    chunks: list[Chunk]
    documents: dict[str, DocumentMeta]
    unit_vectors: np.ndarray  # (n_units, dim)
    unit_owner: np.ndarray  # (n_units,) chunk index, non-decreasing

    def __post_init__(self) -> None:
        self.name = self.path.name
        self.groups = duplicate_groups(self.chunks)
        self._index_groups()
        titles = {d.id: d.title for d in self.documents.values()}
        self.bm25 = BM25([lexical_text(titles.get(c.doc_id, ""), c.section, c.retrieval_text) for c in self.chunks])
        owner = self.unit_owner
        # Units are stored chunk by chunk: the start of each chunk's run, for np.maximum.reduceat.
        self._unit_starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]]) if len(owner) else np.array([], int)
        self._unit_chunks = owner[self._unit_starts] if len(owner) else np.array([], int)

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.faiss_index.ntotal)
        scores, ids = self.faiss_index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
        return scores[0], ids[0]

    def candidates(self, query_vector: np.ndarray, terms: list[str], filters: Filters | None) -> Candidates:
        n = len(self.chunks)
        qv = np.asarray(query_vector, dtype=np.float32)
        dense = np.full(n, -1.0, dtype=np.float32)
        sims, ids = self.search(qv, n if n <= EXACT_UP_TO else 1000)
        valid = ids >= 0
        dense[ids[valid]] = sims[valid]
        unit = np.full(n, -1.0, dtype=np.float32)
        if len(self._unit_starts):
            unit[self._unit_chunks] = np.maximum.reduceat(self.unit_vectors @ qv, self._unit_starts)
        lexical = self.bm25.term_scores(terms)
        positions = np.arange(n)
        if filters is not None:
            positions = np.array([i for i in range(n) if self.admits(i, filters)], dtype=int)
        return Candidates(positions, dense[positions], unit[positions], lexical[positions])


def _chunk_to_json(chunk: Chunk) -> dict:
    d = dict(chunk.__dict__)
    d["footnotes"] = [f.__dict__ for f in chunk.footnotes]
    # Written only when set (PDF pages): an index of text documents stays byte for byte what it was, and
    # readable by the release before (INDEX_FORMAT unchanged).
    for key in ("page", "page_end"):
        if d[key] is None:
            del d[key]
    return d


def _meta_to_json(meta: DocumentMeta) -> dict:
    """A document's metadata as stored; ``derived`` only when the document gave any (see _chunk_to_json)."""
    d = meta.to_dict()
    if not d["derived"]:
        del d["derived"]
    return d


def _chunk_from_json(d: dict) -> Chunk:
    d = dict(d)
    d["footnotes"] = tuple(Footnote(**f) for f in d["footnotes"])
    d["question_numbers"] = tuple(d["question_numbers"])
    d["part"] = tuple(d["part"])
    return Chunk(**d)


def make_faiss_index(vectors: np.ndarray, index_type: str) -> faiss.Index:
    dim = vectors.shape[1]
    if index_type == "flat":
        index = faiss.IndexFlatIP(dim)  # exact; right for corpora up to ~10^5 chunks
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = 128
    else:
        raise ValueError(f"unknown index type {index_type!r}: use 'flat' or 'hnsw'")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class _Writes:
    """A file seen by numpy as a plain writable object: numpy then writes in chunks through ``write``
    (Python's, with the errno) instead of C's fwrite on the file descriptor."""

    def __init__(self, fh):
        self.write = fh.write


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:
        np.save(_Writes(fh), array)


def write_index(index_dir: Path, manifest: dict, vectors: np.ndarray, chunks: list[Chunk],
                documents: list[DocumentMeta], index_type: str, unit_vectors: np.ndarray,
                unit_owner: np.ndarray) -> Path:
    """Write a complete build, then point ``current`` at it in one atomic step."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    tmp = builds / f".tmp-{build_id}"
    tmp.mkdir()
    try:
        # Every file through Python's own writes: FAISS's writer ignores a failing fclose (a full disk
        # then leaves a truncated index.faiss behind), and numpy's fwrite reports a short write without
        # an errno ("537600 requested and 262112 written"); Python's raise OSError(ENOSPC).
        with open(tmp / "index.faiss", "wb") as fh:
            fh.write(memoryview(faiss.serialize_index(make_faiss_index(vectors, index_type))))
        _save_npy(tmp / "units.npy", np.asarray(unit_vectors, dtype=np.float32))
        _save_npy(tmp / "unit_owner.npy", np.asarray(unit_owner, dtype=np.int32))
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
            for chunk in chunks:
                fh.write(json.dumps(_chunk_to_json(chunk), ensure_ascii=False) + "\n")
        (tmp / "documents.json").write_text(json.dumps([_meta_to_json(d) for d in documents], ensure_ascii=False,
                                                        indent=1))
        full_manifest = {**manifest, "format": INDEX_FORMAT, "index_type": index_type, "count": len(chunks),
                         "dimension": int(vectors.shape[1]), "built_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        # The manifest goes last: a build folder without one is incomplete by definition.
        (tmp / "manifest.json").write_text(json.dumps(full_manifest, indent=1))
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        final = builds / build_id
        tmp.rename(final)
        link_tmp = index_dir / f".current-{build_id}"
        link_tmp.symlink_to(Path("builds") / build_id)
        os.replace(link_tmp, index_dir / "current")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(index_dir, keep=final.name)
    return final


def _prune(index_dir: Path, keep: str) -> None:
    """Remove old builds and leftovers of interrupted ones (never the one ``current`` names)."""
    for entry in (index_dir / "builds").iterdir():
        if entry.name != keep:
            shutil.rmtree(entry, ignore_errors=True)
    for entry in index_dir.glob(".current-*"):
        entry.unlink(missing_ok=True)


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / "current" / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def load_index(index_dir: Path, expected: dict) -> StoredIndex:
    current = index_dir / "current"
    if not current.exists():
        raise IndexUnavailable(f"no index at {index_dir}; {REBUILD_HINT}")
    path = current.resolve()  # resolve once: a concurrent rebuild cannot mix two builds
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise IndexUnavailable(f"the index at {path} has no readable manifest ({exc}); {REBUILD_HINT}") from exc
    check_compatible(manifest, {**expected, "format": INDEX_FORMAT}, path)
    try:
        faiss_index = faiss.read_index(str(path / "index.faiss"))
        with open(path / "chunks.jsonl", encoding="utf-8") as fh:
            chunks = [_chunk_from_json(json.loads(line)) for line in fh]
        documents = {d["id"]: DocumentMeta(**d) for d in json.loads((path / "documents.json").read_text())}
        unit_vectors = np.load(path / "units.npy")
        unit_owner = np.load(path / "unit_owner.npy")
    except (OSError, ValueError, RuntimeError) as exc:
        raise IndexUnavailable(f"the index at {path} is damaged ({exc}); {REBUILD_HINT}") from exc
    if faiss_index.ntotal != len(chunks):
        raise IndexUnavailable(f"the index at {path} has {faiss_index.ntotal} vectors for {len(chunks)} chunks; {REBUILD_HINT}")
    if len(unit_owner) != len(unit_vectors) or (len(unit_owner) and int(unit_owner.max()) >= len(chunks)):
        raise IndexUnavailable(f"the index at {path} has inconsistent unit vectors; {REBUILD_HINT}")
    return StoredIndex(path=path, manifest=manifest, faiss_index=faiss_index, chunks=chunks, documents=documents,
                       unit_vectors=unit_vectors, unit_owner=unit_owner)


class FaissStore:
    """The embedded store: builds in ``index_dir`` (see the module docstring)."""

    def __init__(self, index_dir: Path, index_type: str = "flat"):
        self.index_dir = Path(index_dir)
        self.index_type = index_type

    def __str__(self) -> str:
        return str(self.index_dir)

    def active_manifest(self) -> dict | None:
        return read_manifest(self.index_dir)

    def active_name(self) -> str | None:
        """The build ``current`` names (one readlink)."""
        try:
            return Path(os.readlink(self.index_dir / "current")).name
        except OSError:
            return None

    def load(self, expected: dict) -> StoredIndex:
        return load_index(self.index_dir, expected)

    def publish(self, manifest: dict, chunks: list[Chunk], documents: list[DocumentMeta], vectors: np.ndarray,
                unit_vectors: np.ndarray, unit_owner: np.ndarray, force: bool = False) -> str:
        """Write a new build and point ``current`` at it; IndexWriteError (one line: the cause, this
        folder, what to do) when the disk is full or not writable, the active build untouched."""
        with writing("the index", self.index_dir, "VRAAGBAAK_INDEX_DIR"):
            return write_index(self.index_dir, manifest, vectors, chunks, documents, self.index_type, unit_vectors,
                               unit_owner).name
