"""The embedding model's settings: which model, in which precision and batch size, and where models and
vectors are cached. Read from the same ``VRAAGBAAK_*`` variables (and ``.env``) as every other setting.

:class:`ModelSettings` lives here, at the bottom layer, so that the encoder and ``python -m
embeddings.fetch`` need nothing from above; ``rag.config.Settings`` extends it with everything else, so a
``Settings`` is a ``ModelSettings`` and is passed to :class:`embeddings.encoder.Encoder` as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings import shapes

DEFAULT_EMBEDDING_MODEL = "embeddinggemma-300m"  # a name from embeddings.fetch.MODELS, or a path / hub id


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vraagbaak`` (default ``~/.cache/vraagbaak``): outside the work tree, so weights
    never end up in git and survive a fresh clone."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vraagbaak"


class ModelSettings(BaseSettings):
    """Each field ``name`` is read from ``VRAAGBAAK_NAME`` (empty values count as unset); a malformed
    value raises pydantic's ValidationError naming the field."""

    model_config = SettingsConfigDict(env_prefix="VRAAGBAAK_", env_file=".env", env_file_encoding="utf-8",
                                      env_ignore_empty=True, extra="ignore", frozen=True)

    cache_dir: Path = Field(default_factory=default_cache_dir)
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_dtype: str = "bfloat16"  # bf16 ranks like fp32 here and is ~4x faster on CPU
    embedding_batch_size: int = 16
    # Tokens of a question its vector reads (the query prompt's 10 included); the rest is cut off, BM25 still
    # reads it all. Embedding time grows with length: a 2,000-character question of one token a character
    # took 1.97 s whole, 0.21 s cut here, 1 thread (scripts/measure_query_tokens.py). The 1,226 questions in
    # data/eval are 66 tokens at most (p99.9 65); ~800 characters of Dutch prose fill 256. A length bucket
    # (embeddings/shapes.py), so a cut question is not padded further.
    query_max_tokens: int = Field(256, ge=16)

    @field_validator("query_max_tokens")
    @classmethod
    def _a_bucket(cls, value: int) -> int:
        if shapes.bucket_length(value) != value:
            raise ValueError(f"{value} is not a length bucket (a multiple of 8 up to 64, of 16 up to 128, of 64 "
                             f"beyond; e.g. {shapes.bucket_length(value)})")
        return value

    @field_validator("cache_dir")
    @classmethod
    def _expand_cache_dir(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def models_dir(self) -> Path:
        """Where ``embeddings.fetch`` assembles models: ``<cache_dir>/models``."""
        return self.cache_dir / "models"

    @property
    def embedding_cache_dir(self) -> Path:
        """Where the encoder keeps document vectors by content hash: ``<cache_dir>/embeddings``."""
        return self.cache_dir / "embeddings"
