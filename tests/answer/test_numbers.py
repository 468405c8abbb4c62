"""Numbers as claims (rag/answer/numbers.py): notation per language, magnitude, unit, range order and
direction, against real sentences of the corpus. No model needed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rag.answer.numbers import NumberFacts, number_values, parse_token, read

# Real corpus sentences (vragen-actieagenda-integratie-2024, voortgang-agenda-integratie-2013).
PARTICIPATION = ("Ook met betrekking tot de arbeidsparticipatie tekent zich bij de groep met buiten-Europese achtergrond "
                 "een positieve ontwikkeling af over de laatste 20 jaar: de participatiegraad is tussen 2003 en 2023 "
                 "gestegen van 57,1% tot 68,3% en de achterstand ten opzichte van het Nederlandse gemiddelde is in die "
                 "periode afgenomen van – 7,1%-punt tot – 4,8%-punt.")
BUDGET = ("Aan dit verzoek is tegemoet gekomen door eenmalig € 20 miljoen beschikbaar te stellen voor de handhaving "
          "van inburgeringsplichtigen in 2014 en volgende jaren. Het bedrag van € 20 miljoen wordt over de gemeenten "
          "verdeeld naar rato van het aantal personen dat nog aan de inburgeringsplicht moet voldoen (landelijk ruim "
          "51.000 per 1 oktober 2013).")
ORANJE = ("In totaal wordt aan zes initiatieven € 370.000 besteed gedurende twee jaar (2024–2025). Voor dit jaar "
          "betekent dit dat ruim € 300K aan subsidies is verstrekt; voor de periode 2022–2025 is ongeveer € 1,3 mln. "
          "beschikbaar.")
WORK = ("In de totale bevolking hebben mannen (77 procent) sowieso vaker betaald werk dan vrouwen (69 procent), maar "
        "het man-vrouwverschil is groter bij migranten (72 tegen 61 procent). Dit neemt af tot 34% na 8,5 jaar.")
FACTS = NumberFacts.of(" ".join([PARTICIPATION, BUDGET, ORANJE, WORK]))


@pytest.mark.parametrize("token, language, value", [
    ("68,3", "nl", "68.3"), ("68,3", "en", "68.3"), ("6.83", "en", "6.83"), ("1.200", "nl", "1200"),
    ("1.200", "en", "1.2"), ("1,200", "en", "1200"), ("1,200", "nl", "1.2"), ("1.200", "tr", "1200"),
    ("1 200", "pl", "1200"), ("1\u00a0200", "uk", "1200"), ("68.3", "ar", "68.3"), ("٦٨٫٣", "ar", "68.3"),
    ("١٬٢٠٠", "ar", "1200"), ("370.000", "nl", "370000"), ("1.200,5", "nl", "1200.5"),
])
def test_tokens_are_read_in_the_writers_notation(token, language, value):
    assert parse_token(token, language) == Decimal(value)


def test_magnitudes_units_and_number_words():
    assert number_values("€ 20 miljoen") == number_values("20.000.000 euro") == {"20000000"}
    assert number_values("twintig miljoen euro") == {"20000000"}
    assert number_values("20 million euros", "en") == number_values("€20m", "en") == {"20000000"}
    assert number_values("20 milyon avro", "tr") == number_values("20 млн євро", "uk") == {"20000000"}
    assert number_values("ruim € 300K") == {"300000"} and number_values("€ 1,3 mln.") == {"1300000"}
    assert number_values("minstens veertig vrouwen") == {"40"} and number_values("drie organisaties") == {"3"}
    assert number_values("de Tweede Kamer, de 3e keer") == set()  # ordinals are not quantities
    assert number_values("De regering acht het van belang") == set()  # the verb, not eight
    units = {q.written: q.unit for q in read("57,1% en 7,1%-punt, 80 procent, 2,4 procentpunt, 20 jaar, in 2013").quantities}
    assert units == {"57,1%": "percent", "7,1%-punt": "point", "80 procent": "percent", "2,4 procentpunt": "point",
                     "20 jaar": "year", "2013": None}


def test_ranges_keep_their_order_in_every_language():
    def pairs(text, language="nl"):
        reading = read(text, language)
        return [(a.token, b.token) for a, b in reading.ranges]

    assert pairs(PARTICIPATION) == [("57,1", "68,3"), ("7,1", "4,8")]
    assert pairs("geslonken van 2,4%-punt in 2005 tot 0,8%-punt in 2023") == [("2,4", "0,8")]
    assert pairs("rose from 57.1% in 2003 to 68.3% in 2023", "en") == [("57.1", "68.3")]
    assert pairs("%57,1'den %68,3'e yükseldi", "tr") == [("57,1", "68,3")]
    assert pairs("wzrósł z 57,1% do 68,3%", "pl") == pairs("зріс з 57,1% до 68,3%", "uk") == [("57,1", "68,3")]
    assert pairs("ارتفع من ٥٧٫١٪ إلى ٦٨٫٣٪", "ar") == [("٥٧٫١", "٦٨٫٣")]
    assert pairs("voor de periode 2022–2025") == [("2022", "2025")]


@pytest.mark.parametrize("language, sentence", [
    ("nl", "De participatiegraad is tussen 2003 en 2023 gestegen van 57,1% tot 68,3%."),
    ("nl", "De participatiegraad steeg naar 68,3 procent."),
    ("en", "The participation rate rose from 57.1% to 68.3% between 2003 and 2023."),
    ("en", "The participation rate rose from 57,1% to 68,3%."),  # the source's notation, copied
    ("tr", "Katılım oranı %57,1'den %68,3'e yükseldi."),
    ("ar", "ارتفع معدل المشاركة من ٥٧٫١٪ إلى ٦٨٫٣٪."),
    ("pl", "Wskaźnik zatrudnienia wzrósł z 57,1% do 68,3%."),
    ("uk", "Рівень участі зріс з 57,1% до 68,3%."),
    ("nl", "De achterstand nam af van 7,1 tot 4,8 procentpunt."),
    ("en", "The gap narrowed from 7.1 to 4.8 percentage points."),
    ("nl", "Er is eenmalig twintig miljoen euro beschikbaar gesteld."),
    ("en", "A one-off 20 million euros was made available."),
    ("en", "A one-off €20,000,000 was made available."),
    ("tr", "Bir kerelik 20 milyon avro ayrıldı."),
    ("en", "Six initiatives receive €370,000 in total."),
    ("en", "Six initiatives receive € 370.000 in total."),  # copied notation
    ("nl", "Zes initiatieven krijgen samen 370 duizend euro."),
    ("en", "Men worked more often than women (77 versus 69 percent)."),
    ("nl", "Bij migranten was het 72 procent tegen 61 procent."),
    ("en", "Around 1.3 million euros is available for 2022-2025."),
])
def test_correct_figures_pass(language, sentence):
    assert FACTS.missing(sentence, language) == []


@pytest.mark.parametrize("language, sentence, reason", [
    ("nl", "De participatiegraad steeg naar 6,83%.", "number 6,83%"),  # decimal moved
    ("en", "The participation rate rose to 6.83%.", "number 6.83%"),
    ("nl", "De participatiegraad is gestegen van 68,3% tot 57,1%.", "range 68,3% … 57,1% reversed"),
    ("en", "The participation rate rose from 68.3% to 57.1%.", "range 68.3% … 57.1% reversed"),
    ("tr", "Katılım oranı %68,3'ten %57,1'e yükseldi.", "reversed"),
    ("nl", "De participatiegraad is gedaald van 57,1% tot 68,3%.", "direction (gedaald)"),
    ("en", "The participation rate fell from 57.1% to 68.3%.", "direction (fell)"),
    ("nl", "Er is eenmalig € 20 miljard beschikbaar gesteld.", "number € 20 miljard"),  # magnitude changed
    ("en", "A one-off 20 billion euros was made available.", "number 20 billion euros"),
    ("nl", "De participatiegraad is gestegen naar 68,3 procentpunt.", "unit of 68,3 procentpunt"),  # unit changed
    ("nl", "De achterstand nam af van 7,1% tot 4,8%.", "unit of 7,1%"),
    ("nl", "Er is eenmalig 20 miljoen jaar beschikbaar gesteld.", "20 miljoen jaar"),
    ("nl", "Het aantal neemt toe tot 34% na 8,5 jaar.", "direction (neemt toe)"),
    ("en", "About 1,200 organisations took part.", "number 1,200"),
])
def test_changed_figures_are_named(language, sentence, reason):
    missing = FACTS.missing(sentence, language)
    assert any(reason in m for m in missing), missing
