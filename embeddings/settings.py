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
