"""The reader: does this sentence *answer* the question, or only share its topic? It reads both together.

An interaction MLP over the two EmbeddingGemma vectors the engine already has — the question's query vector
q and a candidate sentence's document vector s (both unit length):

    z = w2 · relu(W1 [q ⊙ s, |q − s|] + b1) + b2 + c · (q · s) + c0        the sentence's logit

The element-wise product and difference say *along which dimensions* the two agree, which one cosine
(their sum) cannot. Trained on this machine by scripts/train_reader.py (rag/answer/reader_fit.py, ~5 min
on one core) from the documents' own questions — document 004's 235 Kamervragen, each with its own answer
against the best-retrieved other answers and paragraphs, the passage side without the question — and the
dev, train and train2 questions with their gold passages. Weights: data/answerability/reader.safetensors (float32,
~0.2 MB); reader.json holds their sha256 (checked at load), the training settings and figures.

Chosen by measurement over two readers of the token states (a cross-attention head over frozen token
states, late-interaction MaxSim): README "Answerability". Read where it decides: its best logit over the
candidate sentences is a feature of the answerability model (rag/answer/answerable.py), which makes the
calibrated probability; rag/answer/extractive.compose adds it to a sentence's relevance. Cost: one
(n × 1536) · (1536 × 32) product per question, well under a millisecond for ~40 sentences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from embeddings.fetch import checked_metadata, sha256_file as sha256  # the weights' checksum, as models are checked
from rag.config import PROJECT_ROOT

WEIGHTS_DIR = PROJECT_ROOT / "data" / "answerability"
WEIGHTS = WEIGHTS_DIR / "reader.safetensors"
META = WEIGHTS_DIR / "reader.json"
TENSORS = ("w1", "b1", "w2", "b2", "head")


class ReaderError(ValueError):
    """The reader's files are missing, altered (sha256) or malformed; the message says what to do."""


@dataclass(frozen=True)
class Reader:
    """The MLP's weights (numpy float32) and reader.json's metadata (sha256, settings, figures)."""

    w1: np.ndarray  # (2 · dimension, hidden)
    b1: np.ndarray  # (hidden,)
    w2: np.ndarray  # (hidden,)
    b2: np.ndarray  # (1,)
    head: np.ndarray  # (2,): c, c0 — the cosine's weight and the bias
    meta: dict = field(default_factory=dict)

    @classmethod
    def load(cls, weights: Path = WEIGHTS, meta: Path = META) -> "Reader":
        """Raises ReaderError when a file is missing or unreadable, the weights' sha256 is not the one
        reader.json records, or a tensor is missing or misshapen (restore the files from git, or retrain
        with scripts/train_reader.py)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        info = checked_metadata(weights, meta, ReaderError, "restore it from git or run scripts/train_reader.py")
        try:
            tensors = load_file(str(weights))
            reader = cls(**{t: np.asarray(tensors[t], dtype=np.float32) for t in TENSORS}, meta=info)
        except (KeyError, SafetensorError) as exc:
            raise ReaderError(f"{weights}: not the reader's tensors ({exc}); run scripts/train_reader.py") from exc
        hidden = reader.b1.shape[0]
        if reader.w1.shape[1] != hidden or reader.w2.shape != (hidden,) or reader.head.shape != (2,):
            raise ReaderError(f"{weights}: tensors of mismatched shapes; run scripts/train_reader.py")
        return reader

    @property
    def dimension(self) -> int:
        return self.w1.shape[0] // 2

    def logits(self, query_vector: np.ndarray, sentence_vectors: np.ndarray) -> np.ndarray:
        """(n,) float32: per sentence (rows of ``sentence_vectors``, (n, dimension), unit length) the logit
        that it answers the question whose unit query vector is ``query_vector``."""
        s = np.asarray(sentence_vectors, dtype=np.float32).reshape(-1, self.dimension)
        q = np.asarray(query_vector, dtype=np.float32)
        if not len(s):
            return np.zeros(0, dtype=np.float32)
        x = np.concatenate([s * q, np.abs(s - q)], axis=1)
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        return (hidden @ self.w2 + self.b2[0] + self.head[0] * (s @ q) + self.head[1]).astype(np.float32)


def read(reader: Reader, query_vector: np.ndarray, cands: list) -> np.ndarray:
    """The reader's logit for each candidate sentence (extractive.Candidate: unit ``vector``)."""
    if not cands:
        return np.zeros(0, dtype=np.float32)
    return reader.logits(query_vector, np.stack([c.vector for c in cands]))


@lru_cache(maxsize=2)
def load_reader(weights: str = str(WEIGHTS), meta: str = str(META)) -> Reader:
    return Reader.load(Path(weights), Path(meta))
