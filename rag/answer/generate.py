"""The generative path: the LLM writes the answer from the passages, and only verified sentences are kept.

``generate`` asks for the whole reply at once; ``generate_stream`` buffers the LLM's tokens until a
sentence is complete (the next one has begun, or the reply ended), verifies it and yields it as a
"delta" only when it is supported (with repaired citations), so a stream never shows unverified text.
``settle`` turns what survived into the final Answer: generative if any sentence was kept, else an
abstention (a believable refusal) or the extractive fallback with ``fallback_reason`` and
``llm_error`` set. Called by rag/answer/engine.py (``AnswerEngine``) with its retrieval Context.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, AsyncIterator

from rag.answer.context import AnswerEvent, Context
from rag.answer.language import detect_language
from rag.answer.llm import LLMError, StreamMeta
from rag.answer.prompt import Prompt, build_prompt, condense, count_tokens, truncate_to_tokens
from rag.answer.sentences import complete_sentences, drop_cut_off, render, sentence_deltas
from rag.answer.verify import Collected
from rag.ingest import instructions
from rag.types import Answer

if TYPE_CHECKING:
    from rag.answer.engine import AnswerEngine

log = logging.getLogger("vraagbaak.answer")


def source_texts(engine: AnswerEngine, ctx: Context) -> list[str]:
    """Each passage as the LLM sees it: whole if short, else its sentences most similar to the
    question, up to VRAAGBAAK_LLM_SOURCE_TOKENS (prompt reading dominates CPU latency)."""
    cap = engine.settings.llm_source_tokens
    texts = []
    for n, passage in enumerate(ctx.passages, start=1):
        text = instructions.strip(passage.chunk.text)  # instructions inside a document are not evidence
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


def prompt(engine: AnswerEngine, ctx: Context, history: list[dict] | None) -> Prompt:
    """The grounded prompt for this question and its passages (rag/answer/prompt.py); the conversation
    only for a follow-up: a question that stands on its own is answered on its own."""
    return build_prompt(ctx.question, ctx.passages, budget=engine.settings.llm_context_tokens,
                        history=history if ctx.dependent else None, language=ctx.language,
                        texts=source_texts(engine, ctx))


def reply_language(reply: str, ctx: Context) -> str:
    """The language the reply is verified in: the one the model actually wrote (small models slip
    into Dutch), the question's when that cannot be told."""
    return detect_language(reply, fallback=ctx.language)


async def settle(engine: AnswerEngine, ctx: Context, got: Collected, model: str | None,
                 error: LLMError | None, mode: str) -> Answer:
    """The final answer once the reply is in: generative if anything survived verification,
    else an abstention (a believable refusal) or the extractive fallback."""
    settings = engine.settings
    llm_fields = dict(llm_model=model, unsupported_sentences=list(got.unsupported))
    if got.kept:
        return engine._answer(ctx, " ".join(render(c.text, c.citations) for c in got.kept), mode,
                              sentences=got.checks, grounded=not got.unsupported,
                              llm_error=str(error) if error else None, **llm_fields)
    if error is not None:
        reason = f"llm_{error.kind}"
        return await engine._extractive(ctx, fallback_reason=reason, llm_error=str(error), **llm_fields)
    if got.refusals:
        if ctx.confidence.score < settings.refusal_threshold:
            return engine._abstention(ctx, mode, llm_model=model, sentences=got.checks,
                                      unsupported_sentences=list(got.unsupported))
        return await engine._extractive(
            ctx, fallback_reason="llm_refused",
            llm_error=f"refused: the model said the sources do not answer, but retrieval confidence is "
                      f"{ctx.confidence.score:.2f} (>= {settings.refusal_threshold})", **llm_fields)
    n = len(got.checks)
    return await engine._extractive(
        ctx, fallback_reason="llm_unsupported",
        llm_error=f"unsupported: none of the reply's {n} sentence{'s' if n != 1 else ''} is supported by "
                  f"the sources it cites", **llm_fields)


async def generate(engine: AnswerEngine, ctx: Context, mode: str, history: list[dict] | None) -> Answer:
    """The LLM's whole reply, verified sentence by sentence, then settled. Never raises for LLM problems."""
    messages = prompt(engine, ctx, history).messages
    got = Collected()
    try:
        reply = await engine.llm.chat(messages)
    except LLMError as exc:
        log.warning("LLM failed, falling back to extractive: %s", exc)
        # the model waited for: configured, or learned from the server before the call
        return await settle(engine, ctx, got, engine.llm.model_name or None, exc, mode)
    model = reply.model or engine.llm.model_name or None
    text = drop_cut_off(reply.text) if reply.finish_reason == "length" else reply.text
    language = reply_language(text, ctx)
    got.add(await engine._run(engine.verifier.verify, text, ctx.passages, language, ctx.sources, ctx.question))
    return await settle(engine, ctx, got, model, None, mode)


async def generate_stream(engine: AnswerEngine, ctx: Context, mode: str,
                          history: list[dict] | None) -> AsyncIterator[AnswerEvent]:
    """"delta" events of verified sentences as the LLM writes them, then one "done" with the Answer;
    if nothing survives, the fallback answer's sentences are streamed instead."""
    messages = prompt(engine, ctx, history).messages
    got = Collected()
    emitted: list[str] = []
    buffer = ""
    error: LLMError | None = None
    language = ctx.language

    async def check(text: str) -> list[str]:
        v = await engine._run(engine.verifier.verify, text, ctx.passages, language, ctx.sources, ctx.question)
        return [render(c.text, c.citations) for c in got.add(v)]

    meta = StreamMeta()
    try:
        async for delta in engine.llm.stream(messages, meta=meta):
            buffer += delta
            ready, buffer = complete_sentences(buffer)
            if ready:
                if not emitted and not got.checks:
                    language = reply_language(ready, ctx)
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
            language = reply_language(buffer, ctx)
        for sentence in await check(buffer):
            yield AnswerEvent("delta", text=(" " if emitted else "") + sentence)
            emitted.append(sentence)
    model = meta.model or engine.llm.model_name or None
    answer = await settle(engine, ctx, got, model, error, mode)
    if emitted:
        answer.text = " ".join(emitted)  # already shown; settle rendered the same sentences
    else:
        for delta in sentence_deltas(answer.text):
            yield AnswerEvent("delta", text=delta)
    yield AnswerEvent("done", answer=answer)
