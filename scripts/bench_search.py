"""Search latency and throughput, and index build timings, on this machine.

    python scripts/bench_search.py [--questions data/eval/dev.jsonl] [--repeat 3] [--top-k 5] [--json FILE]
                                   [--stores embedded,postgresql]

Loads the service once (building the index first if there is none), warms it up, then runs every
question of the questions file --repeat times through ``Vraagbaak.search``, one at a time, as the
CLI and the API do. Reports p50 / p95 / mean / max latency in ms and queries per second, and how
long an up-to-date check and a full rebuild (embedding cache warm) of the index take.
Set OMP_NUM_THREADS to pin the threads torch uses; the report says how many it used.

``--stores`` (default: the configured one) measures several stores in one run, one model: each
question goes to every store in turn, so a busy machine slows them alike. ``postgresql`` uses
VRAAGBAAK_DATABASE_URL, or else a local server (rag/search/stores/pgserver_local.py) in a temporary
folder. ``store_ms`` is the part after the query is embedded (the store's channels, fusion, citations).
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


def _open_stores(names: list[str], settings, tmp: Path) -> dict:
    """A service per store name, sharing one model; the first builds the index if there is none."""
    from rag.ingest.build import expected_manifest
    from rag.search.stores import open_store

    services, local_pg = {}, None
    for name in names:
        if name == "embedded":
            configured = settings.replace(database_url="")
        elif name == "postgresql":
            url = settings.database_url
            if not url:
                from rag.search.stores import pgserver_local

                local_pg = pgserver_local.start(tmp / "pg", ephemeral=True)
                url = local_pg.url
            configured = settings.replace(database_url=url)
        else:
            raise ValueError(f"unknown store {name!r}: use embedded or postgresql")
        if not services:
            services[name] = Vraagbaak.open(configured, build_if_missing=True)
            continue
        encoder = next(iter(services.values())).encoder
        store = open_store(configured)
        build_index(configured, encoder=encoder, store=store)
        services[name] = Vraagbaak(configured, encoder, store.load(expected_manifest(configured, encoder.model_hash)),
                                   store)
    return services, local_pg


def _summary(values: list[float]) -> dict:
    lat = sorted(values)
    return {"p50": round(percentile(lat, .5), 1), "p95": round(percentile(lat, .95), 1),
            "mean": round(statistics.fmean(lat), 1), "max": round(lat[-1], 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_search.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=PROJECT_ROOT / "data" / "eval" / "dev.jsonl")
    parser.add_argument("--repeat", type=int, default=3, help="runs over the whole question set (default 3)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3, help="untimed queries after the first (default 3)")
    parser.add_argument("--stores", default=None, help="comma-separated: embedded, postgresql (default: configured)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)

    import torch

    tmp_dir = tempfile.TemporaryDirectory(prefix="vraagbaak-bench-")
    local_pg = None
    try:
        questions = [q["question"] for q in load_questions(args.questions)]
        if not questions:
            raise QuestionsError(f"no questions in {args.questions}")
        settings = load_settings()
        names = args.stores.split(",") if args.stores else ["postgresql" if settings.database_url else "embedded"]
        t = time.perf_counter()
        services, local_pg = _open_stores(names, settings, Path(tmp_dir.name))
        open_s = time.perf_counter() - t
    except (QuestionsError, CorpusError, IndexUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(args, questions, services, open_s, torch.get_num_threads())
    finally:
        for service in services.values():
            getattr(service.store, "close", lambda: None)()
        if local_pg is not None:
            local_pg.stop()
        tmp_dir.cleanup()


def _run(args, questions, services, open_s, threads) -> int:
    first = next(iter(services.values()))
    t = time.perf_counter()
    first.search(questions[0], top_k=args.top_k)  # loads the model
    first_s = time.perf_counter() - t
    for q in questions[1:1 + args.warmup]:
        for service in services.values():
            service.search(q, top_k=args.top_k)

    latencies = {name: [] for name in services}
    store_ms = {name: [] for name in services}
    wall = dict.fromkeys(services, 0.0)
    for _ in range(args.repeat):
        for q in questions:
            for name, service in services.items():  # interleaved: machine load hits every store alike
                t = time.perf_counter()
                service.search(q, top_k=args.top_k)
                latencies[name].append((time.perf_counter() - t) * 1000)
                wall[name] += latencies[name][-1] / 1000
            qv = first.encoder.encode_query(q)
            for name, service in services.items():
                t = time.perf_counter()
                service.retriever.search(q, top_k=args.top_k, query_vector=qv)
                store_ms[name].append((time.perf_counter() - t) * 1000)

    figures = {"questions": len(questions), "repeat": args.repeat, "top_k": args.top_k, "torch_threads": threads,
               "chunks": len(first.index.chunks), "open_s": round(open_s, 2), "first_query_s": round(first_s, 2),
               "stores": {}}
    print(f"{len(questions)} questions x {args.repeat} runs, top_k {args.top_k}, torch threads {threads}, "
          f"index of {figures['chunks']} chunks")
    print(f"open service(s) (index load): {open_s:.2f} s; first query (loads the model): {first_s:.2f} s")
    for name, service in services.items():
        check = build_index(service.settings, encoder=service.encoder, store=service.store)  # the up-to-date check
        f = {"latency_ms": _summary(latencies[name]), "store_ms": _summary(store_ms[name]),
             "queries_per_s": round(len(latencies[name]) / wall[name], 2),
             "index_up_to_date_check_s": round(check.seconds, 2), "index_up_to_date_status": check.status}
        figures["stores"][name] = f
        m, s = f["latency_ms"], f["store_ms"]
        print(f"[{name}] search latency ms: p50 {m['p50']}  p95 {m['p95']}  mean {m['mean']}  max {m['max']}; "
              f"store part p50 {s['p50']}  p95 {s['p95']}; {f['queries_per_s']} queries/s; "
              f"up-to-date check ({check.status}) {check.seconds:.2f} s")
    if "embedded" in services:
        with tempfile.TemporaryDirectory(prefix="vraagbaak-bench-") as tmp:
            rebuild = build_index(services["embedded"].settings.replace(index_dir=Path(tmp)),
                                  encoder=first.encoder)
        figures["index_rebuild_warm_cache_s"] = round(rebuild.seconds, 2)
        figures["index_rebuild_embedded"] = rebuild.embedded
        print(f"index build from scratch (embedded), embedding cache warm: {rebuild.seconds:.2f} s "
              f"({rebuild.chunks} chunks, {rebuild.embedded} newly embedded)")
    if len(services) > 1:
        names = list(services)
        base = figures["stores"][names[0]]
        for name in names[1:]:
            ratio = figures["stores"][name]["latency_ms"]["p50"] / base["latency_ms"]["p50"]
            figures["stores"][name]["p50_ratio_to_" + names[0]] = round(ratio, 3)
            print(f"search p50 {name} / {names[0]}: {ratio:.3f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1))
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
