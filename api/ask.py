"""POST /v1/ask: a grounded answer with numbered citations, as JSON or as Server-Sent Events.

Stream (``"stream": true``), one JSON object per event::

    event: sources   data: {"citations": [...]}            the passages the answer may cite
    event: delta     data: {"text": "..."}                 answer text as it is produced (repeated)
    event: done      data: {...the full /v1/ask response...}   authoritative: verified text and citations
    event: error     data: {"error": {"code", "message", "type", "param", "request_id"}}   instead of done

An error event replaces ``done`` when the answer could not be completed; in particular when the LLM
fails after some of its sentences were already sent (code ``llm_interrupted``): the text so far is
then a half answer, and ``done`` would present it as a whole one. (When the LLM fails before any of
its text was sent, the extractive fallback is streamed instead and ``done`` says so in
``fallback_reason``.)

Input errors (empty question, unknown field, ...) are answered before the stream starts, as normal
JSON errors with their status code.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, format_sse_event

from api.deps import ERRORS, RuntimeDep, SettingsDep, check_earlier_question, check_question, query_error
from api.errors import stream_error
from api.observability import Metrics
from api.schemas import AskRequest, AskResponse
from api.security import AuthFirstRoute, public_access
from rag.answer.payload import ask_payload, citations
from rag.service import QueryError

log = logging.getLogger("vraagbaak.api")
router = APIRouter(tags=["answers"], dependencies=[Depends(public_access)], route_class=AuthFirstRoute)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def interrupted(answer) -> str | None:
    """The error message when a streamed answer is a cut-off one, else None. The engine keeps the
    generative sentences it already sent when the LLM fails in the middle of a stream and records
    the failure in ``llm_error`` (rag/answer/engine.py); a whole generative answer has no llm_error,
    and an LLM failure before any sentence gives an extractive answer with ``fallback_reason``."""
    if answer is None or answer.mode_used != "generative" or not answer.llm_error:
        return None
    return (f"the language model stopped in the middle of the answer ({answer.llm_error}); "
            f"the text sent so far is incomplete: ask again")


def sse(event: str, data: Any) -> bytes:
    return format_sse_event(event=event, data_str=json.dumps(data, ensure_ascii=False))


def event_text(event) -> str:
    text = getattr(event, "text", None)
    if text is None:
        data = getattr(event, "data", None)
        text = data if isinstance(data, str) else (data or {}).get("text", "") if isinstance(data, dict) else ""
    return text or ""


def event_error(event) -> str:
    data = getattr(event, "data", None)
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or data)
    return str(data or getattr(event, "text", None) or "the answer could not be produced")


async def answer_once(engine, metrics: Metrics, question: str, top_k: int, mode: str, history: list[dict]):
    started = time.perf_counter()
    try:
        answer = await engine.answer(question, top_k=top_k, mode=mode, history=history)
    except QueryError as exc:
        raise query_error(exc) from None
    metrics.record_answer(answer, time.perf_counter() - started)
    return answer


async def _ask_events(engine, metrics: Metrics, question: str, top_k: int, mode: str,
                      history: list[dict]) -> AsyncIterator[bytes]:
    started = time.perf_counter()
    # aclosing: a client that hangs up closes the engine's stream at once, not at garbage collection.
    stream = contextlib.aclosing(engine.answer_stream(question, top_k=top_k, mode=mode, history=history))
    try:
        async with stream as events:
            async for event in events:
                if event.kind == "sources":
                    yield sse("sources", {"citations": citations(getattr(event, "data", None))})
                elif event.kind == "delta":
                    yield sse("delta", {"text": event_text(event)})
                elif event.kind == "done":
                    metrics.record_answer(event.answer, time.perf_counter() - started)
                    if (cut := interrupted(event.answer)) is not None:
                        log.warning("streamed answer cut off: %s", event.answer.llm_error)
                        yield sse("error", stream_error("llm_interrupted", cut))
                    else:
                        yield sse("done", ask_payload(event.answer))
                    return
                elif event.kind == "error":
                    yield sse("error", stream_error("answer_failed", event_error(event)))
                    return
    except QueryError as exc:
        yield sse("error", stream_error(exc.code, str(exc)))
    except Exception:  # the stream has started: the error goes in an event, and the log has the trace
        log.exception("answer stream failed")
        yield sse("error", stream_error("internal", "the answer could not be completed"))


@router.post("/v1/ask", response_model=AskResponse, summary="Answer a question with citations",
             responses={**ERRORS, 200: {"description": "The answer (JSON), or with stream=true an event stream",
                                        "content": {"text/event-stream": {}}}})
async def ask(body: AskRequest, runtime: RuntimeDep, settings: SettingsDep):
    """A short answer whose sentences each end with [n] markers pointing at ``citations`` (n = 1, 2, …).
    Without an LLM, or when it fails, the answer is extractive; ``mode_used`` and ``fallback_reason``
    say which and why. When the documents do not cover the question, ``abstained`` is true."""
    question = check_question(body.question, settings)
    _, engine = runtime.require_engine()
    history = [{"role": m.role, "content": m.content if m.role == "assistant" else
                check_earlier_question(m.content, settings, f"history[{i}].content")}
               for i, m in enumerate(body.history)]
    top_k = body.top_k or settings.top_k
    if body.stream:
        return EventSourceResponse(_ask_events(engine, runtime.metrics, question, top_k, body.mode, history),
                                   headers=SSE_HEADERS)
    answer = await answer_once(engine, runtime.metrics, question, top_k, body.mode, history)
    return ask_payload(answer)
