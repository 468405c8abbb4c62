"""Bearer API keys from ``VRAAGBAAK_API_KEYS`` (comma-separated).

* Admin endpoints (reindex, feedback listing) always need a valid key. With no keys configured they
  are switched off: 403 ``admin_disabled`` (a configuration fact, not a passing outage, so not 503).
* Public endpoints (search, ask, chat, documents, passages, models, metrics) need one only when
  ``VRAAGBAAK_REQUIRE_API_KEY=true``. ``/healthz``, ``/readyz`` and the docs are always open.

A missing or unknown key is 401 with ``WWW-Authenticate: Bearer``. Keys are compared in constant time.
Routes that take a body check the key before the body is read (:class:`AuthFirstRoute`).
The OpenAI clients send their ``api_key`` exactly this way (``Authorization: Bearer <key>``).
"""

from __future__ import annotations

import hmac

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.body import Utf8JsonRoute
from api.errors import ApiError

bearer = HTTPBearer(auto_error=False, description="An API key from VRAAGBAAK_API_KEYS")
# The same key, under a scheme name of its own so that api/openapi.py can tell the public routes
# (optional security unless VRAAGBAAK_REQUIRE_API_KEY) from the admin ones; it folds it back into
# "HTTPBearer" in the document.
PUBLIC_SCHEME = "PublicBearer"
public_bearer = HTTPBearer(auto_error=False, scheme_name=PUBLIC_SCHEME,
                           description="An API key from VRAAGBAAK_API_KEYS")


def _known(key: str, keys: tuple[str, ...]) -> bool:
    found = False
    for candidate in keys:  # no early exit: the time taken does not tell which key matched
        found |= hmac.compare_digest(key.encode(), candidate.encode())
    return found


def _check(credentials: HTTPAuthorizationCredentials | None, keys: tuple[str, ...]) -> None:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthorized", "this endpoint needs an API key: 'Authorization: Bearer <key>'",
                       challenge)
    if not _known(credentials.credentials, keys):
        raise ApiError(401, "unauthorized", "the API key is not valid", challenge)


async def public_access(request: Request,
                        credentials: HTTPAuthorizationCredentials | None = Security(public_bearer)) -> None:
    settings = request.app.state.settings
    if settings.require_api_key:
        _check(credentials, settings.api_keys)


async def admin_access(request: Request,
                       credentials: HTTPAuthorizationCredentials | None = Security(bearer)) -> None:
    settings = request.app.state.settings
    if not settings.api_keys:
        raise ApiError(403, "admin_disabled",
                       "admin endpoints are disabled: no API keys are configured (set VRAAGBAAK_API_KEYS)")
    _check(credentials, settings.api_keys)


class AuthFirstRoute(Utf8JsonRoute):
    """A route that runs its key check (``admin_access``, ``public_access``) before the body is read, and
    reads a JSON body as UTF-8 only (api/body.py; every route with a body is one).
    FastAPI parses a JSON body before any dependency, so a client without a key got 400 ``invalid_json``
    for a broken body rather than 401/403. The check stays a dependency too, for the OpenAPI document
    (it runs twice: a comparison of a few keys)."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        schemes = {admin_access: bearer, public_access: public_bearer}
        checks = [(d.dependency, schemes[d.dependency]) for d in self.dependencies if d.dependency in schemes]
        if not checks:
            return handler

        async def authenticated(request: Request):
            for check, scheme in checks:
                await check(request, await scheme(request))
            return await handler(request)

        return authenticated
