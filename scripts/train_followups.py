"""Fit the follow-up model (data/followup_model.json) on labelled follow-up sets, with grouped cross-validation.

    python scripts/train_followups.py [SET.jsonl ...] [--write] [--c 1.0]

A logistic regression (scikit-learn, L2, C=``--c``, 3 by default) over rag/answer/followup_signs.py's features
predicts "dependent". Two cross-validations are printed, both by precision and recall of "dependent":
leave one set out (trained on the other sets, tested on one written by another hand: the nearest to a
new held-out set) and 10-fold grouped by conversation (the rows that share a first user turn, such as
a minimal pair, stay in one fold). ``--write`` fits on all the sets and writes the weights, with these
figures, to data/followup_model.json (read by rag/answer/followup.py; sklearn is not needed there).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from rag.answer.followup import MODEL_PATH, _languages, _user_turns
from rag.answer.followup_signs import signs

ROOT = Path(__file__).resolve().parent.parent
SETS = ["data/eval/followups_dev.jsonl", "data/eval/followups.jsonl", "data/eval/followups2.jsonl"]
THRESHOLD = 0.5


def load(paths: list[Path]) -> tuple[list[dict], np.ndarray, np.ndarray, list[str]]:
    """Rows (with "set" added), the feature matrix, the labels and the feature names."""
    rows, vectors = [], []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line) | {"set": path.name}
                turns = _user_turns(row["history"])
                text = " ".join(str(m.get("content") or "") for m in row["history"])
                languages = _languages(row["question"], turns[-1])
                vectors.append(signs(row["question"], languages, text, turns[-1]).features())
                rows.append(row)
    names = list(vectors[0])
    x = np.array([[v[k] for k in names] for v in vectors])
    return rows, x, np.array([bool(r["dependent"]) for r in rows]), names


def fit(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=1000).fit(x, y)


def pr(gold: np.ndarray, got: np.ndarray) -> tuple[float, float]:
    tp = int((gold & got).sum())
    return tp / max(1, int(got.sum())), tp / max(1, int(gold.sum()))


def cross_validate(rows, x, y, c: float) -> dict:
    """Out-of-fold predictions of both schemes; their precision and recall, overall and per set."""
    from sklearn.model_selection import GroupKFold

    sets = np.array([r["set"] for r in rows])
    by_set = np.zeros(len(y), bool)
    for name in dict.fromkeys(sets):
        test = sets == name
        by_set[test] = fit(x[~test], y[~test], c).predict_proba(x[test])[:, 1] >= THRESHOLD
    conversations = [r["set"] + (_user_turns(r["history"]) or [""])[0] for r in rows]
    grouped = np.zeros(len(y), bool)
    for train, test in GroupKFold(n_splits=10).split(x, y, conversations):
        grouped[test] = fit(x[train], y[train], c).predict_proba(x[test])[:, 1] >= THRESHOLD
    out = {}
    for scheme, got in (("leave_one_set_out", by_set), ("grouped_10_fold", grouped)):
        out[scheme] = {name: dict(zip(("precision", "recall"), map(lambda v: round(v, 3),
                                                                   pr(y[sets == name], got[sets == name]))))
                       for name in dict.fromkeys(sets)}
        out[scheme]["all"] = dict(zip(("precision", "recall"), map(lambda v: round(v, 3), pr(y, got))))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=[ROOT / s for s in SETS])
    parser.add_argument("--c", type=float, default=3.0, help="inverse L2 strength (scikit-learn's C)")
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_PATH.relative_to(ROOT)}")
    parser.add_argument("--errors", action="store_true", help="list the rows leave-one-set-out gets wrong")
    args = parser.parse_args(argv)
    rows, x, y, names = load(args.files)
    cv = cross_validate(rows, x, y, args.c)
    for scheme, figures in cv.items():
        print(scheme + ": " + "; ".join(f"{k} P {v['precision']:.3f} R {v['recall']:.3f}" for k, v in figures.items()))
    model = fit(x, y, args.c)
    weights = {k: round(float(w), 4) for k, w in zip(names, model.coef_[0])}
    print("weights:", weights, "bias:", round(float(model.intercept_[0]), 4))
    got = model.predict_proba(x)[:, 1] >= THRESHOLD
    print("in-sample: P {:.3f} R {:.3f}".format(*pr(y, got)))
    if args.errors:
        sets = np.array([r["set"] for r in rows])
        for name in dict.fromkeys(sets):
            test = sets == name
            p = fit(x[~test], y[~test], args.c).predict_proba(x[test])[:, 1]
            for row, prob, vec in zip(np.array(rows)[test], p, x[test]):
                if (prob >= THRESHOLD) != bool(row["dependent"]):
                    on = {k: round(float(v), 2) for k, v in zip(names, vec) if v}
                    print(f"  {row['id']} gold={row['dependent']} p={prob:.2f} {on}: {row['question'][:90]}")
    if args.write:
        MODEL_PATH.write_text(json.dumps({
            "about": "Logistic model of 'this chat question depends on the conversation' over the features of "
                     "rag/answer/followup_signs.py (Signs.features). Written by scripts/train_followups.py.",
            "trained_on": [p.name for p in args.files], "rows": len(rows), "C": args.c,
            "weights": weights, "bias": round(float(model.intercept_[0]), 4), "threshold": THRESHOLD,
            "cross_validation": cv}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print("wrote", MODEL_PATH)
    return 0


if __name__ == "__main__":
    sys.exit(main())
