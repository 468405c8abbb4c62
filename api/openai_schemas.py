"""Request and response models of the OpenAI-compatible endpoints (api/openai_compat.py): what
``POST /v1/chat/completions`` takes and gives, and ``GET /v1/models``' list.

The request models are tolerant (unknown OpenAI parameters are accepted and ignored), unlike the
Vraagbaak API's own (api/schemas.py). A message is a :class:`UserMessage` or an :class:`OtherMessage`
by its ``role``, so the document can state what only a user's message must be: a question, like
/v1/ask's (not blank, at most VRAAGBAAK_MAX_QUERY_CHARS, no control characters; as a string or as one
text part among other parts). api/openapi.py writes those rules into the document (the limit is a
setting), and that ``messages`` contains at least one user message; api/openai_compat.py enforces
them, with the API's own error codes.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat

from api.schemas import CitationOut, LlmInfo, PersonalReferralOut, ReferralOut, json_int

MODELS = {"vraagbaak": "auto", "vraagbaak-extractive": "extractive", "vraagbaak-generative": "generative",
          "vraagbaak-plain": "plain"}


# ---------------------------------------------------------------- request


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow")


class ContentPart(_Tolerant):
    type: str
    text: str | None = None


class _Message(_Tolerant):
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: the text ones, in order (images are ignored)
            return "\n".join(p.text for p in self.content if p.type == "text" and p.text)
        return self.content or ""

    def text_parts(self) -> int | None:
        """How many text parts the content has; None for a string (or no content)."""
        return sum(p.type == "text" for p in self.content) if isinstance(self.content, list) else None


class UserMessage(_Message):
    """A question: the last user message is the one answered, the earlier ones are history."""

    role: Literal["user"]


class OtherMessage(_Message):
    """Assistant turns are history; system, developer, tool and function messages are ignored."""

    role: Literal["system", "developer", "assistant", "tool", "function"]


ChatMessage = Annotated[Union[UserMessage, OtherMessage], Field(discriminator="role")]


class StreamOptions(_Tolerant):
    include_usage: StrictBool | None = False


class ChatCompletionRequest(_Tolerant):
    # The enum is stated, not enforced: another name is OpenAI's 404 model_not_found, not a 422.
    model: str = Field("vraagbaak", description="vraagbaak, vraagbaak-extractive or vraagbaak-generative",
                       json_schema_extra={"enum": list(MODELS)})
    messages: list[ChatMessage] = Field(min_length=1, max_length=500)
    stream: StrictBool | None = False
    stream_options: StreamOptions | None = None
    # JSON numbers and integers as the schema says: "0.5", true or "1" are refused, not converted.
    n: json_int(1, 1) | None = Field(None, description="Only 1 is supported")
    temperature: StrictFloat | None = Field(None, description="Accepted and ignored")
    max_tokens: json_int(1, 2**31 - 1) | None = Field(None, description="Accepted and ignored")
    user: str | None = Field(None, description="Accepted and ignored")
    top_k: json_int(1, 20) | None = Field(None, description="Vraagbaak extension: passages given to the answer")
    mode: Literal["auto", "extractive", "generative", "plain"] | None = Field(
        None, description="Vraagbaak extension: overrides the mode the model name implies")


# ---------------------------------------------------------------- response


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class VraagbaakInfo(BaseModel):
    mode_used: str
    abstained: bool
    grounded: bool
    unsupported_sentences: list[str]
    fallback_reason: str | None = None
    as_of: str | None = Field(None, description="The date of the answer's newest cited source (as /v1/ask's as_of)")
    referral: ReferralOut | None = None
    personal_referral: PersonalReferralOut | None = None
    llm: LlmInfo
    task: str | None = Field(None, description="The chat-UI background task this was answered as (title, tags, "
                                               "follow_ups, …), without retrieval; null for a question")


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[CitationOut] = Field(description="Source [n] is citations[n-1]")
    sources: list[dict] | None = Field(None, description="The citations in Open WebUI's source format "
                                                          "(api/chat_sources.py), in the same order")
    vraagbaak: VraagbaakInfo


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "vraagbaak"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
