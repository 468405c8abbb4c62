"""The answer engine's hooks for time (issue 24), in one place so the engine keeps only their calls:

* :func:`refresh` — after the answerability decision: the question's time (rag/search/recency.py) and,
  on a question about the present or a named year, the passages of that time taken in
  (rag/answer/newest.py), with their candidate sentences and verifier sources;
* :func:`pool` and :func:`arrange` — the extractive answer quotes from the top passages and the taken-in
  ones; on a question about the present, the newest document's best sentence is added when the chosen
  ones lack it, and the newest statement leads when it answers about as well as the chosen lead;
* :func:`finish` / :func:`dated_events` — every answer, and every stream, through one
  rag/answer/dating.py ``Dater`` after verification: date labels (older statements as earlier),
  resolved time words, ``as_of``, and the horizon notice (``VRAAGBAAK_DATE_HORIZON_YEARS``) naming
  where current information is kept.

Chosen by measurement (``scripts/measure_recency.py``, 2026-12-07; data/eval/now_dev.jsonl: 22 answered
now-questions and 10 past ones; the dev set's 60 other answered answerable questions). Statement of the
newest time cited / leading / a stale statement as current, and on dev answers citing a gold passage /
leading with one / the reference's key facts:

    nothing (before)                               0.68 / 0.59 / 0.18   dev 0.817 / 0.650 / 0.485
    passages taken in (gate 0.10) alone            0.68 / 0.59 / 0.18   dev 0.817 / 0.650 / 0.485
    + the newest document's best sentence added    1.00 / 0.59 / 0      dev 0.817 / 0.650 / 0.486
    + the newest leads (within 0.05)   [default]   1.00 / 0.77 / 0      dev 0.817 / 0.633 / 0.486
    (leading within 0.10)                          1.00 / 0.91 / 0      dev 0.817 / 0.583 / 0.486
    (added only within 0.05 / 0.10 of the lead)    0.82 / 0.95 cited: a second tolerance only loses statements
    instead a recency prior in the selection       0.82 / 0.68 / 0.09   dev 0.817 / 0.667 / 0.473
      (+0.06 × newness): it crowds older relevant sentences out of the answer (dev key facts fall)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import AsyncIterator

from rag.answer import dating, extractive, newest
from rag.answer.sentences import parse_markers, split_spans
from rag.answer.verify import Source
from rag.search import recency


@dataclass(frozen=True)
class TimingConfig:
    """Cosine points (question to sentence) relative to the chosen lead sentence (measured: module docstring)."""

    include: float | None = None  # the newest document's best sentence joins the answer (None: whenever its
    #                               passage is in the pool; a number: only within this of the lead)
    lead: float = 0.05  # and leads it within this


CONFIG = TimingConfig()


def refresh(engine, ctx, query: str):
    """``ctx`` with ``time`` set and, when passages of the question's time qualify, those taken in (the
    passages, candidates and sources redone for ``query``, the text that was retrieved; runs in a worker
    thread: the query vector is reused and the sentence vectors come from the caches)."""
    time = recency.frame(ctx.question)
    ctx.time = time
    passages, taken = newest.widen(engine.service.retriever, query, ctx.query_vector, ctx.passages, time)
    ctx.taken = tuple(taken)
    if passages is ctx.passages:
        return ctx
    ctx.passages = passages
    window = max([extractive_window()] + list(ctx.taken))
    ctx.candidates = extractive.candidates(passages[:window], engine.sentence_vectors)
    ctx.sources = [Source.from_passage(p) for p in passages]
    engine.verifier._prepare(ctx.sources)
    engine.verifier.source_vectors(ctx.sources)
    return ctx


def extractive_window() -> int:
    """Candidate sentences come from the top 5 passages (as calibrated in the engine), and taken-in ones."""
    return 5


def pool(ctx, n: int) -> list:
    """The candidates the extractive answer may quote: those of the top ``n`` passages and the taken-in ones."""
    taken = set(getattr(ctx, "taken", ()) or ())
    return [c for c in ctx.candidates if c.source <= n or c.source in taken]


def _keys(cands, passages) -> dict[int, str]:
    return {c.source: recency.date_key(passages[c.source - 1].document) or "" for c in cands}


def with_newest(picked: list, cands: list, passages, time, query_vector, tolerance: float | None = CONFIG.include,
                max_sentences: int = extractive.CONFIG.max_sentences) -> list:
    """``picked`` plus the best sentence (by cosine with the question) of the newest document among
    ``cands`` when the picked ones have none from it, on a question about the present; with a
    ``tolerance``, only when that cosine is within it of the lead's. It replaces the last one at
    ``max_sentences``. The pool's passages are relevant already: the top ones, or taken in by the gate."""
    if time is None or not time.present or not picked or query_vector is None:
        return picked
    keys = _keys(cands, passages)
    top = max(keys.values(), default="")
    if not top or any(keys.get(c.source) == top for c in picked):
        return picked
    best = max((c for c in cands if keys[c.source] == top), key=lambda c: float(c.vector @ query_vector))
    if tolerance is not None and float(best.vector @ query_vector) < float(picked[0].vector @ query_vector) - tolerance:
        return picked
    return (picked if len(picked) < max_sentences else picked[:-1]) + [best]


def newest_first(picked: list, passages, time, query_vector=None, tolerance: float = CONFIG.lead) -> list:
    """The sentences in answer order: on a question about the present, those of the newest document among
    them lead (in their own order) when the chosen lead is a year or more older and the newest one answers
    about as well (its cosine with the question within ``tolerance`` of the lead's); the rest follow as
    chosen (labelled as earlier by the Dater). Otherwise unchanged."""
    if time is None or not time.present or len(picked) < 2:
        return picked
    keys = [_keys([c], passages)[c.source] for c in picked]
    top = max(keys)
    if not top or not keys[0] or dating.days_between(top, keys[0]) < dating.EARLIER_DAYS:
        return picked
    ahead = [c for c, k in zip(picked, keys) if k == top]
    if query_vector is not None and max(float(c.vector @ query_vector) for c in ahead) < \
            float(picked[0].vector @ query_vector) - tolerance:
        return picked
    return ahead + [c for c, k in zip(picked, keys) if k != top]


def arrange(picked: list, cands: list, ctx, config: TimingConfig = CONFIG) -> list:
    """The extractive selection made timely: :func:`with_newest`, then :func:`newest_first`."""
    time = getattr(ctx, "time", None)
    picked = with_newest(picked, cands, ctx.passages, time, ctx.query_vector, config.include)
    return newest_first(picked, ctx.passages, time, ctx.query_vector, config.lead)


def undated(history: list[dict] | None) -> list[dict] | None:
    """A conversation's assistant turns without their date annotations (what the previous answer quoted)."""
    if not history:
        return history
    out = []
    for message in history:
        if isinstance(message, dict) and message.get("role") == "assistant" and isinstance(message.get("content"), str):
            message = {**message, "content": dating.strip_annotations(message["content"])}
        out.append(message)
    return out


def _cited(text: str) -> list[int]:
    return list(dict.fromkeys(n for s in split_spans(text) for n in parse_markers(s.text)[1]))


def _notice(engine, ctx, passages, cited: list[int]) -> str | None:
    """The horizon notice, when the question is about the present and the newest cited source is older
    than ``date_horizon_years``; it names the referral table's channel for the question (or Rijksoverheid)."""
    time = getattr(ctx, "time", None)
    years = engine.settings.date_horizon_years
    dated = [m for m in (passages[n - 1].document for n in cited if 1 <= n <= len(passages)) if recency.date_key(m)]
    if time is None or not time.present or not dated or years <= 0:
        return None
    newest_meta = max(dated, key=recency.date_key)
    if not dating.older_than(newest_meta, years):
        return None
    refer = engine.referrer.refer(ctx.question, ctx.language, ctx.query_vector)
    channel = refer.channel + (f" ({refer.url})" if refer.url else "")
    return dating.horizon_notice(newest_meta, ctx.language, channel, years)


def finish(engine, ctx, answer):
    """A finished (not streamed) answer dated: labels for the sources it cites (roles judged among all of
    them), resolved time words, ``as_of`` and the horizon notice. Abstentions are left as they are."""
    if answer.abstained or not answer.text.strip():
        return answer
    cited = _cited(answer.text)
    dater = dating.Dater(answer.passages, ctx.language, getattr(ctx, "time", None), planned=cited)
    answer.text = dater.text(answer.text)
    answer.as_of = dating.as_of(answer.passages, cited)
    answer.date_labels = {n: lab for n, lab in dater.labels.items() if n in cited}
    notice = _notice(engine, ctx, answer.passages, cited)
    if notice:
        answer.text = f"{answer.text}\n\n{notice}"
    return answer


async def dated_events(engine, ctx, events: AsyncIterator) -> AsyncIterator:
    """A plain or generative answer's stream dated as it goes: each "delta" (whole sentences) through one
    Dater (a source is earlier when a newer one was cited before it: what is sent cannot change), the
    horizon notice as a last delta, and the "done" answer's text exactly the deltas joined."""
    dater = dating.Dater(ctx.passages, ctx.language, getattr(ctx, "time", None))
    shown: list[str] = []
    async for event in events:
        if event.kind == "delta":
            text = dater.text(event.text)
            shown.append(text)
            yield replace(event, text=text)
        elif event.kind == "done" and event.answer is not None and not event.answer.abstained and shown:
            answer = event.answer
            cited = _cited("".join(shown))
            answer.as_of = dating.as_of(answer.passages, cited)
            answer.date_labels = {n: lab for n, lab in dater.labels.items() if n in cited}
            notice = _notice(engine, ctx, answer.passages, cited)
            if notice:
                shown.append(f"\n\n{notice}")
                yield replace(event, kind="delta", text=shown[-1], answer=None)
            answer.text = "".join(shown)
            yield event
        else:
            yield event
