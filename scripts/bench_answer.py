"""Answer latency (in-process) and, for generative mode, how often the LLM's reply needed repair.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_answer.py                       # extractive, all dev questions
    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_answer.py --llm http://127.0.0.1:8080/v1 --limit 10
    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_answer.py --llm http://127.0.0.1:8080/v1 --mode plain --json F

Plain: per answered question the LLM time (from the request to the last settled sentence), the time to
the first verified sentence (from the start of the LLM call), and how many sentences were rewritten or
quoted; p50/p95 over the questions, and the rows as JSON lines with ``--json``.

Extractive: p50/p95 of AnswerEngine.answer() (warm caches), and of the part beyond retrieval.
Generative: per question the outcome (generative / abstained / extractive fallback and why), the
latency, and what the verifier did to the raw reply: citations added or moved, invalid [n]
removed, sentences dropped, refusals — the "needed repair" share counts replies with any of these.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.metrics import percentile as pct  # noqa: E402
from rag.answer import generate as gen  # noqa: E402
from rag.answer.engine import AnswerEngine  # noqa: E402
from rag.answer.verify import Collected  # noqa: E402
from rag.answer.sentences import drop_cut_off  # noqa: E402
from rag.config import PROJECT_ROOT  # noqa: E402
from rag.answer.llm import LLMClient, LLMError  # noqa: E402
from rag.service import Vraagbaak  # noqa: E402


async def extractive(engine: AnswerEngine, rows: list[dict]) -> None:
    await engine.answer(rows[0]["question"], mode="extractive")  # load the model, warm caches
    for r in rows:  # first pass embeds any sentence not yet in the disk cache
        await engine.answer(r["question"], mode="extractive")
    total, beyond = [], []
    for r in rows:
        started = time.perf_counter()
        await engine._retrieve(r["question"], 5, None)
        retrieval = time.perf_counter() - started
        started = time.perf_counter()
        answer = await engine.answer(r["question"], mode="extractive")
        took = time.perf_counter() - started
        total.append(took * 1000)
        beyond.append(max(0.0, took - retrieval) * 1000)
        assert answer.abstained or answer.grounded
    print(f"extractive, {len(rows)} dev questions, warm: answer p50 {pct(total, .5):.0f} ms, p95 {pct(total, .95):.0f} ms; "
          f"beyond retrieval p50 {pct(beyond, .5):.0f} ms, p95 {pct(beyond, .95):.0f} ms")


async def generative(engine: AnswerEngine, rows: list[dict]) -> None:
    outcomes, times, llm_times, repaired = [], [], [], 0
    called = 0
    for r in rows:
        started = time.perf_counter()
        ctx = await engine._retrieve(r["question"], 5, None)
        if engine._should_abstain(ctx):
            outcomes.append("abstained before the LLM")
            print(f"{r['id']} abstained before the LLM (P(answerable) {ctx.decision.probability:.3f})")
            continue
        prompt = gen.prompt(engine, ctx, None)
        got, error, model, note = Collected(), None, None, ""
        t0 = time.perf_counter()
        try:
            reply = await engine.llm.chat(prompt.messages)
            model = reply.model
            text = drop_cut_off(reply.text) if reply.finish_reason == "length" else reply.text
            v = await engine._run(engine.verifier.verify, text, ctx.passages, gen.reply_language(text, ctx),
                                  ctx.sources, ctx.question)
            got.add(v)
            added = sum(any("added" in x for x in c.reasons) for c in v.checks)
            moved = sum(any("instead of" in x for x in c.reasons) for c in v.checks)
            needs = bool(added or moved or v.invalid_citations or v.unsupported or v.refusals)
            repaired += needs
            note = (f"{len(v.checks)} sentences: {len(v.kept)} kept, citation added {added}, moved {moved}, "
                    f"invalid [n] {len(v.invalid_citations)}, dropped {len(v.unsupported)}, refusals {len(v.refusals)}; "
                    f"prompt {prompt.tokens} tok, reply {reply.usage.get('completion_tokens', '?')} tok")
        except LLMError as exc:
            error = exc
            note = str(exc)
        llm_s = time.perf_counter() - t0
        called += 1
        answer = await gen.settle(engine, ctx, got, model, error, "generative")
        took = time.perf_counter() - started
        times.append(took)
        llm_times.append(llm_s)
        outcome = "abstained" if answer.abstained else answer.mode_used + (f" ({answer.fallback_reason})" if answer.fallback_reason else "")
        outcomes.append(outcome)
        print(f"{r['id']} {'answerable' if r['answerable'] else 'UNANSWERABLE'} {took:5.1f} s  {outcome:32s} {note}")
    print(f"\ngenerative: {len(rows)} questions, {called} sent to the LLM; answer p50 {statistics.median(times):.1f} s "
          f"(LLM call p50 {statistics.median(llm_times):.1f} s, max {max(llm_times):.1f} s)" if times else "no LLM calls")
    print("outcomes:", {o: outcomes.count(o) for o in dict.fromkeys(outcomes)})
    if called:
        print(f"raw replies needing repair (citation added/moved, invalid [n], dropped sentence or refusal): "
              f"{repaired} of {called}")


async def plain(engine: AnswerEngine, rows: list[dict], json_out: Path | None) -> None:
    from rag.answer import rewrite

    llm_times, firsts, counts, records = [], [], {"rewritten": 0, "quoted": 0}, []
    for r in rows:
        ctx = await engine._retrieve(r["question"], 5, None)
        if engine._should_abstain(ctx):
            print(f"{r['id']} abstained before the LLM")
            continue
        started = time.perf_counter()
        first = None
        answer = None
        async for kind, value in rewrite.plain_events(engine, ctx):
            if kind == "delta" and first is None:
                first = time.perf_counter() - started
            if kind == "done":
                answer = value
        took = time.perf_counter() - started
        if answer.abstained or not answer.sentences:
            print(f"{r['id']} abstained (extractive)")
            continue
        how = [c.how for c in answer.sentences]
        for h in how:
            counts[h] = counts.get(h, 0) + 1
        llm_times.append(took)
        firsts.append(first or took)
        row = {"id": r["id"], "lang": r.get("lang"), "llm_s": round(took, 2), "first_s": round(first or took, 2),
               "mode_used": answer.mode_used, "fallback_reason": answer.fallback_reason, "how": how,
               "text": answer.text, "sentences": [{"how": c.how, "text": c.text, "source": c.source,
                                                   "reasons": list(c.reasons)} for c in answer.sentences]}
        records.append(row)
        print(f"{r['id']} {took:5.1f} s (first sentence {row['first_s']:4.1f} s) {answer.mode_used:10s} "
              f"{how.count('rewritten')} rewritten, {how.count('quoted')} quoted")
    if llm_times:
        print(f"\nplain: {len(llm_times)} answered questions; LLM time p50 {pct(llm_times, .5):.1f} s, "
              f"p95 {pct(llm_times, .95):.1f} s; first verified sentence p50 {pct(firsts, .5):.1f} s, "
              f"p95 {pct(firsts, .95):.1f} s; sentences {counts}")
    if json_out:
        json_out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in records))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, default=PROJECT_ROOT / "data" / "eval" / "dev.jsonl")
    ap.add_argument("--llm", help="OpenAI-compatible base URL; without it, extractive")
    ap.add_argument("--ids", help="comma-separated question ids")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--max-tokens", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=None)
    ap.add_argument("--mode", choices=("generative", "plain"), default="generative", help="with --llm")
    ap.add_argument("--json", type=Path, default=None, help="plain: one JSON line per answered question")
    args = ap.parse_args()
    service = Vraagbaak.open()
    rows = [json.loads(line) for line in args.questions.open() if line.strip()]
    if args.ids:
        wanted = args.ids.split(",")
        rows = [r for r in rows if r["id"] in wanted]
    if args.limit:
        rows = rows[:args.limit]
    s = service.settings
    llm = LLMClient(args.llm, s.llm_model, s.llm_api_key, timeout=args.timeout or s.llm_timeout,
                    connect_timeout=s.llm_connect_timeout, max_tokens=args.max_tokens or s.llm_max_tokens,
                    retries=s.llm_retries, temperature=s.llm_temperature) if args.llm else None
    engine = AnswerEngine(service, llm)
    try:
        if llm is None:
            await extractive(engine, rows)
        elif args.mode == "plain":
            await plain(engine, rows, args.json)
        else:
            await generative(engine, rows)
    finally:
        await engine.aclose()


if __name__ == "__main__":
    asyncio.run(main())
