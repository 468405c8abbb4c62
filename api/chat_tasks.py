"""Chat-UI background tasks (title, tags, follow-up suggestions, …), recognised and answered without retrieval.

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
Tags and follow-ups come from the passages the answer cited, remembered per process for the last
:data:`REMEMBERED` answers (the task arrives after the answer, with the answer's text in its history).
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass

from api.chat_sources import cited_numbers, document_name, section_topic, strip_footer
from api.chat_text import asker_language, notices

REMEMBERED = 256  # answers kept for their tasks; Open WebUI asks within seconds of the answer
TASK_LANGUAGES = ("nl", "en")  # the tasks' words (tags, follow-ups) exist in these; Dutch when none can be told
_TASK_HEAD = re.compile(r"^\s*###\s*Task:", re.I)
_JSON_KEY = re.compile(r'"(title|tags|follow_ups|queries|text|prompt)"\s*:')
_KIND = {"title": "title", "tags": "tags", "follow_ups": "follow_ups", "queries": "queries",
         "text": "autocomplete", "prompt": "image_prompt"}
_EMOJI_HEAD = "Your task is to reflect the speaker's likely facial expression"
_HISTORY = re.compile(r"<chat_history>\n?(.*?)\n?</chat_history>", re.S)
_TURN = re.compile(r"^(USER|ASSISTANT|SYSTEM|TOOL|DEVELOPER): ?", re.M)
_QUESTION_OF_QA = re.compile(r"^Vra(?:ag|gen) [\d, en]+\s*\n+(.*?)\n+Antwoord\b", re.S)
_TITLE_LEAD = re.compile(
    r"^(?:wat|waarom|hoe|wanneer|wie|welke?|waar|hoeveel|waardoor|what|why|how|when|who|which|where)\s+"
    r"(?:is|zijn|was|waren|wordt|worden|werd|werden|heeft|hebben|had|kan|kunnen|moet|moeten|mag|gaat|gaan|zal|"
    r"zullen|are|were|does|do|did|can|could|will|would|should|has|have)\s+(?:(?:de|het|een|the|a|an)\s+)?(.+)$",
    re.I)
TITLE_WORDS = 6
SUGGESTION_CHARS = 200


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


def make_title(question: str) -> str:
    """2–6 words from the question: "Waarom is het overleg … gestopt?" → "Overleg … gestopt"."""
    text = " ".join(question.split()).strip().rstrip("?!.").strip()
    m = _TITLE_LEAD.match(text)
    if m and m.group(1).strip():
        text = m.group(1).strip()
    words = text.split()
    title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return (title[:1].upper() + title[1:]) if title else "Vraagbaak"


def make_tags(found: Remembered | None, language: str) -> list[str]:
    """The cited documents' short names, then the cited sections' topics; "Algemeen" without sources."""
    tags: list[str] = []
    for passage in (found.cited if found else ()):
        name = document_name(passage.document)
        if name not in tags:
            tags.append(name)
    for passage in (found.cited if found else ()):
        topic = section_topic(passage.chunk.section)
        if topic and len(topic) <= 50 and topic not in tags:
            tags.append(topic)
    return tags[:5] or (["General"] if language == "en" else ["Algemeen"])


def qa_question(chunk) -> str | None:
    """The parliamentary question a Q&A passage answers, from its context or its own text."""
    context = (chunk.context or "").strip()
    if context.lower().startswith(("vraag", "vragen")) and ":" in context:
        return context.split(":", 1)[1].strip() or None
    m = _QUESTION_OF_QA.match(chunk.text or "")
    return " ".join(m.group(1).split()) if m else None


def _about(document: str, topic: str, language: str, more: bool) -> str:
    if language == "en":
        return f"What else does {document} say about {topic}?" if more else f"What does {document} say about {topic}?"
    return f"Wat staat er nog meer in {document} over {topic}?" if more else f"Wat staat er in {document} over {topic}?"


def make_follow_ups(found: Remembered | None, catalogue, limit: int = 3) -> list[str]:
    """Questions the documents answer, next to what the answer cited: the cited section's topic, and
    the neighbouring questions (Q&A documents) or sections of the cited passages. [] without sources."""
    if not found or not found.cited:
        return []
    asked = _norm(found.question)
    out: list[str] = []

    def add(text: str | None) -> None:
        if text and len(text) <= SUGGESTION_CHARS and _norm(text) != asked and text not in out:
            out.append(text)

    cited_topics = set()
    for passage in found.cited:
        topic = section_topic(passage.chunk.section)
        if topic and topic not in cited_topics:
            cited_topics.add(topic)
            add(_about(document_name(passage.document), topic, found.language, more=True))
    for passage in found.cited:  # Q&A documents: the questions just before and after the cited one
        neighbours = catalogue.neighbours(passage.chunk) if catalogue is not None else (None, None)
        for chunk in (neighbours[1], neighbours[0]):
            if chunk is not None and chunk.question_numbers and \
                    set(chunk.question_numbers) != set(passage.chunk.question_numbers):
                add(qa_question(chunk))
    for passage in found.cited:  # letters: the document's other sections, in reading order from the cited one
        siblings = catalogue.by_doc.get(passage.chunk.doc_id, []) if catalogue is not None else []
        start = catalogue.position.get(passage.chunk.id, 0) if catalogue is not None else 0
        for chunk in siblings[start:] + siblings[:start]:
            topic = section_topic(chunk.section)
            if topic and topic not in cited_topics:
                cited_topics.add(topic)
                add(_about(document_name(passage.document), topic, found.language, more=False))
    return out[:limit]


def reply(task: Task, memory: RecentAnswers, catalogue) -> str:
    """The reply text for ``task``: the JSON object its prompt asks for (an emoji for the emoji task)."""
    question, answer = task.last("user"), task.last("assistant")
    language = asker_language(question, TASK_LANGUAGES, "nl")
    if task.kind == "title":
        return json.dumps({"title": make_title(question)}, ensure_ascii=False)
    if task.kind == "emoji":
        return "🙂"
    found = memory.find(question, answer) if answer else None
    if task.kind == "tags":
        return json.dumps({"tags": make_tags(found, language)}, ensure_ascii=False)
    if task.kind == "follow_ups":
        return json.dumps({"follow_ups": make_follow_ups(found, catalogue)}, ensure_ascii=False)
    if task.kind == "queries":
        return json.dumps({"queries": [question[:500]] if question else []}, ensure_ascii=False)
    if task.kind == "autocomplete":
        return json.dumps({"text": ""})
    if task.kind == "image_prompt":
        return json.dumps({"prompt": ""})
    return "{}"
