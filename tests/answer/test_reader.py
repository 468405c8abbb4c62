"""The reader (rag/answer/reader.py) and its training (rag/answer/reader_fit.py).

The shipped weights: their checksum, size and refusal when altered; the numpy MLP against the torch MLP it
is trained as, and its steadiness under bf16-sized noise; and a retraining on a small subset of document
004's Kamervragen (real model, real index) that must tell a question's own answer from the passages
retrieval puts next to it, on held-out questions.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rag.answer import reader
from rag.answer.reader_fit import Bag, FitConfig, _mlp, fit, kamervragen, overlaps, to_reader


def test_shipped_weights_match_their_checksum_and_fit_the_repository():
    assert reader.WEIGHTS.stat().st_size <= 20_000_000
    r = reader.Reader.load()
    assert r.meta["sha256"] == reader.sha256(reader.WEIGHTS) and r.meta["trained_by"].startswith("scripts/train_reader.py")
    assert r.dimension == 768 and r.w1.shape == (1536, r.b1.shape[0]) and r.head.shape == (2,)


def test_altered_or_missing_weights_are_refused_with_what_to_do(tmp_path):
    weights, meta = tmp_path / "reader.safetensors", tmp_path / "reader.json"
    shutil.copy(reader.WEIGHTS, weights)
    shutil.copy(reader.META, meta)
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(reader.ReaderError, match="sha256.*train_reader.py"):
        reader.Reader.load(weights, meta)
    weights.unlink()
    with pytest.raises(reader.ReaderError, match="missing"):
        reader.Reader.load(weights, meta)
    meta.write_text("{", encoding="utf-8")
    with pytest.raises(reader.ReaderError, match="metadata"):
        reader.Reader.load(weights, meta)


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def test_numpy_reader_computes_what_the_torch_mlp_was_trained_as():
    import torch

    torch.manual_seed(3)
    model = _mlp(FitConfig(hidden=6), 768)
    rng = np.random.default_rng(1)
    q, s = _unit(rng.normal(size=768)), _unit(rng.normal(size=(5, 768)))
    with torch.no_grad():
        want = model(torch.from_numpy(np.repeat(q[None], 5, axis=0)), torch.from_numpy(s)).numpy()
    np.testing.assert_allclose(to_reader(model).logits(q, s), want, rtol=1e-5, atol=1e-5)


def test_shipped_reader_is_steady_under_bf16_sized_noise():
    """bf16 vectors differ by ~1e-3 across CPUs and batch compositions (issue 22): the logits barely move."""
    r = reader.load_reader()
    rng = np.random.default_rng(2)
    q, s = _unit(rng.normal(size=768)), _unit(rng.normal(size=(40, 768)))
    noisy = lambda x: _unit(x * (1 + 1e-3 * rng.normal(size=x.shape)))  # noqa: E731
    assert np.abs(r.logits(noisy(q), noisy(s)) - r.logits(q, s)).max() < 0.05


def test_overlaps_finds_the_sentence_of_a_gold_quote():
    quote = "Er waren ca. 150 \ndeelnemers vanuit onder andere zelforganisaties"
    assert overlaps("Er waren ca. 150 deelnemers vanuit onder andere zelforganisaties, professionals en politie.", quote)
    assert not overlaps("Het platform kwam twee keer bijeen.", quote)


def test_kamervragen_split_joint_answers_into_each_question(service):
    qs = {q["id"]: q for q in kamervragen(service.index)}
    assert len(qs) >= 230
    assert qs["qa021"]["answer_ids"] == qs["qa022"]["answer_ids"] and qs["qa021"]["group"] == qs["qa022"]["group"]
    assert "Antwoord" not in qs["qa021"]["question"] and "Vraag 22" not in qs["qa021"]["question"]


def test_retraining_on_a_subset_tells_own_answers_from_near_topic_passages(service):
    """Every second Kamervraag (117), 5-fold by question: each held-out question's own answer against the three
    other passages retrieval puts next to it, scored by the best sentence (AUC over the pooled out-of-fold
    (answer, other passage) pairs; chance is 0.5). Measured: 0.577, the cosine alone 0.565 — the Kamervragen'
    neighbours are the hard near-topic case, and the margin over chance is what is checked."""
    from rag.answer.extractive import SentenceVectors

    encoder = service.encoder
    sentence_vectors = SentenceVectors(encoder)
    by_id = {c.id: c for c in service.index.chunks}
    vectors, items = {}, []
    for q in kamervragen(service.index)[::3]:  # spread over the document's topics
        qv = vectors["q" + q["id"]] = encoder.encode_query(q["question"])
        own = set(q["answer_ids"])
        others = [p.chunk for p in service.retriever.search(q["question"], top_k=8, query_vector=qv)
                  if p.chunk.id not in own and not (set(p.duplicates) & own)][:3]
        passages = []
        for chunks, label in ([by_id[i] for i in q["answer_ids"]], 1), *(([c], 0) for c in others):
            keys = []
            for chunk, (spans, vecs) in zip(chunks, sentence_vectors.get(chunks)):
                for (_, text), v in zip(spans, vecs):
                    vectors["s" + text] = v
                    keys.append("s" + text)
            if keys:
                passages.append((keys, label))
        items.append((q, passages))
    assert len(items) >= 75
    groups = sorted({q["group"] for q, _ in items})
    fold_of = {q["id"]: groups.index(q["group"]) % 5 for q, _ in items}  # a joint answer's questions stay together
    pos, neg = [], []
    for fold in range(5):
        train = [it for it in items if fold_of[it[0]["id"]] != fold]
        model = fit([Bag("q" + q["id"], keys, label, q["group"]) for q, passages in train for keys, label in passages],
                    vectors, FitConfig(epochs=30))
        for q, passages in (it for it in items if fold_of[it[0]["id"]] == fold):
            for keys, label in passages:
                best = float(model.logits(vectors["q" + q["id"]], np.stack([vectors[k] for k in keys])).max())
                (pos if label else neg).append(best)
    auc = np.mean([(a > b) + 0.5 * (a == b) for a in pos for b in neg])
    print("AUC", auc); assert len(pos) >= 75 and auc >= 0.55, auc
