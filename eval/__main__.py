"""python -m eval retrieval --questions data/eval/dev.jsonl [--top-k 10] [--out FILE]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.config import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description="Vraagbaak evaluation")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("retrieval", help="R@1/3/5/10, MRR and nDCG@10 on a questions file")
    r.add_argument("--questions", type=Path, default=Path("data/eval/dev.jsonl"))
    r.add_argument("--top-k", type=int, default=10)
    r.add_argument("--out", type=Path, default=Path("reports/retrieval.json"), help="JSON report path")
    r.add_argument("--lexical-weight", type=float, default=None, help="override VRAAGBAAK_LEXICAL_WEIGHT")
    args = parser.parse_args(argv)

    from eval.retrieval import QuestionsError, load_questions, print_report, run_retrieval_eval
    from rag.service import Vraagbaak
    from rag.index import IndexUnavailable
    from rag.corpus import CorpusError

    try:
        questions = load_questions(args.questions)
        service = Vraagbaak.open(load_settings(lexical_weight=args.lexical_weight), build_if_missing=True)
    except (QuestionsError, IndexUnavailable, CorpusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = run_retrieval_eval(service, questions, top_k=args.top_k)
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"report written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
