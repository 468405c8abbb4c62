"""Schemathesis hooks for tests/api/test_schemathesis.py (loaded with SCHEMATHESIS_HOOKS).

One hook, for two rules that JSON Schema cannot state, each documented in the operation's
description and answered with its own error code (README, Errors):

* /v1/chat/completions: its request schema is OpenAI's (any list of messages); Vraagbaak also needs
  the *last* message to be the user's question, not blank and at most VRAAGBAAK_MAX_QUERY_CHARS long,
  and a schema cannot constrain only the last item of an array.
* /v1/search: ``filters.date_from`` must not lie after ``filters.date_to`` (422 empty_date_range); a
  schema cannot compare two fields. And each must name a real calendar day ("2013-02-30" and year 0000
  match the pattern; 422 invalid_request), which a pattern states only with leap-year arithmetic.

Only these refusals of schema-valid requests are accepted; every other "schema-valid request
rejected" failure still fails the run, as do all other checks.
"""

from __future__ import annotations

import schemathesis

CHAT = "POST /v1/chat/completions"
SEARCH = "POST /v1/search"
LAST_MESSAGE_RULES = {
    (422, "empty_question"),  # the last message has no text
    (413, "question_too_long"),  # its text is over VRAAGBAAK_MAX_QUERY_CHARS
    (422, "invalid_request"),  # it is not the user's ("the last message must be the user's question")
}


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """False (drop) only for a request refused for one of the rules above."""
    if type(failure).__name__ != "RejectedPositiveData" or case.operation.label not in (CHAT, SEARCH):
        return True
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return True
    rule = (response.status_code, error.get("code"))
    body = case.body if isinstance(case.body, dict) else {}
    if case.operation.label == SEARCH:
        return rule != (422, "empty_date_range") and not (rule == (422, "invalid_request") and _unreal_date(body))
    if rule == (422, "invalid_request"):
        # judged on the request, not the message: chat errors are worded in the asker's language
        messages = body.get("messages") or [{}]
        return not (isinstance(messages[-1], dict) and messages[-1].get("role") != "user")
    return rule not in LAST_MESSAGE_RULES


def _unreal_date(body: dict) -> bool:
    from rag.search.stores.base import check_date

    filters = body.get("filters") if isinstance(body.get("filters"), dict) else {}
    for key in ("date_from", "date_to"):
        if isinstance(filters.get(key), str):
            try:
                check_date(filters[key])
            except ValueError:
                return True
    return False
