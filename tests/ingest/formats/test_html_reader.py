"""rag/ingest/formats/html.py: the document's content without the site around it, its meta tags or printed
head, the same passages as the text version; a page of only navigation is refused with the reason."""

from __future__ import annotations

import pytest

from format_helpers import FORMATS, LETTER_445_META, as_document, passages, same_passages
from rag.ingest.formats import Unreadable, html

SITE_WORDS = ("Uitgebreid zoeken", "Direct naar de inhoud", "functionele cookies", "Zoekresultaten", "Privacy",
              "Alle stukken in dossier", "Toegankelijkheid")


def _plain(read) -> str:
    return "\n".join(b.text for b in read.blocks)


def test_the_content_without_the_site_and_metadata_from_the_meta_tags(documents):
    read = html.read(FORMATS / "kst-32824-445.html")
    assert not [w for w in SITE_WORDS if w in _plain(read)]
    assert read.meta == LETTER_445_META
    assert read.sources["date"] == "HTML meta OVERHEIDop.datumBrief"
    assert [n for n, _ in read.footnotes] == [1, 2, 3, 4] and "Noten" not in _plain(read)
    text_version = documents["kst-32824-445"]
    assert same_passages(passages(text_version), passages(as_document(read, text_version.meta))) == 1.0


def test_the_answers_as_html_give_the_passages_of_their_text(answers_files, documents):
    text_version = documents["vragen-actieagenda-integratie-2024"]
    read = html.read(answers_files / "kst-32824-451.html")
    expected = passages(text_version)
    share = same_passages(expected, passages(as_document(read, text_version.meta)))
    assert share >= 0.95, f"{share:.1%} of {len(expected)} passages the same"
    assert "Ja." in [b.text for b in read.blocks]  # short answers stay (readability drops them by default)


def test_plain_divs_instead_of_main_article_nav_and_aside_change_nothing(tmp_path, documents):
    page = (FORMATS / "kst-32824-445.html").read_text(encoding="utf-8")
    for tag in ("main", "article", "header", "footer", "aside", "nav"):
        page = page.replace(f"<{tag}", "<div").replace(f"</{tag}>", "</div>")
    teaser = "<p>Het kabinet kondigde vandaag maatregelen aan voor starters op de woningmarkt in alle provincies.</p>"
    page = page.replace('<div class="sidebar">', f'<div class="sidebar"><h2>Nieuws</h2>{teaser * 3}')
    (tmp_path / "soep.html").write_text(page, encoding="utf-8")
    read = html.read(tmp_path / "soep.html")
    assert not [w for w in SITE_WORDS + ("woningmarkt",) if w in _plain(read)]
    text_version = documents["kst-32824-445"]
    assert same_passages(passages(text_version), passages(as_document(read, text_version.meta))) == 1.0


def test_a_page_without_meta_tags_is_described_by_the_letters_own_head():
    read = html.read(FORMATS / "kamerbrief-2013-0000024260.html")
    assert read.meta == {"date": "2013-03-05", "reference": "2013-0000024260",
                         "title": "Motie Van Dam Sterk m.b.t. Intrekking WOM, transformatie dialoog"}
    assert read.sources == {"date": "HTML document head: Datum", "reference": "HTML document head: Onze referentie",
                            "title": "HTML document head: Betreft"}


def test_a_page_of_only_navigation_is_unreadable_with_the_reason(tmp_path):
    links = "".join(f'<li><a href="/onderwerp/{i}">Onderwerp {i}: integratie en inburgering</a></li>' for i in range(30))
    (tmp_path / "menu.html").write_text(
        f"<!DOCTYPE html><html><head><title>Onderwerpen | Rijksoverheid</title></head><body><header><nav><ul>{links}"
        "</ul></nav></header><footer><a href='/privacy'>Privacy</a></footer></body></html>", encoding="utf-8")
    with pytest.raises(Unreadable, match=r"^has no document text, only navigation and links \(31 links, \d+ words of "
                                         r"running text\); save the page of the document itself$"):
        html.read(tmp_path / "menu.html")


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)) * 8, b"Alleen tekst, geen HTML."])
def test_what_is_not_html_is_unreadable(tmp_path, content):
    (tmp_path / "x.html").write_bytes(content)
    with pytest.raises(Unreadable, match=r"^is not HTML"):
        html.read(tmp_path / "x.html")
