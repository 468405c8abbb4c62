"""Search latency and throughput, and index build timings, on this machine.

    python scripts/bench_search.py [--questions data/eval/dev.jsonl] [--repeat 3] [--top-k 5] [--json FILE]

Loads the service once (building the index first if there is none), warms it up, then runs every
question of the questions file --repeat times through ``Vraagbaak.search``, one at a time, as the
CLI and the API do. Reports p50 / p95 / mean / max latency in ms and queries per second, and how
long an up-to-date check and a full rebuild (embedding cache warm) of the index take.
Set OMP_NUM_THREADS to pin the threads torch uses; the report says how many it used.
"""

from __future__ import annotations

import os

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.metrics import percentile  # noqa: E402
from eval.retrieval import QuestionsError, load_questions  # noqa: E402
from rag.config import PROJECT_ROOT, load_settings  # noqa: E402
from rag.ingest.corpus import CorpusError  # noqa: E402
from rag.search.stores.faiss_store import IndexUnavailable  # noqa: E402
from rag.ingest.build import build_index  # noqa: E402
from rag.service import Vraagbaak  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_search.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=PROJECT_ROOT / "data" / "eval" / "dev.jsonl")
    parser.add_argument("--repeat", type=int, default=3, help="runs over the whole question set (default 3)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3, help="untimed queries after the first (default 3)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)

    import torch

    try:
        questions = [q["question"] for q in load_questions(args.questions)]
        if not questions:
            raise QuestionsError(f"no questions in {args.questions}")
        settings = load_settings()
        t = time.perf_counter()
        service = Vraagbaak.open(settings, build_if_missing=True)
        open_s = time.perf_counter() - t
    except (QuestionsError, CorpusError, IndexUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    t = time.perf_counter()
    service.search(questions[0], top_k=args.top_k)  # loads the model
    first_s = time.perf_counter() - t
    for q in questions[1:1 + args.warmup]:
        service.search(q, top_k=args.top_k)

    latencies = []
    started = time.perf_counter()
    for _ in range(args.repeat):
        for q in questions:
            t = time.perf_counter()
            service.search(q, top_k=args.top_k)
            latencies.append((time.perf_counter() - t) * 1000)
    wall = time.perf_counter() - started
    lat = sorted(latencies)

    check = build_index(settings, encoder=service.encoder)  # nothing changed: the up-to-date check alone
    with tempfile.TemporaryDirectory(prefix="vraagbaak-bench-") as tmp:
        rebuild = build_index(load_settings(index_dir=Path(tmp)), encoder=service.encoder)

    figures = {
        "questions": len(questions), "repeat": args.repeat, "top_k": args.top_k,
        "torch_threads": torch.get_num_threads(), "chunks": len(service.index.chunks),
        "open_s": round(open_s, 2), "first_query_s": round(first_s, 2),
        "latency_ms": {"p50": round(percentile(lat, .5), 1), "p95": round(percentile(lat, .95), 1),
                       "mean": round(statistics.fmean(lat), 1), "max": round(lat[-1], 1)},
        "queries_per_s": round(len(lat) / wall, 2),
        "index_up_to_date_check_s": round(check.seconds, 2), "index_up_to_date_status": check.status,
        "index_rebuild_warm_cache_s": round(rebuild.seconds, 2), "index_rebuild_embedded": rebuild.embedded,
    }
    m = figures["latency_ms"]
    print(f"{len(questions)} questions x {args.repeat} runs, top_k {args.top_k}, torch threads "
          f"{figures['torch_threads']}, index of {figures['chunks']} chunks")
    print(f"open service (index load): {open_s:.2f} s; first query (loads the model): {first_s:.2f} s")
    print(f"search latency ms: p50 {m['p50']}  p95 {m['p95']}  mean {m['mean']}  max {m['max']}")
    print(f"throughput: {figures['queries_per_s']} queries/s (one process, one query at a time)")
    print(f"index build, up to date (status {check.status}): {check.seconds:.2f} s")
    print(f"index build from scratch, embedding cache warm: {rebuild.seconds:.2f} s "
          f"({rebuild.chunks} chunks, {rebuild.embedded} newly embedded)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
