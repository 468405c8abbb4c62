"""The citizens' web page in a real browser: Debian's Chromium (/usr/bin/chromium, installed by
`make browser-setup`), headless, driven by Playwright for Python, against a real running server with
the real model and index (answers are extractive: no LLM here).

Ask and see the streamed answer with numbered citations; open a citation and find the cited span
highlighted in its document; the "these documents do not answer this" state with the referral and the
related passages, in English and in Arabic right to left; the language choice; feedback that ends up in the database; keyboard-only use; phone width;
contrast, labels and focus. Screenshots go to reports/screenshots/ (git-ignored)."""

from __future__ import annotations

import json
import os
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from rag.config import PROJECT_ROOT

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # Playwright never fetches a browser here

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("VRAAGBAAK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = PROJECT_ROOT / "reports" / "screenshots"
KEY = "web-beheer"
AUTH = {"Authorization": f"Bearer {KEY}"}
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

QUESTION = "Waarom is het overleg met minderhedenorganisaties gestopt?"
KAMERSTUK_QUESTION = "Wat is de participatieverklaring?"
OFF_TOPIC = "What is the capital of Australia?"
ARABIC_OFF_TOPIC = "كيف أستبدل رخصة القيادة الأجنبية في هولندا؟"  # exchanging a foreign driving licence
MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december"]


def dutch_date(iso: str | None) -> str:
    if not iso:
        return "niet vermeld"
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 3:
        return f"{parts[2]} {MONTHS[parts[1] - 1]} {parts[0]}"
    if len(parts) == 2:
        return f"{MONTHS[parts[1] - 1]} {parts[0]}"
    return str(parts[0])


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def feedback_db(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("web-feedback") / "feedback.sqlite3"


@pytest.fixture(scope="module")
def base_url(api_server, feedback_db) -> str:
    return api_server(api_keys=(KEY,), feedback_db=feedback_db)


@pytest.fixture(scope="module")
def http(base_url):
    with httpx.Client(base_url=base_url, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-setup` (apt-get install chromium); "
                    "Playwright does not download a browser of its own here")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


class Page:
    """A page in its own browser context, with the browser's errors collected."""

    def __init__(self, browser, base_url: str, viewport: dict, phone: bool = False):
        self.context = browser.new_context(viewport=viewport, device_scale_factor=2 if phone else 1,
                                           is_mobile=phone, has_touch=phone, locale="nl-NL",
                                           base_url=base_url)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def shot(self, name: str, full_page: bool = False, clip: dict | None = None) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page or clip is not None, clip=clip)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def laptop(browser, base_url):
    page = Page(browser, base_url, LAPTOP)
    yield page
    page.close()
    assert page.errors == [], page.errors


@pytest.fixture
def phone(browser, base_url):
    page = Page(browser, base_url, PHONE, phone=True)
    yield page
    page.close()
    assert page.errors == [], page.errors


def ask_in_page(page, question: str, timeout_ms: float = 60_000) -> dict:
    """Type the question, press Enter, wait for the stream to finish; returns the `done` payload
    the page received (read from the event stream it was sent)."""
    page.fill("#vraag", question)
    with page.expect_response(lambda r: r.url.endswith("/v1/ask")) as info:
        page.press("#vraag", "Enter")
    response = info.value
    assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
    page.wait_for_selector("#result[data-state=done]", timeout=timeout_ms)
    events = sse_events(response.text())
    return events[-1][1]


def sse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name = next((line[6:].strip() for line in block.splitlines() if line.startswith("event:")), None)
        data = "\n".join(line[5:].strip() for line in block.splitlines() if line.startswith("data:"))
        if name and data:
            events.append((name, json.loads(data)))
    return events


def focused(page) -> dict:
    return page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
        return {id: e.id, tag: e.tagName, cls: e.className, n: e.getAttribute('data-n'),
                inDialog: !!e.closest('dialog'), outline: s.outlineStyle, shadow: s.boxShadow,
                background: s.backgroundColor}; }""")


def wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression (page.wait_for_function would need eval, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        page.wait_for_timeout(50)


def tab_until(page, test, limit: int = 60) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if test(now):
            return now
    raise AssertionError(f"Tab never reached the element; last focused: {focused(page)}")


# ---------------------------------------------------------------- serving the page


def test_the_page_is_served_with_its_own_files_only(http):
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    html = page.text
    assert '<html lang="nl">' in html and 'name="viewport"' in html
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    for asset in assets:
        response = http.get(asset)
        assert response.status_code == 200, asset
    assert http.get("/static/vraagbaak.js").headers["content-type"].startswith("text/javascript")
    assert http.head("/").status_code == 200
    for missing in ("/static/nope.js", "/static/..%2Fweb.py", "/static/.hidden", "/static/web.py"):
        assert http.get(missing).status_code == 404, missing
    assert http.get("/favicon.ico").status_code == 200
    assert "/" not in http.get("/openapi.json").json()["paths"]  # the page is not part of the API


# ---------------------------------------------------------------- asking


def test_ask_and_see_the_streamed_answer_with_numbered_citations(laptop, http):
    page = laptop.page
    page.goto("/")
    assert page.evaluate("document.documentElement.lang") == "nl"
    assert page.inner_text("h1") == "Stel uw vraag over integratiebeleid"
    done = ask_in_page(page, QUESTION)

    result = page.locator("#result")
    assert int(result.get_attribute("data-deltas")) >= 2  # the answer arrived in pieces and was shown as it came
    expected = http.post("/v1/ask", json={"question": QUESTION}).json()
    assert done["answer"] == expected["answer"] and not done["abstained"]
    assert squash(page.inner_text("#answer")) == squash(expected["answer"])
    assert page.get_attribute("#answer", "aria-live") == "polite"
    assert page.get_attribute("#answer", "aria-busy") == "false"
    assert page.locator("#abstain").is_hidden()

    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", expected["answer"])})
    links = page.locator("#answer a.cite")
    assert links.count() == len(re.findall(r"\[\d+\]", expected["answer"]))
    for i in range(links.count()):
        link = links.nth(i)
        n = int(link.get_attribute("data-n"))
        assert link.inner_text() == f"[{n}]" and link.get_attribute("href") == f"#bron-{n}"
        title = expected["citations"][n - 1]["document"]["title"]
        assert link.get_attribute("aria-label") == f"Bron {n}: {title}"
    # The sources list: the cited ones by number, the others folded away.
    items = page.locator("#sources > li")
    assert [int(items.nth(i).get_attribute("id").split("-")[1]) for i in range(items.count())] == cited
    assert page.inner_text("#sources-title") == "Bronnen"
    first = expected["citations"][cited[0] - 1]
    assert first["document"]["title"] in page.inner_text(f"#bron-{cited[0]}")
    assert page.locator("#more-sources").is_visible() == (len(expected["citations"]) > len(cited))
    status = page.inner_text("#status")
    assert status.startswith("Het antwoord staat hieronder") and page.get_attribute("#status", "role") == "status"
    assert page.locator("#feedback-form").is_visible()
    laptop.shot("laptop-answer", full_page=True)
    laptop.shot("laptop-answer-top", clip={"x": 0, "y": 0, "width": LAPTOP["width"], "height": 1280})


YOUTH_NL = "Wat doet de regering tegen jeugdwerkloosheid onder jongeren met een migratieachtergrond?"
YOUTH_AR = "ماذا تفعل الحكومة لمكافحة البطالة بين الشباب من أصول مهاجرة؟"


def test_the_answer_and_its_sources_say_when_they_were_said(laptop):
    """Each cited document's date label opens the sentence that first cites it (the newest statement
    first, the 2013 one as earlier), set apart in the question's language; each source shows its date
    (a derived one as "maart 2025 of later"); the note names the newest source's date. An Arabic
    question's labels are Arabic, right to left, inside the Dutch quotes."""
    page = laptop.page
    page.goto("/")
    done = ask_in_page(page, YOUTH_NL)
    labels = [c["date_label"] for c in done["citations"] if c["date_label"]]
    assert done["as_of"] == "2025" and done["answer"].startswith("Antwoorden op Kamervragen van maart 2025 of later: ")
    assert "Eerder, brief van december 2013" in labels
    shown = page.locator("#answer .date-label")
    assert [shown.nth(i).inner_text() for i in range(shown.count())] == [
        "Antwoorden op Kamervragen van maart 2025 of later", "Eerder, brief van december 2013"]
    assert shown.first.get_attribute("lang") == "nl" and shown.first.get_attribute("dir") == "ltr"
    sources = squash(page.inner_text("#sources"))
    assert "maart 2025 of later" in sources and "december 2013" in sources
    assert page.inner_text("#answer-note").endswith("Nieuwste bron: 2025.")
    laptop.shot("laptop-answer-dated", full_page=True)

    done = ask_in_page(page, YOUTH_AR)
    assert done["language"] == "ar" and not done["abstained"]
    shown = page.locator("#answer .date-label")
    assert shown.count() >= 2 and all(ARABIC.search(shown.nth(i).inner_text()) for i in range(shown.count()))
    assert {shown.nth(i).get_attribute("dir") for i in range(shown.count())} == {"rtl"}
    assert {shown.nth(i).get_attribute("lang") for i in range(shown.count())} == {"ar"}
    assert page.get_attribute("#answer", "lang") == "nl"  # the quotes stay Dutch, left to right
    assert "سابقاً، رسالة بتاريخ ديسمبر 2013" in [shown.nth(i).inner_text() for i in range(shown.count())]
    laptop.shot("laptop-answer-dated-ar", full_page=True)


DIACRITICS_QUESTION = "Wat doet het kabinet tegen buitenlandse financiering en beïnvloeding van moskeeën?"

# Counts the reads the page's fetch reader gets, and their sizes, without touching the page's code.
COUNT_READS = """(() => {
  const read = ReadableStreamDefaultReader.prototype.read;
  window.__reads = [];
  ReadableStreamDefaultReader.prototype.read = function () {
    return read.call(this).then((r) => { if (!r.done) window.__reads.push(r.value.length); return r; });
  };
})();"""


def test_a_stream_cut_into_7_byte_writes_arrives_intact(browser, base_url, http):
    """The page behind a relay that re-sends the event stream 7 bytes per write (tests/api/sse_relay.py):
    events, JSON objects and the two bytes of ë and ï are split across network reads, and the page
    still shows exactly the answer and the sources of the final event."""
    from sse_relay import SevenByteRelay  # tests/api/sse_relay.py (pytest puts this folder on sys.path)

    expected = http.post("/v1/ask", json={"question": DIACRITICS_QUESTION}, timeout=600).json()
    assert re.search("[ëï]", expected["answer"]), expected["answer"]  # the test needs them in the answer
    relay = SevenByteRelay(int(base_url.rsplit(":", 1)[1])).start()
    page = Page(browser, relay.url, LAPTOP)
    try:
        page.page.add_init_script(COUNT_READS)
        page.page.goto("/")
        done = ask_in_page(page.page, DIACRITICS_QUESTION, timeout_ms=300_000)
        reads = page.page.evaluate("window.__reads")
        assert relay.pieces > 500 and relay.split_characters > 0, (relay.pieces, relay.split_characters)
        assert len(reads) > 100 and min(reads) <= 7, reads[:50]  # the page did get the stream in pieces
        assert done["answer"] == expected["answer"]
        assert [c["id"] for c in done["citations"]] == [c["id"] for c in expected["citations"]]
        assert squash(page.page.inner_text("#answer")) == squash(expected["answer"])
        cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", expected["answer"])})
        items = page.page.locator("#sources > li")
        assert [int(items.nth(i).get_attribute("id").split("-")[1]) for i in range(items.count())] == cited
        for n in cited:
            assert expected["citations"][n - 1]["document"]["title"] in page.page.inner_text(f"#bron-{n}")
        assert page.page.get_attribute("#result", "data-state") == "done"
    finally:
        page.close()
        relay.stop()
    assert page.errors == [], page.errors


def test_open_a_citation_and_find_the_cited_span_highlighted(laptop, http):
    page = laptop.page
    page.goto("/")
    done = ask_in_page(page, KAMERSTUK_QUESTION)
    link = page.locator("#answer a.cite").first
    n = int(link.get_attribute("data-n"))
    citation = done["citations"][n - 1]
    passage = http.get("/v1/passages/" + quote(citation["id"], safe="")).json()
    doc = passage["document"]

    link.click()
    dialog = page.locator("#passage-dialog")
    page.wait_for_selector("#passage-dialog #cited-passage mark.cited-span")
    assert dialog.is_visible() and dialog.get_attribute("open") is not None
    assert page.evaluate("document.activeElement.id") == "passage-title"  # focus moved into the dialog
    assert page.inner_text("#passage-kicker") == f"Bron {n}"
    assert page.inner_text("#passage-title") == doc["title"]
    meta = dict(zip(page.locator("#passage-meta dt").all_inner_texts(), page.locator("#passage-meta dd").all_inner_texts()))
    assert meta["Datum"] == dutch_date(doc["date"])
    if (doc["reference"] or "").startswith("Kamerstuk"):
        assert meta["Kamerstuk"] == doc["reference"]
    if doc["url"]:
        assert page.get_attribute("#passage-meta a", "href") == doc["url"]
    else:
        assert "Officiële bron" not in meta

    # The highlighted spans are the answer's sentences that cite [n], inside the passage's own text.
    marks = [squash(m) for m in page.locator("#cited-passage mark.cited-span").all_inner_texts()]
    quoted = [squash(s["text"]) for s in done["sentences"] if n in s["citations"]]
    assert marks and all(m in squash(passage["text"]) for m in marks)
    assert set(marks) <= set(quoted) or marks == [squash(passage["text"])]
    assert page.locator("#cited-passage mark.cited-span").first.is_visible()
    assert squash(page.inner_text("#cited-passage")).endswith(squash(passage["text"])[-60:])
    if passage["previous"]:
        assert squash(passage["previous"]["text"])[-40:] in squash(page.inner_text("#passage-text"))
    laptop.shot("laptop-passage")

    # The whole document, with the same passage highlighted in it.
    whole = http.get(f"/v1/documents/{doc['id']}").json()
    page.click("#whole-document")
    wait_until(page, f"document.querySelectorAll('#passage-text > *').length === {len(whole['passages'])}")
    assert page.locator("#cited-passage mark.cited-span").count() == len(marks)
    assert page.inner_text("#whole-document") == "Toon alleen de passage en wat eromheen staat"

    page.click("#passage-close")
    assert dialog.is_hidden()
    assert focused(page)["n"] == str(n)  # focus is back on the link that opened it


def test_documents_do_not_answer_shows_the_closest_passages_in_english(laptop):
    page = laptop.page
    page.goto("/")
    page.select_option("#lang-switch", "en")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("h1") == "Ask your question about integration policy"
    assert page.input_value("#lang-switch") == "en" and page.inner_text("label[for=lang-switch]") == "Language"
    assert page.get_attribute("#ask-button", "data-i18n") == "ask" and page.inner_text("#ask-button") == "Ask"
    done = ask_in_page(page, OFF_TOPIC)

    assert done["abstained"] is True and done["language"] == "en"
    notice = page.locator("#abstain")
    assert notice.is_visible() and page.inner_text("#abstain h3") == "These documents do not answer your question"
    assert page.inner_text("#sources-title") == "Related passages (not an answer to your question)"
    assert all(c["related"] for c in done["citations"])
    assert done["referral"]["language"] == "en" and page.locator("#referral").is_visible()
    assert page.locator("#sources > li").count() == len(done["citations"]) > 0
    assert page.locator("#answer").is_hidden()  # the engine's notice says the same: shown once
    assert page.inner_text("#status").startswith("The documents do not answer this question")
    laptop.shot("laptop-not-answered-en", full_page=True)

    page.locator("#sources a.passage-link").first.click()
    page.wait_for_selector("#cited-passage.closest")
    assert page.inner_text("#cited-passage .cited-label") == "Passage closest to your question"
    assert page.locator("#cited-passage mark").count() == 0  # nothing cites it, so nothing is highlighted
    page.keyboard.press("Escape")

    # The choice is kept, and switching back changes the words, not the answer.
    page.reload()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.select_option("#lang-switch", "nl")
    assert page.inner_text("h1") == "Stel uw vraag over integratiebeleid"


def test_a_referral_in_arabic_is_shown_right_to_left(laptop):
    """An Arabic question the documents do not answer, on a Dutch page: the notice and the referral
    are in Arabic, right to left; the page itself stays Dutch until Arabic is chosen for it."""
    page = laptop.page
    page.goto("/")
    done = ask_in_page(page, ARABIC_OFF_TOPIC)
    assert done["abstained"] is True and done["language"] == "ar"
    referral = done["referral"]
    assert referral["topic"] == "driving_licence" and referral["language"] == "ar"
    assert referral["url"] == "https://www.rdw.nl" and referral["channel"] == "RDW"

    notice = page.locator("#abstain")
    assert notice.is_visible()
    assert notice.get_attribute("lang") == "ar" and notice.get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.getElementById('abstain')).direction") == "rtl"
    assert page.inner_text("#abstain h3") == "هذه الوثائق لا تجيب عن سؤالك"
    assert page.inner_text("#referral-lead") == "الجهة التي يمكنك سؤالها"
    links = page.locator("#referral-channels a.referral-link")
    assert links.count() == len(referral["channels"]) == 2  # RDW, and the CBR for the driving test
    assert links.first.get_attribute("href") == "https://www.rdw.nl" and links.first.inner_text() == "RDW"
    assert referral["channels"][0]["does"] in page.inner_text("#referral-channels")
    # The page's own words stay in the page's language; the passages are labelled related.
    assert page.evaluate("document.documentElement.dir") == "ltr"
    assert page.inner_text("#sources-title") == "Verwante passages (geen antwoord op uw vraag)"
    assert page.locator("#sources > li").count() == len(done["citations"]) > 0
    assert all(c["related"] for c in done["citations"])
    laptop.shot("laptop-referral-ar", full_page=True)

    # The page in Arabic: right to left as a whole, and nothing scrolls sideways.
    page.select_option("#lang-switch", "ar")
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.inner_text("h1") == "اطرح سؤالك حول سياسة الاندماج"
    assert page.inner_text("#sources-title") == "مقاطع ذات صلة (ليست إجابة عن سؤالك)"
    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    laptop.shot("laptop-page-ar", full_page=True)
    page.select_option("#lang-switch", "nl")  # leave the stored choice as the other tests expect


# Every visible text node: its text, the nearest lang attribute, and whether it is the asker's own
# words (the question, set apart in a <bdi> or an element with dir="auto").
VISIBLE_TEXTS = """() => {
  const out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const el = node.parentElement, text = node.textContent.trim();
    if (!text || !el || el.closest('[hidden], option, noscript') || !el.getClientRects().length) continue;
    const marked = el.closest('[lang]');
    out.push({text, lang: marked ? marked.getAttribute('lang') : '', own: !!el.closest('bdi, [dir=auto]'),
              where: el.id || el.className || el.tagName});
  }
  return out;
}"""
# Each text the status line is given, from the mutation records themselves: an observer's callback runs
# once for a batch, so reading the element's text there misses a state replaced within the same task
# (an extractive stream's "writing" and "done" can arrive in one read on a loaded machine).
RECORD_STATUS = """() => { window.__statuses = [];
  new MutationObserver(records => records.forEach(r => r.type === 'characterData'
      ? window.__statuses.push(r.target.textContent)
      : r.addedNodes.forEach(n => window.__statuses.push(n.textContent))))
    .observe(document.getElementById('status'), {childList: true, characterData: true, subtree: true}); }"""
ARABIC = re.compile("[\u0600-\u06ff]")
LETTER = re.compile(r"[^\W\d_]")


def assert_arabic_or_marked_dutch(page, state: str) -> None:
    """Right to left, and every visible text is Arabic (or has no letters), or is marked Dutch and
    holds no Arabic: the documents' words are Dutch, the page's own words come from strings.js."""
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"], state
    wrong = []
    for item in page.evaluate(VISIBLE_TEXTS):
        text = item["text"]
        if item["own"] or text == "Vraagbaak":  # the question as typed; the name
            continue
        if item["lang"] == "nl":
            right = not ARABIC.search(text)
        else:
            right = item["lang"] == "ar" and bool(ARABIC.search(text) or not LETTER.search(text))
        if not right:
            wrong.append(item)
    assert wrong == [], (state, wrong)


def test_in_arabic_every_visible_text_is_arabic_or_marked_dutch(laptop):
    """The page in Arabic in each of its states (an answer, its passage and the whole document, an
    error under a field, the status line while asking, a failed request): everything it shows is in
    Arabic, from strings.js, or is the documents' Dutch (titles, types, authors, sections, references,
    quotes), marked as Dutch. Messages shown before the switch follow it; the question is set apart."""
    page = laptop.page
    page.goto("/")
    ask_in_page(page, KAMERSTUK_QUESTION)
    page.click("#fb-send")  # no rating chosen: a message under the buttons, in Dutch
    assert page.inner_text("#fb-error") == "Kies eerst ‘Ja, nuttig’ of ‘Nee, niet nuttig’."
    page.select_option("#lang-switch", "ar")
    assert page.inner_text("#fb-error") == "اختر أولاً ‘نعم، مفيدة’ أو ‘لا، غير مفيدة’."
    assert page.inner_text("#asked bdi") == KAMERSTUK_QUESTION
    assert_arabic_or_marked_dutch(page, "answer")
    laptop.shot("laptop-answer-ar", full_page=True)

    page.locator("#answer a.cite").first.click()
    page.wait_for_selector("#passage-dialog #cited-passage mark.cited-span")
    assert_arabic_or_marked_dutch(page, "passage")
    laptop.shot("laptop-passage-ar")
    page.click("#whole-document")
    wait_until(page, "document.getElementById('whole-document').textContent === 'اعرض المقطع وما حوله فقط'")
    assert_arabic_or_marked_dutch(page, "whole document")
    page.keyboard.press("Escape")

    page.select_option("#lang-switch", "nl")
    page.fill("#vraag", "")
    page.press("#vraag", "Enter")
    assert page.inner_text("#vraag-error").endswith("Typ eerst uw vraag.")
    page.select_option("#lang-switch", "ar")
    assert page.inner_text("#vraag-error").endswith("اكتب سؤالك أولاً من فضلك.")
    assert_arabic_or_marked_dutch(page, "empty question")

    page.evaluate(RECORD_STATUS)
    ask_in_page(page, QUESTION)
    statuses = [s for s in page.evaluate("window.__statuses") if s]
    assert statuses[0] == "يبحث Vraagbaak في الوثائق…" and "تتم كتابة الإجابة…" in statuses, statuses
    assert statuses[-1].startswith("الإجابة أدناه") and all(ARABIC.search(s) for s in statuses), statuses
    assert_arabic_or_marked_dutch(page, "answered")

    page.route("**/v1/ask", lambda route: route.fulfill(status=503, content_type="application/json", body=json.dumps(
        {"error": {"code": "not_ready", "message": "the model and index are still loading", "request_id": "r-1"}})))
    page.fill("#vraag", QUESTION)
    page.press("#vraag", "Enter")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error").startswith("لا يزال Vraagbaak قيد التشغيل")
    assert_arabic_or_marked_dutch(page, "not ready")
    laptop.errors.remove("Failed to load resource: the server responded with a status of 503 (Service Unavailable)")


class _FixedTexts(HTMLParser):
    """index.html's own words: (data-i18n key or None, text) per element that holds text."""

    SKIP = {"script", "style", "noscript", "option"}

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.texts: list[tuple[str | None, str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "link", "br", "img", "input", "path", "rect", "circle"):
            self.stack.append((tag, dict(attrs)))
        elif tag == "meta" and dict(attrs).get("name") == "description":
            self.texts.append(("description", dict(attrs)["content"], "meta"))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if data.strip() and self.stack and not any(tag in self.SKIP for tag, _ in self.stack):
            tag, attrs = self.stack[-1]
            key = "page-title" if tag == "title" else attrs.get("data-i18n")
            self.texts.append((key, squash(data), attrs.get("class") or tag))


def test_every_fixed_text_of_the_page_comes_from_strings_js(laptop, http):
    """index.html holds no words of its own: each text is the Dutch of a strings.js key (data-i18n,
    replaced in every language), the same keys are in all six languages, and a language choice
    replaces all of them, the page's description included."""
    page = laptop.page
    page.goto("/")
    strings = page.evaluate("window.VRAAGBAAK_STRINGS")
    assert set(strings) == {"nl", "en", "tr", "ar", "pl", "uk"}
    assert all(set(strings[lang]) == set(strings["nl"]) for lang in strings)
    parser = _FixedTexts()
    parser.feed(http.get("/").text)
    texts = [t for t in parser.texts if t[1] != "Vraagbaak"]  # the name, in every language
    assert len(texts) > 25
    assert [t for t in texts if t[0] not in strings["nl"]] == []  # no text without a key
    assert [t for t in texts if t[1] != squash(strings["nl"][t[0]])] == []  # no stale copy of one
    for lang in strings:
        page.select_option("#lang-switch", lang)
        assert page.title() == strings[lang]["page-title"]
        assert page.get_attribute("meta[name=description]", "content") == strings[lang]["description"]
        for key, _, _ in texts:
            if key not in ("page-title", "description"):
                assert page.locator(f"[data-i18n='{key}']").first.text_content() == strings[lang][key], (lang, key)
    page.select_option("#lang-switch", "nl")


def test_an_english_question_gets_an_english_answer_frame(laptop):
    page = laptop.page
    page.goto("/?lang=en")
    done = ask_in_page(page, "Which minister is responsible for the local anti-discrimination services?")
    assert done["language"] == "en" and not done["abstained"]
    # Extractive answers quote the Dutch documents: marked as Dutch for screen readers, and said so.
    assert page.get_attribute("#answer", "lang") == "nl"
    assert "The documents are in Dutch" in page.inner_text("#answer-note")
    assert page.locator("#answer a.cite").count() >= 1


def test_empty_question_and_errors_are_explained(laptop):
    page = laptop.page
    page.goto("/")
    page.press("#vraag", "Enter")
    assert page.inner_text("#vraag-error").endswith("Typ eerst uw vraag.")
    assert page.get_attribute("#vraag", "aria-invalid") == "true"
    assert "vraag-error" in page.get_attribute("#vraag", "aria-describedby")
    assert page.locator("#result").is_hidden()
    page.fill("#vraag", "x")
    assert page.locator("#vraag-error").is_hidden()


def test_an_empty_question_clears_the_previous_answer_and_sends_nothing(laptop):
    """Enter on an empty or blank field after an answer: the old answer, its sources and its status
    line go (they answered another question), the field says to type a question first in the page's
    language, and nothing is sent."""
    page = laptop.page
    page.goto("/?lang=tr")
    ask_in_page(page, QUESTION)
    assert page.locator("#result").is_visible() and page.locator("#sources > li").count() > 0
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/v1/ask" in r.url else None)

    page.fill("#vraag", "  \n\t ")
    page.press("#vraag", "Enter")
    assert page.inner_text("#vraag-error").endswith("Lütfen önce sorunuzu yazın.")
    assert page.get_attribute("#vraag", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "vraag"
    assert page.locator("#result").is_hidden() and page.get_attribute("#result", "data-state") is None
    assert page.locator("#sources > li, #other-sources > li").count() == 0
    assert page.text_content("#answer") == "" and page.text_content("#status") == ""
    assert page.locator("#error").is_hidden() and page.locator("#examples").is_visible()

    # The button does the same, and invisible characters only are empty too (as the server has it).
    page.fill("#vraag", "\u200b\u00a0")
    page.click("#ask-button")
    assert page.inner_text("#vraag-error").endswith("Lütfen önce sorunuzu yazın.")
    assert page.locator("#result").is_hidden()
    page.wait_for_timeout(300)
    assert sent == []


# ---------------------------------------------------------------- feedback


def test_feedback_from_the_page_is_stored(laptop, http):
    page = laptop.page
    page.goto("/")
    done = ask_in_page(page, QUESTION)
    page.click("#fb-send")  # no rating chosen yet
    assert page.inner_text("#fb-error") == "Kies eerst ‘Ja, nuttig’ of ‘Nee, niet nuttig’."
    page.click("label[for=fb-down]")
    assert page.locator("#fb-error").is_hidden()
    comment = "De reden staat er wel, maar erg ambtelijk; één voorbeeld zou helpen."
    page.fill("#fb-comment", comment)
    assert page.inner_text("#fb-count") == f"{len(comment)} van 2000 tekens"
    laptop.shot("laptop-feedback")
    with page.expect_response(lambda r: r.url.endswith("/v1/feedback")) as sent:
        page.click("#fb-send")
    assert sent.value.status == 201
    page.wait_for_selector("#fb-thanks:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "fb-thanks"
    assert page.locator("#feedback-form").is_hidden()

    rows = [r for r in http.get("/v1/feedback", headers=AUTH).json()["items"] if r["answer_id"] == done["answer_id"]]
    assert len(rows) == 1
    row = rows[0]
    assert row["rating"] == "down" and row["comment"] == comment and row["question"] == QUESTION
    assert row["answer"] == done["answer"] and row["passage_ids"] == [c["id"] for c in done["citations"]]
    assert row["mode"] == "extractive" and row["language"] == "nl" and row["abstained"] is False


# ---------------------------------------------------------------- keyboard only


def test_keyboard_only_ask_open_a_citation_close_it_and_send_feedback(laptop, http):
    page = laptop.page
    page.goto("/")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["cls"] == "skip-link" and page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    question = focused(page)
    assert question["id"] == "vraag" and question["outline"] == "solid"  # visible focus
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    page.wait_for_selector("#result[data-state=done]", timeout=60_000)

    cite = tab_until(page, lambda f: "cite" in str(f["cls"]).split())
    assert cite["background"] != "rgba(0, 0, 0, 0)"  # a focused link gets a visible background
    laptop.shot("keyboard-focus-on-citation")
    page.keyboard.press("Enter")
    page.wait_for_selector("#passage-dialog #cited-passage mark.cited-span")
    # The dialog first shows the answer's own copy of the passage; its "whole document" button appears
    # when the passage's detail has arrived (in a full run the Tabs below could come before it).
    page.wait_for_selector("#whole-document", state="visible")
    assert focused(page)["inDialog"]
    # The page behind the open dialog is inert: Tab reaches only the dialog's controls (and the
    # browser's own, where focus shows as the body).
    reached = []
    for _ in range(6):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["inDialog"] or now["tag"] == "BODY", now
        reached.append(now["id"])
    assert {"passage-close", "whole-document"} <= set(reached)
    page.keyboard.press("Escape")
    assert page.locator("#passage-dialog").is_hidden()
    back = focused(page)
    assert back["n"] == cite["n"] and "cite" in back["cls"]

    tab_until(page, lambda f: f["id"] == "fb-up")
    page.keyboard.press("Space")
    assert page.is_checked("#fb-up")
    assert focused(page)["id"] == "fb-up"
    page.keyboard.press("ArrowRight")  # radio group: arrows move the choice
    assert page.is_checked("#fb-down") and not page.is_checked("#fb-up")
    page.keyboard.press("ArrowLeft")
    assert page.is_checked("#fb-up")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "fb-comment"
    page.keyboard.type("Met alleen het toetsenbord gelukt.")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "fb-send"
    page.keyboard.press("Enter")
    page.wait_for_selector("#fb-thanks:not([hidden])")
    stored = http.get("/v1/feedback", headers=AUTH).json()["items"]
    assert any(r["comment"] == "Met alleen het toetsenbord gelukt." and r["rating"] == "up" for r in stored)


# ---------------------------------------------------------------- phone width


def test_usable_at_phone_width(phone):
    page = phone.page
    page.goto("/")
    phone.shot("phone-start", full_page=True)
    done = ask_in_page(page, KAMERSTUK_QUESTION)
    assert not done["abstained"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    button = page.locator("#ask-button").bounding_box()
    field = page.locator("#vraag").bounding_box()
    assert button["width"] >= field["width"] - 1 and button["y"] > field["y"]  # the button goes under the field
    assert button["height"] >= 44  # a finger-sized target
    # The answer starts below the fold on a phone: the page brings it into view by itself.
    wait_until(page, "Math.abs(document.getElementById('answer-title').getBoundingClientRect().top) < 2")
    phone.shot("phone-answer")
    phone.shot("phone-answer-full", full_page=True)

    page.locator("#answer a.cite").first.tap()
    page.wait_for_selector("#passage-dialog #cited-passage mark.cited-span")
    box = page.locator("#passage-dialog").bounding_box()
    assert box["x"] <= 1 and box["width"] >= PHONE["width"] - 1  # the passage takes the whole screen
    assert page.locator("#cited-passage mark.cited-span").first.is_visible()
    phone.shot("phone-passage")
    page.locator("#passage-close").tap()
    assert page.locator("#passage-dialog").is_hidden()
    # WCAG 1.4.10 (reflow): still no sideways scrolling at 320 CSS px.
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


# ---------------------------------------------------------------- accessibility basics


CONTRAST = """(selectors) => {
  const parse = (c) => { const p = c.match(/[\\d.]+/g).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                       return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = (el) => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor);
                                 if (c.a > 0.99) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const out = [];
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) {
      if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
      if (!el.textContent.trim()) continue;
      const fg = lum(parse(getComputedStyle(el).color)), bg = lum(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      out.push({selector, text: el.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100});
    }
  }
  return out;
}"""

NAMES = """() => {
  const missing = [];
  for (const el of document.querySelectorAll('input, textarea, select, button, a[href], [tabindex]')) {
    if (el.closest('[hidden]')) continue;
    const name = (el.labels && el.labels.length ? el.labels[0].textContent : '') || el.getAttribute('aria-label')
                 || (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby'))?.textContent)
                 || el.textContent;
    if (!name || !name.trim()) missing.push(el.outerHTML.slice(0, 80));
  }
  return missing;
}"""


def test_contrast_labels_and_landmarks(laptop):
    page = laptop.page
    page.goto("/")
    ask_in_page(page, QUESTION)
    page.click("label[for=fb-up]")
    page.click("#more-sources summary")
    results = page.evaluate(CONTRAST, ["h1", "h2", "h3", "p", "label", "legend", "a", "button", ".hint", ".status",
                                       ".source-meta", ".source-snippet", ".cite", ".brand-name", ".brand-sub",
                                       ".lang-switch", ".thumb", ".documents li", ".site-footer p", "summary"])
    assert len(results) > 30
    low = [r for r in results if r["ratio"] < 4.5]
    assert low == [], low  # WCAG 2.1 AA 1.4.3: at least 4.5:1 for text
    page.click("#answer a.cite >> nth=0")
    page.wait_for_selector("#cited-passage mark.cited-span")
    in_dialog = page.evaluate(CONTRAST, ["#passage-dialog h2", "#passage-dialog dt", "#passage-dialog dd",
                                         "#passage-dialog p", "#passage-dialog mark", ".kicker", ".close-button",
                                         ".cited-label"])
    assert in_dialog and [r for r in in_dialog if r["ratio"] < 4.5] == []
    page.keyboard.press("Escape")

    assert page.evaluate(NAMES) == []  # every control has an accessible name
    assert page.locator("main").count() == 1 and page.locator("header").count() == 1
    assert page.locator("h1").count() == 1
    assert page.get_attribute("#passage-dialog", "aria-labelledby") == "passage-title"
    assert page.locator("svg:not([aria-hidden=true])").count() == 0  # decoration is hidden from screen readers
    assert page.get_attribute("#vraag", "maxlength") == "2000"
    # Zoomed to 200% (WCAG 1.4.4): still no sideways scrolling at laptop width.
    page.set_viewport_size({"width": 640, "height": 400})
    assert page.evaluate("document.documentElement.scrollWidth") <= 640
