"""Dependencies and checks the endpoints share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.errors import ApiError
from api.runtime import Runtime
from api.schemas import ErrorResponse
from rag.config import Settings
from rag.service import QueryError, validate_query


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def query_error(exc: QueryError) -> ApiError:
    """The API error for a question or parameter the service refused: 422, like every field error (a too
    long question too: 413 is for a body over VRAAGBAAK_MAX_BODY_BYTES), with the service's code and message."""
    return ApiError(422, exc.code, str(exc))


def check_question(text: str, settings: Settings, field: str = "question") -> str:
    """The question stripped (rag.service.validate_query's rules); 422 ``empty_question`` when it is empty
    or blank, 422 ``question_too_long`` over VRAAGBAAK_MAX_QUERY_CHARS, 422 ``invalid_question`` for a
    lone surrogate or a control character. Checked before any stream starts."""
    try:
        return validate_query(text, settings.max_query_chars, subject=f"'{field}'")
    except QueryError as exc:
        raise query_error(exc) from None


def check_earlier_question(text: str, settings: Settings, field: str) -> str:
    """An earlier user turn (/v1/ask ``history``, a chat's earlier user messages), stripped: a question by
    the same rules as :func:`check_question`, but 422 ``invalid_request`` naming ``field``, as the codes
    ``empty_question`` and the like are about the question asked now."""
    try:
        return validate_query(text, settings.max_query_chars, field)
    except QueryError as exc:
        raise ApiError(422, "invalid_request", f"{exc} (every user message is a question, also the earlier "
                                               "ones)") from None


def _error(description: str) -> dict:
    return {"model": ErrorResponse, "description": description}


# The error statuses a public endpoint can answer with, for the OpenAPI docs.
ERRORS = {
    400: _error("The body is not valid JSON, or not UTF-8"),
    401: _error("An API key is required (VRAAGBAAK_REQUIRE_API_KEY) and missing or wrong"),
    413: _error("The body is larger than VRAAGBAAK_MAX_BODY_BYTES"),
    415: _error("The body is not sent as application/json, or is sent compressed (Content-Encoding)"),
    422: _error("A field is missing, unknown or out of range, or the question is empty, too long or holds "
                "a control character"),
    503: _error("The model and index are still loading, or could not be loaded"),
}
