"""Generate the PDF, HTML and XML test documents from the bundled corpus's own text (issue 27).

No real Kamerstuk PDF, HTML or XML could be shipped with the tests (the machines that run them reach only
package registries), so these are GENERATED, each from a document of ``data/corpus`` as the text parser
reads it (its paragraphs, headings, Vraag/Antwoord blocks and footnotes), and labelled as such:

* ``kst-32824-445.pdf`` and ``kst-32824-451.pdf``: written as Flat ODT and turned into PDF by LibreOffice
  (Debian's ``libreoffice-writer-nogui``: ``soffice --headless --convert-to pdf``), with the Kamerstuk's
  first-page head, real footnotes and the running footer of the Kamerstukken layout;
* ``kst-32824-445.html`` and ``kst-32824-451.html``: a publication page with site navigation, breadcrumbs,
  a sidebar and a footer around the document, its metadata in ``<meta name="DC.…">`` tags;
* ``kst-32824-445.xml`` and ``kst-32824-451.xml``: the officiële-bekendmakingen schema (``officiele-publicatie``
  → ``kamerstuk`` → ``stuk``; ``vraag``/``antwoord`` with ``nr``; ``noot`` with ``noot.nr``/``noot.al``);
* ``kamerbrief-2013-0000024260.html``: a ministry's letter (data/corpus/001) as a news site shows it, without
  meta tags: its date, subject and reference only in the letter's own head ("Datum 5 maart 2013", "Betreft …").

Only what the corpus and its manifest say goes in: the letter's date (21 November 2024) is in its text; the
answers (nr. 451) carry no date because their text gives none. The letters' files are committed in
``tests/ingest/data/formats/`` (``make format-fixtures``); the answers' XML and HTML (about 200 kB each) are written by the tests
themselves (``write``), their PDF only on request (it takes LibreOffice). Run from the project root:

    python scripts/make_format_fixtures.py                      # the committed files (LibreOffice for the PDF)
    python scripts/make_format_fixtures.py --only kst-32824-451 --out /tmp/formats
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.ingest.corpus import load_corpus  # noqa: E402
from rag.ingest.parse import parse_document  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "ingest" / "data" / "formats"
OB = "https://zoek.officielebekendmakingen.nl"


@dataclass(frozen=True)
class Stuk:
    """What a Kamerstuk's head says (from the corpus text and manifest)."""

    doc_id: str  # the corpus document it is made from
    ident: str  # officiële-bekendmakingen identifier, kst-<dossier>-<nr>
    dossier: str  # "32 824"
    dossier_title: str
    number: str
    stuk_title: str  # the head's title in capitals, as printed
    title: str  # the document title (OVERHEIDop.documenttitel)
    doc_type: str
    date: str | None  # ISO date of the letter, when its text gives one
    date_text: str | None  # as printed: "Den Haag, 21 november 2024"
    indiener: str | None
    year: str = "2024–2025"


STUKKEN = (
    Stuk("kst-32824-445", "kst-32824-445", "32 824", "Integratiebeleid", "445",
         "BRIEF VAN DE STAATSSECRETARIS VAN SOCIALE ZAKEN EN WERKGELEGENHEID",
         "Brief over contacten met maatschappelijke organisaties (moties Palland en Becker)", "Brief regering",
         "2024-11-21", "Den Haag, 21 november 2024", "J.N.J. Nobel"),
    Stuk("vragen-actieagenda-integratie-2024", "kst-32824-451", "32 824", "Integratiebeleid", "451",
         "ANTWOORDEN OP SCHRIFTELIJKE VRAGEN",
         "Antwoorden op schriftelijke vragen over de Kamerbrief Actieagenda Integratie en de Open en Vrije "
         "Samenleving", "Lijst van vragen en antwoorden", None, None, None),
)


@dataclass
class Para:
    kind: str  # heading | paragraph | marker | question | answer
    text: str
    notes: list[tuple[int, int, str]]  # (offset in text, footnote number, footnote text)


def paragraphs(doc_id: str) -> list[Para]:
    """The document's blocks as the text parser reads them, each with the footnotes whose marker it holds."""
    docs = {d.meta.id: d for d in load_corpus(ROOT / "data" / "corpus")}
    parsed = parse_document(docs[doc_id])
    out = []
    for b in parsed.blocks:
        notes = [(f.offset - b.start, f.number, f.text) for f in parsed.footnotes if b.start <= f.offset <= b.end]
        out.append(Para(b.kind, b.text, notes))
    return out


def _signature(para: Para, paras: list[Para]) -> bool:
    return para is paras[-1] and para.kind == "paragraph" and para.text.startswith(("De Minister", "De Staatssecretaris"))


def _pieces(para: Para, note):
    """Text and footnote markup in order: ``note(number, text)`` renders one footnote."""
    at, parts = 0, []
    for offset, number, text in sorted(para.notes):
        parts.append(escape(para.text[at:offset]))
        parts.append(note(number, text))
        at = offset
    parts.append(escape(para.text[at:]))
    return "".join(parts)


# ---------------------------------------------------------------- Flat ODT → PDF (LibreOffice)

_FODT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"
 office:mimetype="application/vnd.oasis.opendocument.text">
<office:meta><dc:title>{title}</dc:title><dc:subject>{subject}</dc:subject><meta:keyword>{keywords}</meta:keyword>
<meta:initial-creator>{author}</meta:initial-creator><dc:creator>{author}</dc:creator><dc:language>nl-NL</dc:language></office:meta>
<office:styles>
 <style:default-style style:family="paragraph"><style:paragraph-properties fo:hyphenation-ladder-count="no-limit"/>
  <style:text-properties style:font-name="Liberation Serif" fo:font-size="10pt" fo:language="nl" fo:country="NL"/></style:default-style>
 <style:style style:name="Standard" style:family="paragraph"><style:paragraph-properties fo:margin-bottom="0.42cm" fo:line-height="125%"/></style:style>
 <style:style style:name="Kop" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:margin-top="0.3cm" fo:margin-bottom="0.2cm" fo:keep-with-next="always"/><style:text-properties fo:font-weight="bold"/></style:style>
 <style:style style:name="Marker" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:margin-bottom="0cm" fo:keep-with-next="always"/><style:text-properties fo:font-weight="bold"/></style:style>
 <style:style style:name="Head" style:family="paragraph" style:parent-style-name="Standard"><style:paragraph-properties fo:margin-bottom="0.2cm"/></style:style>
 <style:style style:name="Footnote" style:family="paragraph"><style:paragraph-properties fo:margin-left="0.6cm" fo:text-indent="-0.6cm" fo:margin-bottom="0.05cm"/><style:text-properties fo:font-size="8pt"/></style:style>
 <style:style style:name="Footer" style:family="paragraph"><style:text-properties fo:font-size="8pt"/></style:style>
 <text:notes-configuration text:note-class="footnote" text:default-style-name="Footnote" style:num-format="1" text:start-value="0" text:footnotes-position="page" text:start-numbering-at="document"/>
</office:styles>
<office:automatic-styles><style:page-layout style:name="pm1"><style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm"
 fo:margin-top="2cm" fo:margin-bottom="1.5cm" fo:margin-left="2.5cm" fo:margin-right="4cm"/></style:page-layout></office:automatic-styles>
<office:master-styles><style:master-page style:name="Standard" style:page-layout-name="pm1"><style:footer>
 <text:p text:style-name="Footer">Tweede Kamer, vergaderjaar {year}, {dossier}, nr. {number} <text:page-number text:select-page="current">1</text:page-number></text:p>
</style:footer></style:master-page></office:master-styles>
<office:body><office:text>
"""


def fodt(stuk: Stuk, paras: list[Para]) -> str:
    def note(number, text):
        return (f'<text:note text:note-class="footnote"><text:note-citation>{number}</text:note-citation>'
                f'<text:note-body><text:p text:style-name="Footnote">{escape(text)}</text:p></text:note-body></text:note>')

    out = [_FODT_HEAD.format(title=escape(stuk.title), subject=escape(f"Kamerstuk {stuk.dossier}, nr. {stuk.number}"),
                             keywords=escape(f"{stuk.dossier_title}; {stuk.doc_type}"),
                             author=escape(stuk.indiener or "Tweede Kamer der Staten-Generaal"),
                             year=stuk.year, dossier=stuk.dossier, number=stuk.number)]
    head = ["Tweede Kamer der Staten-Generaal 2", f"Vergaderjaar {stuk.year}", f"{stuk.dossier} {stuk.dossier_title}",
            f"Nr. {stuk.number} {stuk.stuk_title}"]
    if stuk.date_text:
        head += ["Aan de Voorzitter van de Tweede Kamer der Staten-Generaal", stuk.date_text]
    out += [f'<text:p text:style-name="Head">{escape(line)}</text:p>' for line in head]
    styles = {"heading": "Kop", "marker": "Marker"}
    for para in paras:
        text = _pieces(para, note)
        if _signature(para, paras):  # the function and the name on lines of their own, as signed
            text = text.replace(", ", ",<text:line-break/>", 1)
        out.append(f'<text:p text:style-name="{styles.get(para.kind, "Standard")}">{text}</text:p>')
    out.append("</office:text></office:body></office:document>\n")
    return "\n".join(out)


def to_pdf(source: Path, target: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise SystemExit("soffice not found: apt-get install -y libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory() as tmp:
        # A private profile: a user's running LibreOffice (or another conversion) does not block this one.
        subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", "pdf",
                        "--outdir", tmp, str(source)], check=True, capture_output=True, timeout=300)
        shutil.move(Path(tmp) / (source.stem + ".pdf"), target)


# ---------------------------------------------------------------- officiële-bekendmakingen XML


def _meta(stuk: Stuk, tag: str) -> list[str]:
    fields = [("DC.identifier", stuk.ident), ("DC.title", f"{stuk.dossier_title}; {stuk.title}"),
              ("DC.type", "Kamerstuk"), ("DC.creator", "Tweede Kamer der Staten-Generaal"),
              ("OVERHEIDop.documenttitel", stuk.title), ("OVERHEIDop.dossiernummer", stuk.dossier.replace(" ", "")),
              ("OVERHEIDop.dossiertitel", stuk.dossier_title), ("OVERHEIDop.ondernummer", stuk.number),
              ("OVERHEIDop.vergaderjaar", stuk.year.replace("–", "-")),
              ("OVERHEIDop.publicationName", "Kamerstuk"),
              ("DCTERMS.language", "nl")]
    if stuk.indiener:
        fields.append(("OVERHEIDop.indiener", stuk.indiener))
    if stuk.date:
        fields.append(("OVERHEIDop.datumBrief", stuk.date))
    return [f"<{tag} name={quoteattr(k)} content={quoteattr(v)}/>" for k, v in fields]


def ob_xml(stuk: Stuk, paras: list[Para]) -> str:
    def note(number, text):
        return f'<noot id="n{number}" type="voet"><noot.nr>{number}</noot.nr><noot.al>{escape(text)}</noot.al></noot>'

    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<officiele-publicatie xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
           "<metadata>", *_meta(stuk, "meta"), "</metadata>", "<kamerstuk>",
           '<kamerstukkop><tekstregel inhoud="kamer">Tweede Kamer der Staten-Generaal</tekstregel>'
           f'<tekstregel inhoud="vergaderjaar">Vergaderjaar {stuk.year}</tekstregel></kamerstukkop>',
           f"<dossier><dossiernummer><dossiernr>{stuk.dossier}</dossiernr></dossiernummer>"
           f"<titel>{escape(stuk.dossier_title)}</titel></dossier>",
           f"<stuk><stuknr>Nr. <ondernummer>{stuk.number}</ondernummer></stuknr><titel>{escape(stuk.stuk_title)}</titel>"]
    if stuk.date:
        day, month, year = stuk.date_text.split(", ")[1].split()
        out.append(f'<dagtekening><plaats>Den Haag</plaats>, <datum isodatum="{stuk.date}">{day} {month} {year}</datum>'
                   "</dagtekening>")
    out.append("<algemeen><vrije-tekst><tekst>")
    open_qa = None  # "vraag" | "antwoord" while one is open
    in_division = False
    for para in paras:
        body = _pieces(para, note)
        if para.kind == "marker":
            if open_qa:
                out.append(f"</{open_qa}>")
            open_qa = "vraag" if para.text.startswith("Vraag") else "antwoord"
            out.append(f"<{open_qa}><nr>{body}</nr>")
        elif para.kind == "heading":
            if in_division:
                out.append("</divisie>")
            out.append(f"<divisie><kop><titel>{body}</titel></kop>")
            in_division = True
        elif _signature(para, paras):
            functie, naam = para.text.rsplit(", ", 1)
            if in_division:
                out.append("</divisie>")
                in_division = False
            out.append(f"</tekst></vrije-tekst></algemeen><ondertekening><functie>{escape(functie)},</functie>"
                       f"<naam>{escape(naam)}</naam></ondertekening>")
            out.append("</stuk></kamerstuk></officiele-publicatie>")
            return "\n".join(out) + "\n"
        else:
            out.append(f"<al>{body}</al>")
    if open_qa:
        out.append(f"</{open_qa}>")
    if in_division:
        out.append("</divisie>")
    out.append("</tekst></vrije-tekst></algemeen></stuk></kamerstuk></officiele-publicatie>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML page with site furniture

_NAV = ["Home", "Zoeken", "Uitgebreid zoeken", "Kamerstukken", "Staatscourant", "Gemeenteblad", "Over deze site",
        "Help", "Contact"]


def html_page(stuk: Stuk, paras: list[Para]) -> str:
    notes: list[tuple[int, str]] = []

    def note(number, text):
        notes.append((number, text))
        return f'<sup><a class="nootnum" id="r{number}" href="#n{number}">{number}</a></sup>'

    metas = "\n".join(_meta(stuk, "meta"))
    nav = "".join(f'<li><a href="/{i}">{html.escape(n)}</a></li>' for i, n in enumerate(_NAV))
    body = [f"<p class=\"kamer\">Tweede Kamer der Staten-Generaal</p><p>Vergaderjaar {stuk.year}</p>",
            f"<p class=\"dossier\">{stuk.dossier} {html.escape(stuk.dossier_title)}</p>",
            f"<h1 class=\"stuktitel\">Nr. {stuk.number} {html.escape(stuk.stuk_title)}</h1>"]
    if stuk.date_text:
        body += ["<p>Aan de Voorzitter van de Tweede Kamer der Staten-Generaal</p>",
                 f"<p class=\"dagtekening\">{stuk.date_text}</p>"]
    open_qa = None
    for para in paras:
        text = _pieces(para, note)
        if para.kind == "marker":
            if open_qa:
                body.append("</div>")
            open_qa = "vraag" if para.text.startswith("Vraag") else "antwoord"
            body.append(f'<div class="{open_qa}"><h3>{text}</h3>')
        elif para.kind == "heading":
            body.append(f"<h2>{text}</h2>")
        elif _signature(para, paras):
            body.append(f'<p class="ondertekening">{text.replace(", ", ",<br>", 1)}</p>')
        else:
            body.append(f"<p>{text}</p>")
    if open_qa:
        body.append("</div>")
    footnotes = "".join(f'<li id="n{n}"><a href="#r{n}">{n}</a> {html.escape(t)}</li>' for n, t in notes)
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>{html.escape(stuk.dossier_title)}; {html.escape(stuk.title)} | Overheid.nl</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
{metas}
<link rel="canonical" href="{OB}/{stuk.ident}.html">
</head><body>
<a class="skiplink" href="#main">Direct naar de inhoud</a>
<header><div class="logo"><a href="/">Officiële bekendmakingen</a></div><nav aria-label="Hoofdmenu"><ul>{nav}</ul></nav>
<form role="search" action="/zoeken"><label>Zoek in alle publicaties <input name="q"></label><button>Zoeken</button></form></header>
<div class="cookiebanner"><p>Deze website gebruikt alleen functionele cookies.</p><button>Sluiten</button></div>
<nav class="breadcrumb" aria-label="Kruimelpad"><ol><li><a href="/">Home</a></li><li><a href="/zoeken">Zoekresultaten</a></li>
<li>Kamerstuk {stuk.dossier}, nr. {stuk.number}</li></ol></nav>
<main id="main"><div class="wrapper"><aside class="sidebar"><h2>Details</h2><ul><li><a href="{OB}/{stuk.ident}.pdf">PDF</a></li>
<li><a href="{OB}/{stuk.ident}.xml">XML</a></li><li><a href="{OB}/{stuk.ident}/metadata.xml">Metadata</a></li>
<li><a href="/dossier/{stuk.dossier.replace(' ', '')}">Alle stukken in dossier {stuk.dossier}</a></li></ul></aside>
<article id="broodtekst" class="stuk">
{chr(10).join(body)}
<div class="noten"><h2>Noten</h2><ol>{footnotes}</ol></div>
</article></div></main>
<footer><ul><li><a href="/over">Over deze site</a></li><li><a href="/privacy">Privacy</a></li><li><a href="/toegankelijkheid">Toegankelijkheid</a></li>
<li><a href="/cookies">Cookies</a></li><li><a href="/contact">Contact</a></li><li><a href="/sitemap">Sitemap</a></li></ul>
<p>Dit is een website van de Rijksoverheid.</p></footer>
</body></html>
"""


LETTER = ("brief-2013-0000024260", "kamerbrief-2013-0000024260",
          ["Onze referentie 2013-0000024260", "Datum 5 maart 2013",
           "Betreft Motie Van Dam Sterk m.b.t. Intrekking WOM, transformatie dialoog"])


def letter_page(paras: list[Para], head: list[str]) -> str:
    """A ministry's letter on a news site's page: no meta tags, the letter's head printed above it."""
    body = [f"<p>{html.escape(line)}</p>" for line in head]
    for para in paras:
        tag = "h2" if para.kind == "heading" else "p"
        body.append(f"<{tag}>{escape(para.text)}</{tag}>")
    nav = "".join(f'<li><a href="/{i}">{n}</a></li>' for i, n in enumerate(
        ["Onderwerpen", "Nieuws", "Documenten", "Regering", "Contact", "Zoeken"]))
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Kamerbrief over motie Van Dam/Sterk | Nieuwsbrieven Rijk</title></head>
<body><div class="header"><ul class="menu">{nav}</ul></div>
<div class="crumbs"><a href="/">Home</a> › <a href="/documenten">Documenten</a> › Kamerbrief</div>
<div class="content"><h1>Kamerbrief over motie Van Dam/Sterk m.b.t. intrekking WOM</h1>
<p class="intro">Minister Asscher informeert de Tweede Kamer over de nieuwe dialoog na de intrekking van de Wet overleg
minderhedenbeleid.</p>
<div class="brief">{chr(10).join(body)}</div>
<ul class="downloads"><li><a href="/documenten/kamerbrief.pdf">Kamerbrief (PDF, 120 kB)</a></li></ul></div>
<div class="footer"><a href="/privacy">Privacy</a> <a href="/cookies">Cookies</a> <a href="/toegankelijkheid">Toegankelijkheid</a></div>
</body></html>
"""


# ---------------------------------------------------------------- main


def write(out: Path, idents: tuple[str, ...] = ("kst-32824-445", LETTER[1]), pdf: bool = True) -> list[Path]:
    """Write the XML, HTML (and with ``pdf`` the PDF) of the Kamerstukken ``idents`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stuk in (s for s in STUKKEN if s.ident in idents):
        paras = paragraphs(stuk.doc_id)
        written.append(out / f"{stuk.ident}.xml")
        written[-1].write_text(ob_xml(stuk, paras), encoding="utf-8")
        written.append(out / f"{stuk.ident}.html")
        written[-1].write_text(html_page(stuk, paras), encoding="utf-8")
        if pdf:
            with tempfile.TemporaryDirectory() as tmp:
                source = Path(tmp) / f"{stuk.ident}.fodt"
                source.write_text(fodt(stuk, paras), encoding="utf-8")
                written.append(out / f"{stuk.ident}.pdf")
                to_pdf(source, written[-1])
    if LETTER[1] in idents:
        written.append(out / f"{LETTER[1]}.html")
        written[-1].write_text(letter_page(paragraphs(LETTER[0]), LETTER[2]), encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder to write to (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--only", nargs="+", default=["kst-32824-445", LETTER[1]],
                        choices=[s.ident for s in STUKKEN] + [LETTER[1]], help="which documents (default: the committed)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDFs (no LibreOffice needed)")
    args = parser.parse_args(argv)
    for path in write(args.out, tuple(args.only), pdf=not args.no_pdf):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
