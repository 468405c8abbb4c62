"""Calibrate the abstention threshold on data/eval/dev.jsonl (45 answerable, 5 unanswerable).

For every dev question: retrieve the top 5 like the answer engine does, compute the confidence
signals (rag/answer/abstain.py), and print precision / recall / F1 of "abstain" (positive = the question is
unanswerable) for candidate thresholds on each signal, then the figures of the configured threshold.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/calibrate_abstention.py [--questions data/eval/dev.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answer.abstain import confidence  # noqa: E402
from rag.config import PROJECT_ROOT  # noqa: E402
from rag.answer.extractive import SentenceVectors, best_sentence_similarity, candidates  # noqa: E402
from rag.service import Vraagbaak  # noqa: E402

# Measured with the defaults (top_k 5, EmbeddingGemma bf16, lexical_weight 0.06, unit_weight 0.5),
# confidence = mean(top dense, best sentence), threshold 0.43:
ABSTAIN_MEASURED = "dev: abstains on 2 of 5 unanswerable, 0 of 45 answerable: precision 1.00, recall 0.40, F1 0.57"


def prf(scores: np.ndarray, unanswerable: np.ndarray, threshold: float) -> tuple[float, float, float, int, int]:
    abstain = scores < threshold
    tp = int((abstain & unanswerable).sum())
    fp = int((abstain & ~unanswerable).sum())
    fn = int((~abstain & unanswerable).sum())
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f, tp, fp


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, default=PROJECT_ROOT / "data" / "eval" / "dev.jsonl")
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()
    service = Vraagbaak.open()
    vectors = SentenceVectors(service.encoder)
    threshold = service.settings.abstain_threshold
    rows = [json.loads(line) for line in args.questions.open() if line.strip()]
    signals = {"fused (top score)": [], "dense (top)": [], "sentence (best)": [], "confidence (mean)": []}
    for r in rows:
        qv = service.encoder.encode_query(r["question"])
        passages = service.retriever.search(r["question"], top_k=args.top_k, query_vector=qv)
        conf = confidence(passages, best_sentence_similarity(qv, candidates(passages, vectors)))
        signals["fused (top score)"].append(passages[0].score)
        signals["dense (top)"].append(conf.dense)
        signals["sentence (best)"].append(conf.sentence)
        signals["confidence (mean)"].append(conf.score)
        r["_conf"] = conf
    unanswerable = np.array([not r["answerable"] for r in rows])
    print(f"{len(rows)} questions, {int(unanswerable.sum())} unanswerable\n")
    print("lowest confidences:")
    for r in sorted(rows, key=lambda r: r["_conf"].score)[:12]:
        c = r["_conf"]
        print(f"  {r['id']} {'UNANSWERABLE' if not r['answerable'] else 'answerable  '} {r['lang']} "
              f"conf {c.score:.3f} (dense {c.dense:.3f}, sentence {c.sentence:.3f})  {r['question'][:60]}")
    for name, values in signals.items():
        scores = np.array(values)
        print(f"\n{name}: unanswerable {np.sort(scores[unanswerable]).round(3)}, "
              f"lowest answerable {np.sort(scores[~unanswerable])[:4].round(3)}")
        for t in np.arange(0.38, 0.60, 0.01):
            p, r, f, tp, fp = prf(scores, unanswerable, t)
            if tp or fp:
                print(f"  threshold {t:.2f}: precision {p:.2f} recall {r:.2f} F1 {f:.2f}  (abstains on {tp} unanswerable, {fp} answerable)")
    p, r, f, tp, fp = prf(np.array(signals["confidence (mean)"]), unanswerable, threshold)
    print(f"\nchosen: confidence < {threshold} (VRAAGBAAK_ABSTAIN_THRESHOLD): precision {p:.2f}, recall {r:.2f}, "
          f"F1 {f:.2f} — abstains on {tp} of {int(unanswerable.sum())} unanswerable and {fp} of "
          f"{int((~unanswerable).sum())} answerable questions")


if __name__ == "__main__":
    main()
