"""Dependencies and checks the endpoints share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.errors import ApiError
from api.runtime import Runtime
from api.schemas import ErrorResponse
from rag.config import Settings
from rag.service import QueryError, is_blank, validate_query


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

EXAMPLE_QUESTION = "Waarom is de WOM ingetrokken?"


def check_question(text: str, settings: Settings, field: str = "question") -> str:
    """The question stripped; 422 when it is empty or blank, 413 when it is over VRAAGBAAK_MAX_QUERY_CHARS."""
    if not text or is_blank(text):  # spaces, zero-width or control characters only
        raise ApiError(422, "empty_question", f"'{field}' is empty: type a question, e.g. \"{EXAMPLE_QUESTION}\"")
    if len(text) > settings.max_query_chars:
        raise ApiError(413, "question_too_long",
                       f"'{field}' is {len(text)} characters long; the limit is {settings.max_query_chars}")
    try:  # the service's own rules (a lone surrogate …), before any stream starts
        return validate_query(text, settings.max_query_chars)
    except QueryError as exc:
        raise ApiError(422, "invalid_question", str(exc)) from None


def _error(description: str) -> dict:
    return {"model": ErrorResponse, "description": description}


# The error statuses a public endpoint can answer with, for the OpenAPI docs.
ERRORS = {
    400: _error("The body is not valid JSON, or not UTF-8"),
    401: _error("An API key is required (VRAAGBAAK_REQUIRE_API_KEY) and missing or wrong"),
    413: _error("The body or the question is too long"),
    415: _error("The body is not sent as application/json"),
    422: _error("A field is missing, unknown or out of range, or the question is empty"),
    503: _error("The model and index are still loading, or could not be loaded"),
}
