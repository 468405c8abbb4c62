"""parse: raw delivered text → clean text, blocks and footnotes (on the real documents, and synthetic ones)."""

from __future__ import annotations

import pytest

from rag.ingest.parse import parse_document
from rag.types import Document, DocumentMeta

QA_DOC = "vragen-actieagenda-integratie-2024"


def parse(raw: str):
    return parse_document(Document(meta=DocumentMeta(id="t", title="T"), raw_text=raw))


# ---------------------------------------------------------------- the real documents


def test_every_block_is_its_span_of_the_clean_text(parsed):
    for doc_id, p in parsed.items():
        assert p.blocks, doc_id
        for block in p.blocks:
            assert p.text[block.start:block.end] == block.text, (doc_id, block)
        starts = [b.start for b in p.blocks]
        assert starts == sorted(starts), doc_id


def test_qa_document_has_235_questions_each_with_an_answer(parsed):
    blocks = parsed[QA_DOC].blocks
    asked = {n for b in blocks if b.kind == "question" for n in b.question_numbers}
    answered = {n for b in blocks if b.kind == "answer" for n in b.question_numbers}
    assert asked == set(range(1, 236))
    assert answered == asked


def test_hyphenation_breaks_are_joined(documents, parsed):
    assert "hier vol-\ngende" in documents["ek-nma-intrekking-wom-2013"].raw_text
    assert "In de hier volgende beantwoording" in parsed["ek-nma-intrekking-wom-2013"].text
    for doc_id, p in parsed.items():
        assert "-\n" not in p.text, doc_id  # no word left broken at a line or page end


def test_real_hyphens_are_kept(parsed):
    wom = parsed["ek-nma-intrekking-wom-2013"].text
    assert "LOM-organisaties" in wom  # raw: "LOM-organi-" + "saties"
    assert "EU-arbeidsmigranten" in wom
    assert "decentralisatie-uitkering" in parsed["voortgang-agenda-integratie-2013"].text


def test_footnotes_are_taken_out_and_attached_at_their_markers(parsed):
    p = parsed["kst-32824-445"]
    assert [f.number for f in p.footnotes] == [1, 2, 3, 4]
    first = p.footnotes[0]
    assert first.text == "Kamerstuk 35 228, nr. 45"
    assert p.text[:first.offset].endswith("lid Becker")
    assert "lid Becker." in p.text and "Becker1" not in p.text
    assert p.text[:p.footnotes[1].offset].endswith("juli 2013")
    assert "juli 2013," in p.text and "20132" not in p.text


def test_footnote_numbers_run_through_the_qa_document(parsed):
    numbers = [f.number for f in parsed[QA_DOC].footnotes]
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) > 30
    obi = next(f for f in parsed[QA_DOC].footnotes if f.number == 33)
    assert parsed[QA_DOC].text[:obi.offset].endswith("OBI")  # raw: "het OBI33-meldpunt"


def test_page_furniture_is_removed(parsed):
    letter = parsed["brief-2013-0000024260"].text
    assert "Onze referentie" not in letter
    assert "2013-0000024260" not in letter  # the reference repeated on every page
    assert "Retouradres" not in letter  # letterhead before "Betreft"
    assert letter.startswith("In het Algemeen Overleg")
    for doc_id in ("voortgang-agenda-integratie-2013", QA_DOC):
        assert "Tweede Kamer, vergaderjaar" not in parsed[doc_id].text, doc_id


@pytest.mark.parametrize("doc_id, headings", [
    ("ek-nma-intrekking-wom-2013",
     ["1 Inleiding", "2 Aanleiding intrekking wettelijk overleg minderheden", "3 Vormgeving dialoog"]),
    ("kst-32824-445", ["Actieagenda Integratie", "Brede blik op de samenleving", "Tot slot"]),
])
def test_headings_are_found_and_become_sections(parsed, doc_id, headings):
    p = parsed[doc_id]
    found = [b.text for b in p.blocks if b.kind == "heading"]
    assert found == headings
    sections = {b.section for b in p.blocks if b.kind == "paragraph"}
    assert set(headings) <= sections


def test_page_break_inside_an_answer_does_not_split_it(parsed):
    text = parsed[QA_DOC].text
    # Raw: "… Ministerie van Diaspora en Antisemitismebe-" | page header | "strijding24. Het kabinet …"
    assert "Ministerie van Diaspora en Antisemitismebestrijding. Het kabinet" in text
    assert "institutionele discriminatie. In de kabinetsreactie" in text


# ---------------------------------------------------------------- synthetic: the rules one by one


@pytest.mark.parametrize("raw, expected", [
    ("de hier vol-\ngende zin", "de hier volgende zin"),  # a broken word
    ("de LOM-\norganisaties", "de LOM-organisaties"),  # capital before the hyphen: a real one
    ("de EU-\narbeidsmigranten", "de EU-arbeidsmigranten"),
    ("de decentralisatie-\nuitkering", "de decentralisatie-uitkering"),  # klinkerbotsing
    ("vroeg-\nen voorschoolse educatie", "vroeg- en voorschoolse educatie"),  # elision
    ("de zorg-\nverzekeraar en de zorg-verzekeraar", "de zorg-verzekeraar en de zorg-verzekeraar"),  # seen whole
    ("zie https://www.example.nl/een-\nlang-pad", "zie https://www.example.nl/een-lang-pad"),  # URL
    ("een gewone\nregelovergang", "een gewone regelovergang"),
])
def test_line_end_hyphen_rules(raw, expected):
    assert parse(raw + ".\n").text == expected + "."


def test_footnote_markers_are_removed_and_located():
    raw = ("De motie van lid Becker1. werd aangenomen. In juli 20132, stopte het\n"
           "overleg. Zie ook het OBI3-meldpunt.\n"
           "\n"
           "1 Kamerstuk 35 228, nr. 45\n"
           "2 Staatsblad 2013, 300\n"
           "3 OBI: ongewenste buitenlandse inmenging\n"
           " Dit is de volgende pagina.\n")
    p = parse(raw)
    assert p.text == ("De motie van lid Becker. werd aangenomen. In juli 2013, stopte het overleg. "
                      "Zie ook het OBI-meldpunt.\n\nDit is de volgende pagina.")
    assert [(f.number, f.text) for f in p.footnotes] == [
        (1, "Kamerstuk 35 228, nr. 45"), (2, "Staatsblad 2013, 300"), (3, "OBI: ongewenste buitenlandse inmenging")]
    before = [p.text[:f.offset] for f in p.footnotes]
    assert before[0].endswith("lid Becker") and before[1].endswith("juli 2013") and before[2].endswith("het OBI")


def test_numbered_list_at_page_end_is_not_taken_for_footnotes():
    raw = "Wij doen drie dingen:\n\n1 Bewustwording vergroten\n2 Kennis delen\n1 Nog een\n Volgende pagina.\n"
    p = parse(raw)
    assert not p.footnotes
    assert "Kennis delen" in p.text


def test_questions_and_shared_answers():
    raw = ("Vraag 1\nWat is dat?\n\nVraag 2\nEn dit?\n\nAntwoord op vraag 1 en 2\nDat is een antwoord dat over\n"
           "de pagina loopt.\n\nVraag 3\nNog een?\n\nAntwoord\nJa.\n")
    p = parse(raw)
    answers = [b for b in p.blocks if b.kind == "answer"]
    assert [(b.text, b.question_numbers) for b in answers] == [
        ("Dat is een antwoord dat over de pagina loopt.", (1, 2)), ("Ja.", (3,))]
    assert answers[0].section == "Vragen 1 en 2"
    questions = [(b.text, b.question_numbers) for b in p.blocks if b.kind == "question"]
    assert questions == [("Wat is dat?", (1,)), ("En dit?", (2,)), ("Nog een?", (3,))]
