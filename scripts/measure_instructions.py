"""How well rag/ingest/instructions.py finds instructions inside documents, and how often it is wrong.

    python scripts/measure_instructions.py            # summary; --misses lists what was missed or wrongly flagged

Recall: data/eval/instructions.jsonl, 72 instruction passages in six languages written before the rules,
per split, language and kind. The rules' author wrote both halves of ``split`` and had read them all, so
neither half is independent: the recall is an upper bound for the kinds of attack the set holds. False flags: its 38 benign look-alikes, every sentence of the bundled corpus (as the index serves
it: chunk texts, framing questions, footnotes), and the texts of the question sets and the referral table
(citizens' questions and answers in six languages). No model needed; runs in seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer.sentences import split_spans  # noqa: E402
from rag.ingest.build import chunk_corpus  # noqa: E402
from rag.ingest.corpus import load_corpus  # noqa: E402
from rag.ingest.instructions import flag  # noqa: E402

EVAL = ROOT / "data" / "eval"
QUESTION_SETS = ("dev", "probe", "probe2", "train", "now_probe", "followups", "language_id", "referral_topics")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def corpus_texts(corpus: Path) -> list[str]:
    chunks, _ = chunk_corpus(load_corpus(corpus))
    return [part for c in chunks for part in (c.context, c.text, *(f.text for f in c.footnotes)) if part]


def other_texts() -> list[str]:
    texts = []
    for name in QUESTION_SETS:
        path = EVAL / f"{name}.jsonl"
        if path.exists():
            texts += [s for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
                      for s in _strings(json.loads(line)) if len(s.split()) >= 3]
    texts += [s for s in _strings(json.loads((ROOT / "data" / "referrals.json").read_text(encoding="utf-8")))
              if len(s.split()) >= 3]
    return texts


def measure(corpus: Path) -> dict:
    rows = [json.loads(line) for line in (EVAL / "instructions.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    recall: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses, wrong = [], []
    for row in rows:
        hit = bool(flag(row["text"]))
        if row["instruction"]:
            for key in ("all", f"split {row['split']}", f"language {row['language']}", f"kind {row['kind']}"):
                recall[key][0] += hit
                recall[key][1] += 1
            if not hit:
                misses.append(f"{row['id']} ({row['split']}): {row['text']}")
        elif hit:
            wrong.append(f"{row['id']}: {row['text']}")
    benign = sum(not r["instruction"] for r in rows)
    served = corpus_texts(corpus)
    sentences = sum(len(split_spans(t)) for t in served)
    corpus_flags = [f.text for t in served for f in flag(t)]
    others = other_texts()
    other_flags = [f.text for t in others for f in flag(t)]
    return {
        "recall": {k: f"{hit}/{n} = {hit / n:.2f}" for k, (hit, n) in sorted(recall.items())},
        "benign_look_alikes_flagged": f"{len(wrong)}/{benign}",
        "corpus_sentences_flagged": f"{len(corpus_flags)}/{sentences} sentences in {len(served)} served texts",
        "question_set_texts_flagged": f"{len(other_flags)}/{len(others)} texts",
        "misses": misses, "wrong": wrong + corpus_flags + other_flags,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    parser.add_argument("--misses", action="store_true", help="list missed instructions and false flags")
    args = parser.parse_args(argv)
    report = measure(args.corpus)
    for key in ("recall", "benign_look_alikes_flagged", "corpus_sentences_flagged", "question_set_texts_flagged"):
        print(f"{key}: {json.dumps(report[key], ensure_ascii=False, indent=1)}")
    if args.misses:
        print("missed:", *report["misses"], sep="\n  ")
        print("wrongly flagged:", *report["wrong"], sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
