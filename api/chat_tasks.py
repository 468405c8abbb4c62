"""Chat-UI background tasks (title, tags, follow-up suggestions, …), recognised and answered without answering.

Open WebUI 0.12.4 sends these to the chat's own model as one user message built from a fixed
template (backend ``config.py``: ``DEFAULT_TITLE_GENERATION_PROMPT_TEMPLATE``, ``DEFAULT_TAGS_…``,
``DEFAULT_FOLLOW_UP_…``, ``DEFAULT_QUERY_…``, ``DEFAULT_AUTOCOMPLETE_…``; ``routers/tasks.py`` builds the
request, ``stream: false``). Nothing in the forwarded request marks it as a task: the ``metadata`` with
``task`` is removed before it is sent (``routers/openai.py``, ``generate_chat_completion``), and no
header carries it unless an admin configures one. So a task is recognised by its prompt: it starts
with ``### Task:`` and asks for a JSON object whose key names the task. The chat history comes inside
``<chat_history>`` as ``USER: …`` / ``ASSISTANT: …`` lines (``utils/misc.py``, ``get_messages_content``).

Replies are in the JSON shape Open WebUI parses (``utils/middleware.py``, ``background_tasks_handler``;
``utils/task.py``, ``parse_follow_ups``): ``{"title": str}``, ``{"tags": [str]}``,
``{"follow_ups": [str]}`` (≤ 5, each ≤ 400 characters), ``{"queries": [str]}``, ``{"text": str}``.
All in the asker's language (nl, en, tr, ar, pl, uk). Titles and follow-up suggestions come from
Vraagbaak's own topics (rag/answer/topics.py): a title is the topic's name, a suggestion a citizen
question the documents answer (checked by retrieval and the answerability decision), never the text
of a parliamentary question in the documents. Tags are the topic and the cited documents' names. The
cited passages are remembered per process for the last :data:`REMEMBERED` answers (the task arrives
after the answer, with the answer's text in its history).
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass

from api.chat_sources import cited_numbers, document_name, strip_footer
from api.chat_text import asker_language, notices

REMEMBERED = 256  # answers kept for their tasks; Open WebUI asks within seconds of the answer
TASK_LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")  # the tasks' words exist in these; Dutch when none can be told
_TASK_HEAD = re.compile(r"^\s*###\s*Task:", re.I)
_JSON_KEY = re.compile(r'"(title|tags|follow_ups|queries|text|prompt)"\s*:')
_KIND = {"title": "title", "tags": "tags", "follow_ups": "follow_ups", "queries": "queries",
         "text": "autocomplete", "prompt": "image_prompt"}
_EMOJI_HEAD = "Your task is to reflect the speaker's likely facial expression"
_HISTORY = re.compile(r"<chat_history>\n?(.*?)\n?</chat_history>", re.S)
_TURN = re.compile(r"^(USER|ASSISTANT|SYSTEM|TOOL|DEVELOPER): ?", re.M)


@dataclass(frozen=True)
class Task:
    kind: str  # title | tags | follow_ups | queries | autocomplete | image_prompt | emoji | other
    turns: tuple[tuple[str, str], ...]  # (role, text) from <chat_history>, oldest first

    def last(self, role: str) -> str:
        return next((text for r, text in reversed(self.turns) if r == role), "")


def recognise(prompt: str) -> Task | None:
    """The background task ``prompt`` asks for, or None for a question."""
    if prompt.lstrip().startswith(_EMOJI_HEAD):
        return Task("emoji", ())
    if not _TASK_HEAD.match(prompt):
        return None
    instructions, _, _ = prompt.partition("<chat_history>")
    key = _JSON_KEY.search(instructions)
    history = _HISTORY.search(prompt)
    if key is None and history is None:  # not one of Open WebUI's tasks (its RAG template goes in a system message)
        return None
    kind = _KIND[key.group(1)] if key else "other"
    turns = []
    if history:
        parts = _TURN.split(history.group(1))
        turns = [(parts[i].lower(), parts[i + 1].strip()) for i in range(1, len(parts) - 1, 2)]
    return Task(kind, tuple(turns))


# ---------------------------------------------------------------- answers remembered for their tasks


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()[:200]


def _answer_key(text: str) -> str:
    text = strip_footer(text or "")
    for notice in notices():
        text = text.replace(notice, "")
    return _norm(text)


@dataclass(frozen=True)
class Remembered:
    question: str
    language: str
    cited: tuple  # the passages the answer cited (rag.types.Passage), in order of first citation


class RecentAnswers:
    """The last :data:`REMEMBERED` chat answers, found again by the start of their question and text
    (Open WebUI cuts long history messages in the middle, so the start survives)."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], Remembered] = OrderedDict()

    def remember(self, question: str, answer) -> None:
        passages = answer.passages or ()
        cited = tuple(passages[n - 1] for n in cited_numbers(answer.text, len(passages)))
        key = (_norm(question), _answer_key(answer.text))
        self._items[key] = Remembered(question, answer.language or asker_language(question, TASK_LANGUAGES, "nl"),
                                      cited)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def find(self, question: str, answer_text: str) -> Remembered | None:
        key = (_norm(question), _answer_key(answer_text))
        if key in self._items:
            return self._items[key]
        for (_, text), item in reversed(self._items.items()):  # the question may be cut: the answer decides
            if text and text == key[1] and item.cited:
                return item
        return None


# ---------------------------------------------------------------- replies

# A chat's title when its question is about none of Vraagbaak's topics (rag/answer/topics.py).
GENERAL_TITLE = {"nl": "Vraag over integratiebeleid", "en": "Question about integration policy",
                 "tr": "Uyum politikası hakkında soru", "ar": "سؤال عن سياسة الاندماج",
                 "pl": "Pytanie o politykę integracyjną", "uk": "Питання про інтеграційну політику"}
GENERAL_TAG = {"nl": "Algemeen", "en": "General", "tr": "Genel", "ar": "عام", "pl": "Ogólne", "uk": "Загальне"}


async def make_title(question: str, language: str, topics) -> str:
    """A short noun phrase in ``language``: the title of the topic the question is about, else
    "Question about integration policy" in that language."""
    title = await topics.title(question, language) if topics is not None and question.strip() else None
    return title or GENERAL_TITLE.get(language, GENERAL_TITLE["en"])


async def make_tags(found: Remembered | None, question: str, language: str, topics) -> list[str]:
    """The question's topic (in ``language``), then the cited documents' names ("Kamerstuk 32 824,
    nr. 451": numbers, the same in every language); "General" in ``language`` when there is neither."""
    tags: list[str] = []
    title = await topics.title(question, language) if topics is not None and question.strip() else None
    if title:
        tags.append(title)
    for passage in (found.cited if found else ()):
        name = document_name(passage.document)
        if name not in tags:
            tags.append(name)
    return tags[:5] or [GENERAL_TAG.get(language, GENERAL_TAG["en"])]


async def make_follow_ups(found: Remembered | None, language: str, topics, limit: int = 3) -> list[str]:
    """Vraagbaak's own citizen questions in ``language`` that the documents answer, next to the answered
    question (rag/answer/topics.py); [] after an answer without sources or when none is related."""
    if not found or not found.cited or topics is None:
        return []
    return await topics.suggestions(found.question, [p.chunk.id for p in found.cited], language, limit)


async def reply(task: Task, memory: RecentAnswers, topics) -> str:
    """The reply text for ``task``: the JSON object its prompt asks for (an emoji for the emoji task).
    ``topics``: rag.answer.topics.Topics for titles and suggestions, or None (no engine yet)."""
    question, answer = task.last("user"), task.last("assistant")
    language = asker_language(question, TASK_LANGUAGES, "nl")
    if task.kind == "title":
        return json.dumps({"title": await make_title(question, language, topics)}, ensure_ascii=False)
    if task.kind == "emoji":
        return "🙂"
    found = memory.find(question, answer) if answer else None
    if task.kind == "tags":
        return json.dumps({"tags": await make_tags(found, question, language, topics)}, ensure_ascii=False)
    if task.kind == "follow_ups":
        return json.dumps({"follow_ups": await make_follow_ups(found, language, topics)}, ensure_ascii=False)
    if task.kind == "queries":
        return json.dumps({"queries": [question[:500]] if question else []}, ensure_ascii=False)
    if task.kind == "autocomplete":
        return json.dumps({"text": ""})
    if task.kind == "image_prompt":
        return json.dumps({"prompt": ""})
    return "{}"
