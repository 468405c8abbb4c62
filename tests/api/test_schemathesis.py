"""Schemathesis against the real server: every operation of /openapi.json, every check, a fixed seed.

The published document is the contract: requests it calls valid must be accepted, invalid ones
refused with a 4xx, every response must match its declared status, content type, headers and schema,
and nothing may be a 5xx. Schemathesis (pinned in pyproject.toml, ``test`` extra) runs as its own
command (``schemathesis run``) against a real uvicorn server in this process, with the session's real
model and index; it prints the number of cases. Budget: ``MAX_EXAMPLES`` per operation and phase
(examples, coverage, fuzzing, stateful): 850 cases; the whole test took 97 s at load average ~5
(model and index loading included), 7.5 minutes at load average ~20 on a machine shared with other jobs.

Reproduce by hand: ``vraagbaak serve`` with ``VRAAGBAAK_API_KEYS=fuzz-key``, then the command in
:func:`schemathesis_command` with the same config file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

SEED = 20261130
MAX_EXAMPLES = 15
KEY = "fuzz-key"

# Settings that differ from Schemathesis' defaults, each with its reason. No check is switched off and
# every expected status is the default; tests/api/schemathesis_hooks.py accepts the one refusal of a
# schema-valid request that JSON Schema cannot state (an empty date range, see there).
CONFIG = """
# Budget: a forced reindex rebuilds the whole index (tens of seconds on 2 shared cores) and
# {"wait": true} waits for it, so this operation gets fewer cases than the others.
[[operations]]
include-name = "POST /v1/admin/reindex"
[operations.generation]
max-examples = 2
"""
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


def schemathesis_command(url: str, config: Path, report: Path) -> list[str]:
    return [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config),
            "run", f"{url}/openapi.json", "--checks", "all", "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES),
            "--header", f"Authorization: Bearer {KEY}", "--workers", "1", "--request-timeout", "600",
            # max_response_time catches hangs only: latency is measured by scripts/bench_http.py and
            # scripts/soak.py, and on 2 cores shared with other work an answer can take a minute.
            "--max-response-time", "300",
            "--suppress-health-check", "too_slow", "--report", "ndjson", "--report-ndjson-path", str(report)]


@pytest.fixture(scope="module")
def fuzz_server(api_server, tmp_path_factory):
    """A server with an admin key (so the admin operations are fuzzed too), feedback in a temporary
    database without the per-address limit (else most feedback cases would only meet 429), and its
    own index folder, so the reindexes the fuzzer asks for do not touch the session's index."""
    root = tmp_path_factory.mktemp("fuzz")
    return api_server(api_keys=(KEY,), feedback_db=root / "feedback.sqlite3", feedback_per_minute=0,
                      index_dir=root / "index")


def test_the_openapi_document_holds_under_schemathesis(fuzz_server, tmp_path):
    config, report = tmp_path / "schemathesis.toml", tmp_path / "events.ndjson"
    config.write_text(CONFIG)
    started = time.monotonic()
    run = subprocess.run(schemathesis_command(fuzz_server, config, report), capture_output=True, text=True,
                         timeout=900, cwd=tmp_path,  # its .schemathesis/ cache goes there, not into the work tree
                         env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false",
                              "SCHEMATHESIS_HOOKS": HOOKS.stem, "PYTHONPATH": str(HOOKS.parent)})
    seconds = time.monotonic() - started
    summary = run.stdout[-6000:]
    print(summary, f"\n{seconds:.0f} s", file=sys.stderr)
    assert run.returncode == 0, summary + run.stderr[-3000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", summary)
    assert counts and counts.group(1) == counts.group(2) and int(counts.group(1)) > 14 * 10, summary
