"""Small typed objects that cross the pipeline's boundaries.

load → Document; parse → ParsedDocument (clean text + Blocks + Footnotes);
chunk → Chunk; retrieve → Passage (a Chunk with score, rank and Citation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class DocumentMeta:
    id: str
    title: str
    date: str | None = None  # ISO date, possibly partial ("2013", "2013-12")
    doc_type: str | None = None
    reference: str | None = None  # Kamerstuk or letter reference, as a person would cite it
    author: str | None = None
    url: str | None = None
    file: str | None = None  # source file name in the corpus folder
    # Where ``date`` comes from (rag/ingest/dates.py): "manifest" (manifest or sidecar), "document" (the
    # file's own metadata, see ``derived``), "text" (the
    # document's date line) or "derived-bound" (only bounds: ``date_bound`` is the earliest it can be);
    # None when there is no date at all.
    date_source: str | None = None
    date_bound: str | None = None  # ISO month: the document is from this month or later ("2025-03")
    # Fields read from the document itself (no manifest or sidecar value), each with where it was read:
    # {"title": "PDF info Title", "reference": "XML OVERHEIDop.dossiernummer/ondernummer"} (rag/ingest/formats/).
    derived: dict[str, str] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SourceBlock:
    """A paragraph or heading as a structured format (HTML, XML) marks it up. Footnote markers stand in
    ``text`` as rag/ingest/pages.py's sentinels (FN_OPEN n FN_CLOSE); Vraag/Antwoord markers as the text
    parser reads them ("Vraag 12", "Antwoord", "Antwoord op vraag 21 en 22"), each a block of its own."""

    text: str
    heading: bool | None = None  # True: a heading by markup; None: the text parser's heuristics decide


@dataclass(frozen=True)
class Document:
    meta: DocumentMeta
    raw_text: str  # the text as read (PDF: pages separated by form feeds); structured formats: their blocks' text
    blocks: tuple[SourceBlock, ...] = ()  # HTML, XML: the document's own structure; empty: parse raw_text
    footnotes: tuple[tuple[int, str], ...] = ()  # (number, text) of the footnotes whose markers ``blocks`` hold
    paged: bool = False  # raw_text's form feeds are real page breaks (PDF): blocks and chunks carry page numbers


@dataclass(frozen=True)
class Footnote:
    number: int
    text: str
    offset: int  # where its marker stood in the cleaned document text


@dataclass(frozen=True)
class Block:
    """A unit of cleaned text: a heading, a paragraph, or a question / answer of a Q&A document."""

    kind: str  # "heading" | "paragraph" | "question" | "answer"
    text: str
    start: int  # char offsets into ParsedDocument.text
    end: int
    section: str | None = None
    question_numbers: tuple[int, ...] = ()  # for question/answer blocks: the question(s) they belong to
    page: int | None = None  # PDF: the page (1-based, as a viewer counts) where the block starts
    page_end: int | None = None  # … and where it ends


@dataclass(frozen=True)
class ParsedDocument:
    meta: DocumentMeta
    text: str  # the cleaned text: no hyphenation breaks, page furniture or footnotes
    blocks: tuple[Block, ...]
    footnotes: tuple[Footnote, ...] = ()


@dataclass(frozen=True)
class Chunk:
    id: str  # stable: derived from document id and content, never from run order
    doc_id: str
    text: str  # exactly ParsedDocument.text[char_start:char_end]
    char_start: int
    char_end: int
    section: str | None = None
    kind: str = "paragraph"  # "paragraph" | "qa"
    context: str = ""  # text that frames the span for retrieval (e.g. the question of a split answer)
    question_numbers: tuple[int, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    part: tuple[int, int] = (1, 1)  # (i, n) when a long answer is split
    answer_key: str | None = None  # hash of the answer text: equal keys are verbatim repeats
    page: int | None = None  # PDF: first page of the span (1-based, the PDF's own page order); None otherwise
    page_end: int | None = None  # PDF: last page of the span

    @property
    def retrieval_text(self) -> str:
        """What is embedded and indexed: the span framed by its context."""
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    date: str | None
    reference: str | None
    section: str | None
    question_numbers: tuple[int, ...]
    char_start: int
    char_end: int
    label: str  # human-readable, e.g. "Kamerstuk 32 824, nr. 445 (21 november 2024), «Actieagenda Integratie»"
    page: int | None = None  # PDF: the page the passage starts on (1-based)
    page_end: int | None = None  # PDF: the page it ends on
    url: str | None = None  # the document's official URL, when known


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    document: DocumentMeta
    score: float
    rank: int
    citation: Citation
    duplicates: tuple[str, ...] = ()  # ids of chunks with the same answer, collapsed into this one
    scores: dict = field(default_factory=dict, compare=False)  # per-channel scores, for debugging

    def to_dict(self) -> dict:
        c = self.chunk
        return {
            "id": c.id,
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "text": c.text,
            "context": c.context or None,
            "document": {
                "id": self.document.id,
                "title": self.document.title,
                "date": self.document.date,
                "reference": self.document.reference,
                "date_source": self.document.date_source,
                "date_bound": self.document.date_bound,
                "url": self.document.url,
            },
            "section": c.section,
            "question_numbers": list(self.citation.question_numbers),
            "char_start": c.char_start,
            "char_end": c.char_end,
            "footnotes": [{"number": f.number, "text": f.text} for f in c.footnotes],
            "page": self.citation.page,
            "page_end": self.citation.page_end,
            "url": self.citation.url,
            "duplicates": list(self.duplicates),
            "citation": self.citation.label,
        }


@dataclass(frozen=True)
class SentenceCheck:
    """One answer sentence and whether the passages it cites support it."""

    text: str
    citations: tuple[int, ...]  # source numbers [n] as shown to the reader (1-based)
    supported: bool
    score: float  # support score in [0, 1] from the verifier
    reasons: tuple[str, ...] = ()  # why not supported, e.g. "number 2019 not in cited passages"
    # Plain answers (rag/answer/rewrite.py): "rewritten" (the LLM's plain rewrite of ``source``, verified
    # against it) or "quoted" (``source`` itself, verbatim); None for extractive and generative answers.
    how: str | None = None
    source: str | None = None  # the verbatim source sentence this sentence stands for


@dataclass(frozen=True)
class Referral:
    """Where to ask when the documents do not answer (rag/answer/referral.py, data/referrals.json)."""

    topic: str | None  # a topic of the table; None: the general pointer (Informatie Rijksoverheid, the gemeente)
    channel: str  # the first channel's name, in ``language``
    url: str | None  # its official site from the table, or None (a generic channel such as "your gemeente")
    language: str  # the language of the texts (the asker's when the table has it, else English)
    channels: tuple[dict, ...] = ()  # every channel: {"name", "url", "does"}
    method: str = "general"  # how the topic was found: "keywords" | "embedding" | "general"

    def to_dict(self) -> dict:
        return {"topic": self.topic, "channel": self.channel, "url": self.url, "language": self.language,
                "channels": [dict(c) for c in self.channels], "method": self.method}


@dataclass
class Answer:
    """A grounded answer: text with [n] markers, and the numbered passages they point to."""

    question: str
    text: str  # every sentence ends with one or more [n] markers, or it is an abstention notice
    passages: list[Passage]  # cited sources; passages[n-1] is source [n]
    mode_used: str  # "extractive" | "generative" | "plain"
    abstained: bool = False
    grounded: bool = True  # every sentence passed verification
    sentences: list[SentenceCheck] = field(default_factory=list)
    unsupported_sentences: list[str] = field(default_factory=list)  # dropped or repaired
    llm_model: str | None = None
    llm_error: str | None = None
    fallback_reason: str | None = None  # why generative was not used or not kept
    language: str = "nl"
    took_ms: float = 0.0
    referral: Referral | None = None  # set on abstentions: where the asker can get the answer
    # rag/answer/answerable.py's Decision as a dict (answerable, probability, reason, related, features)
    answerability: dict | None = None
    as_of: str | None = None  # the date of the newest cited source (ISO, possibly partial); None: abstained or undated
    date_labels: dict = field(default_factory=dict)  # source n → its document's date label as written in ``text``
    # Set on answers to a question about the asker's own case (answerable.own_case): the documents give the
    # policy, this channel the personal case. Shown as a separate trailing line (referral.personal_line),
    # never inside ``text``, whose every sentence carries a citation.
    personal_referral: Referral | None = None
