"""citations: a passage's label says the document's title once (rag/search/citations.py)."""

from __future__ import annotations

import shutil

import pytest

from rag.config import PROJECT_ROOT
from rag.search.citations import make_citation
from rag.types import Chunk, DocumentMeta

LETTER = DocumentMeta(id="brief", title="Brief over fietsparkeren", date="2025-03-01", reference="Kamerstuk 1, nr. 2")


def chunk(section: str | None = None, numbers: tuple[int, ...] = ()) -> Chunk:
    return Chunk(id="brief#1", doc_id="brief", text="Er komen meer stallingen.", char_start=0, char_end=25,
                 section=section, question_numbers=numbers)


@pytest.mark.parametrize("meta, section, numbers, label", [
    # A .txt document without metadata is titled by its first line, mostly its first heading too.
    (DocumentMeta(id="t", title="1 Inleiding"), "1 Inleiding", (), "1 Inleiding"),
    (DocumentMeta(id="t", title="1 Inleiding"), "1  inleiding", (), "1 Inleiding"),  # as words, not as typed
    (DocumentMeta(id="t", title="1 Inleiding"), "1 Inleiding › 1.1 Achtergrond", (), "1 Inleiding, 1.1 Achtergrond"),
    (DocumentMeta(id="t", title="1 Inleiding"), "2 Aanleiding", (), "1 Inleiding, 2 Aanleiding"),
    (DocumentMeta(id="t", title="Vraag 1", date_source="derived-bound", date_bound="2025-03"), "Vraag 1", (1,),
     "Vraag 1 (maart 2025 of later)"),
    (DocumentMeta(id="t", title="Vraag 1"), "Vraag 87", (87,), "Vraag 1, Vraag 87"),
    # Labels with metadata stay as they were: title, reference (date), where.
    (LETTER, None, (), "Brief over fietsparkeren, Kamerstuk 1, nr. 2 (1 maart 2025)"),
    (LETTER, "Stallingen › Kosten", (), "Brief over fietsparkeren, Kamerstuk 1, nr. 2 (1 maart 2025), Stallingen › Kosten"),
    (LETTER, "Stallingen", (12, 13), "Brief over fietsparkeren, Kamerstuk 1, nr. 2 (1 maart 2025), Vragen 12 en 13"),
    # A heading that only starts like the title is another heading.
    (LETTER, "Brief over fietsparkeren en e-bikes", (),
     "Brief over fietsparkeren, Kamerstuk 1, nr. 2 (1 maart 2025), Brief over fietsparkeren en e-bikes"),
])
def test_the_title_is_said_once(meta, section, numbers, label):
    citation = make_citation(chunk(section, numbers), meta)
    assert citation.label == label
    assert citation.section == section and citation.title == meta.title  # the fields keep what the passage has


def test_a_dropped_in_text_file_is_cited_without_its_title_twice(tmp_path, service):
    """End to end with the real model: the bundled letter 000_… without its manifest entry is titled by its first
    line, "1 Inleiding", also its first section; the passage from that section was cited "1 Inleiding, 1 Inleiding"."""
    from rag.config import load_settings
    from rag.ingest.build import build_index, expected_manifest
    from rag.search.stores.faiss_store import load_index
    from rag.service import Vraagbaak

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(PROJECT_ROOT / "data" / "corpus" / "000_67374ac127445d39.txt", corpus / "memorie.txt")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert build_index(settings, encoder=service.encoder).status == "built"
    small = Vraagbaak(settings, service.encoder,
                      load_index(settings.index_dir, expected_manifest(settings, service.encoder.model_hash)))
    passages = small.search("Met veel belangstelling heb ik kennis genomen van het nadere verslag", top_k=5).passages
    first = next(p for p in passages if p.chunk.section == "1 Inleiding")
    assert first.document.title == "1 Inleiding" and first.citation.label == "1 Inleiding"
    assert all(p.citation.label.count("1 Inleiding") == 1 for p in passages), [p.citation.label for p in passages]
