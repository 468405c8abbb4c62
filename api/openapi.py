"""The OpenAPI document as this server actually behaves (``app.openapi``), on top of FastAPI's own:

* Security: every route that takes a bearer key declares it. FastAPI marks all of them as required;
  public routes (``api.security.public_access``, scheme ``PublicBearer`` until here) answer without a key unless
  VRAAGBAAK_REQUIRE_API_KEY=true, so there they get the alternative ``{}`` (no key): optional
  security in OpenAPI terms. Admin routes keep it required.
* Question length: ``maxLength`` of ``query`` and ``question`` is VRAAGBAAK_MAX_QUERY_CHARS, a setting
  (a longer question is 422 ``question_too_long``), so it is filled in here rather than in api/schemas.py.
* Document ids: ``filters.doc_ids`` of /v1/search lists the ids of the loaded index as an ``enum``
  (another id is 422 ``unknown_document``); renewed on every call, so a reindex shows.

Checked by Schemathesis against the real server (tests/api/test_schemathesis.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.security import PUBLIC_SCHEME

# (component schema, property) pairs that hold a question.
QUESTION_FIELDS = (("SearchRequest", "query"), ("AskRequest", "question"))


def _security(requirements: list[dict], optional: bool) -> list[dict]:
    """Public requirements named as the one bearer scheme; with ``{}`` (no key) when optional."""
    out = [{("HTTPBearer" if name == PUBLIC_SCHEME else name): scopes for name, scopes in r.items()}
           for r in requirements]
    return [*out, {}] if optional and {} not in out else out


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The document for ``app`` and its settings (``app.state.settings``); built once, then cached."""
    if app.openapi_schema:
        return _with_document_ids(app, app.openapi_schema)
    settings = app.state.settings
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemes = schema.get("components", {}).get("securitySchemes", {})
    if PUBLIC_SCHEME in schemes:
        schemes.setdefault("HTTPBearer", schemes[PUBLIC_SCHEME])
        del schemes[PUBLIC_SCHEME]
    for operations in schema["paths"].values():
        for operation in operations.values():
            security = operation.get("security")
            if security and any(PUBLIC_SCHEME in r for r in security):
                operation["security"] = _security(security, optional=not settings.require_api_key)
    components = schema.get("components", {}).get("schemas", {})
    for name, prop in QUESTION_FIELDS:
        field = components.get(name, {}).get("properties", {}).get(prop)
        if field is not None:
            field["maxLength"] = settings.max_query_chars
    app.openapi_schema = schema
    return _with_document_ids(app, schema)


def _with_document_ids(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    items = (schema.get("components", {}).get("schemas", {}).get("SearchFilters", {}).get("properties", {})
             .get("doc_ids", {}))
    items = next((a["items"] for a in items.get("anyOf", [items]) if a.get("type") == "array"), None)
    loaded = getattr(app.state.runtime, "loaded", None)
    if items is not None and loaded is not None:
        items["enum"] = sorted(loaded.service.index.documents)
    return schema
