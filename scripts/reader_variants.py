"""The readers measured against the shipped one (rag/answer/reader.py) and dropped: README "Answerability".

* ``head``: a cross-attention head over FROZEN EmbeddingGemma token states. Token states (768-d, last layer)
  are mapped by a fixed matrix (the Dense layers × the top 128 principal directions of the corpus's token
  states) and by a learned map to ``dim``; for question tokens q_i and sentence tokens s_j:
      m_i = max_j q°_i · s°_j (fixed space);  a_i = Σ_j softmax_j(q_i · s_j / τ) s_j
      g_i = w2 · relu(W1 [q_i ⊙ a_i, |q_i − a_i|, max_j q_i · s_j, m_i] + b1) + b2
      z   = Σ_i softmax_i(u · q_i) g_i + c · cos(q, s) + c0
* ``maxsim``: late interaction without training, the mean over question tokens of m_i.

Both need token states: ``scripts/answerability_data.py --states``. ``scripts/train_reader.py --variant
head|maxsim`` runs their CV and writes their features for ``scripts/train_answerability.py --reader …``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.answer.reader_fit import Bag


def token_states(encoder, texts: list[str], kind: str = "document", batch: int = 16) -> list[np.ndarray]:
    """Each text's last-layer token states (float32, (n_tokens, 768)) as EmbeddingGemma sees it with its
    "query" or "document" prompt: the prompt, <bos>, <eos> and padding left out. The prompt is counted
    without its trailing space, which the tokenizer joins with the text's first word. Off the serving path."""
    import torch

    model = encoder.model
    prompt = encoder._prompt("query" if kind == "query" else "document")
    ids = model.tokenizer(prompt.rstrip())["input_ids"] if prompt else [None]
    skip = len(ids) - (ids[-1] == model.tokenizer.eos_token_id)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out: list = [None] * len(texts)
    for start in range(0, len(order), batch):
        part = order[start:start + batch]
        with torch.inference_mode():
            features = model.preprocess([prompt + texts[i] for i in part])
            tokens = model.forward(features)["token_embeddings"]
        for row, (i, n) in enumerate(zip(part, features["attention_mask"].sum(dim=1).tolist())):
            out[i] = tokens[row, skip:max(skip, int(n) - 1)].float().numpy().copy()
    return out


@dataclass(frozen=True)
class HeadConfig:
    """Larger heads fit the training bags almost perfectly and held-out ones worse than the cosine
    (dim 16, hidden 16: train bag AUC 0.98, held out 0.67 against 0.72); this small one is the one measured."""

    k0: int = 128  # principal directions kept of the token states (in the embedding space)
    dim: int = 8  # learned projection
    hidden: int = 8
    epochs: int = 12
    batch: int = 64  # bags per step
    lr: float = 1e-2
    weight_decay: float = 0.3
    max_tokens: int = 96  # a sentence's tokens beyond this are dropped (the longest have ~170)
    noise: float = 0.1  # Gaussian noise on the token states while training, relative to their norm
    seed: int = 0
    cos_init: float = 10.0  # the cosine's weight at the start (its spread is ~0.1): the head adds to it



def dense_map(model_dir) -> np.ndarray:
    """(hidden, hidden): EmbeddingGemma's two Dense layers composed (both linear, no bias, identity
    activation): token states times this are in the space of the sentence embeddings."""
    from pathlib import Path

    from safetensors.numpy import load_file

    w2 = load_file(str(Path(model_dir) / "2_Dense" / "model.safetensors"))["linear.weight"]
    w3 = load_file(str(Path(model_dir) / "3_Dense" / "model.safetensors"))["linear.weight"]
    return (w3.astype(np.float64) @ w2.astype(np.float64)).T


def pca_basis(states: list[np.ndarray], k0: int, dense: np.ndarray | None = None) -> np.ndarray:
    """(hidden, k0): maps token states to their top k0 principal directions in the embedding space (after
    ``dense``, when given). Eigenvectors of the float64 covariance, signs fixed so each column's largest
    entry is positive: deterministic for the same states."""
    x = np.concatenate([s.astype(np.float64) for s in states if len(s)], axis=0)
    if dense is not None:
        x = x @ dense
    x = x - x.mean(axis=0)
    values, vectors = np.linalg.eigh(x.T @ x / len(x))
    basis = vectors[:, np.argsort(-values)[:k0]]
    signs = np.sign(basis[np.abs(basis).argmax(axis=0), np.arange(basis.shape[1])])
    basis = basis * signs
    return (dense @ basis if dense is not None else basis).astype(np.float32)



class TokenHead:
    """The head's numpy inference (what serving it would have run)."""

    def __init__(self, params: dict):
        self.__dict__.update(params)

    @classmethod
    def from_torch(cls, model, pca: np.ndarray) -> "TokenHead":
        params = {n: p.detach().numpy().astype(np.float32).copy() for n, p in model.named_parameters()}
        return cls({**params, "pca": pca.astype(np.float32)})

    def project(self, states: np.ndarray) -> np.ndarray:
        x = np.asarray(states, dtype=np.float32) @ self.pca
        unit = lambda v: v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6)  # noqa: E731
        return np.concatenate([unit(x), unit(x @ self.proj)], axis=1)

    def logits(self, question: np.ndarray, sentences: list[np.ndarray], cosines: np.ndarray) -> np.ndarray:
        out = np.full(len(sentences), -np.inf, dtype=np.float32)
        if not len(question):
            return out
        k0 = self.pca.shape[1]
        q0, q = question[:, :k0], question[:, k0:]
        c, c0, log_tau = (float(v) for v in self.head)
        weights = np.exp(q @ self.u - (q @ self.u).max())
        weights /= weights.sum()
        for k, s in enumerate(sentences):
            if not len(s):
                continue
            s0, s = s[:, :k0], s[:, k0:]
            sim = q @ s.T
            best = sim.max(axis=1)
            att = np.exp((sim - best[:, None]) / np.exp(log_tau))
            att /= att.sum(axis=1, keepdims=True)
            aligned = att @ s
            x = np.concatenate([q * aligned, np.abs(q - aligned), best[:, None], (q0 @ s0.T).max(axis=1)[:, None]], 1)
            g = np.maximum(x @ self.w1 + self.b1, 0.0) @ self.w2 + self.b2[0]
            out[k] = float(weights @ g) + c * float(cosines[k]) + c0
        return out


class MaxSim:
    """Late interaction without training: per question token the best cosine to a sentence token in the
    embedding space (the Dense layers composed), averaged over the question's tokens."""

    def __init__(self, model_dir: Path):
        self.dense = dense_map(model_dir).astype(np.float32)

    def project(self, states: np.ndarray) -> np.ndarray:
        x = np.asarray(states, dtype=np.float32) @ self.dense
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)

    def logits(self, question, sentences, cosines) -> np.ndarray:
        return np.array([float((question @ s.T).max(axis=1).mean()) if len(s) and len(question) else -np.inf
                         for s in sentences], dtype=np.float32)


def _head(config: HeadConfig):
    import torch
    from torch import nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            width = 2 * config.dim + 2
            self.proj = nn.Parameter(torch.randn(config.k0, config.dim) / config.k0 ** 0.5)
            self.w1 = nn.Parameter(torch.randn(width, config.hidden) * (2 / width) ** 0.5)
            self.b1 = nn.Parameter(torch.zeros(config.hidden))
            self.w2 = nn.Parameter(torch.randn(config.hidden) / config.hidden ** 0.5)
            self.b2 = nn.Parameter(torch.zeros(1))
            self.u = nn.Parameter(torch.zeros(config.dim))
            # c starts where the cosine alone ranks (its spread is ~0.1): the head learns what to add to it
            self.head = nn.Parameter(torch.tensor([config.cos_init, 0.0, float(np.log(0.1))]))

        def project(self, x):  # (..., k0) → unit (..., dim); padding rows stay 0
            y = x @ self.proj
            return y / y.norm(dim=-1, keepdim=True).clamp_min(1e-6)

        def forward(self, q, qmask, s, smask, cos):
            """Pairs: q (P, n, k0), qmask (P, n); s (P, m, k0), smask (P, m); cos (P,) → logits (P,)."""
            unit = lambda x: x / x.norm(dim=-1, keepdim=True).clamp_min(1e-6)  # noqa: E731
            fixed = torch.einsum("pnd,pmd->pnm", unit(q), unit(s)).masked_fill(~smask[:, None, :], -1e4)
            best0 = fixed.max(dim=-1).values.clamp_min(-1.0)  # (P, n): MaxSim in the fixed space
            qp, sp = self.project(q), self.project(s)
            sim = torch.einsum("pnd,pmd->pnm", qp, sp).masked_fill(~smask[:, None, :], -1e4)
            best = sim.max(dim=-1).values.clamp_min(-1.0)  # (P, n)
            att = torch.softmax(sim / self.head[2].exp(), dim=-1)
            aligned = torch.einsum("pnm,pmd->pnd", att, sp)
            x = torch.cat([qp * aligned, (qp - aligned).abs(), best[..., None], best0[..., None]], dim=-1)
            g = torch.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2  # (P, n)
            w = torch.softmax((qp @ self.u).masked_fill(~qmask, -1e4), dim=-1)
            return (g * w).sum(-1) + self.head[0] * cos + self.head[1]

    return Head()


def _pad(arrays: list[np.ndarray], length: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros((len(arrays), length, width), dtype=np.float32)
    mask = np.zeros((len(arrays), length), dtype=bool)
    for i, a in enumerate(arrays):
        n = min(len(a), length)
        out[i, :n] = a[:n]
        mask[i, :n] = True
    return out, mask


class Batcher:
    """Pads bags into tensors; token states are PCA-reduced once (float32)."""

    def __init__(self, states: dict, vectors: dict, pca: np.ndarray, config: HeadConfig):
        self.reduced = {k: (v.astype(np.float32) @ pca)[:config.max_tokens] for k, v in states.items()}
        self.vectors = {k: v.astype(np.float32) for k, v in vectors.items()}
        self.config = config

    def tensors(self, bags: list[Bag]):
        """(q, qmask, s, smask, cos) over the bags' (question, sentence) pairs, and (B, width) indices of
        each bag's pairs (-1: none)."""
        import torch

        pairs = [(b.question, key) for b in bags for key in b.sentences]
        index = np.full((len(bags), max(len(b.sentences) for b in bags)), -1, dtype=np.int64)
        i = 0
        for row, b in enumerate(bags):
            index[row, :len(b.sentences)] = np.arange(i, i + len(b.sentences))
            i += len(b.sentences)
        return (*self.pairs(pairs), torch.from_numpy(index))

    def pairs(self, pairs: list[tuple[str, str]]):
        import torch

        k0 = self.config.k0
        qs = [self.reduced[q] for q, _ in pairs]
        ss = [self.reduced[s] for _, s in pairs]
        q, qmask = _pad(qs, max(1, max(len(a) for a in qs)), k0)
        s, smask = _pad(ss, max(1, max(len(a) for a in ss)), k0)
        cos = np.array([float(self.vectors[a] @ self.vectors[b]) for a, b in pairs], dtype=np.float32)
        t = torch.from_numpy
        return t(q), t(qmask), t(s), t(smask), t(cos)


def bag_logits(z, index):
    """(B,) the maximum of each bag's pair logits ``z`` (P,); ``index`` (B, width), -1 = padding."""
    import torch

    picked = z[index.clamp_min(0)].masked_fill(index < 0, -1e4)
    return picked.max(dim=1).values


def fit(bags: list[Bag], states: dict, vectors: dict, config: HeadConfig = HeadConfig(),
        pca: np.ndarray | None = None, dense: np.ndarray | None = None, log=None) -> TokenHead:
    """Train the head on ``bags``; ``states`` / ``vectors``: key → token states (n, 768) / unit vector."""
    import torch

    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if pca is None:
            pca = pca_basis([states[k] for k in sorted({s for b in bags for s in b.sentences})], config.k0, dense)
        batcher = Batcher(states, vectors, pca, config)
        model = _head(config)
        opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        labels = np.array([b.label for b in bags], dtype=np.float32)
        pos_weight = torch.tensor(float((labels == 0).sum() / max(1, (labels == 1).sum())))
        rng = np.random.default_rng(config.seed)
        gen = torch.Generator().manual_seed(config.seed)
        for epoch in range(config.epochs):
            order = rng.permutation(len(bags))
            total = 0.0
            for start in range(0, len(order), config.batch):
                part = [bags[i] for i in order[start:start + config.batch]]
                q, qmask, s, smask, cos, index = batcher.tensors(part)
                if config.noise > 0:
                    q = q + config.noise * q.norm(dim=-1, keepdim=True) / config.k0 ** 0.5 * torch.randn(q.shape, generator=gen)
                    s = s + config.noise * s.norm(dim=-1, keepdim=True) / config.k0 ** 0.5 * torch.randn(s.shape, generator=gen)
                    q, s = q * qmask[..., None], s * smask[..., None]
                z = bag_logits(model(q, qmask, s, smask, cos), index)
                y = torch.tensor([b.label for b in part], dtype=torch.float32)
                loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y, pos_weight=pos_weight)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(part)
            if log is not None:
                log(f"epoch {epoch + 1}/{config.epochs}: loss {total / len(bags):.4f}")
        return TokenHead.from_torch(model, pca)
    finally:
        torch.set_num_threads(threads)
