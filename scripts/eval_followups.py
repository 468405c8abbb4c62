"""Precision and recall of "dependent" for rag/answer/followup.py on a labelled follow-up set.

    python scripts/eval_followups.py [data/eval/followups.jsonl ...] [--errors]

(the three labelled sets by default; all three train the model, data/followup_model.json, so a figure on
them is in sample: scripts/train_followups.py prints the cross-validated ones)

Each row: history (OpenAI-style messages), question, dependent (true/false), lang. Prints, per file,
the confusion counts, precision, recall and F1 of "dependent", accuracy per language, and with
``--errors`` every wrongly judged row with the signs that decided it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

from rag.answer.followup import resolve

ROOT = Path(__file__).resolve().parent.parent


def score(path: Path, errors: bool) -> dict:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = tn = 0
    by_lang: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        r = resolve(row["question"], row["history"])
        gold, got = bool(row["dependent"]), r.dependent
        tp += gold and got
        fp += got and not gold
        fn += gold and not got
        tn += not gold and not got
        by_lang[row.get("lang", "?")][0] += gold == got
        by_lang[row.get("lang", "?")][1] += 1
        if errors and gold != got:
            print(f"  {row['id']} [{row.get('lang')}] gold={gold} got={got} ({r.reason}): {row['question']}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    langs = " ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_lang.items()))
    print(f"{path.name}: {len(rows)} rows, tp {tp} fp {fp} fn {fn} tn {tn}; dependent precision {precision:.3f} "
          f"recall {recall:.3f} F1 {f1:.3f}; correct per language: {langs}")
    return {"rows": len(rows), "precision": precision, "recall": recall, "f1": f1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path,
                        default=[ROOT / "data/eval" / name for name in
                                 ("followups_dev.jsonl", "followups.jsonl", "followups2.jsonl")])
    parser.add_argument("--errors", action="store_true", help="list the wrongly judged rows")
    args = parser.parse_args(argv)
    for path in args.files:
        score(path, args.errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
