"""HTTP latency of the Vraagbaak API on this machine: /v1/search with 1 and with N concurrent clients,
/v1/ask extractive with 1 and N clients (and generative, 1 client, when the server has an LLM), and the
count of 5xx answers.

    python scripts/bench_http.py                       # starts `vraagbaak serve` on a free port itself
    python scripts/bench_http.py --url http://127.0.0.1:8000 --clients 8 --repeat 2 --json reports/http.json
    python scripts/bench_http.py --url http://127.0.0.1:8000 --generative 10   # 10 generative answers too

Questions come from data/eval/dev.jsonl. Every request is bounded (count and --timeout); the script only
talks to the URL it is given (default: a server it starts on 127.0.0.1). Exit status 1 if any answer
was a 5xx or a transport error. Latency is measured at the client: HTTP, JSON and the service together.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.metrics import percentile  # noqa: E402


def summary(latencies_ms: list[float], seconds: float) -> dict:
    values = sorted(latencies_ms)
    if not values:
        return {"requests": 0}
    return {"requests": len(values), "p50_ms": round(percentile(values, .5), 1), "p95_ms": round(percentile(values, .95), 1),
            "mean_ms": round(statistics.fmean(values), 1), "max_ms": round(values[-1], 1),
            "requests_per_s": round(len(values) / seconds, 2)}


def load_questions(path: Path) -> list[str]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            questions.append(json.loads(line)["question"])
    return questions


class Tally:
    def __init__(self) -> None:
        self.statuses: Counter = Counter()
        self.lock = threading.Lock()

    def add(self, status: int | str) -> None:
        with self.lock:
            self.statuses[str(status)] += 1

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if not s.isdigit() or int(s) >= 500)


def timed_post(client: httpx.Client, path: str, body: dict, tally: Tally) -> tuple[float, float] | None:
    """(client latency ms, the server's own took_ms) of a 200, else None."""
    started = time.perf_counter()
    try:
        response = client.post(path, json=body)
    except httpx.HTTPError as exc:
        tally.add(type(exc).__name__)
        return None
    elapsed = (time.perf_counter() - started) * 1000
    tally.add(response.status_code)
    return (elapsed, float(response.json().get("took_ms", 0))) if response.status_code == 200 else None


def run_clients(url: str, path: str, bodies: list[dict], clients: int, timeout: float, tally: Tally,
                headers: dict) -> tuple[list[float], list[float], float]:
    """Each of `clients` threads sends its share of `bodies` one after another; returns the client
    latencies, the server's took_ms, and the wall time."""
    latencies: list[float] = []
    took: list[float] = []
    lock = threading.Lock()

    def worker(share: list[dict]) -> None:
        with httpx.Client(base_url=url, timeout=timeout, headers=headers) as client:
            for body in share:
                timed = timed_post(client, path, body, tally)
                if timed is not None:
                    with lock:
                        latencies.append(timed[0])
                        took.append(timed[1])

    threads = [threading.Thread(target=worker, args=(bodies[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, took, time.perf_counter() - started


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # as `make run` would: the server sets its own thread counts
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(url: str, proc: subprocess.Popen | None, limit: float = 600) -> dict:
    deadline = time.monotonic() + limit
    with httpx.Client(base_url=url, timeout=10) as client:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode} before it was ready")
            try:
                response = client.get("/readyz")
                if response.status_code == 200 and response.json().get("warm", True):
                    return response.json()
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    raise SystemExit(f"{url} was not ready within {limit:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_http.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start `vraagbaak serve` on a free port)")
    parser.add_argument("--questions", type=Path, default=ROOT / "data" / "eval" / "dev.jsonl")
    parser.add_argument("--repeat", type=int, default=2, help="passes over the questions per search phase (default 2)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients in the second phase (default 8)")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--ask", type=int, default=30, help="extractive /v1/ask requests (default 30; 0 skips)")
    parser.add_argument("--generative", type=int, default=0, help="generative /v1/ask requests (default 0)")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--api-key", default=os.environ.get("VRAAGBAAK_BENCH_API_KEY"), help="bearer key, if required")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    args = parser.parse_args(argv)

    questions = load_questions(args.questions)
    if not questions:
        raise SystemExit(f"no questions in {args.questions}")
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server()
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    tally = Tally()
    report: dict = {"url": url, "questions": len(questions), "cpu_count": os.cpu_count()}
    try:
        report["server"] = wait_ready(url, proc)
        search_bodies = [{"query": q, "top_k": args.top_k} for q in questions]
        with httpx.Client(base_url=url, timeout=args.timeout, headers=headers) as client:
            for body in search_bodies[:10]:  # warm-up, untimed (the first queries of a process are slower)
                timed_post(client, "/v1/search", body, tally)

        latencies, took, seconds = run_clients(url, "/v1/search", search_bodies * args.repeat, 1, args.timeout,
                                               tally, headers)
        # service_p50_ms: the server's own took_ms (retrieval alone); the rest of p50_ms is HTTP and JSON.
        report["search_1_client"] = {**summary(latencies, seconds),
                                     "service_p50_ms": round(statistics.median(took), 1) if took else None}
        print(f"/v1/search, 1 client:   {report['search_1_client']}", flush=True)
        latencies, took, seconds = run_clients(url, "/v1/search", search_bodies * args.repeat, args.clients,
                                               args.timeout, tally, headers)
        report[f"search_{args.clients}_clients"] = {**summary(latencies, seconds),
                                                    "service_p50_ms": round(statistics.median(took), 1) if took else None}
        print(f"/v1/search, {args.clients} clients:  {report[f'search_{args.clients}_clients']}", flush=True)

        for mode, count in (("extractive", args.ask), ("generative", args.generative)):
            if count <= 0:
                continue
            bodies = [{"question": q, "mode": mode} for q in (questions * (count // len(questions) + 1))[:count]]
            with httpx.Client(base_url=url, timeout=args.timeout, headers=headers) as client:
                probe = client.post("/v1/ask", json=bodies[0])
            if probe.status_code != 503:  # 503: no answer engine or LLM on this server, reported as skipped
                tally.add(probe.status_code)
            if probe.status_code != 200:
                report[f"ask_{mode}"] = {"skipped": f"{probe.status_code}: {probe.text[:200]}"}
                print(f"/v1/ask {mode}: skipped ({probe.status_code})", flush=True)
                continue
            modes = Counter()
            latencies = []
            started = time.perf_counter()
            with httpx.Client(base_url=url, timeout=args.timeout, headers=headers) as client:
                for body in bodies:
                    t = time.perf_counter()
                    try:
                        response = client.post("/v1/ask", json=body)
                    except httpx.HTTPError as exc:
                        tally.add(type(exc).__name__)
                        continue
                    tally.add(response.status_code)
                    if response.status_code == 200:
                        latencies.append((time.perf_counter() - t) * 1000)
                        modes[response.json()["mode_used"]] += 1
            report[f"ask_{mode}"] = {**summary(latencies, time.perf_counter() - started), "mode_used": dict(modes)}
            print(f"/v1/ask {mode}, 1 client: {report[f'ask_{mode}']}", flush=True)
            if mode == "extractive" and args.clients > 1:  # generative: one LLM answers one at a time anyway
                latencies, _, seconds = run_clients(url, "/v1/ask", bodies, args.clients, args.timeout, tally, headers)
                report[f"ask_{mode}_{args.clients}_clients"] = summary(latencies, seconds)
                print(f"/v1/ask {mode}, {args.clients} clients: {report[f'ask_{mode}_{args.clients}_clients']}",
                      flush=True)
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    report["statuses"] = dict(tally.statuses)
    report["server_errors"] = tally.server_errors
    print(f"statuses: {report['statuses']}  (5xx or transport errors: {report['server_errors']})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return 1 if report["server_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
