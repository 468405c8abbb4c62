"""The web page's passage view for a PDF document (issue 27): it shows the passage's page and links the
document's official page, in a real browser (Debian's Chromium, as tests/api/test_web.py) against a real
server over a corpus of the generated Kamerbrief PDF (tests/ingest/data/formats/README.md)."""

from __future__ import annotations

import shutil
from urllib.parse import quote

import httpx
import pytest

from rag.config import PROJECT_ROOT
from test_web import LAPTOP, Page, ask_in_page, browser  # noqa: F401 — browser is a fixture used here

pytestmark = pytest.mark.browser

PDF = PROJECT_ROOT / "tests" / "ingest" / "data" / "formats" / "kst-32824-445.pdf"


@pytest.fixture(scope="module")
def pdf_server(tmp_path_factory, service, serve_app) -> str:
    from api.app import create_app
    from rag.config import load_settings
    from rag.ingest.build import build_index, expected_manifest
    from rag.search.stores.faiss_store import load_index
    from rag.service import Vraagbaak

    root = tmp_path_factory.mktemp("pdf-web")
    (root / "corpus").mkdir()
    shutil.copy(PDF, root / "corpus")
    settings = load_settings(corpus_dir=root / "corpus", index_dir=root / "index", llm_base_url="",
                             feedback_db=root / "feedback.sqlite3")
    build_index(settings, encoder=service.encoder)
    small = Vraagbaak(settings, service.encoder,
                      load_index(settings.index_dir, expected_manifest(settings, service.encoder.model_hash)))
    return serve_app(create_app(settings, service=small))


def test_a_pdf_passage_shows_its_page_and_the_official_link(browser, pdf_server):  # noqa: F811
    laptop = Page(browser, pdf_server, LAPTOP)
    try:
        page = laptop.page
        page.goto("/")
        done = ask_in_page(page, "Hoe onderhoudt SZW contact met gemeenschappen sinds de afschaffing van het LOM?")
        link = page.locator("#answer a.cite").first
        citation = done["citations"][int(link.get_attribute("data-n")) - 1]
        assert citation["page"] in (1, 2, 3)
        with httpx.Client(base_url=pdf_server, timeout=60) as http:
            passage = http.get("/v1/passages/" + quote(citation["id"], safe="")).json()
        pages = str(passage["page"]) if passage["page_end"] == passage["page"] else \
            f"{passage['page']}–{passage['page_end']}"
        link.click()
        page.wait_for_selector("#passage-dialog #cited-passage")
        meta = dict(zip(page.locator("#passage-meta dt").all_inner_texts(),
                        page.locator("#passage-meta dd").all_inner_texts()))
        assert meta["Pagina"] == pages and meta["Kamerstuk"] == "Kamerstuk 32 824, nr. 445"
        assert page.get_attribute("#passage-meta a", "href") == passage["url"] == \
            "https://zoek.officielebekendmakingen.nl/kst-32824-445.html"
        # The source list under the answer names the page too ("p. 2").
        assert f"p. {citation['page']}" in page.inner_text("#sources")
    finally:
        laptop.close()
    assert laptop.errors == [], laptop.errors
