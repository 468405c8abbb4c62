"""JSON request bodies are read as UTF-8, and only as UTF-8.

JSON exchanged between systems is UTF-8 (RFC 8259, section 8.1). Python's ``json.loads(bytes)``, which
FastAPI calls, also reads UTF-16 and UTF-32 (it guesses the encoding from the first bytes), so such bodies
were answered as if they were UTF-8. :class:`Utf8JsonRoute` gives its endpoints a request whose ``json()``
refuses them with :class:`BodyEncodingError`; FastAPI turns any error while reading a body into a 400 and
api/errors.py answers it as ``invalid_body`` with this error's message. A UTF-8 byte-order mark is ignored
(RFC 8259 lets a parser do so; Windows tools write one), as before.

Nor are compressed bodies decoded: a body sent with a ``Content-Encoding`` other than ``identity`` (gzip,
br, …) was read as if it were plain, so its header was silently ignored. The same routes refuse it with
:class:`UnsupportedContentEncoding` (api/errors.py: 415 ``unsupported_content_encoding``, with
``Accept-Encoding: identity`` as RFC 9110, section 15.5.16 and RFC 7694 advise), before the body is read.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute


class BodyEncodingError(ValueError):
    """A request body that is not UTF-8; the message says what it is and what to send instead."""


def utf8_text(body: bytes) -> str:
    """``body`` decoded as UTF-8 (a leading byte-order mark dropped); BodyEncodingError naming UTF-16 or
    UTF-32 (recognised as ``json`` does: by a byte-order mark or the zero bytes around the first, ASCII,
    character), or else the first byte that is not UTF-8 and its position."""
    encoding = json.detect_encoding(body)
    if encoding.startswith(("utf-16", "utf-32")):
        raise BodyEncodingError(f"the request body is encoded as {encoding[:6].upper()}; send JSON encoded as UTF-8")
    start = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    try:
        return body[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = start + exc.start
        raise BodyEncodingError(f"the request body is not UTF-8 (byte 0x{body[at]:02X} at position {at}); "
                                "send JSON encoded as UTF-8") from None


class UnsupportedContentEncoding(ValueError):
    """A request body sent with a Content-Encoding the service does not decode (any but ``identity``)."""


def check_content_encoding(headers) -> None:
    """UnsupportedContentEncoding if the request has a body (a Content-Length above 0, or a
    Transfer-Encoding) with a Content-Encoding other than ``identity``; the message names it."""
    codings = [c.strip().lower() for c in headers.get("content-encoding", "").split(",") if c.strip()]
    has_body = headers.get("transfer-encoding") or headers.get("content-length", "0").strip() not in ("", "0")
    if has_body and any(c != "identity" for c in codings):
        raise UnsupportedContentEncoding(
            f"the request body is sent with 'Content-Encoding: {headers['content-encoding']}', which this service "
            "does not decode; send the body uncompressed (no Content-Encoding header)")


class Utf8JsonRequest(Request):
    """A request whose JSON body must be UTF-8 (FastAPI reads JSON bodies with ``json()``)."""

    async def json(self) -> Any:
        if not hasattr(self, "_utf8_json"):
            self._utf8_json = json.loads(utf8_text(await self.body()))
        return self._utf8_json


class Utf8JsonRoute(APIRoute):
    """A route whose handler gets a :class:`Utf8JsonRequest` (FastAPI's documented way to change the
    request class: https://fastapi.tiangolo.com/how-to/custom-request-and-route/) and that refuses a
    compressed body (:func:`check_content_encoding`)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def utf8_json(request: Request):
            check_content_encoding(request.headers)
            return await handler(Utf8JsonRequest(request.scope, request.receive))

        return utf8_json
