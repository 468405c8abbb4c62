"""corpus: the corpus folder → Documents with metadata from the manifest, a sidecar, or the file itself."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.config import PROJECT_ROOT
from rag.ingest.corpus import CorpusError, load_corpus, scan_corpus

CORPUS_DIR = PROJECT_ROOT / "data" / "corpus"


def test_manifest_gives_real_metadata(documents):
    assert set(documents) == {
        "ek-nma-intrekking-wom-2013", "brief-2013-0000024260", "kst-32824-445",
        "voortgang-agenda-integratie-2013", "vragen-actieagenda-integratie-2024",
    }
    meta = documents["kst-32824-445"].meta
    assert meta.reference == "Kamerstuk 32 824, nr. 445"
    assert meta.date == "2024-11-21"
    assert meta.file == "002_f877f26f7fba8e26.txt"
    assert meta.title.startswith("Brief over contacten")
    assert meta.date_source == "manifest"
    # The manifest gives 004 no date: it is derived from its text (rag/ingest/dates.py, tests/ingest/test_dates.py).
    answers = documents["vragen-actieagenda-integratie-2024"].meta
    assert (answers.date, answers.date_source, answers.date_bound) == ("2025", "derived-bound", "2025-03")
    assert all(d.raw_text and "\r" not in d.raw_text for d in documents.values())


def test_dropped_in_files_with_and_without_sidecar(tmp_path):
    shutil.copy(CORPUS_DIR / "002_f877f26f7fba8e26.txt", tmp_path / "002_f877f26f7fba8e26.txt")
    (tmp_path / "manifest.json").write_text(json.dumps({"documents": [
        {"file": "002_f877f26f7fba8e26.txt", "id": "kst-32824-445", "title": "Brief", "date": "2024-11-21"}]}))
    (tmp_path / "Nieuwe Brief 2025.txt").write_text("\n  Kabinetsreactie op het advies\n\nDe tekst.\n",
                                                    encoding="utf-8")
    (tmp_path / "notitie.txt").write_text("Een notitie.\r\nTweede regel.\r\n", encoding="utf-8")
    (tmp_path / "notitie.json").write_text(json.dumps(
        {"title": "Notitie over inburgering", "date": "2025-02", "reference": "Kamerstuk 1, nr. 2"}))

    docs = {d.meta.id: d for d in load_corpus(tmp_path)}
    assert set(docs) == {"kst-32824-445", "nieuwe-brief-2025", "notitie"}
    plain = docs["nieuwe-brief-2025"].meta
    assert (plain.title, plain.date, plain.file) == ("Kabinetsreactie op het advies", None, "Nieuwe Brief 2025.txt")
    side = docs["notitie"].meta
    assert (side.title, side.date, side.reference, side.file) == (
        "Notitie over inburgering", "2025-02", "Kamerstuk 1, nr. 2", "notitie.txt")
    assert docs["notitie"].raw_text == "Een notitie.\nTweede regel.\n"  # CRLF normalised


def test_sidecar_can_set_the_id_and_is_checked(tmp_path):
    (tmp_path / "a.txt").write_text("Tekst.\n", encoding="utf-8")
    (tmp_path / "a.json").write_text(json.dumps({"id": "mijn-id", "title": "A"}))
    assert [d.meta.id for d in load_corpus(tmp_path)] == ["mijn-id"]
    (tmp_path / "a.json").write_text(json.dumps({"title": "A", "datum": "2024"}))
    with pytest.raises(CorpusError, match="unknown metadata field.*datum"):
        load_corpus(tmp_path)  # the only document skipped: nothing to index, and the message says why
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(CorpusError, match="a.json is not valid JSON"):
        load_corpus(tmp_path)


@pytest.mark.parametrize("sidecar, reason", [
    ({"date": 2013}, "'date' must be text"),
    ({"title": 5}, "'title' must be text"),
    ({"reference": ["a"]}, "'reference' must be text"),
    ({"id": 7}, "'id' must be text"),
    ({"date": "gisteren"}, "'date' 'gisteren' is not a date"),
    ({"date": "2013-02-30"}, "is not a date"),
    ({"date": "0000"}, "is not a date"),
    ([1, 2], "must hold a JSON object"),
])
def test_a_document_with_wrong_metadata_is_skipped_and_the_others_load(tmp_path, sidecar, reason):
    """Metadata the service could not serve (a number for a title, a date that is none) never reach an index:
    that one document is skipped with its reason, the others are indexed."""
    (tmp_path / "goed.txt").write_text("Een goede brief.\n", encoding="utf-8")
    (tmp_path / "fout.txt").write_text("Een brief met foute gegevens.\n", encoding="utf-8")
    (tmp_path / "fout.json").write_text(json.dumps(sidecar))
    corpus = scan_corpus(tmp_path)
    assert [d.meta.id for d in corpus.documents] == ["goed"]
    [skipped] = corpus.skipped
    assert skipped.file == "fout.txt" and reason in skipped.reason and "fout.json" in skipped.reason


def test_a_manifest_entry_with_wrong_metadata_skips_only_its_document(tmp_path):
    (tmp_path / "a.txt").write_text("A.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("B.\n", encoding="utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"documents": [
        {"file": "a.txt", "id": "a", "title": "A", "date": 2013}, {"file": "b.txt", "id": "b", "title": "B"}]}))
    corpus = scan_corpus(tmp_path)
    assert [d.meta.id for d in corpus.documents] == ["b"]
    assert [(f.file, "entry 0" in f.reason and "'date' must be text" in f.reason) for f in corpus.skipped] == \
        [("a.txt", True)]


def test_a_sidecar_with_only_a_date_keeps_the_first_line_as_title(tmp_path):
    (tmp_path / "notitie.txt").write_text("Notitie over participatie\n\nDe tekst.\n", encoding="utf-8")
    (tmp_path / "notitie.json").write_text(json.dumps({"date": "2025-03-01"}))
    [doc] = load_corpus(tmp_path)
    assert (doc.meta.title, doc.meta.date) == ("Notitie over participatie", "2025-03-01")


def test_an_empty_pdf_is_skipped_as_empty(tmp_path):
    (tmp_path / "a.txt").write_text("A.\n", encoding="utf-8")
    (tmp_path / "leeg.pdf").write_bytes(b"")
    assert [(f.file, f.reason) for f in scan_corpus(tmp_path).skipped] == [("leeg.pdf", "the file is empty (0 bytes)")]


def test_an_unreadable_twin_does_not_hide_the_readable_one(tmp_path):
    """taaleis.html (links only) is tried first, as HTML would be; taaleis.txt is used instead."""
    (tmp_path / "taaleis.txt").write_text("De taaleis in de bijstand.\n", encoding="utf-8")
    (tmp_path / "taaleis.html").write_text("<html><body><nav><a href='/a'>A</a> <a href='/b'>B</a></nav></body></html>")
    corpus = scan_corpus(tmp_path)
    assert [d.meta.file for d in corpus.documents] == ["taaleis.txt"]
    assert [f.file for f in corpus.skipped] == ["taaleis.html"]
    assert "same document" not in corpus.skipped[0].reason


def test_a_windows_1252_file_is_decoded_and_a_binary_one_skipped(tmp_path):
    (tmp_path / "oud.txt").write_bytes("Café in één regel, naïef.\n".encode("cp1252"))
    (tmp_path / "plaatje.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    corpus = scan_corpus(tmp_path)
    assert [d.raw_text for d in corpus.documents] == ["Café in één regel, naïef.\n"]
    assert [(f.file, "not text" in f.reason) for f in corpus.skipped] == [("plaatje.txt", True)]


def test_missing_or_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nergens")
    with pytest.raises(CorpusError, match=r"no documents \(\.txt, \.pdf"):
        load_corpus(tmp_path)


def test_manifest_naming_a_missing_file_or_duplicate_ids(tmp_path):
    (tmp_path / "a.txt").write_text("A.\n", encoding="utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"documents": [
        {"file": "a.txt", "id": "x", "title": "A"}, {"file": "weg.txt", "id": "y", "title": "Weg"}]}))
    with pytest.raises(CorpusError, match="weg.txt"):
        load_corpus(tmp_path)
    (tmp_path / "b.txt").write_text("B.\n", encoding="utf-8")
    (tmp_path / "manifest.json").write_text(json.dumps({"documents": [
        {"file": "a.txt", "id": "x", "title": "A"}, {"file": "b.txt", "id": "x", "title": "B"}]}))
    with pytest.raises(CorpusError, match="duplicate document id"):
        load_corpus(tmp_path)


def test_a_dropped_in_document_is_indexed_and_found(tmp_path, small_corpus, service):
    """End to end with the real model: drop a .txt in a corpus folder, build, search it."""
    from rag.config import load_settings
    from rag.search.stores.faiss_store import load_index
    from rag.ingest.build import build_index, expected_manifest
    from rag.service import Vraagbaak

    settings = load_settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    report = build_index(settings, encoder=service.encoder)
    assert (report.status, report.documents) == ("built", 1)
    small = Vraagbaak(settings, service.encoder,
                      load_index(settings.index_dir, expected_manifest(settings, service.encoder.model_hash)))
    result = small.search("Why are there more bicycle parking spaces at train stations?", top_k=1)
    top = result.passages[0]
    assert top.document.id == "fietsbrief" and "fietsenstallingen" in top.chunk.text
    assert top.citation.label.startswith("Brief over fietsparkeren (1 maart 2025)")
