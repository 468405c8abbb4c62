"""End to end through the REAL local LLM: llama.cpp serving Qwen2.5-Coder 0.5B (scripts/llm_server.sh).

Runs by default (``make test``); deselect with ``-m "not llm"``. Few tokens and three sources keep it
to ~15–30 s per question on one thread. The small model is weak at citing and sometimes answers off
the point: the engine must turn whatever it says into a verified, cited answer — generative when
something it said survives verification, otherwise the extractive fallback with the reason — and
the LLM call itself must succeed (no transport or protocol error).
"""

from __future__ import annotations

import asyncio

import pytest

from rag.answer.engine import AnswerEngine
from rag.answer.llm import LLMClient
from rag.answer.sentences import parse_markers, split_spans

pytestmark = pytest.mark.llm

QUESTION = "Hoeveel mensen kwamen er op de landelijke ontmoetingsdag over eer en vrijheid in december 2013?"
OK_FALLBACKS = {"llm_unsupported", "llm_refused"}  # the model answered, but nothing it said held up


def check(answer, verifier):
    assert not answer.abstained and answer.text.strip()
    assert answer.llm_model and "qwen2.5-coder-0.5b" in answer.llm_model  # the real model answered
    if answer.mode_used == "generative":
        assert answer.fallback_reason is None
        assert answer.llm_error is None
    else:
        assert answer.fallback_reason in OK_FALLBACKS, (answer.fallback_reason, answer.llm_error)
    for span in split_spans(answer.text):
        cited = parse_markers(span.text)[1]
        assert cited and all(1 <= n <= len(answer.passages) for n in cited), span.text
    v = verifier.verify(answer.text, answer.passages, language=answer.language, question=answer.question)
    assert v.grounded and not v.invalid_citations, v.checks


def test_real_llm_answers_through_the_engine(service, llm_server):
    settings = service.settings.replace(llm_base_url=llm_server, llm_max_tokens=96, llm_timeout=180)

    async def go():
        engine = AnswerEngine(service, settings=settings)
        try:
            assert engine.llm_configured
            answer = await engine.answer(QUESTION, top_k=3, mode="generative")  # auto is plain with an LLM
            events = [e async for e in engine.answer_stream(QUESTION, top_k=3, mode="generative")]
            return engine, answer, events
        finally:
            await engine.aclose()

    engine, answer, events = asyncio.run(go())
    check(answer, engine.verifier)
    assert [e.kind for e in events][0] == "sources" and events[-1].kind == "done"
    streamed = events[-1].answer
    assert "".join(e.text for e in events if e.kind == "delta") == streamed.text
    check(streamed, engine.verifier)


def test_llm_client_talks_to_the_real_server(llm_server):
    async def go():
        client = LLMClient(llm_server, max_tokens=8, timeout=120)
        try:
            reply = await client.chat([{"role": "user", "content": "Zeg alleen: hallo"}])
            deltas = [d async for d in client.stream([{"role": "user", "content": "Zeg alleen: hallo"}])]
            return reply, deltas
        finally:
            await client.aclose()

    reply, deltas = asyncio.run(go())
    assert reply.text.strip() and reply.model and reply.usage.get("completion_tokens", 0) >= 1
    assert "".join(deltas).strip()
