"""Choose how an answer finds and leads with the statements of the question's time, by measurement.

    python scripts/measure_recency.py [--questions data/eval/now_dev.jsonl data/eval/dev.jsonl]

Retrieves each question once (as the answer engine does), then composes the extractive answer under a
grid of settings: passages of the right time taken in (rag/answer/newest.py ``gate``), the newest
document's best sentence added (rag/answer/timing.py ``with_newest``) and leading (``newest_first``), and
dates it (rag/answer/dating.py). Scores with the eval
harness's own functions: on questions with ``stale``/``newer`` quotes the newest statement cited, a stale
one presented as current, past questions answered from their time; on every answerable question the share
whose answer cites a passage holding a gold quote and whose first sentence does (the dev set's check that
the answers do not get worse). Abstentions are decided before and are the same in every setting.

Development sets only: never data/eval/now_probe.jsonl, which judges.
"""

from __future__ import annotations

import os

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import argparse  # noqa: E402
import asyncio  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval import answer_metrics as am  # noqa: E402
from eval.harness import Scorer  # noqa: E402
from eval.metrics import contains  # noqa: E402
from eval.retrieval import load_questions  # noqa: E402
from rag.answer import extractive, newest, timing  # noqa: E402
from rag.answer.dating import Dater, as_of, strip_annotations  # noqa: E402
from rag.answer.facts import CorpusLexicon  # noqa: E402
from rag.answer.engine import AnswerEngine  # noqa: E402
from rag.answer.sentences import parse_markers, split_spans  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.search import recency  # noqa: E402
from rag.search.recency import date_key  # noqa: E402
from rag.service import Vraagbaak  # noqa: E402

GATES = (None, 0.05, 0.10, 0.15)  # None: no passages taken in (rag/answer/newest.py)
INCLUDE = ("no", 0.05, 0.10, None)  # "no": as chosen; else timing.with_newest (None: without a tolerance)
LEAD = (None, 0.05, 0.10)  # None: as chosen; else timing.newest_first within this tolerance


def compose(engine, ctx, q, time, gate, include, lead):
    """The engine's extractive path (rag/answer/engine.py, timing.py) with the given settings."""
    ctx = replace(ctx, time=time, taken=())
    if gate is not None:
        passages, taken = newest.widen(engine.service.retriever, q["question"], ctx.query_vector, ctx.passages, time,
                                       replace(newest.CONFIG, gate=gate))
        if passages is not ctx.passages:
            window = max([timing.extractive_window()] + taken)
            ctx = replace(ctx, passages=passages, candidates=extractive.candidates(passages[:window],
                                                                                   engine.sentence_vectors))
        ctx = replace(ctx, taken=tuple(taken))
    n = min(extractive.CONFIG.max_passages, len(ctx.passages))
    cands = timing.pool(ctx, n)
    picked = extractive.compose(q["question"], ctx.query_vector, cands, n, engine.vocabulary, previous=ctx.previous)
    if include != "no":
        picked = timing.with_newest(picked, cands, ctx.passages, time, ctx.query_vector, include)
    if lead is not None:
        picked = timing.newest_first(picked, ctx.passages, time, ctx.query_vector, lead)
    text = extractive.render_answer(picked)
    cited = [n for s in split_spans(text) for n in parse_markers(s.text)[1]]
    dated = Dater(ctx.passages, ctx.language, time, planned=cited).text(text)  # as timing.finish
    return ctx.passages, dated, as_of(ctx.passages, cited)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", nargs="+", type=Path,
                        default=[Path("data/eval/now_dev.jsonl"), Path("data/eval/dev.jsonl")])
    args = parser.parse_args()
    if any("now_probe" in str(p) for p in args.questions):
        sys.exit("now_probe.jsonl judges the result; it is not for choosing settings")
    service = Vraagbaak.open(load_settings(), build_if_missing=True)
    engine = AnswerEngine(service, llm=None)
    timing.refresh = lambda engine, ctx, query: ctx  # retrieval as before dates: each setting is applied below
    file_to_doc = {d.file: d.id for d in service.index.documents.values() if d.file}
    lexicon = CorpusLexicon.from_texts(c.text for c in service.index.chunks)
    scorer = SimpleNamespace(file_to_doc=file_to_doc, doc_keys={d.id: date_key(d) for d in service.index.documents.values()})
    rows = {}
    for path in args.questions:
        for q in load_questions(path):
            if not q.get("answerable", True):
                continue
            ctx = await engine._retrieve(q["question"], 5, None)
            if engine._should_abstain(ctx):
                continue
            time = recency.frame(q["question"])
            for gate, include, lead in itertools.product(GATES, INCLUDE, LEAD):
                passages, text, when = compose(engine, ctx, q, time, gate, include, lead)
                answer = {"answer": text, "as_of": when, "sentences": [],
                          "citations": [{"n": n, **p.to_dict()} for n, p in enumerate(passages, 1)]}
                row = rows.setdefault((gate, include, lead), {"dating": [], "gold": [], "lead": [], "sim": []})
                if "stale" in q or "newer" in q:
                    row["dating"].append({"kind": q["kind"], "answer": {"abstained": False},
                                          "dating": Scorer.dating(scorer, q, text, answer)})
                else:
                    cited = [n for s in split_spans(text) for n in parse_markers(s.text)[1]]
                    holds = {n for n in set(cited) if any(contains(passages[n - 1].chunk.text, g["quote"])
                                                          for g in q["gold"])}
                    row["gold"].append(bool(holds))
                    row["lead"].append(bool(cited) and cited[0] in holds)
                    if q.get("reference_answer"):
                        row["sim"].append(am.key_fact_recall(
                            am.strip_markers(strip_annotations(text)), q["reference_answer"],
                            same_language=q.get("lang") == "nl", lexicon=lexicon, answer_language="nl",
                            reference_language=q.get("lang") or "nl") or 0.0)
    print("gate  include  lead | now: newest cited, leads; gold cited, leads; stale current | past: from time, "
          "gold leads | dev: cites gold, leads with gold")
    for (gate, include, lead), row in rows.items():
        d = am.dating_summary(row["dating"])
        now, past = d["now"], d["past"]
        share = (lambda xs: sum(xs) / len(xs) if xs else float("nan"))
        print(f"{str(gate):>5}  {str(include):>5}  {str(lead):>5} | {now['newest_cited'] or 0:.3f} {now['newest_leads'] or 0:.3f}  "
              f"{now['gold_cited'] or 0:.3f} {now['gold_leads'] or 0:.3f}  {now['stale_current'] or 0:.3f} | "
              f"{past['from_time'] or 0:.3f} {past['gold_leads'] or 0:.3f} | {share(row['gold']):.3f} {share(row['lead']):.3f} {share(row['sim']):.4f}")
    n_now = rows[(None, "no", None)]
    print(f"({len(n_now['dating'])} now/past answers, {len(n_now['gold'])} other answerable answers)")


if __name__ == "__main__":
    asyncio.run(main())
