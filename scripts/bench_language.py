"""Language identification: accuracy per language, load time, memory and time per text.

    python scripts/bench_language.py [--high-accuracy] [--languages nl,en,...] [--json FILE]

Texts: data/eval/language_id.jsonl (short and long questions in nl, en, tr, ar, pl, uk, written for
this) and the questions of data/eval/dev.jsonl (their ``lang``). Reports lingua alone ("raw") and
``detect_language`` (lingua + the function-word rule for uncertain short texts). Memory is the
growth of this process's peak RSS while the detector is built (Linux ru_maxrss, MiB).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.answer import language  # noqa: E402


def texts() -> list[dict]:
    rows = [dict(json.loads(line), source="language_id") for line in
            (ROOT / "data/eval/language_id.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in (ROOT / "data/eval/dev.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            rows.append({"lang": q["lang"], "text": q["question"], "source": "dev"})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--high-accuracy", action="store_true", help="lingua's high-accuracy mode (all n-gram sizes)")
    ap.add_argument("--languages", default=",".join(language.LANGUAGES), help="ISO 639-1 codes, comma-separated")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    langs = tuple(c.strip() for c in args.languages.split(",") if c.strip())

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    detector = language.build_detector(langs, high_accuracy=args.high_accuracy)
    load_s = time.perf_counter() - started
    rss_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024

    rows = texts()
    right, raw_right, total = Counter(), Counter(), Counter()
    wrong = []
    started = time.perf_counter()
    for r in rows:
        got = language.detect_language(r["text"], detector=detector)
        scores = language.confidences(r["text"], detector)
        raw = max(scores, key=scores.get) if scores else "nl"
        key = (r["source"], r["lang"])
        total[key] += 1
        right[key] += got == r["lang"]
        raw_right[key] += raw == r["lang"]
        if got != r["lang"]:
            wrong.append({"text": r["text"], "expected": r["lang"], "got": got,
                          "scores": {k: round(v, 2) for k, v in sorted(scores.items(), key=lambda kv: -kv[1])[:3]}})
    per_text_ms = (time.perf_counter() - started) / len(rows) / 2 * 1000  # two calls per text above

    by = defaultdict(dict)
    for (source, lang), n in sorted(total.items()):
        by[source][lang] = {"n": n, "accuracy": round(right[(source, lang)] / n, 3),
                            "raw_accuracy": round(raw_right[(source, lang)] / n, 3)}
    report = {"languages": langs, "high_accuracy": args.high_accuracy, "load_s": round(load_s, 2),
              "rss_mib": round(rss_mib, 1), "ms_per_text": round(per_text_ms, 2), "texts": len(rows),
              "accuracy": round(sum(right.values()) / len(rows), 3),
              "raw_accuracy": round(sum(raw_right.values()) / len(rows), 3), "by_source": by, "wrong": wrong}
    print(f"languages {','.join(langs)}  mode {'high' if args.high_accuracy else 'low'} accuracy  "
          f"load {load_s:.2f} s  +{rss_mib:.0f} MiB  {per_text_ms:.2f} ms/text")
    print(f"detect_language {report['accuracy']:.3f}  lingua alone {report['raw_accuracy']:.3f}  ({len(rows)} texts)")
    for source, langs_ in by.items():
        print(f"  {source:12s} " + "  ".join(f"{k} {v['accuracy']:.2f}/{v['raw_accuracy']:.2f} (n={v['n']})"
                                              for k, v in langs_.items()))
    for w in wrong:
        print(f"  wrong: {w['expected']} → {w['got']}  {w['text'][:70]!r}  {w['scores']}")
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
