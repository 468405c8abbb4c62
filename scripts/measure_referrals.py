"""Referral topics on the dev set's unanswerable questions: coverage and agreement with hand labels.

    python scripts/measure_referrals.py [--questions data/eval/dev.jsonl] [--labels data/eval/referral_topics.jsonl]
                                        [--keywords-only] [--json FILE]

For every ``answerable: false`` question: the topic rag/answer/referral.py finds (keywords, embedding,
or the general pointer) against the topic a person labelled (data/eval/referral_topics.jsonl, written
from the questions, before the matcher was run on them). Coverage = share referred to a table topic;
accuracy = share whose topic is the labelled one. Answerable questions are listed too: how many a
referral *would* name a topic for (it is never shown for them: the table does not decide answerability).
The question vector is the encoder's query embedding, as in the answer engine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from embeddings.encoder import Encoder  # noqa: E402
from rag.answer.language import detect_language  # noqa: E402
from rag.answer.referral import Referrer  # noqa: E402
from rag.config import load_settings  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, default=ROOT / "data/eval/dev.jsonl")
    ap.add_argument("--labels", type=Path, default=ROOT / "data/eval/referral_topics.jsonl")
    ap.add_argument("--keywords-only", action="store_true", help="no embedding match")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = {r["id"]: r["topic"] for r in map(json.loads, args.labels.read_text(encoding="utf-8").splitlines()) if r}

    encoder = None if args.keywords_only else Encoder(load_settings())
    referrer = Referrer(encoder)
    started = time.perf_counter()
    referrer.prepare()
    prepare_s = time.perf_counter() - started

    rows = []
    for q in questions:
        qv = encoder.encode_query(q["question"]) if encoder else None
        started = time.perf_counter()
        ref = referrer.refer(q["question"], detect_language(q["question"]), qv)
        ms = (time.perf_counter() - started) * 1000
        sims = referrer.similarities(qv)
        rows.append({"id": q["id"], "answerable": q.get("answerable", True), "lang": q.get("lang"),
                     "topic": ref.topic, "method": ref.method, "label": labels.get(q["id"]),
                     "channel": ref.channel, "best_sim": round(float(sims.max()), 3) if len(sims) else None,
                     "ms": round(ms, 2), "question": q["question"]})
    unanswerable = [r for r in rows if not r["answerable"]]
    covered = [r for r in unanswerable if r["topic"]]
    right = [r for r in unanswerable if r["topic"] and r["topic"] == r["label"]]
    answerable = [r for r in rows if r["answerable"]]
    by_method = {m: sum(r["method"] == m for r in unanswerable) for m in ("keywords", "embedding", "general")}
    report = {"unanswerable": len(unanswerable), "covered": len(covered), "right": len(right),
              "by_method": by_method, "answerable": len(answerable),
              "answerable_with_topic": sum(bool(r["topic"]) for r in answerable),
              "prepare_s": round(prepare_s, 2), "refer_ms_max": max(r["ms"] for r in rows), "rows": rows}
    print(f"unanswerable {len(unanswerable)}: referred to a topic {len(covered)} "
          f"({len(covered) / len(unanswerable):.0%}), the labelled topic {len(right)} "
          f"({len(right) / len(unanswerable):.0%}); by {by_method}")
    print(f"answerable {len(answerable)}: a topic would be named for {report['answerable_with_topic']}")
    print(f"topic vectors {prepare_s:.2f} s; refer() at most {report['refer_ms_max']:.2f} ms")
    for r in unanswerable:
        mark = "ok " if r["topic"] == r["label"] else "-- "
        print(f"  {mark}{r['id']} {r['lang']} {str(r['topic']):22s} ({r['method']}, sim {r['best_sim']}) "
              f"label {r['label']}: {r['question'][:70]}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
