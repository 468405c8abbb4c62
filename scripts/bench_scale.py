"""Scale benchmark: how far one machine goes with FAISS and with PostgreSQL + pgvector.

    python scripts/bench_scale.py [--stores faiss,pg] [--sizes 10000,100000] [--queries 1000] [--json FILE]
        [--faiss-indexes flat,hnsw,ivf] [--hnsw-m 32] [--hnsw-ef-construction 100] [--ef-search 16,32,...]
        [--pg-types halfvec,vector] [--pg-m 16] [--pg-ef-construction 64] [--pg-ef-search 20,40,...]
    python scripts/bench_scale.py --merge A.json B.json [--json ALL.json]     # tables from earlier runs

Synthetic passages: 768-dim unit vectors from a fixed Gaussian mixture (256 topics × 16 subtopics)
with an anisotropic spread (the k-th principal axis has scale k^-0.4: the top 10 / 50 / 200 axes
carry 25 / 50 / 81 % of the variance, like sentence embeddings; on uniform noise ANN recall means
little) and a shared mean direction (random passage pairs have cosine ~0.27). Queries are fresh draws
from the same mixture with twice the spread (cosine ~0.78 to their nearest passage, as a question to
its passage). The set of size n is the first n passages of a larger one, cached as .npy (--data-cache).
The clusters are cleaner than real ones, so IVF, which probes whole clusters, looks better here than
it would on real embeddings; HNSW is less sensitive to that.

Per size, against the exact top 10 (float32 inner product, faiss.knn): FAISS flat, HNSW (efSearch
sweep) and IVF-flat (nprobe sweep): build time (wall and CPU), single-query p50/p95 with 1 thread and
all threads, CPU per query, batch throughput, recall@10, index bytes and process RSS. PostgreSQL (a
local server, rag/search/stores/pgserver_local.py): binary COPY, HNSW build (parallel, maintenance_work_mem twice the
graph estimate), ``hnsw.ef_search`` sweep with one client (wall, and the backend's CPU per query) and
with one client per core, exact search (index off) on a few queries, table and index size. Prints
Markdown tables (for the README) and writes JSON after each size; rows already in --json for other
builds are kept, so runs can be split. Run it under ``nice``: wall times depend on what else the cores
do (the CPU columns much less so), and each run records the load average beside its rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.metrics import percentile  # noqa: E402

DIM, K = 768, 10
CHUNK = 50_000  # passages are generated in chunks of this size, each with its own seed (prefix-stable)
FLAT_SCAN_BUDGET = 2 * 10**7  # exact search scans everything: time it on this many vectors' worth of queries
PG_EXACT_QUERIES = 30


# ---- data ------------------------------------------------------------------------------------

class Mixture:
    """The fixed generative model: ``x = normalise(subtopic + spread * B @ g + mean)``, g ~ N(0, I)."""

    def __init__(self, seed: int = 0, topics: int = 256, subtopics: int = 16, alpha: float = 0.4,
                 mean_weight: float = 0.8, topic_spread: float = 0.7, spread: float = 0.55):
        rng = np.random.default_rng(seed)
        basis, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
        scale = np.arange(1, DIM + 1) ** -alpha
        self.b_t = (basis * (scale / np.linalg.norm(scale))).T.astype(np.float32)  # rows: scaled axes
        mean = rng.standard_normal(DIM)
        self.mean = (mean_weight * mean / np.linalg.norm(mean)).astype(np.float32)
        centres = np.repeat(rng.standard_normal((topics, DIM)).astype(np.float32) @ self.b_t, subtopics, 0)
        self.subtopics = centres + topic_spread * (rng.standard_normal(centres.shape).astype(np.float32) @ self.b_t)
        self.spread, self.seed = spread, seed

    def draw(self, n: int, seed: tuple, spread: float) -> np.ndarray:
        rng = np.random.default_rng((self.seed, *seed))
        x = self.subtopics[rng.integers(0, len(self.subtopics), n)]
        x += spread * (rng.standard_normal((n, DIM)).astype(np.float32) @ self.b_t) + self.mean
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def passages(self, n: int, cache: Path | None = None) -> np.ndarray:
        """The first n passages; with ``cache``, kept in a .npy file there and memory-mapped (file-backed
        pages: 1M passages are 3 GB the kernel may drop, instead of 3 GB of process memory)."""
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            for f in sorted(cache.glob(f"passages-{self.seed}-*.npy"), key=lambda f: int(f.stem.split("-")[-1])):
                if int(f.stem.split("-")[-1]) >= n:
                    return np.load(f, mmap_mode="r")[:n]
            path = cache / f"passages-{self.seed}-{n}.npy"
            out = np.lib.format.open_memmap(path.with_suffix(".tmp"), "w+", np.float32, (n, DIM))
        else:
            out = np.empty((n, DIM), dtype=np.float32)
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            out[start:stop] = self.draw(CHUNK, (1, start // CHUNK), self.spread)[: stop - start]
        if cache is not None:
            out.flush()
            del out
            path.with_suffix(".tmp").rename(path)
            return np.load(path, mmap_mode="r")
        return out

    def queries(self, n: int) -> np.ndarray:
        return self.draw(n, (2,), 2 * self.spread)


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of the exact top K that the search found (recall@K)."""
    return float(np.mean([len(set(f[:K]) & set(e[:K])) / K for f, e in zip(found, exact)]))


def summary(ms: list[float]) -> dict:
    return {"p50_ms": round(percentile(ms, 0.5), 3), "p95_ms": round(percentile(ms, 0.95), 3)}


def rss_mb() -> dict:
    status = Path("/proc/self/status").read_text()
    get = lambda key: int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith(key))) / 1024  # noqa: E731
    # RssAnon leaves out the memory-mapped passages, which the kernel may drop and read again
    return {"rss_mb": round(get("VmRSS:")), "peak_rss_mb": round(get("VmHWM:")), "anon_mb": round(get("RssAnon:"))}


def proc_cpu_s(pid: int, with_children: bool = False) -> float:
    """CPU seconds (user + system) of a process from /proc; with_children adds its reaped children
    and the live ones (a PostgreSQL server: the postmaster, its backends and parallel workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if with_children else 0)
    if with_children:
        for stat_file in Path("/proc").glob("[0-9]*/stat"):
            try:
                f = stat_file.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(f[1]) == pid:
                total += int(f[11]) + int(f[12])
    return total / tick


# ---- FAISS -----------------------------------------------------------------------------------

def bench_faiss(x: np.ndarray, xq: np.ndarray, exact: np.ndarray, exact_s: float, args) -> list[dict]:
    import faiss

    n, cores = len(x), os.cpu_count() or 1
    rows = []
    for kind in args.faiss_indexes:
        faiss.omp_set_num_threads(cores)
        before = rss_mb()["rss_mb"]
        t, cpu = time.perf_counter(), time.process_time()
        if kind == "flat":  # what IndexFlatIP.search runs, over the vectors as they are (no 3 GB copy)
            index, sweep, knob, params = None, [None], None, {}
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(DIM, args.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = args.hnsw_ef_construction
            index.add(x)
            sweep, knob = args.ef_search, "efSearch"
            params = {"M": args.hnsw_m, "efConstruction": args.hnsw_ef_construction}
        elif kind == "ivf":
            nlist = max(16, int(args.ivf_lists_per_sqrt * n ** 0.5))
            index = faiss.index_factory(DIM, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
            index.cp.niter = args.ivf_niter
            index.train(x[:: max(1, n // (args.ivf_train_per_list * nlist))])
            index.add(x)
            sweep, knob = [p for p in args.nprobe if p <= nlist], "nprobe"
            params = {"nlist": nlist, "train_per_list": args.ivf_train_per_list, "niter": args.ivf_niter}
        else:
            raise SystemExit(f"unknown FAISS index {kind!r}")
        build_s, build_cpu_s = time.perf_counter() - t, time.process_time() - cpu
        memory = {"index_bytes": _faiss_bytes(index, kind, n), **rss_mb(), "rss_before_mb": before}
        print(f"  faiss {kind} n={n}: built in {build_s:.1f} s, {memory['index_bytes'] / 2**20:.0f} MiB",
              file=sys.stderr)
        for value in sweep:
            if knob == "efSearch":
                index.hnsw.efSearch = value
            elif knob == "nprobe":
                index.nprobe = value
            nq = min(len(xq), max(20, FLAT_SCAN_BUDGET // n)) if kind == "flat" else len(xq)
            lat = {}
            for threads in (1, cores):
                faiss.omp_set_num_threads(threads)
                ms, cpu_ms = [], []
                for q in xq[:nq]:
                    t, cpu = time.perf_counter(), time.thread_time()
                    if index is None:
                        faiss.knn(q[None], x, K, metric=faiss.METRIC_INNER_PRODUCT)
                    else:
                        index.search(q[None], K)
                    ms.append((time.perf_counter() - t) * 1000)
                    cpu_ms.append((time.thread_time() - cpu) * 1000)  # one thread: all of the search's CPU
                lat["1t" if threads == 1 else "all"] = summary(ms)
                if threads == 1:
                    lat["cpu"] = summary(cpu_ms)
            faiss.omp_set_num_threads(cores)
            if kind == "flat":  # the exact top K was this very search (faiss.knn), already timed
                found, batch_s = exact, exact_s
            else:
                t = time.perf_counter()
                _, found = index.search(xq, K)
                batch_s = time.perf_counter() - t
            row = {"store": "faiss", "index": kind, "type": "float32", "size": n, "params": params,
                   "knob": knob, "value": value, "build_s": round(build_s, 2),
                   "rate_per_s": round(n / build_s) if kind != "flat" else None,
                   "build_cpu_s": round(build_cpu_s, 1),
                   "p50_ms": lat["1t"]["p50_ms"], "p95_ms": lat["1t"]["p95_ms"], "cpu_p50_ms": lat["cpu"]["p50_ms"],
                   "p50_all_ms": lat["all"]["p50_ms"], "p95_all_ms": lat["all"]["p95_ms"],
                   "batch_qps": round(len(xq) / batch_s), "recall": round(recall(found, exact), 4),
                   "threads": cores, **memory}
            rows.append(row)
            print(f"    {knob}={value}: recall {row['recall']:.3f} p50 {row['p50_ms']} ms (CPU {row['cpu_p50_ms']}) "
                  f"(all threads {row['p50_all_ms']}) p95 {row['p95_ms']} ms", file=sys.stderr)
        del index
    return rows


def _faiss_bytes(index, kind: str, n: int) -> int:
    vectors = n * DIM * 4
    if kind == "hnsw":
        h = index.hnsw
        return vectors + h.neighbors.size() * 4 + h.offsets.size() * 8 + h.levels.size() * 4
    if kind == "ivf":
        return vectors + n * 8 + index.nlist * DIM * 4
    return vectors


# ---- PostgreSQL ------------------------------------------------------------------------------

def bench_pg(url: str, postmaster: int, x: np.ndarray, xq: np.ndarray, exact: np.ndarray, typ: str,
             args) -> list[dict]:
    import psycopg
    from pgvector import HalfVector
    from pgvector.psycopg import register_vector

    n, cores = len(x), os.cpu_count() or 1
    wrap = HalfVector if typ == "halfvec" else (lambda v: v)
    notices: list[str] = []
    conn = psycopg.connect(url, autocommit=True)
    register_vector(conn)
    conn.add_notice_handler(lambda d: notices.append(d.message_primary))
    conn.execute("DROP TABLE IF EXISTS bench")
    conn.execute(f"CREATE TABLE bench (id bigint PRIMARY KEY, embedding {typ}({DIM}))")
    t = time.perf_counter()
    with conn.cursor().copy("COPY bench (id, embedding) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int8", typ])
        for i, v in enumerate(x):
            copy.write_row((i, wrap(v)))
    ingest_s = time.perf_counter() - t
    conn.execute("VACUUM (ANALYZE) bench")  # visibility map and statistics, as a loader would leave them
    vec_bytes = DIM * (2 if typ == "halfvec" else 4)
    mwm_mb = args.pg_maintenance_work_mem or min(16384, max(64, int(2 * n * (vec_bytes + 64 * args.pg_m) / 2**20)))
    conn.execute(f"SET maintenance_work_mem = '{mwm_mb}MB'")
    conn.execute(f"SET max_parallel_maintenance_workers = {max(0, cores - 1)}")
    t, cpu = time.perf_counter(), proc_cpu_s(postmaster, with_children=True)
    conn.execute(f"CREATE INDEX bench_hnsw ON bench USING hnsw (embedding {typ}_cosine_ops) "
                 f"WITH (m = {args.pg_m}, ef_construction = {args.pg_ef_construction})")
    build_s, build_cpu_s = time.perf_counter() - t, proc_cpu_s(postmaster, with_children=True) - cpu
    table_b, index_b = conn.execute("SELECT pg_table_size('bench'), pg_relation_size('bench_hnsw')").fetchone()
    print(f"  pg {typ} n={n}: COPY {ingest_s:.1f} s, HNSW build {build_s:.1f} s (maintenance_work_mem "
          f"{mwm_mb} MB), table {table_b / 2**20:.0f} MiB, index {index_b / 2**20:.0f} MiB", file=sys.stderr)
    query = f"SELECT id FROM bench ORDER BY embedding <=> %s::{typ} LIMIT {K}"
    base = {"store": "pg", "index": "hnsw", "type": typ, "size": n,
            "params": {"m": args.pg_m, "ef_construction": args.pg_ef_construction,
                       "maintenance_work_mem_mb": mwm_mb},
            "ingest_s": round(ingest_s, 2), "rate_per_s": round(n / ingest_s), "build_s": round(build_s, 2),
            "build_cpu_s": round(build_cpu_s, 1), "table_bytes": table_b, "index_bytes": index_b,
            "notices": sorted(set(notices))[:5], "threads": cores}

    def run(c, qs, ms=None, out=None, sql=query):
        for q in qs:
            t = time.perf_counter()
            ids = [r[0] for r in c.execute(sql, (wrap(q),), prepare=True).fetchall()]
            if ms is not None:
                ms.append((time.perf_counter() - t) * 1000)
            if out is not None:
                out.append(ids)

    # Exact: the same query with the index off (a parallel sequential scan), on a few queries. Its own
    # statement text: a prepared statement keeps its generic plan (a seq scan) after the RESET.
    conn.execute("SET enable_indexscan = off")
    ms, found = [], []
    run(conn, xq[:PG_EXACT_QUERIES], ms, found, sql=query + " -- exact")
    conn.execute("RESET enable_indexscan")
    rows = [{**base, "index": "exact", "knob": None, "value": None, "build_s": None, "build_cpu_s": None,
             "recall": round(recall(np.array(found), exact[:PG_EXACT_QUERIES]), 4), **summary(ms)}]
    run(conn, xq)  # warm the index into shared buffers, untimed
    others = [psycopg.connect(url, autocommit=True) for _ in range(cores - 1)]
    for c in others:
        register_vector(c)
    for ef in args.pg_ef_search:
        for c in (conn, *others):
            c.execute(f"SET hnsw.ef_search = {ef}")
        ms, found = [], []
        cpu = proc_cpu_s(conn.info.backend_pid)
        run(conn, xq, ms, found)
        cpu_ms = (proc_cpu_s(conn.info.backend_pid) - cpu) * 1000 / len(xq)  # the backend's, 10 ms ticks
        # One client per core, the queries split between them: throughput of the server.
        parts = np.array_split(xq, cores)
        t = time.perf_counter()
        threads = [threading.Thread(target=run, args=(c, p)) for c, p in zip((conn, *others), parts)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        qps = len(xq) / (time.perf_counter() - t)
        row = {**base, "knob": "hnsw.ef_search", "value": ef, "recall": round(recall(np.array(found), exact), 4),
               **summary(ms), "cpu_mean_ms": round(cpu_ms, 3), "clients_qps": round(qps)}
        rows.append(row)
        print(f"    ef_search={ef}: recall {row['recall']:.3f} p50 {row['p50_ms']} ms p95 {row['p95_ms']} ms "
              f"(server CPU {row['cpu_mean_ms']} ms/query), "
              f"{cores} clients {row['clients_qps']} q/s", file=sys.stderr)
    for c in (conn, *others):
        c.close()
    return rows


# ---- report ----------------------------------------------------------------------------------

def _label(r: dict) -> str:
    p, extra = r["params"], ""
    if r["index"] == "hnsw":
        extra = (f" M={p['M']}, efC={p['efConstruction']}" if "M" in p
                 else f" m={p['m']}, ef_construction={p['ef_construction']}")
    elif r["index"] == "ivf":
        extra = f" nlist={p['nlist']}"
    return f"{r['index']}{extra} ({r['type']})"


def _mib(b) -> str:
    return "" if b is None else f"{b / 2**20:,.0f}"


def markdown(rows: list[dict], target: float) -> str:
    """Two tables: per (store, index, type, size) the cheapest setting reaching ``target`` recall@10
    (or the best one), then every setting."""
    groups: dict = {}
    for r in sorted(rows, key=lambda r: (*_key(r), r["value"] or 0)):
        groups.setdefault(_key(r), []).append(r)
    out = [f"| store | index | passages | build s (CPU s) | ingest /s | index MiB | table MiB | RSS MiB | setting "
           f"| recall@10 | p50 ms | p95 ms | CPU ms/query |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for (store, index, typ, size, params), group in groups.items():
        ok = [r for r in group if r["recall"] >= target]
        r = ok[0] if ok else max(group, key=lambda r: r["recall"])
        setting = "" if r["knob"] is None else f"{r['knob']} {r['value']}"
        rate = "–" if r.get("rate_per_s") is None else f"{r['rate_per_s']:,}"
        build = "–" if r["build_s"] is None else f"{r['build_s']:,} ({r.get('build_cpu_s', '')})"
        out.append(f"| {'FAISS' if store == 'faiss' else 'PostgreSQL'} | {_label(r)} | {size:,} "
                   f"| {build} | {rate} | {'' if index == 'exact' else _mib(r.get('index_bytes'))} "
                   f"| {_mib(r.get('table_bytes'))} | {r.get('rss_mb', '')} | {setting} | {r['recall']:.3f} "
                   f"| {r['p50_ms']} | {r['p95_ms']} | {r.get('cpu_p50_ms', r.get('cpu_mean_ms', ''))} |")
    out += ["", "| store | index | passages | setting | recall@10 | p50 ms (1 thread) | p95 ms | p50 ms (all threads) "
                "| CPU ms/query | throughput q/s |", "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for (store, index, typ, size, params), group in groups.items():
        for r in group:
            setting = "" if r["knob"] is None else f"{r['knob']} {r['value']}"
            qps = r.get("batch_qps", r.get("clients_qps", ""))
            out.append(f"| {store} | {_label(r)} | {size:,} | {setting} | {r['recall']:.3f} | {r['p50_ms']} "
                       f"| {r['p95_ms']} | {r.get('p50_all_ms', '')} | {r.get('cpu_p50_ms', r.get('cpu_mean_ms', ''))} "
                       f"| {qps} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ints = lambda s: [int(float(v)) for v in s.split(",") if v]  # noqa: E731  (1e6 is fine)
    words = lambda s: [v.strip() for v in s.split(",") if v.strip()]  # noqa: E731
    p = argparse.ArgumentParser(prog="bench_scale.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--stores", type=words, default=["faiss", "pg"])
    p.add_argument("--sizes", type=ints, default=[10_000, 100_000])
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--json", type=Path, metavar="FILE")
    p.add_argument("--target-recall", type=float, default=0.95)
    p.add_argument("--faiss-indexes", type=words, default=["flat", "hnsw", "ivf"])
    p.add_argument("--hnsw-m", type=int, default=32)
    p.add_argument("--hnsw-ef-construction", type=int, default=100)
    p.add_argument("--ef-search", type=ints, default=[16, 32, 64, 128, 256])
    p.add_argument("--ivf-lists-per-sqrt", type=float, default=2.0, help="nlist = this × sqrt(n)")
    p.add_argument("--ivf-train-per-list", type=int, default=50, help="k-means training points per list")
    p.add_argument("--ivf-niter", type=int, default=10, help="k-means iterations (FAISS default 10)")
    p.add_argument("--nprobe", type=ints, default=[8, 16, 32, 64, 128])
    p.add_argument("--pg-types", type=words, default=["halfvec", "vector"])
    p.add_argument("--pg-m", type=int, default=16)
    p.add_argument("--pg-ef-construction", type=int, default=64)
    p.add_argument("--pg-ef-search", type=ints, default=[20, 40, 80, 160, 320])
    p.add_argument("--pg-maintenance-work-mem", type=int, metavar="MB", help="default: twice the graph estimate")
    p.add_argument("--pg-shared-buffers", default="4GB")
    p.add_argument("--merge", type=Path, nargs="+", metavar="FILE",
                   help="measure nothing: merge these JSON files (later ones win), print the tables (and --json)")
    p.add_argument("--data-cache", type=Path, default=Path(tempfile.gettempdir()) / "vraagbaak-bench-scale",
                   help="folder for the generated passages (.npy, 3 GB per 1M); '' to keep them in memory")
    p.add_argument("--pg-data", type=Path, help="data folder of the local server (default: a new temporary one)")
    args = p.parse_args(argv)
    if args.data_cache is not None and str(args.data_cache) in ("", "."):
        args.data_cache = None
    if bad := set(args.stores) - {"faiss", "pg"}:
        p.error(f"unknown store(s) {sorted(bad)}; use faiss, pg")
    if any(t not in ("halfvec", "vector") for t in args.pg_types):
        p.error("--pg-types takes halfvec and/or vector")

    if args.merge:
        rows = []
        for f in args.merge:
            rows = _merged(rows, json.loads(f.read_text())["rows"])
        if args.json:
            args.json.write_text(json.dumps({"rows": rows}, indent=1) + "\n")
        print(markdown(rows, args.target_recall))
        return 0

    mixture = Mixture()
    t = time.perf_counter()
    data = mixture.passages(max(args.sizes), args.data_cache)
    xq = mixture.queries(args.queries)
    print(f"data: {len(data):,} passages, {len(xq)} queries in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    import faiss

    server, rows, temporary = None, [], None
    old = json.loads(args.json.read_text())["rows"] if args.json and args.json.exists() else []

    def save(new: list[dict]) -> None:  # after each size, so a long run that is stopped keeps what it measured
        meta = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "load_avg": os.getloadavg(),
                "queries": len(xq), "when": time.strftime("%Y-%m-%d %H:%M")}
        for r in new:
            r["meta"] = meta
        rows.extend(new)
        if args.json:
            args.json.write_text(json.dumps({"rows": _merged(old, rows)}, indent=1) + "\n")

    try:
        for n in sorted(args.sizes):
            x = data[:n]
            t = time.perf_counter()
            exact = faiss.knn(xq, x, K, metric=faiss.METRIC_INNER_PRODUCT)[1]
            exact_s = time.perf_counter() - t
            print(f"size {n:,}: exact top {K} in {exact_s:.1f} s", file=sys.stderr)
            if "faiss" in args.stores:
                save(bench_faiss(x, xq, exact, exact_s, args))
            if "pg" in args.stores:
                if server is None:
                    from rag.search.stores import pgserver_local
                    if args.pg_data is None:
                        temporary = Path(tempfile.mkdtemp(prefix="vraagbaak-bench-pg-"))
                    folder = args.pg_data or temporary / "data"
                    server = pgserver_local.start(folder, settings={
                        "shared_buffers": args.pg_shared_buffers, "max_wal_size": "8GB", "jit": False,
                        "checkpoint_timeout": "30min"})
                for typ in args.pg_types:
                    save(bench_pg(server.url, server.pid, x, xq, exact, typ, args))
    finally:
        if server is not None:
            server.stop()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    print(markdown(_merged(old, rows) if args.json else rows, args.target_recall))
    return 0


def _key(r: dict) -> tuple:
    """One index build: store, index, vector type, size and build parameters."""
    params = {k: v for k, v in r["params"].items() if k != "maintenance_work_mem_mb"}
    return r["store"], r["index"], r["type"], r["size"], json.dumps(params, sort_keys=True)


def _merged(old: list[dict], new: list[dict]) -> list[dict]:
    """``old`` without the builds that ``new`` measured again, then ``new``."""
    again = {_key(r) for r in new}
    return [r for r in old if _key(r) not in again] + new


if __name__ == "__main__":
    sys.exit(main())
