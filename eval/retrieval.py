"""Retrieval eval: every answerable question through the same search the service uses."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from eval import metrics

KS = (1, 3, 5, 10)


class QuestionsError(ValueError):
    pass


def load_questions(path: Path) -> list[dict]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionsError(f"cannot read questions file {path}: {exc}") from exc
    questions = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            q["question"], q["id"]
        except (ValueError, KeyError, TypeError) as exc:
            raise QuestionsError(f"{path}:{n}: not a question object with 'id' and 'question' ({exc})") from exc
        questions.append(q)
    return questions


def score_question(q: dict, passages: list[dict], file_to_doc: dict[str, str]) -> dict:
    """Metrics for one question; a passage only counts for a gold quote from its own document."""
    gold = q.get("gold") or []
    rel = []
    for p in passages:
        found = set()
        for j, g in enumerate(gold):
            doc_ok = file_to_doc.get(g.get("doc"), g.get("doc")) == p["document"]["id"] if g.get("doc") else True
            if doc_ok and metrics.contains(p["text"], g["quote"]):
                found.add(j)
        rel.append(found)
    row = {"id": q["id"], "lang": q.get("lang"), "kind": q.get("kind"), "n_gold": len(gold)}
    for k in KS:
        row[f"R@{k}"] = metrics.recall_at_k(rel, len(gold), k)
        row[f"Hit@{k}"] = metrics.hit_at_k(rel, k)
    row["MRR"] = metrics.reciprocal_rank(rel)
    row["nDCG@10"] = metrics.ndcg_at_k(rel, len(gold), 10)
    row["first_hit_rank"] = next((i + 1 for i, r in enumerate(rel) if r), None)
    return row


METRIC_KEYS = [f"R@{k}" for k in KS] + ["MRR", "nDCG@10"] + [f"Hit@{k}" for k in KS]


def aggregate(rows: list[dict]) -> dict:
    return {"n": len(rows), **{m: round(statistics.fmean(r[m] for r in rows), 4) for m in METRIC_KEYS}} if rows else {"n": 0}


def run_retrieval_eval(service, questions: list[dict], top_k: int = 10) -> dict:
    file_to_doc = {d.file: d.id for d in service.index.documents.values() if d.file}
    answerable = [q for q in questions if q.get("answerable", True) and q.get("gold")]
    rows, latencies = [], []
    for q in answerable:
        t = time.perf_counter()
        result = service.search(q["question"], top_k=top_k)
        latencies.append((time.perf_counter() - t) * 1000)
        row = score_question(q, [p.to_dict() for p in result.passages], file_to_doc)
        row["top"] = [p.citation.label for p in result.passages[:3]]
        rows.append(row)
    by_lang, by_kind = defaultdict(list), defaultdict(list)
    for r in rows:
        by_lang[r["lang"]].append(r)
        by_kind[r["kind"]].append(r)
    lat = sorted(latencies)
    return {
        "overall": aggregate(rows),
        "per_language": {k: aggregate(v) for k, v in sorted(by_lang.items())},
        "per_kind": {k: aggregate(v) for k, v in sorted(by_kind.items())},
        "latency_ms": {"p50": round(metrics.percentile(lat, .5), 1), "p95": round(metrics.percentile(lat, .95), 1)} if lat else {},
        "config": {"model": service.settings.embedding_model, "lexical_weight": service.settings.lexical_weight,
                   "index": service.index.manifest},
        "questions": rows,
    }


def print_report(report: dict, out=sys.stdout) -> None:
    cols = ["n"] + METRIC_KEYS[:6]
    print(f"{'':14}" + "".join(f"{c:>9}" for c in cols), file=out)
    def line(name, agg):
        print(f"{name:14}" + "".join(f"{agg.get(c, 0):>9}" if c == "n" else f"{agg.get(c, 0):>9.3f}" for c in cols), file=out)
    line("overall", report["overall"])
    for lang, agg in report["per_language"].items():
        line(f"lang={lang}", agg)
    for kind, agg in report["per_kind"].items():
        line(f"kind={kind}", agg)
    if report.get("latency_ms"):
        print(f"search latency ms: p50 {report['latency_ms']['p50']}, p95 {report['latency_ms']['p95']}", file=out)
