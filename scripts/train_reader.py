"""Train the reader (rag/answer/reader.py) and write data/answerability/reader.{safetensors,json}.

Data: reports/answerability/ from scripts/answerability_data.py (run it first). One bag per (question,
retrieved passage) of the fitted sources (rag/answer/reader_fit.py): label 1 for a Kamervraag's own answer
and for dev/train/train2 passages holding a gold quote, 0 for the other passages retrieved with them. The probes
(probe, probe2) are never fitted on.

Grouped 5-fold CV (a question's bags, and questions sharing a joint answer, in one fold): passage AUC of
the reader against the best sentence cosine, and out-of-fold reader features for every dev/train row,
written to reports/answerability/reader_oof.jsonl for scripts/train_answerability.py. Then the final
reader on all bags, its (held-out) features for the probe rows, and the weights with their sha256.

    nice -n 10 .venv/bin/python scripts/train_reader.py              # CV + final: ~20 min on one busy core
    .venv/bin/python scripts/train_reader.py --no-cv                  # the final reader only (~5 min)
    .venv/bin/python scripts/train_reader.py --variant head|maxsim    # the dropped readers (needs
                                                                      # answerability_data.py --states)

Deterministic: the same data give the same weights, bit for bit, on this machine (checked: two runs, one
sha256); on another CPU the float32 sums may differ in the last bits.
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
from rag.answer import reader as reader_mod  # noqa: E402
from rag.answer.reader_fit import Bag, FitConfig, fit  # noqa: E402

FOLDS = 5
FITTED = ("qa", "dev", "train", "dev-gold-removed", "train-gold-removed", "train2", "train2-gold-removed")
HELD_OUT = ("probe", "probe2")
VARIANTS = ("mlp", "head", "maxsim")  # mlp ships; reader_variants.py holds the others


def bags_of(rows: list[dict]) -> list[Bag]:
    """One bag per (question, passage) of the fitted rows: all the passage's candidate sentences; the
    Kamervraag's own answer (all parts) as one bag."""
    out: list[Bag] = []
    seen: set[tuple[str, str]] = set()
    for r in rows:
        if r["source"] not in FITTED:
            continue
        q = key("q", r["question"])
        by_passage: dict[int, list[str]] = {}
        for s in r["sentences"]:
            by_passage.setdefault(s["p"], []).append(key("s", s["text"]))
        gold = [i for i, p in enumerate(r["passages"]) if p["gold"] and i in by_passage]
        groups = [gold] if r["source"] == "qa" and gold else [[i] for i in gold]
        groups += [[i] for i, p in enumerate(r["passages"]) if not p["gold"] and i in by_passage]
        for members in groups:
            name = (q, "+".join(r["passages"][i]["chunk"] for i in members))
            if name not in seen:
                seen.add(name)
                out.append(Bag(q, [k for i in members for k in by_passage[i]],
                               int(r["passages"][members[0]]["gold"]), r["group"]))
    return out


def logits_for(model, q: str, sents: list[str], states: dict) -> tuple[np.ndarray, np.ndarray]:
    """(logits, cosines) of a question's sentences, by keys into the stored states."""
    vec = lambda k: states[k + "/v"].astype(np.float32)  # noqa: E731
    qv = vec(q)
    cos = np.array([float(qv @ vec(s)) for s in sents], dtype=np.float32)
    if isinstance(model, reader_mod.Reader):
        return model.logits(qv, np.stack([vec(s) for s in sents])) if sents else np.zeros(0), cos
    tok = lambda k: model.project(states[k + "/t"].astype(np.float32))  # noqa: E731
    return model.logits(tok(q), [tok(s) for s in sents], cos), cos


def row_features(z: np.ndarray, cos: np.ndarray) -> dict:
    """The reader's features of one question against its candidate sentences (as answerable.features
    computes them): the best logit, and the logit of the sentence with the best cosine."""
    if not len(z) or not np.isfinite(z).any():
        return {"reader_best": -10.0, "reader_at_cosine": -10.0}
    return {"reader_best": float(np.max(z)), "reader_at_cosine": float(z[int(np.argmax(cos))])}


def score_rows(model, rows: list[dict], states: dict) -> dict[tuple[str, str], dict]:
    out = {}
    for r in rows:
        z, cos = logits_for(model, key("q", r["question"]), [key("s", s["text"]) for s in r["sentences"]], states)
        out[(r["group"], r["source"])] = row_features(z, cos)
    return out


def auc(scores: list[float], labels: list[int]) -> float:
    pos = np.array([s for s, y in zip(scores, labels) if y])
    neg = np.array([s for s, y in zip(scores, labels) if not y])
    if not len(pos) or not len(neg):
        return float("nan")
    return float(((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg)))


def fold_of(groups) -> dict[str, int]:
    return {g: i % FOLDS for i, g in enumerate(sorted(set(groups)))}


def train(variant: str, bags: list[Bag], states: dict, config: FitConfig):
    vectors = {k[:-2]: v for k, v in states.items() if k.endswith("/v")}
    if variant == "mlp":
        return fit(bags, vectors, config)
    import reader_variants as rv
    from embeddings.fetch import fetch
    from rag.config import Settings

    model_dir = Path(fetch("embeddinggemma-300m", Settings().models_dir, progress=False))
    if variant == "maxsim":
        return rv.MaxSim(model_dir)
    tokens = {k[:-2]: v for k, v in states.items() if k.endswith("/t")}
    head = rv.HeadConfig()
    pca = rv.pca_basis([tokens[k] for k in sorted({s for b in bags for s in b.sentences})], head.k0,
                       rv.dense_map(model_dir))
    return rv.fit(bags, tokens, vectors, head, pca=pca)


def passage_auc(model, rows: list[dict], states: dict, per_source: dict) -> None:
    """Adds each held-out passage's best-sentence logit and cosine, with its label, to ``per_source``."""
    for r in rows:
        if r["source"] not in ("qa", "dev", "train") or not any(p["gold"] for p in r["passages"]):
            continue
        z, cos = logits_for(model, key("q", r["question"]), [key("s", s["text"]) for s in r["sentences"]], states)
        got = per_source.setdefault("qa" if r["source"] == "qa" else "dev/train", ([], [], []))
        for i, p in enumerate(r["passages"]):
            mine = [j for j, s in enumerate(r["sentences"]) if s["p"] == i]
            if mine:
                got[0].append(float(np.max(z[mine])))
                got[1].append(int(p["gold"]))
                got[2].append(float(np.max(cos[mine])))


def output(name: str, variant: str) -> str:
    """reports/answerability/<name>.jsonl for the shipped reader, <name>.<variant>.jsonl for the others."""
    return f"{name}.jsonl" if variant == "mlp" else f"{name}.{variant}.jsonl"


def write_rows(path: Path, scores: dict) -> None:
    path.write_text("".join(json.dumps({"group": g, "source": s, **f}) + "\n" for (g, s), f in sorted(scores.items())),
                    encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--variant", default="mlp", choices=VARIANTS, help="mlp ships; head, maxsim: measured only")
    ap.add_argument("--out", type=Path, default=reader_mod.WEIGHTS)
    args = ap.parse_args()
    rows, states = load()
    bags = bags_of(rows)
    config = FitConfig()
    print(f"{len(bags)} bags ({sum(b.label for b in bags)} answering) from {len({b.group for b in bags})} "
          f"question groups", flush=True)
    figures: dict = {}
    if not args.no_cv:
        fold = fold_of(b.group for b in bags)
        oof, per_source = {}, {}
        for k in range(FOLDS):
            started = time.perf_counter()
            model = train(args.variant, [b for b in bags if fold[b.group] != k], states, config)
            held = [r for r in rows if fold.get(r["group"]) == k and r["source"] in FITTED]
            oof.update(score_rows(model, held, states))
            passage_auc(model, held, states, per_source)
            print(f"fold {k + 1}/{FOLDS}: {time.perf_counter() - started:.0f} s", flush=True)
        for src, (z, lab, cos) in sorted(per_source.items()):
            figures[src] = {"reader": round(auc(z, lab), 3), "cosine": round(auc(cos, lab), 3),
                            "answering": sum(lab), "passages": len(lab)}
            print(f"passage AUC out of fold, {src}: reader {figures[src]['reader']:.3f}, best sentence cosine "
                  f"{figures[src]['cosine']:.3f} ({sum(lab)} answering of {len(lab)} passages)")
        write_rows(OUT / output("reader_oof", args.variant), oof)
    started = time.perf_counter()
    final = train(args.variant, bags, states, config)
    took = time.perf_counter() - started
    write_rows(OUT / output("reader_heldout", args.variant), score_rows(final, [r for r in rows if r["source"] in HELD_OUT],
                                                                          states))
    if args.variant != "mlp":
        print(f"{args.variant}: fitted in {took:.0f} s; no weights written (the mlp ships)")
        return
    write(final, args.out, {"trained_by": "scripts/train_reader.py", "bags": len(bags),
                            "answering_bags": sum(b.label for b in bags), "config": config.__dict__,
                            "passage_auc_out_of_fold": figures, "train_seconds": round(took)})
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, sha256 {reader_mod.sha256(args.out)[:12]}…) "
          f"in {took:.0f} s")


def write(reader, path: Path, meta: dict) -> None:
    """The weights (safetensors, float32) and reader.json beside them, with their sha256."""
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({t: np.ascontiguousarray(getattr(reader, t), dtype=np.float32) for t in reader_mod.TENSORS}, str(path))
    meta = {**meta, "sha256": reader_mod.sha256(path), "file": path.name}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
