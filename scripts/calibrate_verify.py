"""Measure the verifier's support rule on the dev set (how the thresholds in rag/answer/verify.py were set).

Pairs, from data/eval/dev.jsonl (answerable questions; reference-answer sentences of 4+ words):
  true     — sentence vs. the passages that contain its question's gold quote (should be supported);
  other    — sentence vs. the gold passages of another, random question (should not be);
  same-topic — sentence vs. the best-ranked passage of its own question that holds no gold quote
             (often partly supports it, so this "false accept" rate is an upper bound).
Hard checks (numbers, names) are part of the rule, as in production. Prints the acceptance rates per
language and the signal distributions, for the current thresholds and a few alternatives.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/calibrate_verify.py
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.metrics import contains  # noqa: E402
from rag.service import Vraagbaak  # noqa: E402
from rag.answer.sentences import split_sentences  # noqa: E402
from rag.answer.facts import CorpusLexicon  # noqa: E402
from rag.answer.verify import RULE, Source, Verifier  # noqa: E402

DEV = Path(__file__).resolve().parent.parent / "data" / "eval" / "dev.jsonl"


def main() -> None:
    service = Vraagbaak.open()
    chunks = service.index.chunks
    verifier = Verifier(service.encoder, lexicon=CorpusLexicon.from_texts(c.text for c in chunks))
    rows = [json.loads(line) for line in DEV.open() if line.strip()]
    rows = [r for r in rows if r["answerable"]]
    gold = {r["id"]: [i for i, c in enumerate(chunks)
                      if any(contains(c.retrieval_text, g["quote"]) for g in r["gold"])] for r in rows}
    ids = {c.id: i for i, c in enumerate(chunks)}
    rng = random.Random(0)
    pairs = []  # (sentence, chunk indices, kind, lang)
    for r in rows:
        if not gold[r["id"]]:
            continue
        ranked = [ids[p.chunk.id] for p in service.search(r["question"], top_k=8).passages]
        hard = [i for i in ranked if i not in gold[r["id"]]][:1]
        others = [x for x in rows if x["id"] != r["id"] and gold[x["id"]]]
        for s in split_sentences(r["reference_answer"]):
            if len(s.split()) < 4:
                continue
            pairs.append((s, gold[r["id"]], "true", r["lang"], r["question"]))
            pairs.append((s, gold[rng.choice(others)["id"]], "other", r["lang"], r["question"]))
            if hard:
                pairs.append((s, hard, "same-topic", r["lang"], r["question"]))

    sources = {i: Source.from_passage(chunks[i].text) for p in pairs for i in p[1]}
    verifier._prepare(list(sources.values()))
    verifier.source_vectors(list(sources.values()))
    sentences = sorted({p[0] for p in pairs})
    vectors = dict(zip(sentences, verifier.embed_sentences(sentences, [])))
    scored = [(kind, lang, verifier._scores(s, vectors[s], lang, [sources[i] for i in idx], topic=verifier.topic(q)))
              for s, idx, kind, lang, q in pairs]

    def rates(v: Verifier) -> dict:
        out = {}
        for lang in ("nl", "en"):
            for kind in ("true", "other", "same-topic"):
                xs = [v.supported(sc, lang) for k, lg, sc in scored if k == kind and lg == lang]
                out[(lang, kind)] = (sum(xs) / len(xs) if xs else float("nan"), len(xs))
        return out

    print("signal percentiles (5/25/50/75/95)")
    for lang in ("nl", "en"):
        for kind in ("true", "other", "same-topic"):
            sel = [sc for k, lg, sc in scored if k == kind and lg == lang]
            cos = np.percentile([s.cos for s in sel], [5, 25, 50, 75, 95]).round(2)
            ov = np.percentile([s.overlap for s in sel], [5, 25, 50, 75, 95]).round(2)
            hard = sum(bool(s.missing) for s in sel)
            print(f"  {lang} {kind:10s} n={len(sel):3d} cos {cos} overlap {ov} hard-check failures {hard}")
    candidates = {
        "current": RULE,
        "looser nl (strong_cos 0.70)": replace(RULE, strong_cos=0.70),
        "stricter overlap 0.6": replace(RULE, min_overlap=0.6),
        "looser cross-lingual 0.55": replace(RULE, cross_lingual_cos=0.55),
        "stricter cross-lingual 0.65": replace(RULE, cross_lingual_cos=0.65),
    }
    print("\nacceptance rate (true should be high; other and same-topic low)")
    for name, rule in candidates.items():
        v = Verifier(service.encoder, rule=rule, lexicon=verifier.lexicon)
        r = rates(v)
        print(f"  {name:30s} " + "  ".join(f"{lang}/{kind} {rate:.2f} (n={n})" for (lang, kind), (rate, n) in r.items()))
    for k, lg, sc in scored:
        if k == "true" and sc.missing:
            print("  hard-check failure on a true pair:", lg, sc.missing)


if __name__ == "__main__":
    main()
