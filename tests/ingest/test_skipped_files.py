"""A corpus folder with files that cannot be indexed: the rest is indexed and served, and the skipped
files are named by `vraagbaak index`, the service (/readyz, reindex status) and a metric (issue 13)."""

from __future__ import annotations

import json

import httpx
import pytest


@pytest.fixture
def mixed_corpus(small_corpus):
    """The small corpus plus a binary file, an empty one and a Windows-1252 export."""
    (small_corpus / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 8)
    (small_corpus / "leeg.txt").write_bytes(b"")
    (small_corpus / "export.txt").write_bytes(
        "Betreft Fietsenstalling\r\n\r\nDe gemeente opent een geïntegreerde fietsenstalling bij het station.\r\n"
        .encode("cp1252"))
    return small_corpus


def test_index_skips_unreadable_files_names_them_and_exits_0(tmp_path, mixed_corpus, run_cli):
    env = {"VRAAGBAAK_CORPUS_DIR": str(mixed_corpus), "VRAAGBAAK_INDEX_DIR": str(tmp_path / "index")}
    proc = run_cli("index", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("index built: 2 documents, ")
    assert "skipped 2 file(s), not in the index:" in proc.stdout
    assert "  leeg.txt: the file is empty" in proc.stdout
    assert "  scan.txt: the file is not text" in proc.stdout
    assert "Traceback" not in proc.stderr
    again = run_cli("index", env=env)  # up to date, and still says what is missing
    assert again.returncode == 0 and again.stdout.startswith("index up-to-date") and "scan.txt" in again.stdout
    indexed = json.loads((tmp_path / "index" / "current" / "documents.json").read_text(encoding="utf-8"))
    assert sorted(d["id"] for d in indexed) == ["export", "fietsbrief"]  # the Windows-1252 file is in


def test_service_reports_skipped_files_in_readiness_reindex_and_metrics(tmp_path, mixed_corpus, service, serve_app):
    from api.app import create_app
    from rag.config import load_settings
    from rag.ingest.build import build_index, expected_manifest
    from rag.search.stores.faiss_store import load_index
    from rag.service import Vraagbaak

    settings = load_settings(corpus_dir=mixed_corpus, index_dir=tmp_path / "index").replace(api_keys=("beheer",))
    report = build_index(settings, encoder=service.encoder)
    assert sorted(f.file for f in report.skipped) == ["leeg.txt", "scan.txt"]
    small = Vraagbaak(settings, service.encoder,
                      load_index(settings.index_dir, expected_manifest(settings, service.encoder.model_hash)))
    url = serve_app(create_app(settings, service=small))
    with httpx.Client(base_url=url, timeout=120, headers={"Authorization": "Bearer beheer"}) as client:
        ready = client.get("/readyz").json()
        assert ready["documents"] == 2
        assert {f["file"]: f["reason"] for f in ready["skipped_files"]} == {
            "leeg.txt": "the file is empty",
            "scan.txt": next(f.reason for f in report.skipped if f.file == "scan.txt")}
        assert "vraagbaak_corpus_skipped_files 2.0" in client.get("/metrics").text
        status = client.post("/v1/admin/reindex", json={"wait": True}).json()
        assert status["state"] == "succeeded" and [f["file"] for f in status["skipped_files"]] == ["leeg.txt", "scan.txt"]
