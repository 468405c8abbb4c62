"""Faults under a real server: the LLM dies in the middle of a streamed answer, its reply ends without
its end marker, and the index is rebuilt while questions are being answered. (A stream re-chunked into
7-byte network writes is a browser test: tests/api/test_web.py.)

The LLM here is tests/api/fault_llm.py, a real HTTP server in its own process, scripted per request
(tests/api/conftest.py): it streams a grounded sentence and then hangs until the test kills it with
SIGKILL, or ends its reply cleanly without a finish_reason or [DONE].
"""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

QUESTION = "Waarom is de WOM ingetrokken?"
DYING = {"say": "{source1} Daarnaast", "end": "hang"}  # one whole sentence, a second begun, then nothing
SILENT = {"say": "", "end": "hang"}  # only the role chunk, then nothing


@pytest.fixture
def dying_llm(start_fault_llm):
    """``dying_llm(silent=False)``: a fault server of the test's own that streams and then hangs, to be killed."""

    def start(silent: bool = False):
        llm = start_fault_llm()
        llm.default(SILENT if silent else DYING)
        return llm

    return start


def _sse_events(response: httpx.Response, on_event=None) -> list[tuple[str, dict | str]]:
    """(event, data) pairs of a /v1/ask or chat completion stream, calling ``on_event`` for each."""
    events, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            raw = line[5:].strip()
            data = raw if raw == "[DONE]" else json.loads(raw)
            events.append((name, data))
            if on_event:
                on_event(name, data)
            name = "message"
    return events


def _assert_openai_error(data: dict, code: str) -> dict:
    assert set(data) == {"error"}, data
    error = data["error"]
    assert {"message", "type", "code", "param"} <= set(error), error
    assert error["code"] == code and error["type"] == "server_error" and error["message"], error
    assert error["request_id"]
    return error


# ---------------------------------------------------------------- the LLM dies in the middle of a stream


def test_llm_killed_mid_stream_ends_the_ask_stream_with_an_error(api_with_llm, dying_llm):
    llm = dying_llm()
    url = api_with_llm(llm)

    def kill_after_first_delta(name, data):
        if name == "delta" and llm.proc.poll() is None:
            assert llm.streaming.wait(30)
            llm.kill()

    with httpx.Client(base_url=url, timeout=180) as client:
        with client.stream("POST", "/v1/ask", json={"question": QUESTION, "mode": "generative", "stream": True}) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            events = _sse_events(r, kill_after_first_delta)
    names = [name for name, _ in events]
    assert names[0] == "sources" and "delta" in names, names
    assert llm.proc.returncode == -signal.SIGKILL  # killed while the answer was being streamed
    assert "done" not in names, "a half answer must not end with done"
    assert names[-1] == "error", names
    error = _assert_openai_error(events[-1][1], "llm_interrupted")
    assert "incomplete" in error["message"] and "unavailable" in error["message"]


def test_llm_killed_mid_stream_ends_the_chat_completion_with_an_error(api_with_llm, dying_llm):
    llm = dying_llm()
    url = api_with_llm(llm)
    content: list[str] = []

    def kill_after_first_text(name, data):
        if isinstance(data, dict) and data.get("choices") and data["choices"][0]["delta"].get("content"):
            content.append(data["choices"][0]["delta"]["content"])
            if llm.proc.poll() is None:
                assert llm.streaming.wait(30)
                llm.kill()

    body = {"model": "vraagbaak-generative", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with httpx.Client(base_url=url, timeout=180) as client:
        with client.stream("POST", "/v1/chat/completions", json=body) as r:
            assert r.status_code == 200
            events = _sse_events(r, kill_after_first_text)
    assert content and llm.proc.returncode == -signal.SIGKILL
    data = [d for _, d in events]
    assert "[DONE]" not in data, "a half answer must not end with [DONE]"
    finishes = [c["choices"][0]["finish_reason"] for c in data if isinstance(c, dict) and c.get("choices")]
    assert set(finishes) == {None}, "no chunk may say finish_reason 'stop' on a half answer"
    _assert_openai_error(data[-1], "llm_interrupted")


def test_the_openai_client_raises_on_a_cut_off_stream(api_with_llm, dying_llm):
    from openai import APIError, OpenAI

    llm = dying_llm()
    client = OpenAI(base_url=api_with_llm(llm) + "/v1", api_key="unused", max_retries=0, timeout=180)
    stream = client.chat.completions.create(model="vraagbaak-generative", stream=True,
                                            messages=[{"role": "user", "content": QUESTION}])
    shown = []
    # The message is for the citizen, in the question's language; the code is for programs.
    with pytest.raises(APIError, match="halverwege afgebroken") as raised:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                shown.append(chunk.choices[0].delta.content)
                if llm.proc.poll() is None:
                    assert llm.streaming.wait(30)
                    llm.kill()
            assert not (chunk.choices and chunk.choices[0].finish_reason == "stop")
    assert raised.value.code == "llm_interrupted"
    assert shown


def test_llm_killed_before_any_text_gives_a_fallback_that_says_so(api_with_llm, dying_llm):
    """Nothing of the LLM's was shown yet: the extractive answer is streamed instead, as a whole
    answer, and ``done`` says why (fallback_reason, llm.error)."""
    llm = dying_llm(silent=True)
    url = api_with_llm(llm)

    def kill_once_hanging(name, data):
        if name == "sources":
            assert llm.streaming.wait(60)
            llm.kill()

    with httpx.Client(base_url=url, timeout=180) as client:
        with client.stream("POST", "/v1/ask", json={"question": QUESTION, "mode": "generative", "stream": True}) as r:
            events = _sse_events(r, kill_once_hanging)
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-1] == "done", names
    done = events[-1][1]
    assert done["mode_used"] == "extractive" and done["fallback_reason"] == "llm_unavailable", done
    assert "unavailable" in done["llm"]["error"]
    assert done["answer"] == "".join(d["text"] for n, d in events if n == "delta")


# ---------------------------------------------------------------- the reply ends without the LLM's end marker

CUT = {"say": "{source1} Daarnaast", "end": "none"}  # a whole sentence, a second begun, then a clean close


def _ask_stream(url: str, path: str, body: dict) -> list:
    with httpx.Client(base_url=url, timeout=180) as client:
        with client.stream("POST", path, json=body) as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            return _sse_events(r)


def test_stream_ending_without_end_marker_ends_the_ask_stream_with_an_error(api_with_llm, fault_llm):
    fault_llm.script(CUT)
    events = _ask_stream(api_with_llm(fault_llm), "/v1/ask", {"question": QUESTION, "mode": "generative", "stream": True})
    names = [name for name, _ in events]
    assert names[0] == "sources" and "delta" in names, names
    assert "done" not in names and names[-1] == "error", "a half answer must not end with done"
    error = _assert_openai_error(events[-1][1], "llm_interrupted")
    assert "interrupted" in error["message"] and "end marker" in error["message"]
    assert "Daarnaast" not in "".join(d["text"] for n, d in events if n == "delta")


def test_stream_ending_without_end_marker_ends_the_chat_completion_with_an_error(api_with_llm, fault_llm):
    fault_llm.script(CUT)
    events = _ask_stream(api_with_llm(fault_llm), "/v1/chat/completions", {
        "model": "vraagbaak-generative", "stream": True, "messages": [{"role": "user", "content": QUESTION}]})
    data = [d for _, d in events]
    content = [c["choices"][0]["delta"].get("content") for c in data if isinstance(c, dict) and c.get("choices")]
    assert any(content), "the verified first sentence was streamed"
    assert "[DONE]" not in data, "a half answer must not end with [DONE]"
    finishes = [c["choices"][0]["finish_reason"] for c in data if isinstance(c, dict) and c.get("choices")]
    assert set(finishes) == {None}, "no chunk may say finish_reason 'stop' on a half answer"
    _assert_openai_error(data[-1], "llm_interrupted")


def test_a_reply_cut_off_before_any_text_gives_the_extractive_answer_and_says_why(api_with_llm, fault_llm):
    """Nothing of the LLM's was shown: the extractive answer is whole, and ``done`` names the cause."""
    fault_llm.script({"say": "", "end": "none"})
    events = _ask_stream(api_with_llm(fault_llm), "/v1/ask", {"question": QUESTION, "mode": "generative", "stream": True})
    assert [n for n, _ in events][-1] == "done"
    done = events[-1][1]
    assert done["mode_used"] == "extractive" and done["fallback_reason"] == "llm_interrupted", done
    assert done["llm"]["error"].startswith("interrupted")


@pytest.mark.parametrize("endpoint", ["/v1/ask", "/v1/chat/completions"])
def test_a_json_reply_cut_off_is_never_shown_and_the_answer_says_why(api_with_llm, fault_llm, endpoint):
    """Not streamed: the LLM's JSON body stops in the middle. None of it is shown; the answer is the
    whole extractive one, with fallback_reason llm_interrupted (the chat reply also says so in words)."""
    fault_llm.script(CUT)
    body = ({"question": QUESTION, "mode": "generative"} if endpoint == "/v1/ask" else
            {"model": "vraagbaak-generative", "messages": [{"role": "user", "content": QUESTION}]})
    with httpx.Client(base_url=api_with_llm(fault_llm), timeout=180) as client:
        r = client.post(endpoint, json=body)
    assert r.status_code == 200, r.text
    data = r.json()
    info = data if endpoint == "/v1/ask" else data["vraagbaak"]
    assert info["mode_used"] == "extractive" and info["fallback_reason"] == "llm_interrupted", info
    assert info["llm"]["error"].startswith("interrupted")
    text = data["answer"] if endpoint == "/v1/ask" else data["choices"][0]["message"]["content"]
    assert text and "Daarnaast" not in text
    assert not fault_llm.requests()[-1].get("stream")


def test_a_stream_that_ends_with_finish_reason_but_no_done_line_is_whole(api_with_llm, fault_llm):
    """Some servers end with finish_reason "stop" and no [DONE]: that is their end marker."""
    fault_llm.script({"say": "{source1}", "end": "finish"})
    events = _ask_stream(api_with_llm(fault_llm), "/v1/ask", {"question": QUESTION, "mode": "generative", "stream": True})
    assert [n for n, _ in events][-1] == "done"
    done = events[-1][1]
    assert done["mode_used"] == "generative" and not done["llm"]["error"], done


# ---------------------------------------------------------------- reindex under load


def test_reindex_while_20_questions_run(api_server, tmp_path):
    """A full rebuild (into its own, empty index folder, so everything is rebuilt) is swapped in while
    20 clients keep asking: each asks until the rebuild is over, then once more on the new index.
    No request fails, and every passage id cited, before or after the swap, resolves afterwards."""
    auth = {"Authorization": "Bearer beheer"}
    url = api_server(api_keys=("beheer",), index_dir=tmp_path / "index")
    questions = [json.loads(line)["question"] for line in
                 (Path(__file__).resolve().parents[2] / "data" / "eval" / "dev.jsonl").read_text().splitlines()[:20]]
    rebuilt = threading.Event()

    def client(question: str) -> list[tuple[float, float, httpx.Response]]:
        asked = []
        with httpx.Client(base_url=url, timeout=600) as http:
            for _ in range(100):  # bounded; the rebuild ends long before
                last = rebuilt.is_set()
                started = time.time()
                response = http.post("/v1/ask", json={"question": question, "mode": "extractive"})
                asked.append((started, time.time(), response))
                if last:
                    break
        return asked

    with httpx.Client(base_url=url, timeout=60, headers=auth) as admin:
        before = admin.get("/readyz").json()["index"]
        assert admin.post("/v1/admin/reindex", json={"force": True}).status_code == 202
        with ThreadPoolExecutor(max_workers=20) as pool:
            futures = [pool.submit(client, q) for q in questions]
            deadline = time.monotonic() + 600
            while (state := admin.get("/v1/admin/reindex").json())["state"] == "running":
                assert time.monotonic() < deadline, "the rebuild did not finish in 10 minutes"
                time.sleep(0.2)
            rebuilt.set()
            asked = [item for f in futures for item in f.result()]
        assert state["state"] == "succeeded" and state["status"] == "built" and state["swapped"] is True, state
        assert admin.get("/readyz").json()["index"] != before
        failed = [(r.status_code, r.text[:200]) for _, _, r in asked if r.status_code != 200]
        assert not failed, failed
        during = [r for start, end, r in asked if start < state["finished_at"] and end > state["started_at"]]
        after = [r for start, _, r in asked if start > state["finished_at"]]
        assert len(during) >= 20 and len(after) >= 20, (len(during), len(after))
        cited = {c["id"] for _, _, r in asked for c in r.json()["citations"]}
        assert len(cited) >= 20
        unresolved = [pid for pid in sorted(cited) if admin.get("/v1/passages/" + quote(pid, safe="")).status_code != 200]
        assert not unresolved, unresolved


def _partial_post(url: str):
    """A raw connection that declares a 100-byte body, sends 1 byte of it, and then nothing."""
    import socket

    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=60)
    sock.sendall(b"POST /v1/search HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    return sock


def _read_until_closed(sock) -> tuple[str, dict]:
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    head, body = raw.split(b"\r\n\r\n", 1)
    return head.decode().lower(), json.loads(body)


def test_a_body_that_never_completes_gets_408_and_the_connection_closes(api_server):
    url = api_server(body_timeout=1.0)
    started = time.monotonic()
    with _partial_post(url) as sock:
        head, body = _read_until_closed(sock)  # the server closes the connection after its answer
    assert 1.0 <= time.monotonic() - started < 10
    assert head.startswith("http/1.1 408") and "connection: close" in head and "application/json" in head
    assert body["error"]["code"] == "body_timeout" and "VRAAGBAAK_BODY_TIMEOUT" in body["error"]["message"]
    with httpx.Client(base_url=url, timeout=30) as client:  # a whole body is answered as before
        assert client.post("/v1/search", json={"query": QUESTION, "top_k": 1}).status_code == 200


def test_a_shutdown_during_a_body_read_closes_quietly(service, settings, caplog):
    # Shutdown cancels what is left after uvicorn's graceful timeout (5 s here): a request still waiting
    # for its body then gets a JSON 503 and an info line, not a plain-text 500 and an error traceback.
    import logging

    from live_server import ApiServer

    from api.app import create_app

    server = ApiServer(create_app(settings.replace(llm_base_url=""), service=service)).start()
    with caplog.at_level(logging.INFO), _partial_post(server.url) as sock:
        time.sleep(0.5)  # the request is waiting for the rest of its body
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        head, body = _read_until_closed(sock)
        stopper.join(30)
    assert head.startswith("http/1.1 503") and body["error"]["code"] == "shutting_down", (head, body)
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records if r.exc_info]
    assert any("shutdown while the request body was arriving" in r.getMessage() for r in caplog.records)
