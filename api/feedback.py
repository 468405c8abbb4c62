"""POST /v1/feedback (citizens: thumbs up or down on an answer, with an optional comment) and
GET /v1/feedback (API key: the stored feedback as JSON pages or a CSV export).

Storage is rag/feedback/ (SQLite at VRAAGBAAK_FEEDBACK_DB, or PostgreSQL at VRAAGBAAK_DATABASE_URL); this
module only speaks HTTP.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import ERRORS
from api.errors import ApiError
from api.request_id import current_request_id
from api.ratelimit import feedback_rate_limit
from api.feedback_schemas import FeedbackCreated, FeedbackList, FeedbackRequest
from api.schemas import ErrorResponse
from api.security import AuthFirstRoute, admin_access, public_access
from rag.feedback import MAX_SQL_INT, FeedbackStore, FeedbackStoreError, NewFeedback, open_feedback_store

log = logging.getLogger("vraagbaak.api")
router = APIRouter(tags=["feedback"], route_class=AuthFirstRoute)

_UNAVAILABLE = {"model": ErrorResponse, "description": "The feedback database cannot be used"}
_ADMIN = {
    401: {"model": ErrorResponse, "description": "No API key, or not a valid one"},
    403: {"model": ErrorResponse, "description": "Admin endpoints are disabled: VRAAGBAAK_API_KEYS is empty"},
    422: ERRORS[422],
    503: _UNAVAILABLE,
}


def feedback_store(request: Request) -> FeedbackStore:
    """The app's store, made on first use (it touches the disk only when feedback is sent or read)."""
    store = getattr(request.app.state, "feedback_store", None)
    if store is None:
        store = request.app.state.feedback_store = open_feedback_store(request.app.state.settings)
    return store


StoreDep = Annotated[FeedbackStore, Depends(feedback_store)]


@router.post("/v1/feedback", status_code=201, response_model=FeedbackCreated,
             dependencies=[Depends(public_access)], summary="Send feedback on an answer",
             responses={400: ERRORS[400], 401: ERRORS[401], 413: ERRORS[413], 415: ERRORS[415], 422: ERRORS[422],
                        429: {"model": ErrorResponse, "description": "Too much feedback from this address "
                              "(VRAAGBAAK_FEEDBACK_PER_MINUTE); wait Retry-After seconds"},
                        503: _UNAVAILABLE})
async def send_feedback(body: FeedbackRequest, store: StoreDep, request: Request) -> dict:
    """Thumbs up or down on one answer of POST /v1/ask (its ``answer_id``), with an optional comment.
    Send what the answer was about too (question, answer text, cited passage ids, mode, language):
    the feedback is useful later only with it. No key needed unless VRAAGBAAK_REQUIRE_API_KEY is set.
    At most VRAAGBAAK_FEEDBACK_PER_MINUTE per client address (default 20), else 429 with Retry-After;
    only valid feedback counts (a 400, 415 or 422 does not)."""
    feedback_rate_limit(request)
    item = NewFeedback(answer_id=body.answer_id, rating=body.rating, comment=body.comment.strip(),
                       question=body.question.strip(), answer=body.answer, passage_ids=tuple(body.passage_ids),
                       mode=body.mode, language=body.language, abstained=body.abstained,
                       request_id=current_request_id())
    try:
        stored = await anyio.to_thread.run_sync(store.add, item)
    except FeedbackStoreError:
        log.exception("storing feedback failed")
        raise ApiError(503, "feedback_unavailable", "the feedback could not be stored; please try again later") from None
    return {"id": stored.id, "created_at": stored.created_at, "answer_id": stored.answer_id}


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


@router.get("/v1/feedback", response_model=FeedbackList, dependencies=[Depends(admin_access)],
            summary="The feedback received (JSON or CSV)",
            responses={**_ADMIN, 200: {"description": "A page of feedback as JSON, or all of it as CSV",
                                       "content": {"text/csv": {}}}})
async def list_feedback(
    request: Request, store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="Rows per page (JSON)")] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_SQL_INT, description="Rows to skip (JSON); at most SQLite's largest "
                                                                     "integer, 2^63 - 1")] = 0,
    rating: Annotated[Literal["up", "down"] | None, Query(description="Only this rating")] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(
        description="csv: every matching row, oldest first, as a download (also with 'Accept: text/csv')")] = None,
):
    """JSON: the newest feedback first, ``limit`` rows after ``offset``, and ``count`` of all matching
    rows. CSV: every matching row, oldest first (cells a spreadsheet would run as a formula are
    prefixed with ``'``). Needs an API key from VRAAGBAAK_API_KEYS."""
    try:
        if _wants_csv(request, format):
            await anyio.to_thread.run_sync(store.count)  # a broken database is a 503 before the download starts
            stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
            return StreamingResponse(store.csv_lines(rating=rating), media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="vraagbaak-feedback-{stamp}.csv"',
                "Cache-Control": "no-store"})

        def page() -> tuple[int, list]:
            return store.count(rating), store.page(limit=limit, offset=offset, rating=rating)

        count, items = await anyio.to_thread.run_sync(page)
    except FeedbackStoreError as exc:
        raise ApiError(503, "feedback_unavailable", str(exc)) from None
    return {"count": count, "limit": limit, "offset": offset, "items": [i.to_dict() for i in items]}
