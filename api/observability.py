"""Request ids, structured JSON logs and Prometheus metrics.

Every HTTP request gets an id (the client's ``X-Request-ID`` when it is sane, else a fresh one),
echoed in the ``X-Request-ID`` response header, carried in every log line written while the
request runs, and quoted in error bodies. One JSON log line per request (method, path, route,
status, ms, request_id). Metrics live in a registry per app, served at ``/metrics``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.process_collector import ProcessCollector
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.request_id import REQUEST_ID_HEADER, current_request_id, request_id_var

log = logging.getLogger("vraagbaak.api")
access_log = logging.getLogger("vraagbaak.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")  # nothing that could forge a log line


# ---------------------------------------------------------------- logs


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id and any ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            out["request_id"] = request_id
        out.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr for this process (uvicorn's own loggers included)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    handler.setLevel(root.level)  # also for a library that sets its own logger lower (bm25s: DEBUG on import)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # one line per request comes from us
    for noisy in ("httpx", "httpcore", "sentence_transformers", "faiss"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


# ---------------------------------------------------------------- metrics

disable_created_metrics()  # no *_created series: they double the output and no dashboard here uses them
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def label(text: str | None, limit: int = 48) -> str:
    """A short, bounded metric label from a free-text reason ("LLM timed out after 20 s" → "llm_timed_out_after")."""
    if not text:
        return "none"
    head = re.split(r"[:(\[;,.]", str(text), maxsplit=1)[0]
    words = re.findall(r"[a-z0-9]+", head.lower())[:4]
    return ("_".join(words) or "other")[:limit]


class _BatchCollector:
    def __init__(self, encoder) -> None:
        self.encoder = encoder

    def collect(self):
        stats = getattr(self.encoder, "batch_stats", None)
        embedded = CounterMetricFamily("vraagbaak_query_embeddings", "Query embeddings computed by the batcher "
                                       "(VRAAGBAAK_QUERY_BATCH)", value=stats.total_processed if stats else 0)
        batches = CounterMetricFamily("vraagbaak_query_embedding_batches", "Forward passes of the query batcher, "
                                      "each over one or more waiting queries", value=stats.total_batches if stats else 0)
        queued = GaugeMetricFamily("vraagbaak_query_embedding_queue", "Queries waiting for the model thread",
                                   value=stats.queue_size if stats else 0)
        return [embedded, batches, queued]


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        ProcessCollector(registry=r)
        self.requests = Counter("vraagbaak_http_requests", "HTTP requests by method, route template and status",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("vraagbaak_http_request_duration_seconds",
                                 "HTTP request latency (until the last byte, streams included)",
                                 ["method", "route"], buckets=_LATENCY_BUCKETS, registry=r)
        self.in_progress = Gauge("vraagbaak_http_requests_in_progress", "HTTP requests being served", registry=r)
        self.retrieval = Histogram("vraagbaak_retrieval_duration_seconds",
                                   "Retrieval latency (embedding the query, scoring, citing) of every search, "
                                   "answer and chat completion", buckets=_LATENCY_BUCKETS, registry=r)
        self.answer = Histogram("vraagbaak_answer_duration_seconds", "Answer latency by the mode used",
                                ["mode_used"], buckets=_LATENCY_BUCKETS, registry=r)
        self.answers = Counter("vraagbaak_answers", "Answers by mode used, abstention and grounding",
                               ["mode_used", "abstained", "grounded"], registry=r)
        self.fallbacks = Counter("vraagbaak_answer_fallbacks",
                                 "Answers that fell back from generative to extractive, by reason",
                                 ["reason"], registry=r)
        self.llm_latency = Histogram("vraagbaak_llm_duration_seconds", "Latency of LLM calls (whole reply or stream)",
                                     buckets=_LATENCY_BUCKETS, registry=r)
        self.llm_errors = Counter("vraagbaak_llm_errors", "LLM calls that failed, by kind (rag.answer.llm.KINDS)",
                                  ["kind"], registry=r)
        self.chat_tasks = Counter("vraagbaak_chat_tasks", "Chat-UI background tasks (title, tags, follow_ups, …) "
                                  "answered without retrieval", ["task"], registry=r)
        self.unsupported = Counter("vraagbaak_unsupported_sentences",
                                   "Answer sentences dropped or repaired by verification", registry=r)
        self.ready = Gauge("vraagbaak_ready", "1 when the model and index are loaded", registry=r)
        self.documents = Gauge("vraagbaak_index_documents", "Documents in the loaded index", registry=r)
        self.chunks = Gauge("vraagbaak_index_passages", "Passages in the loaded index", registry=r)
        self.skipped_files = Gauge("vraagbaak_corpus_skipped_files",
                                   "Corpus files left out of the loaded index (unreadable, not text, empty); "
                                   "/readyz names them", registry=r)
        self.reindexes = Counter("vraagbaak_reindex", "Index rebuilds requested through the API, by outcome",
                                 ["status"], registry=r)
        # Exported from the start, so dashboards and alerts see zeros rather than missing series.
        self.fallbacks.labels("none")
        self.llm_errors.labels("none")

    def watch_query_batches(self, encoder) -> None:
        """Export the query-embedding batcher's counters (embeddings/encoder.py ``batch_stats``), read at
        scrape time: queries embedded, forward passes, and the queue. Embeddings per batch over time is
        ``rate(vraagbaak_query_embeddings_total[5m]) / rate(vraagbaak_query_embedding_batches_total[5m])``."""
        if getattr(self, "_batch_collector", None) is None:
            self._batch_collector = _BatchCollector(encoder)
            self.registry.register(self._batch_collector)
        self._batch_collector.encoder = encoder  # a reload brings a new service, maybe a new encoder

    def record_answer(self, answer, seconds: float) -> None:
        """Counters implied by an engine Answer (rag.types.Answer). LLM latency and errors are
        counted where the LLM is called (metered_llm_client), once per call."""
        mode = str(getattr(answer, "mode_used", "unknown") or "unknown")
        self.answer.labels(mode).observe(seconds)
        self.answers.labels(mode, str(bool(answer.abstained)).lower(), str(bool(answer.grounded)).lower()).inc()
        if answer.fallback_reason:
            self.fallbacks.labels(label(answer.fallback_reason)).inc()
        self.unsupported.inc(len(answer.unsupported_sentences or ()))


def metered_engine(service, llm, metrics: Metrics):
    """rag.answer.AnswerEngine whose retrievals feed vraagbaak_retrieval_duration_seconds, as /v1/search's
    do: the query embedding, the search and the preparation of the passages, in the worker thread."""
    from rag.answer.engine import AnswerEngine

    class MeteredAnswerEngine(AnswerEngine):
        def _retrieve_sync(self, query: str, top_k: int) -> tuple:
            started = time.perf_counter()
            try:
                return super()._retrieve_sync(query, top_k)
            finally:
                metrics.retrieval.observe(time.perf_counter() - started)

    if not hasattr(AnswerEngine, "_retrieve_sync"):  # the engine changed shape: answers work, unmetered
        log.warning("AnswerEngine has no _retrieve_sync: answer retrievals are not in the retrieval metric")
        return AnswerEngine(service, llm=llm)
    return MeteredAnswerEngine(service, llm=llm)


def metered_llm_client(settings, metrics: Metrics):
    """rag.answer.llm.LLMClient for these settings (None without VRAAGBAAK_LLM_BASE_URL) whose calls feed
    vraagbaak_llm_duration_seconds and vraagbaak_llm_errors_total{kind} (LLMError.kind)."""
    from rag.answer.llm import LLMClient

    class MeteredLLMClient(LLMClient):
        async def chat(self, messages, **kwargs):
            started = time.perf_counter()
            try:
                return await super().chat(messages, **kwargs)
            except Exception as exc:
                metrics.llm_errors.labels(getattr(exc, "kind", None) or label(type(exc).__name__)).inc()
                raise
            finally:
                metrics.llm_latency.observe(time.perf_counter() - started)

        async def stream(self, messages, **kwargs):
            started = time.perf_counter()
            try:
                async for delta in super().stream(messages, **kwargs):
                    yield delta
            except Exception as exc:
                metrics.llm_errors.labels(getattr(exc, "kind", None) or label(type(exc).__name__)).inc()
                raise
            finally:
                metrics.llm_latency.observe(time.perf_counter() - started)

    return MeteredLLMClient.from_settings(settings)


# ---------------------------------------------------------------- middleware


class RequestContextMiddleware:
    """Outermost layer: request id, one access-log line and the HTTP metrics per request, an early 413
    for a declared body over the limit, a 408 for a body that does not arrive within ``body_timeout``
    seconds, and the last-resort 500 (logged with its traceback)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int, body_timeout: float = 30.0) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

    def _limited(self, receive: Receive, reading: list[bool]) -> Receive:
        """Counts the body as it arrives (chunked bodies declare no length); over the limit, an
        HTTPException that FastAPI's body reading passes on to the error handlers (413). The whole body
        must arrive within ``body_timeout`` seconds of the first read, else 408 (with Connection: close:
        the rest of the body would be read as the next request). ``reading[0]`` is True while waiting for
        body bytes, so a shutdown that cancels the request then is told from one inside the endpoint."""
        total = 0
        deadline: float | None = None
        complete = False

        async def receive_limited() -> Message:
            nonlocal total, deadline, complete
            if complete:  # after the body: waiting for a disconnect (streaming responses), no deadline
                return await receive()
            loop = asyncio.get_running_loop()
            deadline = deadline if deadline is not None else loop.time() + self.body_timeout
            reading[0] = True  # left set if the wait is cancelled: __call__ reads it then
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                reading[0] = False
                raise HTTPException(408, headers={"Connection": "close"}) from None
            reading[0] = False
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > self.max_body_bytes:
                    raise HTTPException(413)
                complete = not message.get("more_body", False)
            else:
                complete = True  # http.disconnect
            return message

        return receive_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        reading = [False]
        self.metrics.in_progress.inc()
        try:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                response = error_response(
                    413, "body_too_large", f"the request body is larger than the limit of {self.max_body_bytes} bytes")
                await response(scope, receive, send_with_id)
                return
            await self.app(scope, self._limited(receive, reading), send_with_id)
        except asyncio.CancelledError:
            if not reading[0]:
                raise
            # The server is shutting down (uvicorn cancels what is left after its graceful timeout) while
            # this body was still arriving: an ordinary end, not an error with a traceback.
            log.info("shutdown while the request body was arriving; connection closed",
                     extra={"fields": {"method": scope["method"], "path": scope["path"]}})
            asyncio.current_task().uncancel()  # handled here: the task ends normally
            status = 503
            if not response_started:
                response = error_response(503, "shutting_down", "the server is shutting down; retry in a moment",
                                          {"Connection": "close"})
                await response(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"fields": {"method": scope["method"], "path": scope["path"]}})
            if not response_started:
                response = error_response(
                    500, "internal", f"internal error; if it persists, report request id {request_id}")
                await response(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            # The route template (/v1/documents/{doc_id}), never the raw path of a 404: bounded labels.
            route = getattr(scope.get("route"), "path", None) or (scope["path"] if scope.get("endpoint") else "unmatched")
            method = scope["method"]
            self.metrics.in_progress.dec()
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(seconds)
            access_log.info("%s %s %s", method, scope["path"], status, extra={"fields": {
                "method": method, "path": scope["path"], "route": route, "status": status,
                "ms": round(seconds * 1000, 1), "client": (scope.get("client") or ("", 0))[0]}})
            request_id_var.reset(token)
