"""rag/ingest/formats/pdf.py on the generated Kamerbrief PDF (LibreOffice, tests/ingest/data/formats/README.md):
text by page, metadata from the document info and the first page, the same passages as the text version,
and the reasons a scanned or damaged PDF is left out."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from rag.ingest.formats import Unreadable, pdf
from format_helpers import FORMATS, LETTER_445_META, as_document, passages, same_passages

LETTER = FORMATS / "kst-32824-445.pdf"


@pytest.fixture(scope="module")
def letter():
    return pdf.read(LETTER)


def test_the_text_layer_is_read_page_by_page_with_paragraphs(letter):
    assert letter.format == "pdf" and letter.pages == 3
    pages = letter.text.split("\f")
    assert len(pages) == 3
    assert "\n\nTot slot\n\n" in letter.text  # a paragraph break where the line pitch widens
    assert "in juli 20132," in letter.text  # the raised footnote marker stays on its line (parse.py takes it out)
    assert "Op 3 en 11 oktober 2023" in letter.text  # no space inside "11" (loose character boxes)


def test_metadata_come_from_the_document_info_and_its_first_page(letter):
    assert letter.meta == LETTER_445_META
    assert letter.sources["title"] == "PDF info Title"
    assert letter.sources["date"] == "PDF first page: Den Haag, <date>"  # never the file's CreationDate
    assert letter.sources["reference"] == "PDF first page: dossier and Nr."


def test_a_word_processor_title_is_not_taken_and_a_login_is_no_author():
    meta, sources = pdf._metadata({"Title": "Microsoft Word - brief SZW def.docx", "Author": "jdevries",
                                   "Subject": "Kamerstuk 32 824, nr. 445"}, ["Datum 5 maart 2013", "Betreft Een onderwerp"])
    assert meta == {"title": "Een onderwerp", "date": "2013-03-05", "reference": "Kamerstuk 32 824, nr. 445"}
    assert sources["reference"] == "PDF info Subject"


def test_the_pdf_gives_the_passages_of_the_text_version_with_their_pages(letter, documents):
    text_version = documents["kst-32824-445"]
    got = passages(as_document(letter, text_version.meta))
    assert same_passages(passages(text_version), got) >= 0.95
    assert all(c.page is not None and 1 <= c.page <= c.page_end <= 3 for c in got)
    # The page a passage starts on is the page PDFium finds its first words on.
    doc = pdfium.PdfDocument(str(LETTER))
    page_texts = [" ".join(page.get_textpage().get_text_range().split()) for page in doc]
    for chunk in got:
        opening = " ".join(chunk.text.split()[:6])
        assert opening in page_texts[chunk.page - 1], (chunk.page, opening)
    assert {c.page for c in got} == {1, 2, 3}


def _scan(path, pages=1):
    """A PDF of page images only: the letter's first pages rendered (PDFium) and saved by Pillow, as a scanner would."""
    doc = pdfium.PdfDocument(str(LETTER))
    images = [doc[i].render(scale=0.6, grayscale=True).to_pil() for i in range(pages)]
    images[0].save(path, "PDF", resolution=43.2, save_all=True, append_images=images[1:])
    return path


def test_a_scanned_pdf_is_unreadable_with_the_reason(tmp_path):
    with pytest.raises(Unreadable, match=r"^has no text layer on any of its 2 page\(s\) \(scanned images\?\); run OCR"):
        pdf.read(_scan(tmp_path / "scan.pdf", pages=2))


def test_a_scanned_page_in_a_text_pdf_is_named_and_the_rest_is_read(tmp_path):
    mixed = pdfium.PdfDocument(str(LETTER))
    mixed.import_pages(pdfium.PdfDocument(str(_scan(tmp_path / "scan.pdf"))))
    mixed.save(tmp_path / "mixed.pdf")
    read = pdf.read(tmp_path / "mixed.pdf")
    assert read.pages == 4 and read.notes == ("p. 4: no text layer (scanned?), left out; the other pages are indexed",)
    assert "Tot slot" in read.text


@pytest.mark.parametrize("content", [b"%PDF-1.7\n" + bytes(range(256)) * 40, b"", b"<html>not a pdf</html>"])
def test_a_damaged_or_false_pdf_is_unreadable_with_the_reason(tmp_path, content):
    path = tmp_path / "kapot.pdf"
    path.write_bytes(content)
    with pytest.raises(Unreadable, match=r"^cannot be read as a PDF \(.+\); is the file complete\?$"):
        pdf.read(path)


def test_a_truncated_pdf_is_read_as_far_as_it_goes_or_unreadable(tmp_path):
    path = tmp_path / "half.pdf"
    path.write_bytes(LETTER.read_bytes()[: LETTER.stat().st_size // 2])
    try:
        read = pdf.read(path)
    except Unreadable as exc:
        assert "PDF" in str(exc) or "text" in str(exc)
    else:
        assert read.pages >= 1
