"""retrieve: real questions through the real service (model + FAISS + BM25, or PostgreSQL + pgvector),
filters, duplicate collapsing. Every test runs on both stores (``any_service``)."""

from __future__ import annotations

import json
import re

import pytest

from eval.metrics import contains
from rag.config import PROJECT_ROOT
from rag.search.retrieve import Filters

DEV_QUESTIONS = PROJECT_ROOT / "data" / "eval" / "dev.jsonl"

QUESTIONS = {q["id"]: q for q in (json.loads(line) for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()
                                   if line.strip())}

# Questions the service answers at rank 1 today; the test allows the top 5, so tuning can move them a little.
DUTCH = ["da003", "da004", "da011", "da012", "db006", "db015"]
ENGLISH = ["db004", "db009", "db019", "db021"]


@pytest.mark.parametrize("qid", DUTCH + ENGLISH)
def test_dev_question_finds_its_gold_quote_in_the_top_5(any_service, qid):
    q = QUESTIONS[qid]
    service = any_service
    files = {d.file: d.id for d in service.index.documents.values()}
    result = service.search(q["question"], top_k=5)
    assert len(result.passages) == 5
    for gold in q["gold"]:
        doc_id = files[gold["doc"]]
        hits = [p.rank for p in result.passages if p.document.id == doc_id and contains(p.chunk.text, gold["quote"])]
        assert hits, f"{qid}: gold quote not in the top 5: {[p.citation.label for p in result.passages]}"


def test_languages_covered():
    assert {QUESTIONS[q]["lang"] for q in DUTCH} == {"nl"} and {QUESTIONS[q]["lang"] for q in ENGLISH} == {"en"}


def test_ranks_scores_and_citations(any_service):
    result = any_service.search("Waarom is het overleg met minderhedenorganisaties gestopt?", top_k=7)
    passages = result.passages
    assert [p.rank for p in passages] == list(range(1, 8))
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True)
    for p in passages:
        assert p.citation.label.startswith(p.document.title)
        assert (p.citation.char_start, p.citation.char_end) == (p.chunk.char_start, p.chunk.char_end)
    assert result.query == "Waarom is het overleg met minderhedenorganisaties gestopt?"
    d = result.to_dict()
    assert set(d) == {"query", "results", "took_ms"} and d["took_ms"] >= 0
    json.dumps(d)  # serialisable as is


def test_filter_by_document(any_service):
    docs = ("kst-32824-445", "brief-2013-0000024260")
    result = any_service.search("dialoog met maatschappelijke organisaties", top_k=8, filters=Filters(doc_ids=docs))
    assert len(result.passages) == 8
    assert {p.document.id for p in result.passages} == set(docs)


@pytest.mark.parametrize("date_from, date_to, allowed", [
    # The Q&A document's date is derived from its text (rag/ingest/dates.py: 2025, not before March), so it matches.
    ("2024", None, {"kst-32824-445", "vragen-actieagenda-integratie-2024"}),
    ("2025", None, {"vragen-actieagenda-integratie-2024"}),
    (None, "2013-12-31", {"ek-nma-intrekking-wom-2013", "brief-2013-0000024260", "voortgang-agenda-integratie-2013"}),
    # "2013" covers the whole year, so it overlaps March; "2013-12" does not.
    ("2013-03", "2013-03-31", {"ek-nma-intrekking-wom-2013", "brief-2013-0000024260"}),
])
def test_filter_by_date_range(any_service, date_from, date_to, allowed):
    filters = Filters(date_from=date_from, date_to=date_to)
    result = any_service.search("integratie en overleg met migrantenorganisaties", top_k=10, filters=filters)
    assert result.passages
    assert {p.document.id for p in result.passages} <= allowed


def test_filter_that_matches_nothing_gives_no_passages(any_service):
    result = any_service.search("integratie", filters=Filters(date_from="2030"))
    assert result.passages == []


def test_repeated_answers_are_collapsed_into_one_passage(any_service):
    # Questions 79 and 80 carry the same answer text; it must come back once, citing both.
    result = any_service.search("Op welke monoculturele, hechte of gesloten gemeenschappen doelt u?", top_k=10)
    keys = [(p.document.id, p.chunk.answer_key) for p in result.passages if p.chunk.answer_key]
    assert len(keys) == len(set(keys))
    texts = [" ".join(p.chunk.text.split()) for p in result.passages]
    assert len(texts) == len(set(texts))
    merged = next(p for p in result.passages if {79, 80} <= set(p.citation.question_numbers))
    assert merged.duplicates
    assert re.search(r"Vragen [\d, ]*\b79\b[\d, ]*(, | en )80\b", merged.citation.label), merged.citation.label
    assert merged.to_dict()["question_numbers"] == sorted(merged.citation.question_numbers)


def test_a_month_covers_its_whole_month():
    from rag.search.stores.base import period

    assert period("2013") == ("2013-01-01", "2013-12-31")
    assert period("2013-02") == ("2013-02-01", "2013-02-28")  # was "2013-02-12": "-12-31" cut to ten characters
    assert period("2024-02") == ("2024-02-01", "2024-02-29")
    assert period("2013-12-19") == ("2013-12-19", "2013-12-19")


def test_the_documented_date_pattern_is_check_dates_rule():
    # The OpenAPI document states the filter dates as one pattern (api/schemas.py); it must admit exactly
    # what check_date admits: every year 0000-9999 as a year, a month, 28/29 February and 31 December,
    # and every month and day of a few years (ordinary, leap, century, 400-year, the ends of the range).
    from rag.search.stores.base import DATE_PATTERN, check_date

    pattern = re.compile(DATE_PATTERN)

    def real(text: str) -> bool:
        try:
            return check_date(text) == text
        except ValueError:
            return False

    candidates = [f"{y:04d}{tail}" for y in range(10_000) for tail in ("", "-01", "-13", "-02-28", "-02-29", "-12-31")]
    candidates += [f"{y}-{m:02d}-{d:02d}" for y in ("0001", "0004", "0100", "0400", "1900", "2000", "2013", "2024", "9999")
                   for m in range(14) for d in range(33)]
    candidates += ["2013-1", "2013-001", "201", "20130", "2013-02-3", " 2013", "2013 ", "٢٠١٣", "2013-02-30", ""]
    wrong = [c for c in candidates if bool(pattern.fullmatch(c)) != real(c)]
    assert not wrong, wrong[:20]
