"""Plain answers: the extractive answer's sentences, rewritten in plain language in the asker's
language by the LLM, each rewrite checked against the sentence it came from.

    extract  the sentences the extractive answer gives, with their [n] (``quotes_of(answer)``; whatever
             rag/answer/extractive.py selects, this path rewrites — it never picks sentences itself)
    rewrite  one LLM call: the numbered sentences in, one numbered line per sentence out, in taal B1
             (short sentences, common words, active voice, an abbreviation explained once) and in the
             question's language (``PROMPT``; the instruction prefix is the same for every request, so
             llama.cpp reuses its evaluated tokens, and the prompt is ~200 tokens plus the sentences)
    verify   each line against its source sentence (``RewriteCheck``): every number and date of the
             source kept; no number or date the source lacks; names kept (acronyms and the corpus's
             names in any language, every Dutch name in a Dutch rewrite) and no name added that the
             cited passage lacks; the existing verifier's support rule against the cited passage; and
             the embedding cosine between source sentence and rewrite (EmbeddingGemma is multilingual,
             so this compares meaning across languages). A line that fails any check is replaced by its
             source quote. Each answer sentence says which happened (``SentenceCheck.how``).

The line for sentence i may hold up to ``MAX_SPLIT`` short sentences (B1 splits long sentences); each is
shown with sentence i's citations. Lines arrive in a stream and are settled in order, so the first
verified sentence can be shown while the model is still writing the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import AsyncIterator, Awaitable, Callable

import numpy as np

from rag.answer.claims import META_REFUSAL
from rag.answer.facts import Facts, _name_found, dates, names
from rag.answer.language import detect_language
from rag.answer.llm import LLMClient, LLMError, StreamMeta
from rag.answer.numbers import NumberFacts, read
from rag.answer.prompt import count_tokens
from rag.answer.sentences import clean_sentence, parse_markers, render, sentence_deltas, split_spans
from rag.answer.verify import Source, Verifier
from rag.types import Answer, SentenceCheck

# Language codes (rag/answer/language.py) → the name the model is told to write in.
LANGUAGE_NAMES = {"nl": "Dutch", "en": "English", "de": "German", "fr": "French", "tr": "Turkish",
                  "ar": "Arabic", "pl": "Polish", "uk": "Ukrainian", "es": "Spanish", "ru": "Russian"}

# Identical for every request: only the numbered sentences and the language line after it vary.
PROMPT = """You rewrite sentences from Dutch government documents in plain language (level B1) for citizens.
Rules:
- Rewrite every numbered sentence on its own line, with the same number: "1. ...", "2. ...".
- Use short sentences and common words. Use the active voice. You may split a long sentence into two short sentences on the same line.
- Keep every number, date, amount and name exactly as written.
- Add nothing that the sentence does not say. Leave out nothing important.
- Explain an abbreviation once, in a few simple words.
- Write only the numbered lines, nothing else."""

MAX_SPLIT = 3  # sentences one rewritten line may hold
_LINE = re.compile(r"^\s*(?:\*\*)?(\d{1,2})\s*[.):]\s*(?:\*\*)?\s*(.*\S)\s*$")


@dataclass(frozen=True)
class RewriteRule:
    """Acceptance thresholds for a rewrite. ``min_cos``: cosine between the source sentence and the
    rewrite, both embedded as documents; ``min_cos_cross``: the same when the asker's language is not
    Dutch. Cross-lingual, the cosine does not separate faithful translations from wrong ones: 40 English,
    Turkish and Polish rewrites by Qwen2.5-Coder 0.5B and 1.5B hand-labelled on 2026-11-30 (dev subset,
    README "Plain answers") gave 7 faithful at 0.78–0.88 and 33 wrong at 0.49–0.89 ("houdt toezicht op"
    → "is concerned with" 0.889; "de Polen" → "Poland" 0.871; a garbled sentence 0.853). 0.90 is the
    lowest floor that kept none of the wrong ones; it keeps none of the faithful ones either, so with
    these models a non-Dutch question gets the Dutch quotes. A stronger LLM may warrant a lower floor:
    re-derive it with scripts/calibrate_rewrite.py and hand labels. Dutch rewrites: 0.80 (copies ~1.0,
    wrong ones seen ≤ 0.76)."""

    min_cos: float = 0.80
    min_cos_cross: float = 0.90
    max_length_ratio: float = 1.8  # a rewrite this many times longer (in words) than its source adds things


RULE = RewriteRule()


@dataclass(frozen=True)
class Quote:
    """One sentence of the extractive answer: verbatim source text and the sources it cites."""

    text: str
    citations: tuple[int, ...]


def quotes_of(answer: Answer) -> list[Quote]:
    """The sentences an extractive answer gives, with their sources (its kept SentenceChecks)."""
    return [Quote(c.text, c.citations) for c in answer.sentences if c.supported and c.citations]


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, "Dutch")


def messages(quotes: list[Quote], language: str) -> list[dict]:
    """The chat messages for one rewrite request (``language``: a code from detect_language)."""
    lines = "\n".join(f"{i}. {q.text}" for i, q in enumerate(quotes, start=1))
    return [{"role": "system", "content": PROMPT},
            {"role": "user", "content": f"Sentences:\n{lines}\n\nRewrite each sentence in plain {language_name(language)}."}]


def max_tokens(quotes: list[Quote]) -> int:
    """Room for the rewrite: the input's tokens with margin (a translation or a split takes more)."""
    return int(sum(count_tokens(q.text) for q in quotes) * 1.6) + 12 * len(quotes) + 16


def parse_line(line: str) -> tuple[int, str] | None:
    """``"2. Tekst [1]"`` → ``(2, "Tekst")``; None for a line that is not numbered."""
    m = _LINE.match(line)
    if not m:
        return None
    bare, _ = parse_markers(m.group(2))
    bare = bare.strip().strip('"“”')
    return (int(m.group(1)), bare) if bare else None


# -------------------------------------------------------------------------------------- checking


@dataclass
class Outcome:
    """What became of one quote: the sentences shown for it and, for a rejected rewrite, why."""

    index: int  # 0-based position of the quote
    checks: list[SentenceCheck]
    rejected: str | None = None  # the rewrite that failed (or None)


class RewriteCheck:
    """Checks a rewrite against its source sentence (module docstring). Needs the engine's Verifier
    (its encoder, lexicon and support rule) and the Sources of the retrieved passages."""

    def __init__(self, verifier: Verifier, rule: RewriteRule = RULE):
        self.verifier = verifier
        self.rule = rule

    def problems(self, quote: Quote, rewrite: str, language: str, sources: list[Source]) -> tuple[list[str], float]:
        """(why ``rewrite`` may not stand for ``quote`` — empty: it may, cosine to the source sentence).
        ``language``: the one asked for (the question's). Embeds one or two sentences (~30 ms on 2 cores)."""
        if META_REFUSAL.search(rewrite) or not re.search(r"\w", rewrite):
            return ["not a rewrite"], 0.0
        out: list[str] = []
        # The floor below is the asked language's: a half-translated line detected as Dutch got the
        # Dutch floor and passed (dev da005, 0.5B: "… to find the first toezichtbezoeken", 0.82).
        written = detect_language(rewrite, fallback=language)
        if written != language:
            out.append(f"written in {language_name(written)}, asked in {language_name(language)}")
        n_sentences = len(split_spans(rewrite))
        if n_sentences > MAX_SPLIT:
            out.append(f"{n_sentences} sentences for one")
        if len(rewrite.split()) > self.rule.max_length_ratio * max(8, len(quote.text.split())):
            out.append("much longer than its source")
        lexicon = self.verifier.lexicon
        # Kept: every number and date of the source (any spelling of the same value), and its names.
        have = Facts.of(rewrite)
        said = {v for q in read(rewrite, language, NumberFacts.of(quote.text).tokens).quantities for v in q.values}
        out += [f"number {q.written} left out" for q in read(quote.text).quantities if not q.values & said]
        out += [f"date {w} left out" for w, fact in dates(quote.text) if fact not in have.dates]
        for name in names(quote.text, "nl", lexicon):
            # Other languages translate institutions ("Tweede Kamer"); acronyms and people's names stay.
            must = language == "nl" or name in lexicon or (name.isupper() and len(name) > 1)
            if must and not _name_found(name, have.tokens):
                out.append(f"name {name} left out")
        # Added: numbers and dates only from the source sentence; names also from the cited passages
        # (an abbreviation explained in the passage's own words).
        cited = [sources[c - 1] for c in quote.citations if 1 <= c <= len(sources)]
        passage_tokens = frozenset().union(*(s.facts.tokens for s in cited if s.facts is not None))
        for problem in Facts.of(quote.text).missing(rewrite, language, lexicon):
            kind, _, what = problem.partition(" ")
            if kind == "name" and _name_found(what, passage_tokens):
                continue
            out.append(f"{kind} {what} added")
        # Meaning: close to the source sentence, and supported by the cited passage by the usual rule.
        a, b = self.verifier.embed_sentences([quote.text, rewrite], cited)
        cos = float(np.dot(a, b))
        floor = self.rule.min_cos if language == "nl" else self.rule.min_cos_cross
        if cos < floor:
            out.append(f"meaning drifted (similarity to the source sentence {cos:.2f} < {floor})")
        if cited:
            sc = self.verifier._scores(rewrite, b, language, cited)
            if not sc.missing and not self.verifier.supported(sc, language):
                out.append(f"too little support in the cited passage (similarity {sc.cos:.2f})")
        return list(dict.fromkeys(out)), cos

    def settle(self, index: int, quote: Quote, rewrite: str | None, language: str,
               sources: list[Source]) -> Outcome:
        """The sentences shown for quote ``index``: the rewrite if it passes, else the quote.
        ``language``: the question's; a rewrite in another language is rejected."""
        if not rewrite:
            return Outcome(index, [SentenceCheck(quote.text, quote.citations, True, 1.0, ("no rewrite given",),
                                                 how="quoted", source=quote.text)])
        if _normal(rewrite) == _normal(quote.text):  # small models often copy: a copy is a quote, say so
            return Outcome(index, [SentenceCheck(quote.text, quote.citations, True, 1.0, ("rewrite repeats the source",),
                                                 how="quoted", source=quote.text)])
        problems, cos = self.problems(quote, rewrite, language, sources)
        if problems:
            reasons = tuple(f"rewrite rejected: {p}" for p in problems) + (f"rejected rewrite: {rewrite}",)
            return Outcome(index, [SentenceCheck(quote.text, quote.citations, True, 1.0, reasons, how="quoted",
                                                 source=quote.text)], rejected=rewrite)
        parts = [clean_sentence(s.text) for s in split_spans(rewrite)]
        return Outcome(index, [SentenceCheck(p, quote.citations, True, round(cos, 3), how="rewritten",
                                             source=quote.text) for p in parts if p])


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


# -------------------------------------------------------------------------------------- the stream


Run = Callable[..., Awaitable]


async def rewrite_stream(llm: LLMClient, checker: RewriteCheck, quotes: list[Quote], language: str,
                         sources: list[Source], run: Run, meta: StreamMeta | None = None) -> AsyncIterator[Outcome]:
    """One Outcome per quote, in order, each as soon as its line is complete and checked.

    ``run(fn, *args)`` runs the (CPU-bound) check off the event loop. Raises LLMError only before the
    first Outcome (nothing shown yet: the caller falls back to the extractive answer); a failure later
    quotes the remaining sentences."""
    meta = meta if meta is not None else StreamMeta()
    got: dict[int, str] = {}
    unnumbered: list[str] = []
    nxt = 0
    buffer = ""

    async def ready(final: bool) -> AsyncIterator[Outcome]:
        nonlocal nxt
        while nxt < len(quotes):
            later = any(k > nxt for k in got)
            if nxt in got or later or final:
                rewrite = got.get(nxt)
                if rewrite is None and final and len(quotes) == 1 and unnumbered:
                    rewrite = " ".join(unnumbered)  # one sentence in, a bare line out
                yield await run(checker.settle, nxt, quotes[nxt], rewrite, language, sources)
                nxt += 1
            else:
                return

    def take(line: str) -> None:
        parsed = parse_line(line)
        if parsed is None:
            if line.strip():
                unnumbered.append(parse_markers(line.strip())[0])
            return
        k, text = parsed
        if 1 <= k <= len(quotes) and (k - 1) not in got and k - 1 >= nxt:
            got[k - 1] = text

    stream = llm.stream(messages(quotes, language), max_tokens=max_tokens(quotes), meta=meta)
    try:
        async for delta in stream:
            buffer += delta
            *lines, buffer = buffer.split("\n")
            for line in lines:
                take(line)
            async for outcome in ready(False):
                yield outcome
    except LLMError:
        if nxt == 0 and not got:
            raise
        buffer = ""  # a reply broken midway: its last line may be cut off
    if buffer.strip() and meta.finish_reason != "length":
        take(buffer)
    async for outcome in ready(True):
        yield outcome


def rendered(outcomes: list[Outcome]) -> str:
    return " ".join(render(c.text, c.citations) for o in outcomes for c in o.checks)


def quoted(checks: list[SentenceCheck]) -> list[SentenceCheck]:
    """An extractive answer's checks, marked as quotes of themselves (for the API's per-sentence status)."""
    return [replace(c, how="quoted", source=c.text) if c.supported else c for c in checks]


# -------------------------------------------------------------------------------------- the answer


async def plain_events(engine, ctx) -> AsyncIterator[tuple[str, object]]:
    """The plain answer for an AnswerEngine and its retrieval context: ("delta", text)… then ("done",
    Answer). The extractive answer decides what is said (and whether to abstain); without an LLM reply
    it is given as it is, with ``fallback_reason``. The deltas joined are exactly the answer's text."""
    base = await engine._extractive(ctx)
    quotes = quotes_of(base)
    if base.abstained or not quotes:
        for delta in sentence_deltas(base.text):
            yield "delta", delta
        yield "done", base
        return
    meta = StreamMeta()
    outcomes: list[Outcome] = []
    checker = RewriteCheck(engine.verifier)
    try:
        async for outcome in rewrite_stream(engine.llm, checker, quotes, ctx.language, ctx.sources, engine._run, meta):
            text = " ".join(render(c.text, c.citations) for c in outcome.checks)
            yield "delta", (" " if outcomes else "") + text
            outcomes.append(outcome)
    except LLMError as exc:  # nothing shown yet
        base.sentences, base.fallback_reason, base.llm_error = quoted(base.sentences), f"llm_{exc.kind}", str(exc)
        base.llm_model = engine.llm.model_name or None
        for delta in sentence_deltas(base.text):
            yield "delta", delta
        yield "done", base
        return
    checks = [c for o in outcomes for c in o.checks]
    rejected = [o.rejected for o in outcomes if o.rejected]
    rewritten = any(c.how == "rewritten" for c in checks)
    fields = {} if rewritten else {
        "fallback_reason": "llm_unsupported",
        "llm_error": f"no rewrite kept: all {len(quotes)} sentences quoted (rewrite rejected, missing or a copy)"}
    yield "done", engine._answer(ctx, rendered(outcomes), "plain" if rewritten else "extractive", sentences=checks,
                                 grounded=True, unsupported_sentences=rejected,
                                 llm_model=meta.model or engine.llm.model_name or None, **fields)
