"""Soak test of the Vraagbaak API: N concurrent clients for T minutes over search, ask, streamed chat
and feedback, with the server's memory sampled throughout.

    python scripts/soak.py --clients 8 --minutes 10                       # starts `vraagbaak serve` itself
    python scripts/soak.py --clients 4 --minutes 10 --llm http://127.0.0.1:8080/v1   # with the local LLM (make llm)
    python scripts/soak.py --url http://127.0.0.1:8000 --pid 1234 --minutes 3 --json reports/soak.json

Each client loops until the time is up, picking an operation at random (seeded, weights ``--mix``):
``POST /v1/search``; ``POST /v1/ask`` (JSON); ``POST /v1/chat/completions`` with ``stream: true``, read
to ``data: [DONE]`` (time to first text and to the end); ``POST /v1/feedback`` on the client's last
answer. Questions are the dev set's (data/eval/dev.jsonl). A server it starts gets a temporary
feedback database without the per-address limit (all clients share 127.0.0.1), and the LLM URL when
``--llm`` is given (answers then are generative, mode auto; falls back to extractive are counted).

Report: requests and throughput, p50/p95/max latency per operation, errors by status, and the
server's resident memory (RSS from /proc/PID/status, every ``--sample`` seconds).

Exit status 1 on any 5xx, transport failure or error event inside a stream, and on steady memory
growth: the slope of the least-squares line through the RSS samples taken after the warm-up
(``--warmup`` minutes) above ``--max-growth`` MB per minute (default 2 MB/min: 16 MB over the 8 minutes after
a 2-minute warm-up of a 10-minute run, ~1% of the server's ~1.5 GB). 4xx answers are reported, not fatal.
Traffic goes only to the given URL (default: the server it starts on 127.0.0.1); every request has
a timeout and the run stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_http import load_questions, wait_ready  # noqa: E402
from eval.metrics import percentile  # noqa: E402

OPERATIONS = ("search", "ask", "chat", "feedback")


def rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` in MB (Linux /proc), None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Results:
    """What the clients saw, shared between threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)  # op → ms of successful requests
        self.first_text: list[float] = []  # chat: ms to the first content chunk
        self.statuses: Counter = Counter()  # (op, status or failure kind)
        self.fallbacks: Counter = Counter()  # answers' mode_used / fallback_reason
        self.stream_errors: list[str] = []

    def record(self, op: str, status: int | str, ms: float | None = None) -> None:
        with self.lock:
            self.statuses[(op, str(status))] += 1
            if ms is not None and status in (200, 201):
                self.latency[op].append(ms)

    def fatal(self) -> int:
        return sum(n for (_, s), n in self.statuses.items() if not s.isdigit() or int(s) >= 500)


class Client(threading.Thread):
    def __init__(self, n: int, url: str, questions: list[str], mix: dict[str, float], until: float,
                 results: Results, timeout: float, headers: dict, seed: int):
        super().__init__(daemon=True, name=f"soak-client-{n}")
        self.url, self.questions, self.mix, self.until = url, questions, mix, until
        self.results, self.timeout, self.headers = results, timeout, headers
        self.random = random.Random(seed + n)
        self.last_answer: dict | None = None

    def run(self) -> None:
        ops, weights = zip(*self.mix.items())
        with httpx.Client(base_url=self.url, timeout=self.timeout, headers=self.headers) as client:
            while time.monotonic() < self.until:
                op = self.random.choices(ops, weights)[0]
                question = self.random.choice(self.questions)
                started = time.perf_counter()
                try:
                    status = getattr(self, op)(client, question, started)
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.results.record(op, status, (time.perf_counter() - started) * 1000)

    def search(self, client: httpx.Client, question: str, started: float) -> int:
        return client.post("/v1/search", json={"query": question, "top_k": 5}).status_code

    def ask(self, client: httpx.Client, question: str, started: float) -> int:
        response = client.post("/v1/ask", json={"question": question})
        if response.status_code == 200:
            self.last_answer = response.json()
            with self.results.lock:
                self.results.fallbacks[(self.last_answer["mode_used"], self.last_answer["fallback_reason"])] += 1
        return response.status_code

    def chat(self, client: httpx.Client, question: str, started: float) -> int | str:
        body = {"model": "vraagbaak", "stream": True, "messages": [{"role": "user", "content": question}]}
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            if response.status_code != 200:
                response.read()
                return response.status_code
            first, finish, done = None, None, False
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    done = True
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    with self.results.lock:
                        self.results.stream_errors.append(json.dumps(chunk["error"])[:300])
                    return "stream_error"
                for choice in chunk.get("choices", []):
                    if choice["delta"].get("content") and first is None:
                        first = (time.perf_counter() - started) * 1000
                    finish = choice.get("finish_reason") or finish
            if not done or finish != "stop":
                return "stream_incomplete"
            if first is not None:
                with self.results.lock:
                    self.results.first_text.append(first)
            return 200

    def feedback(self, client: httpx.Client, question: str, started: float) -> int:
        answer = self.last_answer
        if answer is None:  # nothing to rate yet: ask first (counted as an ask)
            status = self.ask(client, question, started)
            self.results.record("ask", status, (time.perf_counter() - started) * 1000)
            return self.feedback(client, question, time.perf_counter()) if self.last_answer else status
        body = {"answer_id": answer["answer_id"], "rating": self.random.choice(("up", "down")),
                "comment": "soak", "question": answer["question"], "answer": answer["answer"],
                "passage_ids": [c["id"] for c in answer["citations"]][:50], "mode": answer["mode_used"],
                "language": answer["language"], "abstained": answer["abstained"]}
        return client.post("/v1/feedback", json=body).status_code


def sample_memory(pid: int, until: float, every: float, samples: list[tuple[float, float]], t0: float) -> None:
    while time.monotonic() < until + every:
        mb = rss_mb(pid)
        if mb is None:
            return
        samples.append((round((time.monotonic() - t0) / 60, 3), round(mb, 1)))
        time.sleep(every)


def memory_verdict(samples: list[tuple[float, float]], warmup: float, max_growth: float) -> dict:
    """Slope (MB/min) of the least-squares line through the samples after ``warmup`` minutes."""
    window = [(t, mb) for t, mb in samples if t >= warmup]
    if len(window) < 3:
        return {"verdict": "unknown", "reason": "too few samples after the warm-up"}
    slope, intercept = statistics.linear_regression([t for t, _ in window], [mb for _, mb in window])
    return {"start_mb": samples[0][1], "after_warmup_mb": window[0][1], "end_mb": samples[-1][1],
            "max_mb": max(mb for _, mb in samples), "slope_mb_per_min": round(slope, 2),
            "window_min": [window[0][0], window[-1][0]], "max_growth_mb_per_min": max_growth,
            "verdict": "flat" if slope <= max_growth else "growing"}


def start_server(llm: str | None, log_path: Path) -> tuple[subprocess.Popen, str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scratch = Path(tempfile.mkdtemp(prefix="vraagbaak-soak-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VRAAGBAAK_FEEDBACK_DB": str(scratch / "feedback.sqlite3"),
           "VRAAGBAAK_FEEDBACK_PER_MINUTE": "0", "VRAAGBAAK_LLM_BASE_URL": llm or ""}
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def summarise(results: Results, seconds: float) -> dict:
    ops = {}
    for op in OPERATIONS:
        values = sorted(results.latency.get(op, []))
        total = sum(n for (o, _), n in results.statuses.items() if o == op)
        ops[op] = {"requests": total, "ok": len(values), "per_s": round(total / seconds, 2),
                   **({"p50_ms": round(percentile(values, .5)), "p95_ms": round(percentile(values, .95)),
                       "max_ms": round(values[-1])} if values else {})}
    if results.first_text:
        first = sorted(results.first_text)
        ops["chat"]["first_text_p50_ms"] = round(percentile(first, .5))
        ops["chat"]["first_text_p95_ms"] = round(percentile(first, .95))
    errors = {f"{op} {status}": n for (op, status), n in sorted(results.statuses.items())
              if not (status.isdigit() and int(status) in (200, 201))}
    total = sum(results.statuses.values())
    return {"seconds": round(seconds, 1), "requests": total, "per_s": round(total / seconds, 2), "operations": ops,
            "errors": errors, "answers": {f"{m}/{r or '-'}": n for (m, r), n in results.fallbacks.most_common()},
            "stream_errors": results.stream_errors[:10]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soak.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (default: start `vraagbaak serve` on a free port)")
    parser.add_argument("--pid", type=int, help="the process id of --url's server, for its memory")
    parser.add_argument("--llm", help="LLM base URL for the server this script starts (e.g. http://127.0.0.1:8080/v1)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=None, help="minutes left out of the memory fit (default: 20%% of the run)")
    parser.add_argument("--max-growth", type=float, default=2.0, help="MB per minute of RSS growth allowed after the warm-up")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between memory samples")
    parser.add_argument("--mix", default="search=4,ask=3,chat=2,feedback=1", help="operation weights")
    parser.add_argument("--timeout", type=float, default=300.0, help="per request, seconds")
    parser.add_argument("--ready-timeout", type=float, default=1800.0,
                        help="seconds to wait for the server to be ready and warm (its first warm-up on a machine embeds "
                             "every sentence of the corpus)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--questions", type=Path, default=ROOT / "data" / "eval" / "dev.jsonl")
    parser.add_argument("--api-key", default=os.environ.get("VRAAGBAAK_SOAK_API_KEY"), help="bearer key, if required")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON to FILE")
    args = parser.parse_args(argv)
    mix = {k: float(v) for k, v in (part.split("=") for part in args.mix.split(","))}
    if not set(mix) <= set(OPERATIONS):
        parser.error(f"--mix: operations are {', '.join(OPERATIONS)}")
    warmup = args.minutes * 0.2 if args.warmup is None else args.warmup

    questions = load_questions(args.questions)
    proc, url, pid = None, args.url, args.pid
    log_path = Path(tempfile.gettempdir()) / f"vraagbaak-soak-{os.getpid()}.log"
    if url is None:
        proc, url = start_server(args.llm, log_path)
        pid = proc.pid
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    report: dict = {"url": url, "clients": args.clients, "minutes": args.minutes, "mix": mix, "llm": args.llm,
                    "cpu_count": os.cpu_count(), "load_before": os.getloadavg()}
    try:
        report["server"] = wait_ready(url, proc, args.ready_timeout)
        results, samples = Results(), []
        t0 = time.monotonic()
        until = t0 + args.minutes * 60
        clients = [Client(i, url, questions, mix, until, results, args.timeout, headers, args.seed)
                   for i in range(args.clients)]
        if pid:
            threading.Thread(target=sample_memory, args=(pid, until, args.sample, samples, t0), daemon=True).start()
        for client in clients:
            client.start()
        next_line = t0 + 60
        while any(c.is_alive() for c in clients):
            time.sleep(1)
            if time.monotonic() >= next_line:
                next_line += 60
                done = sum(results.statuses.values())
                print(f"{(time.monotonic() - t0) / 60:4.1f} min  {done} requests  {results.fatal()} failed  "
                      f"RSS {samples[-1][1] if samples else '?'} MB  load {os.getloadavg()[0]:.1f}", flush=True)
        report.update(summarise(results, time.monotonic() - t0))
        report["load_after"] = os.getloadavg()
        report["memory"] = memory_verdict(samples, warmup, args.max_growth) if samples else {"verdict": "not measured"}
        report["memory"]["samples"] = samples
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    failed = results.fatal()
    memory = report["memory"]
    print(json.dumps({k: v for k, v in report.items() if k != "memory"}, indent=1, ensure_ascii=False))
    print("memory:", json.dumps({k: v for k, v in memory.items() if k != "samples"}))
    by_minute = {int(t): mb for t, mb in reversed(samples)}  # the first sample of each minute
    print("RSS MB by minute:", " ".join(f"{m}:{by_minute[m]:.0f}" for m in sorted(by_minute)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    if proc is not None and failed:
        print(f"server log: {log_path}")
    verdict = []
    if failed:
        verdict.append(f"{failed} failed requests (5xx, transport or stream errors)")
    if memory.get("verdict") == "growing":
        verdict.append(f"memory grows {memory['slope_mb_per_min']} MB/min after the warm-up (> {args.max_growth})")
    print("FAIL: " + "; ".join(verdict) if verdict else "PASS: no failed request, memory flat")
    return 1 if verdict else 0


if __name__ == "__main__":
    sys.exit(main())
