"""rag/ingest/formats/kamerstuk.py: what a Kamerstuk's or a letter's printed head and metadata fields say."""

from __future__ import annotations

from rag.ingest.formats.kamerstuk import (doc_type, from_fields, kamerstuk_ident, office, read_head, reference,
                                          title_case)


def test_references_and_identifiers_as_the_kamer_prints_them():
    assert reference("32824", "445") == reference("32 824", "445") == "Kamerstuk 32 824, nr. 445"
    assert reference("36800-XV", "12") == "Kamerstuk 36 800 XV, nr. 12"
    assert kamerstuk_ident("32 824", "451") == "kst-32824-451"
    assert kamerstuk_ident("36 800 XV", "12") == "kst-36800-XV-12"


def test_types_and_offices_from_the_printed_title():
    assert doc_type("BRIEF VAN DE STAATSSECRETARIS VAN SOCIALE ZAKEN EN WERKGELEGENHEID") == "Kamerbrief"
    assert doc_type("LIJST VAN VRAGEN EN ANTWOORDEN") == "Lijst van vragen en antwoorden"
    assert doc_type("MOTIE VAN HET LID BECKER C.S.") == "Motie"
    assert office("BRIEF VAN DE MINISTER VOOR ARMOEDEBELEID, PARTICIPATIE EN PENSIOENEN") == \
        "Minister voor Armoedebeleid, Participatie en Pensioenen"
    assert office("MOTIE VAN HET LID BECKER") is None
    assert title_case("STAATSSECRETARIS VAN SOCIALE ZAKEN EN WERKGELEGENHEID") == \
        "Staatssecretaris van Sociale Zaken en Werkgelegenheid"


def test_the_head_of_a_kamerstuk_and_of_a_ministrys_letter():
    kamerstuk = read_head(["Tweede Kamer der Staten-Generaal 2", "Vergaderjaar 2024–2025", "32 824 Integratiebeleid",
                           "Nr. 445 BRIEF VAN DE STAATSSECRETARIS VAN SOCIALE ZAKEN EN", "WERKGELEGENHEID",
                           "Aan de Voorzitter van de Tweede Kamer der Staten-Generaal", "Den Haag, 21 november 2024"])
    assert {k: v for k, (v, _) in kamerstuk.items()} == {
        "reference": "Kamerstuk 32 824, nr. 445", "url": "https://zoek.officielebekendmakingen.nl/kst-32824-445.html",
        "doc_type": "Kamerbrief", "author": "Staatssecretaris van Sociale Zaken en Werkgelegenheid", "date": "2024-11-21"}
    running = read_head(["Tweede Kamer, vergaderjaar 2013–2014, 32 824, nr. 47 3"])
    assert running["reference"] == ("Kamerstuk 32 824, nr. 47", "running header")
    letter = read_head(["Onze referentie 2013-0000024260", "Datum 5 maart 2013", "Betreft Intrekking WOM"])
    assert {k: v for k, (v, _) in letter.items()} == {"reference": "2013-0000024260", "date": "2013-03-05",
                                                       "title": "Intrekking WOM"}
    # A date in running text is not the document's date; nor is a figure the Kamerstuk's number.
    assert read_head(["In juli 2013 is de WOM ingetrokken.", "20 000 mensen volgden een cursus", "Nr. 3 is goed"]) == {}


def test_metadata_fields_the_document_date_before_the_publication_date():
    meta, sources = from_fields({"DCTERMS.issued": ["2024-11-26"], "OVERHEIDop.datumBrief": ["2024-11-21"],
                                 "dc.title": ["Brief"], "DC.creator": ["Ministerie van SZW"]}, "HTML meta")
    assert meta == {"title": "Brief", "date": "2024-11-21", "author": "Ministerie van SZW"}
    assert sources["date"] == "HTML meta OVERHEIDop.datumBrief" and sources["title"] == "HTML meta DC.title"
