"""Fixtures for the format readers: the generated test documents (tests/ingest/data/formats/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def answers_files(tmp_path_factory) -> Path:
    """The answers to Kamervragen (Kamerstuk 32 824, nr. 451) as officiële-bekendmakingen XML and as an HTML
    page, written from the corpus's text by scripts/make_format_fixtures.py (no LibreOffice needed)."""
    from scripts.make_format_fixtures import write

    out = tmp_path_factory.mktemp("answers")
    write(out, ("kst-32824-451",), pdf=False)
    return out
