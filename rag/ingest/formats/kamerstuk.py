"""What a Kamerstuk's or a letter's head says: reference, type, office, date, subject, official URL.

Shared by the format readers. From markup (XML elements, HTML meta tags) the readers take the fields as
given; from text (a PDF's first page, an HTML page without meta tags) ``read_head`` reads the printed head
of a Kamerstuk ("32 824 Integratiebeleid" / "Nr. 445 BRIEF VAN DE STAATSSECRETARIS …" / "Den Haag,
21 november 2024", or the running header "Tweede Kamer, vergaderjaar 2024–2025, 32 824, nr. 445") and of
a ministry's letter ("Datum 5 maart 2013", "Betreft …", "Onze referentie 2013-0000024260").

Dates: only a date the head prints as the document's own (the letter's "Den Haag, <date>" or "Datum
<date>"); dates in running text are rag/ingest's date derivation's business, not the readers'.
"""

from __future__ import annotations

import re

from rag.search.citations import MONTHS

OB_URL = "https://zoek.officielebekendmakingen.nl"
_SMALL = {"van", "de", "het", "en", "voor", "der", "op", "in", "te", "met", "een", "des", "den"}
# "32 824 Integratiebeleid" / "Nr. 445 BRIEF VAN DE …" (the title in capitals); not "20 000 mensen", "Nr. 3 is".
_DOSSIER = re.compile(r"^(\d{2} \d{3}|\d{5})((?: [A-Z]{1,6})?(?:-[A-Z0-9]+)?)\s+([A-Z]\S*.*)$")
_NR = re.compile(r"^Nr\.\s*(\d+)\s+([A-Z][^a-z]*)$")
_RUNNING = re.compile(r"Tweede Kamer, vergaderjaar \d{4}[–-]\d{4}, (\d{2} ?\d{3}(?: [A-Z]{1,6})?), nr\. (\d+)", re.I)
_DATE = re.compile(r"^(?:Den Haag,|Datum)\s+(\d{1,2})\s+([a-z]+)\s+(\d{4})$", re.I)
_BETREFT = re.compile(r"^Betreft\s+(\S.*)$")
_OWN_REF = re.compile(r"^(?:Onze referentie|Ons kenmerk)\s+(\S+)$", re.I)
_OFFICE = re.compile(r"^(?:BRIEF|ANTWOORD|NOTA)\s+VAN\s+(?:DE|HET)\s+((?:MINISTERS?|STAATSSECRETARIS(?:SEN)?|MINISTER-PRESIDENT)\b.*)$")
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
# The document's own date first (the letter's, the answer's receipt), then its publication.
DATE_FIELDS = ("OVERHEIDop.datumBrief", "OVERHEIDop.datumOntvangst", "OVERHEIDop.datumIndiening", "DCTERMS.issued",
               "DCTERMS.available", "DC.date")
_CHAMBERS = ("Tweede Kamer der Staten-Generaal", "Eerste Kamer der Staten-Generaal", "Staten-Generaal")
_TYPE_CUT = re.compile(r"\s+VAN\s+(?:DE|HET)\s+(?:LID|LEDEN|MINISTERS?|MINISTER-PRESIDENT|STAATSSECRETARIS(?:SEN)?|"
                       r"VASTE\s+COMMISSIE|COMMISSIE)\b.*$")


def dossier_label(dossier: str) -> str:
    """"32824" or "32 824" → "32 824" (the printed form); a toevoeging stays: "36800-XV" → "36 800 XV"."""
    m = re.match(r"^(\d{2}) ?(\d{3})[\s-]?(.*)$", dossier.strip())
    if not m:
        return dossier.strip()
    return f"{m.group(1)} {m.group(2)}" + (f" {m.group(3).strip()}" if m.group(3).strip() else "")


def reference(dossier: str, number: str) -> str:
    """"Kamerstuk 32 824, nr. 445", the way the Kamer cites its papers."""
    return f"Kamerstuk {dossier_label(dossier)}, nr. {int(number)}"


def official_url(ident: str) -> str:
    """The publication's page on officielebekendmakingen.nl for an identifier such as "kst-32824-445"."""
    return f"{OB_URL}/{ident}.html"


def kamerstuk_ident(dossier: str, number: str) -> str:
    """"32 824" + "445" → "kst-32824-445" ("36 800 XV" → "kst-36800-XV-12"), the identifier officiële
    bekendmakingen publishes a Kamerstuk under."""
    label = dossier_label(dossier).split(" ")
    return "-".join(["kst", label[0] + label[1], *label[2:], str(int(number))])


def iso_date(day: str, month: str, year: str) -> str | None:
    """("21", "november", "2024") → "2024-11-21"; None for a word that is no Dutch month."""
    try:
        m = MONTHS.index(month.lower()) + 1
    except ValueError:
        return None
    return f"{int(year):04d}-{m:02d}-{int(day):02d}"


def title_case(caps: str) -> str:
    """A printed head in capitals in Dutch title case: "STAATSSECRETARIS VAN SOCIALE ZAKEN EN WERKGELEGENHEID"
    → "Staatssecretaris van Sociale Zaken en Werkgelegenheid" (small words lower case)."""
    words = caps.split()
    out = []
    for i, word in enumerate(words):
        lower = word.lower()
        out.append(lower if i and lower in _SMALL else "-".join(p[:1].upper() + p[1:] for p in lower.split("-")))
    return " ".join(out)


def doc_type(stuk_title: str) -> str | None:
    """A Kamerstuk's type from its printed title: "BRIEF VAN DE MINISTER …" → "Kamerbrief", "LIJST VAN
    VRAGEN EN ANTWOORDEN" → "Lijst van vragen en antwoorden", "MOTIE VAN HET LID …" → "Motie"."""
    title = " ".join(stuk_title.split()).upper()
    if not title:
        return None
    if title.startswith("BRIEF "):
        return "Kamerbrief"
    kind = _TYPE_CUT.sub("", title)
    return kind[:1] + kind[1:].lower()


def office(stuk_title: str) -> str | None:
    """The office that sent a Kamerstuk: "BRIEF VAN DE STAATSSECRETARIS VAN SOCIALE ZAKEN …" →
    "Staatssecretaris van Sociale Zaken …"; None when the title names none."""
    m = _OFFICE.match(" ".join(stuk_title.split()).upper())
    return title_case(m.group(1)) if m else None


def read_head(lines: list[str], limit: int = 40) -> dict[str, tuple[str, str]]:
    """Fields a document's printed head gives, from its first ``limit`` non-empty lines (and the running
    header anywhere in them): {field: (value, "how it was found")} for reference, title, doc_type, author,
    date and url. Nothing is guessed: a field the head does not print is absent."""
    lines = [" ".join(line.split()) for line in lines if line.strip()][:limit]
    found: dict[str, tuple[str, str]] = {}
    for i, line in enumerate(lines):
        nr = _NR.match(line)
        if nr and "reference" not in found:
            dossier = next((m for m in map(_DOSSIER.match, reversed(lines[max(0, i - 3):i])) if m), None)
            if dossier:
                stuk = [nr.group(2)]
                for more in lines[i + 1:i + 4]:  # the title wraps in capitals
                    if more.upper() != more or _DATE.match(more):
                        break
                    stuk.append(more)
                title = " ".join(s for s in stuk if s)
                found["reference"] = (reference(dossier.group(1) + dossier.group(2), nr.group(1)), "first page: dossier and Nr.")
                found["url"] = (official_url(kamerstuk_ident(dossier.group(1) + dossier.group(2), nr.group(1))),
                                "from the Kamerstuk number")
                if doc_type(title):
                    found["doc_type"] = (doc_type(title), "first page: the Kamerstuk's title")
                if office(title):
                    found["author"] = (office(title), "first page: the Kamerstuk's title")
        running = _RUNNING.search(line)
        if running and "reference" not in found:
            found["reference"] = (reference(*running.groups()), "running header")
            found["url"] = (official_url(kamerstuk_ident(*running.groups())), "from the Kamerstuk number")
        date = _DATE.match(line)
        if date and "date" not in found and iso_date(*date.groups()):
            found["date"] = (iso_date(*date.groups()), "first page: " + ("Den Haag, <date>" if line.startswith("Den")
                                                                       else "Datum"))
        subject = _BETREFT.match(line)
        if subject and "title" not in found:
            found["title"] = (subject.group(1), "first page: Betreft")
        own = _OWN_REF.match(line)
        if own and "own" not in found:
            found["own"] = (own.group(1), "first page: Onze referentie")
    own = found.pop("own", None)
    if own and "reference" not in found:  # a Kamerstuk number is the better reference
        found["reference"] = own
    return found


def from_fields(fields: dict[str, list[str]], kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """Metadata from the officiële-bekendmakingen fields (DC.*, DCTERMS.*, OVERHEIDop.*) as the XML's
    ``<meta>`` elements and the HTML page's ``<meta name=…>`` tags carry them: (fields, where each was
    read, as "<kind> <field name>"). Names match case-insensitively."""
    first = {k.lower(): v[0] for k, v in fields.items() if v}
    meta: dict[str, str] = {}
    sources: dict[str, str] = {}

    def put(name: str, value: str | None, where: str) -> None:
        if value and name not in meta:
            meta[name], sources[name] = value, f"{kind} {where}"

    for name in ("OVERHEIDop.documenttitel", "DC.title", "DCTERMS.title"):
        put("title", first.get(name.lower()), name)
    for name in DATE_FIELDS:
        value = first.get(name.lower(), "")[:10]
        put("date", value if _ISO.match(value) else None, name)
    dossier, number = first.get("overheidop.dossiernummer"), first.get("overheidop.ondernummer", "")
    if dossier and number.isdigit():
        put("reference", reference(dossier, number), "OVERHEIDop.dossiernummer and ondernummer")
    for name in ("DC.identifier", "DCTERMS.identifier"):
        ident = first.get(name.lower(), "")
        if ident.startswith(("http://", "https://")):
            put("url", ident, name)
        elif re.match(r"^(kst|ah-tk|ah-ek|stcrt|stb|h-tk|h-ek|blg)-[\w-]+$", ident):
            put("url", official_url(ident), name)
    record = first.get("overheidop.externmetadatarecord", "")
    if record.endswith("/metadata.xml"):
        put("url", record[: -len("/metadata.xml")] + ".html", "OVERHEIDop.externMetadataRecord")
    if dossier and number.isdigit():
        put("url", official_url(kamerstuk_ident(dossier, number)), "from the Kamerstuk number")
    put("doc_type", first.get("dc.type"), "DC.type")
    indieners = "; ".join(v for k, vs in fields.items() if k.lower() == "overheidop.indiener" for v in vs)
    put("author", indieners, "OVERHEIDop.indiener")
    creator = first.get("dc.creator")
    put("author", creator if creator not in _CHAMBERS else None, "DC.creator")  # a chamber publishes, not writes
    return meta, sources
