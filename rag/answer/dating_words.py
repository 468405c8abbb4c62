"""The words of dated answers in the six languages (nl, en, tr, ar, pl, uk): kinds of document, the date
label, "earlier"/"later", "as of", the horizon notice, and the relative time words that a quote's date
resolves. Plain data for rag/answer/dating.py; dates themselves are formatted by Babel (CLDR).
"""

from __future__ import annotations

LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")
FALLBACK = "en"  # another language reads English sooner than Dutch (as api/chat_text.py)

# Kind of document, from the manifest's doc_type or the title (rag/answer/dating.py: kind_of).
KINDS = {
    "letter": {"nl": "brief", "en": "letter", "tr": "mektup", "ar": "رسالة", "pl": "pismo", "uk": "лист"},
    "answers": {"nl": "antwoorden op Kamervragen", "en": "answers to parliamentary questions",
                "tr": "meclis sorularına yanıtlar", "ar": "أجوبة على أسئلة برلمانية",
                "pl": "odpowiedzi na pytania parlamentarne", "uk": "відповіді на депутатські запитання"},
    "memorandum": {"nl": "memorie van antwoord", "en": "memorandum of reply", "tr": "cevap notu",
                   "ar": "مذكرة جوابية", "pl": "memorandum z odpowiedziami", "uk": "меморандум-відповідь"},
    "document": {"nl": "document", "en": "document", "tr": "belge", "ar": "وثيقة", "pl": "dokument", "uk": "документ"},
}

# "{kind} of {when}": {when} is a date in the language's form after the connector (Polish and Ukrainian:
# the genitive, "z 21 listopada 2024", "від 21 листопада 2024"; Babel's format-context month names).
LABEL = {"nl": "{kind} van {when}", "en": "{kind} of {when}", "tr": "{when} tarihli {kind}",
         "ar": "{kind} بتاريخ {when}", "pl": "{kind} z {when}", "uk": "{kind} від {when}"}
YEAR = {"nl": "{year}", "en": "{year}", "tr": "{year}", "ar": "{year}", "pl": "{year} r.", "uk": "{year} р."}
OR_LATER = {"nl": "{when} of later", "en": "{when} or later", "tr": "{when} veya sonrası", "ar": "{when} أو بعده",
            "pl": "{when} lub później", "uk": "{when} або пізніше"}
# An earlier (or, for a question about the past, later) statement: "Eerder, brief van december 2013: …".
EARLIER = {"nl": "Eerder", "en": "Earlier", "tr": "Daha önce", "ar": "سابقاً", "pl": "Wcześniej", "uk": "Раніше"}
LATER = {"nl": "Later", "en": "Later", "tr": "Daha sonra", "ar": "لاحقاً", "pl": "Później", "uk": "Пізніше"}
ROLE_JOIN = {"nl": "{role}, {label}", "en": "{role}, {label}", "tr": "{role}, {label}", "ar": "{role}، {label}",
             "pl": "{role}, {label}", "uk": "{role}, {label}"}
LABEL_END = {"nl": ": ", "en": ": ", "tr": ": ", "ar": ": ", "pl": ": ", "uk": ": "}
LABEL_SEP = {"nl": "; ", "en": "; ", "tr": "; ", "ar": "؛ ", "pl": "; ", "uk": "; "}

# A relative time word resolved against its source's date: "momenteel [stand december 2013]"; the date
# in the nominative (Babel's stand-alone month names: "stan na grudzień 2013").
AS_OF = {"nl": "stand {when}", "en": "as of {when}", "tr": "{when} itibarıyla", "ar": "في {when}",
         "pl": "stan na {when}", "uk": "станом на {when}"}

# The answer's newest source is older than the horizon and the question is about the present.
HORIZON = {  # no "Let op:"/"Note:" opening: that is api/chat_text.py's notice that an answer is quoted
    "nl": "De nieuwste bron in de documenten hierover is van {when}, meer dan {years} jaar geleden. "
          "Actuele informatie vindt u bij {channel}.",
    "en": "The newest source on this in the documents dates from {when}, more than {years} years ago. "
          "For current information, see {channel}.",
    "tr": "Belgelerde bu konudaki en yeni kaynak {when} tarihli, yani {years} yıldan daha eski. "
          "Güncel bilgi için: {channel}.",
    "ar": "أحدث مصدر عن هذا في الوثائق يعود إلى {when}، أي قبل أكثر من {years} سنوات. "
          "للاطلاع على المعلومات الحالية: {channel}.",
    "pl": "Najnowsze źródło na ten temat w dokumentach pochodzi z {when}, czyli sprzed ponad {years} lat. "
          "Aktualne informacje: {channel}.",
    "uk": "Найновіше джерело про це в документах — від {when}, тобто понад {years} роки тому. "
          "Актуальна інформація: {channel}.",
}

# Relative time words, by what they resolve to: the source's year plus an offset ("dit jaar" → "[= 2013]")
# or the source's date as a reference point ("momenteel", "onlangs" → "[stand december 2013]"). Patterns
# are regular expressions, matched case-insensitively between word boundaries; a word inside a longer
# phrase of the same kind is taken once ("het afgelopen jaar" before "jaar").
YEAR_WORDS = {
    0: [r"dit jaar", r"dit kalenderjaar", r"het lopende jaar", r"this year", r"bu yıl(?:ın)?",
        r"هذا العام", r"هذه السنة", r"w tym roku", r"цього року", r"у цьому році"],
    -1: [r"vorig jaar", r"verleden jaar", r"het vorige jaar", r"last year", r"geçen yıl", r"العام الماضي",
         r"السنة الماضية", r"w (?:zeszłym|ubiegłym) roku", r"минулого року"],
    1: [r"volgend jaar", r"komend jaar", r"het komende jaar", r"next year", r"gelecek yıl", r"önümüzdeki yıl",
        r"العام (?:المقبل|القادم)", r"w przyszłym roku", r"наступного року"],
}
AS_OF_WORDS = [
    r"momenteel", r"thans", r"op dit moment", r"op het moment", r"op dit ogenblik", r"tegenwoordig", r"inmiddels",
    r"tot nu toe", r"onlangs", r"recentelijk", r"recent", r"binnenkort", r"nu",
    r"de afgelopen (?:maanden|jaren|periode|tijd|weken)", r"het afgelopen jaar",
    r"de komende (?:tijd|maanden|jaren|periode|weken)",
    r"currently", r"at present", r"at the moment", r"nowadays", r"recently", r"soon", r"so far", r"to date",
    r"şu anda", r"şu an", r"halen", r"günümüzde", r"son zamanlarda", r"yakında",
    r"حالياً", r"حاليا", r"الآن", r"في الوقت الحالي", r"مؤخراً", r"مؤخرا", r"قريباً",
    r"obecnie", r"aktualnie", r"teraz", r"niedawno", r"ostatnio", r"wkrótce",
    r"зараз", r"нині", r"наразі", r"тепер", r"нещодавно", r"незабаром", r"останнім часом",
]
# "op 22 november jl." (last) and "1 januari a.s." / "11 juni aanstaande" (next): the year they mean.
LAST_NEXT = {"last": r"jl\.|j\.l\.", "next": r"a\.s\.|aanstaande"}
