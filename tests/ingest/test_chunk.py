"""chunk: ParsedDocument → Chunks with stable ids, exact spans and answer keys for repeated answers."""

from __future__ import annotations

from collections import Counter

import pytest

from rag.ingest.chunk import chunk_document
from rag.ingest.parse import parse_document
from rag.types import Document, DocumentMeta

QA_DOC = "vragen-actieagenda-integratie-2024"


@pytest.fixture(scope="module")
def chunks(parsed):
    return {doc_id: chunk_document(p) for doc_id, p in parsed.items()}


def test_ids_are_stable_and_unique(parsed, chunks):
    for doc_id, p in parsed.items():
        assert [c.id for c in chunk_document(p)] == [c.id for c in chunks[doc_id]]
    ids = [c.id for cs in chunks.values() for c in cs]
    assert len(ids) == len(set(ids))
    assert all(c.id.startswith(f"{doc_id}#") for doc_id, cs in chunks.items() for c in cs)


def test_ids_come_from_content_not_position():
    def chunk_ids(raw):
        return {c.id for c in chunk_document(parse_document(Document(DocumentMeta(id="d", title="D"), raw)))}

    qa = "Vraag 1\nWaarom?\n\nAntwoord\nDaarom.\n\nVraag 2\nWanneer?\n\nAntwoord\nMorgen.\n"
    before = chunk_ids(qa)
    after = chunk_ids("Vraag 7\nWie?\n\nAntwoord\nIedereen.\n\n" + qa)  # a question inserted in front
    assert len(before) == 2 and len(after) == 3
    assert before < after  # the unchanged chunks keep their ids although their offsets moved


def test_chunk_text_is_its_span_of_the_clean_text(parsed, chunks):
    for doc_id, p in parsed.items():
        assert chunks[doc_id], doc_id
        for c in chunks[doc_id]:
            assert c.doc_id == doc_id
            assert c.text == p.text[c.char_start:c.char_end]
            assert c.text.strip() == c.text and c.text


def test_every_block_of_text_is_in_a_chunk(parsed, chunks):
    for doc_id, p in parsed.items():
        for b in p.blocks:
            if b.kind != "heading":  # headings are the chunks' context, not their text
                assert any(c.char_start <= b.start and b.end <= c.char_end for c in chunks[doc_id]), (doc_id, b)


def test_every_question_is_in_a_qa_chunk(chunks):
    qa = [c for c in chunks[QA_DOC] if c.kind == "qa"]
    covered = {n for c in qa for n in c.question_numbers}
    assert covered == set(range(1, 236))
    for n in (1, 47, 100, 235):
        first = next(c for c in qa if n in c.question_numbers and c.part[0] == 1)
        assert f"Vraag {n}" in first.text


def test_long_answers_are_split_and_later_parts_keep_the_question(chunks):
    parts = [c for c in chunks[QA_DOC] if c.part[1] > 1]
    assert parts
    for c in parts:
        if c.part[0] > 1:
            assert c.context.startswith(f"{c.section}: ")  # "Vragen 182 en 183: <the question>"
            assert c.section.startswith("Vra")
            assert c.retrieval_text.startswith(c.context)


def test_repeated_answers_share_an_answer_key(chunks):
    by_question = {n: c for c in chunks[QA_DOC] if c.kind == "qa" and c.part[0] == 1 for n in c.question_numbers}
    # Questions 79 and 80 are answered with the same text in the source; 81 with another.
    assert by_question[79].answer_key == by_question[80].answer_key
    assert by_question[79].answer_key != by_question[81].answer_key
    assert by_question[79].id != by_question[80].id
    keys = Counter(c.answer_key for c in chunks[QA_DOC])
    assert all(k for k in keys)  # every Q&A chunk has a key


def test_footnotes_travel_with_their_chunk(parsed, chunks):
    for doc_id, p in parsed.items():
        counted = Counter(f.number for c in chunks[doc_id] for f in c.footnotes)
        assert set(counted) == {f.number for f in p.footnotes} and set(counted.values()) <= {1}, doc_id
        for c in chunks[doc_id]:
            assert all(c.char_start <= f.offset <= c.char_end for f in c.footnotes)
    becker = next(c for c in chunks["kst-32824-445"] if "lid Becker." in c.text)
    assert [f.text for f in becker.footnotes][:1] == ["Kamerstuk 35 228, nr. 45"]
