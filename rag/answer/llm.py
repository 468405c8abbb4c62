"""An async client for any OpenAI-compatible chat endpoint (llama.cpp server, vLLM, OpenAI, ...).

Every failure becomes one ``LLMError`` with a ``kind`` the caller can act on and a one-line
message — never a stack trace in a response:
  not_configured  no VRAAGBAAK_LLM_BASE_URL
  unavailable     connection refused / reset, DNS, HTTP 4xx/5xx
  timeout         no complete answer within VRAAGBAAK_LLM_TIMEOUT seconds (total, retries included)
  bad_response    not JSON, no choices, an HTML error page, a broken stream
  interrupted     the reply ended before the model's end marker: a stream closed cleanly with neither a
                  finish_reason nor [DONE], or a JSON body cut off in the middle (a half answer, never a whole)
  empty           a well-formed reply with no text
Retries (VRAAGBAAK_LLM_RETRIES, with exponential backoff) only where a retry can help and cannot
duplicate visible output: connect errors, HTTP 5xx and timeouts before the first byte arrived.

The model an answer names (``model_name``) is VRAAGBAAK_LLM_MODEL, or when that is empty the model the
server lists at ``GET /v1/models``, asked once before the first call (:meth:`LLMClient.served_model`),
so that an answer whose LLM timed out still says which model it waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import AsyncIterator

import httpx

from rag.config import Settings

KINDS = ("not_configured", "unavailable", "timeout", "bad_response", "interrupted", "empty")
MODELS_RETRY_SECONDS = 60.0  # a failed GET /v1/models is asked again after this long, not before every call


class LLMError(Exception):
    def __init__(self, kind: str, message: str):
        assert kind in KINDS, kind
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass
class LLMReply:
    text: str
    model: str
    usage: dict = field(default_factory=dict)
    took_ms: float = 0.0
    finish_reason: str | None = None  # "length" when max_tokens cut the reply off


@dataclass
class StreamMeta:
    """Filled in while a stream runs: what the reply said about itself."""

    model: str = ""
    finish_reason: str | None = None


class _Retryable(Exception):
    """An attempt failed in a way another attempt may fix; carries the error to raise if none does."""

    def __init__(self, error: LLMError):
        self.error = error


def _cut_off(body: bytes, error: ValueError) -> bool:
    """Is this unparsable body a JSON object that simply stops (cut off), rather than something else?"""
    text = body.decode("utf-8", "replace").strip()
    if not text.startswith("{") or not isinstance(error, json.JSONDecodeError):
        return False
    return error.msg.startswith("Unterminated string") or error.pos >= len(text)


def _snippet(body: bytes | str, limit: int = 120) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return " ".join(text.split())[:limit]


class LLMClient:
    """One pooled connection set per process; ``aclose()`` at shutdown."""

    def __init__(self, base_url: str, model: str = "", api_key: str = "", *, timeout: float = 60.0,
                 connect_timeout: float = 5.0, max_tokens: int = 256, retries: int = 1,
                 temperature: float = 0.1, backoff: float = 0.25, transport: httpx.AsyncBaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_tokens = max_tokens
        self.retries = max(0, retries)
        self.temperature = temperature
        self.backoff = backoff
        self._served = ""  # the model GET /v1/models reported ("" until known)
        self._models_asked_at: float | None = None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(connect_timeout, timeout)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            transport=transport,
        ) if self.base_url else None

    @classmethod
    def from_settings(cls, settings: Settings) -> "LLMClient | None":
        """The configured client, or None when no LLM endpoint is configured."""
        if not settings.llm_base_url:
            return None
        return cls(settings.llm_base_url, settings.llm_model, settings.llm_api_key,
                   timeout=settings.llm_timeout, connect_timeout=settings.llm_connect_timeout,
                   max_tokens=settings.llm_max_tokens, retries=settings.llm_retries,
                   temperature=settings.llm_temperature)

    @property
    def configured(self) -> bool:
        return self._client is not None

    @property
    def model_name(self) -> str:
        """VRAAGBAAK_LLM_MODEL, else the model the server reported (once :meth:`served_model` learned
        it), else ""."""
        return self.model or self._served

    async def served_model(self) -> str:
        """The model name answers report (``model_name``), asking the server's ``GET /v1/models`` for the
        first model it lists when none is configured. Asked at most once a minute until it answers (within
        VRAAGBAAK_LLM_CONNECT_TIMEOUT), then never again; a failure only leaves the name unknown ("")."""
        if self.model or self._served or self._client is None:
            return self.model_name
        now = time.monotonic()
        if self._models_asked_at is not None and now - self._models_asked_at < MODELS_RETRY_SECONDS:
            return ""
        self._models_asked_at = now
        try:
            response = await self._client.get(self.url.removesuffix("/chat/completions") + "/models",
                                              timeout=self.connect_timeout)
            data = response.json().get("data") if response.status_code == 200 else None
            if isinstance(data, list) and data and isinstance(data[0], dict) and isinstance(data[0].get("id"), str):
                self._served = data[0]["id"]
        except (httpx.HTTPError, ValueError, AttributeError):
            pass  # unknown for now; the call itself reports what is wrong with the server
        return self.model_name

    @property
    def url(self) -> str:
        # Accept ".../v1" or the bare host: OpenAI-style base URLs usually end in /v1.
        base = self.base_url if self.base_url.endswith("/v1") else self.base_url + "/v1"
        return base + "/chat/completions"

    def _payload(self, messages: list[dict], stream: bool, max_tokens: int | None) -> dict:
        payload = {"messages": messages, "max_tokens": max_tokens or self.max_tokens,
                   "temperature": self.temperature, "stream": stream}
        if self.model:
            payload["model"] = self.model
        return payload

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    # -- plain -----------------------------------------------------------------------------

    async def chat(self, messages: list[dict], *, max_tokens: int | None = None) -> LLMReply:
        """The whole reply. Raises LLMError only."""
        if self._client is None:
            raise LLMError("not_configured", "no LLM endpoint configured (VRAAGBAAK_LLM_BASE_URL)")
        await self.served_model()  # before the reply: a busy server answers /v1/models only after it
        started = time.perf_counter()
        deadline = started + self.timeout
        payload = self._payload(messages, False, max_tokens)
        attempt = 0
        while True:
            try:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise LLMError("timeout", f"no reply within {self.timeout:g} s")
                async with asyncio.timeout(remaining):
                    reply = await self._chat_once(payload)
                reply.took_ms = (time.perf_counter() - started) * 1000
                return reply
            except TimeoutError:
                # The total budget ran out (before any byte, in a non-streaming call); a retry would have
                # no time left, so this is final.
                raise LLMError("timeout", f"no reply within {self.timeout:g} s") from None
            except _Retryable as exc:
                attempt += 1
                if attempt > self.retries or not await self._backoff(attempt, deadline):
                    raise exc.error from None

    async def _chat_once(self, payload: dict) -> LLMReply:
        try:
            response = await self._client.post(self.url, json=payload)
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise _Retryable(LLMError("unavailable", f"cannot connect to {self.base_url} (connect timeout)"))
            raise _Retryable(LLMError("timeout", f"no reply within {self.timeout:g} s"))
        except httpx.TransportError as exc:
            raise _Retryable(LLMError("unavailable", f"cannot reach {self.base_url}: {type(exc).__name__}"))
        self._check_status(response.status_code, response.content)
        return self._parse(response.content, payload.get("model", ""))

    def _check_status(self, status: int, body: bytes) -> None:
        if status >= 500:
            raise _Retryable(LLMError("unavailable", f"HTTP {status} from the LLM endpoint: {_snippet(body)}"))
        if status >= 400:
            raise LLMError("unavailable", f"HTTP {status} from the LLM endpoint: {_snippet(body)}")

    def _parse(self, body: bytes, requested_model: str) -> LLMReply:
        try:
            data = json.loads(body)
        except ValueError as exc:
            if _cut_off(body, exc):
                raise LLMError("interrupted", f"the reply ended in the middle of its JSON: {_snippet(body[-60:])!r}") from None
            raise LLMError("bad_response", f"reply is not JSON: {_snippet(body)!r}") from None
        if not isinstance(data, dict):
            raise LLMError("bad_response", "reply is not a JSON object")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMError("bad_response", "reply has no choices")
        message = choices[0].get("message")
        text = message.get("content") if isinstance(message, dict) else None
        if text is None and isinstance(choices[0].get("text"), str):
            text = choices[0]["text"]  # completion-style servers
        if text is not None and not isinstance(text, str):
            raise LLMError("bad_response", "reply content is not text")
        if not text or not text.strip():
            raise LLMError("empty", "the model returned no text")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        model = data.get("model") if isinstance(data.get("model"), str) else requested_model
        finish = choices[0].get("finish_reason")
        return LLMReply(text=text, model=model or self.model_name, usage=usage,
                        finish_reason=finish if isinstance(finish, str) else None)

    # -- streaming -------------------------------------------------------------------------

    async def stream(self, messages: list[dict], *, max_tokens: int | None = None,
                     meta: StreamMeta | None = None) -> AsyncIterator[str]:
        """Text deltas as they arrive. Retries only before the first delta; raises LLMError only.
        Pass ``meta`` to learn the reply's model name and finish reason."""
        if self._client is None:
            raise LLMError("not_configured", "no LLM endpoint configured (VRAAGBAAK_LLM_BASE_URL)")
        await self.served_model()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        payload = self._payload(messages, True, max_tokens)
        meta = meta if meta is not None else StreamMeta()
        meta.model = meta.model or self.model_name
        attempt = 0
        while True:
            got_any = False
            try:
                async for delta in self._stream_once(payload, deadline, meta):
                    got_any = True
                    yield delta
                if not got_any:
                    raise LLMError("empty", "the model returned no text")
                return
            except _Retryable as exc:
                attempt += 1
                if got_any or attempt > self.retries or not await self._backoff(attempt, deadline, loop.time):
                    raise exc.error from None

    async def _stream_once(self, payload: dict, deadline: float, meta: StreamMeta) -> AsyncIterator[str]:
        # The deadline guards each await separately: a timeout scope must never span a ``yield``,
        # or it would cancel the consumer's code instead of this read.
        timeout = LLMError("timeout", f"no complete reply within {self.timeout:g} s")
        try:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    async with asyncio.timeout_at(deadline):
                        response = await stack.enter_async_context(
                            self._client.stream("POST", self.url, json=payload))
                        if response.status_code >= 400:
                            self._check_status(response.status_code, await response.aread())
                        if "text/event-stream" not in response.headers.get("content-type", ""):
                            # Some servers ignore stream=true and answer in one JSON body: accept that.
                            reply = self._parse(await response.aread(), payload.get("model", ""))
                            meta.model, meta.finish_reason = reply.model, reply.finish_reason
                            body = reply.text
                        else:
                            body = None
                except TimeoutError:
                    raise _Retryable(timeout) from None  # nothing received yet
                if body is not None:
                    yield body
                    return
                lines = response.aiter_lines()
                while True:
                    try:
                        async with asyncio.timeout_at(deadline):
                            line = await anext(lines)
                    except StopAsyncIteration:
                        if meta.finish_reason is None:
                            # Closed cleanly, but the model never said it was done: a cut-off reply. Before any
                            # text a retry may help (nothing shown); after, the caller has a half answer.
                            raise _Retryable(LLMError("interrupted", "the reply stream ended without the model's end "
                                                      "marker (no finish_reason, no [DONE])")) from None
                        return
                    except TimeoutError:
                        raise timeout from None
                    delta = self._stream_delta(line, meta)
                    if delta is None:
                        return
                    if delta:
                        yield delta
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                raise _Retryable(LLMError("unavailable", f"cannot connect to {self.base_url} (connect timeout)"))
            raise _Retryable(timeout)
        except httpx.TransportError as exc:
            raise _Retryable(LLMError("unavailable", f"cannot reach {self.base_url}: {type(exc).__name__}"))

    @staticmethod
    def _stream_delta(line: str, meta: StreamMeta) -> str | None:
        """The text of one SSE line ("" for keep-alives and other events), None at [DONE]."""
        line = line.strip()
        if not line.startswith("data:"):
            return ""
        data = line[5:].strip()
        if data == "[DONE]":
            return None
        try:
            event = json.loads(data)
            if isinstance(event.get("model"), str) and event["model"]:
                meta.model = event["model"]
            choice = (event.get("choices") or [{}])[0]
            if isinstance(choice.get("finish_reason"), str):
                meta.finish_reason = choice["finish_reason"]
            delta = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
        except (ValueError, AttributeError, IndexError, TypeError):
            raise LLMError("bad_response", f"malformed stream event: {_snippet(data)!r}") from None
        if not isinstance(delta, str):
            raise LLMError("bad_response", "stream delta is not text")
        return delta

    async def _backoff(self, attempt: int, deadline: float, clock=time.perf_counter) -> bool:
        """Sleep before the next attempt; False when that would not leave time to try."""
        delay = self.backoff * (2 ** (attempt - 1))
        if clock() + delay >= deadline - 0.05:
            return False
        await asyncio.sleep(delay)
        return True
