"""rag/ingest/formats/xml_ob.py: the officiële-bekendmakingen XML's metadata and structure; the answers to
Kamervragen as XML give the same passages as their text (issue 27: at least 95 %); other XML is refused."""

from __future__ import annotations

import pytest

from format_helpers import FORMATS, LETTER_445_META, as_document, passages, same_passages
from rag.ingest.corpus import scan_corpus
from rag.ingest.formats import Unreadable, xml_ob

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def test_metadata_come_from_the_meta_elements_and_the_head(documents):
    read = xml_ob.read(FORMATS / "kst-32824-445.xml")
    assert read.meta == LETTER_445_META
    assert read.sources["date"] == "XML OVERHEIDop.datumBrief" and read.sources["url"] == "XML DC.identifier"
    assert read.blocks[-1].text == "De Staatssecretaris van Sociale Zaken en Werkgelegenheid, J.N.J. Nobel"
    assert read.blocks[-1].heading is False  # a signature, never a heading
    text_version = documents["kst-32824-445"]
    assert same_passages(passages(text_version), passages(as_document(read, text_version.meta))) == 1.0


def test_the_answers_as_xml_give_the_passages_of_their_text(answers_files, documents):
    """Done-when of issue 27: the same Q&A document as text and as XML gives the same passages (text,
    question numbers, footnotes) for at least 95 % of them."""
    text_version = documents["vragen-actieagenda-integratie-2024"]
    read = xml_ob.read(answers_files / "kst-32824-451.xml")
    assert sum(b.text.startswith("Vraag") for b in read.blocks) == 235 and len(read.footnotes) == 43  # "Vraagt 46" too
    expected = passages(text_version)
    got = passages(as_document(read, text_version.meta))
    share = same_passages(expected, got)
    assert share >= 0.95, f"{share:.1%} of {len(expected)} passages the same"
    numbers = {n for c in got for n in c.question_numbers}
    assert numbers == {n for c in expected for n in c.question_numbers}
    assert read.meta["reference"] == "Kamerstuk 32 824, nr. 451" and "date" not in read.meta  # its text has none


def _write(tmp_path, body: str, name: str = "stuk.xml"):
    path = tmp_path / name
    path.write_text(HEAD + body, encoding="utf-8")
    return path


def test_kamervragen_questions_answers_and_a_companion_metadata_record(tmp_path):
    path = _write(tmp_path, """<officiele-publicatie><metadata>
<meta name="OVERHEIDop.externMetadataRecord" content="https://zoek.officielebekendmakingen.nl/ah-tk-20242025-1244/metadata.xml"/>
</metadata><kamervragen><kamervraagkop><tekstregel>Vergaderjaar 2024-2025</tekstregel></kamervraagkop>
<kamervraagnummer>1244</kamervraagnummer>
<vraag><nr>Vraag 1</nr><al>Bent u bekend met het bericht over <nadruk type="cur">taalcursussen</nadruk>?<noot id="n1"
type="voet"><noot.nr>1</noot.nr><noot.al>NOS, 3 maart 2025.</noot.al></noot></al></vraag>
<antwoord><nr>Antwoord 1</nr><al>Ja.</al></antwoord>
<vraag><nr>2</nr><al>Hoeveel nieuwkomers volgen een cursus?</al></vraag>
<antwoord><al>In 2024 volgden 12.000 nieuwkomers een cursus.</al></antwoord>
</kamervragen></officiele-publicatie>""", "ah-tk-20242025-1244.xml")
    (tmp_path / "ah-tk-20242025-1244.metadata.xml").write_text(HEAD + """<metadata_gegevens>
<metadata name="DC.title" content="Vragen over taalcursussen voor nieuwkomers"/>
<metadata name="OVERHEIDop.datumOntvangst" content="2025-03-20"/>
<metadata name="DCTERMS.issued" content="2025-03-24"/>
<metadata name="DC.creator" content="Tweede Kamer der Staten-Generaal"/></metadata_gegevens>""", encoding="utf-8")
    read = xml_ob.read(path)
    assert read.meta == {"title": "Vragen over taalcursussen voor nieuwkomers", "date": "2025-03-20",
                         "url": "https://zoek.officielebekendmakingen.nl/ah-tk-20242025-1244.html",
                         "doc_type": "Kamervragen met antwoorden"}  # a chamber publishes: no author
    assert [b.text for b in read.blocks] == [
        "Vraag 1", "Bent u bekend met het bericht over taalcursussen?\ue0001\ue001", "Antwoord 1", "Ja.",
        "Vraag 2", "Hoeveel nieuwkomers volgen een cursus?", "Antwoord", "In 2024 volgden 12.000 nieuwkomers een cursus."]
    assert read.footnotes == ((1, "NOS, 3 maart 2025."),)
    corpus = scan_corpus(tmp_path)  # the metadata record is read with its publication, not as a document
    assert [d.meta.file for d in corpus.documents] == ["ah-tk-20242025-1244.xml"] and not corpus.skipped
    chunks = passages(corpus.documents[0])
    assert [c.question_numbers for c in chunks] == [(1,), (2,)] and chunks[0].footnotes[0].text == "NOS, 3 maart 2025."


def test_xml_of_another_schema_is_unreadable_with_the_reason(tmp_path):
    path = _write(tmp_path, "<rss><channel><item><title>Nieuws</title></item></channel></rss>")
    with pytest.raises(Unreadable, match=r"^is XML of an unknown schema \(root element <rss>\); Vraagbaak reads"):
        xml_ob.read(path)


def test_broken_xml_is_unreadable_with_the_reason(tmp_path):
    path = _write(tmp_path, "<officiele-publicatie><kamerstuk><al>Afgebroken")
    with pytest.raises(Unreadable, match=r"^is not well-formed XML \(.+, at line \d+, column \d+\); is the file complete\?$"):
        xml_ob.read(path)
    # The position once, libxml2's open-tag line in words (was "… in tag bar line 1, line 1, column 32, line 1").
    path = tmp_path / "kapot.xml"
    path.write_text("<foo><bar>text", encoding="utf-8")
    with pytest.raises(Unreadable) as broken:
        xml_ob.read(path)
    assert str(broken.value).startswith("is not well-formed XML (Premature end of data in tag <bar> (opened on line 1), "
                                        "at line 1, column ")


def test_entities_are_not_expanded_or_fetched(tmp_path):
    path = tmp_path / "entity.xml"
    path.write_text(HEAD + '<!DOCTYPE officiele-publicatie [<!ENTITY geheim SYSTEM "file:///etc/passwd">]>'
                    "<officiele-publicatie><kamerstuk><stuk><al>Tekst &geheim; van de brief die lang genoeg is.</al>"
                    "</stuk></kamerstuk></officiele-publicatie>", encoding="utf-8")
    read = xml_ob.read(path)
    assert "root:" not in read.text and "Tekst" in read.text


def test_one_document_in_two_formats_is_read_once_from_its_xml(tmp_path):
    for suffix in (".pdf", ".xml", ".html"):
        (tmp_path / f"kst-32824-445{suffix}").write_bytes((FORMATS / f"kst-32824-445{suffix}").read_bytes())
    corpus = scan_corpus(tmp_path)
    assert [d.meta.file for d in corpus.documents] == ["kst-32824-445.xml"]
    assert {f.file: f.reason for f in corpus.skipped} == {
        name: "the same document as kst-32824-445.xml (one name, two formats); remove one, or rename it if it is "
              "another document" for name in ("kst-32824-445.html", "kst-32824-445.pdf")}
