"""Input shapes for the model's CPU kernels, rounded up so that a server meets only a few.

Torch runs the bf16 model through oneDNN (AMX on this CPU), which compiles and keeps kernels per input
shape: measured here (EmbeddingGemma-300M, random dev questions in batches of 1–6), every new (batch,
tokens) shape left ~2 MB more memory in use, 135 shapes +190 MB, and a server sees a new one for as long
as new batch sizes and lengths arrive (``scripts/soak.py``: 26 MB/min on a busy machine). Padding each
batch to a bucket bounds the shapes (lengths to a multiple of 8 tokens up to 64, of 16 up to 128, of 64
beyond; batch sizes to a power of two) and so the memory; the warm-up prepares the common ones (Encoder.warm_steps).
Padding changes no vector beyond bf16 rounding: padded tokens are masked, extra rows are copies whose
outputs are dropped (tests/test_encoder.py compares them).
"""

from __future__ import annotations

# (up to this many tokens, round up to a multiple of this many): questions are ~15-40 tokens, so their
# steps are fine (padding costs time); sentences to check reach ~100; longer inputs are rare.
STEPS = ((64, 8), (128, 16))
LONG_STEP = 64
VERSION = "8-64/16-128/64"  # the buckets; document vectors depend on them (encoder.VECTOR_RECIPE)
SHORT_UP_TO = STEPS[-1][0]


def lengths(up_to: int = SHORT_UP_TO) -> list[int]:
    """Every bucket of up to ``up_to`` tokens (what the warm-up prepares)."""
    out, n = [], 1
    while (n := bucket_length(n)) <= up_to:
        out.append(n)
        n += 1
    return out


def bucket_length(n: int, limit: int | None = None) -> int:
    """``n`` tokens rounded up to its bucket (never above ``limit``, the model's maximum)."""
    step = next((s for top, s in STEPS if n <= top), LONG_STEP)
    padded = -(-n // step) * step
    return min(padded, limit) if limit else padded


def bucket_batch(b: int) -> int:
    """A batch of ``b`` inputs rounded up to a power of two."""
    return 1 << max(0, b - 1).bit_length()


def truncation(max_tokens: int | None) -> dict:
    """Keyword arguments for a sentence-transformers model's ``preprocess``/``encode`` that cut each text at
    ``max_tokens`` tokens, special tokens kept (None: none, the model's own maximum). A text that is shorter is
    tokenized exactly as without them. Query lengths are capped so (VRAAGBAAK_QUERY_MAX_TOKENS, a bucket)."""
    return {} if max_tokens is None else {"processing_kwargs": {"text": {"max_length": max_tokens, "truncation": True}}}


def pad_features(features: dict, pad_id: int, side: str = "right", limit: int | None = None) -> tuple[dict, int]:
    """The tokenizer's features padded to a bucketed (batch, tokens) shape; returns them and the number of
    real rows (the model's outputs beyond it are to be dropped). Extra tokens are ``pad_id`` with
    attention mask 0; extra rows repeat the first one."""
    import torch

    ids = features["input_ids"]
    b, n = ids.shape
    b2, n2 = bucket_batch(b), max(n, bucket_length(n, limit))
    if (b2, n2) == (b, n):
        return features, b
    out = dict(features)
    for key, value in features.items():
        if not isinstance(value, torch.Tensor) or value.dim() != 2 or tuple(value.shape) != (b, n):
            continue
        fill = pad_id if key == "input_ids" else 0
        extra = torch.full((b, n2 - n), fill, dtype=value.dtype)
        value = torch.cat([value, extra] if side == "right" else [extra, value], dim=1)
        if b2 > b:
            value = torch.cat([value, value[:1].expand(b2 - b, -1)], dim=0)
        out[key] = value
    return out, b
