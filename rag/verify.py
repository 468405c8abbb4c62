"""The verifier: does each answer sentence say only what the passages it cites say?

Used on every generated answer before it leaves the service, on extractive answers as a check,
and by the eval harness as its offline judge (``Verifier(encoder).verify(text, passages, ...)``).
Per sentence:

1. Citations: every ``[n]`` must point to a given source (1..len(sources)); others are removed.
2. Not a claim: a question, an echo of the user's question or of a source's citation label, or a
   statement about the sources ("de bronnen geven geen antwoord") is never kept; the last kind is
   reported as a refusal.
3. Hard checks against the cited passages (their text, framing question or heading, footnotes; not
   the citation label or document title, which are metadata), each failure named in the reasons:
   - every number (digits, and number words two..twelve; "20 miljoen" = "20.000.000", "3,5" = "3.5");
   - every acronym ("PLON", "SZW"), word with inner capitals ("GroenLinks"), and name: a capitalised
     word inside a Dutch sentence, or in any sentence a word the corpus only writes capitalised
     ("Asscher", "Palland"). English answers translate Dutch institutions ("Ministry of the
     Interior"), so their other capitalised words are left to the similarity check;
   - Dutch sentences: a rare question term they repeat ("leefgeld": in <= 0.5% of passages) must
     occur in the cited passages — the sentence must not pin a passage's facts on it.
4. Soft support (thresholds in ``SupportRule``), from two signals:
   - ``overlap``: share of the sentence's content-word stems (Dutch Snowball, rag.lexical) found in
     the cited passages (a stem also counts when it is part of a compound there, or vice versa);
   - ``cos``: cosine between the sentence and the best-matching sentence or neighbouring sentence
     pair of the cited passages, all embedded as documents (symmetric; separates better than
     query-vs-document, and pairs catch a sentence that merges two source sentences).
   Dutch answers: supported if overlap >= 0.5 and cos >= 0.45, or cos >= 0.75.
   Other answers (cross-lingual, where overlap is near 0): cos >= 0.60, or the Dutch overlap rule.
   A sentence needs >= 3 content words; a shorter fragment ("Op 19 december 2013.") is judged as
   question + fragment when the question is given, else it is too short to check.
5. Repair: a sentence that fails (or cites nothing) is given the single best source that passes,
   if there is one; otherwise it is dropped and reported. A content-free sentence ("Nee.", "Yes.")
   takes the citations of the next kept sentence, or is dropped with it.

Measured with scripts/calibrate_verify.py: dev reference-answer sentences against the passages
holding their gold quote ("true"), against another question's gold passages ("other"), and against
the best-ranked non-gold passage of the same question ("same-topic", which often does partly
support them, so its rate is an upper bound on false acceptance):
   Dutch (59 sentences):   true 0.98 supported, other 0.00, same-topic 0.05
   English (13 sentences): true 0.85 supported, other 0.00, same-topic 0.08
(the English misses: a reference sentence adding "BZK" and "Digital Services Act", which the
gold passage does not contain, and one at cos 0.58).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Iterable, Sequence

import numpy as np

from rag.lexical import STOPWORDS, Analyzer
from rag.sentences import clean_sentence, parse_markers, render, split_spans
from rag.types import Passage, SentenceCheck


@dataclass(frozen=True)
class SupportRule:
    """All verification thresholds, in one place (see the module docstring for how they were set)."""

    min_overlap: float = 0.5  # share of content stems found in the cited passages ...
    overlap_min_cos: float = 0.45  # ... with at least this much similarity
    strong_cos: float = 0.75  # Dutch: similarity alone enough
    cross_lingual_cos: float = 0.60  # non-Dutch answers: similarity alone enough
    compound_min_len: int = 5  # stems this long may match inside a compound
    # A fragment ("20 miljoen", "Minister van Volkshuisvesting") matches some passage without saying
    # anything checkable on its own; a sentence needs this many content words to be judged supported.
    min_content_words: int = 3
    # A Dutch sentence that repeats a *rare* question term ("leefgeld") must find it in its sources:
    # rare = in at most this share of the corpus's passages (common words like "overheid" exempt).
    topic_max_share: float = 0.005


RULE = SupportRule()

# ---------------------------------------------------------------------------------------------
# Facts: numbers and names

_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)(?:\s*(miljoen|miljard|duizend|million|billion|thousand|mln|mld|mrd)\b)?",
                     re.IGNORECASE)
_MULTIPLIER = {"miljoen": 10**6, "million": 10**6, "mln": 10**6, "miljard": 10**9, "billion": 10**9,
               "mld": 10**9, "mrd": 10**9, "duizend": 10**3, "thousand": 10**3}
_NUMBER_WORDS = {
    w: n for n, words in {
        2: "twee two", 3: "drie three", 4: "vier four", 5: "vijf five", 6: "zes six", 7: "zeven seven",
        8: "acht eight", 9: "negen nine", 10: "tien ten", 11: "elf eleven", 12: "twaalf twelve",
    }.items() for w in words.split()
}
_WORDS = re.compile(r"[^\W\d_][\w'’&-]*", re.UNICODE)
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]*[A-Z0-9]$")  # WOM, SZW, G4, VNO-NCW's parts
# Capitalised words that are not names in an answer (addressees, months, generic government words).
COMMON_CAPITALISED = frozenset("""
nederland nederlands nederlandse nederlanders kamer tweede eerste rijk kabinet minister ministerie ministers
staatssecretaris regering overheid grondwet vraag antwoord bron bronnen
januari februari maart april mei juni juli augustus september oktober november december
maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
""".split())


def _values(token: str, multiplier: str | None) -> set[str]:
    """Every reading of a written number: "20.000" is 20000 (Dutch) or 20.0 (English)."""
    readings = {token.replace(".", "").replace(",", "")}  # thousands separators, either style
    if re.fullmatch(r"\d+[.,]\d+", token):
        readings.add(token.replace(",", "."))  # one separator may be a decimal point
    out = set()
    for r in readings:
        try:
            value = Decimal(r)
        except InvalidOperation:
            continue
        out.add(_canon(value))
        if multiplier:
            out.add(_canon(value * _MULTIPLIER[multiplier.lower()]))
    return out


def _canon(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def numbers(text: str) -> list[tuple[str, set[str]]]:
    """(as written, possible values) for each number in ``text``."""
    found = [(m.group(0).strip(), _values(m.group(1), m.group(2))) for m in _NUMBER.finditer(text)]
    for w in _WORDS.findall(text):
        n = _NUMBER_WORDS.get(w.lower())
        if n:
            found.append((w, {str(n)}))
    return found


def number_values(text: str) -> set[str]:
    return set().union(*(v for _, v in numbers(text))) if text else set()


_MONTHS = {m: i for i, names_ in enumerate((
    "januari january jan", "februari february feb", "maart march mrt mar", "april apr", "mei may",
    "juni june jun", "juli july jul", "augustus august aug", "september sept sep", "oktober october okt oct",
    "november nov", "december dec"), start=1) for m in names_.split()}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH})\.?\b(?:\s+(\d{{4}}))?", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{4}})\b", re.IGNORECASE)


def dates(text: str) -> list[tuple[str, tuple]]:
    """(as written, fact) for each calendar date: ("day", day, month) for "19 december (2013)" or
    "December 19, 2013"; ("month", month, year) for "december 2013". The numbers in a date are also
    checked one by one; this catches a day moved to another month ("19 november" for "19 december")."""
    out: list[tuple[str, tuple]] = []
    taken: list[tuple[int, int]] = []
    for m in _DAY_MONTH.finditer(text):
        out.append((m.group(0), ("day", int(m.group(1)), _MONTHS[m.group(2).lower()])))
        taken.append(m.span())
    for m in _MONTH_DAY.finditer(text):
        if not any(a <= m.start() < b for a, b in taken) and int(m.group(2)) <= 31:
            out.append((m.group(0), ("day", int(m.group(2)), _MONTHS[m.group(1).lower()])))
            taken.append(m.span())
    for m in _MONTH_YEAR.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            out.append((m.group(0), ("month", _MONTHS[m.group(1).lower()], int(m.group(2)))))
    return out


def date_facts(text: str) -> set[tuple]:
    """Every date fact a text offers: a full date also offers its month and year."""
    facts = set()
    for m in _DAY_MONTH.finditer(text):
        month = _MONTHS[m.group(2).lower()]
        facts.add(("day", int(m.group(1)), month))
        if m.group(3):
            facts.add(("month", month, int(m.group(3))))
    for m in _MONTH_DAY.finditer(text):
        month = _MONTHS[m.group(1).lower()]
        facts.add(("day", int(m.group(2)), month))
        if m.group(3):
            facts.add(("month", month, int(m.group(3))))
    for m in _MONTH_YEAR.finditer(text):
        facts.add(("month", _MONTHS[m.group(1).lower()], int(m.group(2))))
    return facts


class CorpusLexicon:
    """What the verifier knows about the corpus as a whole: its proper names (words written
    capitalised mid-sentence and never in lowercase) and how common each word stem is."""

    def __init__(self, names: Iterable[str] = (), stem_df: dict[str, int] | None = None, n_docs: int = 0):
        self.names = frozenset(n.lower() for n in names)
        self.stem_df = stem_df or {}
        self.n_docs = n_docs

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "CorpusLexicon":
        capital, lower = set(), set()
        analyze = Analyzer()
        df: dict[str, int] = {}
        n = 0
        for text in texts:
            n += 1
            for stem in set(analyze(text)):
                df[stem] = df.get(stem, 0) + 1
            for span in split_spans(text):
                for i, w in enumerate(_WORDS.findall(span.text)):
                    if w[0].isupper():
                        if i > 0:
                            capital.add(w)
                    else:
                        lower.add(w.lower())
        return cls((w for w in capital if w.lower() not in lower), df, n)

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.names

    def rare(self, stem: str, max_share: float) -> bool:
        """In at most ``max_share`` of the corpus's passages (never seen counts as rare)."""
        return bool(self.n_docs) and self.stem_df.get(stem, 0) <= max_share * self.n_docs


def names(sentence: str, language: str, lexicon: CorpusLexicon) -> list[str]:
    """The names a sentence states, which the cited passages must also contain (rule in the docstring)."""
    out: list[str] = []
    for i, word in enumerate(_WORDS.findall(sentence)):
        for part in word.strip("'’").split("-"):  # "LOM-organisaties", "VNO-NCW"
            part = part.strip("'’")
            if len(part) < 2 or not part[0].isupper():
                continue
            if _ACRONYM.match(part) and sum(c.isupper() for c in part) >= 2:
                out.append(part)
            elif any(c.isupper() for c in part[1:]):
                out.append(part)  # "GroenLinks", "MinVRO": a name in any language
            elif part.lower() in COMMON_CAPITALISED:
                continue
            elif part in lexicon:
                out.append(part)
            elif language == "nl" and i > 0:
                out.append(part)
    return list(dict.fromkeys(out))


def _name_found(name: str, tokens: set[str]) -> bool:
    low = name.lower()
    if low in tokens:
        return True
    if len(low) >= 6:  # inflections of names: "Marokkaanse" / "Marokkanen", "Asscher" / "Asschers"
        return any(t.startswith(low[:5]) for t in tokens)
    return any(t.startswith(low + "-") or t.endswith("-" + low) for t in tokens)


# ---------------------------------------------------------------------------------------------
# Refusals: "the sources do not answer this"

# About the sources themselves ("De bronnen geven geen antwoord", "The documents do not say"): never a
# claim from the corpus, so set aside even when its words happen to match a Q&A passage.
META_REFUSAL = re.compile(
    r"\b(bronnen|bron|documenten|teksten|passages)\b.{0,60}\b(geen|niet|niets)\b"
    r"|\b(sources?|documents?|texts?|passages?)\b.{0,60}\b(do not|does not|don't|doesn't|no|not|nothing)\b"
    r"|\bkan (ik )?(deze vraag |dit |die |uw vraag )?niet beantwoorden|\bcannot answer|\bcan't answer|\bunable to answer",
    re.IGNORECASE,
)
# Weaker wording ("Er is geen informatie over ..."): a refusal only if it is not supported.
REFUSAL = re.compile(
    META_REFUSAL.pattern
    + r"|\b(geen|niet)\b.{0,40}\b(informatie|antwoord|vermeld|genoemd|beschreven|te vinden|beschikbaar)"
    r"|\binformatie\b.{0,40}\b(geen|niet|niets)\b"
    r"|\b(no|not)\b.{0,40}\b(information|answer|mention(ed)?|stated|covered|available)\b",
    re.IGNORECASE,
)
# Vague words a question and its answer share without naming anything ("welke dingen ...").
VAGUE_STEMS = frozenset("ding manier soort mens keer iet thing way kind people".split())
# Words about the exchange itself; Q&A passages are full of "Vraag" and "Antwoord" headings.
META_WORDS = frozenset("vraag vragen antwoord antwoorden bron bronnen question questions answer answers source sources".split())


def is_refusal(sentence: str) -> bool:
    """Does the sentence say the sources do not answer? Asked of sentences that failed the support
    check (so "Over deze contacten wordt niet gerapporteerd [1]" stays content), and first of all
    for statements about the sources themselves (META_REFUSAL)."""
    return bool(REFUSAL.search(sentence))


# ---------------------------------------------------------------------------------------------
# Sources as the verifier sees them


@dataclass
class Source:
    """What one numbered source offers for checking: its facts, stems and sentence vectors.

    Evidence is what the document says at that place: the passage, the text that frames it (its
    framing question or heading) and its footnotes. The citation label and document title are
    metadata, not evidence: a model that copies "… (2013), 3 Vormgeving dialoog" must not make
    "De wet is in 2013 ingetrokken" checkable (found by the eval harness, dev question da015)."""

    text: str  # evidence a sentence may draw on: framing question or heading, passage, footnotes
    sentences: list[str]  # compared units: each sentence, and each pair of neighbouring sentences
    label: str = ""  # citation label and document title: only to recognise a sentence that echoes them
    facts: "Facts | None" = None  # numbers, dates and words of ``text`` (Verifier._prepare)
    stems: set[str] = field(default_factory=set)
    vectors: np.ndarray | None = None

    @classmethod
    def from_passage(cls, passage: Passage | str) -> "Source":
        if isinstance(passage, str):
            return cls(text=passage, sentences=source_sentences(passage))
        c = passage.chunk
        parts = [c.context, c.text, *(f.text for f in c.footnotes)]
        return cls(text="\n".join(p for p in parts if p), sentences=source_sentences(c.text),
                   label=f"{passage.citation.label}\n{passage.document.title}")


@dataclass(frozen=True)
class Facts:
    """The checkable facts a text offers: number values, calendar dates, and its words (lowercase,
    with the parts of hyphenated words: "LOM-organisaties" offers "lom")."""

    numbers: frozenset[str]
    dates: frozenset[tuple]
    tokens: frozenset[str]

    @classmethod
    def of(cls, text: str) -> "Facts":
        words = [w.lower().strip("'’") for w in _WORDS.findall(text)]
        tokens = set(words) | {part for w in words if "-" in w for part in w.split("-") if part}
        return cls(frozenset(number_values(text)), frozenset(date_facts(text)), frozenset(tokens))

    @classmethod
    def union(cls, many: Iterable["Facts"]) -> "Facts":
        """What several texts offer together (a sentence citing [1][2] may draw on both)."""
        many = list(many)
        return cls(frozenset().union(*(f.numbers for f in many)), frozenset().union(*(f.dates for f in many)),
                   frozenset().union(*(f.tokens for f in many)))

    def missing(self, sentence: str, language: str, lexicon: CorpusLexicon) -> list[str]:
        """The numbers, dates and names ``sentence`` states that these facts do not contain."""
        out = [f"number {w}" for w, vals in numbers(sentence) if not (vals & self.numbers)]
        out += [f"date {w}" for w, fact in dates(sentence) if fact not in self.dates]
        out += [f"name {n}" for n in names(sentence, language, lexicon) if not _name_found(n, self.tokens)]
        return list(dict.fromkeys(out))


def source_sentences(text: str) -> list[str]:
    """What an answer sentence is compared with: each sentence of the passage worth comparing
    (headings like "Antwoord" are not), then each pair of neighbours — a generated sentence often
    merges two source sentences (measured: lifts true pairs, not other-topic ones)."""
    single = [clean_sentence(s.text) for s in split_spans(text) if len(s.text.split()) >= 3]
    return single + [f"{a} {b}" for a, b in zip(single, single[1:])]


@dataclass
class Verification:
    checks: list[SentenceCheck]  # every sentence of the reply, in order (dropped ones unsupported)
    text: str  # the repaired answer: supported sentences only, each followed by its [n]
    grounded: bool  # every sentence of the reply was supported (possibly after citation repair)
    unsupported: list[str]  # sentences dropped
    refusals: list[str]  # "the sources do not say" statements, set aside
    invalid_citations: list[int]  # [n] that pointed to no source
    repaired: int  # sentences whose citations were added or replaced

    @property
    def kept(self) -> list[SentenceCheck]:
        return [c for c in self.checks if c.supported]


@dataclass
class _Scores:
    overlap: float
    cos: float
    missing: list[str]
    content_words: int = 99


class Verifier:
    """Checks answers against numbered passages. Needs the service's encoder (any object with
    ``encode_documents`` and ``document_inputs``/``_encode_raw``, see ``embed_sentences``)."""

    def __init__(self, encoder, rule: SupportRule = RULE, lexicon: CorpusLexicon | None = None):
        self.encoder = encoder
        self.rule = rule
        self.lexicon = lexicon or CorpusLexicon()
        self.analyze = Analyzer()

    # -- embedding -------------------------------------------------------------------------

    def source_vectors(self, sources: list[Source]) -> None:
        """Sentence vectors for sources, from the encoder's persistent cache (one batch)."""
        todo = [s for s in sources if s.vectors is None]
        flat = [t for s in todo for t in s.sentences]
        if not flat:
            for s in todo:
                s.vectors = np.zeros((0, 1), dtype=np.float32)
            return
        vectors, _ = self.encoder.encode_documents(flat)
        i = 0
        for s in todo:
            s.vectors = vectors[i:i + len(s.sentences)]
            i += len(s.sentences)

    def embed_sentences(self, sentences: list[str], sources: list[Source]) -> np.ndarray:
        """Answer sentences, embedded like documents. A sentence quoted verbatim from a source
        reuses that vector; the rest are embedded without the persistent cache (they are one-off)."""
        known = {t: s.vectors[j] for s in sources if s.vectors is not None and len(s.vectors)
                 for j, t in enumerate(s.sentences)}
        fresh = [t for t in dict.fromkeys(sentences) if t not in known]
        if fresh:
            raw = getattr(self.encoder, "_encode_raw", None)
            if raw is not None and hasattr(self.encoder, "document_inputs"):
                vectors = raw(self.encoder.document_inputs(fresh), False)
            else:
                vectors, _ = self.encoder.encode_documents(fresh)
            known.update(zip(fresh, vectors))
        return np.stack([known[t] for t in sentences]) if sentences else np.zeros((0, 1), np.float32)

    # -- checking --------------------------------------------------------------------------

    def _prepare(self, sources: list[Source]) -> None:
        for s in sources:
            if s.facts is None:
                s.facts = Facts.of(s.text)
                s.stems = set(self.analyze(s.text))

    def _content_stems(self, sentence: str) -> list[str]:
        words = [w for w in _WORDS.findall(sentence) if w.lower() not in META_WORDS]
        return [t for t in self.analyze(" ".join(words)) if not t.isdigit()]

    def _overlap(self, stems: list[str], pool: set[str]) -> float:
        if not stems:
            return 0.0
        n = self.rule.compound_min_len
        long_pool = [p for p in pool if len(p) >= n]

        def found(s: str) -> bool:
            return s in pool or (len(s) >= n and any(s in p or p in s for p in long_pool))

        return sum(found(s) for s in stems) / len(stems)

    def topic(self, question: str | None) -> frozenset[str]:
        """Content stems of the question: what a sentence that repeats them must find in its sources."""
        return frozenset(self._content_stems(question)) if question else frozenset()

    def _scores(self, sentence: str, vector: np.ndarray, language: str, group: list[Source],
                claim: str | None = None, topic: frozenset[str] = frozenset()) -> _Scores:
        """Hard checks on ``sentence``; overlap and similarity on ``claim`` (the sentence, or for a
        fragment the question plus the fragment — ``vector`` is the claim's)."""
        pool = set().union(*(s.stems for s in group))
        missing = Facts.union(s.facts for s in group).missing(sentence, language, self.lexicon)
        if topic and language == "nl":
            # A Dutch sentence that takes a term from the question ("leefgeld") and pins a passage's
            # facts on it needs a passage that mentions the term (cross-lingual: not comparable).
            for word in _WORDS.findall(sentence):
                stem = self.analyze(word)
                if (stem and stem[0] in topic and stem[0] not in VAGUE_STEMS
                        and self.lexicon.rare(stem[0], self.rule.topic_max_share)
                        and not self._overlap(stem, pool)):
                    missing.append(f"question term {word}")
        stems = self._content_stems(claim or sentence)
        overlap = self._overlap(stems, pool)
        sims = [float((s.vectors @ vector).max()) for s in group if s.vectors is not None and len(s.vectors)]
        return _Scores(overlap=overlap, cos=max(sims, default=0.0), missing=list(dict.fromkeys(missing)),
                       content_words=len(stems))

    def _claim(self, sentence: str, question: str | None) -> str:
        if question and len(self._content_stems(sentence)) < self.rule.min_content_words:
            return f"{question.strip()} {sentence}"
        return sentence

    def supported(self, sc: _Scores, language: str) -> bool:
        r = self.rule
        if sc.missing or sc.content_words < r.min_content_words:
            return False
        if sc.overlap >= r.min_overlap and sc.cos >= r.overlap_min_cos:
            return True
        return sc.cos >= (r.strong_cos if language == "nl" else r.cross_lingual_cos)

    @staticmethod
    def score(sc: _Scores) -> float:
        """One number in [0, 1] for reports: similarity, lifted by word overlap."""
        return round(float(min(1.0, max(0.0, sc.cos, (sc.cos + sc.overlap) / 2))), 3)

    def _why(self, sc: _Scores, where: str) -> list[str]:
        reasons = [f"{m} not in {where}" for m in sc.missing]
        if not reasons and sc.content_words < self.rule.min_content_words:
            reasons.append(f"too short to check ({sc.content_words} content words)")
        if not reasons:
            reasons.append(f"too little support in {where} (similarity {sc.cos:.2f}, word overlap {sc.overlap:.2f})")
        return reasons

    def check(self, sentence: str, passages: Sequence[Passage | str], language: str = "nl",
              question: str | None = None) -> SentenceCheck:
        """Is one sentence supported by ``passages`` taken together? The rule ``verify`` applies,
        without repair or re-citing: what an evaluation judge needs."""
        sources = [Source.from_passage(p) for p in passages]
        self._prepare(sources)
        self.source_vectors(sources)
        bare, _ = parse_markers(sentence)
        claim = self._claim(bare, question)
        vector = self.embed_sentences([claim], sources)[0]
        sc = self._scores(bare, vector, language, sources, claim, self.topic(question))
        ok = bool(sources) and self.supported(sc, language)
        return SentenceCheck(bare, tuple(range(1, len(sources) + 1)), ok, self.score(sc) if sources else 0.0,
                             () if ok else tuple(self._why(sc, "the passages")))

    def verify(self, text: str, passages: Sequence[Passage | str], language: str = "nl",
               sources: list[Source] | None = None, question: str | None = None) -> Verification:
        """Check and repair ``text`` against ``passages`` (source [n] is passages[n-1]).

        With ``question``, a fragment answer ("Op 19 december 2013.", "Ongeveer 150.") is judged as
        question + fragment; without it, fragments are too short to check and are dropped."""
        sources = sources if sources is not None else [Source.from_passage(p) for p in passages]
        self._prepare(sources)
        self.source_vectors(sources)
        parsed = [parse_markers(s.text) for s in split_spans(text)]
        parsed = [(bare, cited) for bare, cited in parsed if re.search(r"\w", bare)]
        unique: dict[str, tuple[str, tuple[int, ...]]] = {}
        for bare, cited in parsed:  # repeated sentences (small models loop) are checked once
            unique.setdefault(bare.lower(), (bare, cited))
        parsed = list(unique.values())
        refusals: list[str] = []
        claims = [self._claim(b, question) for b, _ in parsed]
        topic = self.topic(question)
        vectors = self.embed_sentences(claims, sources) if parsed else None
        n = len(sources)
        checks: list[SentenceCheck | None] = []
        invalid: list[int] = []
        repaired = 0
        pending_free: list[int] = []  # content-free sentences waiting for the next kept one
        for i, (bare, cited) in enumerate(parsed):
            valid = tuple(c for c in cited if 1 <= c <= n)
            bad = [c for c in cited if not 1 <= c <= n]
            invalid += bad
            notes = [f"invalid citation [{c}] removed" for c in bad]
            if META_REFUSAL.search(bare):
                refusals.append(bare)
                checks.append(None)  # about the sources, not from them: set aside
                continue
            not_a_claim = _not_a_claim(bare, question, [src.label for src in sources])
            if not_a_claim:
                checks.append(SentenceCheck(bare, valid, False, 0.0, tuple(notes + [not_a_claim])))
                continue
            if _content_free(bare):
                checks.append(SentenceCheck(bare, valid, False, 0.0, tuple(notes)))
                pending_free.append(i)  # "Nee." stands or falls with what follows
                continue
            result = None
            if valid:
                sc = self._scores(bare, vectors[i], language, [sources[c - 1] for c in valid], claims[i], topic)
                if self.supported(sc, language):
                    result = SentenceCheck(bare, valid, True, self.score(sc), tuple(notes))
                else:
                    notes += self._why(sc, "cited " + "".join(f"[{c}]" for c in valid))
            if result is None:
                # Repair: the single best source that passes, if any.
                best = None
                for j, src in enumerate(sources):
                    sc = self._scores(bare, vectors[i], language, [src], claims[i], topic)
                    if self.supported(sc, language) and (best is None or self.score(sc) > best[1]):
                        best = (j + 1, self.score(sc))
                if best:
                    repaired += 1
                    notes.append(f"citation [{best[0]}] " + ("instead of " + "".join(f"[{c}]" for c in valid)
                                                              if valid else "added"))
                    result = SentenceCheck(bare, (best[0],), True, best[1], tuple(notes))
                elif is_refusal(bare):
                    refusals.append(bare)
                    checks.append(None)  # not a claim: set aside, neither kept nor "unsupported"
                    continue
                else:
                    if not valid:
                        sc = max((self._scores(bare, vectors[i], language, [s], claims[i], topic) for s in sources),
                                 key=self.score, default=_Scores(0.0, 0.0, []))
                        notes += self._why(sc, "any source")
                    result = SentenceCheck(bare, valid, False, 0.0, tuple(dict.fromkeys(notes)))
            if result.supported:
                for k in pending_free:
                    free = checks[k]
                    checks[k] = SentenceCheck(free.text, result.citations, True, result.score,
                                              free.reasons + ("no content words; cites like the next sentence",))
            else:
                for k in pending_free:
                    free = checks[k]
                    checks[k] = SentenceCheck(free.text, free.citations, False, 0.0,
                                              free.reasons + ("no content words and the next sentence was dropped",))
            pending_free = []
            checks.append(result)
        for k in pending_free:
            free = checks[k]
            checks[k] = SentenceCheck(free.text, free.citations, False, 0.0,
                                      free.reasons + ("no content words and nothing follows",))
        final = [c for c in checks if c is not None]
        kept = [c for c in final if c.supported]
        unsupported = [c.text for c in final if not c.supported]
        return Verification(
            checks=final,
            text=" ".join(render(c.text, c.citations) for c in kept),
            grounded=bool(final) and not unsupported,
            unsupported=unsupported,
            refusals=refusals,
            invalid_citations=invalid,
            repaired=repaired,
        )


def _not_a_claim(sentence: str, question: str | None, labels: Sequence[str] = ()) -> str | None:
    """Why a sentence cannot be an answer, if it cannot: a question, the user's question echoed, or a
    source's citation label or title copied out (small models do: "Nadere memorie van antwoord: …")."""
    if sentence.rstrip("\"'»”’) ").endswith("?"):
        return "a question, not a statement"
    a = {w.lower() for w in _WORDS.findall(sentence)}
    if question:
        b = {w.lower() for w in _WORDS.findall(question)}
        if a and len(a & b) / len(a | b) >= 0.8:
            return "repeats the question"
    for label in labels:
        b = {w.lower() for w in _WORDS.findall(label)}
        if a and b and len(a & b) / len(a) >= 0.8:
            return "repeats a source's title, not a claim"
    return None


_YES_NO = frozenset("ja nee neen yes no klopt correct inderdaad zeker niet not true right precies".split())


def _content_free(sentence: str) -> bool:
    """"Nee.", "Ja, dat klopt.", "Yes." — an answer word that stands or falls with what follows."""
    words = [w.lower() for w in _WORDS.findall(sentence)]
    return 0 < len(words) <= 4 and not numbers(sentence) and all(w in _YES_NO or w in STOPWORDS for w in words)

