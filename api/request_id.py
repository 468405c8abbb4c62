"""The id of the request being handled, for log lines and error bodies.

A context variable: set by the request middleware (api/observability.py) for the request's whole life,
read anywhere below it (api/errors.py quotes it in error bodies). Its own module so that neither of
those two needs to import the other's internals.
"""

from __future__ import annotations

import contextvars

REQUEST_ID_HEADER = "X-Request-ID"
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request this code runs for; None outside a request."""
    return request_id_var.get()
