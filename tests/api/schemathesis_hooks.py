"""Schemathesis hooks for tests/api/test_schemathesis.py (loaded with SCHEMATHESIS_HOOKS).

One hook, for the one rule that JSON Schema cannot state, documented in the operation's description
and answered with its own error code (README, Errors):

* /v1/search: ``filters.date_from`` must not lie after ``filters.date_to`` (422 empty_date_range); a
  schema cannot compare two fields.

Everything else the service refuses, the document states: a question's length, blankness and control
characters; real dates (one pattern, rag/search/stores/base.DATE_PATTERN); that a chat request holds a
user message and that every user message is a question (api/openapi.py). Only this refusal of a
schema-valid request is accepted; every other "schema-valid request rejected" failure still fails the
run, as do all other checks.
"""

from __future__ import annotations

import schemathesis

SEARCH = "POST /v1/search"


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """False (drop) only for a search refused because its date range is empty."""
    if type(failure).__name__ != "RejectedPositiveData" or case.operation.label != SEARCH:
        return True
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return True
    return (response.status_code, error.get("code")) != (422, "empty_date_range")
