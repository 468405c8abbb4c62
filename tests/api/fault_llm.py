"""A misbehaving OpenAI-compatible LLM server, scripted per request: a test fixture.

    python tests/api/fault_llm.py PORT

A real HTTP server in its own process (``http.server``, HTTP/1.1, SSE in chunked transfer encoding as
llama.cpp's server sends it) that answers ``POST /v1/chat/completions`` the way a test tells it to. A
fake only in that it forces faults a real LLM server cannot be made to show on demand. The test (or the
``fault_llm`` fixture in tests/api/conftest.py) scripts it over HTTP:

    POST /_script   {"steps": [STEP, ...]}   the next requests take these steps in order (a queue)
    POST /_default  STEP                     what a request does when the queue is empty
    GET  /_requests                          every chat request received so far (the JSON bodies)

A STEP is a JSON object; every key is optional:

    say      the reply text (default "{source1}"). Placeholders, filled from the prompt it was sent:
               {source1}       the first sentence of source [1] with at least 8 words, then " [1]."
               {sentence:TEXT} the source sentence holding TEXT, then its marker: "… 68,3%. [2]"
               {cite:TEXT}     the marker "[n]" of the first source holding TEXT
               {lines}         a plain-language request's numbered sentences, copied ("1. …\\n2. …")
    replace  [[OLD, NEW], ...] applied to the filled-in text (to change a number in a true sentence)
    end      how the reply ends:
               "done"   finish_reason "stop" and data: [DONE] (a whole reply; the default)
               "finish" finish_reason "stop" without [DONE] (as some servers end; still a whole reply)
               "none"   the stream (or JSON body) just stops and the connection closes cleanly: no
                        finish_reason, no [DONE], a complete chunked body
               "hang"   nothing more is sent; prints "STREAMING" and waits (``hang`` seconds) to be killed
               "reset"  the connection is reset (TCP RST) right after the text
    status   an HTTP status other than 200: the reply is then ``{"error": ...}`` (say is its message)
    delay    seconds between stream chunks (a trickle); ``hang`` seconds to hang (default 3600)
    stream   false: answer in one JSON body even when a stream was asked for (as some servers do)

A non-streamed request gets the same text as one JSON body; with end "none" the body stops in the middle
of its JSON, with "hang" it never comes, with "reset" the connection is reset after the headers.
Used by tests/api/test_faults.py and tests/api/test_numbers_api.py.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SOURCE = re.compile(r'\[(\d+)\][^\n]*\n"""\n(.*?)\n"""', re.DOTALL)
LINE = re.compile(r"^\s*(\d{1,2})\.\s+(.*\S)\s*$", re.MULTILINE)
DEFAULT = {"say": "{source1}", "end": "done"}


class Script:
    """The steps queued by the test and the default; thread-safe (requests run in threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: list[dict] = []
        self.default: dict = dict(DEFAULT)
        self.requests: list[dict] = []

    def next(self, request: dict) -> dict:
        with self.lock:
            self.requests.append(request)
            return self.steps.pop(0) if self.steps else dict(self.default)


SCRIPT = Script()


def _sources(prompt: str) -> list[tuple[int, str]]:
    return [(int(n), text) for n, text in SOURCE.findall(prompt)]


def _sentences(text: str) -> list[str]:
    return [s.strip(" …") for s in re.split(r"(?<=[.!?])\s+|…|\n", text) if s.strip(" …")]


def fill(text: str, prompt: str) -> str:
    """The placeholders of ``text`` (module docstring) filled from ``prompt``."""
    sources = _sources(prompt)

    def source1(_m=None) -> str:
        body = dict(sources).get(1, "De bronnen zeggen hier iets over.")
        sentences = _sentences(body)
        sentence = next((s for s in sentences if len(s.split()) >= 8), sentences[0] if sentences else body)
        return sentence.rstrip(".!? ") + " [1]."

    def holding(needle: str) -> tuple[int, str]:
        for n, body in sources:
            for sentence in _sentences(body):
                if needle in sentence:
                    return n, sentence
        raise LookupError(f"no source sentence holds {needle!r}")

    def sentence(m: re.Match) -> str:
        n, s = holding(m.group(1))
        return s.rstrip(".!? ") + f" [{n}]."

    def cite(m: re.Match) -> str:
        return f"[{holding(m.group(1))[0]}]"

    text = text.replace("{source1}", source1())
    text = text.replace("{lines}", "\n".join(f"{n}. {s}" for n, s in LINE.findall(prompt)))
    text = re.sub(r"\{sentence:([^}]*)\}", sentence, text)
    return re.sub(r"\{cite:([^}]*)\}", cite, text)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    # -- control ---------------------------------------------------------------------------------

    def _json(self, status: int, data) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/_requests"):
            with SCRIPT.lock:
                return self._json(200, list(SCRIPT.requests))
        self._json(200, {"object": "list", "data": [{"id": "fault", "object": "model"}]})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path.endswith("/_script"):
            with SCRIPT.lock:
                SCRIPT.steps = list(body.get("steps", []))
            return self._json(200, {"queued": len(body.get("steps", []))})
        if self.path.endswith("/_default"):
            with SCRIPT.lock:
                SCRIPT.default = {**DEFAULT, **body}
            return self._json(200, {"default": SCRIPT.default})
        step = SCRIPT.next(body)
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        try:
            text = fill(step.get("say", DEFAULT["say"]), prompt)
        except LookupError as exc:
            return self._json(500, {"error": {"message": f"fault_llm: {exc}"}})
        for old, new in step.get("replace", []):
            text = text.replace(old, new)
        if step.get("status", 200) != 200:
            return self._json(step["status"], {"error": {"message": text}})
        if body.get("stream") and step.get("stream", True):
            self._stream(text, step)
        else:
            self._whole(text, step)

    # -- replies ---------------------------------------------------------------------------------

    def _end(self, step: dict) -> None:
        end = step.get("end", "done")
        if end == "hang":
            print("STREAMING", flush=True)
            time.sleep(float(step.get("hang", 3600)))
        elif end == "reset":
            self.wfile.flush()
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True

    def _whole(self, text: str, step: dict) -> None:
        reply = json.dumps({"id": "chatcmpl-fault", "object": "chat.completion", "created": int(time.time()),
                            "model": "fault", "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                                           "finish_reason": "stop"}], "usage": {}},
                           ensure_ascii=False).encode()
        end = step.get("end", "done")
        if end == "none":
            reply = reply[:reply.index(b'"finish_reason"') - 4]  # stops inside the content string
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if end in ("done", "finish", "none"):
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            self.wfile.flush()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._end(step)

    def _send_chunk(self, payload: bytes) -> None:
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _event(self, delta: dict, finish: str | None = None) -> None:
        data = {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": "fault", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        self._send_chunk(f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode())

    def _stream(self, text: str, step: dict) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._event({"role": "assistant", "content": ""})
        for word in re.findall(r"\S+\s*|\s+", text):
            self._event({"content": word})
            if step.get("delay"):
                time.sleep(float(step["delay"]))
        end = step.get("end", "done")
        if end in ("done", "finish"):
            self._event({}, "stop")
        if end == "done":
            self._send_chunk(b"data: [DONE]\n\n")
        if end in ("done", "finish", "none"):
            self.wfile.write(b"0\r\n\r\n")  # the chunked body ends properly: a clean close
            self.wfile.flush()
            self.close_connection = True
            return
        self._end(step)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    print("READY", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
