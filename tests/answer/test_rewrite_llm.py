"""Plain answers through the REAL local LLM (llama.cpp serving Qwen2.5-Coder 0.5B, the ``llm_server``
fixture): a Dutch question gets at least one verified plain rewrite, an English question is answered
in English, and whatever the model writes, every sentence shown is either a rewrite that passed the
check against its source sentence or that source sentence verbatim."""

from __future__ import annotations

import asyncio

import pytest

from rag.answer import rewrite
from rag.answer.engine import AnswerEngine
from rag.answer.language import detect_language
from rag.answer.sentences import parse_markers, split_spans
from rag.answer.verify import Source

# Not run to completion on 2026-11-30 (the shared machine was too loaded). A sample run showed the 0.5B
# model copying Dutch sentences (reported as quotes, so no rewrite is kept) and mistranslating English ones
# (rejected by the similarity floor): both tests are expected to fail with it, and pass with an endpoint
# that rewrites faithfully. Not strict, so a pass shows as XPASS.
pytestmark = [pytest.mark.llm, pytest.mark.xfail(reason="Qwen2.5-Coder 0.5B copies Dutch and mistranslates "
                                                        "English (README, Plain answers)", strict=False)]

DUTCH = "Waarom is het overleg met minderhedenorganisaties gestopt?"
ENGLISH = "Why did the government stop the consultation with minority organisations?"


def ask(service, llm_server, question: str, stream: bool = False):
    settings = service.settings.replace(llm_base_url=llm_server, llm_temperature=0.0, llm_timeout=240)

    async def go():
        engine = AnswerEngine(service, settings=settings)
        try:
            if stream:
                events = [e async for e in engine.answer_stream(question)]
                answer = events[-1].answer
                assert "".join(e.text for e in events if e.kind == "delta") == answer.text
                return engine, answer
            return engine, await engine.answer(question)  # auto: plain with an LLM configured
        finally:
            await engine.aclose()

    return asyncio.run(go())


def check_plain(engine, answer):
    assert not answer.abstained and answer.mode_used == "plain", (answer.fallback_reason, answer.llm_error)
    assert answer.llm_model and "qwen2.5-coder" in answer.llm_model
    quotes = {c.source for c in answer.sentences}
    assert all(c.how in ("rewritten", "quoted") and c.source for c in answer.sentences)
    for c in answer.sentences:
        if c.how == "quoted":
            assert c.text == c.source
    for span in split_spans(answer.text):
        cited = parse_markers(span.text)[1]
        assert cited and all(1 <= n <= len(answer.passages) for n in cited), span.text
    assert quotes  # every sentence stands for a sentence of the extractive answer
    return [c for c in answer.sentences if c.how == "rewritten"]


def test_a_dutch_question_gets_a_verified_plain_rewrite(service, llm_server):
    engine, answer = ask(service, llm_server, DUTCH, stream=True)
    rewritten = check_plain(engine, answer)
    assert rewritten, [c.reasons for c in answer.sentences]
    checker = rewrite.RewriteCheck(engine.verifier)
    fresh = [Source.from_passage(p) for p in answer.passages]
    engine.verifier._prepare(fresh)
    engine.verifier.source_vectors(fresh)
    for c in rewritten:  # the kept rewrite passes the check again, as a whole line
        line = " ".join(x.text for x in rewritten if x.source == c.source)
        problems, _ = checker.problems(rewrite.Quote(c.source, c.citations), line, answer.language, fresh)
        assert not problems, (c.source, line, problems)


def test_an_english_question_is_answered_in_english(service, llm_server):
    engine, answer = ask(service, llm_server, ENGLISH)
    rewritten = check_plain(engine, answer)
    assert answer.language == "en"
    assert rewritten and detect_language(" ".join(c.text for c in rewritten)) == "en"
    plain_text = " ".join(parse_markers(s.text)[0] for s in split_spans(answer.text))
    assert detect_language(plain_text) == "en", answer.text
