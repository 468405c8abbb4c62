"""How long questions are in tokens, and what a long one costs to embed (VRAAGBAAK_QUERY_MAX_TOKENS).

    python scripts/measure_query_tokens.py [--vectors FILE.npy] [--repeat 3]

1. The token length (query prompt and special tokens included, as the model reads it) of every question in
   data/eval/*.jsonl: the ``question`` field, for follow-ups the ``standalone`` rewrite that is searched, and
   the ``text`` typed in (instructions.jsonl, language_id.jsonl).
2. The time ``Encoder.encode_query`` takes for a 2,000-character question (VRAAGBAAK_MAX_QUERY_CHARS), one
   torch thread (VRAAGBAAK_QUERY_THREADS), median of --repeat: Dutch prose from the corpus (~500 tokens) and
   characters that tokenize one by one (~2,000 tokens, what Schemathesis sends).
3. ``--vectors FILE``: the dev questions' query vectors (one at a time and all in one call) saved there (.npy); when FILE exists already, they are
   compared with it instead (bit-identical or not): run once before a change to the encoder and once after.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from embeddings.encoder import Encoder, set_torch_threads  # noqa: E402
from eval.metrics import percentile  # noqa: E402
from rag.config import PROJECT_ROOT, load_settings  # noqa: E402

EVAL = PROJECT_ROOT / "data" / "eval"


def questions() -> list[str]:
    out = []
    for path in sorted(EVAL.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            out += [row[k] for k in ("question", "standalone", "text") if isinstance(row.get(k), str) and row[k].strip()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=Path, help="save (or compare with) the dev questions' query vectors")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    encoder = Encoder(settings)
    prompt = encoder._prompt("query")
    asked = questions()
    lengths = sorted(len(ids) for ids in encoder.model.tokenizer([prompt + q for q in asked])["input_ids"])
    print(f"{len(asked)} questions in {EVAL.relative_to(PROJECT_ROOT)}/*.jsonl, tokens (prompt {len(encoder.model.tokenizer(prompt)['input_ids'])} "
          f"included): median {statistics.median(lengths):.0f}, p99 {percentile(lengths, 0.99):.0f}, "
          f"p99.9 {percentile(lengths, 0.999):.0f}, max {lengths[-1]}")
    print(f"query cap: {getattr(encoder, 'query_max_tokens', None)} tokens")

    set_torch_threads(settings.query_threads)
    corpus = " ".join((PROJECT_ROOT / "data" / "corpus" / "001_5cb22294ce2f5ea5.txt").read_text(encoding="utf-8").split())
    long = {"Dutch prose": corpus[:settings.max_query_chars - 1] + "?",
            "one token a character": ("7#" * settings.max_query_chars)[:settings.max_query_chars]}
    encoder.encode_query("Wat is de participatieverklaring?")  # warm-up
    for name, text in long.items():
        n = len(encoder.model.tokenizer(prompt + text)["input_ids"])
        encoder.encode_query(text)  # the kernels of this shape
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            encoder.encode_query(text)
            times.append(time.perf_counter() - started)
        print(f"{len(text)} characters, {name} ({n} tokens): encode_query {statistics.median(times) * 1000:.0f} ms "
              f"(median of {args.repeat})")

    if args.vectors:
        dev = [json.loads(line)["question"] for line in (EVAL / "dev.jsonl").read_text(encoding="utf-8").splitlines()
               if line.strip()]
        # one at a time (a search, a server's batcher) and all together (encode_queries' batched path)
        vectors = np.stack([np.stack([encoder.encode_query(q) for q in dev]), encoder.encode_queries(dev)])
        if args.vectors.exists():
            before = np.load(args.vectors)
            for name, old, new in zip(("one at a time", "together"), before, vectors):
                same = sum(bool(np.array_equal(a, b)) for a, b in zip(old, new))
                print(f"dev query vectors {name} vs {args.vectors}: {same} of {len(new)} bit-identical")
        else:
            np.save(args.vectors, vectors)
            print(f"dev query vectors ({len(dev)}) saved to {args.vectors}")


if __name__ == "__main__":
    main()
