"""Open WebUI 0.12.4's own requests replayed against the real server (tests/api/data/openwebui/, recorded
from a real Open WebUI by scripts/owui_check.py): a chat request with its tool definitions and
stream_options gets a source event per citation; its title, tags and follow-up tasks are answered
without retrieval, in the JSON Open WebUI parses, and never counted as questions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from api.chat_sources import LABEL_MAX, document_name, short_label
from api.chat_tasks import GENERAL_TAG, GENERAL_TITLE
from rag.answer.topics import load as load_topics

DATA = Path(__file__).parent / "data" / "openwebui"
MARKER = re.compile(r"\[(\d+)\]")


def fixture(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def question_of(body: dict) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else content[0]["text"]


def chat_history(turns: list[tuple[str, str]], cut: bool = False) -> str:
    """Open WebUI's rendering of a conversation in a task prompt (utils/misc.py get_messages_content);
    ``cut``: messages over 1,000 characters cut in the middle, as for follow-ups (utils/task.py)."""
    lines = []
    for role, text in turns:
        if cut and len(text) > 1000:
            text = f"{text[:498]}...{text[-499:]}"
        lines.append(f"{role.upper()}: {text}")
    return "\n".join(lines)


def with_history(body: dict, turns: list[tuple[str, str]], cut: bool = False) -> dict:
    """The recorded task request with another conversation in its <chat_history>."""
    body = json.loads(json.dumps(body))
    prompt = body["messages"][-1]["content"]
    head, _, rest = prompt.partition("<chat_history>\n")
    _, _, tail = rest.partition("\n</chat_history>")
    body["messages"][-1]["content"] = f"{head}<chat_history>\n{chat_history(turns, cut)}\n</chat_history>{tail}"
    return body


def task_json(reply: dict) -> dict:
    """What Open WebUI takes from a task reply (utils/middleware.py background_tasks_handler)."""
    content = reply["choices"][0]["message"]["content"]
    return json.loads(content[content.find("{"): content.rfind("}") + 1])


def metric(api, name: str, labels: str = "") -> float:
    text = api.get("/metrics").text
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def answers_total(api) -> float:
    text = api.get("/metrics").text
    return sum(float(v) for v in re.findall(r"^vraagbaak_answers_total\{[^}]*\} (\S+)$", text, re.M))


def stream_chat(api, body: dict) -> tuple[list[dict], str]:
    with api.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200, response.read()
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    return chunks, content


# ---------------------------------------------------------------- the recorded requests


def test_the_recorded_requests_are_open_webuis():
    chat = fixture("chat")
    assert chat["stream"] is True and "stream_options" not in chat  # only with the model's "usage" capability
    assert chat["tools"] and all(t["type"] == "function" and t["function"]["name"] for t in chat["tools"])
    assert "metadata" not in chat  # Open WebUI removes it before forwarding (routers/openai.py)
    for name, key in (("title", '"title"'), ("tags", '"tags"'), ("follow_ups", '"follow_ups"')):
        body = fixture(name)
        assert body["stream"] is False and len(body["messages"]) == 1
        prompt = body["messages"][0]["content"]
        assert prompt.startswith("### Task:") and "<chat_history>" in prompt and key in prompt


# ---------------------------------------------------------------- sources


def test_stream_has_a_source_event_per_citation(api):
    body = {**fixture("chat"), "stream_options": {"include_usage": True}}  # as with the "usage" capability on
    chunks, content = stream_chat(api, body)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    events = [c["event"] for c in chunks if "event" in c]
    assert all(c["choices"] == [] for c in chunks if "event" in c)
    final = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"] == "stop")
    citations = final["citations"]
    assert [e["type"] for e in events] == ["source"] * len(citations) and citations
    # Open WebUI's [n] opens the n-th distinct metadata.source: one event per citation, in order.
    for event, citation in zip(events, citations):
        data = event["data"]
        assert data["source"]["id"] == data["metadata"][0]["source"] == citation["id"]
        label = data["metadata"][0]["name"]
        assert label == data["source"]["name"] and 0 < len(label) <= LABEL_MAX
        assert not label.startswith("http") and not data["source"]["id"].startswith("http")  # no favicon fetches
        assert citation["text"] in data["document"][0] and citation["citation"] in data["document"][0]
        assert "distances" not in data and "type" not in data  # no relevance percentages; stored as a source
        assert "url" not in data["source"]  # the manifest has no URLs yet
    text, _, footer = content.partition("\n\nBronnen:\n")
    # Only cited passages are sources, numbered 1, 2, … in order of first citation.
    assert list(dict.fromkeys(int(n) for n in MARKER.findall(text))) == list(range(1, len(citations) + 1))
    # Each source event comes right before the text that first cites it.
    shown = 0
    for chunk in chunks:
        if "event" in chunk:
            shown += 1
        elif chunk["choices"] and (piece := chunk["choices"][0]["delta"].get("content")):
            assert all(int(n) <= shown for n in MARKER.findall(piece.partition("\n\nBronnen:")[0])), piece
    # "- n: label": no "[" + digit, which Open WebUI's citation tokenizer would make more chips of.
    lines = footer.splitlines()
    assert lines and all(re.match(r"- \d+: \S", line) for line in lines) and not re.search(r"\[\d|\\", footer)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert len({e["data"]["metadata"][0]["name"] for e in events}) == len(events)  # labels tell them apart


def test_the_sources_footer_reads_the_same_as_markdown_and_as_plain_text():
    """The footer's numbers are what the answer's [n] point to, as plain text (no Markdown escape to
    show) and rendered as Markdown: a bullet list keeps them ("1." items would be renumbered 1, 2, 3 by
    any CommonMark renderer when the answer cites [1] and [3]), and has no "[" + digit for Open WebUI."""
    from types import SimpleNamespace

    from api.chat_sources import sources_footer, strip_footer

    markdown_it = pytest.importorskip("markdown_it")
    passages = [SimpleNamespace(citation=SimpleNamespace(label=label)) for label in (
        "Kamerstuk 32 824, nr. 445", "Kamerbrief 5 maart 2013, Aanleiding", "Kamerstuk 32 824, nr. 451, vraag 57")]
    answer = SimpleNamespace(text="Het overleg is gestopt. [1] De wet is ingetrokken. [3]", passages=passages,
                             abstained=False, language="nl", referral=None)
    footer = sources_footer(answer)
    assert footer.splitlines() == ["", "", "Bronnen:", "- 1: Kamerstuk 32 824, nr. 445",
                                   "- 3: Kamerstuk 32 824, nr. 451, vraag 57"]
    html = markdown_it.MarkdownIt("commonmark").render(answer.text + footer)
    assert html.endswith("<p>Bronnen:</p>\n<ul>\n<li>1: Kamerstuk 32 824, nr. 445</li>\n"
                         "<li>3: Kamerstuk 32 824, nr. 451, vraag 57</li>\n</ul>\n"), html
    assert not re.search(r"\[\d", footer)
    # Taken off again when the reply comes back as history, and so is the earlier "\\[n]" form.
    assert strip_footer(answer.text + footer) == answer.text
    assert strip_footer(answer.text + "\n\nBronnen:\n\\[1] Kamerstuk 32 824, nr. 445\n\\[3] x") == answer.text


def test_plain_reply_carries_the_sources_as_open_webui_keeps_them(api):
    body = {**fixture("chat"), "stream": False}
    reply = api.post("/v1/chat/completions", json=body).json()
    assert [s["metadata"][0]["source"] for s in reply["sources"]] == [c["id"] for c in reply["citations"]]


def test_short_labels(service):
    labels = {short_label(p) for q in ("Waarom is de WOM ingetrokken?", "Wat staat er in vraag 57 over taal?",
                                       "Welke startbanen zijn er voor statushouders?")
              for p in service.search(q, top_k=10).passages}
    assert labels and all(0 < len(label) <= LABEL_MAX for label in labels), labels
    # The document's number first, then the question: "Kst. 32 824-451, vraag 57", "… vr. 96 en 101".
    questions = [label for label in labels if " vraag " in label or " vr. " in label or " vragen " in label]
    assert questions and all(label.startswith("Kst. 32 824-451, ") for label in questions), labels


# ---------------------------------------------------------------- background tasks


def test_title_task_takes_the_question_and_retrieves_nothing(api):
    before = (metric(api, "vraagbaak_retrieval_duration_seconds_count"), answers_total(api))
    reply = api.post("/v1/chat/completions", json=fixture("title"))  # as recorded: its first turn only
    assert reply.status_code == 200
    title = task_json(reply.json())["title"]
    assert 0 < len(title.split()) <= 7 and "?" not in title
    assert reply.json()["vraagbaak"]["task"] == "title" and reply.json()["citations"] == []
    for language, question in (("en", "Why was the minority consultation act withdrawn?"),
                               ("tr", "Hükümet işe alımda ayrımcılığa karşı ne yapıyor?"),
                               ("en", "Can I bring my cat to the Netherlands?")):
        body = with_history(fixture("title"), [("user", question), ("assistant", "")])
        title = task_json(api.post("/v1/chat/completions", json=body).json())["title"]
        assert title in {t.title[language] for t in load_topics()} | {GENERAL_TITLE[language]}, (question, title)
    assert (metric(api, "vraagbaak_retrieval_duration_seconds_count"), answers_total(api)) == before
    assert metric(api, "vraagbaak_chat_tasks_total", '{task="title"}') >= 2


def test_tags_and_follow_ups_come_from_the_cited_passages(api, service):
    chat = fixture("chat")
    question = question_of(chat)
    chunks, content = stream_chat(api, chat)
    final = next(c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"] == "stop")
    cited = [final["citations"][int(n) - 1] for n in dict.fromkeys(MARKER.findall(content.partition("\n\nBronnen")[0]))]
    assert cited
    before = answers_total(api)

    tags = task_json(api.post("/v1/chat/completions", json=with_history(
        fixture("tags"), [("user", question), ("assistant", content)])).json())["tags"]
    assert tags and all(isinstance(t, str) and t for t in tags)
    names = {document_name(service.index.documents[c["document"]["id"]]) for c in cited}
    assert names & set(tags) and tags[0] in {t.title["nl"] for t in load_topics()} | names, (tags, names)

    # Long enough to be refused as a question (2,000 characters): earlier turns and the answer.
    turns = [("user", question), ("assistant", content), ("user", question), ("assistant", content)]
    follow_body = with_history(fixture("follow_ups"), turns, cut=True)
    assert len(follow_body["messages"][0]["content"]) > 2000
    reply = api.post("/v1/chat/completions", json=follow_body)
    assert reply.status_code == 200, reply.text
    follow_ups = task_json(reply.json())["follow_ups"]  # utils/task.py parse_follow_ups: ≤ 5 strings ≤ 400
    assert 1 <= len(follow_ups) <= 3 and all(isinstance(f, str) and 0 < len(f) <= 400 for f in follow_ups)
    assert len(set(follow_ups)) == len(follow_ups) and question not in follow_ups
    # Vraagbaak's own Dutch citizen questions, never a question text from the documents.
    assert set(follow_ups) <= {t.questions["nl"] for t in load_topics()}
    assert not any(f[:-1] in chunk.text for f in follow_ups for chunk in service.index.chunks)
    assert answers_total(api) == before  # the suggestions' checks are retrievals, not answers


@pytest.mark.parametrize("language, question", [
    ("en", "Why was the consultation with minority organisations stopped?"),
    ("tr", "Azınlık örgütleriyle yapılan istişare neden durduruldu?")])
def test_an_askers_suggestions_title_and_tags_are_in_their_language(api, language, question):
    answer = api.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]}).json()
    content = answer["choices"][0]["message"]["content"]
    turns = [("user", question), ("assistant", content)]
    follow_ups = task_json(api.post("/v1/chat/completions", json=with_history(fixture("follow_ups"), turns)).json())
    title = task_json(api.post("/v1/chat/completions", json=with_history(fixture("title"), turns)).json())["title"]
    tags = task_json(api.post("/v1/chat/completions", json=with_history(fixture("tags"), turns)).json())["tags"]
    topics = load_topics()
    assert set(follow_ups["follow_ups"]) <= {t.questions[language] for t in topics}
    assert title in {t.title[language] for t in topics} | {GENERAL_TITLE[language]}
    # The topic in the asker's language, the documents by their numbers (the same in every language).
    assert all(t in {t.title[language] for t in topics} | {GENERAL_TAG[language]} or re.search(r"\d", t)
               for t in tags), tags


def test_an_abstention_sends_no_sources_but_lists_its_related_passages(api):
    body = {"messages": [{"role": "user", "content": "Hoe laat gaat de supermarkt op zondag open?"}]}
    reply = api.post("/v1/chat/completions", json=body).json()
    assert reply["vraagbaak"]["abstained"] and reply["sources"] == []
    assert all(c["related"] for c in reply["citations"])
    if reply["citations"]:
        assert "\n\nVerwante passages:\n" in reply["choices"][0]["message"]["content"]
    chunks, _ = stream_chat(api, {**body, "stream": True})
    assert not [c for c in chunks if "event" in c]  # no "Sources" heading over passages that do not answer


# ---------------------------------------------------------------- conversations


def chat(api, turns: list[str], question: str) -> dict:
    """The reply to ``question`` after a conversation whose user turns are ``turns`` (each answered by
    Vraagbaak, its reply sent back as Open WebUI does)."""
    messages: list[dict] = []
    for turn in turns:
        messages.append({"role": "user", "content": turn})
        reply = api.post("/v1/chat/completions", json={"messages": messages}).json()
        messages.append({"role": "assistant", "content": reply["choices"][0]["message"]["content"]})
    messages.append({"role": "user", "content": question})
    return api.post("/v1/chat/completions", json={"messages": messages}).json()


@pytest.mark.parametrize("turns, question", [
    (["Waarom is de Wet overleg minderhedenbeleid ingetrokken?", "Wie zat er in het LOM?"],
     "What does the government do against discrimination in hiring?"),  # the session, shorter
    (["Why was the WOM withdrawn?"], "Wat is de participatieverklaring?"),  # short, yet standalone
])
def test_a_standalone_question_after_an_unrelated_conversation_gets_what_it_gets_alone(api, turns, question):
    alone = chat(api, [], question)
    after = chat(api, turns, question)
    assert [c["id"] for c in after["citations"]] == [c["id"] for c in alone["citations"]]
    assert after["choices"][0]["message"]["content"] == alone["choices"][0]["message"]["content"]


def test_a_dependent_question_is_searched_with_the_turn_it_follows(api):
    turns = ["Waarom is de Wet overleg minderhedenbeleid ingetrokken?"]
    alone = chat(api, [], "En wanneer was dat?")
    after = chat(api, turns, "En wanneer was dat?")
    ids = [c["id"] for c in after["citations"]]
    assert ids != [c["id"] for c in alone["citations"]]
    assert any("wom" in c["document"]["id"] or "2013" in (c["document"]["date"] or "") for c in after["citations"]), ids


@pytest.mark.parametrize("name", ["title", "tags", "follow_ups"])
def test_recorded_tasks_answered_as_recorded(api, name):
    for stream in (False, True):
        body = {**fixture(name), "stream": stream}
        response = api.post("/v1/chat/completions", json=body)
        assert response.status_code == 200, response.text
        if stream:
            assert "data: [DONE]" in response.text and '"task"' in response.text
        else:
            assert set(task_json(response.json())) == {name}


# ---------------------------------------------------------------- what a chat user reads


@pytest.mark.parametrize("question, words", [
    ("Waarom is het overleg met minderhedenorganisaties gestopt? " * 40, "Uw vraag is te lang"),
    ("Why was the consultation with minority organisations stopped? " * 40, "Your question is too long"),
    ("Azınlık örgütleriyle yapılan istişare neden durduruldu? " * 40, "Sorunuz çok uzun"),
    ("لماذا توقف التشاور مع منظمات الأقليات؟ " * 60, "سؤالك طويل جداً"),
    ("Dlaczego przerwano konsultacje z organizacjami mniejszości? " * 40, "Twoje pytanie jest za długie"),
    ("Чому припинили консультації з організаціями меншин? " * 45, "Ваше запитання задовге"),
    ("Warum wurde die Beratung mit Minderheitenorganisationen beendet? " * 40, "Your question is too long"),
    ("WOM? IND? UWV? " * 150, "Your question is too long"),  # no language to tell: English
    ("x" * 2100, "Your question is too long"),  # lingua's 0.38 for Turkish is no language either
    ("x" * 200_000, "Your question is too long")])
def test_too_long_question_in_the_askers_language(api, question, words):
    response = api.post("/v1/chat/completions", json={"model": "vraagbaak", "messages": [
        {"role": "user", "content": question}]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "question_too_long" and error["message"].startswith(words)
    assert "messages[-1]" not in error["message"] and str(len(question)) in error["message"]


def chat_error(api, messages: list[dict], status: int, code: str, model: str = "vraagbaak") -> str:
    """The message of a refused chat request (sent as ASCII JSON, so "\\udfff" can be in it)."""
    response = api.post("/v1/chat/completions", content=json.dumps({"model": model, "messages": messages}).encode(),
                        headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error  # the code is for programs and stays the same in any language
    return error["message"]


TURKISH = "Hollanda'da çocuk parası ne zaman ödenir?"
UKRAINIAN = "Чому відкликали закон про консультації з меншинами?"


def test_chat_errors_are_in_the_language_of_the_askers_last_message(api):
    user = lambda text: {"role": "user", "content": text}  # noqa: E731
    # A character that is not text (a lone surrogate) in a Polish question; in a question without
    # words (a name, an acronym), English.
    assert chat_error(api, [user("Dlaczego wycofano ustawę o mniejszościach? \udfff")], 422,
                      "invalid_question").startswith("Pytanie zawiera znak, który nie jest prawidłowym tekstem.")
    assert chat_error(api, [user("WOM? \udfff")], 422, "invalid_question").startswith("The question holds")
    # A conversation without a user message holds no question, and no asker's language: English.
    assert chat_error(api, [{"role": "assistant", "content": "Відповідь."}], 422, "invalid_request") \
        == "The conversation holds no question. Please ask your question in a new message."
    message = chat_error(api, [user("لماذا سُحب قانون التشاور مع الأقليات؟")], 404, "model_not_found", model="gpt-4o")
    assert message.startswith("لا يوجد نموذج باسم ‘gpt-4o’") and "vraagbaak-extractive" in message
    # An empty message has no language of its own: the asker's earlier one has ...
    assert chat_error(api, [user(TURKISH), {"role": "assistant", "content": "Yanıt."}, user(" \n")], 422,
                      "empty_question").startswith("Lütfen önce bir soru yazın")
    # ... and in a new chat it is said in Dutch, the documents' language, and in English.
    assert chat_error(api, [user("\u200b")], 422, "empty_question") == (
        "Typ eerst een vraag, bijvoorbeeld: “Waarom is de WOM ingetrokken?” / "
        "Please type a question first, for example: “Why was the WOM withdrawn?”")


def test_not_ready_in_the_askers_language(api_server, tmp_path):
    """A server that cannot load (no corpus): 503 not_ready, told in the asker's language."""
    url = api_server(preload=False, corpus_dir=tmp_path / "no-corpus", index_dir=tmp_path / "index")
    with httpx.Client(base_url=url, timeout=60) as client:
        for question, words in ((UKRAINIAN, "Vraagbaak ще запускається."), (TURKISH, "Vraagbaak hâlâ başlatılıyor."),
                                ("Waarom is de WOM ingetrokken?", "Vraagbaak is nog aan het opstarten.")):
            assert chat_error(client, [{"role": "user", "content": question}], 503, "not_ready").startswith(words)


def test_stream_errors_and_the_fallback_notice_in_the_askers_language():
    from api.chat_text import say
    from api.openai_compat import _stream_error

    error = json.loads(_stream_error("llm_interrupted", TURKISH).decode()[len("data: "):])["error"]
    assert error["code"] == "llm_interrupted" and error["message"].startswith("Yanıt yarıda kesildi")
    error = json.loads(_stream_error("internal", "متى؟").decode()[len("data: "):])["error"]
    assert error["code"] == "internal" and error["message"] == "حدث خطأ أثناء إعداد الإجابة. يُرجى المحاولة لاحقاً."
    assert say("extractive_notice", "pl").startswith("Uwaga: model językowy był niedostępny")
    assert say("extractive_notice", "de") == say("extractive_notice", "en")


def test_every_chat_text_is_in_the_six_languages():
    from string import Formatter

    from api.chat_text import _TEXT, LANGUAGES

    for key, texts in _TEXT.items():
        assert tuple(texts) == LANGUAGES, key
        fields = {language: sorted(f for _, f, _, _ in Formatter().parse(text) if f)
                  for language, text in texts.items()}
        assert all(f == fields["nl"] for f in fields.values()), (key, fields)
        assert len(set(texts.values())) == len(LANGUAGES), key  # none left untranslated


def test_generative_asked_for_but_extractive_says_so(api):
    body = {"model": "vraagbaak-generative", "messages": [{"role": "user", "content": question_of(fixture("chat"))}]}
    reply = api.post("/v1/chat/completions", json=body).json()  # the test server has no LLM
    assert reply["vraagbaak"]["mode_used"] == "extractive"
    content = reply["choices"][0]["message"]["content"]
    notice = [line for line in content.split("\n") if line.startswith("Let op:")]
    assert len(notice) == 1 and "taalmodel" in notice[0]
    plain = api.post("/v1/chat/completions", json={**body, "model": "vraagbaak"}).json()
    assert "Let op:" not in plain["choices"][0]["message"]["content"]
    from api.openai_compat import assistant_turn

    assert assistant_turn(content) == content.split("\n\nLet op:")[0]


def test_retrievals_are_counted_on_every_path(api):
    question = question_of(fixture("chat"))
    for path, body in (("/v1/search", {"query": question}), ("/v1/ask", {"question": question}),
                       ("/v1/chat/completions", {"messages": [{"role": "user", "content": question}]})):
        before = metric(api, "vraagbaak_retrieval_duration_seconds_count")
        assert api.post(path, json=body).status_code == 200
        assert metric(api, "vraagbaak_retrieval_duration_seconds_count") == before + 1, path
