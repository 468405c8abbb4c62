"""eval.answer_metrics: every answer metric on cases small enough to score by hand.
A metric that cannot fail is a defect, so each test also has a case that scores low."""

from __future__ import annotations

import pytest

from eval import answer_metrics as am
from eval.answer_metrics import SentenceJudgements as S
from eval.metrics import percentile


def test_citation_recall_counts_sentences_whose_citations_support_them():
    sentences = [S("a", (1,), True), S("b", (2,), False), S("c", (), False, any_source_supports=True), S("d", (1, 2), True)]
    assert am.citation_recall(sentences) == pytest.approx(2 / 4)  # "c" has no citation: 0 even if true
    assert am.citation_recall([]) is None


def test_citation_precision_follows_alce():
    # one citation: relevant exactly when it supports the sentence
    assert am.citation_precision([S("a", (1,), True)]) == 1.0
    assert am.citation_precision([S("a", (1,), False)]) == 0.0
    # [1][2] together support it; [2] alone does not and [1] suffices without it -> [2] is irrelevant
    s = S("b", (1, 2), True, alone={1: True, 2: False}, without={1: False, 2: True})
    assert am.irrelevant_citations(s) == [2]
    assert am.citation_precision([s]) == pytest.approx(1 / 2)
    # each needed for the other (neither alone, neither without): both relevant
    both = S("c", (1, 2), True, alone={1: False, 2: False}, without={1: False, 2: False})
    assert am.citation_precision([both]) == 1.0
    assert am.citation_precision([s, both, S("d", (3,), False)]) == pytest.approx(3 / 5)
    assert am.citation_precision([S("e", (), False)]) is None


def test_faithfulness_accepts_support_from_any_shown_source():
    sentences = [S("a", (1,), True), S("b", (2,), False, any_source_supports=True), S("c", (1,), False)]
    assert am.faithfulness(sentences) == pytest.approx(2 / 3)
    assert am.faithfulness([S("x", (1,), False)]) == 0.0


def test_unsupported_facts_finds_numbers_dates_and_names_missing_from_the_cited_passages():
    passage = "Op 19 december 2013 heeft het SCP 150 deelnemers ontvangen in Utrecht."
    assert am.unsupported_facts("Het SCP ontving op 19 december 2013 zo'n 150 deelnemers.", [passage]) == []
    found = am.unsupported_facts("Het CBS ontving op 19 november 2013 zo'n 250 deelnemers.", [passage])
    assert found == ["number 250", "date 19 november 2013", "name CBS"]


def test_key_fact_recall_compares_numbers_names_and_words():
    reference = "Op 19 december 2013 stuurde de minister een brief over de participatieverklaring."
    assert am.key_fact_recall("De brief over de participatieverklaring ging op 19 december 2013 naar de Kamer [1].",
                              reference, same_language=True) == 1.0
    low = am.key_fact_recall("Het SCP doet onderzoek naar discriminatie [1].", reference, same_language=True)
    assert low == 0.0
    # across languages only numbers, dates and names count
    assert am.key_fact_recall("On 19 December 2013 a letter was sent.", reference, same_language=False) == 1.0
    assert am.key_fact_recall("A letter was sent in 2014.", reference, same_language=False) < 0.5


def test_abstention_precision_recall_f1_and_false_abstentions():
    rows = [(False, True), (False, False), (True, True), (True, False), (True, False)]
    scores = am.abstention_scores(rows)
    assert (scores["precision"], scores["recall"], scores["false_abstentions"]) == (0.5, 0.5, 1)
    assert scores["f1"] == pytest.approx(0.5)
    assert scores["false_abstention_rate"] == pytest.approx(1 / 3)
    never = am.abstention_scores([(False, False), (True, False)])
    assert never["precision"] is None and never["recall"] == 0.0 and never["f1"] == 0.0


def test_flesch_douma_by_textstat_matches_the_formula_on_hand_counted_examples():
    """Douma's formula (206.835 − 0.93 · words/sentence − 77 · syllables/word; nl.wikipedia.org/wiki/Leesbaarheid)
    on sentences whose syllables are counted by hand, so textstat's Dutch support is checked, not assumed."""
    # 6 words, 6 syllables, 1 sentence
    assert am.flesch_douma("De kat zit op de mat [1].") == pytest.approx(206.835 - 0.93 * 6 - 77 * 6 / 6, abs=0.01)
    # de(1) ge-meen-te(3) helpt(1) nieuw-ko-mers(3) met(1) in-bur-ge-ren(4) = 13 syllables; wij(1) hel-pen(2)
    # ook(1) = 4: 9 words, 17 syllables, 2 sentences
    two = am.flesch_douma("De gemeente helpt nieuwkomers met inburgeren [1]. Wij helpen ook [2].")
    assert two == pytest.approx(206.835 - 0.93 * 9 / 2 - 77 * 17 / 9, abs=0.01)
    # Dutch long words: in-te-gra-tie-be-leid (6), min-der-he-den-or-ga-ni-sa-ties (9), 1 sentence of 3 words
    long = am.flesch_douma("Integratiebeleid voor minderhedenorganisaties.")
    assert long == pytest.approx(206.835 - 0.93 * 3 - 77 * 16 / 3, abs=0.01)
    hard = am.flesch_douma("De implementatie van het integratiebeleid vereist een zorgvuldige afstemming tussen "
                           "verschillende overheidsorganisaties en maatschappelijke partners.")
    assert two > 30 > hard
    assert am.flesch_douma("[1]") is None


def test_percentile_and_mean_skip_missing_values():
    assert percentile([5, 1, 3, None], 0.5) == 3
    assert percentile([], 0.5) is None
    assert am.mean([1, None, 0]) == 0.5


def _record(answerable, abstained, referral=None, first=None):
    answer = {"abstained": abstained}
    if referral is not None:
        answer["referral"] = referral
    r = {"answerable": answerable, "answer": answer}
    if first is not None:
        r["correctness"] = {"first_sentence_key_fact": first}
    return r


def test_referral_share_reads_the_answer_and_tolerates_its_absence():
    from eval.answer_metrics import referral_share

    records = [_record(False, True, referral={"channel": "IND"}), _record(False, True), _record(False, False),
               _record(True, True, referral=None), _record(True, False)]
    s = referral_share(records)
    assert s["unanswerable"] == 3 and s["referred"] == 1 and abs(s["share"] - 1 / 3) < 1e-9
    assert s["abstentions"] == 3 and s["abstentions_with_referral"] == 1
    assert referral_share([_record(True, False)])["share"] is None


def test_leads_with_answer_counts_first_sentences_holding_a_key_fact():
    from eval.answer_metrics import leads_with_answer

    records = [_record(True, False, first=True), _record(True, False, first=False), _record(True, True),
               _record(True, False), _record(False, False, first=True)]
    s = leads_with_answer(records)
    assert (s["answerable"], s["answered"], s["first_holds"]) == (4, 2, 1)
    assert s["share_answered"] == 0.5 and s["share_answerable"] == 0.25


# ------------------------------------------------------------------------------------ dates (issue 24)

def test_a_sentence_shows_a_statement_when_it_holds_it_or_shares_a_clause_with_it():
    quote = "Zoals aangekondigd in de Agenda Integratie worden de inburgeringseisen verder aangescherpt"
    assert am.shows("Zoals aangekondigd in de Agenda Integratie worden de inburgeringseisen verder aangescherpt "
                    "door de inburgeringsplicht uit te breiden.", quote)
    assert am.shows("de inburgeringseisen verder aangescherpt", quote)  # a quote longer than the sentence
    assert am.shows("Nu: de inburgeringseisen worden verder aangescherpt", quote) is False  # reworded
    assert am.shows("De Actieagenda kent twee pijlers.", quote) is False


_Q = {"gold": [{"doc": "004.txt", "quote": "De Actieagenda kent twee pijlers"}],
      "stale": [{"doc": "003.txt", "quote": "Het kabinet zet bij het integratiebeleid in op drie thema's"}],
      "kind": "now"}
_FILES = {"004.txt": "answers", "003.txt": "letter"}
_KEYS = {"answers": "2025-07-31", "letter": "2013-12-16"}
_SOURCES = {1: {"doc": "letter", "date": "2013-12", "key": "2013-12-16",
                "text": "Het kabinet zet bij het integratiebeleid in op drie thema's: 1 Meedoen …"},
            2: {"doc": "answers", "date": "2025", "key": "2025-07-31", "text": "De Actieagenda kent twee pijlers, één …"},
            3: {"doc": "answers", "date": "2025", "key": "2025-07-31", "text": "Iets anders uit 2025."}}


def _score(sentences, labels, as_of="2025", q=_Q, notice=False):
    return am.dating_scores(q, sentences, _SOURCES, labels, as_of, notice, _FILES, _KEYS)


def test_dating_scores_newest_first_and_the_older_one_labelled_earlier():
    sentences = [{"text": "De Actieagenda kent twee pijlers, één gericht op nieuwkomers.", "source": None, "cites": [2]},
                 {"text": "Het kabinet zet bij het integratiebeleid in op drie thema's:", "source": None, "cites": [1]}]
    got = _score(sentences, {2: {"role": None}, 1: {"role": "earlier"}})
    assert got["newest_cited"] and got["newest_leads"] and got["gold_cited"] and got["gold_leads"]
    assert got["stale_shown"] and not got["stale_current"]
    assert got["dated"] and got["as_of_ok"]


def test_dating_scores_a_stale_statement_presented_as_current():
    sentences = [{"text": "Het kabinet zet bij het integratiebeleid in op drie thema's:", "source": None, "cites": [1]},
                 {"text": "Iets anders uit 2025.", "source": None, "cites": [3]}]
    got = _score(sentences, {1: {"role": None}}, as_of="2013-12")
    assert got["stale_current"] and got["newest_cited"] and not got["newest_leads"]
    assert not got["gold_cited"]  # a 2025 passage, but not the gold one
    assert not got["dated"]  # source [3] has no label
    assert not got["as_of_ok"]  # the newest cited source is from 2025
    # a plain rewrite shows the stale statement through its verbatim source sentence
    rewritten = [{"text": "The government works on three themes.", "source": sentences[0]["text"], "cites": [1]}]
    assert _score(rewritten, {})["stale_current"]


def test_dating_scores_past_questions_are_answered_from_their_time():
    q = {"gold": [{"doc": "003.txt", "quote": "drie thema's"}], "newer": [{"doc": "004.txt", "quote": "twee pijlers"}],
         "kind": "past"}
    from_then = [{"text": "Het kabinet zet bij het integratiebeleid in op drie thema's:", "source": None, "cites": [1]}]
    assert _score(from_then, {1: {"role": None}}, "2013-12", q)["from_time"]
    from_now = [{"text": "De Actieagenda kent twee pijlers.", "source": None, "cites": [2]}] + from_then
    got = _score(from_now, {2: {"role": None}, 1: {"role": None}}, q=q)
    assert not got["from_time"] and got["newer_current"]
    assert not _score(from_now, {2: {"role": "later"}, 1: {"role": None}}, q=q)["newer_current"]


def test_dating_summary_counts_answered_questions_by_kind():
    rows = [{"kind": "now", "answer": {"abstained": False}, "dating": {"newest_cited": True, "newest_leads": True,
             "gold_cited": False, "gold_leads": False, "stale_shown": True, "stale_current": True, "notice": True}},
            {"kind": "now", "answer": {"abstained": False}, "dating": {"newest_cited": False, "newest_leads": False,
             "gold_cited": False, "gold_leads": False, "stale_shown": False, "stale_current": False, "notice": False}},
            {"kind": "now", "answer": {"abstained": True}, "dating": {}},
            {"kind": "past", "answer": {"abstained": False}, "dating": {"from_time": True, "gold_leads": True,
                                                                       "newer_current": False}}]
    for r in rows:
        r["dating"].update(dated=True, as_of_ok=r["kind"] == "now")
    got = am.dating_summary(rows)
    assert got["now"]["answered"] == 2 and got["now"]["of"] == 3
    assert got["now"]["newest_cited"] == 0.5 and got["now"]["stale_current"] == 0.5
    assert got["now"]["stale_current_lenient"] == 0.0  # the stale answer carries the horizon notice
    assert got["past"]["from_time"] == 1.0 and got["as_of_ok"] == pytest.approx(2 / 3, abs=1e-4) and got["dated"] == 1.0
