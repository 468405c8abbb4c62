"""`vraagbaak serve` as a person runs it: a subprocess that loads the model and the session's index
itself, answers /healthz at once and /readyz when loaded, logs one JSON line per request with its
request id, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from rag.config import PROJECT_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_end_to_end(service, settings, tmp_path):
    port = _free_port()
    env = {**os.environ, "VRAAGBAAK_INDEX_DIR": str(settings.index_dir), "VRAAGBAAK_CORPUS_DIR": str(settings.corpus_dir),
           "VRAAGBAAK_LLM_BASE_URL": "", "PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port)], cwd=PROJECT_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 180
            seen_not_ready = False
            while True:
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "not ready in 180 s:\n" + log_path.read_text()
                try:
                    ready = client.get("/readyz")
                except httpx.TransportError:
                    time.sleep(0.2)
                    continue
                if ready.status_code == 200:
                    break
                assert ready.status_code == 503 and ready.json()["error"]["code"] == "not_ready"
                assert client.get("/healthz").status_code == 200  # up while loading
                seen_not_ready = True
                time.sleep(0.2)
            assert seen_not_ready  # loading the model takes seconds: the server answered before it was done
            response = client.post("/v1/search", json={"query": "Waarom is de WOM ingetrokken?", "top_k": 2},
                                   headers={"X-Request-ID": "serve-test-1"})
            assert response.status_code == 200 and len(response.json()["results"]) == 2
            assert client.get("/docs").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    output = log_path.read_text()
    assert code in (0, -signal.SIGTERM), output  # uvicorn re-raises the signal once it has shut down cleanly
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("request_id") == "serve-test-1"]
    assert access, output
    line = access[-1]
    assert line["method"] == "POST" and line["path"] == "/v1/search" and line["status"] == 200 and line["ms"] > 0
    assert any("ready:" in line["msg"] for line in lines)
    # VRAAGBAAK_LOG_LEVEL is info (the default): no library's debug lines (bm25s sets DEBUG on import).
    assert not [line for line in lines if line.get("level") == "debug"], output


def test_serve_refuses_bad_options(run_cli):
    bad_port = run_cli("serve", "--port", "99999")
    assert bad_port.returncode == 2 and "port" in bad_port.stderr
    keys = run_cli("serve", env={"VRAAGBAAK_REQUIRE_API_KEY": "true", "VRAAGBAAK_API_KEYS": ""})
    assert keys.returncode == 2 and "VRAAGBAAK_API_KEYS" in keys.stderr and "Traceback" not in keys.stderr
    for size in ("-1", "0"):  # not a server that answers every POST with 413
        body = run_cli("serve", env={"VRAAGBAAK_MAX_BODY_BYTES": size})
        assert body.returncode == 2 and "Traceback" not in body.stderr, body.stderr
        assert f"VRAAGBAAK_MAX_BODY_BYTES='{size}' is not valid: Input should be greater than 0" in body.stderr
        assert len(body.stderr.strip().splitlines()) == 1, body.stderr
    malformed = run_cli("serve", env={"VRAAGBAAK_REQUIRE_API_KEY": "misschien"})
    assert malformed.returncode == 2 and "VRAAGBAAK_REQUIRE_API_KEY" in malformed.stderr


def test_serve_on_a_port_in_use_or_a_bad_host_is_one_clear_line_before_anything_starts(run_cli, tmp_path):
    # The socket is bound before the app starts: no "serving on" line, no uvicorn exit status 3, and no
    # index built or published into an empty index folder by a server that never served.
    index = tmp_path / "index"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_cli("serve", "--port", str(port), env={"VRAAGBAAK_INDEX_DIR": str(index)})
        # VRAAGBAAK_PORT chooses the port as --port does: the README's "VRAAGBAAK_PORT=8765 make run"
        # (make run's recipe is a plain `vraagbaak serve`, which reads it).
        by_setting = run_cli("serve", env={"VRAAGBAAK_INDEX_DIR": str(index), "VRAAGBAAK_PORT": str(port)})
    assert busy.returncode == 2, busy.stderr
    assert busy.stderr == f"vraagbaak: error: port {port} on 127.0.0.1 is already in use; choose another with --port\n"
    assert (by_setting.returncode, by_setting.stderr) == (2, busy.stderr)
    assert "\nrun: index\n\t$(BIN)/vraagbaak serve\n" in (PROJECT_ROOT / "Makefile").read_text()
    assert not index.exists()
    bad_host = run_cli("serve", "--host", "999.1.1.1", env={"VRAAGBAAK_INDEX_DIR": str(index)})
    assert bad_host.returncode == 2 and len(bad_host.stderr.splitlines()) == 1, bad_host.stderr
    assert bad_host.stderr.startswith("vraagbaak: error: cannot listen on host '999.1.1.1'") and "--host" in bad_host.stderr
    assert not index.exists()
