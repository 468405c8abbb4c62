"""Answer metrics: faithfulness, citation recall and precision (ALCE), unsupported facts,
correctness against a reference answer, abstention, readability. Pure functions over small records,
so each is tested on hand-made cases (tests/eval/test_eval_answer_metrics.py).

Definitions (per answer; the harness averages over answers and also counts over all sentences):
* citation recall (ALCE, Gao et al. 2023): a sentence scores 1 when the passages it cites, taken
  together, support it; a sentence without a citation scores 0.
* citation precision (ALCE): a citation is *irrelevant* when it alone does not support its sentence
  and the sentence's other citations support it without it; precision = relevant citations / citations.
* faithfulness: supported sentences / sentences, where a sentence may be supported by any passage
  the answer shows the reader (its numbered sources), cited or not: "says only what its sources say".
* unsupported facts: numbers, dates and names in a sentence that occur in none of its cited passages.
"""

from __future__ import annotations

import functools
import re
import statistics
from dataclasses import dataclass, field


# ------------------------------------------------------------------------------------ citations

@dataclass
class SentenceJudgements:
    """What the judge said about one answer sentence."""

    text: str
    citations: tuple[int, ...]
    cited_supports: bool  # all cited passages together support the sentence
    alone: dict[int, bool] = field(default_factory=dict)  # citation -> supports the sentence alone
    without: dict[int, bool] = field(default_factory=dict)  # citation -> the others support it without it
    any_source_supports: bool = False  # some passage shown with the answer supports it


def citation_recall(sentences: list[SentenceJudgements]) -> float | None:
    if not sentences:
        return None
    return sum(1.0 if s.citations and s.cited_supports else 0.0 for s in sentences) / len(sentences)


def irrelevant_citations(s: SentenceJudgements) -> list[int]:
    if len(s.citations) == 1:  # ALCE: a single citation is relevant exactly when it supports the sentence
        return [] if s.cited_supports else list(s.citations)
    return [c for c in s.citations if not s.alone.get(c, False) and s.without.get(c, False)]


def citation_precision(sentences: list[SentenceJudgements]) -> float | None:
    total = sum(len(s.citations) for s in sentences)
    if not total:
        return None
    return sum(len(s.citations) - len(irrelevant_citations(s)) for s in sentences) / total


def faithfulness(sentences: list[SentenceJudgements]) -> float | None:
    if not sentences:
        return None
    return sum(1.0 if (s.any_source_supports or s.cited_supports) else 0.0 for s in sentences) / len(sentences)


# ------------------------------------------------------------------------------------ facts

def unsupported_facts(sentence: str, cited_passages: list[str], language: str = "nl", lexicon=None) -> list[str]:
    """Numbers, dates and names in ``sentence`` found in none of ``cited_passages`` (the verifier's
    own fact check, on the passage texts alone)."""
    from rag.answer.facts import CorpusLexicon, Facts

    return Facts.of("\n".join(cited_passages)).missing(sentence, language, lexicon or CorpusLexicon())


# ------------------------------------------------------------------------------------ correctness

def key_facts(text: str, language: str = "nl", lexicon=None, with_words: bool = True) -> set[str]:
    """What a reference answer asserts that an answer should repeat: its numbers, dates, names, and
    (same language only) its rarer content words as Dutch stems."""
    from rag.search.lexical import Analyzer
    from rag.answer.facts import CorpusLexicon, date_facts, names
    from rag.answer.numbers import number_values

    facts = {f"n:{v}" for v in number_values(text, language)}
    facts |= {f"d:{'-'.join(map(str, d))}" for d in date_facts(text)}
    facts |= {f"p:{n.lower()}" for n in names(text, language, lexicon or CorpusLexicon())}
    if with_words:
        facts |= {f"w:{s}" for s in Analyzer()(text) if len(s) >= 6 and not s.isdigit()}
    return facts


def key_fact_recall(answer: str, reference: str, same_language: bool, lexicon=None,
                    answer_language: str = "nl", reference_language: str = "nl") -> float | None:
    """Share of the reference's key facts that the answer also states. Across languages only
    numbers, dates and names are compared (words would need a translation)."""
    ref = key_facts(reference, reference_language, lexicon, with_words=same_language)
    if not ref:
        return None
    got = key_facts(answer, answer_language, lexicon, with_words=same_language)
    # a stem matches inside a compound, as in the verifier ("inburgering" in "inburgeringsplicht")
    def found(f: str) -> bool:
        if f in got:
            return True
        if f.startswith("w:"):
            return any(g.startswith("w:") and (f[2:] in g[2:] or g[2:] in f[2:]) for g in got)
        return False
    return sum(found(f) for f in ref) / len(ref)


def strip_markers(text: str) -> str:
    from rag.answer.sentences import MARKER

    return re.sub(r"\s+", " ", MARKER.sub("", text)).strip()


# ------------------------------------------------------------------------------------ abstention

def abstention_scores(rows: list[tuple[bool, bool]]) -> dict:
    """``rows``: (answerable, abstained) per question. Positive = "should abstain"."""
    tp = sum(1 for answerable, abstained in rows if not answerable and abstained)
    fp = sum(1 for answerable, abstained in rows if answerable and abstained)
    fn = sum(1 for answerable, abstained in rows if not answerable and not abstained)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (2 * precision * recall / (precision + recall)) if precision and recall else (0.0 if tp + fn else None)
    answerable = sum(1 for a, _ in rows if a)
    return {"unanswerable": tp + fn, "abstained_correctly": tp, "precision": precision, "recall": recall, "f1": f1,
            "false_abstentions": fp, "false_abstention_rate": fp / answerable if answerable else None}


def referral_share(records: list[dict]) -> dict:
    """How many unanswerable questions got a referral (``answer.referral`` truthy in the eval record;
    a record without the field counts as no referral)."""
    unanswerable = [r for r in records if not r["answerable"]]
    abstentions = [r for r in records if r["answer"]["abstained"]]
    referred = sum(1 for r in unanswerable if r["answer"].get("referral"))
    return {"unanswerable": len(unanswerable), "referred": referred,
            "share": referred / len(unanswerable) if unanswerable else None, "abstentions": len(abstentions),
            "abstentions_with_referral": sum(1 for r in abstentions if r["answer"].get("referral"))}


def leads_with_answer(records: list[dict]) -> dict:
    """"Leads with the answer": the answer's first sentence holds at least one key fact of the reference
    (``correctness.first_sentence_key_fact``). Shares over answered answerable questions with a scored
    reference, and over all answerable questions (an abstention or an unscored answer counts as no)."""
    answerable = [r for r in records if r["answerable"]]
    scored = [r for r in answerable if not r["answer"]["abstained"]
              and (r.get("correctness") or {}).get("first_sentence_key_fact") is not None]
    holds = sum(1 for r in scored if r["correctness"]["first_sentence_key_fact"])
    return {"answerable": len(answerable), "answered": len(scored), "first_holds": holds,
            "share_answered": holds / len(scored) if scored else None,
            "share_answerable": holds / len(answerable) if answerable else None}


# ------------------------------------------------------------------------------------ dates (issue 24)

SHARED_RUN = 40  # normalised characters a sentence must share with a quote to show it (a clause, not a phrase)


def shows(sentence: str, quote: str) -> bool:
    """Does an answer sentence show the statement ``quote``: one holds the other (the quote rule:
    letters and digits only, case-folded), or they share a run of ``SHARED_RUN`` such characters."""
    from difflib import SequenceMatcher

    from eval.metrics import normalise

    a, b = normalise(sentence), normalise(quote)
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size >= min(SHARED_RUN, len(a), len(b))


def _holds(source: dict, quotes: list[dict], file_to_doc: dict[str, str]) -> bool:
    from eval.metrics import contains

    return any((not g.get("doc") or file_to_doc.get(g["doc"], g["doc"]) == source.get("doc"))
               and contains(source.get("text", ""), g["quote"]) for g in quotes)


def dating_scores(q: dict, sentences: list[dict], sources: dict[int, dict], labels: dict[int, dict],
                  as_of: str | None, notice: bool, file_to_doc: dict[str, str], doc_keys: dict[str, str]) -> dict:
    """Dates of one answer to a question with ``gold`` and optional ``stale`` (older statements an answer
    must not present as current) and ``newer`` (statements made after a named past time) quotes.

    ``sentences``: the answer's sentences in order, ``{"text", "source", "cites"}`` (text without date
    annotations; ``source`` the verbatim sentence behind a plain rewrite); ``sources``: cited source n →
    ``{"doc", "date", "key", "text"}`` (``key``: the ISO day that orders sources by time,
    rag/answer/dating.py ``date_key``); ``labels``: source n → ``{"role": "earlier"|"later"|None}`` for the
    sources the text labels with a date; ``notice``: the answer says its newest source is past the horizon;
    ``doc_keys``: document id → its key. Returns, for a "now" question:

    * ``newest_cited`` — a cited source is as new as the newest gold statement's document: the answer rests
      on a statement of the newest time (``newest_leads``: its first sentence does);
    * ``gold_cited`` — stricter, a cited passage holds a gold quote itself (``gold_leads``: the first sentence's);
    * ``stale_shown`` / ``stale_current`` — a sentence shows a stale statement / shows it while none of its
      sources is labelled earlier;

    for a "past" question ``from_time`` (the first sentence rests on a document of the asked time: a gold
    quote's year) and ``newer_current`` (a newer statement shown, not labelled later); for every answer
    ``dated`` (every cited dated source has a date label) and ``as_of_ok`` (as_of is the newest cited
    source's date)."""
    cited = list(dict.fromkeys(n for s in sentences for n in s["cites"] if n in sources))
    lead = [n for n in (sentences[0]["cites"] if sentences else ()) if n in sources]
    gold_docs = {file_to_doc.get(g["doc"], g["doc"]) for g in q.get("gold") or [] if g.get("doc")}
    newest_gold = max((doc_keys[d] for d in gold_docs if doc_keys.get(d)), default=None)
    gold_years = {doc_keys[d][:4] for d in gold_docs if doc_keys.get(d)}
    holds = {n for n in cited if _holds(sources[n], q.get("gold") or [], file_to_doc)}

    def new_enough(n: int) -> bool:
        return bool(newest_gold and sources[n].get("key") and sources[n]["key"] >= newest_gold)

    def shown(quotes: list[dict], role: str) -> tuple[bool, bool]:
        seen = current = False
        for s in sentences:
            if any(shows(t, g["quote"]) for g in quotes for t in (s["text"], s.get("source")) if t):
                seen = True
                if not any((labels.get(n) or {}).get("role") == role for n in s["cites"]):
                    current = True
        return seen, current

    stale_shown, stale_current = shown(q.get("stale") or [], "earlier")
    _, newer_current = shown(q.get("newer") or [], "later")
    dated_sources = [n for n in cited if sources[n].get("date")]
    newest = max((sources[n] for n in cited if sources[n].get("key")), key=lambda s: s["key"], default=None)
    return {"newest_cited": any(map(new_enough, cited)), "newest_leads": any(map(new_enough, lead)),
            "gold_cited": bool(holds), "gold_leads": any(n in holds for n in lead),
            "stale_shown": stale_shown, "stale_current": stale_current, "newer_current": newer_current,
            "from_time": any((sources[n].get("key") or "")[:4] in gold_years for n in lead), "notice": notice,
            "dated": bool(cited) and all(n in labels for n in dated_sources),
            "as_of": as_of, "as_of_ok": (newest or {}).get("date") == as_of if newest else as_of is None}


def dating_summary(records: list[dict]) -> dict:
    """Shares over answered questions: for "now" questions the newest statement cited / leading (by its
    time, and strictly by its gold passage) and a stale statement presented as current (and, leniently, not
    counting answers that carry the horizon notice); for "past" questions answered from their time; for all
    answered questions with a dating record, dated and as_of right."""
    rows = [r for r in records if r.get("dating") and not r["answer"]["abstained"]]
    now = [r["dating"] for r in rows if r.get("kind") == "now"]
    past = [r["dating"] for r in rows if r.get("kind") == "past"]
    every = [r["dating"] for r in rows]

    def share(xs, key):
        return round(sum(1 for x in xs if x[key]) / len(xs), 4) if xs else None

    asked = [r for r in records if r.get("dating")]
    return {"questions": len(asked), "answered": len(rows),
            "now": {"answered": len(now), "of": sum(1 for r in asked if r.get("kind") == "now"),
                    "newest_cited": share(now, "newest_cited"), "newest_leads": share(now, "newest_leads"),
                    "gold_cited": share(now, "gold_cited"), "gold_leads": share(now, "gold_leads"),
                    "stale_shown": share(now, "stale_shown"), "stale_current": share(now, "stale_current"),
                    # lenient: an answer that says its newest source is past the horizon does not present it as current
                    "stale_current_lenient": round(sum(1 for x in now if x["stale_current"] and not x["notice"])
                                                   / len(now), 4) if now else None,
                    "notice": share(now, "notice")},
            "past": {"answered": len(past), "of": sum(1 for r in asked if r.get("kind") == "past"),
                     "from_time": share(past, "from_time"), "gold_leads": share(past, "gold_leads"),
                     "newer_current": share(past, "newer_current")},
            "dated": share(every, "dated"), "as_of_ok": share(every, "as_of_ok")}


# ------------------------------------------------------------------------------------ readability

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _textstat_nl():
    from textstat.textstat import textstatistics

    ts = textstatistics()  # its own instance: set_lang on the module-level one is global state
    ts.set_lang("nl")  # Flesch reading ease with Douma's constants; syllables from Pyphen's nl_NL dictionary
    return ts


def flesch_douma(text: str) -> float | None:
    """Flesch-Douma reading ease for Dutch (Douma 1960): 206.835 − 0.93 · words/sentence −
    77 · syllables/word, computed by textstat (``set_lang("nl")``; syllables by hyphenation with
    Pyphen's Dutch dictionary, sentences of ≤ 2 words not counted). Higher is easier; ≥ 60 reads as
    plain language, < 30 as academic. [n] markers are removed first; None for a text without words."""
    text = strip_markers(text)
    if not _WORD.search(text):
        return None
    return float(_textstat_nl().flesch_reading_ease(text))


# ------------------------------------------------------------------------------------ helpers

def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.fmean(values), 4) if values else None

