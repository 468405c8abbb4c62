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
   - every number as a quantity (numbers.py): value in the sentence's notation ("68.3%" = "68,3%"), magnitude,
     unit (% ≠ procentpunt), a range's order and a direction word (gestegen/gedaald) as the passages give them;
   - every acronym ("PLON", "SZW"), word with inner capitals ("GroenLinks"), and name: a capitalised
     word inside a Dutch sentence, or in any sentence a word the corpus only writes capitalised
     ("Asscher", "Palland"). English answers translate Dutch institutions ("Ministry of the
     Interior"), so their other capitalised words are left to the similarity check;
   - Dutch sentences: a rare question term they repeat ("leefgeld": in <= 0.5% of passages) must
     occur in the cited passages — the sentence must not pin a passage's facts on it.
4. Soft support (thresholds in ``SupportRule``), from two signals:
   - ``overlap``: share of the sentence's content-word stems (Dutch Snowball, rag.search.lexical) found in
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
from typing import Sequence

import numpy as np

from rag.answer.claims import META_REFUSAL, META_WORDS, VAGUE_STEMS, content_free, is_refusal, not_a_claim
from rag.answer.facts import WORDS, CorpusLexicon, Facts
from rag.answer.sentences import clean_sentence, parse_markers, render, split_spans
from rag.ingest import instructions
from rag.search.lexical import Analyzer
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
    # Instructions to the model inside the passage (rag/ingest/instructions.py): left out of ``text`` and
    # ``sentences`` (no evidence), kept here to refuse an answer sentence that repeats one.
    flagged: list[str] = field(default_factory=list)

    @classmethod
    def from_passage(cls, passage: Passage | str) -> "Source":
        if isinstance(passage, str):
            body = instructions.strip(passage)
            return cls(text=body, sentences=source_sentences(body), flagged=instructions.sentences([passage]))
        c = passage.chunk
        parts = [instructions.strip(p) for p in (c.context, c.text, *(f.text for f in c.footnotes)) if p]
        return cls(text="\n".join(p for p in parts if p), sentences=source_sentences(instructions.strip(c.text)),
                   label=f"{passage.citation.label}\n{passage.document.title}",
                   flagged=instructions.sentences([c.context, c.text, *(f.text for f in c.footnotes)]))


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
class Collected:
    """Verification results gathered over a streamed reply, one verified piece at a time (the engine's
    generative stream): kept sentences, all checks, and what was dropped, refused or repaired."""

    kept: list[SentenceCheck] = field(default_factory=list)
    checks: list[SentenceCheck] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    repaired: int = 0
    seen: set = field(default_factory=set)

    def add(self, v: Verification) -> list[SentenceCheck]:
        new = []
        for c in v.checks:
            key = c.text.lower()
            if key in self.seen:
                continue  # a model repeating itself
            self.seen.add(key)
            self.checks.append(c)
            if c.supported:
                self.kept.append(c)
                new.append(c)
            else:
                self.unsupported.append(c.text)
        self.refusals += v.refusals
        self.invalid += v.invalid_citations
        self.repaired += v.repaired
        return new


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
        words = [w for w in WORDS.findall(sentence) if w.lower() not in META_WORDS]
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
            for word in WORDS.findall(sentence):
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
            why_not = (not_a_claim(bare, question, [src.label for src in sources])
                       or instructions.repeated(bare, [src.flagged for src in sources]))
            if why_not:
                checks.append(SentenceCheck(bare, valid, False, 0.0, tuple(notes + [why_not])))
                continue
            if content_free(bare):
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
