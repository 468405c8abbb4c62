"""What a chat user reads from Vraagbaak besides the answer: errors and notices, in the asker's language.

Chat UIs show an error's ``message`` to the person who asked, so on /v1/chat/completions these are
plain words in that person's language (the ``code`` stays the same for programs; /v1/ask and
/v1/search keep their messages for developers). Dutch is the fallback: the documents' language.
"""

from __future__ import annotations

from rag.answer.language import detect_language

LANGUAGES = ("nl", "en")

_TEXT = {
    "question_too_long": {
        "nl": "Uw vraag is te lang ({length} tekens; het maximum is {limit}). Maak de vraag korter en stel hem opnieuw.",
        "en": "Your question is too long ({length} characters; the maximum is {limit}). Please make it shorter "
              "and ask again.",
    },
    "empty_question": {
        "nl": "Typ eerst een vraag, bijvoorbeeld: “Waarom is de WOM ingetrokken?”",
        "en": "Please type a question first, for example: “Why was the WOM withdrawn?”",
    },
    "invalid_question": {
        "nl": "De vraag bevat een teken dat geen geldige tekst is. Typ of plak de vraag opnieuw.",
        "en": "The question holds a character that is not valid text. Please type or paste it again.",
    },
    "answer_failed": {
        "nl": "Er ging iets mis bij het maken van het antwoord. Probeer het later nog eens.",
        "en": "Something went wrong while answering. Please try again later.",
    },
    "llm_interrupted": {
        "nl": "Het antwoord is halverwege afgebroken en dus niet compleet. Stel uw vraag opnieuw.",
        "en": "The answer was cut off halfway, so it is not complete. Please ask again.",
    },
    "not_ready": {
        "nl": "Vraagbaak is nog aan het opstarten. Probeer het over een minuut opnieuw.",
        "en": "Vraagbaak is still starting up. Please try again in a minute.",
    },
    "unavailable": {
        "nl": "Vraagbaak kan nu geen vragen beantwoorden. Probeer het later nog eens.",
        "en": "Vraagbaak cannot answer questions right now. Please try again later.",
    },
    "extractive_notice": {
        "nl": "Let op: het taalmodel was niet beschikbaar, daarom citeert dit antwoord de documenten letterlijk.",
        "en": "Note: the language model was not available, so this answer quotes the documents directly.",
    },
}


def asker_language(text: str) -> str:
    """The language of the asker's text among those this module has texts in: Dutch for Dutch (and for
    text too short to tell), English for any other language (a Turkish asker reads English sooner than
    Dutch). The one place where chat text is assigned a language."""
    language = detect_language(text or "")
    return language if language in LANGUAGES else "en"


def has_text(key: str) -> bool:
    return key in _TEXT


def say(key: str, language: str, **values) -> str:
    """The text ``key`` in ``language`` (Dutch when there is none in it), filled in with ``values``."""
    texts = _TEXT[key]
    return texts.get(language, texts["nl"]).format(**values)


def notices() -> tuple[str, ...]:
    """Every notice line in every language (to take them out of assistant turns sent back as history)."""
    return tuple(_TEXT["extractive_notice"].values())
