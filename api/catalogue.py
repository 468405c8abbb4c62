"""Passages by id and in document order, for the documents and passages endpoints (citation links)."""

from __future__ import annotations

from dataclasses import dataclass

from rag.search.stores.faiss_store import StoredIndex
from rag.types import Chunk


@dataclass(frozen=True)
class Catalogue:
    by_id: dict[str, Chunk]
    by_doc: dict[str, list[Chunk]]  # each document's passages by position in the text
    position: dict[str, int]  # passage id → index in by_doc[its document]

    @classmethod
    def from_index(cls, index: StoredIndex) -> "Catalogue":
        by_doc: dict[str, list[Chunk]] = {doc_id: [] for doc_id in index.documents}
        by_id: dict[str, Chunk] = {}
        for chunk in index.chunks:
            by_id.setdefault(chunk.id, chunk)
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        position = {}
        for doc_id, chunks in by_doc.items():
            chunks.sort(key=lambda c: (c.char_start, c.char_end))
            position.update({c.id: i for i, c in enumerate(chunks)})
        return cls(by_id=by_id, by_doc=by_doc, position=position)

    def neighbours(self, chunk: Chunk) -> tuple[Chunk | None, Chunk | None]:
        """The passages just before and after this one in the same document."""
        siblings = self.by_doc.get(chunk.doc_id, [])
        i = self.position.get(chunk.id)
        if i is None:
            return None, None
        return (siblings[i - 1] if i > 0 else None), (siblings[i + 1] if i + 1 < len(siblings) else None)
