"""Questions as people type them retrieve like their plain form (real model, real index; issue 13)."""

from __future__ import annotations

import unicodedata

import pytest

from rag.config import PROJECT_ROOT


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


# (plain form, variant): capitals, NFD, Turkish İ, acronym vs its expansion.
PAIRS = [
    ("Waarom is het overleg met minderhedenorganisaties gestopt?",
     "WAAROM IS HET OVERLEG MET MINDERHEDENORGANISATIES GESTOPT?"),
    ("geïntegreerd", "GEÏNTEGREERD"),
    ("Wat is de participatieverklaring?", "WAT IS DE PARTICIPATIEVERKLARING?"),
    ("geïntegreerd", nfd("geïntegreerd")),
    ("Wat betekent financiële zelfstandigheid voor nieuwkomers?",
     nfd("Wat betekent financiële zelfstandigheid voor nieuwkomers?")),
    ("Hoe wordt de integratie van Eritreeërs ondersteund?", nfd("Hoe wordt de integratie van Eritreeërs ondersteund?")),
    ("inburgering", "İnburgering"),
    ("Inburgeringsplicht voor nieuwkomers", "İnburgeringsplicht voor nieuwkomers"),
    ("Inburgering en werk", "İNBURGERİNG EN WERK"),
    ("Wat doet het ministerie van Sociale Zaken en Werkgelegenheid aan integratie?", "Wat doet SZW aan integratie?"),
    ("Wanneer verviel de Wet overleg minderhedenbeleid?", "Wanneer verviel de WOM?"),
    ("Wat was de rol van het Landelijk Overleg Minderheden?", "Wat was de rol van het LOM?"),
    ("Wat doet het Kennisplatform Inclusieve Samenleving?", "Wat doet het KIS?"),
]


def top5(service, question: str) -> list[str]:
    return [p.chunk.id for p in service.search(question, top_k=5).passages]


@pytest.mark.parametrize("plain, variant", PAIRS)
def test_variant_shares_at_least_4_of_its_top_5_with_the_plain_form(service, plain, variant):
    shared = set(top5(service, plain)) & set(top5(service, variant))
    assert len(shared) >= 4, (plain, variant, len(shared))


def test_the_question_after_a_long_pasted_text_steers_retrieval(service):
    letter = (PROJECT_ROOT / "data" / "corpus" / "001_5cb22294ce2f5ea5.txt").read_text(encoding="utf-8")[:1800]
    results = {n: service.search(f"{letter}\nWat is het antwoord op Vraag {n}?", top_k=5).passages for n in (57, 12)}
    assert [p.chunk.id for p in results[57]] != [p.chunk.id for p in results[12]]
    for n, passages in results.items():
        assert any(n in p.citation.question_numbers for p in passages), (n, [p.citation.label for p in passages])
