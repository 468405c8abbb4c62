"""Train the cross-encoder (rag/answer/cross_encoder.py) and write data/answerability/cross_encoder.{safetensors,json}.

Data: reports/answerability/ from scripts/answerability_data.py (run it first); base model: ``python -m
embeddings.fetch e5-small``. Pairs and training: rag/answer/cross_encoder_fit.py (the Kamervragen and the
train questions; never dev, never a probe). Then every dev, dev-gold-removed and probe row is read as the
engine reads it — its CROSS_SENTENCES candidate sentences most similar to the question — and the logits
are written to reports/answerability/cross_scores.jsonl, where scripts/train_answerability.py takes the
feature ``cross_best`` from (out-of-sample on dev, since dev is never trained on).

    nice -n 10 .venv/bin/python scripts/train_cross_encoder.py          # ~30 min of two busy cores

Deterministic on one machine (seeded, fixed thread count): the same data give the same weights.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from answerability_data import OUT, key, load  # noqa: E402
from rag.answer import cross_encoder as ce  # noqa: E402
from rag.answer.answerable import NO_READING  # noqa: E402
from rag.answer.cross_encoder_fit import TRAIN_SOURCES, FitConfig, auc, fit, pairs  # noqa: E402

SCORED = ("dev", "dev-gold-removed", "probe", "probe2")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=FitConfig.epochs)
    ap.add_argument("--layers", type=int, default=FitConfig.layers, help="keep e5-small's first n layers (default all)")
    ap.add_argument("--lr", type=float, default=FitConfig.lr)
    ap.add_argument("--negatives", type=int, default=FitConfig.negatives)
    ap.add_argument("--out", type=Path, default=ce.WEIGHTS)
    args = ap.parse_args()
    import torch
    from safetensors.torch import save_file

    from embeddings import e5_small
    from embeddings.fetch import MODELS, fetch

    config = FitConfig(epochs=args.epochs, layers=args.layers, lr=args.lr, negatives=args.negatives)
    rows, states = load()

    def vec(kind: str, text: str) -> np.ndarray:
        return states[key(kind, text) + "/v"].astype(np.float32)

    def cosine(r: dict, s: dict) -> float:
        return float(vec("q", r["question"]) @ vec("s", s["text"]))

    train = pairs(rows, cosine, config)
    print(f"{len(train)} pairs ({int(sum(p.label for p in train))} answering) from {', '.join(TRAIN_SOURCES)}")
    base = fetch(ce.BASE_MODEL) / MODELS[ce.BASE_MODEL].verify_path
    model, tokenizer = e5_small.load(base, config.layers)
    t0 = time.time()
    state = fit(train, model, tokenizer, config)
    print(f"trained in {time.time() - t0:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(args.out))

    # Read the held-out rows as the engine will: the merged model, the most similar sentences.
    fresh, _ = e5_small.load(base, config.layers)
    reader = ce.CrossEncoder.from_state(fresh, tokenizer, state, config.lora_alpha / config.lora_r)
    torch.set_num_threads(config.threads)
    out_rows, figures = [], {}
    for r in rows:
        if r["source"] not in SCORED:
            continue
        ranked = sorted(r["sentences"], key=lambda s: -cosine(r, s))[:ce.CROSS_SENTENCES]
        logits = reader.logits(r["question"], [s["text"] for s in ranked]).tolist()
        out_rows.append({"group": r["group"], "source": r["source"], "cross_best": max(logits, default=NO_READING),
                         "label": r["label"]})
    (OUT / "cross_scores.jsonl").write_text("".join(json.dumps(x) + "\n" for x in out_rows), encoding="utf-8")
    for name, sources in (("dev+gold-removed", ("dev", "dev-gold-removed")), ("probe", ("probe",)),
                          ("probe2", ("probe2",))):
        sel = [x for x in out_rows if x["source"] in sources]
        figures[name] = round(auc([x["cross_best"] for x in sel if x["label"]],
                                  [x["cross_best"] for x in sel if not x["label"]]), 3)
    print("question AUC of cross_best (answerable vs not):", figures)
    meta = {"sha256": ce.sha256(args.out), "base": ce.BASE_MODEL, "trained_by": "scripts/train_cross_encoder.py",
            "settings": config.to_dict(), "pairs": len(train), "question_auc": figures}
    (args.out.with_suffix(".json")).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, sha256 {meta['sha256'][:12]}…)")


if __name__ == "__main__":
    main()
