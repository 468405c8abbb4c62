"""Measure answer-first extraction (rag/answer/extractive.compose) on the dev set's answerable questions.

Retrieves each answerable question once (like the answer engine: top 5, sentences of the top 3), then
composes the answer under a few weight settings and prints, per setting, the key-fact recall against
``reference_answer`` (eval/answer_metrics.py, as `python -m eval run` scores it) and the share of
answers whose first sentence holds a key fact. Few knobs and a small grid, so the figures say which
signal matters rather than fit the dev set.

    nice -n 10 .venv/bin/python scripts/tune_extractive.py [--questions data/eval/dev.jsonl]

The reader's weight (how much "this sentence answers", rag/answer/reader.py, counts next to similarity) is
judged here on dev and then on the probes, which nothing is tuned on (--questions data/eval/probe.jsonl).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval import answer_metrics as am  # noqa: E402
from eval.harness import first_sentence  # noqa: E402
from rag.answer import answerable, extractive, reader  # noqa: E402
from rag.answer.facts import CorpusLexicon  # noqa: E402
from rag.config import PROJECT_ROOT  # noqa: E402
from rag.service import Vraagbaak  # noqa: E402

GRID = {
    "similarity only (select)": None,
    "compose, no reader (before)": replace(extractive.COMPOSE, reader_weight=0.0),
    "compose, reader 0.10 (lead)": replace(extractive.COMPOSE, reader_weight=0.10),
    "compose, reader 0.30 (lead)": replace(extractive.COMPOSE, reader_weight=0.30),
    "compose (default: reader 1.0 for the lead)": extractive.COMPOSE,
    "compose, no bonuses": replace(extractive.COMPOSE, type_bonus=0.0, coverage_weight=0.0),
    "compose, no fact rule": replace(extractive.COMPOSE, min_new_stems=0),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, default=PROJECT_ROOT / "data" / "eval" / "dev.jsonl")
    args = ap.parse_args()
    service = Vraagbaak.open()
    vectors = extractive.SentenceVectors(service.encoder)
    vocab = answerable.Vocabulary.from_index(service.index)
    head = reader.load_reader()
    lexicon = CorpusLexicon.from_texts(c.text for c in service.index.chunks)
    rows = [json.loads(line) for line in args.questions.open() if line.strip()]
    rows = [r for r in rows if r["answerable"] and r.get("reference_answer")]
    prepared = []
    for r in rows:
        qv = service.encoder.encode_query(r["question"])
        passages = service.retriever.search(r["question"], top_k=5, query_vector=qv)
        n = min(extractive.CONFIG.max_passages, len(passages))
        cands = extractive.candidates(passages[:5], vectors)
        reading = reader.read(head, qv, cands)
        cands = [replace(c, answers=float(z)) for c, z in zip(cands, reading)]
        prepared.append((r, qv, cands, n, passages))
    for name, weights in GRID.items():
        recall, first, sentences = [], [], []
        for r, qv, cands, n, passages in prepared:
            picked = (extractive.select(qv, [c for c in cands if c.source <= n], n) if weights is None
                      else extractive.compose(r["question"], qv, [c for c in cands if c.source <= n], n, vocab,
                                             weights=weights, passages=passages,
                                             others=[c for c in cands if c.source > n]))
            text = extractive.render_answer(picked)
            same = r["lang"] == "nl"
            kf = am.key_fact_recall(am.strip_markers(text), r["reference_answer"], same, lexicon, "nl", r["lang"])
            lead = am.key_fact_recall(first_sentence(text), r["reference_answer"], same, lexicon, "nl", r["lang"])
            recall.append(kf)
            first.append(None if lead is None else float(lead > 0))
            sentences.append(len(picked))
        print(f"{name:<36} key-fact recall {am.mean(recall):.3f}  first sentence holds a key fact {am.mean(first):.3f}  "
              f"sentences {am.mean(sentences):.2f}  ({len(prepared)} questions)")


if __name__ == "__main__":
    main()
