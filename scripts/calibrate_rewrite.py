"""Calibrate RewriteRule.min_cos / min_cos_cross (rag/answer/rewrite.py) on a plain-answer bench run.

    .venv/bin/python scripts/bench_answer.py --llm http://127.0.0.1:8080/v1 --mode plain --json runs.jsonl
    .venv/bin/python scripts/calibrate_rewrite.py runs.jsonl [runs-1.5b.jsonl ...]

Pairs, embedded like the check does (EmbeddingGemma, as documents):
  own    a source sentence and the LLM's rewrite of it (mostly right, so its acceptance rate is what a
         threshold costs in good rewrites; hard-check failures excluded)
  other  a source sentence and the rewrite of *another* sentence of the same answer: the same topic and
         passages, another fact — the drift the similarity check exists to catch
per language of the rewrite (Dutch, or cross-lingual). Prints the acceptance rate of both at each
threshold; pick the lowest threshold that accepts ≤ 5 % of "other" pairs. No question is tuned on: the
rate is over all pairs.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answer.language import detect_language  # noqa: E402
from rag.config import load_settings  # noqa: E402
from embeddings.encoder import Encoder  # noqa: E402

HARD = ("number", "date", "name", "not a rewrite", "sentences for one", "much longer")


def pairs_of(row: dict) -> list[tuple[str, str, str]]:
    """(source, rewrite, rewrite language) per quote of one answer, hard-check failures left out."""
    out: dict[str, list[str]] = defaultdict(list)
    for s in row["sentences"]:
        if s["how"] == "rewritten":
            out[s["source"]].append(s["text"])
        else:
            rejected = [r.split(": ", 1)[1] for r in s["reasons"] if r.startswith("rejected rewrite: ")]
            hard = any(r.startswith("rewrite rejected: ") and any(h in r for h in HARD) for r in s["reasons"])
            if rejected and not hard:
                out[s["source"]].append(rejected[0])
    return [(src, " ".join(parts), detect_language(" ".join(parts))) for src, parts in out.items()]


def main() -> None:
    rows = [json.loads(line) for f in sys.argv[1:] for line in Path(f).read_text().splitlines() if line.strip()]
    encoder = Encoder(load_settings())
    answers = [pairs_of(r) for r in rows]
    texts = sorted({t for a in answers for s, r, _ in a for t in (s, r)})
    vectors, _ = encoder.encode_documents(texts)
    vec = dict(zip(texts, vectors))
    sims: dict[tuple[str, str], list[float]] = defaultdict(list)
    for a in answers:
        for i, (src, rw, lang) in enumerate(a):
            group = "nl" if lang == "nl" else "cross"
            sims[(group, "own")].append(float(vec[src] @ vec[rw]))
            for j, (_, other, olang) in enumerate(a):
                if j != i:
                    sims[("nl" if olang == "nl" else "cross", "other")].append(float(vec[src] @ vec[other]))
    for group in ("nl", "cross"):
        own, other = np.array(sims[(group, "own")]), np.array(sims[(group, "other")])
        print(f"\n{group}: {len(own)} own pairs, {len(other)} other pairs")
        if not len(own):
            continue
        print("threshold  own accepted  other accepted")
        for t in np.arange(0.50, 0.96, 0.05):
            print(f"  {t:.2f}      {np.mean(own >= t):.3f}         {np.mean(other >= t) if len(other) else float('nan'):.3f}")


if __name__ == "__main__":
    main()
