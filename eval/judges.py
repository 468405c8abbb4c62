"""Judges: does a passage (or a set of passages) support a sentence? Every score says which judge made it.

* ``OfflineJudge`` — no LLM: numbers (as quantities: value, magnitude, unit, range order, direction —
  rag/answer/numbers.py), dates and names in the sentence must occur in the passages;
  content-word overlap and embedding similarity (EmbeddingGemma) against the passages' sentences.
  It applies ``rag.answer.verify.SupportRule`` (thresholds calibrated on the dev reference answers, see
  rag/answer/verify.py). Caveat: it is the rule the answer engine itself uses to drop unsupported sentences,
  so on generative answers it measures what survived that filter; the LLM judge is the independent one.
* ``LLMJudge`` — the configurable OpenAI-compatible endpoint: first the sentence is split into atomic
  claims, then each claim is checked against the passages with a yes/no question (temperature 0).
  A sentence is supported when all its claims are.

Both are measured against a hand-labelled set (data/eval/judge_pairs.jsonl): ``python -m eval judges``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Protocol, Sequence


@dataclass(frozen=True)
class Judgement:
    supported: bool
    score: float  # in [0, 1]
    judge: str
    reasons: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()  # LLM judge: the claims it checked


class Judge(Protocol):
    name: str

    def judge(self, sentence: str, passages: Sequence[str], language: str = "nl",
              question: str | None = None) -> Judgement: ...


class OfflineJudge:
    name = "offline"

    def __init__(self, encoder, lexicon=None):
        from rag.answer.facts import CorpusLexicon
        from rag.answer.verify import Verifier

        self.verifier = Verifier(encoder, lexicon=lexicon or CorpusLexicon())

    @classmethod
    def for_service(cls, service) -> "OfflineJudge":
        """With the corpus's name lexicon, as the answer engine has it."""
        from rag.answer.facts import CorpusLexicon

        return cls(service.encoder, CorpusLexicon.from_texts(c.text for c in service.index.chunks))

    def judge(self, sentence: str, passages: Sequence[str], language: str = "nl",
              question: str | None = None) -> Judgement:
        if not passages:
            return Judgement(False, 0.0, self.name, ("no passage cited",))
        check = self.verifier.check(sentence, list(passages), language, question)
        return Judgement(check.supported, float(check.score), self.name, tuple(check.reasons))


# ------------------------------------------------------------------------------------------ LLM judge

_CLAIMS_PROMPT = (
    "Split the statement into at most {n} short, self-contained factual claims, one per line, "
    "in the statement's own language. Copy names, numbers and dates exactly. Write nothing else.\n\n"
    "Statement: {sentence}"
)
_CHECK_SYSTEM = (
    "You are a strict fact checker. You get a passage from a Dutch government document and a claim "
    "(Dutch or English). Answer YES only if the passage states the claim (same numbers, dates, names "
    "and who-does-what); answer NO if the passage says something different or does not say it. "
    "Reply with one word: YES or NO."
)
_YES = re.compile(r"^\W*(yes|ja)\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no|nee)\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


def parse_claims(text: str, sentence: str, limit: int = 4) -> list[str]:
    """Claims from the model's list; the sentence itself when the list is unusable."""
    claims = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip().strip('"')
        if len(line.split()) >= 3 and not line.lower().startswith(("statement", "claims", "bewering")):
            claims.append(line)
    return claims[:limit] or [sentence]


def parse_verdict(text: str) -> bool | None:
    if _YES.search(text):
        return True
    if _NO.search(text):
        return False
    return None  # neither: counted as not supported, with the reply as the reason


@dataclass
class LLMJudge:
    client: object  # rag.answer.llm.LLMClient
    max_claims: int = 3
    extract_claims: bool = True
    passage_chars: int = 2400  # prompt reading dominates the cost on a CPU
    name: str = field(default="llm", init=False)
    # The same question asked twice (AllOf after the judge alone, a sentence's passages reused) costs
    # seconds on a CPU: answers are kept for the judge's lifetime (temperature 0, so they would repeat).
    _memo: dict = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_url(cls, base_url: str, model: str = "", timeout: float = 120.0, **kwargs) -> "LLMJudge":
        from rag.answer.llm import LLMClient

        return cls(LLMClient(base_url, model, timeout=timeout, temperature=0.0), **kwargs)

    async def _ask(self, messages: list[dict], max_tokens: int) -> str:
        reply = await self.client.chat(messages, max_tokens=max_tokens)
        return reply.text or ""

    async def claims(self, sentence: str) -> list[str]:
        if not self.extract_claims or len(sentence.split()) < 8:
            return [sentence]  # a short sentence is one claim
        text = await self._ask([{"role": "user", "content": _CLAIMS_PROMPT.format(n=self.max_claims, sentence=sentence)}],
                               max_tokens=96)
        return parse_claims(text, sentence, self.max_claims)

    async def check(self, claim: str, passages: Sequence[str]) -> tuple[bool, str]:
        passage = "\n\n".join(passages)[: self.passage_chars]
        text = await self._ask([{"role": "system", "content": _CHECK_SYSTEM},
                                {"role": "user", "content": f"Passage:\n{passage}\n\nClaim: {claim}\n\nYES or NO?"}],
                               max_tokens=3)
        verdict = parse_verdict(text)
        return bool(verdict), ("" if verdict is not None else f"unclear verdict {text.strip()[:40]!r}")

    async def ajudge(self, sentence: str, passages: Sequence[str], language: str = "nl",
                     question: str | None = None) -> Judgement:
        if not passages:
            return Judgement(False, 0.0, self.name, ("no passage cited",))
        key = (sentence, tuple(passages))
        if key not in self._memo:
            self._memo[key] = await self._judge(sentence, passages)
        return self._memo[key]

    async def _judge(self, sentence: str, passages: Sequence[str]) -> Judgement:
        from rag.answer.sentences import parse_markers

        bare, _ = parse_markers(sentence)
        claims = await self.claims(bare)
        results = [await self.check(c, passages) for c in claims]
        ok = [r for r, _ in results]
        reasons = tuple(f"not supported: {c}" for c, r in zip(claims, ok) if not r)
        reasons += tuple(note for _, note in results if note)
        return Judgement(all(ok), sum(ok) / len(ok), self.name, reasons, tuple(claims))

    def judge(self, sentence: str, passages: Sequence[str], language: str = "nl",
              question: str | None = None) -> Judgement:
        return asyncio.run(self.ajudge(sentence, passages, language, question))


# ------------------------------------------------------------------------------------------ agreement

async def judge_one(judge, sentence: str, passages: Sequence[str], language: str = "nl",
                    question: str | None = None) -> Judgement:
    """Any judge, from async code: the LLM judge awaits its endpoint, the offline judge computes."""
    if hasattr(judge, "ajudge"):
        return await judge.ajudge(sentence, passages, language, question)
    return judge.judge(sentence, passages, language, question)


def agreement(rows: list[dict], verdicts: list[bool]) -> dict:
    """Accuracy of ``verdicts`` against the hand labels, overall and per kind, plus the confusion
    counts (positive = supported)."""
    per_kind: dict[str, list[bool]] = {}
    tp = fp = tn = fn = 0
    for row, verdict in zip(rows, verdicts):
        gold = bool(row["supported"])
        per_kind.setdefault(row.get("kind", "?"), []).append(verdict == gold)
        tp += verdict and gold
        fp += verdict and not gold
        tn += (not verdict) and not gold
        fn += (not verdict) and gold
    n = len(verdicts)
    return {"n": n, "accuracy": round((tp + tn) / n, 4) if n else 0.0,
            "per_kind": {k: round(sum(v) / len(v), 4) for k, v in sorted(per_kind.items())},
            "confusion": {"supported_as_supported": tp, "unsupported_as_supported": fp,
                          "unsupported_as_unsupported": tn, "supported_as_unsupported": fn}}


async def evaluate_judge(judge, rows: list[dict], progress: bool = False) -> dict:
    verdicts, details = [], []
    iterator = rows
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(rows, desc=f"judge {judge.name}", unit="pair")
    for row in iterator:
        j = await judge_one(judge, row["sentence"], [row["passage"]], row.get("lang", "nl"))
        verdicts.append(j.supported)
        details.append({"id": row["id"], "kind": row.get("kind"), "label": bool(row["supported"]),
                        "verdict": j.supported, "score": round(j.score, 3), "reasons": list(j.reasons)})
    return {"judge": judge.name, **agreement(rows, verdicts), "pairs": details}


@dataclass
class AllOf:
    """Supported only when every judge says so: the offline judge's fact checks plus the LLM's
    reading of who does what."""

    judges: list

    @property
    def name(self) -> str:
        return "+".join(j.name for j in self.judges)

    async def ajudge(self, sentence: str, passages: Sequence[str], language: str = "nl",
                     question: str | None = None) -> Judgement:
        results = []
        for j in self.judges:
            result = await judge_one(j, sentence, passages, language, question)
            results.append(result)
            if not result.supported:
                break  # the rest cannot change the verdict
        ok = all(r.supported for r in results) and len(results) == len(self.judges)
        return Judgement(ok, min(r.score for r in results), self.name,
                         tuple(f"{r.judge}: {x}" for r in results for x in r.reasons))
