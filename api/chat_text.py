"""What a chat user reads from Vraagbaak besides the answer: errors and notices, in the asker's language.

Chat UIs show an error's ``message`` to the person who asked, so on /v1/chat/completions these are
plain words in that person's language: the language of their last message, when it is one of the web
page's six (nl, en, tr, ar, pl, uk); English when that message is in another language or its language
cannot be told with confidence (a name, an acronym, digits, "xxxx…": detect_language's ``guess=False``). The ``code`` stays the same for programs; /v1/ask and
/v1/search keep their messages for developers, and so do the chat endpoint's errors about a malformed
request body (400, 413, 415, 422 ``invalid_request`` from validation, 401), which are answered before the
conversation is read. An empty last message has no language: the earlier user turns decide, else the
text is given in Dutch and English (the documents' language and the fallback).
"""

from __future__ import annotations

from api.errors import ApiError
from rag.answer.language import detect_language
from rag.service import is_blank

LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")  # as api/static/strings.js
FALLBACK = "en"
DETECT_CHARS = 1000  # enough to tell a language; a 1 MB question is not fed to the detector whole

_TEXT = {
    "question_too_long": {
        "nl": "Uw vraag is te lang ({length} tekens; het maximum is {limit}). Maak de vraag korter en stel hem opnieuw.",
        "en": "Your question is too long ({length} characters; the maximum is {limit}). Please make it shorter "
              "and ask again.",
        "tr": "Sorunuz çok uzun ({length} karakter; en fazla {limit} olabilir). Lütfen sorunuzu kısaltıp "
              "yeniden sorun.",
        "ar": "سؤالك طويل جداً ({length} حرفاً، والحد الأقصى {limit}). يُرجى تقصير السؤال وطرحه مرة أخرى.",
        "pl": "Twoje pytanie jest za długie ({length} znaków; maksimum to {limit}). Skróć je i zadaj ponownie.",
        "uk": "Ваше запитання задовге ({length} символів; максимум — {limit}). Скоротіть його і поставте ще раз.",
    },
    "empty_question": {
        "nl": "Typ eerst een vraag, bijvoorbeeld: “Waarom is de WOM ingetrokken?”",
        "en": "Please type a question first, for example: “Why was the WOM withdrawn?”",
        "tr": "Lütfen önce bir soru yazın, örneğin: “WOM neden geri çekildi?”",
        "ar": "اكتب سؤالاً أولاً من فضلك، مثلاً: «لماذا سُحب قانون WOM؟»",
        "pl": "Najpierw wpisz pytanie, na przykład: „Dlaczego wycofano ustawę WOM?”",
        "uk": "Спершу введіть запитання, наприклад: «Чому відкликали закон WOM?»",
    },
    "invalid_question": {
        "nl": "De vraag bevat een teken dat geen geldige tekst is. Typ of plak de vraag opnieuw.",
        "en": "The question holds a character that is not valid text. Please type or paste it again.",
        "tr": "Soru, geçerli bir metin olmayan bir karakter içeriyor. Lütfen soruyu yeniden yazın veya yapıştırın.",
        "ar": "يحتوي السؤال على حرف ليس نصاً صالحاً. يُرجى كتابة السؤال أو لصقه مرة أخرى.",
        "pl": "Pytanie zawiera znak, który nie jest prawidłowym tekstem. Wpisz lub wklej je ponownie.",
        "uk": "Запитання містить символ, який не є дійсним текстом. Введіть або вставте його ще раз.",
    },
    "no_question": {
        "nl": "Het gesprek bevat geen vraag. Stel uw vraag in een nieuw bericht.",
        "en": "The conversation holds no question. Please ask your question in a new message.",
        "tr": "Konuşmada bir soru yok. Lütfen sorunuzu yeni bir mesajda sorun.",
        "ar": "لا تحتوي المحادثة على سؤال. اطرح سؤالك في رسالة جديدة من فضلك.",
        "pl": "Rozmowa nie zawiera pytania. Zadaj pytanie w nowej wiadomości.",
        "uk": "Розмова не містить запитання. Поставте запитання в новому повідомленні.",
    },
    "model_not_found": {
        "nl": "Het model ‘{model}’ bestaat niet; kies een van: {models}.",
        "en": "The model ‘{model}’ does not exist; choose one of: {models}.",
        "tr": "‘{model}’ adlı bir model yok; şunlardan birini seçin: {models}.",
        "ar": "لا يوجد نموذج باسم ‘{model}’؛ اختر واحداً من: {models}.",
        "pl": "Model ‘{model}’ nie istnieje; wybierz jeden z: {models}.",
        "uk": "Моделі ‘{model}’ не існує; виберіть одну з: {models}.",
    },
    "answer_failed": {
        "nl": "Er ging iets mis bij het maken van het antwoord. Probeer het later nog eens.",
        "en": "Something went wrong while answering. Please try again later.",
        "tr": "Yanıt hazırlanırken bir sorun oluştu. Lütfen daha sonra tekrar deneyin.",
        "ar": "حدث خطأ أثناء إعداد الإجابة. يُرجى المحاولة لاحقاً.",
        "pl": "Podczas przygotowywania odpowiedzi coś poszło nie tak. Spróbuj ponownie później.",
        "uk": "Під час підготовки відповіді сталася помилка. Спробуйте пізніше.",
    },
    "llm_interrupted": {
        "nl": "Het antwoord is halverwege afgebroken en dus niet compleet. Stel uw vraag opnieuw.",
        "en": "The answer was cut off halfway, so it is not complete. Please ask again.",
        "tr": "Yanıt yarıda kesildi, bu yüzden eksik. Lütfen sorunuzu yeniden sorun.",
        "ar": "انقطعت الإجابة في منتصفها، فهي غير مكتملة. اطرح سؤالك مرة أخرى من فضلك.",
        "pl": "Odpowiedź została przerwana w połowie, więc jest niepełna. Zadaj pytanie ponownie.",
        "uk": "Відповідь обірвалася на півдорозі, тож вона неповна. Поставте запитання ще раз.",
    },
    "not_ready": {
        "nl": "Vraagbaak is nog aan het opstarten. Probeer het over een minuut opnieuw.",
        "en": "Vraagbaak is still starting up. Please try again in a minute.",
        "tr": "Vraagbaak hâlâ başlatılıyor. Lütfen bir dakika sonra tekrar deneyin.",
        "ar": "لا يزال Vraagbaak قيد التشغيل. حاول مرة أخرى بعد دقيقة.",
        "pl": "Vraagbaak jeszcze się uruchamia. Spróbuj ponownie za minutę.",
        "uk": "Vraagbaak ще запускається. Спробуйте ще раз за хвилину.",
    },
    "unavailable": {
        "nl": "Vraagbaak kan nu geen vragen beantwoorden. Probeer het later nog eens.",
        "en": "Vraagbaak cannot answer questions right now. Please try again later.",
        "tr": "Vraagbaak şu anda soruları yanıtlayamıyor. Lütfen daha sonra tekrar deneyin.",
        "ar": "لا يستطيع Vraagbaak الإجابة عن الأسئلة الآن. يُرجى المحاولة لاحقاً.",
        "pl": "Vraagbaak nie może teraz odpowiadać na pytania. Spróbuj ponownie później.",
        "uk": "Vraagbaak зараз не може відповідати на запитання. Спробуйте пізніше.",
    },
    "extractive_notice": {
        "nl": "Let op: het taalmodel was niet beschikbaar, daarom citeert dit antwoord de documenten letterlijk.",
        "en": "Note: the language model was not available, so this answer quotes the documents directly.",
        "tr": "Not: Dil modeli kullanılamadığı için bu yanıt belgelerden aynen alıntı yapıyor.",
        "ar": "ملاحظة: لم يكن النموذج اللغوي متاحاً، لذلك تقتبس هذه الإجابة من الوثائق حرفياً.",
        "pl": "Uwaga: model językowy był niedostępny, dlatego ta odpowiedź cytuje dokumenty dosłownie.",
        "uk": "Примітка: мовна модель була недоступна, тому ця відповідь дослівно цитує документи.",
    },
}

# The text a chat user reads for an error code raised by the code the chat endpoint shares with the
# other endpoints (the question checks, the runtime); its own refusals are ChatRefusals.
_FOR_CODE = {"empty_question": "empty_question", "question_too_long": "question_too_long",
             "invalid_question": "invalid_question", "not_ready": "not_ready",
             "answer_engine_unavailable": "unavailable", "shutting_down": "unavailable",
             "internal": "answer_failed", "answer_failed": "answer_failed", "llm_interrupted": "llm_interrupted"}


class ChatRefusal(ApiError):
    """A refusal of the chat endpoint's own; a chat user reads the text ``key`` (see :func:`for_chat`)."""

    def __init__(self, status: int, code: str, key: str, message: str):
        super().__init__(status, code, message)
        self.key = key


def asker_language(text: str, languages: tuple[str, ...] = LANGUAGES, fallback: str = FALLBACK) -> str:
    """The language of the asker's ``text`` among ``languages``; English for any other language (a German
    asker reads English sooner than Dutch); ``fallback`` when no language can be told. The one place
    where chat text is assigned a language. Only a confident language counts (``guess=False``): a
    string of x's is not Turkish."""
    language = detect_language((text or "")[:DETECT_CHARS], fallback="", guess=False)
    if not language:
        return fallback
    return language if language in languages else "en"


def conversation_language(user_texts: list[str]) -> str | None:
    """The language for an error text: that of the last user message (English when it cannot be told);
    for a blank last message, that of the latest earlier user message with a language, else None."""
    last = user_texts[-1] if user_texts else ""
    if not is_blank(last):
        return asker_language(last)
    for text in reversed(user_texts[:-1]):
        if not is_blank(text) and (language := asker_language(text, fallback="")):
            return language
    return None


def text_for(code: str) -> str:
    """The key of the text a chat user reads for an error ``code`` ("answer_failed" for an unknown one)."""
    return _FOR_CODE.get(code, "answer_failed")


def say(key: str, language: str | None, **values) -> str:
    """The text ``key`` in ``language`` (English when there is none in it), filled in with ``values``;
    ``language`` None: in Dutch and in English."""
    texts = _TEXT[key]
    if language is None:
        return f"{texts['nl']} / {texts['en']}".format(**values)
    return texts.get(language, texts[FALLBACK]).format(**values)


def for_chat(exc: ApiError, user_texts: list[str], **values) -> ApiError:
    """``exc`` with its message in the words of the chat user whose messages are ``user_texts`` (same
    status, code and headers); ``values`` fill the text in. An error without such a text is returned as it is."""
    key = exc.key if isinstance(exc, ChatRefusal) else _FOR_CODE.get(exc.code)
    if key is None:
        return exc
    language = conversation_language(user_texts)
    if language is None and key != "empty_question":
        language = FALLBACK
    last = user_texts[-1] if user_texts else ""
    return ApiError(exc.status, exc.code, say(key, language, length=len(last), **values), exc.headers)


def notices() -> tuple[str, ...]:
    """Every notice line in every language (to take them out of assistant turns sent back as history)."""
    return tuple(_TEXT["extractive_notice"].values())
