"""One error shape for every failure: ``{"error": {"code", "message", "request_id"}}``.

FastAPI's own handlers (``{"detail": ...}``) are replaced: HTTP errors (unknown route, wrong method,
body too large, unreadable or compressed body), request validation (bad JSON → 400, wrong fields → 422) and
:class:`ApiError`, which the endpoints raise. Anything unexpected is answered by the request
middleware (api/observability.py) with code ``internal`` and logged with its traceback.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.body import BodyEncodingError, UnsupportedContentEncoding
from api.request_id import current_request_id


class ApiError(Exception):
    """An error the client should see, with its HTTP status and a stable machine-readable code."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def short_id(text: str, limit: int = 80) -> str:
    """An id or name as echoed in an error message: at most ``limit`` characters plus "…", so a 100 kB
    path or field does not come back as a 100 kB message."""
    return text if len(text) <= limit else text[:limit] + "…"


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "request_id": current_request_id()}}


def stream_error(code: str, message: str) -> dict[str, Any]:
    """The error event of a stream that has started (``/v1/ask`` SSE, chat completion chunks): the
    API's shape plus OpenAI's ``type`` and ``param``, so OpenAI clients raise it as an APIError."""
    body = error_body(code, message)
    body["error"].update(type="server_error", param=None)
    return body


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "body_timeout",
    413: "body_too_large",
    415: "unsupported_media_type",
}


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    status = exc.status_code
    code = _HTTP_CODES.get(status, f"http_{status}")
    message = str(exc.detail)
    if status == 404 and exc.detail == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
    elif status == 405:
        allow = allowed_methods(request, exc)
        message = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allow)}"
        return error_response(status, code, message, {**(getattr(exc, "headers", None) or {}),
                                                       "Allow": ", ".join(allow)})
    elif status == 413:
        message = f"the request body is larger than the limit of {request.app.state.settings.max_body_bytes} bytes"
    elif status == 408:
        message = (f"the request body did not arrive within {request.app.state.settings.body_timeout:g} s "
                   "(VRAAGBAAK_BODY_TIMEOUT); send it whole, with a Content-Length that matches it")
    elif status == 400 and "parsing the body" in message:
        # FastAPI says only "error parsing the body"; what went wrong is the exception it was raised from.
        code, message = "invalid_body", _body_error(exc.__cause__)
    return error_response(status, code, message, getattr(exc, "headers", None))


def _body_error(cause: BaseException | None) -> str:
    """Why a body could not be read: not UTF-8 (api/body.py says how), or JSON nested too deeply for the parser."""
    if isinstance(cause, BodyEncodingError):
        return str(cause)
    if isinstance(cause, RecursionError):
        return "the request body could not be parsed: its JSON is nested too deeply"
    return "the request body could not be read: send JSON encoded as UTF-8"


def allowed_methods(request: Request, exc: StarletteHTTPException) -> list[str]:
    """Every method served at this path. Starlette's 405 names only the methods of the first route
    that matched (``OPTIONS /v1/feedback`` said ``Allow: POST``, not GET), so the methods of every
    documented operation whose path template matches are added, and HEAD wherever GET is (api/app.py)."""
    methods = {m.strip() for m in ((getattr(exc, "headers", None) or {}).get("Allow") or "").split(",") if m.strip()}
    path = request.url.path
    for template, operations in request.app.openapi().get("paths", {}).items():
        if _template_regex(template).fullmatch(path):
            methods.update(m.upper() for m in operations if m.upper() in _METHODS)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}


@functools.lru_cache(maxsize=256)
def _template_regex(template: str) -> re.Pattern:
    # A parameter is one path segment; the last may hold slashes (passage ids: {passage_id:path}).
    parts = re.split(r"(\{[^}]+\})", template)
    params = [i for i, p in enumerate(parts) if p.startswith("{")]
    return re.compile("".join(("(.+)" if i == params[-1] else "([^/]+)") if i in params else re.escape(p)
                              for i, p in enumerate(parts)))


def _where(loc: tuple) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) if parts else "body"


def _pattern_words(pattern: str | None) -> str:
    """What a field's regular expression asks for, in words (a raw regex helps no client developer)."""
    from api.schemas import ISO_DATE, NOT_BLANK

    known = {ISO_DATE: "a date as YYYY, YYYY-MM or YYYY-MM-DD (a real month and day)",
             NOT_BLANK: "some text that is not only spaces, control or invisible characters"}
    return known.get(pattern or "", "a value of the documented form (see /docs)")


def describe_validation(errors: list[dict]) -> tuple[int, str, str]:
    """(status, code, message) for FastAPI validation errors, in words a client developer can act on."""
    for err in errors:
        if err.get("type") == "json_invalid":
            detail = (err.get("ctx") or {}).get("error", "")
            position = err["loc"][-1] if err.get("loc") else "?"
            where = f"position {position}" if detail.endswith(" at") else f"at position {position}"  # "starting at"
            return 400, "invalid_json", f"the request body is not valid JSON ({detail} {where})"
    for err in errors:
        # A body FastAPI did not parse as JSON arrives as bytes (no or another Content-Type).
        if tuple(err.get("loc", ())) == ("body",) and isinstance(err.get("input"), (bytes, bytearray)):
            return 415, "unsupported_media_type", "send the request body as JSON with 'Content-Type: application/json'"
    messages = []
    for err in errors[:5]:
        kind, where = err.get("type"), _where(tuple(err.get("loc", ())))
        if kind == "extra_forbidden":
            messages.append(f"unknown field '{where}'")
        elif kind == "missing":
            messages.append("the request body is missing" if where == "body" else f"'{where}' is required")
        elif kind == "string_pattern_mismatch":
            messages.append(f"{where}: expected {_pattern_words((err.get('ctx') or {}).get('pattern'))}, "
                            f"got {err.get('input')!r}")
        else:
            messages.append(f"{where}: {err.get('msg', 'invalid value')}")
    if len(errors) > 5:
        messages.append(f"and {len(errors) - 5} more")
    return 422, "invalid_request", "; ".join(messages) or "invalid request"


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    status, code, message = describe_validation(list(exc.errors()))
    return error_response(status, code, message)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _content_encoding_error(request: Request, exc: UnsupportedContentEncoding) -> JSONResponse:
    return error_response(415, "unsupported_content_encoding", str(exc), {"Accept-Encoding": "identity"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(UnsupportedContentEncoding, _content_encoding_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
