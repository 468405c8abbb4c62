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
that ``Decision`` (reason, related passages) for the referral. In a conversation the extractive
answer leaves out sentences the previous answer already gave.

Streaming never shows unverified text: the LLM's tokens are buffered until a sentence is complete
(the next one has begun, or the reply ended), that sentence is verified, and only a supported one
(with repaired citations) is sent as a "delta". If the LLM yields nothing usable, the extractive
answer is streamed instead. The "done" event's ``answer.text`` is exactly the concatenated deltas.

The embedding model is synchronous and CPU-bound: every call runs in a worker thread
(``asyncio.to_thread``) under a per-event-loop semaphore of VRAAGBAAK_MAX_CONCURRENCY.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from dataclasses import dataclass
from typing import AsyncIterator, Callable

import numpy as np

from rag.answer import abstain, answerable, extractive, referral, rewrite
from rag.answer.language import detect_language, prepare as prepare_language
from rag.answer.llm import LLMClient, LLMError, StreamMeta
from rag.answer.prompt import build_prompt, condense, count_tokens, truncate_to_tokens
from rag.answer.sentences import complete_sentences, drop_cut_off, parse_markers, render, sentence_deltas, split_spans
from rag.config import Settings
from rag.service import QueryError, Vraagbaak
from rag.types import Answer, Passage
from rag.answer.facts import CorpusLexicon
from rag.answer.verify import Collected, Source, Verifier, source_sentences

log = logging.getLogger("vraagbaak.answer")

MODES = ("auto", "extractive", "generative", "plain")
MAX_TOP_K = 50
CANDIDATE_PASSAGES = 5
_FOLLOW_UP_WORDS = 10  # questions shorter than this are retrieved together with the previous one


@dataclass
class AnswerEvent:
    kind: str  # "sources" (data: list[Passage]) | "delta" (text: str) | "done" (answer: Answer) | "error" (text)
    data: list[Passage] | None = None
    text: str = ""
    answer: Answer | None = None


@dataclass
class _Context:
    """Everything retrieval produced for one question."""

    question: str
    language: str
    passages: list[Passage]
    query_vector: np.ndarray
    candidates: list[extractive.Candidate]
    sources: list[Source]
    confidence: abstain.Confidence
    started: float
    decision: answerable.Decision | None = None
    previous: frozenset = frozenset()  # normalised sentences of the previous answer (not to repeat)


_LEXICONS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _lexicon(index) -> CorpusLexicon:
    """The corpus's proper names, computed once per loaded index (~0.1 s)."""
    try:
        return _LEXICONS[index]
    except (KeyError, TypeError):
        lexicon = CorpusLexicon.from_texts(c.text for c in index.chunks)
        try:
            _LEXICONS[index] = lexicon
        except TypeError:
            pass
        return lexicon


def cited_numbers(answer: Answer) -> list[int]:
    """The source numbers the answer text actually cites, in order of first use."""
    out: list[int] = []
    for span in split_spans(answer.text):
        for n in parse_markers(span.text)[1]:
            if n not in out:
                out.append(n)
    return out


class AnswerEngine:
    def __init__(self, service: Vraagbaak, llm: LLMClient | None = None, *, settings: Settings | None = None):
        """``llm=None`` takes the client from the settings (none if VRAAGBAAK_LLM_BASE_URL is empty).
        ``settings`` (default: the service's) give the LLM, thresholds and concurrency, for an app
        whose settings differ from the service's. ``aclose()`` closes the LLM client either way."""
        self.service = service
        self.settings = settings or service.settings
        self.llm = llm if llm is not None else LLMClient.from_settings(self.settings)
        self.sentence_vectors = extractive.SentenceVectors(service.encoder)
        self.verifier = Verifier(service.encoder, lexicon=_lexicon(service.index))
        self.referrer = referral.Referrer(service.encoder)  # where to ask when the documents do not answer
        prepare_language()  # lingua's models, here rather than in the first question
        self.vocabulary = answerable.Vocabulary.from_index(service.index)
        self.answerability = answerable.load_model()
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

    @staticmethod
    def _retrieval_query(question: str, history: list[dict] | None) -> str:
        """A short follow-up ("En wanneer was dat?") is searched together with the previous question."""
        if not history or len(question.split()) >= _FOLLOW_UP_WORDS:
            return question
        for message in reversed(history):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
                if isinstance(content, str) and content.strip():
                    return f"{content.strip()[:300]} {question}"
        return question

    def _retrieve_sync(self, query: str, top_k: int) -> tuple:
        qv = self.service.encoder.encode_query(query)
        passages = self.service.retriever.search(query, top_k=top_k, query_vector=qv)
        # Sentences to quote and to measure confidence by: from the top 5 (as calibrated), whatever top_k.
        cands = extractive.candidates(passages[:CANDIDATE_PASSAGES], self.sentence_vectors)
        sources = [Source.from_passage(p) for p in passages]
        self.verifier._prepare(sources)
        self.verifier.source_vectors(sources)
        self.referrer.prepare()  # the topic vectors, once, here in the worker thread rather than on the event loop
        return qv, passages, cands, sources

    async def _retrieve(self, question: str, top_k: int, history: list[dict] | None) -> _Context:
        started = time.perf_counter()
        question = self.service.validate(question)
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise QueryError(f"top_k must be between 1 and {MAX_TOP_K}")
        query = self._retrieval_query(question, history)
        qv, passages, cands, sources = await self._run(self._retrieve_sync, query, top_k, retrieval=True)
        conf = abstain.confidence(passages, extractive.best_sentence_similarity(qv, cands))
        # A follow-up is judged with the question it follows (as it was retrieved).
        evidence = answerable.features(query, qv, passages[:CANDIDATE_PASSAGES], cands, self.vocabulary)
        decision = self.answerability.decide(evidence, passages, floor=self.settings.abstain_threshold)
        return _Context(question=question, language=detect_language(question), passages=passages,
                        query_vector=qv, candidates=cands, sources=sources, confidence=conf, started=started,
                        decision=decision, previous=frozenset(extractive.previous_sentences(history)))

    def _answer(self, ctx: _Context, text: str, mode: str, **fields) -> Answer:
        return Answer(question=ctx.question, text=text, passages=ctx.passages, mode_used=mode,
                      language=ctx.language, took_ms=(time.perf_counter() - ctx.started) * 1000, **fields)

    def _abstention(self, ctx: _Context, mode: str, **fields) -> Answer:
        # The table says where to ask; it does not decide that the documents fail to answer.
        refer = self.referrer.refer(ctx.question, ctx.language, ctx.query_vector)
        answer = self._answer(ctx, referral.notice(refer), mode, abstained=True, grounded=True, referral=refer,
                              **fields)
        answer.answerability = ctx.decision.to_dict() if ctx.decision else None
        return answer

    def _should_abstain(self, ctx: _Context) -> bool:
        return ctx.decision is not None and not ctx.decision.answerable

    # -- extractive ----------------------------------------------------------------------------

    async def _extractive(self, ctx: _Context, **fields) -> Answer:
        n = min(extractive.CONFIG.max_passages, len(ctx.passages))
        picked = extractive.compose(ctx.question, ctx.query_vector, [c for c in ctx.candidates if c.source <= n], n,
                                    self.vocabulary, previous=ctx.previous)
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

    # -- generative ----------------------------------------------------------------------------

    def _source_texts(self, ctx: _Context) -> list[str]:
        """Each passage as the LLM sees it: whole if short, else its sentences most similar to the
        question, up to VRAAGBAAK_LLM_SOURCE_TOKENS (prompt reading dominates CPU latency)."""
        cap = self.settings.llm_source_tokens
        texts = []
        for n, passage in enumerate(ctx.passages, start=1):
            text = passage.chunk.text
            if cap <= 0 or count_tokens(text) <= cap:
                texts.append(text)
                continue
            mine = [c for c in ctx.candidates if c.source == n]
            if not mine:
                texts.append(truncate_to_tokens(text, cap))
                continue
            relevance = [float(c.vector @ ctx.query_vector) for c in mine]
            texts.append(condense([c.text for c in mine], relevance, cap))
        return texts

    def _prompt(self, ctx: _Context, history: list[dict] | None):
        return build_prompt(ctx.question, ctx.passages, budget=self.settings.llm_context_tokens,
                            history=history, language=ctx.language, texts=self._source_texts(ctx))

    def _verify_language(self, reply: str, ctx: _Context) -> str:
        # The rule depends on the language the model actually wrote (small models slip into Dutch).
        return detect_language(reply, fallback=ctx.language)

    async def _settle(self, ctx: _Context, got: Collected, model: str | None, error: LLMError | None,
                      mode: str) -> Answer:
        """The final answer once the reply is in: generative if anything survived verification,
        else an abstention (a believable refusal) or the extractive fallback."""
        llm_fields = dict(llm_model=model, unsupported_sentences=list(got.unsupported))
        if got.kept:
            return self._answer(ctx, " ".join(render(c.text, c.citations) for c in got.kept), mode,
                                sentences=got.checks, grounded=not got.unsupported,
                                llm_error=str(error) if error else None, **llm_fields)
        if error is not None:
            reason = f"llm_{error.kind}"
            return await self._extractive(ctx, fallback_reason=reason, llm_error=str(error), **llm_fields)
        if got.refusals:
            if ctx.confidence.score < self.settings.refusal_threshold:
                return self._abstention(ctx, mode, llm_model=model, sentences=got.checks,
                                        unsupported_sentences=list(got.unsupported))
            return await self._extractive(
                ctx, fallback_reason="llm_refused",
                llm_error=f"refused: the model said the sources do not answer, but retrieval confidence is "
                          f"{ctx.confidence.score:.2f} (>= {self.settings.refusal_threshold})", **llm_fields)
        n = len(got.checks)
        return await self._extractive(
            ctx, fallback_reason="llm_unsupported",
            llm_error=f"unsupported: none of the reply's {n} sentence{'s' if n != 1 else ''} is supported by "
                      f"the sources it cites", **llm_fields)

    async def _generate(self, ctx: _Context, mode: str, history: list[dict] | None) -> Answer:
        prompt = self._prompt(ctx, history)
        got = Collected()
        model = self.llm.model or None
        try:
            reply = await self.llm.chat(prompt.messages)
        except LLMError as exc:
            log.warning("LLM failed, falling back to extractive: %s", exc)
            return await self._settle(ctx, got, model, exc, mode)
        model = reply.model or model
        text = drop_cut_off(reply.text) if reply.finish_reason == "length" else reply.text
        language = self._verify_language(text, ctx)
        got.add(await self._run(self.verifier.verify, text, ctx.passages, language, ctx.sources, ctx.question))
        return await self._settle(ctx, got, model, None, mode)

    # -- public ----------------------------------------------------------------------------------

    async def answer(self, question: str, *, top_k: int = 5, mode: str = "auto",
                     history: list[dict] | None = None) -> Answer:
        """A grounded answer. Raises QueryError for bad input; never for LLM problems."""
        resolved = self._resolve_mode(mode)
        ctx = await self._retrieve(question, top_k, history)
        return await self._respond(ctx, mode, resolved, history)

    async def _respond(self, ctx: _Context, mode: str, resolved: str, history: list[dict] | None) -> Answer:
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
        return await self._generate(ctx, resolved, history)

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
                async for kind, value in rewrite.plain_events(self, ctx):
                    yield AnswerEvent("delta", text=value) if kind == "delta" else AnswerEvent("done", answer=value)
                return
            async for event in self._generate_stream(ctx, resolved, history):
                yield event
        except Exception as exc:  # noqa: BLE001 — a stream cannot turn into an HTTP error any more
            log.exception("answer stream failed")
            yield AnswerEvent("error", text=f"internal error while answering: {type(exc).__name__}")

    async def _generate_stream(self, ctx: _Context, mode: str, history: list[dict] | None) -> AsyncIterator[AnswerEvent]:
        prompt = self._prompt(ctx, history)
        got = Collected()
        emitted: list[str] = []
        buffer = ""
        error: LLMError | None = None
        language = ctx.language

        async def check(text: str) -> list[str]:
            v = await self._run(self.verifier.verify, text, ctx.passages, language, ctx.sources, ctx.question)
            return [render(c.text, c.citations) for c in got.add(v)]

        meta = StreamMeta()
        try:
            async for delta in self.llm.stream(prompt.messages, meta=meta):
                buffer += delta
                ready, buffer = complete_sentences(buffer)
                if ready:
                    if not emitted and not got.checks:
                        language = self._verify_language(ready, ctx)
                    for sentence in await check(ready):
                        yield AnswerEvent("delta", text=(" " if emitted else "") + sentence)
                        emitted.append(sentence)
        except LLMError as exc:
            error = exc
            log.warning("LLM stream failed: %s", exc)
        if meta.finish_reason == "length":
            buffer = drop_cut_off(buffer)
        if buffer.strip() and error is None:
            if not emitted and not got.checks:
                language = self._verify_language(buffer, ctx)
            for sentence in await check(buffer):
                yield AnswerEvent("delta", text=(" " if emitted else "") + sentence)
                emitted.append(sentence)
        model = meta.model or self.llm.model or None
        answer = await self._settle(ctx, got, model, error, mode)
        if emitted:
            answer.text = " ".join(emitted)  # already shown; _settle rendered the same sentences
        else:
            for delta in sentence_deltas(answer.text):
                yield AnswerEvent("delta", text=delta)
        yield AnswerEvent("done", answer=answer)
