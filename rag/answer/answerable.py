"""Answerability: do the retrieved passages *answer* the question, or are they only on its topic?

One threshold on a mean of cosines separates far-off questions (a passport's price) from the corpus,
but not near-topic ones ("Na hoeveel jaar kan ik een verblijfsvergunning aanvragen?" finds passages
about residence permits that state no number of years). So the decision reads several signals over the
question and the top passages' candidate sentences (rag/answer/extractive.py) and combines them with a
logistic regression fitted by scripts/train_answerability.py; its coefficients are plain JSON in
data/answerability.json (no pickle), regenerated deterministically by that script.

Signals (all in [0, 1] or cosines; ``features`` documents each):
* similarity: the top passage's dense cosine and its margin to the next passage, the best
  question-to-sentence cosine and its margin to the third best — multilingual, so they transfer;
* coverage: idf-weighted share of the question's content stems (Dutch Snowball, rag/search/lexical.py)
  found in the best sentences, and the share that occurs nowhere in the corpus — only for questions
  detected as Dutch or English (a Turkish word is "unknown" to a Dutch corpus without meaning anything);
* names: acronyms and capitalised names of the question (IND, DigiD, WW, Rotterdam) absent from the
  top passages;
* answer type: what the question asks for (a number with its unit, a date, an actor, a reason, a
  procedure; cue words in nl, en, tr, pl, ar) and, for a figure or a date, whether one of the best
  sentences carries one;
* personal situation: "ik", "mijn", "I", "my", … — policy letters rarely answer a person's own case.

Cost: a few milliseconds (stemming ~100 sentences; no model call).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.answer.language import detect_language
from rag.config import PROJECT_ROOT
from rag.search.lexical import Analyzer, lexical_text
from rag.types import Passage

MODEL_PATH = PROJECT_ROOT / "data" / "answerability.json"
BEST_SENTENCES = 3  # the sentences an answer would lead with

FEATURES = ("dense_top", "dense_margin", "sentence_best", "sentence_margin", "lexical", "coverage",
            "unknown_terms", "names_missing", "type_expected", "type_missing", "personal", "reader_best",
            "reader_at_cosine")
NO_READING = -10.0  # the reader features when there is no sentence (or no reader): "nothing answers"

# -- what the question asks for ------------------------------------------------------------------

_TYPE_CUES: list[tuple[str, re.Pattern]] = [
    ("duration", re.compile(r"\b(hoe\s+lang|(na\s+)?hoeveel\s+(jaar|maanden|weken|dagen)|how\s+long|ne\s+kadar\s+sür|"
                            r"jak\s+długo|ile\s+(lat|miesięcy|dni))\b", re.I)),
    # Contact details are never in policy letters, but a near-topic passage naming the office looks close.
    ("contact", re.compile(r"\b(telefoon\w*|e-?mail\w*|(post|bezoek|e-?mail)?adres(sen)?|website|openingstijden|phone|"
                           r"address|opening\s+hours|telefon\w*|numer\s+telefonu)\b|رقم\s+الهاتف", re.I)),
    # "Hoeveel <a benefit, cost or payment>": compounds too ("zorgtoeslag", "bijstandsuitkering").
    ("money", re.compile(r"\b(hoeveel\s+\w*(geld|euro|kost|toeslag|subsidie|bijstand|uitkering|loon|salaris|huur|"
                         r"boete|aow|bijslag|pensioen|premie|vergoeding|bijdrage|leges|belasting|tarief|prijs|lening|"
                         r"schuld|ww)\w*|"
                         r"hoe\s+hoog|wat\s+kost|how\s+much|ne\s+kadar|ile\s+kosztuje|kosten?)\b|كم\s+تكلف|تكلّف", re.I)),
    ("number", re.compile(r"\b(hoeveel|how\s+many|kaç|ile)\b|كم", re.I)),
    ("date", re.compile(r"\b(wanneer|sinds\s+wanneer|in\s+welk\s+jaar|when|what\s+year|ne\s+zaman|kiedy)\b|متى", re.I)),
    ("actor", re.compile(r"\b(wie|welke\s+(organisatie|instantie|partij|minister)|who|kim|kto)\b", re.I)),
    ("reason", re.compile(r"\b(waarom|om\s+welke\s+reden|why|neden|niçin|dlaczego)\b|لماذا", re.I)),
    ("procedure", re.compile(r"\b(hoe\s+(vraag|kan|moet|krijg|schrijf|dien|regel|meld)|how\s+(do|can|should)\s+(i|we)|"
                             r"how\s+to|nasıl|jak\s+(mogę|złożyć|uzyskać))\b|كيف", re.I)),
]

_NUMBER_WORDS = r"één|een\s+(?:half|kwart)|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|twintig|dertig|" \
                r"veertig|vijftig|honderd|duizend|miljoen|miljard|enkele|tientallen|honderden|duizenden"
_CARRIES: dict[str, re.Pattern] = {
    "number": re.compile(rf"\d|\b({_NUMBER_WORDS})\b|procent", re.I),
    "money": re.compile(r"€|\beuro\b|\bmiljoen\b|\bmiljard\b|\bbedrag", re.I),
    "duration": re.compile(rf"(\d|\b({_NUMBER_WORDS})\b)\s*(\w+\s+)?(jaar|jaren|maand|maanden|week|weken|dag|dagen|uur)\b",
                           re.I),
    "date": re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(januari|februari|maart|april|mei|juni|juli|augustus|september|"
                       r"oktober|november|december|voorjaar|najaar|zomer|winter|kwartaal)\b", re.I),
    "actor": re.compile(r"\b(minister|ministerie|kabinet|staatssecretaris|gemeente\w*|kamer|organisatie\w*|"
                        r"instantie\w*|ind|coa|uwv|svb|duo|platform|raad)\b|(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+", re.I),
    # Connectives that introduce a cause or motive. Not "daarom"/"daardoor": they open the consequence,
    # and the sentence holding one follows the reason rather than stating it.
    "reason": re.compile(r"\b(omdat|doordat|vanwege|wegens|reden\w*|oorzaak|want|aangezien|gezien|gegeven\s+(?:de|het|dat|deze|die)|"
                         r"teneinde|waardoor|ingegeven|het\s+gevolg|te\s+wijten|om\s+die)\b", re.I),
    "contact": re.compile(r"\b0\d{1,3}[- ]?\d{6,8}\b|\+\d{2}|\b\S+@\S+\.\w+|https?://|\bwww\.|\bpostbus\s+\d|"
                          r"\b\d{4}\s?[A-Z]{2}\b"),
    "procedure": re.compile(r"\b(aanvra\w*|aanvraag\w*|indien\w*|aanmeld\w*|inschrijv\w*|formulier\w*|loket\w*|"
                            r"melden|via\s+de|kunnen\s+zich|moet(en)?\s+\w+\s+(aanvragen|melden))\b", re.I),
}

_PERSONAL = re.compile(
    r"\b(ik|mijn|mij|me|wij|we|onze|ons|i|my|me|we|our|us|ben|benim|bana|jestem|mam|mój|moja|moje|mnie)\b"
    r"|أنا|لدي|عندي|حصلت|يمكنني", re.I)
_NAME = re.compile(r"\b([A-Z][A-Za-z]*[A-Z][A-Za-z]*|[A-Z]{2,}|[A-Z][a-zà-ÿ]{2,})\b")
# Answer types with a visible form (a figure, a date, a phone number or address): a best sentence without
# one does not answer.
# Reasons, actors and procedures are often stated without cue words ("Het overleg was achterhaald."), so
# their absence is no evidence; counting it made type_missing fire on 4 answerable dev questions and
# cost 0.04 grouped-CV F1 (scripts/train_answerability.py, 2026-11-30).
VISIBLE_TYPES = ("duration", "money", "number", "date", "contact")

_FIRST_WORD = re.compile(r"(^|[.!?]\s+)([A-Z][a-zà-ÿ]+)")


def expected_type(question: str) -> str | None:
    """What kind of answer the question asks for: "contact", "duration", "money", "number", "date", "actor",
    "reason", "procedure", or None (a yes/no or open question). The first matching cue wins, so
    "Hoe lang …" is a duration, not a procedure."""
    for kind, cue in _TYPE_CUES:
        if cue.search(question):
            return kind
    return None


def carries(kind: str | None, sentence: str) -> bool:
    """Does ``sentence`` (Dutch, from the corpus) hold an answer of that kind?"""
    if kind is None:
        return True
    if kind in ("duration", "money"):
        return bool(_CARRIES[kind].search(sentence)) and bool(_CARRIES["number"].search(sentence))
    return bool(_CARRIES[kind].search(sentence))


def personal(question: str) -> bool:
    """The question is about the asker's own situation ("ik", "mijn", "I", "my", "jestem", "أنا" …)."""
    return bool(_PERSONAL.search(question))


# The asker's own case: the first person singular in the six languages — "Mag ik …", "Moet mijn
# werkgever …", "Can I …", "Do I have to …", "… alabilir miyim?", "Czy mogę …", "Чи можу я …", "هل يمكنني …".
# Narrower than ``personal`` ("we"/"ons" in "Wat doen we tegen discriminatie?" is no own case).
_OWN_CASE = re.compile(
    r"\b(ik|mijn|mij|I|my|me|myself|ben|benim|bana|beni|bende|m[iıuü]y[iıuü]m|mnie|mój|moja|moje|moim|"
    r"mojej|mogę|muszę|jestem|mam|dostanę|powinienem|powinnam|я|мені|мене|мій|моя|моє|мої|можу|мушу|маю|"
    r"отримаю|повинен|повинна)\b|أنا|لدي|عندي|يمكنني|أستطيع|علي\s+أن|يجب\s+علي|يحق\s+لي|هل\s+أ", re.I)


def own_case(question: str) -> bool:
    """The question asks about the asker's own situation ("Mag ik …", "Can I …", "Czy mogę …"): an answer
    from the documents is policy, so it also names where to ask about one's own case (rag/answer/referral.py)."""
    # "I" is English only in capitals; lowercase "i" is a Polish conjunction.
    return any(m.group(0) != "i" for m in _OWN_CASE.finditer(question))


def question_names(question: str) -> list[str]:
    """Acronyms and capitalised words of the question, not counting a sentence's first word."""
    firsts = {m.group(2) for m in _FIRST_WORD.finditer(question)}
    return [n for n in dict.fromkeys(_NAME.findall(question)) if n not in firsts and len(n) >= 2]


# -- lexical statistics of the corpus --------------------------------------------------------------

class Vocabulary:
    """Stem → idf over the indexed passages (the retriever's BM25), and the stemmer."""

    def __init__(self, idf: dict[str, float], n_docs: int):
        self.idf = idf
        self.unknown_idf = math.log(1 + (n_docs + 0.5) / 0.5)  # what a stem seen nowhere would get
        self.analyze = Analyzer()

    @classmethod
    def from_index(cls, index) -> "Vocabulary":
        """From any store's index version (chunks and documents): document frequencies over the texts
        the BM25 channel indexes, with BM25's idf, log(1 + (n - df + 0.5) / (df + 0.5))."""
        titles = {d.id: d.title for d in index.documents.values()}
        analyze = Analyzer()
        df: Counter = Counter()
        for c in index.chunks:
            df.update(set(analyze(lexical_text(titles.get(c.doc_id, ""), c.section, c.retrieval_text))))
        n = len(index.chunks)
        return cls({t: math.log(1 + (n - k + 0.5) / (k + 0.5)) for t, k in df.items()}, n)

    def weight(self, stem: str) -> float:
        return self.idf.get(stem, self.unknown_idf)


def _found(stem: str, stems: set[str]) -> bool:
    # A stem also counts inside a compound ("inburger" in "inburgeringsplicht"), as in the verifier.
    return stem in stems or (len(stem) >= 4 and any(stem in s for s in stems))


_CUE_WORDS = "kost kosten jaar jaren maand maanden week weken dag dagen geld euro bedrag prijs mensen keer aantal procent"


@lru_cache(maxsize=1)
def _cue_stems() -> frozenset:
    # Words that say what kind of figure is asked, not what it is about.
    return frozenset(Analyzer()(_CUE_WORDS))


def _about(question_stems: list[str], sentence: str, vocab: Vocabulary) -> bool:
    """The sentence shares a content stem with the (Dutch) question: "€ 20 miljoen voor gemeenten" is an
    amount, but not of "Hoeveel kost het inburgeringsexamen?"."""
    stems = set(vocab.analyze(sentence))
    cues = _cue_stems()
    return any(_found(s, stems) for s in question_stems if s not in cues)


def coverage(question_stems: list[str], sentence_stems: set[str], vocab: Vocabulary) -> float:
    """idf-weighted share of the question's content stems present in ``sentence_stems``; 0 if none."""
    weights = {s: vocab.weight(s) for s in question_stems}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for s, w in weights.items() if _found(s, sentence_stems)) / total


# -- features ---------------------------------------------------------------------------------------

@dataclass
class Evidence:
    """Features of one question against its retrieved passages, and what they were computed from."""

    features: dict[str, float]
    expected: str | None
    best: list[int]  # indices into the candidates, best question-to-sentence cosine first


def features(question: str, query_vector: np.ndarray, passages: list[Passage], cands: list, vocab: Vocabulary,
             language: str | None = None, reading: np.ndarray | None = None) -> Evidence:
    """The answerability features (see FEATURES and the module docstring). ``cands`` are the
    extractive.Candidate sentences of the top passages (vectors unit-normalised, like the query's);
    ``reading``: the reader's logit per candidate (rag/answer/reader.py), None without a reader."""
    dense = sorted((float(p.scores.get("dense", p.score)) for p in passages), reverse=True)
    dense_top = dense[0] if dense else 0.0
    sims = np.array([float(c.vector @ query_vector) for c in cands]) if cands else np.zeros(0)
    order = list(np.argsort(-sims, kind="stable")) if len(sims) else []
    best = [int(i) for i in order[:BEST_SENTENCES]]
    top_sims = sims[order] if len(sims) else np.zeros(1)
    language = language or detect_language(question, fallback="other")
    lexical = language in ("nl", "en")
    q_stems = list(dict.fromkeys(vocab.analyze(question)))
    best_text = " ".join(cands[i].text for i in best)
    best_stems = set(vocab.analyze(best_text))
    weights = [vocab.weight(s) for s in q_stems]
    unknown = (sum(w for s, w in zip(q_stems, weights) if s not in vocab.idf) / sum(weights)) if weights else 0.0
    names = question_names(question)
    passage_text = " ".join(p.chunk.text for p in passages).lower()
    missing = sum(1 for n in names if n.lower() not in passage_text)
    kind = expected_type(question)
    f = {
        "dense_top": dense_top,
        "dense_margin": dense_top - dense[1] if len(dense) > 1 else 0.0,
        "sentence_best": float(top_sims[0]),
        "sentence_margin": float(top_sims[0] - top_sims[min(2, len(top_sims) - 1)]),
        "lexical": float(lexical),
        "coverage": coverage(q_stems, best_stems, vocab) if lexical else 0.0,
        "unknown_terms": unknown if lexical else 0.0,
        "names_missing": missing / len(names) if names else 0.0,
        "type_expected": float(kind is not None),
        "type_missing": float(kind in VISIBLE_TYPES and not any(
            carries(kind, cands[i].text) and (language != "nl" or _about(q_stems, cands[i].text, vocab))
            for i in best)),
        "personal": float(personal(question)),
    }
    finite = reading is not None and len(reading) == len(cands) and bool(np.isfinite(reading).any())
    f["reader_best"] = float(np.max(reading[np.isfinite(reading)])) if finite else NO_READING
    f["reader_at_cosine"] = float(reading[best[0]]) if finite and best and np.isfinite(reading[best[0]]) else NO_READING
    return Evidence(features=f, expected=kind, best=best)


# -- the decision ---------------------------------------------------------------------------------------

# Why an abstention happened: the feature that pulled the probability down most, in words a referral
# can use. Keys are feature names; "low_similarity" covers the cosines.
REASONS = {
    "dense_top": "off_topic", "dense_margin": "off_topic", "sentence_best": "off_topic",
    "sentence_margin": "off_topic", "coverage": "terms_not_covered", "unknown_terms": "terms_not_in_documents",
    "names_missing": "names_not_in_documents", "type_missing": "answer_type_missing",
    "type_expected": "answer_type_missing", "personal": "personal_situation", "lexical": "off_topic",
    "reader_best": "no_sentence_answers", "reader_at_cosine": "no_sentence_answers",
}


@dataclass(frozen=True)
class Decision:
    """Whether the passages answer the question. ``related`` are the 1-based source numbers of the
    passages closest to it (what a referral may offer as related passages, not as an answer)."""

    answerable: bool
    probability: float  # P(answerable) from the model
    threshold: float
    reason: str | None  # None when answerable; else a key of REASONS' values
    expected_type: str | None
    features: dict[str, float] = field(default_factory=dict)
    related: tuple[int, ...] = ()

    def to_dict(self) -> dict:
        return {"answerable": self.answerable, "probability": round(self.probability, 4),
                "threshold": self.threshold, "reason": self.reason, "expected_type": self.expected_type,
                "related": list(self.related), "features": {k: round(v, 4) for k, v in self.features.items()}}


@dataclass(frozen=True)
class Model:
    """Standardised logistic regression: P(answerable) = σ(b + Σ w·(x − mean)/scale)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # answer when P(answerable) ≥ threshold
    meta: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> "Model":
        """Raises FileNotFoundError / ValueError with the path when the file is missing or malformed."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(tuple(data["features"]), tuple(data["mean"]), tuple(data["scale"]), tuple(data["coef"]),
                       float(data["intercept"]), float(data["threshold"]), data.get("meta", {}))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not an answerability model ({exc}); run scripts/train_answerability.py") from exc

    def to_json(self) -> dict:
        return {"features": list(self.features), "mean": list(self.mean), "scale": list(self.scale),
                "coef": list(self.coef), "intercept": self.intercept, "threshold": self.threshold, "meta": self.meta}

    def contributions(self, f: dict[str, float]) -> dict[str, float]:
        return {n: w * (f.get(n, 0.0) - m) / s for n, m, s, w in zip(self.features, self.mean, self.scale, self.coef)}

    def probability(self, f: dict[str, float]) -> float:
        z = self.intercept + sum(self.contributions(f).values())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def decide(self, evidence: Evidence, passages: list[Passage], threshold: float | None = None,
               floor: float = 0.0) -> Decision:
        """``floor``: abstain regardless of the model when the retrieval confidence (mean of the top dense
        and the best sentence cosine; VRAAGBAAK_ABSTAIN_THRESHOLD) is below it — far-off questions."""
        t = self.threshold if threshold is None else threshold
        p = self.probability(evidence.features)
        f = evidence.features
        off_topic = retrieval_confidence(f) < floor
        answerable = p >= t and not off_topic
        reason = None
        if off_topic:
            reason = "off_topic"
        elif not answerable:
            worst = min(self.contributions(evidence.features).items(), key=lambda kv: kv[1])[0]
            reason = REASONS.get(worst, "off_topic")
        related = tuple(range(1, min(3, len(passages)) + 1))
        return Decision(answerable, p, t, reason, evidence.expected, dict(evidence.features), related)


def retrieval_confidence(f: dict[str, float]) -> float:
    """The retrieval confidence (rag/answer/abstain.py) of a feature row: the floor's yardstick."""
    from rag.answer.abstain import Confidence

    return Confidence(f.get("dense_top", 1.0), f.get("sentence_best", 1.0)).score


@lru_cache(maxsize=4)
def load_model(path: str = str(MODEL_PATH)) -> Model:
    return Model.load(Path(path))
