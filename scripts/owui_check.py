"""Open WebUI 0.12.4 against Vraagbaak in a real browser (``make owui-check``; opt-in, not in CI).

Starts ``vraagbaak serve`` (the index in ``VRAAGBAAK_INDEX_DIR``), a recording pass-through in front of
its ``/v1`` (every request Open WebUI sends, with its status), and Open WebUI from its own virtualenv
with its offline settings (``OFFLINE_MODE=true``, ``ENABLE_OLLAMA_API=false``, ``RAG_EMBEDDING_MODEL=``
empty, no login). Then Playwright drives Debian's Chromium as a citizen would: asks a question, and
checks that the answer has source chips, that the sources panel opens the cited passage, and that both
survive a reload; it waits for Open WebUI's background tasks (title, tags, follow-ups) and fails on any
4xx/5xx Vraagbaak gave. A screenshot goes to ``--screenshot``; ``--record DIR`` keeps the request
bodies (tests/api/data/openwebui/ came from there).

Open WebUI's virtualenv (``--venv``, default ``.owui-venv``) is made when missing: Python 3.11, a local
CPU build of torch from pip's find-links when there is one (PyPI's default is the CUDA build, ~7 GB),
then ``open-webui==0.12.4``. Exit status 0 when every check passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OWUI_VERSION = "0.12.4"
QUESTION = "Waarom is het overleg met minderhedenorganisaties gestopt?"
CHROMIUM = os.environ.get("VRAAGBAAK_CHROMIUM", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, seconds: float, proc: subprocess.Popen | None = None, log: str = "") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s; see {log}")


def ensure_owui(venv: Path) -> Path:
    exe = venv / "bin" / "open-webui"
    if exe.exists():
        return exe
    print(f"installing open-webui=={OWUI_VERSION} into {venv} (large; once)", flush=True)
    subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    links = os.environ.get("PIP_FIND_LINKS", "/opt/wheels").split()
    wheels = [w for d in links for w in glob.glob(os.path.join(d, "torch-*+cpu-cp311-*.whl"))]
    if wheels:  # keeps pip from pulling the CUDA build of torch that sentence-transformers would bring
        subprocess.run(pip + [sorted(wheels)[-1]], check=True)
    subprocess.run(pip + [f"open-webui=={OWUI_VERSION}"], check=True)
    return exe


# ---------------------------------------------------------------- the recording pass-through


def start_recorder(upstream: str, port: int, records: list):
    """A pass-through to ``upstream`` that appends {method, path, status, body, reply} per request."""
    import httpx
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    client = httpx.AsyncClient(base_url=upstream, timeout=300)

    async def forward(request: Request):
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        item = {"method": request.method, "path": request.url.path, "headers": headers,
                "body": json.loads(body) if body else None}
        upstream_request = client.build_request(request.method, request.url.path, content=body, headers=headers,
                                                params=request.query_params)
        reply = await client.send(upstream_request, stream=True)
        item["status"] = reply.status_code
        records.append(item)
        keep = {k: v for k, v in reply.headers.items() if k.lower() not in ("content-length", "transfer-encoding",
                                                                            "content-encoding", "connection")}

        async def body_iter():
            chunks = []
            try:
                async for chunk in reply.aiter_raw():
                    chunks.append(chunk)
                    yield chunk
            finally:
                await reply.aclose()
                item["reply"] = b"".join(chunks).decode("utf-8", "replace")

        if "text/event-stream" in reply.headers.get("content-type", ""):
            return StreamingResponse(body_iter(), status_code=reply.status_code, headers=keep)
        data = await reply.aread()
        item["reply"] = data.decode("utf-8", "replace")
        return Response(data, status_code=reply.status_code, headers=keep)

    app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    return server


def task_kind(item: dict) -> str:
    body = item.get("body") or {}
    messages = body.get("messages") or []
    text = messages[-1].get("content") if messages else ""
    text = text if isinstance(text, str) else json.dumps(text)
    if not text.lstrip().startswith("### Task:"):
        return "chat"
    m = re.search(r'"(title|tags|follow_ups|queries|text|prompt)"\s*:', text.partition("<chat_history>")[0])
    return m.group(1) if m else "task"


# ---------------------------------------------------------------- the browser


def browse(url: str, screenshot: Path, records: list, question: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            failures.append(what)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        try:
            return _browse(page, url, screenshot, records, question, check, failures)
        except Exception:
            page.screenshot(path=str(screenshot.with_name(screenshot.stem + "-failed.png")))
            raise
        finally:
            browser.close()


def _browse(page, url, screenshot, records, question, check, failures) -> list[str]:
    from playwright.sync_api import expect

    page.goto(url, wait_until="load", timeout=120_000)  # never "networkidle": socket.io polls
    box = page.locator("#chat-input")
    box.wait_for(timeout=60_000)
    welcome = page.get_by_role("button", name="Okay, Let's Go!")  # the "what's new" dialog of a first start
    try:
        welcome.click(timeout=15_000)
    except Exception:
        pass
    box.wait_for(timeout=60_000)
    box.click()
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    sources = page.get_by_role("button", name=re.compile(r"^Toggle \d+ sources?$"))
    sources.first.wait_for(timeout=180_000)
    page.wait_for_function("() => !document.querySelector('#chat-input') || "
                           "!document.querySelector('button[aria-label=\"Stop\"]')", timeout=180_000)
    chat = next((r for r in reversed(records) if task_kind(r) == "chat" and r["path"].endswith("/chat/completions")),
                None)
    passage = ""
    if chat and chat.get("reply"):
        for line in chat["reply"].splitlines():
            if line.startswith("data: {") and '"event"' in line:
                data = json.loads(line[6:])["event"]["data"]
                passage = data["document"][0].split("\n\n")[-1]
                break
    check(bool(passage), "the stream carried source events")
    snippet = " ".join(passage.split()[:8])

    def sources_and_passage(when: str, shots: tuple[Path, Path] | None = None) -> None:
        chips = page.locator("#response-content-container button[aria-label^='View source:']")
        check(chips.count() >= 1, f"{when}: source chips in the answer ({chips.count()})")
        page.get_by_role("button", name=re.compile(r"^Toggle \d+ sources?$")).first.click()
        if shots:
            page.screenshot(path=str(shots[0]))
        page.locator("button[id^='source-']").first.click()
        dialog = page.get_by_role("dialog")
        try:
            expect(dialog.get_by_text(snippet[:40], exact=False).first).to_be_visible(timeout=10_000)
            check(True, f"{when}: the source pop-up holds the cited passage")
            if shots:
                page.screenshot(path=str(shots[1]))
        except AssertionError:
            check(False, f"{when}: the source pop-up holds the cited passage ({snippet!r})")

    screenshot.parent.mkdir(parents=True, exist_ok=True)
    popup = screenshot.with_name(screenshot.stem + "-popup.png")
    sources_and_passage("live", (screenshot, popup))
    print(f"screenshots: {screenshot}, {popup}", flush=True)
    page.keyboard.press("Escape")
    deadline = time.monotonic() + 120  # Open WebUI's tasks follow the answer
    while time.monotonic() < deadline and not {"title", "tags", "follow_ups"} <= {task_kind(r) for r in records}:
        time.sleep(1)
    check({"title", "tags", "follow_ups"} <= {task_kind(r) for r in records},
          "Open WebUI sent its title, tags and follow-up tasks")
    follow = page.get_by_role("button", name=re.compile(r"^Follow up: "))
    try:
        follow.first.wait_for(timeout=30_000)
        check(True, f"follow-up suggestions shown ({follow.count()})")
    except Exception:
        check(False, "follow-up suggestions shown")
    page.reload(wait_until="load", timeout=120_000)
    page.get_by_role("button", name=re.compile(r"^Toggle \d+ sources?$")).first.wait_for(timeout=60_000)
    sources_and_passage("after a reload")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=Path(os.environ.get("OWUI_VENV", ROOT / ".owui-venv")))
    parser.add_argument("--screenshot", type=Path, default=ROOT / "docs" / "owui-sources.png")
    parser.add_argument("--record", type=Path, help="write every request Open WebUI sent into this folder")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    exe = ensure_owui(args.venv)
    work = Path(tempfile.mkdtemp(prefix="owui-check-"))
    procs: list[subprocess.Popen] = []
    records: list[dict] = []
    try:
        api_port, rec_port, ui_port = free_port(), free_port(), free_port()
        api_log = open(work / "vraagbaak.log", "w")
        procs.append(subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(api_port)], cwd=ROOT,
                                      stdout=api_log, stderr=subprocess.STDOUT, start_new_session=True))
        wait_http(f"http://127.0.0.1:{api_port}/readyz", 900, procs[-1], api_log.name)
        start_recorder(f"http://127.0.0.1:{api_port}", rec_port, records)
        env = {**os.environ, "DATA_DIR": str(work / "owui-data"), "OFFLINE_MODE": "true", "HF_HUB_OFFLINE": "1",
               "ENABLE_OLLAMA_API": "false", "RAG_EMBEDDING_MODEL": "", "WEBUI_AUTH": "false",
               "OPENAI_API_BASE_URL": f"http://127.0.0.1:{rec_port}/v1", "OPENAI_API_KEY": "vraagbaak",
               "DEFAULT_MODELS": "vraagbaak", "ENABLE_VERSION_UPDATE_CHECK": "false",
               "WEBUI_SECRET_KEY": "owui-check", "ANONYMIZED_TELEMETRY": "false", "SCARF_NO_ANALYTICS": "true",
               "DO_NOT_TRACK": "true"}
        ui_log = open(work / "open-webui.log", "w")
        procs.append(subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port", str(ui_port)], cwd=work,
                                      env=env, stdout=ui_log, stderr=subprocess.STDOUT, start_new_session=True))
        wait_http(f"http://127.0.0.1:{ui_port}/health", 600, procs[-1], ui_log.name)
        failures = browse(f"http://127.0.0.1:{ui_port}/", args.screenshot, records, args.question)
        bad = [f"{r['status']} {r['method']} {r['path']} ({task_kind(r)})" for r in records if r.get("status", 0) >= 400]
        print(("FAIL " if bad else "ok   ") + f"no 4xx/5xx from Vraagbaak in {len(records)} requests"
              + (": " + "; ".join(bad) if bad else ""), flush=True)
        failures += bad
        if args.record:
            args.record.mkdir(parents=True, exist_ok=True)
            for i, r in enumerate(records):
                (args.record / f"{i:02d}-{task_kind(r)}.json").write_text(json.dumps(r, ensure_ascii=False, indent=1))
        return 1 if failures else 0
    except BaseException:
        keep = Path(tempfile.gettempdir()) / "owui-check-logs"
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(work, keep, ignore=shutil.ignore_patterns("owui-data"))
        print(f"logs kept in {keep}", flush=True)
        raise
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
