"""POST /v1/search: the passages that best answer a question, with citations."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from api.deps import ERRORS, RuntimeDep, SettingsDep, check_question, query_error
from api.errors import ApiError
from api.schemas import SearchRequest, SearchResponse
from api.security import AuthFirstRoute, public_access
from rag.search.retrieve import Filters, range_is_empty
from rag.service import QueryError

router = APIRouter(tags=["search"], dependencies=[Depends(public_access)], route_class=AuthFirstRoute)


@router.post("/v1/search", response_model=SearchResponse, responses=ERRORS, summary="Search passages")
async def search(body: SearchRequest, runtime: RuntimeDep, settings: SettingsDep) -> dict:
    """Ranked passages for a question (in any language: nl, en, tr, ar, pl, uk, …), each with its
    citation. Retrieval runs in a worker thread, at most ``VRAAGBAAK_MAX_CONCURRENCY`` at once."""
    query = check_question(body.query, settings, "query")
    loaded = runtime.require()
    filters = None
    if body.filters is not None:
        doc_ids = tuple(dict.fromkeys(body.filters.doc_ids or ()))
        unknown = [d for d in doc_ids if d not in loaded.service.index.documents]
        if unknown:
            raise ApiError(422, "unknown_document",
                           f"unknown document id(s): {', '.join(unknown)} (GET /v1/documents lists them)")
        date_from, date_to = body.filters.date_from, body.filters.date_to
        if range_is_empty(date_from, date_to):  # checked here, not in the schema: JSON Schema cannot compare fields
            raise ApiError(422, "empty_date_range", f"date_from {date_from} is after date_to {date_to}: "
                                                    "no document can match")
        if doc_ids or body.filters.date_from or body.filters.date_to:
            filters = Filters(doc_ids=doc_ids or None, date_from=body.filters.date_from,
                              date_to=body.filters.date_to)
    try:
        result = await runtime.search(loaded, query, body.top_k or settings.top_k, filters)
    except QueryError as exc:
        raise query_error(exc) from None
    return result.to_dict()
