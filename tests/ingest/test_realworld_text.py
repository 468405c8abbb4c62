"""Documents as people deliver them (issue 13): other encodings, unreadable files, PDF characters,
running headers, compounds broken at a line end, non-ASCII file names. Small invented inputs."""

from __future__ import annotations

import json
import os
import unicodedata

import pytest

from eval.metrics import contains
from rag.config import PROJECT_ROOT
from rag.ingest.chunk import chunk_document
from rag.ingest.corpus import CorpusError, scan_corpus
from rag.ingest.hyphenation import WORDLIST, join_lines, load_wordlist, vocabulary
from rag.ingest.normalize import ascii_slug, decode_bytes, normalize_text
from rag.ingest.parse import parse_document
from rag.types import Document, DocumentMeta

TEXT = "De geïntegreerde aanpak: naïeve ideeën over coöperatie en financiële steun van € 5 miljoen.\nTweede regel.\n"


def parse(raw: str):
    return parse_document(Document(meta=DocumentMeta(id="t", title="T"), raw_text=raw))


# ---------------------------------------------------------------- decoding and skipping


@pytest.mark.parametrize("encoding, prefix", [
    ("cp1252", b""),  # a Windows export
    ("utf-16", b""),  # Notepad's "Unicode": little-endian with a BOM (Python writes one)
    ("utf-16-be", b"\xfe\xff"),
    ("utf-8", b"\xef\xbb\xbf"),  # UTF-8 with a BOM
    ("latin-1", b""),
])
def test_encodings_are_detected(encoding, prefix):
    text = TEXT if encoding != "latin-1" else TEXT.replace("€", "EUR")
    decoded, _ = decode_bytes(prefix + text.encode(encoding))
    assert normalize_text(decoded) == text


def test_a_short_windows_1252_line_is_not_read_as_a_central_european_page():
    # charset-normalizer's first guess for this one is mac_latin2 (ï → ď); cp1252 is preferred.
    assert decode_bytes("Café in één regel, naïef.\n".encode("cp1252"))[0] == "Café in één regel, naïef.\n"


def test_unreadable_and_empty_files_are_skipped_with_a_reason_and_the_rest_is_loaded(tmp_path):
    (tmp_path / "goed.txt").write_text("Een leesbaar document.\n", encoding="utf-8")
    (tmp_path / "windows.txt").write_bytes("Een geëxporteerd document.\r\n".encode("cp1252"))
    (tmp_path / "leeg.txt").write_bytes(b"")
    (tmp_path / "spaties.txt").write_text(" \n\n \t\n", encoding="utf-8")
    (tmp_path / "plaatje.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 8)
    (tmp_path / "map.txt").mkdir()
    os.symlink(tmp_path / "weg.bin", tmp_path / "kapotte-link.txt")
    corpus = scan_corpus(tmp_path)
    assert sorted(d.meta.id for d in corpus.documents) == ["goed", "windows"]
    reasons = {f.file: f.reason for f in corpus.skipped}
    assert set(reasons) == {"leeg.txt", "spaties.txt", "plaatje.txt", "map.txt", "kapotte-link.txt"}
    assert reasons["leeg.txt"] == "the file is empty"
    assert "no text" in reasons["spaties.txt"]
    assert "not text" in reasons["plaatje.txt"]
    assert "cannot be read" in reasons["map.txt"] and "cannot be read" in reasons["kapotte-link.txt"]
    assert str(corpus.skipped[0]).startswith(corpus.skipped[0].file + ": the file ")


def test_a_corpus_of_only_unreadable_files_is_a_clear_error(tmp_path):
    (tmp_path / "leeg.txt").write_bytes(b"")
    with pytest.raises(CorpusError, match=r"no readable documents.*leeg\.txt: the file is empty"):
        scan_corpus(tmp_path)


def test_ids_are_ascii_slugs_whatever_the_file_name_form(tmp_path):
    nfd = unicodedata.normalize("NFD", "Brief geïntegreerd (U)")
    assert ascii_slug(nfd) == ascii_slug(unicodedata.normalize("NFC", nfd)) == "brief-geintegreerd-u"
    (tmp_path / f"{nfd}.txt").write_text("Een brief.\n", encoding="utf-8")
    [doc] = scan_corpus(tmp_path).documents
    assert doc.meta.id == "brief-geintegreerd-u"


# ---------------------------------------------------------------- characters


def test_ligatures_soft_hyphens_nbsp_and_crlf_are_normalised_and_spans_stay_exact():
    raw = ("De \ufb01nanciering van de inburge\u00adringsplicht is gere\u00ad\r\n"
           "geld\u00a0in\u202fartikel\u00a03.\r\n\r\nHet tweede\u00ad alinea\u200b-deel kost € 10\u00a0000.\r\n")
    p = parse(raw)
    assert p.text == ("De financiering van de inburgeringsplicht is geregeld in artikel 3.\n\n"
                      "Het tweede alinea-deel kost € 10 000.")
    for forbidden in ("\u00ad", "\u00a0", "\u202f", "\u200b", "\r", "\ufb01"):
        assert forbidden not in p.text
    for block in p.blocks:
        assert p.text[block.start:block.end] == block.text
    for chunk in chunk_document(p):
        assert p.text[chunk.char_start:chunk.char_end] == chunk.text
    assert normalize_text(normalize_text(raw)) == normalize_text(raw)


def test_footnote_offsets_stay_exact_after_normalisation():
    raw = "De \ufb01nanciering\u00a0stopt1. Daarna niets.\n\n1 Zie de brief van 3\u00a0maart.\n Volgende pagina.\n"
    p = parse(raw)
    [note] = p.footnotes
    assert note.text == "Zie de brief van 3 maart."
    assert p.text[:note.offset].endswith("De financiering stopt")


# ---------------------------------------------------------------- page furniture


def _pages(header: str, bodies: list[str]) -> str:
    return "\f".join(f"{header.format(n=i + 1, total=len(bodies))}\n\n{body}\n" for i, body in enumerate(bodies))


@pytest.mark.parametrize("header", [
    "Tweede Kamer der Staten-Generaal   Pagina {n} van {total}",
    "Gemeente Voorbeeldstad – notitie 2025 – blad {n}",
    "- {n} -",
])
def test_running_headers_with_a_page_number_are_removed(header):
    bodies = ["Het kabinet begint een proef met taalcoaches in tien gemeenten.",
              "De proef duurt twee jaar en kost 4 miljoen euro per jaar.",
              "Na afloop volgt een evaluatie door een onafhankelijk bureau."]
    text = parse(_pages(header, bodies)).text
    assert text == "\n\n".join(bodies)


def test_running_footer_at_the_page_bottom_is_removed_too():
    raw = "\f".join(f"Tekst van pagina {word} over inburgering.\n\nVertrouwelijk concept, pagina {n}\n"
                    for n, word in enumerate(["een", "twee", "drie", "vier"], start=1))
    assert "Vertrouwelijk" not in parse(raw).text and "pagina twee over" in parse(raw).text


def test_lines_that_only_look_like_furniture_stay():
    # Footnotes at page bottoms change several numbers at once; a header without a changing number
    # is not found by shape; a page whose only text is a numbered line keeps it.
    raw = ("Eerste pagina met tekst.\n\n1 Kamerstuk 32 824, nr. 7\n"
           "\fTweede pagina met tekst.\n\n2 Kamerstuk 33 750, nr. 80\n"
           "\fDerde pagina.\n\n3 Kamerstuk 34 000, nr. 12\n")
    p = parse(raw)
    assert [f.text for f in p.footnotes] == ["Kamerstuk 32 824, nr. 7", "Kamerstuk 33 750, nr. 80",
                                             "Kamerstuk 34 000, nr. 12"]
    only = parse("\f".join(f"Stap {n} van 3\n" for n in (1, 2, 3))).text
    assert only == "Stap 1 van 3\n\nStap 2 van 3\n\nStap 3 van 3"


def test_form_feeds_split_pages_like_a_leading_space(documents, parsed):
    # Today's rules for the bundled documents keep working (see also test_parse.py).
    letter = parsed["brief-2013-0000024260"].text
    assert "Onze referentie" not in letter and letter.startswith("In het Algemeen Overleg")


# ---------------------------------------------------------------- line-end hyphens


@pytest.mark.parametrize("left, right, expected", [
    ("de niet-", "westerse migranten", "de niet-westerse migranten"),  # in the word list with its hyphen
    ("de oud-", "asielzoekers", "de oud-asielzoekers"),  # the list writes oud-… compounds with a hyphen
    ("de ex-", "statushouders", "de ex-statushouders"),
    ("alle EU-", "burgers", "alle EU-burgers"),
    ("de LOM-", "organisaties", "de LOM-organisaties"),
    ("de taal-", "en rekenles", "de taal- en rekenles"),  # suspended hyphen
    ("de inburgerings-", "plicht", "de inburgeringsplicht"),  # a word in the list
    ("de inburge-", "ringsplicht", "de inburgeringsplicht"),
    ("het netwerk-", "opbouw", "het netwerkopbouw"),  # netwerk… compounds are written joined
    ("in de hier vol-", "gende zin", "in de hier volgende zin"),
])
def test_line_end_hyphens_with_the_dutch_word_list(left, right, expected):
    if not load_wordlist():
        pytest.skip(f"{WORDLIST} missing: `make wordlist-setup` installs Debian's wdutch")
    assert join_lines([left, right], vocabulary("")) == expected


def test_the_real_word_list_is_used_when_present():
    if not WORDLIST.exists():
        pytest.skip(f"{WORDLIST} missing: `make wordlist-setup` installs Debian's wdutch")
    words = load_wordlist()
    assert words.source == str(WORDLIST) and len(words.words) > 300_000
    assert "niet-westerse" in words.hyphenated and "inburgeringsplicht" in words.words
    assert parse("Veel niet-\nwesterse migranten.\n").text == "Veel niet-westerse migranten."


def test_without_a_word_list_the_document_decides(tmp_path):
    empty = load_wordlist(tmp_path / "geen-woordenlijst")
    assert not empty and empty.source is None
    # No evidence: joined, as before the word list.
    assert join_lines(["de oud-", "asielzoekers"], vocabulary("", empty)) == "de oudasielzoekers"
    # The document writes it with its hyphen inside a line: kept; or joined: joined.
    raw = "Veel oud-asielzoekers werken.\nAndere fietsenstallingen ook.\n"
    assert join_lines(["de oud-", "asielzoekers"], vocabulary(raw, empty)) == "de oud-asielzoekers"
    assert join_lines(["de fietsen-", "stallingen"], vocabulary(raw, empty)) == "de fietsenstallingen"


def test_document_evidence_wins_over_the_word_list():
    raw = "In deze brief schrijven we zorg-verzekeraar steeds zo.\n"
    assert join_lines(["de zorg-", "verzekeraar"], vocabulary(raw)) == "de zorg-verzekeraar"


# ---------------------------------------------------------------- the bundled corpus and the dev set


def test_every_dev_gold_quote_lies_inside_one_chunk(documents, parsed):
    files = {d.meta.file: doc_id for doc_id, d in documents.items()}
    chunks = {doc_id: chunk_document(p) for doc_id, p in parsed.items()}
    quotes = [(q["id"], g) for line in (PROJECT_ROOT / "data" / "eval" / "dev.jsonl").read_text("utf-8").splitlines()
              if line.strip() for q in [json.loads(line)] for g in q.get("gold") or []]
    assert len(quotes) > 50
    for qid, gold in quotes:
        assert any(contains(c.text, gold["quote"]) for c in chunks[files[gold["doc"]]]), qid
