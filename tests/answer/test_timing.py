"""timing: answers lead with the newest statement, mark older ones as earlier, answer a past question from
its time, and say when the newest source is old (rag/answer/timing.py, newest.py, dating.py), with the real
model and index."""

from __future__ import annotations

import asyncio
import re

import pytest

from rag.answer import dating, timing
from rag.answer.context import AnswerEvent
from rag.answer.engine import AnswerEngine
from rag.answer.payload import ask_payload
from rag.answer.sentences import parse_markers, sentence_deltas, split_spans

YOUTH = {  # "What does the government do against youth unemployment among young people with a migration background?"
    "nl": "Wat doet de regering tegen jeugdwerkloosheid onder jongeren met een migratieachtergrond?",
    "en": "What does the government do about youth unemployment among young people with a migration background?",
    "tr": "Hükümet göçmen kökenli gençler arasındaki genç işsizliğine karşı ne yapıyor?",
    "ar": "ماذا تفعل الحكومة لمكافحة البطالة بين الشباب من أصول مهاجرة؟",
    "pl": "Co rząd robi w sprawie bezrobocia wśród młodzieży o pochodzeniu migracyjnym?",
    "uk": "Що робить уряд щодо безробіття серед молоді з міграційним походженням?",
}
ANSWERS_2025, LETTER_2013 = "vragen-actieagenda-integratie-2024", "voortgang-agenda-integratie-2013"


def run(coro):
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def engine(service):
    return AnswerEngine(service, settings=service.settings.replace(llm_base_url=""))


def cited(answer) -> list[int]:
    return list(dict.fromkeys(n for s in split_spans(answer.text) for n in parse_markers(s.text)[1]))


def doc_of(answer, n: int) -> str:
    return answer.passages[n - 1].document.id


def test_a_now_question_is_answered_from_the_2025_answers_with_the_2013_statement_labelled_earlier(engine):
    answer = run(engine.answer(YOUTH["nl"], mode="extractive"))
    numbers = cited(answer)
    assert doc_of(answer, numbers[0]) == ANSWERS_2025  # the newest statement leads
    assert answer.text.startswith("Antwoorden op Kamervragen van maart 2025 of later: ")
    older = [n for n in numbers if doc_of(answer, n) == LETTER_2013]
    assert older and all(answer.date_labels[n] == "Eerder, brief van december 2013" for n in older)
    assert "Eerder, brief van december 2013: " in answer.text  # "Mirjam Sterk" (2013) shown as earlier
    assert answer.as_of == "2025" and not dating.has_notice(answer.text)
    body = ask_payload(answer)
    assert body["as_of"] == "2025"
    assert [c["date_label"] for c in body["citations"] if c["n"] in older] == ["Eerder, brief van december 2013"] * len(older)


@pytest.mark.parametrize("language, answers_2025, earlier", [
    ("nl", "antwoorden op Kamervragen van maart 2025 of later", "Eerder, brief van december 2013"),
    ("en", "answers to parliamentary questions of March 2025 or later", "Earlier, letter of December 2013"),
    ("tr", "Mart 2025 veya sonrası tarihli meclis sorularına yanıtlar", "Daha önce, Aralık 2013 tarihli mektup"),
    ("ar", "أجوبة على أسئلة برلمانية بتاريخ مارس 2025 أو بعده", "سابقاً، رسالة بتاريخ ديسمبر 2013"),
    ("pl", "odpowiedzi na pytania parlamentarne z marca 2025 lub później", "Wcześniej, pismo z grudnia 2013"),
    ("uk", "відповіді на депутатські запитання від березня 2025 або пізніше", "Раніше, лист від грудня 2013"),
])
def test_the_date_labels_are_in_the_askers_language(engine, language, answers_2025, earlier):
    answer = run(engine.answer(YOUTH[language], mode="extractive"))
    assert answer.language == language and not answer.abstained
    labels = {doc_of(answer, n): label for n, label in answer.date_labels.items()}
    assert labels[ANSWERS_2025].lower() == answers_2025.lower() and labels[LETTER_2013] == earlier
    for label in labels.values():  # in the text, opening the sentence that first cites its document
        assert f"{label}: " in answer.text
    assert dating.read_labels(answer.text, {n: doc_of(answer, n) for n in cited(answer)}).keys() == set(cited(answer))


def test_a_question_about_2013_is_answered_from_2013(engine):
    answer = run(engine.answer("Wat deed de regering in 2013 tegen jeugdwerkloosheid onder migrantenjongeren?",
                               mode="extractive"))
    numbers = cited(answer)
    assert all(answer.passages[n - 1].document.date.startswith("2013") for n in numbers)
    # which 2013 letter leads is the lead's choice (with the reader, issue 25: the 5 March 2013 letter's
    # "Ten behoeve van de bestrijding van jeugdwerkloosheid onder migrantenjongeren …"); it is dated 2013
    assert re.match(r"Brief van [^:]*2013: ", answer.text) and "Eerder" not in answer.text
    assert "Mirjam Sterk" in answer.text and answer.as_of == "2013-12"
    assert not dating.has_notice(answer.text)  # a question about then is not told its source is old


def test_the_horizon_notice_names_where_current_information_is_kept(engine, service):
    question = "Wat doet de regering voor privaat gefinancierde internaten?"  # only the 2013 letter speaks of them
    answer = run(engine.answer(question, mode="extractive"))
    assert answer.as_of == "2013-12" and dating.has_notice(answer.text)
    assert answer.text.endswith("De nieuwste bron in de documenten hierover is van december 2013, meer dan "
                                "3 jaar geleden. Actuele informatie vindt u bij Informatie Rijksoverheid (1400) "
                                "(https://www.rijksoverheid.nl).")
    off = AnswerEngine(service, settings=service.settings.replace(llm_base_url="", date_horizon_years=0))
    assert not dating.has_notice(run(off.answer(question, mode="extractive")).text)


def test_a_stream_is_dated_like_the_whole_answer(engine):
    """The extractive stream, and the dating of a plain or generative stream's deltas (timing.dated_events),
    give the text of the finished answer: the deltas joined are the "done" answer's text."""
    async def stream():
        return [event async for event in engine.answer_stream(YOUTH["nl"], mode="extractive")]

    events = run(stream())
    deltas = "".join(e.text for e in events if e.kind == "delta")
    done = events[-1].answer
    assert events[-1].kind == "done" and deltas == done.text and done.text.startswith("Antwoorden op Kamervragen")

    async def redated():
        ctx = await engine._retrieve(YOUTH["nl"], 5, None)
        plain = await engine._respond_undated(ctx, "extractive", "extractive", None)  # before dating
        undated = [AnswerEvent("delta", text=d) for d in sentence_deltas(plain.text)] + [AnswerEvent("done", answer=plain)]

        async def source():
            for event in undated:
                yield event
        return [e async for e in timing.dated_events(engine, ctx, source())]

    out = run(redated())
    assert "".join(e.text for e in out if e.kind == "delta") == out[-1].answer.text == done.text
    assert out[-1].answer.as_of == "2025" and out[-1].answer.date_labels == done.date_labels
