"""Issue 27 end to end, with the real model, index and HTTP API: an HTML page, an officiële-bekendmakingen XML
and (dropped in while serving, then the reindex) a PDF are indexed with the metadata read from them (no
manifest), found, and cited with their page (PDF) and official link; a scanned PDF, a damaged PDF, a page of
only navigation and XML of another schema are each skipped with a one-line reason while the rest is served."""

from __future__ import annotations

import json
import shutil

import httpx
import pypdfium2 as pdfium

from format_helpers import FORMATS


def _bad_files(corpus) -> None:
    letter = pdfium.PdfDocument(str(FORMATS / "kst-32824-445.pdf"))
    letter[0].render(scale=0.5, grayscale=True).to_pil().save(corpus / "scan.pdf", "PDF", resolution=36.0)
    (corpus / "kapot.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    links = "".join(f'<li><a href="/{i}">Onderwerp {i}</a></li>' for i in range(25))
    (corpus / "menu.html").write_text(f"<html><body><nav><ul>{links}</ul></nav></body></html>", encoding="utf-8")
    (corpus / "feed.xml").write_text('<?xml version="1.0"?><rss><channel><title>Nieuws</title></channel></rss>',
                                     encoding="utf-8")


def _top(client, query: str) -> dict:
    response = client.post("/v1/search", json={"query": query, "top_k": 3})
    assert response.status_code == 200, response.text
    return response.json()["results"][0]


def test_formats_are_indexed_cited_and_grow_while_serving(tmp_path, answers_files, service, serve_app):
    from api.app import create_app
    from rag.config import load_settings
    from rag.ingest.build import build_index, expected_manifest
    from rag.search.stores.faiss_store import load_index
    from rag.service import Vraagbaak

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(FORMATS / "kamerbrief-2013-0000024260.html", corpus)
    shutil.copy(answers_files / "kst-32824-451.xml", corpus)
    _bad_files(corpus)
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index").replace(api_keys=("beheer",))
    report = build_index(settings, encoder=service.encoder)
    reasons = {f.file: f.reason for f in report.skipped}
    assert sorted(reasons) == ["feed.xml", "kapot.pdf", "menu.html", "scan.pdf"]
    assert reasons["scan.pdf"].startswith("the file has no text layer on any of its 1 page(s) (scanned images?)")
    assert reasons["kapot.pdf"].startswith("the file cannot be read as a PDF (")
    assert reasons["menu.html"].startswith("the file has no document text, only navigation and links (25 links")
    assert reasons["feed.xml"].startswith("the file is XML of an unknown schema (root element <rss>)")
    assert all("\n" not in r for r in reasons.values())
    saved = json.loads((settings.index_dir / "current" / "documents.json").read_text(encoding="utf-8"))
    assert all("derived" in d for d in saved)  # both documents describe themselves

    small = Vraagbaak(settings, service.encoder,
                      load_index(settings.index_dir, expected_manifest(settings, service.encoder.model_hash)))
    url = serve_app(create_app(settings, service=small))
    with httpx.Client(base_url=url, timeout=300, headers={"Authorization": "Bearer beheer"}) as client:
        ready = client.get("/readyz").json()
        assert ready["documents"] == 2 and len(ready["skipped_files"]) == 4
        documents = {d["id"]: d for d in client.get("/v1/documents").json()["documents"]}
        letter, answers = documents["kamerbrief-2013-0000024260"], documents["kst-32824-451"]
        assert (letter["date"], letter["reference"]) == ("2013-03-05", "2013-0000024260")
        assert letter["derived"]["date"] == "HTML document head: Datum"
        assert answers["reference"] == "Kamerstuk 32 824, nr. 451"
        assert answers["url"] == "https://zoek.officielebekendmakingen.nl/kst-32824-451.html"
        assert answers["derived"]["title"] == "XML OVERHEIDop.documenttitel"

        hit = _top(client, "Hoe krijgt de dialoog met de samenleving vorm na de intrekking van de WOM?")
        assert hit["document"]["id"] == "kamerbrief-2013-0000024260" and hit["page"] is None
        assert "2013-0000024260 (5 maart 2013)" in hit["citation"]
        hit = _top(client, "Vraag 1: welke positieve ontwikkelingen in onderwijs en arbeidsparticipatie zijn er?")
        assert hit["document"]["id"] == "kst-32824-451" and hit["question_numbers"] == [1]
        assert hit["url"] == answers["url"] and hit["document"]["url"] == answers["url"]

        # A Kamerbrief PDF dropped into the folder is searchable after the reindex, without a restart.
        shutil.copy(FORMATS / "kst-32824-445.pdf", corpus)
        status = client.post("/v1/admin/reindex", json={"wait": True}).json()
        assert status["state"] == "succeeded", status
        hit = _top(client, "Hoe onderhoudt SZW contact met gemeenschappen sinds de afschaffing van het LOM?")
        assert hit["document"]["id"] == "kst-32824-445"
        assert hit["page"] in (1, 2, 3) and f", p. {hit['page']}" in hit["citation"]
        assert hit["citation"].startswith("Brief over contacten met maatschappelijke organisaties (moties Palland en "
                                          "Becker), Kamerstuk 32 824, nr. 445 (21 november 2024)")
        assert hit["url"] == "https://zoek.officielebekendmakingen.nl/kst-32824-445.html"
        detail = client.get(f"/v1/passages/{hit['id'].replace('#', '%23')}").json()
        assert (detail["page"], detail["url"]) == (hit["page"], hit["url"])
        assert detail["document"]["derived"]["reference"] == "PDF first page: dossier and Nr."
        assert client.get("/readyz").json()["documents"] == 3
    # Only PDF passages store pages (so an index of text documents is written as before, INDEX_FORMAT 2).
    stored = [json.loads(line) for line in (settings.index_dir / "current" / "chunks.jsonl").open(encoding="utf-8")]
    assert {c["doc_id"] for c in stored if "page" in c} == {"kst-32824-445"}
