"""The embedding encoder on the real EmbeddingGemma model."""

import numpy as np


def test_single_query_fast_path_matches_the_batched_encode(service):
    # Search embeds one query at a time through the model's own modules (no encode() bookkeeping);
    # it must give the vectors encode() gives, or the ranking would drift between the two paths.
    encoder = service.encoder
    questions = ["Waarom is de Wet overleg minderhedenbeleid ingetrokken?",
                 "When will the first inspection visits of boarding schools take place?"]
    fast = np.stack([encoder.encode_query(q) for q in questions])
    prompt = encoder._prompt("query")
    # One at a time on both sides: in a batch, padding changes bf16 vectors by itself.
    batched = np.stack([encoder._encode_raw([prompt + q], progress=False)[0] for q in questions])
    assert fast.dtype == np.float32 and fast.shape == batched.shape
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert (np.sum(fast * batched, axis=1) > 0.998).all()  # bf16 rounding differs by op order; rankings do not


def test_many_queries_take_the_batched_path(service):
    questions = [f"vraag {i} over inburgering" for i in range(6)]
    many = service.encoder.encode_queries(questions)
    one_by_one = np.stack([service.encoder.encode_query(q) for q in questions])
    # Padding inside the batch moves bf16 vectors a little, never the meaning.
    assert (np.sum(many * one_by_one, axis=1) > 0.995).all()
