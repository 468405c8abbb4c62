"""Admin endpoints; each needs an API key from VRAAGBAAK_API_KEYS (403 when none are configured)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from api.deps import ERRORS, RuntimeDep
from api.schemas import ErrorResponse, ReindexRequest, ReindexStatus
from api.security import AuthFirstRoute, admin_access

router = APIRouter(tags=["admin"], dependencies=[Depends(admin_access)], route_class=AuthFirstRoute)
_RESPONSES = {
    400: ERRORS[400],
    401: {"model": ErrorResponse, "description": "No API key, or not a valid one"},
    403: {"model": ErrorResponse, "description": "Admin endpoints are disabled: VRAAGBAAK_API_KEYS is empty"},
    409: {"model": ErrorResponse, "description": "A rebuild is already running"},
    413: ERRORS[413],
    415: ERRORS[415],
    503: ERRORS[503],
}


# The document declares the body optional and null allowed (anyOf [ReindexRequest, null]): both mean no options.
OptionalOptions = Annotated[ReindexRequest | None, Body(
    description="The options; optional: no body, or JSON null, means no options (force and wait false)")]


@router.post("/v1/admin/reindex", response_model=ReindexStatus, status_code=202,
             responses={200: {"model": ReindexStatus, "description": 'With "wait": true: the rebuild is done'},
                        **_RESPONSES},
             summary="Rebuild the index and swap it in")
async def reindex(runtime: RuntimeDep, response: Response, body: OptionalOptions = None) -> dict:
    """Rebuilds the index from the corpus in a worker thread (only what changed is embedded), then
    swaps the loaded index in one step: requests already running finish on the old one. Answers 202
    at once (poll GET /v1/admin/reindex), or with ``"wait": true`` 200 when the rebuild is done.
    The body is optional, as the document says: none, ``{}`` and ``null`` all mean the defaults."""
    body = body or ReindexRequest()
    task = runtime.start_reindex(body.force)
    if body.wait:
        await asyncio.shield(task)  # a client that hangs up does not cancel the rebuild
        response.status_code = 200
    return runtime.reindex.to_dict()


@router.get("/v1/admin/reindex", response_model=ReindexStatus, responses=_RESPONSES,
            summary="State of the last rebuild")
async def reindex_status(runtime: RuntimeDep) -> dict:
    return runtime.reindex.to_dict()
