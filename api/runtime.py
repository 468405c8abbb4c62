"""What the app has loaded, and the work that needs it off the event loop.

The model and index load in a worker thread after the server starts (building the index first when
there is none), so ``/healthz`` answers at once and ``/readyz`` says 503 until they are in. The
loaded service, its answer engine and its catalogue are one immutable :class:`Loaded`, read once per
request and replaced with a single assignment by a reindex: a request in flight keeps the index it
started with, the next one sees the new index.

Replicas: every process checks its store's active version every ``VRAAGBAAK_INDEX_POLL_SECONDS``
(one primary-key read in PostgreSQL, one readlink for the FAISS files) and loads a new one, so a
reindex through any replica is served by all of them within that interval plus the load (about a
second for this corpus).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import anyio
import anyio.to_thread

from api.catalogue import Catalogue
from api.errors import ApiError
from api.model_gate import GatedExecutor, ModelGate, in_query_thread, query_thread
from api.observability import Metrics, metered_engine, metered_llm_client
from rag.config import Settings
from embeddings.write_errors import IndexWriteError
from rag.search.retrieve import Filters
from rag.service import SearchResult, Vraagbaak

log = logging.getLogger("vraagbaak.api")


WARM_UP_WORDS = 48  # longer questions are rare; their first occurrence of a length pays ~0.25 s once
_WARM_UP_TEXT = "Waarom heeft de minister de Tweede Kamer een brief gestuurd over inburgering en integratie van nieuwkomers"


def skipped_files(service: Vraagbaak) -> list[dict]:
    """[{file, reason}]: corpus files the loaded index left out (recorded in its manifest at build time)."""
    return list(service.index.manifest.get("skipped") or [])


def flagged_documents(service: Vraagbaak) -> list[dict]:
    """[{file, sentences}]: documents of the loaded index holding instructions to the model (its manifest)."""
    return list(service.index.manifest.get("flagged") or [])


@dataclass(frozen=True)
class Loaded:
    service: Vraagbaak
    engine: Any | None  # rag.answer.engine.AnswerEngine, or None when it cannot be built
    catalogue: Catalogue
    loaded_at: float


@dataclass
class ReindexState:
    state: str = "idle"  # idle | running | succeeded | failed
    force: bool = False
    started_at: float | None = None
    finished_at: float | None = None
    status: str | None = None  # "built" | "up-to-date", from rag.ingest.build.build_index
    documents: int | None = None
    passages: int | None = None
    embedded: int | None = None
    seconds: float | None = None
    swapped: bool = False
    error: str | None = None
    skipped_files: list[dict] = field(default_factory=list)  # [{file, reason}] left out by this rebuild
    flagged_documents: list[dict] = field(default_factory=list)  # [{file, sentences}] instructions to the model

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics
    preloaded: Vraagbaak | None = None  # a service opened by the caller (tests, embedding)
    loaded: Loaded | None = None
    load_error: str | None = None
    engine_error: str | None = None
    llm: Any | None = None
    warm: bool = False  # the background warm-up after loading is done (see _warm)
    reindex: ReindexState = field(default_factory=ReindexState)
    _limiter: anyio.CapacityLimiter | None = None
    _search_limiter: anyio.CapacityLimiter | None = None
    _executor: ThreadPoolExecutor | None = None
    gate: ModelGate = field(default_factory=ModelGate)
    _tasks: set = field(default_factory=set)
    _reindex_task: asyncio.Task | None = None

    # ------------------------------------------------------------ lifecycle

    async def startup(self) -> None:
        # The same bound as the answer engine's own (VRAAGBAAK_MAX_CONCURRENCY): model work at once.
        self._limiter = anyio.CapacityLimiter(max(1, self.settings.max_concurrency))
        # With query batching a waiting search holds a thread, not a core: let a batch's worth in.
        self._search_limiter = anyio.CapacityLimiter(max(1, self.settings.max_concurrency, self.settings.query_batch))
        # The answer engine runs the model through asyncio.to_thread, i.e. the loop's default executor:
        # its threads get the query thread count too.
        self._executor = GatedExecutor(self.gate, max_workers=max(4, 2 * self.settings.max_concurrency,
                                                                   self.settings.max_concurrency + self.settings.query_batch),
                                           thread_name_prefix="vraagbaak-model", initializer=query_thread,
                                           initargs=(self.settings.query_threads,))
        asyncio.get_running_loop().set_default_executor(self._executor)
        self.llm = self._make_llm()
        if self.llm is not None:  # its model name, while the LLM server is idle (rag/answer/llm.py)
            self._spawn(self.llm.served_model())
        if self.preloaded is not None:
            await self._install(self.preloaded)  # taken as it is: no warm-up
            self._spawn(self._watch_index())
        else:
            self._spawn(self._load())

    async def shutdown(self, wait_seconds: float = 30.0) -> None:
        """Stop background work and return only when no thread is inside the model (see ModelGate)."""
        self.gate.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=wait_seconds)
        engine = self.loaded.engine if self.loaded else None
        if engine is not None and hasattr(engine, "aclose"):
            try:
                await engine.aclose()
            except Exception:  # closing is best effort
                log.exception("closing the answer engine failed")
        elif self.llm is not None and hasattr(self.llm, "aclose"):
            await self.llm.aclose()
        deadline = time.monotonic() + wait_seconds
        while self.gate.active and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # a model call in flight ends within one slice
        if self.gate.active:
            log.warning(f"{self.gate.active} model call(s) still running after {wait_seconds:.0f} s; exiting anyway")
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _load(self) -> None:
        settings = self.settings

        def open_service() -> Vraagbaak:
            from rag.search.stores import open_store

            store = open_store(settings)
            if store.active_manifest() is None:
                log.warning(f"no index in {store} yet: building it from {settings.corpus_dir} "
                            "(the first build embeds every passage: a few minutes on a CPU)")
            service = Vraagbaak.open(settings, build_if_missing=True, should_stop=self.gate.closed)
            service.search("warm-up", top_k=1)  # load the model now, not on the first request
            return service

        started = time.perf_counter()
        try:
            service = await anyio.to_thread.run_sync(self.gate.run, open_service, abandon_on_cancel=True)
        except Exception as exc:
            if self.gate.closed():
                return  # stopped while loading: nothing to report  # the message says what to fix; the process stays up for /healthz
            self.load_error = str(exc) if isinstance(exc, IndexWriteError) else f"{type(exc).__name__}: {exc}"
            log.error(f"loading the model and index failed: {self.load_error}")
            return
        await self._install(service)
        log.info(f"ready: {len(service.index.documents)} documents, {len(service.index.chunks)} passages, "
                 f"loaded in {time.perf_counter() - started:.1f} s")
        self._spawn(self._watch_index())
        await self._warm()

    async def _watch_index(self) -> None:
        """Load the store's active version when another process (a replica, `vraagbaak index`) published
        a new one. A failed check or load is logged and tried again at the next interval."""
        interval = self.settings.index_poll_seconds
        if interval <= 0:
            return
        failing = False
        while not self.gate.closed():
            await asyncio.sleep(interval)
            loaded = self.loaded
            if loaded is None or self.reindex.state == "running":
                continue  # a reindex in this process installs its own version
            try:
                name = await anyio.to_thread.run_sync(loaded.service.store.active_name)
                if name is None or name == loaded.service.index.name:
                    failing = False
                    continue
                service = await anyio.to_thread.run_sync(self.gate.run, loaded.service.reload,
                                                         abandon_on_cancel=True)
            except ApiError:
                return  # the gate closed: shutting down
            except Exception as exc:
                if not failing:
                    log.warning(f"checking the store for a new index version failed ({type(exc).__name__}: {exc}); "
                                "the loaded version stays in use")
                failing = True
                continue
            failing = False
            if self.loaded is loaded:  # a reindex may have installed a newer one meanwhile
                await self._install(service)
                log.info(f"index version {service.index.name} published elsewhere is now served "
                         f"(was {loaded.service.index.name})")

    async def _warm(self) -> None:
        """After ready, in the background (requests are served meanwhile, sharing the CPU):
        1. the answer engine embeds the passages' sentences (minutes the first time on a machine, then
           read from the disk cache; an answer needing vectors not in yet computes them itself);
        2. inputs of every bucketed shape (embeddings/shapes.py; batch sizes 1–16, up to 128 tokens): the
           model's CPU kernels are prepared and kept per input shape, so a fresh process answered its first
           ~100 questions ~30% slower without this (measured: search p50 97 ms → 74 ms), and each new shape
           also costs ~2 MB that stays.
        /readyz reports ``warm`` when both are done."""
        loaded = self.loaded
        if loaded is None:
            return
        started = time.perf_counter()
        threads = self.settings.query_threads
        try:
            if loaded.engine is not None and hasattr(loaded.engine, "warm_steps"):
                try:
                    for step in loaded.engine.warm_steps():  # short calls: shutdown never waits long
                        await anyio.to_thread.run_sync(self.gate.run, in_query_thread, threads, step,
                                                       limiter=self._limiter)
                except ApiError:
                    raise
                except Exception:
                    log.exception("warming the answer engine failed; answers compute what they need")
            encoder = loaded.service.encoder
            if hasattr(encoder, "warm_steps"):  # every bucketed input shape (embeddings/shapes.py) once
                for step in encoder.warm_steps():
                    await anyio.to_thread.run_sync(self.gate.run, in_query_thread, threads, step,
                                                   limiter=self._limiter)
            else:
                words = (_WARM_UP_TEXT.split() * 8)[:WARM_UP_WORDS]
                for n in range(1, WARM_UP_WORDS + 1):
                    await anyio.to_thread.run_sync(self.gate.run, in_query_thread, threads, encoder.encode_query,
                                                   " ".join(words[:n]), limiter=self._limiter)
        except ApiError:  # the gate closed: shutting down
            return
        self.warm = True
        log.info(f"warm in {time.perf_counter() - started:.1f} s")

    async def _install(self, service: Vraagbaak) -> None:
        """Make ``service`` the one requests use: its catalogue and answer engine are built off the
        event loop, then swapped in with one assignment."""
        def prepare() -> Loaded:
            return Loaded(service=service, engine=self._make_engine(service),
                          catalogue=Catalogue.from_index(service.index), loaded_at=time.time())

        self.loaded = await anyio.to_thread.run_sync(prepare)
        # Concurrent searches share forward passes (README "Throughput"). Never stopped: a search still
        # waiting on it at shutdown must get its vector; the model thread dies with the process.
        if self.settings.query_batch > 1 and hasattr(service.encoder, "start_query_batching"):
            service.encoder.start_query_batching(self.settings.query_batch, self.settings.query_batch_threads)
            self.metrics.watch_query_batches(service.encoder)
        self.load_error = None
        self.metrics.ready.set(1)
        self.metrics.documents.set(len(service.index.documents))
        self.metrics.chunks.set(len(service.index.chunks))
        self.metrics.skipped_files.set(len(skipped_files(service)))

    def _make_llm(self):
        if not getattr(self.settings, "llm_base_url", ""):
            return None
        try:
            return metered_llm_client(self.settings, self.metrics)
        except Exception as exc:
            log.error(f"the LLM client could not be set up ({exc}); answers will be extractive")
            return None

    def _make_engine(self, service: Vraagbaak):
        try:
            from rag.answer.engine import AnswerEngine  # noqa: F401 — only whether it can be imported
        except ImportError as exc:
            self.engine_error = f"the answer engine is not available ({exc})"
            return None
        try:
            # With llm=None the engine would build its own client from the settings: both are None
            # then, unless building ours failed, and then the engine's (unmetered) one is the better choice.
            engine = metered_engine(service, self.llm, self.metrics)
        except Exception as exc:
            self.engine_error = f"the answer engine could not be set up ({type(exc).__name__}: {exc})"
            log.exception("the answer engine could not be set up")
            return None
        self.engine_error = None
        return engine

    # ------------------------------------------------------------ for the endpoints

    def require(self) -> Loaded:
        loaded = self.loaded
        if loaded is None:
            if self.load_error:
                raise ApiError(503, "not_ready", f"the model and index could not be loaded: {self.load_error}")
            raise ApiError(503, "not_ready", "the model and index are still loading; retry in a moment",
                           {"Retry-After": "5"})
        return loaded

    def require_engine(self) -> tuple[Loaded, Any]:
        loaded = self.require()
        if loaded.engine is None:
            raise ApiError(503, "answer_engine_unavailable", self.engine_error or "the answer engine is not available")
        return loaded, loaded.engine

    async def search(self, loaded: Loaded, query: str, top_k: int, filters: Filters | None) -> SearchResult:
        """Retrieval in a worker thread; up to VRAAGBAAK_QUERY_BATCH at once, their query embeddings
        sharing forward passes (embeddings/encoder.py start_query_batching)."""
        result = await anyio.to_thread.run_sync(self.gate.run, in_query_thread, self.settings.query_threads,
                                                loaded.service.search, query, top_k, filters,
                                                limiter=self._search_limiter)
        self.metrics.retrieval.observe(result.took_ms / 1000)
        return result

    # ------------------------------------------------------------ reindex

    def start_reindex(self, force: bool) -> asyncio.Task:
        loaded = self.require()
        if self.reindex.state == "running":
            raise ApiError(409, "reindex_running", "an index rebuild is already running; "
                                                   "GET /v1/admin/reindex shows its progress")
        self.reindex = ReindexState(state="running", force=force, started_at=time.time())
        self._reindex_task = self._spawn(self._reindex(loaded, force))
        return self._reindex_task

    async def _reindex(self, loaded: Loaded, force: bool) -> None:
        settings, encoder = self.settings, loaded.service.encoder
        state = self.reindex

        def rebuild() -> tuple[Any, Vraagbaak | None]:
            from rag.ingest.build import build_index

            report = build_index(settings, encoder, force=force, should_stop=self.gate.closed,
                                 store=loaded.service.store)
            if report.status != "built":
                return report, None
            return report, loaded.service.reload()  # the model stays loaded; only the index is new

        try:
            report, service = await anyio.to_thread.run_sync(self.gate.run, rebuild, abandon_on_cancel=True)
            if service is not None:
                await self._install(service)  # one assignment: requests already running keep the old index
                self._spawn(self._warm())
            state.status, state.documents, state.passages = report.status, report.documents, report.chunks
            state.embedded, state.seconds, state.swapped = report.embedded, round(report.seconds, 1), service is not None
            state.skipped_files = [f.to_dict() for f in report.skipped]
            state.flagged_documents = [f.to_dict() for f in report.flagged]
            state.state = "succeeded"
            self.metrics.reindexes.labels("succeeded").inc()
            log.info(f"reindex {report.status}: {report.documents} documents, {report.chunks} passages, "
                     f"{report.embedded} newly embedded in {report.seconds:.1f} s")
        except IndexWriteError as exc:  # a full or unwritable disk: one line, no traceback, in status and log
            state.state, state.error = "failed", str(exc)
            self.metrics.reindexes.labels("failed").inc()
            log.error(f"reindex failed: {exc}; the loaded index stays in use")
        except Exception as exc:
            state.state, state.error = "failed", f"{type(exc).__name__}: {exc}"
            self.metrics.reindexes.labels("failed").inc()
            log.exception("reindex failed; the loaded index stays in use")
        finally:
            state.finished_at = time.time()
