"""Training and evaluation data for answerability: questions, the passages retrieval gives them, and which
of those answer — for the reader (scripts/train_reader.py) and the answerability model
(scripts/train_answerability.py).

Writes reports/answerability/rows.jsonl (one row per question as it is judged: its top passages, their
candidate sentences, the answerability features) and states.npz (the float16 unit vectors of every question
and candidate sentence, keyed by ``key()``; with --states also their token states). Deterministic: the same
index, model and question files give the same rows. Sources (``source`` in a row):

* ``dev`` / ``train`` / ``train2``: data/eval/{dev,train}.jsonl and train2{a,b}.jsonl (240 citizen questions
  written for training, 2026-12-07) as asked, top 5 passages; a passage is ``gold`` when it
  holds a gold quote, a sentence when it overlaps one (``gold_sentence``).
* ``dev-gold-removed`` / ``train-gold-removed``: each answerable question again with the passages holding
  its gold quotes dropped from the top 15 — the near-topic case ("does not answer"), label 0.
* ``qa``: every Kamervraag of document 004 (235, one per Vraag, so a joint answer — "Antwoord op vraag 21 en
  22" — answers each of its questions). Its passages: its own answer (every part, only the Antwoord side:
  the passage side never holds the question's own text) as gold, and the five best-retrieved *other*
  passages on the topic as not answering. Questions sharing an answer form one group.
* ``probe`` / ``probe2``: data/eval/probe.jsonl and probe2.jsonl as asked — held out: scored, never fitted.

    nice -n 10 .venv/bin/python scripts/answerability_data.py          # ~10 min on a busy 2-core machine
    .venv/bin/python scripts/answerability_data.py --fresh              # recompute what is there
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answer.reader_fit import kamervragen, overlaps  # noqa: E402
from reader_variants import token_states  # noqa: E402
from rag.config import PROJECT_ROOT  # noqa: E402

OUT = PROJECT_ROOT / "reports" / "answerability"
QUESTION_SETS = {"dev": ("dev.jsonl",), "train": ("train.jsonl",), "train2": ("train2a.jsonl", "train2b.jsonl"),
                 "probe": ("probe.jsonl",), "probe2": ("probe2.jsonl",)}
HELD_OUT = ("probe", "probe2")  # never fitted on, never given gold-removed rows
TOP = 5  # passages judged, as the engine does (engine.CANDIDATE_PASSAGES)
POOL = 15  # retrieved before gold passages are removed
QA_NEGATIVES = 5


def key(kind: str, text: str) -> str:
    """The states.npz name of a question ("q") or a candidate sentence ("s")."""
    return kind + hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class Collector:
    def __init__(self, service, tokens: bool = False):
        from rag.answer import answerable
        from rag.answer.extractive import SentenceVectors

        self.service = service
        self.tokens = tokens  # token states too (for the dropped readers, scripts/reader_variants.py)
        self.vectors = SentenceVectors(service.encoder)
        self.vocab = answerable.Vocabulary.from_index(service.index)
        self.states: dict[str, np.ndarray] = {}
        self.by_id = {c.id: c for c in service.index.chunks}

    def query(self, text: str):
        qv = self.service.encoder.encode_query(text)
        k = key("q", text)
        self.states[k + "/v"] = qv.astype(np.float16)
        if self.tokens:
            self.states[k + "/t"] = token_states(self.service.encoder, [text], "query")[0].astype(np.float16)
        return qv

    def row(self, base: dict, question: str, qv, passages: list, gold_passage, gold_sentence, features: bool) -> dict:
        """A row for ``question`` judged against ``passages`` (Passage objects, or bare chunks for qa)."""
        from rag.answer import answerable
        from rag.answer.extractive import candidates
        from rag.types import Passage

        cands = candidates(passages, self.vectors) if passages and isinstance(passages[0], Passage) else \
            self._chunk_candidates(passages)
        row = {**base, "question": question,
               "passages": [{"chunk": (p.chunk if isinstance(p, Passage) else p).id,
                             "gold": bool(gold_passage(p))} for p in passages],
               "sentences": [{"p": c.source - 1, "text": c.text, "gold": bool(gold_sentence(c.text))} for c in cands]}
        for c in cands:
            self.states.setdefault(key("s", c.text) + "/v", c.vector.astype(np.float16))
        if features:
            row["features"] = answerable.features(question, qv, passages, cands, self.vocab).features
        return row

    def _chunk_candidates(self, chunks: list) -> list:
        from rag.answer.extractive import Candidate

        out = []
        for n, (chunk, (spans, vecs)) in enumerate(zip(chunks, self.vectors.get(chunks)), start=1):
            out += [Candidate(n, start, text, vecs[j]) for j, (start, text) in enumerate(spans)]
        return out

    def sentence_states(self, rows: list[dict]) -> None:
        todo = sorted({s["text"] for r in rows for s in r["sentences"]})
        for i in range(0, len(todo), 256):
            part = todo[i:i + 256]
            for t, st in zip(part, token_states(self.service.encoder, part)):
                self.states[key("s", t) + "/t"] = st.astype(np.float16)
            print(f"\rsentence token states {min(i + 256, len(todo))}/{len(todo)}", end="", file=sys.stderr)
        print(file=sys.stderr)


def collect(service, tokens: bool = False) -> list[dict]:
    from eval.metrics import contains

    col = Collector(service, tokens)
    rows: list[dict] = []
    for source, names in QUESTION_SETS.items():
        paths = [PROJECT_ROOT / "data" / "eval" / name for name in names]
        for q in (json.loads(line) for path in paths if path.exists()
                  for line in path.open(encoding="utf-8") if line.strip()):
            quotes = [g["quote"] for g in q.get("gold") or ()]
            base = {"group": q["id"], "source": source, "lang": q["lang"], "kind": q["kind"],
                    "label": int(q["answerable"]), "yesno": q.get("yesno"), "own_case": q.get("own_case")}
            qv = col.query(q["question"])
            pool = service.retriever.search(q["question"], top_k=POOL, query_vector=qv)

            def is_gold(p, quotes=quotes):
                return any(contains(p.chunk.text, t) for t in quotes)

            def gold_sentence(text, quotes=quotes):
                return any(overlaps(text, t) for t in quotes)

            rows.append(col.row(base, q["question"], qv, pool[:TOP], is_gold, gold_sentence, True))
            if q["answerable"] and quotes and source not in HELD_OUT:
                kept = [p for p in pool if not is_gold(p)][:TOP]
                rows.append(col.row({**base, "source": f"{source}-gold-removed", "label": 0}, q["question"], qv,
                                    kept, lambda p: False, lambda t: False, True))
            print(f"\r{len(rows)} rows", end="", file=sys.stderr)
    for q in kamervragen(service.index):
        qv = col.query(q["question"])
        own = set(q["answer_ids"])
        pool = service.retriever.search(q["question"], top_k=POOL, query_vector=qv)
        others = [p.chunk for p in pool if p.chunk.id not in own and not (set(p.duplicates) & own)][:QA_NEGATIVES]
        chunks = [col.by_id[i] for i in q["answer_ids"]] + others
        base = {"group": q["group"], "source": "qa", "lang": "nl", "kind": "qa", "label": 1, "id": q["id"]}
        rows.append(col.row(base, q["question"], qv, chunks, lambda c, own=own: c.id in own,
                            lambda t: False, False))
        # every sentence of the own answer may be the one that answers: the reader learns it as a bag
        print(f"\r{len(rows)} rows", end="", file=sys.stderr)
    print(file=sys.stderr)
    if tokens:
        col.sentence_states(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "rows.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    np.savez(OUT / "states.npz", **col.states)
    return rows


def load(out: Path = OUT) -> tuple[list[dict], dict]:
    """(rows, states) as written by ``collect``; states maps key()+"/v" or "/t" to float16 arrays."""
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text(encoding="utf-8").splitlines()]
    with np.load(out / "states.npz") as z:
        states = {k: z[k] for k in z.files}
    return rows, states


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fresh", action="store_true", help="recompute even when reports/answerability/ has the data")
    ap.add_argument("--states", action="store_true",
                    help="also the token states the dropped readers read (scripts/reader_variants.py; ~100 MB)")
    args = ap.parse_args()
    if not args.fresh and (OUT / "rows.jsonl").exists() and (OUT / "states.npz").exists():
        print(f"{OUT} has the data (--fresh recomputes)")
        return
    import torch

    from rag.service import Vraagbaak

    torch.set_num_threads(1)
    rows = collect(Vraagbaak.open(), args.states)
    from collections import Counter

    print(dict(Counter(r["source"] for r in rows)))


if __name__ == "__main__":
    main()
