"""Query normalisation (rag/search/query.py) on small invented corpora: no model needed."""

from __future__ import annotations

import unicodedata

import pytest

from rag.search.query import LONG_INPUT_CHARS, QueryNormalizer, learn_acronyms

CORPUS = [
    "De Wet overleg minderhedenbeleid (WOM) is in 2013 ingetrokken. Daarna verviel de WOM.",
    "Het Landelijk Overleg Minderheden (LOM, opgericht in 1985) sprak met de minister.",
    "In Nederland geldt de inburgeringsplicht voor nieuwkomers. Geïntegreerd beleid is het doel: een geïntegreerd plan.",
    "De EU stelt regels voor het verblijf. Het overleg met de EU-lidstaten loopt.",
    "Het Centrum voor Taal en Werk (CTW) geeft cursussen via de gemeente.",
    "Vraag 12 gaat over taal. Vraag 57 gaat over werk.",
]


@pytest.fixture(scope="module")
def normalize():
    return QueryNormalizer(CORPUS)


def test_acronyms_are_learnt_from_the_corpus():
    learnt = learn_acronyms(CORPUS)
    assert learnt["WOM"] == ("Wet overleg minderhedenbeleid",)
    assert learnt["LOM"] == ("Landelijk Overleg Minderheden",)  # "(LOM, opgericht …)" counts too
    assert learnt["CTW"] == ("Centrum voor Taal en Werk",)
    assert "EU" not in learnt  # never spelled out here


@pytest.mark.parametrize("short, long", [
    ("Wanneer verviel de WOM?", "Wanneer verviel de Wet overleg minderhedenbeleid?"),
    ("Wanneer verviel de WOM?", "Wanneer verviel de wet overleg minderhedenbeleid (WOM)?"),
    ("Wie zat in het LOM?", "Wie zat in het Landelijk Overleg Minderheden?"),
    ("Wat doet SZW aan integratie?", "Wat doet ministerie van Sociale Zaken en Werkgelegenheid aan integratie?"),
    ("Wat doet SZW aan integratie?", "Wat doet ministerie van sociale zaken en werkgelegenheid aan integratie?"),
    ("Wat doet de IND?", "Wat doet de Immigratie- en Naturalisatiedienst?"),
])
def test_acronym_and_expansion_become_the_same_query(normalize, short, long):
    assert normalize(short).text == normalize(long).text
    assert "(" in normalize(short).text  # both forms are in it, for both channels


def test_an_acronym_is_not_written_twice_and_other_brackets_and_compounds_stay(normalize):
    assert normalize("Wat deed de WOM (tot 2013)?").text == "Wat deed de Wet overleg minderhedenbeleid (WOM) (tot 2013)?"
    assert normalize("Zijn er LOM-organisaties?").text == "Zijn er LOM-organisaties?"


@pytest.mark.parametrize("typed, plain", [
    ("GEÏNTEGREERD", "geïntegreerd"),
    ("WAT IS DE INBURGERINGSPLICHT IN NEDERLAND?", "Wat is de inburgeringsplicht in Nederland?"),
    ("Wat is de INBURGERINGSPLICHT?", "Wat is de inburgeringsplicht?"),
    ("WAT ZEGT DE EU OVER VERBLIJF?", "Wat zegt de EU over verblijf?"),  # EU: only ever in capitals
    (unicodedata.normalize("NFD", "Geïntegreerd beleid"), "Geïntegreerd beleid"),
    ("İnburgeringsplicht", "Inburgeringsplicht"),  # Turkish dotted capital İ
    ("ınburgeringsplicht", "inburgeringsplicht"),  # dotless ı
    ("İNBURGERİNGSPLİCHT NEDİR?", "Inburgeringsplicht nedir?"),
    ("De \ufb01nanciering", "De financiering"),  # ligature
])
def test_case_unicode_and_turkish_i(normalize, typed, plain):
    assert normalize(typed).text == normalize(plain).text == plain


def test_turkish_words_and_unknown_capitals_stay_as_typed(normalize):
    assert normalize("Entegrasyon politikası nedir?").text == "Entegrasyon politikası nedir?"
    assert normalize("Wat doet het XYZ-fonds?").text == "Wat doet het XYZ-fonds?"


def test_a_long_input_gets_its_question_as_focus(normalize):
    letter = ("Geachte heer, mevrouw. " + "In uw brief schrijft u over het beleid van de gemeente. " * 20).strip()
    assert len(letter) > LONG_INPUT_CHARS
    q57 = normalize(letter + " Wat is het antwoord op Vraag 57?")
    q12 = normalize(letter + " Wat is het antwoord op Vraag 12?")
    assert (q57.focus, q12.focus) == ("Wat is het antwoord op Vraag 57?", "Wat is het antwoord op Vraag 12?")
    assert normalize("Wat is het antwoord op Vraag 57?").focus is None  # a plain question has none
    assert normalize(letter).focus == "In uw brief schrijft u over het beleid van de gemeente."


@pytest.mark.parametrize("question, numbers", [
    ("Wat is het antwoord op Vraag 57?", {57}),
    ("Wat staat er bij vragen 12 en 13?", {12, 13}),
    ("What is the answer to question 7, 8 and 9?", {7, 8, 9}),
    ("Hoeveel vragen zijn er in 2024 gesteld?", set()),
])
def test_numbered_questions_are_recognised(normalize, question, numbers):
    assert normalize(question).question_numbers == numbers
