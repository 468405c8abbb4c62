"""Citations a person can check: document, date, Kamerstuk, "Vraag 57", section, page (PDF), exact span, link."""

from __future__ import annotations

from rag.types import Chunk, Citation, DocumentMeta

MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december"]


def human_date(date: str | None) -> str | None:
    """ISO (possibly partial) → Dutch: "2013-03-05" → "5 maart 2013", "2013-12" → "december 2013"."""
    if not date:
        return None
    parts = date.split("-")
    try:
        if len(parts) == 3:
            return f"{int(parts[2])} {MONTHS[int(parts[1]) - 1]} {parts[0]}"
        if len(parts) == 2:
            return f"{MONTHS[int(parts[1]) - 1]} {parts[0]}"
    except (ValueError, IndexError):
        pass
    return date


def question_label(numbers: tuple[int, ...] | list[int]) -> str | None:
    numbers = sorted(set(numbers))
    if not numbers:
        return None
    if len(numbers) == 1:
        return f"Vraag {numbers[0]}"
    return "Vragen " + ", ".join(map(str, numbers[:-1])) + f" en {numbers[-1]}"


def page_label(page: int | None, page_end: int | None) -> str | None:
    """"p. 12", "pp. 12–13", or None (no page: not a PDF)."""
    if page is None:
        return None
    return f"p. {page}" if page_end in (None, page) else f"pp. {page}–{page_end}"


def passage_url(url: str | None, page: int | None) -> str | None:
    """The document's official URL; a PDF's opens at the passage's page (``#page=N``, read by PDF viewers)."""
    if url and page and url.lower().split("#")[0].endswith(".pdf"):
        return f"{url.split('#')[0]}#page={page}"
    return url


SECTION_SEPARATOR = " › "  # between the headings of a section path (rag/ingest/parse.py)


def _same_words(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def without_title(where: str | None, title: str) -> str | None:
    """``where`` (a section path or "Vraag 57") without a leading heading that is the document's title: a .txt
    document without metadata is titled by its first line, which is mostly its first heading too, and its label
    said it twice ("1 Inleiding, 1 Inleiding"; "Vraag 1 (…), Vraag 1"). None when nothing else is left."""
    if not where:
        return where
    first, _, rest = where.partition(SECTION_SEPARATOR)
    if not _same_words(first, title):
        return where
    return rest or None


def make_citation(chunk: Chunk, meta: DocumentMeta, extra_questions: tuple[int, ...] = ()) -> Citation:
    numbers = tuple(sorted(set(chunk.question_numbers) | set(extra_questions)))
    source = meta.reference or meta.title
    when = human_date(meta.date)
    if meta.date_source == "derived-bound" and meta.date_bound:  # rag/ingest/dates.py: only "not before" is known
        when = f"{human_date(meta.date_bound)} of later"
    label = source + (f" ({when})" if when else "")
    if meta.reference:
        label = f"{meta.title}, {label}"
    where = without_title(question_label(numbers) if numbers else chunk.section, meta.title)
    if where:
        label += f", {where}"
    pages = page_label(chunk.page, chunk.page_end)
    if pages:
        label += f", {pages}"
    return Citation(
        doc_id=meta.id,
        title=meta.title,
        date=meta.date,
        reference=meta.reference,
        section=chunk.section,
        question_numbers=numbers,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        label=label,
        page=chunk.page,
        page_end=chunk.page_end,
        url=passage_url(meta.url, chunk.page),
    )
