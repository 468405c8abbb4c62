"""The OpenAPI document as this server actually behaves (``app.openapi``), on top of FastAPI's own:

* Security: every route that takes a bearer key declares it. FastAPI marks all of them as required;
  public routes (``api.security.public_access``, scheme ``PublicBearer`` until here) answer without a key unless
  VRAAGBAAK_REQUIRE_API_KEY=true, so there they get the alternative ``{}`` (no key): optional
  security in OpenAPI terms. Admin routes keep it required.
* Question length: ``maxLength`` of ``query``, ``question`` and a /v1/ask history user turn's ``content``
  is VRAAGBAAK_MAX_QUERY_CHARS, a setting (a longer question is 422 ``question_too_long``, a longer earlier
  one 422 ``invalid_request``), so it is filled in here rather than in api/schemas.py.
* Chat messages: a user message's content is a question (the schema of ``question``, as a string or as
  the one text part of a list), and ``messages`` contains at least one user message (the last one is
  the question; api/openai_compat.py). JSON Schema cannot single out the last item of an array, so the
  service asks no more of a conversation's end than this: what follows the question is ignored.
* Document ids: ``filters.doc_ids`` of /v1/search lists the ids of the loaded index as an ``enum``
  (another id is 422 ``unknown_document``); renewed on every call, so a reindex shows.

Checked by Schemathesis against the real server (tests/api/test_schemathesis.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.schemas import QUESTION_SCHEMA
from api.security import PUBLIC_SCHEME

# (component schema, property) pairs that hold a question.
QUESTION_FIELDS = (("SearchRequest", "query"), ("AskRequest", "question"), ("UserTurn", "content"))


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
    _chat_rules(components, settings.max_query_chars)
    app.openapi_schema = schema
    return _with_document_ids(app, schema)


def _chat_rules(components: dict[str, Any], max_chars: int) -> None:
    """The chat request's rules on user messages (api/openai_schemas.py), where JSON Schema can state them."""
    user, request = components.get("UserMessage"), components.get("ChatCompletionRequest")
    if user is None or request is None:
        return
    question = {"type": "string", **QUESTION_SCHEMA, "maxLength": max_chars}
    text_part = {"type": "object", "properties": {"type": {"const": "text"}, "text": question},
                 "required": ["type", "text"]}
    other_part = {"type": "object", "properties": {"type": {"type": "string", "not": {"const": "text"}}},
                  "required": ["type"]}
    is_text = {"type": "object", "properties": {"type": {"const": "text"}}, "required": ["type"]}
    user["properties"]["content"] = {
        "anyOf": [question, {"type": "array", "items": {"anyOf": [text_part, other_part]},
                             "contains": is_text, "minContains": 1, "maxContains": 1}],
        "description": "A question: not blank, at most VRAAGBAAK_MAX_QUERY_CHARS characters, no control "
                       "character but tab, line feed and carriage return; a string, or one text part in a list"}
    user["required"] = sorted({*user.get("required", []), "content"})
    request["properties"]["messages"]["contains"] = {"$ref": "#/components/schemas/UserMessage"}
    request["properties"]["messages"]["description"] = (
        "The conversation: the last user message is the question, the user and assistant messages before "
        "it are history, what follows it is ignored")


def _with_document_ids(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    items = (schema.get("components", {}).get("schemas", {}).get("SearchFilters", {}).get("properties", {})
             .get("doc_ids", {}))
    items = next((a["items"] for a in items.get("anyOf", [items]) if a.get("type") == "array"), None)
    loaded = getattr(app.state.runtime, "loaded", None)
    if items is not None and loaded is not None:
        items["enum"] = sorted(loaded.service.index.documents)
    return schema
