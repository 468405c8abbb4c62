"""Chunk: ParsedDocument → Chunks with stable ids and exact char spans.

* Q&A documents: one chunk per question group (the question(s) with their answer). A long answer
  is split on paragraph boundaries; later parts keep the question as ``context`` so they still
  retrieve on it. ``answer_key`` marks answers repeated verbatim under other questions, so
  retrieval can collapse the copies and cite every question number.
* Prose: paragraphs within one section, short ones merged forward until a chunk says something
  on its own; the section heading is the chunk's context.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from rag.types import Block, Chunk, ParsedDocument

# Bump when chunk boundaries or texts change: the index manifest records it, and an index
# built with another version refuses to load.
CHUNKER_VERSION = "1"

MIN_WORDS = 60  # shorter prose paragraphs are merged with the next one in their section
MAX_WORDS = 220  # merging stops here; a long answer is split into parts of about this size


def _words(text: str) -> int:
    return len(text.split())


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def _normalise(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _make_chunk(parsed: ParsedDocument, blocks: list[Block], **fields) -> Chunk:
    start, end = blocks[0].start, blocks[-1].end
    notes = tuple(f for f in parsed.footnotes if start <= f.offset <= end)
    ends = [b.page_end for b in blocks if b.page_end is not None]
    return Chunk(
        id="",
        doc_id=parsed.meta.id,
        text=parsed.text[start:end],
        char_start=start,
        char_end=end,
        footnotes=notes,
        page=blocks[0].page,
        page_end=max(ends) if ends else None,
        **fields,
    )


def _pack(blocks: list[Block], budget: int) -> list[list[Block]]:
    """Greedy: consecutive blocks into groups of at most ``budget`` words (a long block stands alone)."""
    groups: list[list[Block]] = []
    size = 0
    for block in blocks:
        n = _words(block.text)
        if groups and size + n <= budget:
            groups[-1].append(block)
            size += n
        else:
            groups.append([block])
            size = n
    return groups


def _qa_groups(blocks: tuple[Block, ...]) -> list[list[Block]]:
    groups: list[list[Block]] = []
    in_answer = False
    for block in blocks:
        if block.kind not in ("marker", "question", "answer"):
            continue
        starts_question = block.kind == "marker" and block.text.startswith("Vraag")
        if not groups or (starts_question and in_answer):
            groups.append([])
            in_answer = False
        groups[-1].append(block)
        if block.kind == "answer" or (block.kind == "marker" and block.text.startswith("Antwoord")):
            in_answer = True
    return groups


def _qa_chunks(parsed: ParsedDocument, group: list[Block]) -> list[Chunk]:
    answer_at = next((i for i, b in enumerate(group) if b.kind == "marker" and b.text.startswith("Antwoord")), len(group))
    head, answers = group[: answer_at + 1], group[answer_at + 1:]
    numbers = answers[0].question_numbers if answers else head[-1].question_numbers
    section = answers[0].section if answers else head[-1].section
    question = " ".join(b.text for b in head if b.kind == "question")
    answer_key = _digest(_normalise(" ".join(b.text for b in answers)))[:12]
    parts = _pack(answers, MAX_WORDS) if answers else [[]]
    chunks = []
    for i, part in enumerate(parts, start=1):
        blocks = head + part if i == 1 else part
        context = "" if i == 1 else f"{section}: {question}"
        chunks.append(
            _make_chunk(
                parsed,
                blocks,
                section=section,
                kind="qa",
                context=context,
                question_numbers=tuple(numbers),
                part=(i, len(parts)),
                answer_key=f"{answer_key}/{i}",
            )
        )
    return chunks


def _prose_chunks(parsed: ParsedDocument, blocks: list[Block]) -> list[Chunk]:
    chunks: list[Chunk] = []
    run: list[Block] = []

    def flush():
        if run:
            section = run[0].section
            chunks.append(_make_chunk(parsed, list(run), section=section, kind="paragraph", context=section or ""))
            run.clear()

    for block in blocks:
        if block.kind == "heading":
            flush()
            continue
        if run and (block.section != run[0].section or sum(_words(b.text) for b in run) >= MIN_WORDS
                    or sum(_words(b.text) for b in run) + _words(block.text) > MAX_WORDS):
            flush()
        run.append(block)
    flush()
    # A short tail (a closing line, a signature) joins the chunk before it in the same section.
    merged: list[Chunk] = []
    for chunk in chunks:
        prev = merged[-1] if merged else None
        if (prev and _words(chunk.text) < MIN_WORDS // 2 and prev.section == chunk.section
                and _words(prev.text) + _words(chunk.text) <= MAX_WORDS):
            merged[-1] = Chunk(
                id="", doc_id=prev.doc_id, text=parsed.text[prev.char_start:chunk.char_end],
                char_start=prev.char_start, char_end=chunk.char_end, section=prev.section, kind=prev.kind,
                context=prev.context, footnotes=prev.footnotes + chunk.footnotes,
                page=prev.page, page_end=chunk.page_end if chunk.page_end is not None else prev.page_end,
            )
        else:
            merged.append(chunk)
    return merged


def _with_stable_ids(chunks: list[Chunk]) -> list[Chunk]:
    """Ids from document id and content (not position), so unchanged chunks keep their ids."""
    seen: Counter[str] = Counter()
    out = []
    for chunk in chunks:
        base = f"{chunk.doc_id}#{_digest(chunk.doc_id, chunk.context, chunk.text)[:10]}"
        seen[base] += 1
        chunk_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
        out.append(Chunk(**{**chunk.__dict__, "id": chunk_id}))
    return out


def chunk_document(parsed: ParsedDocument) -> list[Chunk]:
    qa = [b for b in parsed.blocks if b.kind in ("marker", "question", "answer")]
    prose = [b for b in parsed.blocks if b.kind in ("heading", "paragraph")]
    chunks = _prose_chunks(parsed, prose)
    for group in _qa_groups(tuple(qa)):
        chunks.extend(_qa_chunks(parsed, group))
    chunks.sort(key=lambda c: c.char_start)
    return _with_stable_ids(chunks)
