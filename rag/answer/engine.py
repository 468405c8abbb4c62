"""The answer engine: question → retrieved passages → grounded answer with [n] citations.

The one entry point for the API, the CLI and the eval harness:

    engine = AnswerEngine(service)                # LLM from VRAAGBAAK_LLM_* settings, if configured
    answer = await engine.answer("Waarom is de WOM ingetrokken?")
    async for event in engine.answer_stream(question): ...   # "sources", "delta"..., "done"

Modes: ``extractive`` quotes the best sentences of the top passages; ``plain`` rewrites those sentences
in plain language in the question's language and checks each rewrite against its source sentence
(rag/answer/rewrite.py); ``generative`` asks the LLM to write the answer and verifies every sentence
(rag/answer/verify.py) before anything is shown; ``auto`` is plain when an LLM is configured (a small
local model rewrites well but answers badly: README, "Plain answers"). Any LLM failure — down, slow,
garbage, nothing supported, an over-cautious refusal — falls back to extractive with ``fallback_reason``
and ``llm_error`` set; LLM problems never raise.
Whether the passages answer the question is decided by rag/answer/answerable.py (a small fitted
model over similarity, term coverage, answer type and personal-situation cues); an abstention carries
that ``Decision`` (reason, related passages) for the referral. In a conversation, a question that
depends on the previous turn is searched with it (rag/answer/followup.py) and one that stands on its
own is searched alone; the extractive answer leaves out sentences the previous answer already gave.

Streaming never shows unverified text: the generative path (rag/answer/generate.py) buffers the LLM's
tokens until a sentence is complete, verifies it, and sends only a supported one as a "delta". If the
LLM yields nothing usable, the extractive answer is streamed instead. The "done" event's
``answer.text`` is exactly the concatenated deltas. What retrieval produced for a question is a
``Context`` (rag/answer/context.py), shared by every path.

The embedding model is synchronous and CPU-bound: every call runs in a worker thread
(``asyncio.to_thread``) under a per-event-loop semaphore of VRAAGBAAK_MAX_CONCURRENCY.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from dataclasses import replace
from typing import AsyncIterator, Callable

import numpy as np

from rag.answer import abstain, answerable, extractive, followup, generate, reader, referral, rewrite, timing
from rag.answer.context import CANDIDATE_PASSAGES, AnswerEvent, Context, lexicon
from rag.answer.language import prepare as prepare_language
from rag.answer.llm import LLMClient, LLMError
from rag.answer.sentences import parse_markers, sentence_deltas, split_spans
from rag.config import Settings
from rag.service import QueryError, Vraagbaak
from rag.types import Answer
from rag.answer.verify import Source, Verifier, source_sentences

log = logging.getLogger("vraagbaak.answer")

MODES = ("auto", "extractive", "generative", "plain")
MAX_TOP_K = 50

__all__ = ["MODES", "MAX_TOP_K", "AnswerEngine", "AnswerEvent", "cited_numbers"]


def cited_numbers(answer: Answer) -> list[int]:
    """The source numbers the answer text actually cites, in order of first use."""
    out: list[int] = []
    for span in split_spans(answer.text):
        for n in parse_markers(span.text)[1]:
            if n not in out:
                out.append(n)
    return out


async def _plain_stream(engine, ctx: Context) -> AsyncIterator[AnswerEvent]:
    """rewrite.plain_events as AnswerEvents."""
    async for kind, value in rewrite.plain_events(engine, ctx):
        yield AnswerEvent("delta", text=value) if kind == "delta" else AnswerEvent("done", answer=value)


class AnswerEngine:
    def __init__(self, service: Vraagbaak, llm: LLMClient | None = None, *, settings: Settings | None = None):
        """``llm=None`` takes the client from the settings (none if VRAAGBAAK_LLM_BASE_URL is empty).
        ``settings`` (default: the service's) give the LLM, thresholds and concurrency, for an app
        whose settings differ from the service's. ``aclose()`` closes the LLM client either way."""
        self.service = service
        self.settings = settings or service.settings
        self.llm = llm if llm is not None else LLMClient.from_settings(self.settings)
        self.sentence_vectors = extractive.SentenceVectors(service.encoder)
        self.verifier = Verifier(service.encoder, lexicon=lexicon(service.index))
        self.referrer = referral.Referrer(service.encoder)  # where to ask when the documents do not answer
        prepare_language()  # lingua's models, here rather than in the first question
        self.vocabulary = answerable.Vocabulary.from_index(service.index)
        self.answerability = answerable.load_model()
        self.reader = reader.load_reader()  # ReaderError (what to do) when its weights are missing or altered
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @property
    def llm_configured(self) -> bool:
        return self.llm is not None and self.llm.configured

    async def aclose(self) -> None:
        if self.llm is not None:
            await self.llm.aclose()

    # -- plumbing ----------------------------------------------------------------------------

    async def _run(self, fn: Callable, *args, retrieval: bool = False):
        """Run CPU-bound model work off the event loop, at most max_concurrency at once. Retrieval may
        run up to VRAAGBAAK_QUERY_BATCH at once when the encoder batches queries: a waiting retrieval
        holds a thread, not a core, and letting only 2 in kept batches at 2 (8 clients: 7.5 answers/s
        against 13.4/s; README "Latency and throughput over HTTP")."""
        loop = asyncio.get_running_loop()
        sems = self._semaphores.get(loop)
        if sems is None:  # one pair per loop: tests and tools may run several loops in turn
            width = max(1, self.settings.max_concurrency)
            sems = self._semaphores[loop] = (asyncio.Semaphore(width),
                                             asyncio.Semaphore(max(width, self.settings.query_batch)))
        wide = retrieval and getattr(self.service.encoder, "batching", False)  # batching starts after loading
        async with sems[wide]:
            return await asyncio.to_thread(fn, *args)

    async def warm(self) -> None:
        """Embed every passage's sentences now, for extraction and for verification (first run on a
        machine: a few minutes; afterwards read from the disk cache in seconds), so that no question
        pays for it. Optional; an API can run it as a background task at startup."""
        for step in self.warm_steps():
            await self._run(step)

    def warm_steps(self, batch: int = 8) -> list[Callable[[], None]]:
        """The warm-up as short calls (a few passages each), so a caller can stop between them."""
        chunks = self.service.index.chunks

        def step(part: list) -> None:
            self.sentence_vectors.get(part)
            self.verifier.source_vectors([Source(text=c.text, sentences=source_sentences(c.text)) for c in part])

        steps = [functools.partial(step, chunks[i:i + batch]) for i in range(0, len(chunks), batch)]
        return steps + [self.referrer.prepare]

    def _resolve_mode(self, mode: str) -> str:
        if mode not in MODES:
            raise QueryError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        if mode == "auto":
            return self.settings.auto_mode if self.llm_configured else "extractive"
        return mode

    def _read(self, query_vector, cands: list) -> list:
        """``cands`` with the reader's logit set: does each one answer, not only share the topic?"""
        return [replace(c, answers=float(z)) for c, z in zip(cands, reader.read(self.reader, query_vector, cands))]

    def _retrieve_sync(self, query: str, top_k: int) -> tuple:
        qv = self.service.encoder.encode_query(query)
        passages = self.service.retriever.search(query, top_k=top_k, query_vector=qv)
        cands = extractive.candidates(passages[:CANDIDATE_PASSAGES], self.sentence_vectors)
        cands = self._read(qv, cands)
        sources = [Source.from_passage(p) for p in passages]
        self.verifier._prepare(sources)
        self.verifier.source_vectors(sources)
        self.referrer.prepare()  # the topic vectors, once, here in the worker thread rather than on the event loop
        return qv, passages, cands, sources

    async def _retrieve(self, question: str, top_k: int, history: list[dict] | None) -> Context:
        started = time.perf_counter()
        question = self.service.validate(question)
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise QueryError(f"top_k must be between 1 and {MAX_TOP_K}")
        resolved = followup.resolve(question, history)  # a follow-up is searched with the turn it depends on
        query = resolved.query
        qv, passages, cands, sources = await self._run(self._retrieve_sync, query, top_k, retrieval=True)
        conf = abstain.confidence(passages, extractive.best_sentence_similarity(qv, cands))
        # A follow-up is judged with the question it follows (as it was retrieved).
        evidence = answerable.features(query, qv, passages[:CANDIDATE_PASSAGES], cands, self.vocabulary,
                                       reading=np.array([c.answers for c in cands], dtype=np.float32))
        decision = self.answerability.decide(evidence, passages, floor=self.settings.abstain_threshold)
        ctx = Context(question=question, language=resolved.language, passages=passages,
                      query_vector=qv, candidates=cands, sources=sources, confidence=conf, started=started,
                      decision=decision, dependent=resolved.dependent,
                      previous=frozenset(extractive.previous_sentences(timing.undated(history) if resolved.dependent else None)))
        if not self._should_abstain(ctx):  # statements of the question's time (after the decision: it keeps its evidence)
            ctx = await self._run(timing.refresh, self, ctx, query)
            if any(c.answers is None for c in ctx.candidates):  # taken-in passages: their sentences read too
                ctx.candidates = self._read(ctx.query_vector, ctx.candidates)
        return ctx

    def _answer(self, ctx: Context, text: str, mode: str, **fields) -> Answer:
        if not fields.get("abstained") and answerable.own_case(ctx.question):
            # The documents answer at the level of policy; the table's channel for the topic decides one's own
            # case (no line when no topic fits: the general pointer adds nothing to an answer).
            refer = self.referrer.refer(ctx.question, ctx.language, ctx.query_vector)
            fields["personal_referral"] = refer if refer.topic else None
        return Answer(question=ctx.question, text=text, passages=ctx.passages, mode_used=mode,
                      language=ctx.language, took_ms=(time.perf_counter() - ctx.started) * 1000, **fields)

    def _abstention(self, ctx: Context, mode: str, **fields) -> Answer:
        # The table says where to ask; it does not decide that the documents fail to answer.
        refer = self.referrer.refer(ctx.question, ctx.language, ctx.query_vector)
        answer = self._answer(ctx, referral.notice(refer), mode, abstained=True, grounded=True, referral=refer,
                              **fields)
        answer.answerability = ctx.decision.to_dict() if ctx.decision else None
        return answer

    def _should_abstain(self, ctx: Context) -> bool:
        return ctx.decision is not None and not ctx.decision.answerable

    # -- extractive ----------------------------------------------------------------------------

    async def _extractive(self, ctx: Context, **fields) -> Answer:
        n = min(extractive.CONFIG.max_passages, len(ctx.passages))
        cands = timing.pool(ctx, n)  # the top passages and any of the question's time taken in (timing.refresh)
        picked = extractive.compose(ctx.question, ctx.query_vector, cands, n, self.vocabulary, previous=ctx.previous,
                                    passages=ctx.passages, others=[c for c in ctx.candidates if c not in cands])
        picked = timing.arrange(picked, cands, ctx)  # the newest statement in, and leading
        if not picked:
            return self._abstention(ctx, "extractive", **fields)
        text = extractive.render_answer(picked)
        # Quotes pass by construction; the check keeps that true (and reuses the cached vectors).
        v = await self._run(self.verifier.verify, text, ctx.passages, "nl", ctx.sources, ctx.question)
        if not v.kept:
            return self._abstention(ctx, "extractive", **fields)
        fields.setdefault("unsupported_sentences", [])
        fields["unsupported_sentences"] = fields["unsupported_sentences"] + v.unsupported
        answer = self._answer(ctx, v.text, "extractive", sentences=v.checks, grounded=v.grounded, **fields)
        answer.answerability = ctx.decision.to_dict() if ctx.decision else None
        return answer

    # -- public --------------------------------------------------------------------------------

    async def answer(self, question: str, *, top_k: int = 5, mode: str = "auto",
                     history: list[dict] | None = None) -> Answer:
        """A grounded answer. Raises QueryError for bad input; never for LLM problems."""
        resolved = self._resolve_mode(mode)
        ctx = await self._retrieve(question, top_k, history)
        return await self._respond(ctx, mode, resolved, history)

    async def _respond(self, ctx: Context, mode: str, resolved: str, history: list[dict] | None) -> Answer:
        """The answer in the resolved mode, dated (rag/answer/timing.py: every mode passes through it)."""
        return timing.finish(self, ctx, await self._respond_undated(ctx, mode, resolved, history))

    async def _respond_undated(self, ctx: Context, mode: str, resolved: str, history: list[dict] | None) -> Answer:
        if self._should_abstain(ctx):
            return self._abstention(ctx, resolved)
        if resolved == "extractive":
            reason = "llm_not_configured" if mode == "auto" else None
            return await self._extractive(ctx, fallback_reason=reason)
        if not self.llm_configured:
            return await self._extractive(
                ctx, fallback_reason="llm_not_configured",
                llm_error=str(LLMError("not_configured", "no LLM endpoint configured (VRAAGBAAK_LLM_BASE_URL)")))
        if resolved == "plain":
            async for kind, value in rewrite.plain_events(self, ctx):
                if kind == "done":
                    return value
        return await generate.generate(self, ctx, resolved, history)

    async def answer_stream(self, question: str, *, top_k: int = 5, mode: str = "auto",
                            history: list[dict] | None = None) -> AsyncIterator[AnswerEvent]:
        """Events: one "sources", then "delta"s of verified text, then one "done" with the Answer.
        QueryError is raised at the first iteration, before any event; an unexpected internal
        failure ends the stream with an "error" event (message only)."""
        resolved = self._resolve_mode(mode)
        ctx = await self._retrieve(question, top_k, history)
        try:
            yield AnswerEvent("sources", data=ctx.passages)
            if (resolved == "extractive" or not self.llm_configured
                    or self._should_abstain(ctx)):
                answer = await self._respond(ctx, mode, resolved, history)
                for delta in sentence_deltas(answer.text):
                    yield AnswerEvent("delta", text=delta)
                yield AnswerEvent("done", answer=answer)
                return
            if resolved == "plain":
                events = _plain_stream(self, ctx)
            else:
                events = generate.generate_stream(self, ctx, resolved, history)
            async for event in timing.dated_events(self, ctx, events):  # dated as they go
                yield event
        except Exception as exc:  # noqa: BLE001 — a stream cannot turn into an HTTP error any more
            log.exception("answer stream failed")
            yield AnswerEvent("error", text=f"internal error while answering: {type(exc).__name__}")
