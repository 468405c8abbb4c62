"""Training the reader (rag/answer/reader.py): its data from the documents, and the same MLP in torch.

A bag is a question with the candidate sentences of one passage and one label: 1 when the passage answers
it (a Kamervraag's own answer, all its parts; a passage holding a dev/train gold quote), 0 for the other
passages retrieved with it. The bag's logit is the maximum over its sentences (multiple-instance learning:
which sentence of an answer answers is not labelled), as the engine reads the best sentence. Passages on
both sides: with answering sentences against single other sentences, the maximum of a noisy scorer over
the larger bag wins by itself.

Deterministic on one machine: ``torch.manual_seed``, ``torch.use_deterministic_algorithms(True)``, one
torch thread, bags visited in a seeded order, float32. Used by scripts/train_reader.py and the tests
(imports torch); the serving path reads the weights with numpy only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.answer.extractive import _ANSWER_HEADING
from rag.answer.reader import Reader

QA_DOC_PREFIX = "004_"  # the Kamervragen document (235 Vraag/Antwoord pairs)
_VRAAG = re.compile(r"^[ \t]*Vraag[ \t]+(\d+)[ \t]*$", re.M | re.I)


@dataclass(frozen=True)
class FitConfig:
    hidden: int = 32
    epochs: int = 40
    batch: int = 64  # bags per step
    lr: float = 1e-3
    weight_decay: float = 1e-2
    seed: int = 0


@dataclass
class Bag:
    question: str  # a key into the vectors
    sentences: list[str]  # keys of the passage's candidate sentences
    label: int
    group: str  # questions in one group stay in one fold


# ------------------------------------------------------------------------------------------------ data

def _norm(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def overlaps(sentence: str, quote: str) -> bool:
    """The sentence and a gold quote share text: one holds the other, or they share a run of 8+ words."""
    s, q = _norm(sentence), _norm(quote)
    if not s or not q:
        return False
    if s in q or q in s:
        return True
    words = s.split()
    return any(" ".join(words[i:i + 8]) in q for i in range(0, max(1, len(words) - 7)))


def kamervragen(index) -> list[dict]:
    """Each Vraag of document 004: {"id", "group", "question", "answer_ids"}. A joint answer ("Antwoord op
    vraag 21 en 22") answers each of its questions; they share a group, so no fold holds one without the
    other. The question is the Vraag's own text only (never the answer's), the answer every part's chunk."""
    file_of = {d.id: d.file for d in index.documents.values()}
    qa = [c for c in index.chunks if c.kind == "qa" and (file_of.get(c.doc_id) or "").startswith(QA_DOC_PREFIX)]
    out, seen = [], set()
    for c in qa:
        if c.part[0] != 1:
            continue
        m = _ANSWER_HEADING.search(c.text)
        head = c.text[:m.start() if m else len(c.text)]
        marks = list(_VRAAG.finditer(head))
        for i, mark in enumerate(marks):
            number = int(mark.group(1))
            end = marks[i + 1].start() if i + 1 < len(marks) else len(head)
            text = re.sub(r"\s+", " ", head[mark.end():end]).strip()
            if len(text.split()) < 4 or number in seen:
                continue
            seen.add(number)
            answer = sorted(o.id for o in qa if o.doc_id == c.doc_id and set(o.question_numbers) & set(c.question_numbers))
            out.append({"id": f"qa{number:03d}", "group": f"qa{min(c.question_numbers):03d}", "question": text,
                        "answer_ids": answer})
    return out


# ----------------------------------------------------------------------------------------------- the MLP

def _mlp(config: FitConfig, dimension: int):
    import torch
    from torch import nn

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2 * dimension, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 1))
            self.head = nn.Parameter(torch.tensor([1.0, 0.0]))

        def forward(self, q, s):
            """q (P, d), s (P, d) unit vectors of (question, sentence) pairs → logits (P,)."""
            x = torch.cat([q * s, (q - s).abs()], dim=1)
            return self.net(x)[:, 0] + self.head[0] * (q * s).sum(1) + self.head[1]

    return Mlp()


def to_reader(model) -> Reader:
    """The torch MLP's weights as a numpy Reader (what is saved and served)."""
    first, last = model.net[0], model.net[2]
    t = lambda p: p.detach().numpy().astype(np.float32).copy()  # noqa: E731
    return Reader(w1=t(first.weight).T.copy(), b1=t(first.bias), w2=t(last.weight)[0], b2=t(last.bias),
                  head=t(model.head))


def fit(bags: list[Bag], vectors: dict, config: FitConfig = FitConfig(), log=None) -> Reader:
    """Train on ``bags``; ``vectors``: key → unit vector (questions' query vectors, sentences' document
    vectors). Returns a Reader with empty meta (the caller records sha256 and figures)."""
    import torch

    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        dimension = len(next(iter(vectors.values())))
        model = _mlp(config, dimension)
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        vec = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in vectors.items()}
        labels = np.array([b.label for b in bags], dtype=np.float32)
        pos_weight = torch.tensor(float((labels == 0).sum() / max(1, (labels == 1).sum())))
        rng = np.random.default_rng(config.seed)
        for epoch in range(config.epochs):
            total = 0.0
            order = rng.permutation(len(bags))
            for start in range(0, len(order), config.batch):
                part = [bags[i] for i in order[start:start + config.batch]]
                q = torch.stack([vec[b.question] for b in part for _ in b.sentences])
                s = torch.stack([vec[k] for b in part for k in b.sentences])
                z = model(q, s)
                sizes = [len(b.sentences) for b in part]
                bag_z = torch.stack([chunk.max() for chunk in torch.split(z, sizes)])
                y = torch.from_numpy(labels[order[start:start + config.batch]])
                loss = torch.nn.functional.binary_cross_entropy_with_logits(bag_z, y, pos_weight=pos_weight)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(part)
            if log is not None:
                log(f"epoch {epoch + 1}/{config.epochs}: loss {total / len(bags):.4f}")
        return to_reader(model)
    finally:
        torch.set_num_threads(threads)
