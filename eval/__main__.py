"""Vraagbaak evaluation.

    python -m eval run --questions data/eval/dev.jsonl [--api URL] [--mode extractive|generative|plain] [--out DIR]
    python -m eval compare RUN_A RUN_B
    python -m eval judges [--llm-judge-url URL]         # judges vs. the hand-labelled pairs
    python -m eval retrieval --questions data/eval/dev.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from rag.config import load_settings


def _judges(names: str, service, llm_url: str | None) -> dict:
    from eval.judges import AllOf, LLMJudge, OfflineJudge

    wanted = {"offline": ["offline"], "llm": ["llm"], "both": ["offline", "llm"],
              "all": ["offline", "llm", "offline+llm"]}[names]
    if any("llm" in w for w in wanted) and not llm_url:
        raise ValueError(f"--judge {names} needs --llm-judge-url (an OpenAI-compatible endpoint, e.g. `make llm`)")
    judges: dict = {}
    if "offline" in wanted or "offline+llm" in wanted:
        judges["offline"] = OfflineJudge.for_service(service)
    if "llm" in wanted or "offline+llm" in wanted:
        judges["llm"] = LLMJudge.from_url(llm_url)
    if "offline+llm" in wanted:
        judges["offline+llm"] = AllOf([judges["offline"], judges["llm"]])
    return {k: v for k, v in judges.items() if k in wanted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Vraagbaak evaluation")
    sub = parser.add_subparsers(dest="command", required=True)

    r = sub.add_parser("retrieval", help="R@1/3/5/10, MRR and nDCG@10 on a questions file")
    r.add_argument("--questions", type=Path, default=Path("data/eval/dev.jsonl"))
    r.add_argument("--top-k", type=int, default=10)
    r.add_argument("--out", type=Path, default=Path("reports/retrieval.json"), help="JSON report path")
    r.add_argument("--lexical-weight", type=float, default=None, help="override VRAAGBAAK_LEXICAL_WEIGHT")

    run = sub.add_parser("run", help="search + ask every question; retrieval, faithfulness, citations, "
                                     "correctness, abstention, readability, latency")
    run.add_argument("--questions", type=Path, default=Path("data/eval/dev.jsonl"))
    run.add_argument("--api", default=None, help="base URL of a running Vraagbaak API (default: in-process)")
    run.add_argument("--api-key", default="", help="bearer key for --api, when the API requires one")
    run.add_argument("--mode", choices=("extractive", "generative", "plain"), default="extractive")
    run.add_argument("--llm-url", default=None, help="in-process generative: the answer LLM's /v1 base URL")
    run.add_argument("--judge", choices=("offline", "llm", "both", "all"), default="offline",
                     help="both = each judge separately; all = also the combined offline+llm judge")
    run.add_argument("--llm-judge-url", default=None, help="OpenAI-compatible /v1 base URL for the LLM judge")
    run.add_argument("--out", type=Path, default=None, help="run folder (default reports/run-MODE)")
    run.add_argument("--limit", type=int, default=None, help="only the first N questions")
    run.add_argument("--fresh", action="store_true", help="start over instead of resuming in --out")
    run.add_argument("--no-progress", action="store_true")

    c = sub.add_parser("compare", help="regressions and per-question differences between two runs")
    c.add_argument("run_a", type=Path)
    c.add_argument("run_b", type=Path)
    c.add_argument("--json", action="store_true", help="print the comparison as JSON")

    j = sub.add_parser("judges", help="each judge's agreement with the hand-labelled sentence/passage pairs")
    j.add_argument("--pairs", type=Path, default=Path("data/eval/judge_pairs.jsonl"))
    j.add_argument("--llm-judge-url", default=None, help="also the LLM judge and offline+llm")
    j.add_argument("--out", type=Path, default=Path("reports/judges.json"))
    args = parser.parse_args(argv)

    from eval.retrieval import QuestionsError, load_questions
    from rag.ingest.corpus import CorpusError
    from rag.search.stores.faiss_store import IndexUnavailable
    from rag.service import Vraagbaak

    if args.command == "compare":
        from eval.report import compare, load_report, print_comparison

        try:
            result = compare(load_report(args.run_a), load_report(args.run_b))
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(result, ensure_ascii=False, indent=1))
        else:
            print_comparison(result)
        return 1 if any(r["change"] == "regression" for r in result["metrics"]) else 0

    try:
        if args.command in ("retrieval", "run"):
            load_questions(args.questions)  # a bad file fails before the model loads
        overrides = {"lexical_weight": args.lexical_weight} if args.command == "retrieval" else {}
        service = Vraagbaak.open(load_settings(**overrides), build_if_missing=True)
    except (QuestionsError, IndexUnavailable, CorpusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.command == "retrieval":
        from eval.retrieval import print_report, run_retrieval_eval

        report = run_retrieval_eval(service, load_questions(args.questions), top_k=args.top_k)
        print_report(report)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
        print(f"report written to {args.out}")
        return 0

    if args.command == "judges":
        from eval.judges import evaluate_judge

        try:
            rows = [json.loads(line) for line in args.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
            assert all({"sentence", "passage", "supported"} <= set(r) for r in rows)
        except (OSError, UnicodeDecodeError, ValueError, AssertionError) as exc:
            print(f"error: {args.pairs} is not a JSONL file of {{sentence, passage, supported}} pairs ({exc})",
                  file=sys.stderr)
            return 2
        try:
            judges = _judges("all" if args.llm_judge_url else "offline", service, args.llm_judge_url)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

        async def measure():
            return [await evaluate_judge(judge, rows, progress=True) for judge in judges.values()]

        results = asyncio.run(measure())
        for res in results:
            kinds = ", ".join(f"{k} {v:.2f}" for k, v in res["per_kind"].items())
            print(f"{res['judge']:<12} accuracy {res['accuracy']:.3f} on {res['n']} pairs ({kinds})")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
        print(f"report written to {args.out}")
        return 0

    # run
    from eval.harness import RunConfig, RunError, run as run_eval
    from eval.report import markdown, write_report

    try:
        judges = _judges(args.judge, service, args.llm_judge_url)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = RunConfig(questions=str(args.questions), mode=args.mode, api=args.api, judges=tuple(judges),
                       llm_judge_url=args.llm_judge_url, llm_url=args.llm_url, limit=args.limit)
    out = args.out or Path("reports") / f"run-{args.mode}"
    try:
        report = asyncio.run(run_eval(config, service, judges, out, fresh=args.fresh, progress=not args.no_progress,
                                      api_key=args.api_key))
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted; finished questions are kept in {out}/questions.jsonl — run the same command to resume",
              file=sys.stderr)
        return 130
    paths = write_report(report, out)
    print(markdown(report).split("## Answers with unsupported sentences")[0])
    print("written: " + ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
