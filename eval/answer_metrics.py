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

