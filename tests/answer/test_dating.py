"""dating: date labels, resolved time words, as_of and the horizon notice (rag/answer/dating.py), on the real
corpus's documents and their derived dates."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from rag.answer import dating
from rag.search.recency import TimeFrame

NOW = TimeFrame(present=True)


@pytest.fixture(scope="module")
def metas(documents):
    return {key: documents[doc_id].meta for key, doc_id in (
        ("2013", "ek-nma-intrekking-wom-2013"), ("2013-03", "brief-2013-0000024260"), ("2024", "kst-32824-445"),
        ("2013-12", "voortgang-agenda-integratie-2013"), ("2025", "vragen-actieagenda-integratie-2024"))}


def sources(*metas):
    """Passages as the Dater sees them: only their documents matter."""
    return [SimpleNamespace(document=m) for m in metas]


@pytest.mark.parametrize("language, letter, earlier, answers", [
    ("nl", "brief van 21 november 2024", "Eerder, brief van december 2013",
     "antwoorden op Kamervragen van maart 2025 of later"),
    ("en", "letter of 21 November 2024", "Earlier, letter of December 2013",
     "answers to parliamentary questions of March 2025 or later"),
    ("tr", "21 Kasım 2024 tarihli mektup", "Daha önce, Aralık 2013 tarihli mektup",
     "Mart 2025 veya sonrası tarihli meclis sorularına yanıtlar"),
    ("ar", "رسالة بتاريخ 21 نوفمبر 2024", "سابقاً، رسالة بتاريخ ديسمبر 2013",
     "أجوبة على أسئلة برلمانية بتاريخ مارس 2025 أو بعده"),
    ("pl", "pismo z 21 listopada 2024", "Wcześniej, pismo z grudnia 2013",  # the genitive after "z"
     "odpowiedzi na pytania parlamentarne z marca 2025 lub później"),
    ("uk", "лист від 21 листопада 2024", "Раніше, лист від грудня 2013",  # the genitive after "від"
     "відповіді на депутатські запитання від березня 2025 або пізніше"),
])
def test_labels_in_the_six_languages(metas, language, letter, earlier, answers):
    assert dating.label(metas["2024"], language) == letter
    assert dating.label(metas["2013-12"], language, "earlier") == earlier
    assert dating.label(metas["2025"], language) == answers  # derived: "not before March 2025"
    assert dating.label(metas["2013"], "de") == "memorandum of reply of 2013"  # another language: English


def test_the_dater_labels_each_document_once_and_older_statements_as_earlier(metas):
    passages = sources(metas["2025"], metas["2013-12"], metas["2013-12"], metas["2024"])
    text = "De Actieagenda kent twee pijlers. [1] Het kabinet zet in op drie thema's. [2] Nog een zin. [3] Iets. [4]"
    dater = dating.Dater(passages, "nl", NOW, planned=[1, 2, 3, 4])
    dated = dater.text(text)
    assert dated == ("Antwoorden op Kamervragen van maart 2025 of later: De Actieagenda kent twee pijlers. [1] "
                     "Eerder, brief van december 2013: Het kabinet zet in op drie thema's. [2] Nog een zin. [3] "
                     "Brief van 21 november 2024: Iets. [4]")
    assert dater.labels == {1: "Antwoorden op Kamervragen van maart 2025 of later",
                            2: "Eerder, brief van december 2013", 3: "Eerder, brief van december 2013",
                            4: "Brief van 21 november 2024"}
    assert dating.strip_annotations(dated) == text
    read = dating.read_labels(dated, {1: "a", 2: "b", 3: "b", 4: "c"})
    assert {n: r["role"] for n, r in read.items()} == {1: None, 2: "earlier", 3: "earlier", 4: None}
    # A question about a named past year: what came after it is later, what was then is not earlier.
    then = dating.Dater(passages, "en", TimeFrame(present=False, years=(2013,)), planned=[1, 2]).text(
        "Twee pijlers. [1] Drie thema's. [2]")
    assert then == ("Later, answers to parliamentary questions of March 2025 or later: Twee pijlers. [1] "
                    "Letter of December 2013: Drie thema's. [2]")


def test_relative_time_words_are_resolved_beside_the_verbatim_quote(metas):
    quote = ("In februari van dit jaar heb ik de Kamer geïnformeerd; momenteel loopt een onderzoek, vorig jaar "
             "niet, en op 22 november jl. sprak ik, vóór 1 januari a.s.")
    got = dating.resolve(quote, metas["2013-12"], "nl")
    assert got == ("In februari van dit jaar [= 2013] heb ik de Kamer geïnformeerd; momenteel [stand december 2013] "
                   "loopt een onderzoek, vorig jaar [= 2012] niet, en op 22 november jl. [= 2013] sprak ik, "
                   "vóór 1 januari a.s. [= 2014]")
    assert dating.strip_annotations(got) == quote  # the quote itself is untouched
    assert dating.resolve(got, metas["2013-12"], "nl") == got  # once only
    assert dating.resolve("Wat doen we momenteel?", metas["2025"], "en") == \
        "Wat doen we momenteel [as of March 2025 or later]?"
    assert dating.resolve("eind dit jaar", metas["2025"], "nl") == "eind dit jaar [= 2025]"  # 2025 is certain
    # "dit jaar" in a document known only as December 2013 or later: which year is not certain.
    undated_year = metas["2013-12"].__class__(id="x", title="X", date_source="derived-bound", date_bound="2013-12")
    assert dating.resolve("dit jaar", undated_year, "nl") == "dit jaar"
    # Never a bare "[2013]": every parser here (and Open WebUI) reads that as a citation marker.
    assert "[2013]" not in got and "[2014]" not in got


def test_as_of_and_the_horizon(metas):
    passages = sources(metas["2013-12"], metas["2025"], metas["2024"])
    assert dating.as_of(passages, [1, 3]) == "2024-11-21"
    assert dating.as_of(passages, [1, 2]) == "2025"
    assert dating.as_of(passages, []) is None
    today = datetime.date(2026, 12, 7)
    assert dating.older_than(metas["2013-12"], 3, today) and not dating.older_than(metas["2024"], 3, today)
    assert dating.older_than(metas["2024"], 1, today) and not dating.older_than(metas["2025"], 3, today)
    notice = dating.horizon_notice(metas["2013-12"], "tr", "Informatie Rijksoverheid (1400) (https://www.rijksoverheid.nl)", 3)
    assert notice.startswith("Belgelerde bu konudaki en yeni kaynak Aralık 2013 tarihli")
    assert "https://www.rijksoverheid.nl" in notice
    assert dating.has_notice(f"Zin. [1]\n\n{notice}") and dating.strip_annotations(f"Zin. [1]\n\n{notice}") == "Zin. [1]"


def test_strip_annotations_leaves_plain_answers_alone():
    text = "Op 19 december 2013 is een brief gezonden. [1] In 2013: drie thema's. [2]"
    assert dating.strip_annotations(text) == text
    assert dating.read_labels(text) == {}
