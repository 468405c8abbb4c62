"""Request and response models of the Vraagbaak API (the OpenAI-compatible ones are in api/openai_schemas.py).

Requests are strict: an unknown field is a 422, so a typo (``topk``) is not silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from rag.search.stores.base import DATE_PATTERN, check_date
from rag.service import CONTROL_CHARACTERS, not_blank_pattern, question_pattern


ISO_DATE = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"  # ASCII digits: Python's \d takes "٢٠١٣"
# A date filter bound: the form is checked by ISO_DATE (its error in words: api/errors.py), the calendar
# by check_date (SearchFilters._real_date); the document states both as one pattern, DATE_PATTERN, which
# admits only real years (0001-9999), months and days.
PartialDate = Annotated[str, StringConstraints(pattern=ISO_DATE), Field(json_schema_extra={"pattern": DATE_PATTERN})]


# What a question must be, stated in the OpenAPI document: at least one character that is not
# whitespace, a control or a format character, and no control character but tab, line feed and carriage
# return (rag/service.question_pattern). The server checks it itself (api/deps.check_question) to answer
# 422 ``empty_question`` or ``invalid_question`` rather than a generic invalid_request; api/openapi.py
# adds ``maxLength`` from VRAAGBAAK_MAX_QUERY_CHARS (longer is 422 ``question_too_long``).
NOT_BLANK = not_blank_pattern()
QUESTION_SCHEMA = {"minLength": 1, "pattern": question_pattern()}
NO_CONTROL = f"^[^{CONTROL_CHARACTERS}]*$"  # other text (a feedback comment): the questions' character rule


def _json_integer(value):
    # JSON Schema's "integer" admits 9.0 (a number with no fraction) but not "9" or true.
    if isinstance(value, (bool, str)):
        raise PydanticCustomError("int_type", "expected a JSON integer, got {value}", {"value": repr(value)})
    return value


def json_int(ge: int, le: int):
    """A count in a request, ``ge``..``le``: an integer as JSON Schema defines it (5 and 5.0), never "5" or
    true. The bounds sit inside the type so the OpenAPI document states them (on ``X | None`` they are lost)."""
    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(_json_integer)]


class Strict(BaseModel):
    # Booleans are StrictBool and counts json_int in requests: JSON true/false and JSON integers only, as the
    # schema says (not 0/1/"yes" for a flag, not "5"/true for a count).
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- errors


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["top_k: Input should be less than or equal to 50"])
    request_id: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


# ---------------------------------------------------------------- passages


class DocumentRef(BaseModel):
    id: str
    title: str
    date: str | None = Field(None, description="ISO date, possibly partial (YYYY, YYYY-MM, YYYY-MM-DD)")
    reference: str | None = None
    date_source: str | None = Field(None, description="Where the date comes from: manifest (the corpus metadata or a sidecar), "
                                    "document (the file's own metadata: PDF info, HTML meta tags, XML), "
                                    "text (the document's date line) or derived-bound (only bounds: see date_bound)")
    date_bound: str | None = Field(None, description="The document is from this month (YYYY-MM) or later")
    url: str | None = Field(None, description="The document's official page, when known")


class FootnoteOut(BaseModel):
    number: int
    text: str


class PassageOut(BaseModel):
    """A retrieved passage with its citation (rag.types.Passage.to_dict)."""

    id: str = Field(description="Passage id; GET /v1/passages/{id} (url-encode the '#') shows it in context")
    rank: int
    score: float
    text: str
    context: str | None = Field(None, description="What frames the passage, e.g. the question a split answer belongs to")
    document: DocumentRef
    section: str | None = None
    question_numbers: list[int] = []
    char_start: int
    char_end: int
    footnotes: list[FootnoteOut] = []
    page: int | None = Field(None, description="PDF documents: the page the passage starts on (1-based, as a PDF "
                             "viewer counts); null for other formats")
    page_end: int | None = Field(None, description="PDF documents: the page the passage ends on")
    url: str | None = Field(None, description="Link to the passage's document (a PDF's at the passage's page), "
                            "when known")
    duplicates: list[str] = Field([], description="Ids of passages with the same text, collapsed into this one")
    citation: str = Field(description="Human-readable citation: document, reference, date, question or section, "
                          "page (PDF)")


# ---------------------------------------------------------------- search


class SearchFilters(Strict):
    doc_ids: list[str] | None = Field(None, min_length=1, max_length=100,
                                      description="Only these documents (ids from GET /v1/documents)")
    date_from: PartialDate | None = Field(None, description="Documents dated on or after: YYYY, YYYY-MM or "
                                          "YYYY-MM-DD, a real calendar day")
    date_to: PartialDate | None = Field(None, description="Documents dated on or before; a range that ends "
                                        "before it starts is 422 empty_date_range")

    @field_validator("date_from", "date_to")
    @classmethod
    def _real_date(cls, value: str | None) -> str | None:
        # ISO_DATE admits "2013-02-30" and "0000"; a real calendar day is checked here (as the CLI's --from does).
        if value is not None:
            try:
                check_date(value)
            except ValueError as exc:
                raise PydanticCustomError("date_not_real", str(exc)) from None
        return value


class SearchRequest(Strict):
    query: str = Field(description="The question, in any language (nl, en, tr, ar, pl, uk, …); not blank, "
                                   "at most VRAAGBAAK_MAX_QUERY_CHARS",
                       examples=["Waarom is de WOM ingetrokken?"], json_schema_extra=QUESTION_SCHEMA)
    top_k: json_int(1, 50) | None = Field(None, description="Passages to return (default VRAAGBAAK_TOP_K, 5)")
    filters: SearchFilters | None = None


class SearchResponse(BaseModel):
    query: str
    results: list[PassageOut]
    took_ms: float


# ---------------------------------------------------------------- ask


class UserTurn(Strict):
    """An earlier question: checked as one (api/deps.check_earlier_question), like a chat's earlier user
    messages; api/openapi.py adds ``maxLength`` (VRAAGBAAK_MAX_QUERY_CHARS)."""

    role: Literal["user"]
    content: str = Field(description="A question: not blank, at most VRAAGBAAK_MAX_QUERY_CHARS characters, no "
                                     "control character but tab, line feed and carriage return",
                         json_schema_extra=QUESTION_SCHEMA)


class AssistantTurn(Strict):
    """An earlier answer, as it was given."""

    role: Literal["assistant"]
    content: str = Field(max_length=20_000)


HistoryMessage = Annotated[UserTurn | AssistantTurn, Field(discriminator="role")]


class AskRequest(Strict):
    question: str = Field(description="Not blank, at most VRAAGBAAK_MAX_QUERY_CHARS characters",
                          examples=["Waarom is het overleg met minderhedenorganisaties gestopt?"],
                          json_schema_extra=QUESTION_SCHEMA)
    top_k: json_int(1, 20) | None = Field(None, description="Passages given to the answer (default 5)")
    mode: Literal["auto", "extractive", "generative", "plain"] = Field(
        "auto", description="auto: plain when an LLM is configured, else extractive; plain: the extractive answer's "
                            "sentences rewritten in plain language in the question's language, each verified against "
                            "its source sentence; generative: the LLM writes the answer from the passages")
    stream: StrictBool = Field(False, description="Server-Sent Events: sources, delta…, done (the full response)")
    history: list[HistoryMessage] = Field([], max_length=20, description="Earlier turns, oldest first, for follow-ups")


class CitationOut(PassageOut):
    n: int = Field(description="The number used in the answer's [n] markers")
    related: bool = Field(False, description="true when the answer abstained: the passage is one of the closest, "
                                             "related to the question but not an answer to it")
    date_label: str | None = Field(None, description="The date label this source's document has in the answer's "
                                   "text, as written there (\"Eerder, brief van december 2013\"); null when the text "
                                   "does not label it (not cited, an abstention, or the sources event of a stream)")


class SentenceOut(BaseModel):
    text: str
    citations: list[int]
    supported: bool
    score: float
    reasons: list[str] = []
    how: Literal["rewritten", "quoted"] | None = Field(
        None, description="plain answers: rewritten (a verified plain rewrite of `source`) or quoted (`source` "
                          "verbatim, as its rewrite failed a check or none was given)")
    source: str | None = Field(None, description="plain answers: the exact source sentence this sentence stands for")


class ReferralChannel(BaseModel):
    id: str = Field(description="The channel's key in data/referrals.json")
    name: str = Field(description="Official name (generic channels such as the gemeente in the referral's language)")
    url: str | None = Field(None, description="The organisation's own site, from the table; null for generic channels")
    does: str = Field(description="What the channel does for this topic, in the referral's language")


class ReferralOut(BaseModel):
    """Where to get the answer the documents do not give (data/referrals.json)."""

    topic: str | None = Field(None, description="The table's topic; null: the general pointer", examples=["digid"])
    channel: str = Field(description="The first channel's name", examples=["DigiD"])
    url: str | None = Field(None, description="Its official site, or null", examples=["https://www.digid.nl"])
    language: str = Field(description="Language of the referral texts (the question's, else en)", examples=["nl"])
    channels: list[ReferralChannel]
    method: Literal["keywords", "embedding", "general"] = Field(description="How the topic was found")


class PersonalReferralOut(ReferralOut):
    """Where to ask about one's own case when the answer gives the policy (data/referrals.json)."""

    text: str = Field(description="The line to show after the answer, in the referral's language",
                      examples=["Voor uw eigen situatie: DUO (https://duo.nl) – voert de inburgering uit."])


class LlmInfo(BaseModel):
    model: str | None = None
    error: str | None = None


class AskResponse(BaseModel):
    answer_id: str = Field(description="A new id for this answer: what POST /v1/feedback refers to",
                           examples=["5f0c6f0e3b8a4d6f9f1f8f2a7c1e9b20"])
    question: str
    answer: str = Field(description="The answer; every sentence ends with [n] markers, or it says the documents do not cover the question. "
                        "The first sentence citing a document opens with its date label in the question's language "
                        "(\"Brief van 21 november 2024: …\"; an older statement: \"Eerder, brief van december 2013: …\"); "
                        "relative time words in a quote are resolved in brackets (\"dit jaar [= 2013]\"); an answer about the "
                        "present whose newest source is older than VRAAGBAAK_DATE_HORIZON_YEARS ends with a notice saying so")
    as_of: str | None = Field(None, description="The date of the answer's newest cited source (ISO, possibly partial: "
                              "YYYY, YYYY-MM or YYYY-MM-DD); null for an abstention or undated sources",
                              examples=["2024-11-21"])
    citations: list[CitationOut]
    mode_used: Literal["extractive", "generative", "plain"] | str
    abstained: bool
    grounded: bool
    unsupported_sentences: list[str]
    sentences: list[SentenceOut] = []
    fallback_reason: str | None = None
    language: str | None = Field(None, description="The question's language as detected (ISO 639-1: nl, en, tr, ar, "
                                                    "pl, uk, de, fr, es); extractive answers quote the Dutch documents")
    referral: ReferralOut | None = Field(None, description="Set when abstained: where the asker can get the answer")
    personal_referral: PersonalReferralOut | None = Field(
        None, description="Set when the question is about the asker's own case and is answered: the documents give "
                          "the policy, this channel the personal case. Show `text` as a line of its own after the answer")
    llm: LlmInfo
    took_ms: float


# ---------------------------------------------------------------- documents and passages


class DocumentSummary(BaseModel):
    id: str
    title: str
    date: str | None = None
    date_source: str | None = Field(None, description="manifest, document (the file's own metadata), text (its date line) or derived-bound (see date_bound)")
    date_bound: str | None = Field(None, description="The document is from this month (YYYY-MM) or later")
    doc_type: str | None = None
    reference: str | None = None
    author: str | None = None
    url: str | None = None
    derived: dict[str, str] = Field({}, description="Fields read from the document itself (no manifest or sidecar "
                                    "value), each with where: {\"title\": \"PDF info Title\"}")
    passage_count: int


class DocumentList(BaseModel):
    count: int
    documents: list[DocumentSummary]


class PassageBrief(BaseModel):
    id: str
    text: str
    section: str | None = None
    question_numbers: list[int] = []
    char_start: int
    char_end: int
    page: int | None = Field(None, description="PDF documents: the page the passage starts on")
    page_end: int | None = None


class DocumentDetail(DocumentSummary):
    passages: list[PassageBrief] = Field(description="The document's passages in reading order")


class PassageDetail(BaseModel):
    id: str
    text: str
    context: str | None = None
    section: str | None = None
    question_numbers: list[int] = []
    char_start: int
    char_end: int
    footnotes: list[FootnoteOut] = []
    page: int | None = Field(None, description="PDF documents: the page the passage starts on (1-based)")
    page_end: int | None = Field(None, description="PDF documents: the page it ends on")
    citation: str
    url: str | None = Field(None, description="Link to the passage's document (a PDF's at the passage's page)")
    document: DocumentSummary
    previous: PassageBrief | None = Field(None, description="The passage before this one in the same document")
    next: PassageBrief | None = Field(None, description="The passage after this one in the same document")


# ---------------------------------------------------------------- operations


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class SkippedFile(BaseModel):
    file: str = Field(description="File name in the corpus folder")
    reason: str = Field(description="Why it is not indexed, e.g. 'the file is empty'")


class FlaggedDocument(BaseModel):
    file: str = Field(description="File name in the corpus folder")
    sentences: list[str] = Field(description="Its sentences addressed to the model (\"negeer alle eerdere "
                                             "instructies …\"): indexed, never quoted, sent to an LLM or taken "
                                             "as support")


class Readiness(BaseModel):
    status: Literal["ready"] = "ready"
    documents: int
    passages: int
    index: str
    embedding_model: str
    answer_engine: bool
    llm_configured: bool
    warm: bool = Field(description="The background warm-up after loading is done: latency is at its steady state")
    skipped_files: list[SkippedFile] = Field([], description="Corpus files left out of the index, and why")
    flagged_documents: list[FlaggedDocument] = Field([], description="Documents holding instructions to the model")


class ReindexRequest(Strict):
    force: StrictBool = Field(False, description="Rebuild even when the index matches the corpus")
    wait: StrictBool = Field(False, description="Answer when the rebuild is done instead of at once (202)")


class ReindexStatus(BaseModel):
    state: Literal["idle", "running", "succeeded", "failed"]
    force: bool
    started_at: float | None = None
    finished_at: float | None = None
    status: str | None = None
    documents: int | None = None
    passages: int | None = None
    embedded: int | None = None
    seconds: float | None = None
    swapped: bool
    error: str | None = None
    skipped_files: list[SkippedFile] = Field([], description="Corpus files this rebuild left out, and why")
    flagged_documents: list[FlaggedDocument] = Field([], description="Documents of this rebuild holding "
                                                                     "instructions to the model")
