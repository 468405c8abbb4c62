"""Dated answers: every cited source says when it spoke, in the asker's language.

The one place where an answer's text gets its dates; extractive, plain and generative answers (and
their streams) all pass through a :class:`Dater` after verification, so the verifier never sees what
it adds. Per answer sentence:

* the first sentence that cites a document opens with that document's **date label**, e.g. "Brief van
  21 november 2024: Momenteel werk ik …" / "Letter of 21 November 2024: …"; a source older than
  the answer's newest by a year or more, on a question about the present, is labelled as an
  **earlier** statement ("Eerder, brief van december 2013: …"); on a question about a named past time,
  a newer one as **later**;
* **relative time words** are resolved against the date of the source the sentence cites, in square
  brackets after the word, leaving the quote itself verbatim: "in februari van dit jaar [= 2013]",
  "momenteel [stand december 2013]". Never "[2013]": a bracketed number is a citation marker to
  every parser here (rag/answer/sentences.py, the web page) and to Open WebUI.

:func:`strip_annotations` removes all of it again (for judging an answer's sentences, for chat
history), :func:`read_labels` reads the labels back (the eval harness). Dates are formatted by Babel
(CLDR month names; Polish and Ukrainian in the genitive after "z"/"від").
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field

from babel.dates import format_date

from rag.answer import dating_words as W
from rag.answer.sentences import parse_markers, split_spans
from rag.search.recency import date_key, span
from rag.types import DocumentMeta

EARLIER_DAYS = 365  # an older source counts as an earlier statement when it is this much older than the newest


# ---------------------------------------------------------------------------------------------- dates

def _lang(language: str | None) -> str:
    return language if language in W.LANGUAGES else W.FALLBACK


def days_between(a: str, b: str) -> int:
    """Days from ISO day ``b`` to ISO day ``a``."""
    return (datetime.date.fromisoformat(a) - datetime.date.fromisoformat(b)).days


def when(meta: DocumentMeta | None, language: str, standalone: bool = False) -> str | None:
    """The document's date in ``language``: "21 november 2024", "december 2013", "2013", "maart 2025 of
    later"; Polish/Ukrainian in the genitive unless ``standalone`` (nominative). None without a date."""
    if meta is None:
        return None
    lang = _lang(language)
    if meta.date_source == "derived-bound" and meta.date_bound:
        return W.OR_LATER[lang].format(when=_format(meta.date_bound, lang, standalone))
    return _format(meta.date, lang, standalone) if meta.date else None


@functools.lru_cache(maxsize=512)
def _format(iso: str, lang: str, standalone: bool) -> str:
    parts = iso.split("-")
    try:
        if len(parts) == 3:
            return format_date(datetime.date.fromisoformat(iso), "d MMMM y", locale=lang)
        if len(parts) == 2:
            return format_date(datetime.date(int(parts[0]), int(parts[1]), 1), "LLLL y" if standalone else "MMMM y",
                               locale=lang)
    except ValueError:
        return iso
    return W.YEAR[lang].format(year=parts[0])


def kind_of(meta: DocumentMeta) -> str:
    """"letter", "answers", "memorandum" or "document", from the doc_type (else the title)."""
    text = f"{meta.doc_type or ''} {meta.title or ''}".lower()
    if re.search(r"memorie|nota naar aanleiding", text):
        return "memorandum"
    if re.search(r"antwoord|vragen", text) and not re.search(r"\bbrief\b", meta.doc_type or ""):
        return "answers"
    if "brief" in text:
        return "letter"
    return "document"


def label(meta: DocumentMeta | None, language: str, role: str | None = None) -> str | None:
    """"brief van 21 november 2024", with ``role`` "earlier"/"later": "Eerder, brief van …"; None undated."""
    lang = _lang(language)
    moment = when(meta, lang)
    if moment is None:
        return None
    text = W.LABEL[lang].format(kind=W.KINDS[kind_of(meta)][lang], when=moment)
    if role:
        text = W.ROLE_JOIN[lang].format(role=(W.EARLIER if role == "earlier" else W.LATER)[lang], label=text)
    return text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------- relative words

def _alternation(words) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_EDGE_L, _EDGE_R = r"(?<![\w\-])", r"(?![\w\-]|\s\[)"  # whole words, not already resolved
_YEAR_RX = [(offset, re.compile(_EDGE_L + f"(?:{_alternation(ws)})" + _EDGE_R, re.IGNORECASE))
            for offset, ws in W.YEAR_WORDS.items()]
_AS_OF_RX = re.compile(_EDGE_L + f"(?:{_alternation(W.AS_OF_WORDS)})" + _EDGE_R, re.IGNORECASE)
_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
              "november", "december")
_LAST_NEXT_RX = re.compile(r"(?<![\w])(?:\d{1,2}\s+)?(?P<month>" + "|".join(_MONTHS_NL) + r")\s+"
                           r"(?:(?P<last>" + W.LAST_NEXT["last"] + r")|(?P<next>" + W.LAST_NEXT["next"] + r"))"
                           r"(?!\s\[)", re.IGNORECASE)


def _source_year(meta: DocumentMeta) -> int | None:
    """The year of the document when it is certain (a date, or a bound inside the date's year)."""
    s = span(meta)
    if s is None or s[0][:4] != s[1][:4]:
        return None
    return int(s[0][:4])


def resolve(sentence: str, meta: DocumentMeta | None, language: str) -> str:
    """``sentence`` with its relative time words resolved against ``meta``'s date (see the module
    docstring); unchanged when the date cannot resolve them."""
    if meta is None or span(meta) is None:
        return sentence
    lang = _lang(language)
    year = _source_year(meta)
    inserts: list[tuple[int, int, str]] = []  # (start, end, bracket text)
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, text: str) -> None:
        if not any(a < m.end() and m.start() < b for a, b in taken):
            taken.append((m.start(), m.end()))
            inserts.append((m.start(), m.end(), text))

    first, _ = span(meta)
    month = int(first[5:7]) if meta.date and len(meta.date) >= 7 else None
    for m in _LAST_NEXT_RX.finditer(sentence):
        if year is None:
            continue
        said = _MONTHS_NL.index(m.group("month").lower()) + 1
        if month is None:
            continue  # "22 november jl." in a document dated only by year: 2012 or that year
        got = year - (said > month) if m.group("last") else year + (said < month)
        add(m, f"= {got}")
    if year is not None:
        for offset, rx in _YEAR_RX:
            for m in rx.finditer(sentence):
                add(m, f"= {year + offset}")
    moment = when(meta, lang, standalone=True)
    for m in _AS_OF_RX.finditer(sentence):
        add(m, W.AS_OF[lang].format(when=moment))
    for start, end, text in sorted(inserts, reverse=True):
        sentence = f"{sentence[:end]} [{text}]{sentence[end:]}"
    return sentence


# ---------------------------------------------------------------------------------------- the dater

@dataclass
class Dater:
    """Dates one answer. ``passages[n-1]`` is source [n]; ``language`` the asker's; ``frame`` the
    question's time (rag/search/recency.py: ``.present`` and ``.years``) or None; ``planned``: the
    source numbers the answer is going to cite, when known (a stream may not know them all)."""

    passages: list
    language: str
    frame: object | None = None
    planned: list[int] | None = None
    labelled: set[int] = field(default_factory=set)
    labelled_docs: set[str] = field(default_factory=set)
    labels: dict[int, str] = field(default_factory=dict)  # source n → its document's label as written
    seen: list[int] = field(default_factory=list)  # sources cited so far (a stream dates piece by piece)

    def meta(self, n: int) -> DocumentMeta | None:
        return self.passages[n - 1].document if 1 <= n <= len(self.passages) else None

    def role(self, n: int, cited: list[int]) -> str | None:
        """"earlier", "later" or None for source [n] among the ``cited`` (planned or cited so far)."""
        key = date_key(self.meta(n))
        if key is None or self.frame is None:
            return None
        years = getattr(self.frame, "years", None)
        if years:  # a question about a named past time: what came after it is "later"
            return "later" if key[:4] > str(max(years)) else None
        if not getattr(self.frame, "present", False):
            return None
        keys = [k for k in (date_key(self.meta(c)) for c in cited) if k]
        newest = max(keys, default=key)
        return "earlier" if days_between(newest, key) >= EARLIER_DAYS else None

    def sentence(self, rendered: str) -> str:
        """One answer sentence (with its [n] markers) with date labels for the sources it is the first
        to cite and its relative time words resolved. Roles are judged among the planned sources and
        those cited so far."""
        _, cited = parse_markers(rendered)
        cited = [n for n in cited if self.meta(n) is not None]
        self.seen += [n for n in cited if n not in self.seen]
        if not cited:
            return rendered
        context = list(self.planned or []) + self.seen
        text = resolve(rendered, self.meta(cited[0]), self.language)
        lang = _lang(self.language)
        labels = []
        for n in cited:
            doc = self.meta(n).id
            if n in self.labelled or doc in self.labelled_docs:
                continue  # one label per document: two passages of one letter are one statement's time
            self.labelled.add(n)
            self.labelled_docs.add(doc)
            item = label(self.meta(n), lang, self.role(n, context))
            if item:
                labels.append(_capital(item) if not labels else item)
                self.labels[n] = labels[-1]
        if not labels:
            return text
        for m, p in enumerate(self.passages, start=1):  # another passage of a labelled document shares its label
            if m not in self.labels and p.document.id in self.labelled_docs:
                self.labels[m] = next(self.labels[k] for k in self.labels if self.meta(k).id == p.document.id)
        return W.LABEL_SEP[lang].join(labels) + W.LABEL_END[lang] + text

    def text(self, text: str) -> str:
        """A whole answer (or a streamed piece of complete sentences) dated sentence by sentence; the
        white space between sentences is kept."""
        out, pos = [], 0
        for s in split_spans(text):
            out.append(text[pos:s.start])
            out.append(self.sentence(s.text))
            pos = s.end
        out.append(text[pos:])
        return "".join(out)


def as_of(passages, cited: list[int]) -> str | None:
    """The date of the answer's newest cited source (its ``date``, or "YYYY-MM" from a bound alone)."""
    best = None
    for n in cited:
        meta = passages[n - 1].document if 1 <= n <= len(passages) else None
        key = date_key(meta)
        if key and (best is None or key > best[0]):
            best = (key, meta.date or meta.date_bound)
    return best[1] if best else None


def horizon_notice(meta: DocumentMeta, language: str, channel: str, years: int) -> str:
    """"Let op: de nieuwste bron … is van december 2013, meer dan 3 jaar geleden. Actuele informatie …"."""
    lang = _lang(language)
    return W.HORIZON[lang].format(when=when(meta, lang), years=years, channel=channel)


def older_than(meta: DocumentMeta | None, years: int, today: datetime.date | None = None) -> bool:
    """True when the whole period ``meta``'s date allows ends more than ``years`` years before ``today``."""
    s = span(meta)
    if s is None or years <= 0:
        return False
    today = today or datetime.date.today()
    try:
        horizon = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        horizon = today.replace(year=today.year - years, day=28)
    return min(s[1], "9999-12-31") < horizon.isoformat()


# --------------------------------------------------------------------------------- reading back

def _template_rx(template: str, **parts: str) -> str:
    out = re.escape(template)
    for name, rx in parts.items():
        out = out.replace(re.escape("{" + name + "}"), rx)
    return out


_WHEN = r"[^:;؛\[\]\n]{1,60}?"
_KINDS_RX = _alternation(re.escape(k[lang]) for k in W.KINDS.values() for lang in W.LANGUAGES)
_ONE_LABEL = "(?:" + "|".join(_template_rx(W.LABEL[lang], kind=f"(?:{_KINDS_RX})", when=_WHEN)
                              for lang in W.LANGUAGES) + ")"
_ROLES = {"earlier": _alternation(map(re.escape, W.EARLIER.values())), "later": _alternation(map(re.escape, W.LATER.values()))}
_ROLE_RX = re.compile(rf"^(?P<role>{_ROLES['earlier']}|{_ROLES['later']})[,،] ", re.IGNORECASE)
_ITEM = rf"(?:(?:{_ROLES['earlier']}|{_ROLES['later']})[,،] )?{_ONE_LABEL}"
_PREFIX_RX = re.compile(rf"(?P<prefix>{_ITEM}(?:[;؛] {_ITEM})*): ", re.IGNORECASE)
_BRACKET_RX = re.compile(r" \[(?:= [^\]\n]{1,30}|" + "|".join(_template_rx(t, when=r"[^\]\n]{1,40}")
                                                             for t in W.AS_OF.values()) + r")\]")
_NOTICE_RX = re.compile(r"\s*(?:" + "|".join(_template_rx(t, when=r"[^\n]{1,60}?", years=r"\d+", channel=r"[^\n]+?")
                                             for t in W.HORIZON.values()) + r")\s*$")


# A label opens a sentence: at the start of the text or a line, or after the previous sentence's markers
# (not found by split_spans in Arabic text, whose letters have no capitals to start a sentence with).
_LABEL_AT = re.compile(r"(?:^|(?<=\])[ \t]+)" + _PREFIX_RX.pattern, re.IGNORECASE | re.MULTILINE)
_MARKER_RUN = re.compile(r"(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")


def strip_annotations(text: str) -> str:
    """``text`` without what :class:`Dater` added: date labels, resolved time words, the horizon notice."""
    text = _NOTICE_RX.sub("", text)
    text = _LABEL_AT.sub(lambda m: m.group(0)[:len(m.group(0)) - len(m.group(0).lstrip())], text)
    return _BRACKET_RX.sub("", text)


def read_labels(text: str, documents: dict[int, str] | None = None) -> dict[int, dict]:
    """The date labels of an answer, per source number: ``{"label": "brief van …", "role": "earlier"|"later"|None}``;
    a source the text cites without a label is absent. ``documents`` (source number → document id) lets a
    label cover every source of its document, as :class:`Dater` writes one label per document."""
    text = _NOTICE_RX.sub("", text)
    doc = (documents or {}).get
    by_doc: dict[object, dict] = {}
    cited_all: list[int] = []
    for m in _LABEL_AT.finditer(text):
        run = _MARKER_RUN.search(text, m.end())
        cited = parse_markers(run.group(0))[1] if run else ()
        new = []
        for n in cited:
            if doc(n, n) not in by_doc and doc(n, n) not in [doc(x, x) for x in new]:
                new.append(n)
        for n, item in zip(new, re.split(r"[;؛] ", m.group("prefix"))):
            role = _ROLE_RX.match(item)
            kind = None
            if role:
                word = role.group("role").lower()
                kind = "earlier" if any(word == e.lower() for e in W.EARLIER.values()) else "later"
            by_doc[doc(n, n)] = {"label": item, "role": kind}
    for s in split_spans(text):
        cited_all += [n for n in parse_markers(s.text)[1] if n not in cited_all]
    for run in _MARKER_RUN.finditer(text):
        cited_all += [n for n in parse_markers(run.group(0))[1] if n not in cited_all]
    return {n: by_doc[doc(n, n)] for n in cited_all if doc(n, n) in by_doc}


def has_notice(text: str) -> bool:
    """Does the answer end with the horizon notice?"""
    return bool(_NOTICE_RX.search(text))
