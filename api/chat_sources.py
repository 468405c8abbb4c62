"""Sources for chat UIs: Open WebUI's source events, short labels, and the plain-text ``Bronnen:`` footer.

Open WebUI 0.12.4 (backend ``utils/middleware.py``, ``streaming_chat_response_handler``) passes the
``event`` of a streamed chunk to its event emitter; a ``{"type": "source", "data": …}`` event is stored
with the message (``socket/main.py``, ``get_event_emitter``: appended to the message's ``sources``), so
it survives a reload. Its frontend (``Citations.svelte``, ``ContentRenderer.svelte``) numbers sources by
their distinct ``metadata[i].source`` in arrival order: ``[n]`` in the text opens the n-th. So every
passage of ``citations`` gets one event, in order, each with its own passage id as ``metadata.source``.
Chip labels are ``metadata.name``; longer than 30 characters they are cut to "first 15...last 10".
A ``source``/``name`` that starts with ``http`` makes the browser fetch a favicon from a third-party
site, so the document's official URL goes only in ``source.url`` (a link in the pop-up). No
``distances``: they would be shown as a "relevance" percentage, which our scores are not.

A non-streamed reply cannot carry events; Open WebUI's frontend takes a top-level ``sources`` list of
the same objects (``chatCompletionEventHandler``) and shows it at once, but its backend does not store
it (``non_streaming_chat_response_handler`` saves only the content and usage).
"""

from __future__ import annotations

import dataclasses
import re

from rag.answer.sentences import MARKER, parse_markers
from rag.search.citations import human_date

LABEL_MAX = 30  # Open WebUI cuts longer chip labels to "15...10" characters
_FOOTER_HEAD = {"nl": "Bronnen:", "en": "Sources:", "tr": "Kaynaklar:", "ar": "المصادر:", "pl": "Źródła:",
                "uk": "Джерела:"}
# An abstention lists the closest passages as related ones (its notice promises them "below").
_RELATED_HEAD = {"nl": "Verwante passages:", "en": "Related passages:", "tr": "İlgili pasajlar:",
                 "ar": "مقاطع ذات صلة:", "pl": "Powiązane fragmenty:", "uk": "Пов'язані уривки:"}
# "- n: label", a Markdown bullet list that reads the same as plain text. Not "[n]": Open WebUI's
# citation extension (src/lib/utils/marked/citation-extension.ts) makes a source chip of any "[" + digit,
# so every line would repeat its label in a chip; its Markdown escape "\[n]" shows the backslash in a
# plain-text client. Not "n." items either: Markdown renumbers a list (the cited [1] and [3] would show as
# 1 and 2), and a list starting at 3 runs on into the head's line.
_FOOTER_LINE = "- {n}: {label}"
# The footer as it is now, or as it was ("\[n] label"), in an assistant turn sent back as history.
_FOOTER = re.compile(r"\n\n(?:" + "|".join(re.escape(h) for h in (*_FOOTER_HEAD.values(), *_RELATED_HEAD.values()))
                     + r")\n(?:(?:- \d+: |\\?\[\d+\])[^\n]*(?:\n|$))+\s*$")
_MARKER = re.compile(r"\[(\d+)\]")
_KAMERSTUK = re.compile(r"^Kamerstuk\s+(\d[\d ]*\d|\d+),\s*nr\.\s*(\d+)$")
_ABBREVIATIONS = (("nadere memorie van antwoord", "nadere MvA"), ("memorie van antwoord", "MvA"),
                  ("memorie van toelichting", "MvT"), ("(Eerste Kamer)", "(EK)"), ("(Tweede Kamer)", "(TK)"))
_NUMBERED_HEAD = re.compile(r"^\s*(?:\d+[.)]?|[IVX]+\.)\s+")


def cited_numbers(text: str | None, count: int) -> list[int]:
    """The source numbers ``text`` cites ([n] markers), in order of first use, within 1..count."""
    seen: list[int] = []
    for m in _MARKER.finditer(text or ""):
        n = int(m.group(1))
        if 0 < n <= count and n not in seen:
            seen.append(n)
    return seen


def _fit(text: str, limit: int = LABEL_MAX) -> str:
    """``text`` cut at a word boundary to ``limit`` characters (with "…")."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:-–")
    return (cut or text[: limit - 1]) + "…"


def _year(date: str | None) -> str | None:
    return date[:4] if date and date[:4].isdigit() else None


def _abbreviated(kind: str) -> str:
    """A document type in the abbreviations parliament uses ("nadere memorie van antwoord (Eerste Kamer)"
    → "Nadere MvA (EK)")."""
    out = kind
    for long, short in _ABBREVIATIONS:
        out = re.sub(re.escape(long), short, out, flags=re.I)
    return out


def document_name(meta) -> str:
    """A document's shortest recognisable name, ≤ 30 characters: its Kamerstuk reference
    ("Kamerstuk 32 824, nr. 445"), else its type and date ("Kamerbrief 5 maart 2013", "Nadere MvA (EK)
    2013"), else its title's head."""
    reference = (meta.reference or "").strip()
    if _KAMERSTUK.match(reference) and len(reference) <= LABEL_MAX:
        return reference
    kind = (meta.doc_type or "").strip()
    for name in (kind, _abbreviated(kind)):
        for when in (human_date(meta.date), _year(meta.date)):
            if name and when and len(f"{name} {when}") <= LABEL_MAX:
                return f"{name[0].upper()}{name[1:]} {when}"
    head = re.split(r"[:(]", meta.title or meta.id, maxsplit=1)[0].strip() or meta.id
    return _fit(head)


def _compact(meta) -> str | None:
    """"Kst. 32 824-445" for a Kamerstuk reference: room for a question number beside it."""
    m = _KAMERSTUK.match((meta.reference or "").strip())
    return f"Kst. {m.group(1)}-{m.group(2)}" if m else None


def _questions(numbers) -> list[str]:
    """Ways to name the questions a passage answers, longest first: "vraag 96", "vragen 96 en 101",
    "vr. 96 en 101", "vr. 96 e.v."."""
    numbers = sorted(set(numbers))
    if not numbers:
        return []
    if len(numbers) == 1:
        return [f"vraag {numbers[0]}", f"vr. {numbers[0]}"]
    listed = ", ".join(map(str, numbers[:-1])) + f" en {numbers[-1]}"
    return [f"vragen {listed}", f"vr. {listed}", f"vr. {numbers[0]}–{numbers[-1]}", f"vr. {numbers[0]} e.v."]


def short_label(passage) -> str:
    """A chip label of at most 30 characters that starts with what identifies the document and then
    says where in it: "Kamerstuk 32 824, nr. 445", "Kst. 32 824-451, vraag 57", "Kst. 32 824-451, vr. 96
    en 101". The document comes first, so it stays whole where a client shortens the label further."""
    meta = passage.document
    name = document_name(meta)
    questions = _questions(passage.citation.question_numbers)
    if not questions:
        return name
    head = _compact(meta) or name
    for where in questions:
        for candidate in (f"{name}, {where}", f"{head}, {where}"):
            if len(candidate) <= LABEL_MAX:
                return candidate
    return _fit(f"{head}, {questions[-1]}")


def section_topic(section: str | None) -> str | None:
    """A section heading without its numbering ("2 Aanleiding …" → "Aanleiding …"); None for "Vraag N"."""
    if not section or section.lower().startswith(("vraag ", "vragen ")):
        return None
    return _NUMBERED_HEAD.sub("", section).strip() or None


def _document_text(passage) -> str:
    """What the pop-up shows: the full citation, the question a split answer belongs to, the passage."""
    chunk = passage.chunk
    parts = [f"**{passage.citation.label}**"]
    if chunk.context and chunk.context.strip() and chunk.context.strip() not in chunk.text:
        parts.append(f"*{chunk.context.strip()}*")
    parts.append(chunk.text)
    return "\n\n".join(parts)


def _longer_labels(passage) -> list[str]:
    """Labels (≤ 30 characters) that tell passages of one document apart: by section number or topic."""
    meta, section = passage.document, passage.chunk.section or ""
    name, number, topic = document_name(meta), re.match(r"^\s*(\d+)[.)]?\s", section), section_topic(section)
    out = [f"{name} §{number.group(1)}"] if number else []
    head = _compact(meta) or name
    if topic and len(head) + 2 + min(len(topic), 10) <= LABEL_MAX:  # room for a recognisable topic
        out.append(_fit(f"{head}, {topic}"))
    return [label for label in out if len(label) <= LABEL_MAX]


def labels(passages) -> list[str]:
    """A chip label per passage, ≤ 30 characters, distinct within one answer where the passages allow:
    the short label; for passages of one document that would share it, the label with the section
    ("Nadere MvA (EK) 2013 §2"); then a counter for the second and later ones ("… §2 (2)")."""
    out = [short_label(p) for p in passages]
    shared = [i for i, label in enumerate(out) if out.count(label) > 1]
    for i in shared:
        out[i] = next(iter(_longer_labels(passages[i])), out[i])
    seen: dict[str, int] = {}
    for i, label in enumerate(out):
        if out.count(label) > 1:
            seen[label] = seen.get(label, 0) + 1
            out[i] = f"{_fit(label, LABEL_MAX - 4)} ({seen[label]})" if seen[label] > 1 else label
    return out


def owui_source(passage, label: str | None = None) -> dict:
    """One Open WebUI source (the ``data`` of a ``source`` event): ``source {id, name, url?}``,
    ``document`` [the passage with its citation], ``metadata`` [{source: passage id, name: label}]."""
    label = label or short_label(passage)
    source = {"id": passage.chunk.id, "name": label}
    # The citation's link opens a PDF at the passage's page; else the document's official URL.
    url = getattr(passage.citation, "url", None) or getattr(passage.document, "url", None)
    if url and str(url).startswith(("https://", "http://")):
        source["url"] = url
    return {"source": source, "document": [_document_text(passage)],
            "metadata": [{"source": passage.chunk.id, "name": label}]}


def owui_sources(passages) -> list[dict]:
    """Open WebUI sources for ``passages`` in citation order: the n-th is what ``[n]`` opens."""
    passages = list(passages or ())
    return [owui_source(p, label) for p, label in zip(passages, labels(passages))]


class Shown:
    """The sources a chat shows for one answer: only the passages its text cites, numbered 1, 2, …
    in order of first citation (Open WebUI numbers sources by arrival, and shows every one it gets).

    ``text(delta)`` renumbers the markers of the next piece of answer text and returns it with the
    engine's numbers of the passages it cites for the first time, so a stream can send their
    ``source`` events right before that text; ``passages`` are the cited ones in shown order."""

    def __init__(self, passages) -> None:
        self.all = list(passages or ())
        self.order: list[int] = []  # engine numbers (1-based), in shown order

    def text(self, text: str) -> tuple[str, list[int]]:
        new: list[int] = []

        def renumber(m: re.Match) -> str:
            out = ""
            for n in parse_markers(m.group(0))[1]:
                if not 0 < n <= len(self.all):
                    continue
                if n not in self.order:
                    self.order.append(n)
                    new.append(n)
                out += f"[{self.order.index(n) + 1}]"
            return out

        return MARKER.sub(renumber, text or ""), new

    @property
    def passages(self) -> list:
        return [self.all[n - 1] for n in self.order]


def shown_answer(answer):
    """``answer`` as a chat shows it: its text renumbered and only the cited passages (an abstention as
    it is: its passages are the related ones, listed under their own heading)."""
    if answer.abstained:
        return answer
    shown = Shown(answer.passages)
    text, _ = shown.text(answer.text)
    labels = {shown.order.index(n) + 1: label for n, label in (getattr(answer, "date_labels", None) or {}).items()
              if n in shown.order}  # rag/answer/dating.py's labels, by the shown numbers
    return dataclasses.replace(answer, text=text, passages=shown.passages, date_labels=labels)


def strip_footer(text: str) -> str:
    return _FOOTER.sub("", text)


def sources_footer(answer) -> str:
    """"\\n\\nBronnen:\\n- 1: citation …" for the sources the text cites (in number order), or "";
    for an abstention, every passage under "Verwante passages:" (in the referral's language)."""
    passages = answer.passages or ()
    if answer.abstained:
        cited = list(range(1, len(passages) + 1))
        language = answer.referral.language if getattr(answer, "referral", None) else answer.language
        head = _RELATED_HEAD.get(language, _RELATED_HEAD["en"])
    else:
        cited = sorted(cited_numbers(answer.text, len(passages)))
        head = _FOOTER_HEAD.get(answer.language, _FOOTER_HEAD["nl"])
    if not cited:
        return ""
    lines = [_FOOTER_LINE.format(n=n, label=passages[n - 1].citation.label) for n in cited]
    return f"\n\n{head}\n" + "\n".join(lines)
