"""Ingest: load → parse → chunk → embed → index, skipping everything when nothing changed."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.encoder import VECTOR_RECIPE, Encoder
from rag.ingest.chunk import CHUNKER_VERSION, chunk_document
from rag.config import Settings
from rag.ingest.corpus import SkippedFile, scan_corpus
from rag.ingest import instructions
from rag.ingest.dates import DATING_VERSION
from rag.ingest.formats import SUFFIXES
from rag.ingest.hyphenation import load_wordlist, wordlist_id
from rag.ingest.instructions import RULES_VERSION, FlaggedDocument
from rag.search.stores import Store, open_store
from rag.search.stores.faiss_store import INDEX_FORMAT
from rag.ingest.parse import PARSER_VERSION, parse_document
from rag.types import Chunk, Document, ParsedDocument


@dataclass
class BuildReport:
    status: str  # "built" | "up-to-date"
    version: str  # the active version's name: a build folder, or v<id> in PostgreSQL
    documents: int
    chunks: int
    embedded: int  # chunks that had to be embedded (not in the cache)
    seconds: float
    skipped: list[SkippedFile] = field(default_factory=list)  # corpus files left out, with the reason
    # documents holding instructions to the model (rag/ingest/instructions.py): indexed, never evidence
    flagged: list[FlaggedDocument] = field(default_factory=list)


def corpus_hash(corpus_dir: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(Path(corpus_dir).iterdir()):
        if f.suffix.lower() in {".json", *SUFFIXES}:  # documents, sidecars, manifest; *.metadata.xml too
            try:
                data = f.read_bytes()
            except OSError as exc:  # unreadable: skipped by the load; its state still counts
                data = f"unreadable: {exc.strerror or exc}".encode()
            h.update(f.name.encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def embedding_input(chunk: Chunk) -> str:
    """What the embedding model sees for one chunk. Measured on dev: EmbeddingGemma's title slot
    filled with the document title ranked worse (R@5 0.83) than "title: none" (0.89)."""
    return chunk.retrieval_text


def chunk_units(chunk: Chunk, parsed: ParsedDocument) -> list[str]:
    """The paragraphs (questions, answer paragraphs) inside a chunk, scored one by one so a
    precise fact is not diluted by the rest of a long chunk."""
    units = [b.text for b in parsed.blocks
             if b.kind in ("paragraph", "question", "answer") and chunk.char_start <= b.start and b.end <= chunk.char_end]
    return units or [chunk.text]


def chunk_corpus(documents: list[Document]) -> tuple[list[Chunk], list[list[str]]]:
    """All chunks of the corpus, and for each the texts of its units."""
    chunks: list[Chunk] = []
    units: list[list[str]] = []
    for doc in documents:
        parsed = parse_document(doc)
        for chunk in chunk_document(parsed):
            chunks.append(chunk)
            units.append(chunk_units(chunk, parsed))
    return chunks, units


def expected_manifest(settings: Settings, encoder_hash: str) -> dict:
    """What an index must have been built with to serve these settings. The precision and the vector
    recipe (embeddings/encoder.py VECTOR_RECIPE) make `vraagbaak index` rebuild an index whose vectors
    were computed another way, so the same corpus and settings always give the same vectors."""
    return {
        "model": settings.embedding_model,
        "model_hash": encoder_hash,
        "embedding_dtype": settings.embedding_dtype,
        "vector_recipe": f"{VECTOR_RECIPE}/{max(1, settings.embedding_batch_size)}",
        "chunker_version": CHUNKER_VERSION,
        "parser_version": PARSER_VERSION,
        "dating_version": DATING_VERSION,  # derived document dates (rag/ingest/dates.py) are index metadata
    }


def build_index(settings: Settings, encoder: Encoder | None = None, force: bool = False,
                progress: bool | None = None, should_stop=None, store: Store | None = None) -> BuildReport:
    """Build and publish a new index version in the configured store (or ``store``) unless an
    identical one is active. ``should_stop()`` is asked while embedding (EncodingStopped then; the
    published index is untouched)."""
    started = time.perf_counter()
    corpus_dir = Path(settings.corpus_dir)
    corpus = scan_corpus(corpus_dir)  # fails early, with a clear message, on a bad corpus
    documents = corpus.documents
    encoder = encoder or Encoder(settings)
    # The parsed text depends on the Dutch word list (line-end hyphens), so a new list means a rebuild;
    # "skipped" lets the service report left-out files without reading the corpus again; "instructions"
    # rebuilds when the rules that flag instructions change (the report in the manifest would be stale).
    wanted = {**expected_manifest(settings, encoder.model_hash), "corpus_hash": corpus_hash(corpus_dir),
              "wordlist": wordlist_id(), "skipped": [f.to_dict() for f in corpus.skipped],
              "index_type": settings.index_type, "format": INDEX_FORMAT, "instructions": RULES_VERSION}
    store = store if store is not None else open_store(settings)
    current = store.active_manifest()
    if not force and current and all(current.get(k) == v for k, v in wanted.items()):
        return BuildReport("up-to-date", store.active_name() or "", len(documents), current.get("count", 0), 0,
                           time.perf_counter() - started, corpus.skipped,
                           [FlaggedDocument.from_dict(d) for d in current.get("flagged") or []])
    chunks, units = chunk_corpus(documents)
    flagged = instructions.scan(chunks, {d.meta.id: d.meta.file for d in documents})
    load_wordlist.cache_clear()  # ~60 MB a serving process (reindex) need not keep
    unit_texts = [u for chunk_units_ in units for u in chunk_units_]
    unit_owner = np.array([i for i, chunk_units_ in enumerate(units) for _ in chunk_units_], dtype=np.int32)
    # One encode call for chunks and units: the cache and the progress bar see all the work.
    vectors, embedded = encoder.encode_documents([embedding_input(c) for c in chunks] + unit_texts, progress=progress,
                                                 should_stop=should_stop)
    chunk_vectors, unit_vectors = vectors[: len(chunks)], vectors[len(chunks):]
    manifest = {k: v for k, v in wanted.items() if k not in ("index_type", "format")}
    manifest["flagged"] = [f.to_dict() for f in flagged]  # the report, not part of the up-to-date check
    version = store.publish(manifest, chunks, [d.meta for d in documents], chunk_vectors, unit_vectors, unit_owner,
                            force=force)
    return BuildReport("built", version, len(documents), len(chunks), embedded, time.perf_counter() - started,
                       corpus.skipped, flagged)
