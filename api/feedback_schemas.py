"""Request and response models of POST/GET /v1/feedback (the rest of the API's are in api/schemas.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, field_validator
from pydantic_core import PydanticCustomError

from api.schemas import NO_CONTROL, QUESTION_SCHEMA, Strict
from rag.service import QueryError, check_characters, is_blank


FEEDBACK_COMMENT_MAX = 2000


def _refuse_control(text: str, subject: str) -> str:
    """``text`` if it passes the character rule of the questions asked (rag/service.check_characters);
    else a 422 naming ``subject`` and the position: refused, not cleaned (it would reach SQLite and the CSV)."""
    try:
        check_characters(text, subject)
    except QueryError as exc:
        raise PydanticCustomError("invalid_characters", str(exc)) from None
    return text


PassageId = Annotated[str, Field(min_length=1, max_length=200, json_schema_extra={"pattern": NO_CONTROL}),
                      AfterValidator(lambda text: _refuse_control(text, "the passage id"))]


class FeedbackRequest(Strict):
    """A citizen's verdict on one answer of POST /v1/ask, with what it was about."""

    answer_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="The answer_id of the /v1/ask response")
    rating: Literal["up", "down"] = Field(description="up: useful, down: not useful")
    comment: str = Field("", max_length=FEEDBACK_COMMENT_MAX, description="Optional, in the citizen's own words; "
                         "no control character but tab, line feed and carriage return",
                         json_schema_extra={"pattern": NO_CONTROL})
    question: str = Field(min_length=1, max_length=20_000, description="The question that was answered (not blank, "
                          "no control character but tab, line feed and carriage return, as a question asked)",
                          json_schema_extra=QUESTION_SCHEMA)
    answer: str = Field("", max_length=50_000, description="The answer text as shown; no control character but "
                        "tab, line feed and carriage return", json_schema_extra={"pattern": NO_CONTROL})
    passage_ids: list[PassageId] = Field(
        [], max_length=50, description="The cited passages, in [n] order; no control character but tab, line feed "
        "and carriage return")
    mode: Literal["extractive", "generative", "plain"] | None = Field(None, description="mode_used of the answer")
    language: str | None = Field(None, pattern=r"^[a-z]{2}$", description="language of the answer")
    abstained: StrictBool | None = Field(None, description="The answer said the documents do not cover the question")

    @field_validator("question")
    @classmethod
    def _not_blank(cls, question: str) -> str:
        if is_blank(question):  # the same rule as the questions asked (rag/service.is_blank)
            raise ValueError("the question is blank")
        return question

    @field_validator("question", "comment", "answer")
    @classmethod
    def _no_control(cls, text: str, info) -> str:
        return _refuse_control(text, f"the {info.field_name}")


class FeedbackCreated(BaseModel):
    id: int
    created_at: str
    answer_id: str


class FeedbackItem(BaseModel):
    id: int
    created_at: str = Field(description="UTC, ISO 8601")
    answer_id: str
    rating: Literal["up", "down"]
    comment: str
    question: str
    answer: str
    passage_ids: list[str]
    mode: str | None = None
    language: str | None = None
    abstained: bool | None = None
    request_id: str | None = Field(None, description="Of the request that sent the feedback, as in the logs")


class FeedbackList(BaseModel):
    count: int = Field(description="All rows that match, not just this page")
    limit: int
    offset: int
    items: list[FeedbackItem] = Field(description="Newest first")
