"""Training the cross-encoder (rag/answer/cross_encoder.py): pairs from the answerability rows, LoRA fine-tuning.

Pairs (``pairs``) come from scripts/answerability_data.py's rows — each a question with its retrieved
passages, their candidate sentences and which passages answer:

* a Kamervraag of document 004 (source ``qa``): its own answer's sentence most similar to it (by the
  EmbeddingGemma cosine; the answer's other sentences are left out, not labelled "does not answer": an
  answer often opens with context) against the NEGATIVES most similar sentences of the other passages
  retrieval brings (near-topic answers to other questions);
* a train question (``train``, ``train2``): its gold sentences against the same; ``…-gold-removed``: only negatives.

dev is left out on purpose (the answerability regression is fitted on dev with these logits), the probes
always. ``fit`` is deterministic for a given torch build and thread count (seeded; dropout's generator too).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

import numpy as np

TRAIN_SOURCES = ("qa", "train", "train-gold-removed", "train2", "train2-gold-removed")


@dataclass(frozen=True)
class FitConfig:
    negatives: int = 8  # per question, most similar first
    epochs: int = 2
    batch: int = 16
    lr: float = 3e-4
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    layers: int | None = None  # None: all 12 of e5-small; fewer for a quick retraining test
    seed: int = 0
    threads: int = 2

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: float
    group: str


def pairs(rows: list[dict], cosine, config: FitConfig = FitConfig(), sources=TRAIN_SOURCES) -> list[Pair]:
    """Training pairs from answerability rows. ``cosine(row, sentence)`` → the question-to-sentence cosine."""
    out = []
    for r in rows:
        if r["source"] not in sources:
            continue
        gold = {i for i, p in enumerate(r["passages"]) if p["gold"]}
        ranked = sorted(r["sentences"], key=lambda s: -cosine(r, s))
        if r["source"] == "qa":
            pos = [s for s in ranked if s["p"] in gold][:1]
        else:
            pos = [s for s in ranked if s["gold"]]
        neg = [s for s in ranked if s["p"] not in gold][:config.negatives]
        out += [Pair(r["question"], s["text"], 1.0, r["group"]) for s in pos]
        out += [Pair(r["question"], s["text"], 0.0, r["group"]) for s in neg]
    return out


def fit(train: list[Pair], model, tokenizer, config: FitConfig = FitConfig(), log=print) -> dict:
    """LoRA-fine-tune ``model`` (an e5_small BertModel, modified in place) with a linear head on the pairs.
    Returns the tensors to save: peft's ``lora_A``/``lora_B`` and ``head.weight``/``head.bias`` (float32)."""
    import torch
    import torch.nn.functional as F
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
    from torch import nn

    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=["query", "key", "value", "dense"])
    peft_model = get_peft_model(model, lora)
    head = nn.Linear(model.config.hidden_size, 1)
    params = [p for p in peft_model.parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.01)
    order = list(train)
    steps = config.epochs * math.ceil(len(order) / config.batch)
    warm = max(1, int(0.1 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (steps - s) / steps))
    positives = sum(p.label for p in order)
    pos_weight = torch.tensor((len(order) - positives) / max(positives, 1.0))  # balance the rare "answers"

    def logits(batch: list[Pair]):
        ids, mask = tokenizer.pairs([(p.question, p.sentence) for p in batch])
        hidden = peft_model(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return head(pooled).squeeze(-1)

    for epoch in range(config.epochs):
        peft_model.train()
        rng.shuffle(order)
        total = 0.0
        for i in range(0, len(order), config.batch):
            batch = order[i:i + config.batch]
            y = torch.tensor([p.label for p in batch])
            loss = F.binary_cross_entropy_with_logits(logits(batch), y, pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(batch)
        log(f"epoch {epoch + 1}/{config.epochs}: loss {total / len(order):.4f}")
    peft_model.eval()
    # peft's names without the adapter's ("…query.lora_A.weight"), as cross_encoder.merge_lora reads them
    state = {k: v.detach().clone().contiguous() for k, v in get_peft_model_state_dict(peft_model).items()}
    state["head.weight"] = head.weight.detach().clone().contiguous()
    state["head.bias"] = head.bias.detach().clone().contiguous()
    return state


def auc(positive: list[float], negative: list[float]) -> float:
    """P(a positive scores above a negative), ties half (Mann–Whitney U / (n₊·n₋))."""
    if not positive or not negative:
        return float("nan")
    pos, neg = np.asarray(positive), np.asarray(negative)
    return float(((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum())
                 / (len(pos) * len(neg)))
