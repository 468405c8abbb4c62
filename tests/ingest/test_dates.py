"""dates: a document's date from its own text when the metadata lack one (rag/ingest/dates.py)."""

from __future__ import annotations

import json
import shutil

import pytest

from rag.config import PROJECT_ROOT
from rag.ingest import dates
from rag.ingest.corpus import scan_corpus
from rag.types import DocumentMeta

CORPUS_DIR = PROJECT_ROOT / "data" / "corpus"
ANSWERS_2025 = "004_9d32d1738aaffb0e.txt"


def test_a_document_without_a_manifest_entry_gets_a_derived_date(tmp_path):
    """The 2025 answers dropped into a folder with no metadata at all: their vergaderjaar 2024–2025 and the
    latest date they mention as past ("op 1 maart 2025 van kracht werd") say March 2025 or later."""
    shutil.copy(CORPUS_DIR / ANSWERS_2025, tmp_path / ANSWERS_2025)
    (meta,) = [d.meta for d in scan_corpus(tmp_path).documents]
    assert (meta.date, meta.date_source, meta.date_bound) == ("2025", "derived-bound", "2025-03")


def test_a_letter_without_metadata_is_dated_by_its_date_line(tmp_path):
    shutil.copy(CORPUS_DIR / "002_f877f26f7fba8e26.txt", tmp_path / "brief.txt")
    shutil.copy(CORPUS_DIR / "001_5cb22294ce2f5ea5.txt", tmp_path / "motie.txt")
    got = {d.meta.file: d.meta for d in scan_corpus(tmp_path).documents}
    assert (got["brief.txt"].date, got["brief.txt"].date_source) == ("2024-11-21", "text")  # "Den Haag, 21 november 2024"
    assert (got["motie.txt"].date, got["motie.txt"].date_source) == ("2013-03-05", "text")  # "Datum 5 maart 2013"


def test_manifest_and_sidecar_dates_win(tmp_path):
    shutil.copy(CORPUS_DIR / "002_f877f26f7fba8e26.txt", tmp_path / "brief.txt")
    (tmp_path / "brief.json").write_text(json.dumps({"title": "Brief", "date": "2024-12"}))
    (meta,) = [d.meta for d in scan_corpus(tmp_path).documents]
    assert (meta.date, meta.date_source, meta.date_bound) == ("2024-12", "manifest", None)


def test_the_real_corpus(documents):
    """Every manifest date is kept; the derivation agrees with each one the text can support."""
    for doc in documents.values():
        if doc.meta.date_source == "manifest":
            got = dates.derive(doc.raw_text)
            if got and got.date and len(got.date) == 10:
                assert got.date.startswith(doc.meta.date), doc.meta.id
    # 003 (Voortgangsbrief, manifest "2013-12") has no date line; its text alone says December 2013 or later.
    got = dates.derive(documents["voortgang-agenda-integratie-2013"].raw_text)
    assert (got.date, got.bound) == (None, "2013-12")
    # 000 mentions no date of its own ("11 juni aanstaande" has no year): nothing to derive, the manifest says 2013.
    assert dates.derive(documents["ek-nma-intrekking-wom-2013"].raw_text) is None


@pytest.mark.parametrize("text, past", [
    ("Een maatregel die in dit verband op 1 maart 2025 van kracht werd regelt dat …", True),
    ("Uit een studie van het Kennisplatform (KIS, februari 2025) blijkt dat …", True),
    ("de behandeling van de Intrekkingwet (WOM, gepland op 6 maart 2013) te informeren", False),
    ("U ontvangt de uitkomsten van dit onderzoek in januari 2014.", False),  # a plan in the present tense
    ("De gemeenten zijn vanaf begin januari 2014 verantwoordelijk voor het toezicht.", False),
    ("Over de participatieverklaring is op 19 december 2013 een brief gezonden.", False),  # "gezonden": no -d/-t
    ("Over de participatieverklaring is de Kamer in december 2013 geïnformeerd.", True),
])
def test_a_mentioned_date_counts_as_past_only_on_evidence(text, past):
    (mention,) = dates.mentions(text)
    assert mention.past is past


def test_mentions_and_date_lines():
    # no 31 February: only its month counts
    assert [m.iso for m in dates.mentions("op 31 februari 2025 en 1 mrt. 2025, in juni 2013")] == [
        "2025-02", "2025-03-01", "2013-06"]
    assert dates.letter_date("Onze referentie\n2013-1\n\nDatum 5 maart 2013\n\nBetreft …") == "2013-03-05"
    assert dates.letter_date("In de brief.\nDen Haag, 21 november 2024\n") == "2024-11-21"
    assert dates.letter_date("Zij schreef op 5 maart 2013 een brief.") is None  # a mention, not a date line
    assert dates.session("Vergaderjaar 2023–2024 … vergaderjaar 2024–2025 … vergaderjaar 2024-2025") == (2024, 2025)


def test_bounds_across_a_year_give_no_year():
    """A session with nothing after its start: September 2024 or later, and the year is not known."""
    got = dates.derive("Tweede Kamer, vergaderjaar 2024–2025, 32 824, nr. 1\nIets zonder datum.")
    assert (got.date, got.bound, got.source) == (None, "2024-09", "derived-bound")


def test_dated_marks_where_the_date_comes_from():
    meta = DocumentMeta(id="x", title="X", date="2013")
    assert dates.dated(meta, "Datum 5 maart 2014").date_source == "manifest"  # the manifest wins
    assert dates.dated(DocumentMeta(id="y", title="Y"), "geen datum") == DocumentMeta(id="y", title="Y")
