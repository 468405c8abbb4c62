"""GET /v1/documents, /v1/documents/{id} and /v1/passages/{id}: what a citation link points at.

Passage ids contain a '#' (``kst-32824-445#34d73cff74``): url-encode it as ``%23`` in the path.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import ERRORS, RuntimeDep
from api.errors import ApiError, short_id
from api.schemas import DocumentDetail, DocumentList, ErrorResponse, PassageDetail
from api.security import public_access
from rag.search.citations import make_citation
from rag.types import Chunk, DocumentMeta

router = APIRouter(tags=["documents"], dependencies=[Depends(public_access)])


_RESPONSES = {401: ERRORS[401], 503: ERRORS[503],
              404: {"model": ErrorResponse, "description": "No document or passage with this id"}}


def _summary(meta: DocumentMeta, passages: int) -> dict:
    return {**meta.to_dict(), "passage_count": passages}


def _brief(chunk: Chunk | None) -> dict | None:
    if chunk is None:
        return None
    return {"id": chunk.id, "text": chunk.text, "section": chunk.section,
            "question_numbers": list(chunk.question_numbers), "char_start": chunk.char_start,
            "char_end": chunk.char_end, "page": chunk.page, "page_end": chunk.page_end}


@router.get("/v1/documents", response_model=DocumentList, responses=_RESPONSES, summary="List the documents")
async def list_documents(runtime: RuntimeDep) -> dict:
    loaded = runtime.require()
    by_doc = loaded.catalogue.by_doc
    docs = sorted(loaded.service.index.documents.values(), key=lambda d: (d.date or "", d.id), reverse=True)
    return {"count": len(docs), "documents": [_summary(d, len(by_doc.get(d.id, ()))) for d in docs]}


@router.get("/v1/documents/{doc_id}", response_model=DocumentDetail, responses=_RESPONSES,
            summary="One document and its passages")
async def get_document(doc_id: str, runtime: RuntimeDep) -> dict:
    loaded = runtime.require()
    meta = loaded.service.index.documents.get(doc_id)
    if meta is None:
        raise ApiError(404, "document_not_found", f"no document with id {short_id(doc_id)!r} (GET /v1/documents lists them)")
    chunks = loaded.catalogue.by_doc.get(doc_id, [])
    return {**_summary(meta, len(chunks)), "passages": [_brief(c) for c in chunks]}


@router.get("/v1/passages/{passage_id:path}", response_model=PassageDetail, responses=_RESPONSES,
            summary="One passage with its citation and neighbours")
async def get_passage(passage_id: str, runtime: RuntimeDep) -> dict:
    loaded = runtime.require()
    chunk = loaded.catalogue.by_id.get(passage_id)
    if chunk is None:
        raise ApiError(404, "passage_not_found",
                       f"no passage with id {short_id(passage_id)!r} in the current index (ids change when a document does)")
    meta = loaded.service.index.documents[chunk.doc_id]
    previous, following = loaded.catalogue.neighbours(chunk)
    citation = make_citation(chunk, meta)
    return {
        **_brief(chunk),
        "context": chunk.context or None,
        "footnotes": [{"number": f.number, "text": f.text} for f in chunk.footnotes],
        "citation": citation.label,
        "url": citation.url,
        "document": _summary(meta, len(loaded.catalogue.by_doc.get(chunk.doc_id, ()))),
        "previous": _brief(previous),
        "next": _brief(following),
    }
