"""eval.metrics: the quote-matching rule and the ranking metrics, on cases small enough to do by hand."""

from __future__ import annotations

import math

import pytest

from eval import metrics


def test_contains_ignores_case_punctuation_whitespace_and_hyphenation():
    passage = "Over de ontwikkeling van de participatie-\nverklaring is op 19 december 2013 een brief gezonden."
    assert metrics.contains(passage, "Over de ontwikkeling van \nde participatieverklaring is op 19 december")
    assert metrics.contains(passage, "PARTICIPATIEVERKLARING, IS OP 19-december")
    assert metrics.contains("«Etnisch profileren» is…", "etnisch profileren is")
    assert not metrics.contains(passage, "20 december 2013")
    assert not metrics.contains(passage, "")
    assert not metrics.contains(passage, " .,;- ")  # nothing left to match


def test_normalise_keeps_letters_and_digits_of_any_script():
    assert metrics.normalise("Één café, 2013–2014!") == "ééncafé20132014"


def test_relevance_marks_the_quotes_each_passage_contains():
    rel = metrics.relevance(["Alpha beta.", "Gamma; delta", "beta gamma"], ["alpha", "DELTA", "zeta"])
    assert rel == [{0}, {1}, set()]


REL = [set(), {0}, set(), {0, 1}]  # two gold quotes: the first found at rank 2, the second at rank 4


@pytest.mark.parametrize("k, recall, hit", [(1, 0.0, 0.0), (2, 0.5, 1.0), (3, 0.5, 1.0), (4, 1.0, 1.0), (10, 1.0, 1.0)])
def test_recall_and_hit_at_k(k, recall, hit):
    assert metrics.recall_at_k(REL, 2, k) == recall
    assert metrics.hit_at_k(REL, k) == hit


def test_reciprocal_rank():
    assert metrics.reciprocal_rank(REL) == 0.5
    assert metrics.reciprocal_rank([{0}]) == 1.0
    assert metrics.reciprocal_rank([set(), set()]) == 0.0


def test_ndcg_counts_each_quote_once():
    # Gains at rank 2 (quote 0) and rank 4 (quote 1, new); quote 0 again at rank 4 adds nothing.
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert metrics.ndcg_at_k(REL, 2, 10) == pytest.approx(dcg / ideal)
    assert metrics.ndcg_at_k(REL, 2, 10) == pytest.approx(0.65092, abs=1e-5)
    assert metrics.ndcg_at_k([{0}, {0}], 1, 10) == 1.0  # a repeat is no new gain, and no loss
    assert metrics.ndcg_at_k(REL, 2, 3) == pytest.approx((1 / math.log2(3)) / ideal)


def test_edge_cases():
    assert metrics.recall_at_k([], 1, 5) == 0.0
    assert metrics.recall_at_k(REL, 0, 5) == 0.0
    assert metrics.ndcg_at_k([], 0, 10) == 0.0
    assert metrics.hit_at_k([], 5) == 0.0


def test_question_sets_are_well_formed_and_their_gold_quotes_are_in_the_corpus():
    """dev, probe, train and the dated sets: the dev set's fields, answerable ⇔ gold quotes, every quote
    (gold, and the dated sets' stale and newer ones) in its document."""
    import json

    from eval.metrics import contains
    from rag.config import PROJECT_ROOT

    corpus = PROJECT_ROOT / "data" / "corpus"
    for name in ("dev.jsonl", "probe.jsonl", "train.jsonl", "now_probe.jsonl", "now_dev.jsonl"):
        rows = [json.loads(line) for line in (PROJECT_ROOT / "data" / "eval" / name).open(encoding="utf-8")]
        assert len({r["id"] for r in rows}) == len(rows), name
        for r in rows:
            assert {"id", "lang", "question", "answerable", "gold", "reference_answer", "kind"} <= set(r), r["id"]
            assert bool(r["gold"]) == r["answerable"], r["id"]
            for g in r["gold"] + r.get("stale", []) + r.get("newer", []):
                text = (corpus / g["doc"]).read_text(encoding="utf-8")
                assert contains(text, g["quote"]), (name, r["id"], g["quote"][:60])


def test_the_dated_question_sets_say_which_statement_is_newer(documents):
    """now_probe and now_dev (issue 24): a "now" question has stale quotes and its gold is newer than every
    one of them; a "past" question has its gold from before its newer quotes. By the documents' dates."""
    import json

    from rag.config import PROJECT_ROOT
    from rag.search.recency import date_key

    keys = {d.meta.file: date_key(d.meta) for d in documents.values()}
    for name in ("now_probe.jsonl", "now_dev.jsonl"):
        rows = [json.loads(line) for line in (PROJECT_ROOT / "data" / "eval" / name).open(encoding="utf-8")]
        assert {r["kind"] for r in rows} == {"now", "past"}, name
        for r in rows:
            assert r["lang"] in ("nl", "en", "tr", "ar", "pl", "uk") and isinstance(r["time_word"], bool), r["id"]
            newest_gold = max(keys[g["doc"]] for g in r["gold"])
            if r["kind"] == "now":
                assert r["stale"] and all(keys[g["doc"]] < newest_gold for g in r["stale"]), (name, r["id"])
            else:
                assert all(keys[g["doc"]] > min(keys[x["doc"]] for x in r["gold"]) for g in r["newer"]), (name, r["id"])
