"""Open WebUI 0.12.4 against Vraagbaak in a real browser (``make owui-check``; opt-in, not in CI).

Starts ``vraagbaak serve`` (the index in ``VRAAGBAAK_INDEX_DIR``), a recording pass-through in front of
its ``/v1`` (every request Open WebUI sends, with its status), and Open WebUI from its own virtualenv
with its offline settings (``OFFLINE_MODE=true``, ``ENABLE_OLLAMA_API=false``, ``RAG_EMBEDDING_MODEL=``
empty, no login). Then Playwright drives Debian's Chromium as a citizen would: asks a question, and
checks that the answer has source chips, as many sources as it cites, labels that keep the document's
number, that the sources panel opens the cited passage (screenshot once the pop-up has faded in), and
that all survive a reload; that Open WebUI's background tasks (title, tags, follow-ups) come and the
suggestions are Vraagbaak's own questions in the asker's language (never an MP's question). Then, in
the same chat, an unrelated standalone English question must get the same answer as in a new chat;
that new English chat must get an English title and English suggestions, and a Turkish one Turkish.
It fails on any 4xx/5xx Vraagbaak gave. Screenshots go to ``--screenshot`` (and docs/owui-english.png);
``--record DIR`` keeps the request bodies (tests/api/data/openwebui/ came from there).

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
STANDALONE = "What does the government do against discrimination in hiring?"  # after QUESTION, and alone
TURKISH = "Hükümet işe alımda ayrımcılığa karşı ne yapıyor?"
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


def _content(record: dict) -> str:
    """The answer text Vraagbaak streamed in ``record``'s reply."""
    out = []
    for line in (record.get("reply") or "").splitlines():
        if line.startswith("data: {"):
            data = json.loads(line[6:])
            for choice in data.get("choices") or ():
                out.append((choice.get("delta") or {}).get("content") or "")
    return "".join(out)


def _is_chat(record: dict) -> bool:
    """A question to Vraagbaak (not a task, not Open WebUI's GET /v1/models)."""
    return record["path"].endswith("/chat/completions") and task_kind(record) == "chat"


def _task_json(record: dict) -> dict:
    reply = json.loads(record.get("reply") or "{}")
    content = reply["choices"][0]["message"]["content"] if reply.get("choices") else "{}"
    return json.loads(content[content.find("{"): content.rfind("}") + 1] or "{}")


def _cited(content: str) -> int:
    """How many distinct sources the answer text cites ([n] before the footer)."""
    text = re.split(r"\n\n(?:Bronnen|Sources|Kaynaklar|المصادر|Źródła|Джерела):\n", content)[0]
    return len(set(re.findall(r"\[(\d+)\]", text)))


def _ask(page, records: list, question: str) -> dict:
    """Type ``question`` in the open chat, wait for the whole answer; its recorded chat request."""
    since = len(records)
    box = page.locator("#chat-input")
    box.wait_for(timeout=60_000)
    box.click()
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if [r for r in records[since:] if _is_chat(r) and "reply" in r]:
            break
        time.sleep(1)
    try:  # Open WebUI shows "Stop" until its background tasks (title, tags, follow-ups) are back
        page.wait_for_function("() => !document.querySelector('button[aria-label=\"Stop\"]')", timeout=180_000)
    except Exception:
        print("note: Open WebUI still shows its Stop button 180 s after the answer", flush=True)
    return next(r for r in records[since:] if _is_chat(r))


def _tasks(records: list, since: int, kinds=("title", "tags", "follow_ups"), seconds: float = 120) -> dict:
    """The first record of each task kind after ``since`` (Open WebUI sends them after the answer)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = {}
        for r in records[since:]:
            if task_kind(r) in kinds and "reply" in r:
                found.setdefault(task_kind(r), r)
        if set(kinds) <= set(found):
            return found
        time.sleep(1)
    return found


def _wait_still(page, selector: str) -> bool:
    """Wait until ``selector`` is shown, fully opaque (itself and its ancestors), and no finite
    animation on it, in it or around it is running (Open WebUI's pop-up fades and scales in); False
    after 10 s."""
    try:
        page.wait_for_function(
            "(sel) => [...document.querySelectorAll(sel)].filter(el => el.getClientRects().length).some(el => {"
            " for (let n = el; n && n.nodeType === 1; n = n.parentElement)"
            "  if (parseFloat(getComputedStyle(n).opacity) < 1) return false;"
            " return !document.getAnimations().some(a => a.playState === 'running'"
            "  && a.effect && a.effect.getComputedTiming().iterations !== Infinity && a.effect.target"
            "  && (el.contains(a.effect.target) || a.effect.target.contains(el))); })", arg=selector, timeout=10_000)
        return True
    except Exception:  # noqa: BLE001 — playwright's TimeoutError
        return False


def _browse(page, url, screenshot, records, question, check, failures) -> list[str]:
    from playwright.sync_api import expect

    sys.path.insert(0, str(ROOT))
    from rag.answer.topics import load as load_topics

    topics = load_topics()
    page.goto(url, wait_until="load", timeout=120_000)  # never "networkidle": socket.io polls
    page.locator("#chat-input").wait_for(timeout=60_000)
    welcome = page.get_by_role("button", name="Okay, Let's Go!")  # the "what's new" dialog of a first start
    try:
        welcome.click(timeout=15_000)
    except Exception:
        pass
    since = len(records)
    chat = _ask(page, records, question)
    page.get_by_role("button", name=re.compile(r"^Toggle \d+ sources?$")).first.wait_for(timeout=60_000)
    passage = ""
    for line in (chat.get("reply") or "").splitlines():
        if line.startswith("data: {") and '"event"' in line:
            data = json.loads(line[6:])["event"]["data"]
            passage = data["document"][0].split("\n\n")[-1]
            break
    check(bool(passage), "the stream carried source events")
    snippet = " ".join(passage.split()[:8])

    def sources_match(when: str, content: str) -> None:
        toggle = page.get_by_role("button", name=re.compile(r"^Toggle \d+ sources?$")).last
        shown = int(re.search(r"\d+", toggle.get_attribute("aria-label")).group(0))
        check(shown == _cited(content), f"{when}: sources shown = sources cited ({shown}, {_cited(content)})")

    def sources_and_passage(when: str, shots: tuple[Path, Path] | None = None) -> None:
        chips = page.locator("#response-content-container button[aria-label^='View source:']")
        check(chips.count() >= 1, f"{when}: source chips in the answer ({chips.count()})")
        page.get_by_role("button", name=re.compile(r"^Toggle \d+ sources?$")).first.click()
        names = [b.get_attribute("aria-label") for b in page.locator("button[id^='source-']").all()]
        # Every label keeps what identifies the document: its Kamerstuk number or its year.
        check(bool(names) and all(re.search(r"\d\d \d{3}|\b(?:19|20)\d\d\b", n or "") for n in names),
              f"{when}: source labels keep the document number ({names})")
        if shots:
            page.screenshot(path=str(shots[0]))
        page.locator("button[id^='source-']").first.click()
        dialog = page.get_by_role("dialog")
        try:
            expect(dialog.get_by_text(snippet[:40], exact=False).first).to_be_visible(timeout=10_000)
            check(True, f"{when}: the source pop-up holds the cited passage")
            if shots:
                # The pop-up fades in: a screenshot before it ends is see-through.
                check(_wait_still(page, "[role=dialog]"), f"{when}: the pop-up finished opening")
                page.screenshot(path=str(shots[1]))
        except AssertionError:
            check(False, f"{when}: the source pop-up holds the cited passage ({snippet!r})")

    screenshot.parent.mkdir(parents=True, exist_ok=True)
    popup = screenshot.with_name(screenshot.stem + "-popup.png")
    sources_match("Dutch question", _content(chat))
    sources_and_passage("live", (screenshot, popup))
    print(f"screenshots: {screenshot}, {popup}", flush=True)
    page.keyboard.press("Escape")
    tasks = _tasks(records, since)
    check({"title", "tags", "follow_ups"} <= set(tasks), "Open WebUI sent its title, tags and follow-up tasks")
    suggestions(page, tasks, topics, "nl", check)
    page.reload(wait_until="load", timeout=120_000)
    page.get_by_role("button", name=re.compile(r"^Toggle \d+ sources?$")).first.wait_for(timeout=60_000)
    sources_and_passage("after a reload")
    page.keyboard.press("Escape")

    # A standalone question after an unrelated conversation gets the answer it gets in a new chat.
    after = _content(_ask(page, records, STANDALONE))
    page.goto(url, wait_until="load", timeout=120_000)
    since = len(records)
    fresh = _content(_ask(page, records, STANDALONE))
    check(bool(after) and after == fresh, "a standalone question after an unrelated conversation: the same answer "
                                          "as in a new chat")
    sources_match("English question", fresh)
    session(page, records, since, topics, "en", check)

    page.goto(url, wait_until="load", timeout=120_000)  # a Turkish asker
    since = len(records)
    sources_match("Turkish question", _content(_ask(page, records, TURKISH)))
    session(page, records, since, topics, "tr", check)
    return failures


def suggestions(page, tasks: dict, topics, language: str, check) -> None:
    """The follow-up suggestions are Vraagbaak's own questions in ``language``, and shown."""
    offered = _task_json(tasks["follow_ups"]).get("follow_ups", []) if "follow_ups" in tasks else []
    own = {t.questions[language] for t in topics}
    check(set(offered) <= own, f"suggestions are Vraagbaak's own {language} questions, no MP's question ({offered})")
    if offered:
        follow = page.get_by_role("button", name=re.compile(r"^Follow up: "))
        try:
            follow.first.wait_for(timeout=30_000)
            check(True, f"follow-up suggestions shown ({follow.count()})")
        except Exception:
            check(False, "follow-up suggestions shown")


def session(page, records: list, since: int, topics, language: str, check) -> None:
    """A new chat in ``language``: its title and suggestions in that language."""
    from api.chat_tasks import GENERAL_TITLE

    tasks = _tasks(records, since)
    title = _task_json(tasks["title"]).get("title") if "title" in tasks else None
    check(title in {t.title[language] for t in topics} | {GENERAL_TITLE[language]},
          f"{language} chat: the title is in {language} ({title!r})")
    suggestions(page, tasks, topics, language, check)
    if language == "en":
        shot = ROOT / "docs" / "owui-english.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}", flush=True)


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
        bad = [f"{r['status']} {r['method']} {r['path']} ({task_kind(r)})" for r in records
               if r.get("status", 0) >= 400]
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
