"""Fixtures of the API tests: the misbehaving LLM server (tests/api/fault_llm.py) in its own process.

    fault_llm            one server for the session, scripted per test: ``fault_llm.script(step, ...)``
                         queues steps, ``fault_llm.default(step)`` sets what unscripted requests get
                         (reset to an honest quote before each use of the fixture)
    start_fault_llm      ``start_fault_llm()`` a fresh server of the test's own, to kill (SIGKILL) mid-reply;
                         every one started is killed at the end of the test
    api_with_llm         ``api_with_llm(llm)``: a real API server (tests/conftest.py) whose LLM is ``llm``
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

FAULT_LLM = Path(__file__).with_name("fault_llm.py")


class FaultLLM:
    """tests/api/fault_llm.py in a subprocess on a free port. ``url`` is its OpenAI base URL (".../v1");
    ``streaming`` is set when a reply starts hanging; ``kill()`` is SIGKILL."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen([sys.executable, str(FAULT_LLM), str(self.port)], stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "READY"
        self.streaming = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        for line in self.proc.stdout:
            if line.strip() == "STREAMING":
                self.streaming.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _post(self, path: str, data) -> dict:
        request = urllib.request.Request(self.url + path, data=json.dumps(data).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def script(self, *steps: dict) -> None:
        """The next requests take these steps, in order (replacing any still queued)."""
        self._post("/_script", {"steps": list(steps)})

    def default(self, step: dict) -> None:
        self._post("/_default", step)

    def requests(self) -> list[dict]:
        with urllib.request.urlopen(self.url + "/_requests", timeout=10) as response:
            return json.loads(response.read())

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def _shared_fault_llm():
    llm = FaultLLM()
    yield llm
    llm.kill()


@pytest.fixture
def fault_llm(_shared_fault_llm):
    _shared_fault_llm.script()
    _shared_fault_llm.default({"say": "{source1}", "end": "done"})
    return _shared_fault_llm


@pytest.fixture
def start_fault_llm():
    started: list[FaultLLM] = []

    def start() -> FaultLLM:
        started.append(FaultLLM())
        return started[-1]

    yield start
    for llm in started:
        llm.kill()


@pytest.fixture(scope="session")
def api_with_llm(api_server):
    """``api_with_llm(llm)``: the base URL of an API server whose answer engine asks ``llm`` (no retries:
    each request takes exactly one scripted step)."""

    def start(llm: FaultLLM, **overrides) -> str:
        return api_server(llm_base_url=llm.url, llm_retries=0, llm_timeout=120.0, **overrides)

    return start
