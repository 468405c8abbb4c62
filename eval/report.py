"""Reports of an eval run: numbers (JSON), a Markdown summary, a PNG chart; and run comparison."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

from eval import answer_metrics as am
from eval.metrics import percentile
from eval.retrieval import KS

RETRIEVAL_KEYS = [f"R@{k}" for k in KS] + ["MRR", "nDCG@10"]


def summarise(records: list[dict], judge_names: list[str]) -> dict:
    retrieval = [r["retrieval"] for r in records if "retrieval" in r]
    answered = [r for r in records if not r["answer"]["abstained"]]
    out: dict = {"questions": len(records), "answered": len(answered),
                 "abstained": len(records) - len(answered)}
    out["retrieval"] = {"n": len(retrieval), **{k: am.mean(x[k] for x in retrieval) for k in RETRIEVAL_KEYS}}
    judged = {}
    for name in judge_names:
        rows = [r["judged"][name] for r in answered if name in r.get("judged", {})]
        sentences = [s for row in rows for s in row["sentences"]]
        judged[name] = {
            "answers": len(rows),
            "faithfulness": am.mean(x["faithfulness"] for x in rows),
            "citation_recall": am.mean(x["citation_recall"] for x in rows),
            "citation_precision": am.mean(x["citation_precision"] for x in rows),
            "sentences": len(sentences),
            "sentences_supported": sum(1 for s in sentences if s["any_source_supports"] or s["cited_supports"]),
        }
    out["judged"] = judged
    facts = [len(r.get("unsupported_facts", [])) for r in answered]
    out["unsupported_facts"] = {"total": sum(facts), "answers_with_any": sum(1 for f in facts if f),
                                "per_answer": am.mean(facts)}
    correct = [r["correctness"] for r in answered if r.get("correctness")]
    out["correctness"] = {"n": len(correct), "similarity": am.mean(c["similarity"] for c in correct),
                          "key_fact_recall": am.mean(c["key_fact_recall"] for c in correct)}
    out["abstention"] = am.abstention_scores([(r["answerable"], r["answer"]["abstained"]) for r in records])
    out["leads_with_answer"] = am.leads_with_answer(records)
    out["referrals"] = am.referral_share(records)
    out["dating"] = am.dating_summary(records)
    readability = [r["readability"] for r in records if r.get("readability") is not None]
    out["readability_flesch_douma"] = {"n": len(readability), "mean": am.mean(readability),
                                       "plain_language_share": am.mean(1.0 if x >= 60 else 0.0 for x in readability)}
    # Answers written in the question's language (not abstentions); plain answers: sentences rewritten.
    spoken = [r for r in answered if r.get("lang") and r["answer"].get("text_language")]
    out["answer_language"] = {"n": len(spoken), "same_as_question": am.mean(
        1.0 if r["answer"]["text_language"] == r["lang"] else 0.0 for r in spoken)}
    how = Counter(h for r in answered for h in r["answer"].get("how") or () if h)
    out["sentences_how"] = dict(how)
    out["modes"] = dict(Counter(r["answer"]["mode_used"] for r in records))
    out["fallbacks"] = dict(Counter(r["answer"]["fallback_reason"] for r in records if r["answer"]["fallback_reason"]))
    out["latency_ms"] = {stage: {"p50": percentile([r["latency_ms"][stage] for r in records], .5),
                                 "p95": percentile([r["latency_ms"][stage] for r in records], .95)}
                         for stage in ("search", "answer", "judge") if records}
    return out


def build_report(config, records: list[dict], judges: dict) -> dict:
    names = list(judges)
    groups = {"per_language": defaultdict(list), "per_kind": defaultdict(list)}
    for r in records:
        groups["per_language"][r.get("lang") or "?"].append(r)
        groups["per_kind"][r.get("kind") or "?"].append(r)
    return {
        "config": asdict(config),
        "judges": names,
        "overall": summarise(records, names),
        **{g: {k: summarise(v, names) for k, v in sorted(rows.items())} for g, rows in groups.items()},
        "questions": records,
    }


# ------------------------------------------------------------------------------------ writing

def _f(x, digits: int = 3) -> str:
    return "–" if x is None else (f"{x:.{digits}f}" if isinstance(x, float) else str(x))


def markdown(report: dict) -> str:
    c, o = report["config"], report["overall"]
    lines = [f"# Vraagbaak eval: {c['mode']} answers on {Path(c['questions']).name}",
             "", f"{o['questions']} questions, {o['answered']} answered, {o['abstained']} abstained; "
                 f"{'API ' + c['api'] if c.get('api') else 'in-process'}; judges: {', '.join(report['judges'])}.", ""]
    lines += ["## Retrieval (answerable questions, quote rule)", "",
              "| group | n | " + " | ".join(RETRIEVAL_KEYS) + " |", "|---" * (len(RETRIEVAL_KEYS) + 2) + "|"]
    def rrow(name, s):
        return f"| {name} | {s['retrieval']['n']} | " + " | ".join(_f(s["retrieval"][k]) for k in RETRIEVAL_KEYS) + " |"
    lines.append(rrow("overall", o))
    for g in ("per_language", "per_kind"):
        for k, s in report[g].items():
            lines.append(rrow(f"{g.split('_')[1]}={k}", s))
    lines += ["", "## Answers", "", "| group | judge | answers | faithfulness | citation recall | citation precision "
              "| correctness (sim) | key facts | unsupported facts |", "|---" * 9 + "|"]
    def arow(name, s):
        out = []
        for judge, j in s["judged"].items():
            out.append(f"| {name} | {judge} | {j['answers']} | {_f(j['faithfulness'])} | {_f(j['citation_recall'])} | "
                       f"{_f(j['citation_precision'])} | {_f(s['correctness']['similarity'])} | "
                       f"{_f(s['correctness']['key_fact_recall'])} | {s['unsupported_facts']['total']} |")
        return out
    lines += arow("overall", o)
    for g in ("per_language", "per_kind"):
        for k, s in report[g].items():
            lines += arow(f"{g.split('_')[1]}={k}", s)
    a = o["abstention"]
    lines += ["", "## Abstention", "",
              f"{a['unanswerable']} unanswerable questions: precision {_f(a['precision'])}, recall {_f(a['recall'])}, "
              f"F1 {_f(a['f1'])}; false abstentions on answerable questions: {a['false_abstentions']}.", "",
              "| group | questions | unanswerable | abstained correctly | false abstentions | precision | recall | F1 "
              "| referred |", "|---" * 9 + "|"]
    def brow(name, s):
        a, ref = s["abstention"], s["referrals"]
        return (f"| {name} | {s['questions']} | {a['unanswerable']} | {a['abstained_correctly']} | {a['false_abstentions']} | "
                f"{_f(a['precision'])} | {_f(a['recall'])} | {_f(a['f1'])} | {ref['referred']} |")
    lines.append(brow("overall", o))
    for g in ("per_language", "per_kind"):
        for k, s in report[g].items():
            lines.append(brow(f"{g.split('_')[1]}={k}", s))
    ref, lead = o["referrals"], o["leads_with_answer"]
    lines += ["", f"Referrals: {ref['referred']} of {ref['unanswerable']} unanswerable questions get one "
                  f"(share {_f(ref['share'])}; {ref['abstentions_with_referral']} of {ref['abstentions']} abstentions).",
              f"Leads with the answer: the first sentence holds a key fact of the reference in {lead['first_holds']} of "
              f"{lead['answered']} answered answerable questions (share {_f(lead['share_answered'])}; "
              f"{_f(lead['share_answerable'])} of all {lead['answerable']} answerable).", ""]
    d = o.get("dating") or {}
    if d.get("questions"):
        now, past = d["now"], d["past"]
        lines += ["## Dates (questions with stale / newer statements)", "",
                  f"Now-questions: {now['answered']} of {now['of']} answered; a statement of the newest time cited "
                  f"{_f(now['newest_cited'])}, leading {_f(now['newest_leads'])}; the gold passage itself cited "
                  f"{_f(now['gold_cited'])}, leading {_f(now['gold_leads'])}; a stale statement shown "
                  f"{_f(now['stale_shown'])}, presented as current (no \"earlier\" label) {_f(now['stale_current'])}, "
                  f"of those without the horizon notice {_f(now['stale_current_lenient'])}; notice in {_f(now['notice'])}.",
                  f"Past-time questions: {past['answered']} of {past['of']} answered; answered from their time "
                  f"{_f(past['from_time'])} (the gold passage leading {_f(past['gold_leads'])}); a newer statement "
                  f"shown unlabelled {_f(past['newer_current'])}.",
                  f"Answers whose every cited source is dated in the text: {_f(d['dated'])}; as_of right: "
                  f"{_f(d['as_of_ok'])} (of {d['answered']} answered).", ""]
    r = o["readability_flesch_douma"]
    lines += ["## Readability (Dutch answers, Flesch-Douma; ≥ 60 reads as plain language)", "",
              f"mean {_f(r['mean'], 1)} over {r['n']} answers; share ≥ 60: {_f(r['plain_language_share'])}.", ""]
    if o.get("answer_language", {}).get("n"):
        lines += [f"Answers in the question's language: {_f(o['answer_language']['same_as_question'])} of "
                  f"{o['answer_language']['n']}; sentences {o.get('sentences_how') or {}}.", ""]
    lines += ["## Latency (ms)", "", "| stage | p50 | p95 |", "|---|---|---|"]
    lines += [f"| {stage} | {_f(v['p50'], 0)} | {_f(v['p95'], 0)} |" for stage, v in o["latency_ms"].items()]
    lines += ["", f"Modes used: {o['modes']}; fallbacks: {o['fallbacks'] or 'none'}.", ""]
    worst = [q for q in report["questions"] for j in q.get("judged", {}).values() if (j["faithfulness"] or 0) < 1]
    if worst:
        lines += ["## Answers with unsupported sentences", ""]
        for q in worst[:15]:
            for judge, j in q["judged"].items():
                bad = [s["text"] for s in j["sentences"] if not (s["any_source_supports"] or s["cited_supports"])]
                if bad:
                    lines.append(f"- {q['id']} ({judge}): " + " / ".join(f"“{b[:140]}”" for b in bad))
        lines.append("")
    return "\n".join(lines)


def chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    groups = [("overall", report["overall"])] + [(f"{k}", s) for k, s in report["per_language"].items()] + \
             [(f"{k}", s) for k, s in report["per_kind"].items()]
    names = [g for g, _ in groups]
    x = range(len(groups))
    ax = axes[0]
    for i, key in enumerate(("R@5", "MRR")):
        ax.bar([p + i * 0.4 for p in x], [s["retrieval"][key] or 0 for _, s in groups], width=0.4, label=key)
    ax.set_title("Retrieval per language and kind")
    ax.set_xticks([p + 0.2 for p in x], names, rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.legend()
    ax = axes[1]
    judge = next(iter(report["judges"]), None)
    metrics = ("faithfulness", "citation_recall", "citation_precision")
    for i, key in enumerate(metrics):
        ax.bar([p + i * 0.27 for p in x], [(s["judged"].get(judge) or {}).get(key) or 0 for _, s in groups], width=0.27,
               label=key.replace("_", " "))
    ax.set_title(f"Answers ({judge} judge)")
    ax.set_xticks([p + 0.27 for p in x], names, rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax = axes[2]
    stages = [st for st in ("search", "answer", "judge") if report["questions"]]
    ax.boxplot([[max(q["latency_ms"][st], 0.1) for q in report["questions"]] for st in stages], whis=(5, 95),
               showfliers=True)
    ax.set_xticks(range(1, len(stages) + 1), stages)
    ax.set_yscale("log")
    ax.set_title("Latency per stage (ms; box: p25-p75, whiskers p5-p95)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(report: dict, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "summary.md", "chart": out / "chart.png"}
    paths["json"].write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    paths["markdown"].write_text(markdown(report), encoding="utf-8")
    chart(report, paths["chart"])
    return paths


# ------------------------------------------------------------------------------------ compare

# (path in the overall summary, higher is better)
COMPARED = [(("retrieval", k), True) for k in RETRIEVAL_KEYS] + [
    (("correctness", "similarity"), True), (("correctness", "key_fact_recall"), True),
    (("leads_with_answer", "share_answerable"), True), (("referrals", "share"), True),
    (("abstention", "f1"), True), (("abstention", "false_abstentions"), False),
    (("unsupported_facts", "total"), False), (("readability_flesch_douma", "mean"), True),
    (("dating", "now", "newest_cited"), True), (("dating", "now", "gold_cited"), True),
    (("dating", "now", "stale_current"), False),
    (("dating", "past", "from_time"), True), (("dating", "dated"), True), (("dating", "as_of_ok"), True),
]
JUDGED = [("faithfulness", True), ("citation_recall", True), ("citation_precision", True)]


def load_report(path: Path) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(f"no readable report at {path} ({exc}); run `python -m eval run --out DIR` first") from exc


def _get(d: dict, path: tuple):
    for key in path:
        d = (d or {}).get(key)
    return d


def compare(a: dict, b: dict, tolerance: float = 0.005) -> dict:
    """Metric changes A → B (regressions first) and per-question differences."""
    rows = []
    metrics = list(COMPARED) + [(("judged", j, k), hib) for j in set(a["overall"]["judged"]) & set(b["overall"]["judged"])
                                for k, hib in JUDGED]
    for path, higher_is_better in metrics:
        va, vb = _get(a["overall"], path), _get(b["overall"], path)
        if va is None or vb is None:
            continue
        delta = vb - va
        worse = delta < -tolerance if higher_is_better else delta > tolerance
        better = delta > tolerance if higher_is_better else delta < -tolerance
        rows.append({"metric": ".".join(path), "a": va, "b": vb, "delta": round(delta, 4),
                     "change": "regression" if worse else "improvement" if better else "same"})
    qa = {q["id"]: q for q in a["questions"]}
    changes = []
    for qb in b["questions"]:
        q = qa.get(qb["id"])
        if q is None:
            continue
        diffs = []
        ra, rb = (q.get("retrieval") or {}).get("first_hit_rank"), (qb.get("retrieval") or {}).get("first_hit_rank")
        if ra != rb:
            diffs.append(f"first gold passage at rank {ra} → {rb}")
        if q["answer"]["abstained"] != qb["answer"]["abstained"]:
            diffs.append("now abstains" if qb["answer"]["abstained"] else "no longer abstains")
        for judge in set(q.get("judged", {})) & set(qb.get("judged", {})):
            fa, fb = q["judged"][judge]["faithfulness"], qb["judged"][judge]["faithfulness"]
            if fa is not None and fb is not None and abs(fa - fb) > 1e-9:
                diffs.append(f"faithfulness ({judge}) {fa:.2f} → {fb:.2f}")
        sa, sb = (q.get("correctness") or {}).get("similarity"), (qb.get("correctness") or {}).get("similarity")
        if sa is not None and sb is not None and abs(sa - sb) > 0.05:
            diffs.append(f"correctness similarity {sa:.2f} → {sb:.2f}")
        if diffs:
            changes.append({"id": qb["id"], "changes": diffs})
    order = {"regression": 0, "improvement": 1, "same": 2}
    return {"metrics": sorted(rows, key=lambda r: order[r["change"]]), "questions": changes}


def print_comparison(result: dict, out=None) -> None:
    import sys

    out = out or sys.stdout
    regressions = [r for r in result["metrics"] if r["change"] == "regression"]
    print(f"{len(regressions)} regression(s)", file=out)
    for r in result["metrics"]:
        print(f"  {r['change']:<12} {r['metric']:<36} {_f(r['a'], 4):>8} → {_f(r['b'], 4):<8} ({r['delta']:+.4f})", file=out)
    print(f"{len(result['questions'])} question(s) changed", file=out)
    for q in result["questions"]:
        print(f"  {q['id']}: " + "; ".join(q["changes"]), file=out)
