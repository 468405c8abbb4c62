"""index: a real build on disk, loaded back; refusal of mismatched builds; atomic publication."""

from __future__ import annotations

import os
import shutil
import uuid

import faiss
import pytest

from rag.ingest.chunk import CHUNKER_VERSION, chunk_document
from rag.search.stores.faiss_store import IndexUnavailable, load_index, read_manifest
from rag.ingest.build import build_index, expected_manifest


def expected(service):
    return expected_manifest(service.settings, service.encoder.model_hash)


def copy_index(service, tmp_path):
    """A private copy of the session's index (its `current` link is relative, so it stays valid)."""
    target = tmp_path / "index"
    shutil.copytree(service.settings.index_dir, target, symlinks=True)
    return service.settings.replace(index_dir=target)


def test_round_trip(service, parsed):
    loaded = load_index(service.settings.index_dir, expected(service))
    chunks = [c for p in parsed.values() for c in chunk_document(p)]
    assert len(loaded.chunks) == len(chunks) == loaded.faiss_index.ntotal
    assert sorted(c.id for c in loaded.chunks) == sorted(c.id for c in chunks)
    by_id = {c.id: c for c in chunks}
    assert all(c == by_id[c.id] for c in loaded.chunks)  # every field survives the JSON round trip
    assert set(loaded.documents) == set(parsed)
    manifest = loaded.manifest
    assert manifest["count"] == len(chunks)
    assert manifest["chunker_version"] == CHUNKER_VERSION
    assert manifest["model_hash"] == service.encoder.model_hash
    assert (service.settings.index_dir / "current").is_symlink()


@pytest.mark.parametrize("key, value", [("model_hash", "0" * 64), ("chunker_version", "0"), ("parser_version", "0")])
def test_a_build_for_another_configuration_is_refused(service, key, value):
    with pytest.raises(IndexUnavailable) as info:
        load_index(service.settings.index_dir, {**expected(service), key: value})
    assert "vraagbaak index" in str(info.value)


def test_missing_index_is_refused_with_a_hint(tmp_path, service):
    with pytest.raises(IndexUnavailable, match="vraagbaak index"):
        load_index(tmp_path / "none", expected(service))


def test_rebuild_with_nothing_changed_is_up_to_date(service):
    report = build_index(service.settings, encoder=service.encoder)
    assert report.status == "up-to-date"
    assert report.embedded == 0
    assert report.chunks == len(service.index.chunks)


def test_interrupted_write_leaves_the_previous_index_intact(tmp_path, service, monkeypatch):
    settings = copy_index(service, tmp_path)
    before = (settings.index_dir / "current").resolve()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device (injected)")

    monkeypatch.setattr(faiss, "write_index", disk_full)
    with pytest.raises(OSError, match="no space left on device"):
        build_index(settings, encoder=service.encoder, force=True)
    monkeypatch.undo()

    assert (settings.index_dir / "current").resolve() == before
    loaded = load_index(settings.index_dir, expected(service))
    assert len(loaded.chunks) == len(service.index.chunks)
    assert not [p for p in (settings.index_dir / "builds").iterdir() if p.name.startswith(".tmp-")]


def test_next_build_clears_leftovers_of_a_killed_one(tmp_path, service):
    settings = copy_index(service, tmp_path)
    builds = settings.index_dir / "builds"
    (builds / ".tmp-20990101T000000-dead00").mkdir()  # killed while writing
    (builds / "20990101T000000-dead01").mkdir()  # killed before the link swap
    os.symlink("builds/20990101T000000-dead01", settings.index_dir / ".current-20990101T000000-dead01")

    report = build_index(settings, encoder=service.encoder, force=True)
    assert report.status == "built" and report.embedded == 0  # every vector from the cache
    assert (settings.index_dir / "current").resolve().name == report.version
    assert [p.name for p in builds.iterdir()] == [report.version]
    assert not list(settings.index_dir.glob(".current-*"))
    assert len(load_index(settings.index_dir, expected(service)).chunks) == report.chunks


def test_a_changed_corpus_is_rebuilt(tmp_path, service, documents):
    """Only what changed is embedded again; an unchanged corpus is left alone."""
    from rag.config import load_settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = documents["kst-32824-445"]
    (corpus / "brief.txt").write_text(source.raw_text, encoding="utf-8")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    first = build_index(settings, encoder=service.encoder)
    assert first.status == "built" and first.documents == 1
    assert build_index(settings, encoder=service.encoder).status == "up-to-date"
    assert read_manifest(settings.index_dir)["count"] == first.chunks

    # A fresh word each run: the embedding cache outlives the test, and this text must be new to it.
    edited = source.raw_text.replace("Ik sta voor een open en vrije samenleving",
                                     f"Ik sta voor een open en vrije samenleving (versie {uuid.uuid4().hex})", 1)
    assert edited != source.raw_text
    (corpus / "brief.txt").write_text(edited, encoding="utf-8")
    second = build_index(settings, encoder=service.encoder)
    assert second.status == "built" and second.chunks == first.chunks
    assert 1 <= second.embedded < first.chunks  # the edited passage, not the whole document again
