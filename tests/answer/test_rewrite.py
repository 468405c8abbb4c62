"""Plain answers (rag/answer/rewrite.py): the prompt, the parser, the check of a rewrite against its
source sentence with the real embedding model, and the path through the engine. The fault "the LLM
changed a number" is forced with a fake LLM reply (httpx.MockTransport); everything else is real.
The real local LLM runs in tests/answer/test_rewrite_llm.py."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from rag.answer import rewrite
from rag.answer.engine import AnswerEngine
from rag.answer.llm import LLMClient
from rag.answer.rewrite import Quote, RewriteCheck, parse_line
from rag.answer.sentences import parse_markers, split_spans
from rag.answer.verify import Source

# A sentence of the corpus (kst-32824-445's "ontmoetingsdag" passage) with a number and a date.
QUESTION = "Hoeveel mensen kwamen er op de landelijke ontmoetingsdag over eer en vrijheid in december 2013?"


def run(coro):
    return asyncio.run(coro)


def test_the_instruction_prefix_is_the_same_for_every_request():
    a = rewrite.messages([Quote("De wet is ingetrokken.", (1,))], "nl")
    b = rewrite.messages([Quote("Het overleg is gestopt.", (2,)), Quote("Er kwamen 150 mensen.", (1,))], "en")
    assert a[0] == b[0] and a[0]["role"] == "system"  # llama.cpp reuses the evaluated system prompt
    assert a[1]["content"].startswith("Sentences:\n1. ") and b[1]["content"].startswith("Sentences:\n1. ")
    assert a[1]["content"].endswith("plain Dutch.") and b[1]["content"].endswith("plain English.")
    assert "2. Er kwamen 150 mensen." in b[1]["content"]


@pytest.mark.parametrize("line, parsed", [
    ("1. De wet is ingetrokken.", (1, "De wet is ingetrokken.")),
    ("2) Het overleg is gestopt. [1]", (2, "Het overleg is gestopt.")),
    ("**3.** Er kwamen 150 mensen.", (3, "Er kwamen 150 mensen.")),
    ("Here are the sentences:", None),
    ("4.", None),
])
def test_numbered_lines_are_parsed_and_markers_dropped(line, parsed):
    assert parse_line(line) == parsed


@pytest.fixture(scope="module")
def engine(service):
    return AnswerEngine(service, settings=service.settings.replace(llm_base_url=""))


@pytest.fixture(scope="module")
def numbered(engine):
    """The extractive answer to QUESTION, its quotes, and the first quote that states a number."""
    answer = run(engine.answer(QUESTION, mode="extractive"))
    quotes = rewrite.quotes_of(answer)
    with_number = next(q for q in quotes if re.search(r"\d", q.text))
    sources = [Source.from_passage(p) for p in answer.passages]
    engine.verifier._prepare(sources)
    engine.verifier.source_vectors(sources)
    return answer, quotes, with_number, sources


def changed_number(text: str) -> str:
    """The sentence with its first number replaced by another one."""
    return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 7), text, count=1)


def test_a_faithful_rewrite_passes_and_changed_facts_do_not(engine, numbered):
    _, _, quote, sources = numbered
    check = RewriteCheck(engine.verifier)
    assert check.problems(quote, quote.text, "nl", sources)[0] == []  # the sentence itself is its own rewrite
    problems, _ = check.problems(quote, changed_number(quote.text), "nl", sources)
    assert any(p.startswith("number") for p in problems), problems
    problems, _ = check.problems(quote, quote.text + " Minister Jansen was daar blij mee.", "nl", sources)
    assert any("Jansen" in p for p in problems), problems
    problems, _ = check.problems(quote, "Het weer was mooi in het voorjaar.", "nl", sources)
    assert problems
    copied = check.settle(0, quote, quote.text.upper(), "nl", sources).checks  # a copy is a quote, and says so
    assert [(c.how, c.text, c.reasons) for c in copied] == [("quoted", quote.text, ("rewrite repeats the source",))]


def fake_llm(change_numbers: bool) -> LLMClient:
    """An OpenAI-compatible stream that answers every numbered sentence with itself, lightly reworded
    ("Kort gezegd: …") — with its first number changed when ``change_numbers`` (the fault under test)."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sentences = re.findall(r"^(\d+)\. (.+)$", body["messages"][-1]["content"], re.M)
        lines = [f"{n}. {changed_number(s) if change_numbers else 'Kort gezegd: ' + s}\n" for n, s in sentences]
        events = [{"model": "fake", "choices": [{"delta": {"content": line}, "finish_reason": None}]} for line in lines]
        events.append({"model": "fake", "choices": [{"delta": {}, "finish_reason": "stop"}]})
        stream = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, content=stream.encode())

    return LLMClient("http://fake.invalid/v1", model="fake", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("stream", [False, True])
def test_a_rewrite_that_changes_a_number_is_replaced_by_its_source_quote(service, numbered, stream):
    extractive, _, quote, _ = numbered

    async def go():
        engine = AnswerEngine(service, fake_llm(change_numbers=True), settings=service.settings)
        try:
            if stream:
                events = [e async for e in engine.answer_stream(QUESTION)]  # auto = plain with an LLM
                answer = events[-1].answer
                assert "".join(e.text for e in events if e.kind == "delta") == answer.text
                return answer
            return await engine.answer(QUESTION)
        finally:
            await engine.aclose()

    answer = run(go())
    by_source = {c.source: c for c in answer.sentences}
    check = by_source[quote.text]
    assert check.how == "quoted" and check.text == quote.text
    assert any("number" in r for r in check.reasons), check.reasons
    assert quote.text in answer.text and changed_number(quote.text) not in answer.text
    assert any(changed_number(quote.text) == u for u in answer.unsupported_sentences)
    assert answer.text == extractive.text or answer.mode_used == "plain"


def test_reworded_sentences_are_kept_as_rewrites_with_their_source(service, numbered):
    extractive, quotes, _, _ = numbered

    async def go():
        engine = AnswerEngine(service, fake_llm(change_numbers=False), settings=service.settings)
        try:
            return await engine.answer(QUESTION)
        finally:
            await engine.aclose()

    answer = run(go())
    assert answer.mode_used == "plain" and answer.fallback_reason is None
    assert [c.source for c in answer.sentences] == [q.text for q in quotes]
    assert all(c.how == "rewritten" and c.citations for c in answer.sentences)
    for span in split_spans(answer.text):
        assert parse_markers(span.text)[1]


def test_a_rewrite_in_another_language_than_asked_is_quoted(engine, numbered):
    # The floor is the asked language's: a half-translated line detected as Dutch must not get the
    # Dutch floor (dev da005 with the 0.5B model), and a Dutch line is no answer to an English question.
    _, _, quote, sources = numbered
    check = RewriteCheck(engine.verifier)
    problems, _ = check.problems(quote, quote.text.replace(" de ", " het "), "en", sources)
    assert any(p.startswith("written in Dutch, asked in English") for p in problems), problems
    assert check.rule.min_cos_cross >= 0.90  # hand-labelled translations (RewriteRule's docstring)


def test_auto_mode_is_configurable(service):
    # A deployment whose LLM rewrites badly (README "Plain answers") keeps auto extractive.
    settings = service.settings.replace(auto_mode="extractive")

    async def go():
        engine = AnswerEngine(service, fake_llm(change_numbers=False), settings=settings)
        try:
            return await engine.answer(QUESTION)
        finally:
            await engine.aclose()

    answer = run(go())
    assert answer.mode_used == "extractive" and all(c.how is None for c in answer.sentences)
