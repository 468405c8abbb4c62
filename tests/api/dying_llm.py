"""A tiny OpenAI-compatible LLM server that starts a streamed reply and then hangs, to be killed.

    python tests/api/dying_llm.py PORT [--silent]

It answers ``POST /v1/chat/completions`` (stream=true) the way llama.cpp's server does (SSE in chunked
transfer encoding): the first sentence of source [1] of the prompt, quoted word by word with a
[1] marker, so that Vraagbaak's verifier accepts it and streams it on, then the first word of a
second sentence (which completes the first), and then nothing: it waits to be killed. A test kills
the process (SIGKILL) while the reply is open, so the connection ends in the middle of a chunked
body, as when a real LLM server crashes. ``--silent`` sends only the role chunk before hanging (the
LLM dies before any text). Each reply writes "STREAMING" to stdout when it starts hanging.

Used by tests/api/test_faults.py; a fake only in that it forces the fault.
"""

from __future__ import annotations

import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SOURCE_1 = re.compile(r'\[1\][^\n]*\n"""\n(.*?)\n"""', re.DOTALL)


def first_sentence(prompt: str) -> str:
    """The first sentence of source [1] with at least 8 words, with a [1] marker before its stop."""
    match = SOURCE_1.search(prompt)
    text = match.group(1) if match else "De bronnen zeggen hier iets over."
    sentences = [s.strip(" …") for s in re.split(r"(?<=[.!?])\s+|…", text) if s.strip(" …")]
    sentence = next((s for s in sentences if len(s.split()) >= 8), sentences[0] if sentences else text)
    return sentence.rstrip(".!? ") + " [1]."


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    silent = False

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send_chunk(self, data: dict) -> None:
        payload = f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "dying", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(delta: dict) -> dict:
            return {"id": "chatcmpl-dying", "object": "chat.completion.chunk", "created": int(time.time()),
                    "model": "dying", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}

        self._send_chunk(chunk({"role": "assistant", "content": ""}))
        if not self.silent:
            for word in first_sentence(prompt).split(" "):
                self._send_chunk(chunk({"content": word + " "}))
            self._send_chunk(chunk({"content": "Daarnaast"}))  # a second sentence begins: the first is complete
        print("STREAMING", flush=True)
        time.sleep(3600)  # hang with the reply open until killed


def main() -> None:
    port = int(sys.argv[1])
    Handler.silent = "--silent" in sys.argv[2:]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("READY", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
