"""Extractive answers: the sentences of the top passages that best answer the question, quoted.

The default without an LLM and the fallback when the LLM fails. Every sentence is copied verbatim
from a source and followed by its [n], so it is faithful by construction (the verifier is still run
on it). Selection: cosine between the question (query embedding) and each candidate sentence
(document embedding, from the encoder's persistent cache), plus a small bonus for higher-ranked
passages, picked greedily with maximal marginal relevance so a second sentence adds something new.
Sentences are then shown per passage in rank order, in their order in the source.

``compose`` (what the engine uses) leads with the sentence that *answers*: similarity plus a bonus for
carrying the expected answer type (a number, a date, a reason …; rag/answer/answerable.py) and for
covering the question's content terms, and — for the lead — the reader's P(answers) (rag/answer/reader.py);
adds a sentence only when it brings a fact the chosen ones lack; gives each part of a multi-part question
its own sentence; puts the reasons first that a chosen sentence points back to ("om de hierboven
beschreven redenen"); and leaves out sentences already given in the previous answer of a conversation.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from rag.answer.sentences import clean_sentence, render, split_spans
from rag.ingest import instructions
from rag.types import Chunk, Passage

# "Antwoord", "Antwoord 13", "Antwoord op vraag 21 en 22", "Antwoord op vragen 47, 79, … en 124" (31 of the
# 242 Q&A passages have a numbered heading; with the bare form only, their answers were never quoted).
_ANSWER_HEADING = re.compile(r"^[ \t]*Antwoord(?:[ \t]+(?:op[ \t]+vra(?:ag|gen)[ \t]+)?\d+(?:(?:,|[ \t]+en)[ \t]*\d+)*)?[ \t]*$",
                             re.MULTILINE)
_CLOSED = re.compile(r"[.!?…:][\"'»”’)\]]*$")  # a sentence end; ":" announces what followed
_QUESTION_HEADING = re.compile(r"^\s*Vraag\s+\d+", re.IGNORECASE)
_LEANS_ON_CONTEXT = re.compile(
    r"^(ja|nee|dit|dat|deze|die|daarnaast|daarbij|daarom|hierbij|hiervoor|hiermee|hierin|ook|zo|tot slot|"
    r"verder|wel|echter|bovendien|eveneens|voornoemde|bovenstaande)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ExtractiveConfig:
    """Selection knobs. Measured on the 45 answerable dev questions (share whose answer cites a passage
    holding the gold quote / share of the gold quote's words in the answer): these settings 0.80 / 0.75,
    2.5 sentences, 65 words; no rank bonus 0.76 / 0.70; plain relevance (lambda 1) 0.71 / 0.67."""

    max_passages: int = 3  # quote from the top 3: measured 0.80 of answers cite a gold passage vs 0.76 from 5
    min_sentences: int = 2
    max_sentences: int = 4
    max_words: int = 110  # stop adding sentences beyond this many words in total
    mmr_lambda: float = 0.7  # relevance vs. novelty
    keep_within: float = 0.10  # a 3rd/4th sentence only if this close to the best one's relevance
    rank_bonus: float = 0.06  # relevance bonus for passage [1], shrinking linearly to 0 for the last
    min_words: int = 5  # shorter pieces are headings or list stubs
    # Sentences that lean on what came before ("Ja, dat klopt.", "Dit geldt ook ...") read badly out
    # of context: a small relevance penalty prefers a self-contained sentence of similar relevance.
    context_penalty: float = 0.03


CONFIG = ExtractiveConfig()


@dataclass(frozen=True)
class Candidate:
    source: int  # 1-based source number
    start: int  # offset in the passage text: keeps source order
    text: str  # verbatim sentence (leading bullet removed)
    vector: np.ndarray
    answers: float | None = None  # the reader's logit that it answers the question (rag/answer/reader.py)


def answer_part(chunk: Chunk) -> tuple[str, int]:
    """(text, offset) of the part of a passage that states things: in a Q&A passage the answer,
    not the Member of Parliament's question."""
    text = chunk.text
    m = _ANSWER_HEADING.search(text)
    if m:
        return text[m.end():], m.end()
    if chunk.kind == "qa" and _QUESTION_HEADING.match(text):
        return "", len(text)  # a question without its answer in this part
    return text, 0


def candidate_spans(chunk: Chunk, min_words: int = CONFIG.min_words) -> list[tuple[int, str]]:
    text, offset = answer_part(chunk)
    flagged = instructions.flag(chunk.text)
    out = []
    for span in split_spans(text):
        sentence = clean_sentence(span.text)
        words = len(sentence.split())
        if words < min_words or sentence.endswith("?"):
            continue  # fragments, and questions (a question is not an answer)
        if instructions.overlaps(offset + span.start, offset + span.end, flagged):
            continue  # an instruction to the model inside the document is never quoted
        if words < 10 and not re.search(r"[.!?:;)]$", sentence):
            continue  # a heading
        out.append((offset + span.start, sentence))
    return out


class SentenceVectors:
    """Sentence vectors per passage: in memory (LRU) over the encoder's SQLite cache."""

    def __init__(self, encoder, capacity: int = 2048):
        self.encoder = encoder
        self.capacity = capacity
        self._memory: OrderedDict[str, tuple[list[tuple[int, str]], np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, chunks: list[Chunk]) -> list[tuple[list[tuple[int, str]], np.ndarray]]:
        out: dict[str, tuple] = {}
        missing: list[Chunk] = []
        with self._lock:
            for c in chunks:
                hit = self._memory.get(c.id)
                if hit is not None:
                    self._memory.move_to_end(c.id)
                    out[c.id] = hit
                elif c.id not in out:
                    missing.append(c)
        if missing:
            spans = {c.id: candidate_spans(c) for c in missing}
            flat = [s for c in missing for _, s in spans[c.id]]
            vectors, _ = self.encoder.encode_documents(flat) if flat else (np.zeros((0, 1), np.float32), 0)
            i = 0
            with self._lock:
                for c in missing:
                    n = len(spans[c.id])
                    entry = (spans[c.id], vectors[i:i + n])
                    i += n
                    out[c.id] = entry
                    self._memory[c.id] = entry
                while len(self._memory) > self.capacity:
                    self._memory.popitem(last=False)
        return [out[c.id] for c in chunks]

    def warm(self, chunks: list[Chunk], batch: int = 64) -> None:
        """Embed every passage's sentences once (minutes on first run, then cached on disk)."""
        for i in range(0, len(chunks), batch):
            self.get(chunks[i:i + batch])


def candidates(passages: list[Passage], vectors: SentenceVectors) -> list[Candidate]:
    out = []
    for n, (passage, (spans, vecs)) in enumerate(zip(passages, vectors.get([p.chunk for p in passages])), start=1):
        out += [Candidate(n, start, text, vecs[j]) for j, (start, text) in enumerate(spans)]
    return out


def best_sentence_similarity(query_vector: np.ndarray, cands: list[Candidate]) -> float:
    """The best question-to-sentence cosine: one of the two abstention signals."""
    return max((float(c.vector @ query_vector) for c in cands), default=0.0)


def select(query_vector: np.ndarray, cands: list[Candidate], n_sources: int,
           config: ExtractiveConfig = CONFIG) -> list[Candidate]:
    """Pick 2–4 sentences by MMR; return them grouped by source (rank order), in source order."""
    if not cands:
        return []
    matrix = np.stack([c.vector for c in cands])
    bonus = np.array([config.rank_bonus * (1 - (c.source - 1) / max(n_sources - 1, 1))
                      - (config.context_penalty if _LEANS_ON_CONTEXT.match(c.text) else 0.0) for c in cands])
    relevance = matrix @ query_vector + bonus
    chosen: list[int] = []
    words = 0
    best = float(relevance.max())
    while len(chosen) < config.max_sentences:
        if chosen:
            redundancy = (matrix @ matrix[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(cands))
        mmr = config.mmr_lambda * relevance - (1 - config.mmr_lambda) * redundancy
        mmr[chosen] = -np.inf
        i = int(np.argmax(mmr))
        if not np.isfinite(mmr[i]) or redundancy[i] > 0.97:
            break  # nothing new left
        n_words = len(cands[i].text.split())
        if len(chosen) >= config.min_sentences and (
                relevance[i] < best - config.keep_within or words + n_words > config.max_words):
            break
        if chosen and words + n_words > config.max_words * 1.5:
            break  # a very long second sentence would make a wall of text
        chosen.append(i)
        words += n_words
    picked = [cands[i] for i in chosen]
    return sorted(picked, key=lambda c: (c.source, c.start))


def closed(sentence: str) -> str:
    """A quoted sentence as it ends in an answer: with a full stop when its source gave it none (a list
    item, a line of the source without its stop) or ended it with ";" or ",", so that two quotes never
    run into one another ("… stroomlijnen [1] Het …"). The words are the source's; ":" stays (it says a
    list followed in the source)."""
    if _CLOSED.search(sentence):
        return sentence
    return sentence[:-1] + "." if sentence.endswith((";", ",")) else sentence + "."


def render_answer(picked: list[Candidate]) -> str:
    return " ".join(render(closed(c.text), (c.source,)) for c in picked)


# -- answer-first composition -------------------------------------------------------------------------

@dataclass(frozen=True)
class ComposeConfig:
    """Weights of the answer-first selection, set on the dev set's answerable questions with
    scripts/tune_extractive.py (key-fact recall and the first sentence's key-fact share)."""

    type_bonus: float = 0.04  # the sentence carries what the question asks for (number, date, reason …)
    coverage_weight: float = 0.08  # × idf-weighted share of the question's content stems in the sentence
    min_new_stems: int = 3  # a further sentence must bring this many content stems the chosen ones lack
    part_coverage: float = 0.5  # a question part counts as answered at this share of its stems
    # The lead is chosen by relevance + this × the reader's P(the sentence answers the question)
    # (rag/answer/reader.py). Measured with scripts/tune_extractive.py, first sentence holding a key fact
    # (dev / probe / probe2): 0 → 0.772 / 0.833 / 0.655; 0.3 → 0.807 / 0.833 / 0.690; 1 → 0.860 / 0.889 / 0.724.
    reader_weight: float = 1.0


COMPOSE = ComposeConfig()
_PART_SPLIT = re.compile(r"\?\s+|,?\s+(?:en|and|ve|oraz|i)\s+(?=(?:hoe|wat|wanneer|waarom|wie|welke|hoeveel|"
                         r"how|what|when|why|who|which|is|are|do|does|kan|mag|moet|zijn|wordt)\b)", re.I)
_NORM = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    return _NORM.sub(" ", text.lower()).strip()


def question_parts(question: str) -> list[str]:
    """A multi-part question's parts ("Wat is X, en wanneer gebeurde Y?" → two); one part otherwise."""
    parts = [p.strip() for p in _PART_SPLIT.split(question) if p and len(p.split()) >= 3]
    return parts if len(parts) > 1 else [question]


def previous_sentences(history: list[dict] | None) -> set[str]:
    """The normalised sentences of the last assistant turn (what a follow-up must not repeat)."""
    from rag.answer.sentences import parse_markers

    for message in reversed(history or []):
        if isinstance(message, dict) and message.get("role") == "assistant":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            if isinstance(content, str) and content.strip():
                return {normalise(parse_markers(s.text)[0]) for s in split_spans(content) if s.text.strip()}
            return set()
    return set()


# A sentence that says the reasons were given before it ("om de hierboven beschreven redenen") is no answer to
# "waarom" by itself: the reasons are in the text just before it.
_POINTS_BACK = re.compile(r"\b(hierboven|bovenstaande|bovengenoemde|voornoemde|eerder\s+genoemde|eerdergenoemde)\b", re.I)


def compose(question: str, query_vector: np.ndarray, cands: list[Candidate], n_sources: int, vocab,
            previous: set[str] | frozenset = frozenset(), config: ExtractiveConfig = CONFIG,
            weights: ComposeConfig = COMPOSE, passages: list[Passage] | None = None,
            others: list[Candidate] = ()) -> list[Candidate]:
    """2–4 sentences, the answering one first, then the rest grouped by source in source order.
    ``vocab``: answerable.Vocabulary (stems and idf); ``previous``: normalised sentences not to repeat.
    Sentences come from ``cands``; ``others`` (the rest of the candidates, e.g. of later sources) and
    ``passages`` (the retrieved ones, numbered like the sources) let a reason that a chosen sentence points
    back to come from a later source."""
    from rag.answer.answerable import carries, coverage, expected_type

    cands = [c for c in cands if normalise(c.text) not in previous]
    others = list(others)
    if not cands:
        return []
    kind = expected_type(question)
    q_stems = list(dict.fromkeys(vocab.analyze(question)))
    stems = [set(vocab.analyze(c.text)) for c in cands]
    matrix = np.stack([c.vector for c in cands])
    cos = matrix @ query_vector
    cover = np.array([coverage(q_stems, s, vocab) for s in stems])
    typed = np.array([kind is not None and carries(kind, c.text) for c in cands], dtype=float)
    bonus = np.array([config.rank_bonus * (1 - (c.source - 1) / max(n_sources - 1, 1))
                      - (config.context_penalty if _LEANS_ON_CONTEXT.match(c.text) else 0.0) for c in cands])
    relevance = cos + bonus + weights.type_bonus * typed + weights.coverage_weight * cover
    # The lead: the sentence that answers. The reader's P(answers) counts for the lead only; the further
    # sentences are picked by relevance (with the reader in it too they thinned from 2.6 to 2.3 a question
    # and dev key-fact recall fell from 0.53 to 0.50).
    leading = relevance.copy()
    if weights.reader_weight and all(c.answers is not None for c in cands):
        z = np.array([c.answers for c in cands], dtype=np.float64)
        leading = leading + weights.reader_weight / (1.0 + np.exp(-np.clip(z, -30, 30)))
    lead = int(np.argmax(leading))
    chosen, words, have = [lead], len(cands[lead].text.split()), set(stems[lead])
    best = float(relevance.max())
    while len(chosen) < config.max_sentences:
        redundancy = (matrix @ matrix[chosen].T).max(axis=1)
        mmr = config.mmr_lambda * relevance - (1 - config.mmr_lambda) * redundancy
        mmr[chosen] = -np.inf
        i = int(np.argmax(mmr))
        if not np.isfinite(mmr[i]) or redundancy[i] > 0.97:
            break
        n_words = len(cands[i].text.split())
        if len(chosen) >= config.min_sentences and (
                relevance[i] < best - config.keep_within or words + n_words > config.max_words):
            break
        if words + n_words > config.max_words * 1.5:
            break
        if len(stems[i] - have) < weights.min_new_stems:
            mmr_done = mmr.copy()
            mmr_done[i] = -np.inf  # adds no fact: try the next one once, then stop
            j = int(np.argmax(mmr_done))
            if not np.isfinite(mmr_done[j]) or len(stems[j] - have) < weights.min_new_stems or (
                    len(chosen) >= config.min_sentences and relevance[j] < best - config.keep_within):
                break
            i = j
        chosen.append(i)
        words += len(cands[i].text.split())
        have |= stems[i]
    # Each part of a multi-part question gets a sentence that covers it, if one exists.
    parts = question_parts(question)
    if len(parts) > 1:
        for part in parts:
            p_stems = list(dict.fromkeys(vocab.analyze(part)))
            if len(p_stems) < 2 or coverage(p_stems, have, vocab) >= weights.part_coverage:
                continue
            part_cover = np.array([coverage(p_stems, s, vocab) for s in stems])
            score = part_cover + 0.5 * cos
            score[chosen] = -np.inf
            j = int(np.argmax(score))
            if np.isfinite(score[j]) and part_cover[j] >= weights.part_coverage and len(chosen) <= config.max_sentences:
                chosen.append(j)
                have |= stems[j]
    rest = sorted((cands[i] for i in chosen[1:]), key=lambda c: (c.source, c.start))
    picked = [cands[lead]] + rest
    if kind == "reason" and passages:
        reasons = reasons_before(picked, cands + others, passages, carries)
        if reasons:  # the reasons lead, then what pointed at them; at most max_sentences in all
            picked = reasons + [c for c in picked if c not in reasons][:max(1, config.max_sentences - len(reasons))]
    return picked


def reasons_before(picked: list[Candidate], cands: list[Candidate], passages: list[Passage], carries) -> list[Candidate]:
    """For a picked sentence that points back at reasons ("om de hierboven beschreven redenen"): the
    reason-carrying sentences just before it in its document — earlier in its passage, or in the retrieved
    passage that ends where its passage starts (at most two, in document order)."""
    for c in picked:
        if not (_POINTS_BACK.search(c.text) and carries("reason", c.text)):
            continue
        chunk = passages[c.source - 1].chunk
        before = [o for o in cands if o.source == c.source and o.start < c.start]
        previous = [n for n, p in enumerate(passages, start=1)
                    if p.chunk.doc_id == chunk.doc_id and 0 <= chunk.char_start - p.chunk.char_end <= 2]
        before += [o for o in cands if o.source in previous]
        found = [o for o in before if carries("reason", o.text) and not _POINTS_BACK.search(o.text)]
        if found:
            found.sort(key=lambda o: (o.source == c.source, o.start))  # document order
            return found[-2:]
    return []
