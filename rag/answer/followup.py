"""Does a chat question depend on the conversation, and what should be searched for it?

    resolve(question, history) -> Resolution(query, dependent, reason, previous, language)

A follow-up is a question that cannot be understood without the previous turn, whatever its length:
"En wat kwam ervoor in de plaats?", "and in 2024?", "waarom?", "Geldt die regeling ook voor mensen
die al tien jaar hier wonen?". A question that names its own subject ("What does the government do
against discrimination in hiring?") is answered on its own, after any conversation, exactly as in a
new chat. Signs of dependence, per language (nl, en, tr, ar, pl, uk; word classes in
data/followup_words.json):

    subject  no content word of its own: a bare question word ("Why?"), a time only ("En in 2024?"),
             pronouns only ("Wat betekent dat?"), or only a noun that needs a complement ("the reason?")
    lead     a first word that continues the previous turn ("en", "and", "ve", "i", "а", Arabic و/ف)
             before a fragment (no question word, or at most one content word), or a lead phrase
             ("what about", "hoe zit het met", "a co z", "peki ya")
    points   a pro-adverb or demonstrative pronoun that points back ("ervoor", "daarvan", "bunun",
             "ذلك", "tego", "це"); a demonstrative before a noun ("die regeling", "that law") or after
             a preposition ("about that", "za to"); a word that points back as the last one ("then");
             a personal pronoun ("it", "they", "hij") in a question with at most one content word
             (not a dummy subject: "is it true that …", "how long does it take to …")

Content words are what is left after the question words, these classes and stopwords-iso's list
for the language (``stopwordsiso``); acronyms always count. The languages are those of the question
and of the previous user turn (lingua, rag/answer/language.py), so "I w 2024?" after a Polish turn
is read as Polish. Measured on data/eval/followups.jsonl (README, "Follow-up questions").

A dependent question is searched as the previous question resolved the same way, followed by the new
one; one that only names a time ("and in 2024?") is searched as the previous question with its years
replaced by the new ones. A standalone question is searched as it is.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

from rag.answer.language import detect_language
from rag.config import PROJECT_ROOT

WORDS_PATH = PROJECT_ROOT / "data" / "followup_words.json"
LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")
MAX_PREVIOUS_CHARS = 300  # of the previous question, in a dependent question's search text
MAX_DEPTH = 4  # earlier user turns followed back when the previous question was itself a follow-up
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_ACRONYM = re.compile(r"^[A-Z0-9][A-Z0-9-]*[A-Z][A-Z0-9-]*$|^[A-Z][a-z]+[A-Z]\w*$")  # WOM, LOM, IND, DigiD
_ARABIC_LEAD = ("و", "ف")  # "and", "so": written joined to the next word (وفي 2024؟)
_SNOWBALL = {"nl": "dutch", "en": "english", "tr": "turkish", "ar": "arabic", "pl": "polish", "uk": "russian"}
_THIRD_PLURAL = ("ją", "ią", "ują", "ają", "ęją", "ють", "ять", "уть", "ать")  # Polish, Ukrainian verbs: "they …"


@dataclass(frozen=True)
class Resolution:
    """What to search for a chat question. ``query``: the text retrieval and the answerability
    decision see; ``dependent``: whether the question needs the previous turn; ``reason``: which sign
    decided ("subject", "lead", "points", "time", or "standalone"/"no history"); ``previous``: the
    previous user question as resolved (empty without one); ``language``: the conversation's
    language for a dependent question, else the question's (ISO 639-1)."""

    query: str
    dependent: bool
    reason: str
    previous: str = ""
    language: str = "nl"


@dataclass(frozen=True)
class _Classes:
    lead: frozenset
    lead_phrases: tuple
    wh: frozenset
    strong: frozenset
    strong_final: frozenset
    determiners: frozenset
    weak: frozenset
    dummy_after: frozenset
    time: frozenset
    relational: frozenset
    prepositions: frozenset
    possessive: frozenset
    complementizers: frozenset
    articles: frozenset
    corpus: frozenset
    corpus_antecedents: frozenset
    temporal: frozenset
    stranded: frozenset
    partitive: frozenset
    function: frozenset  # function words: this file's and stopwords-iso's


@functools.lru_cache(maxsize=None)
def _classes(language: str) -> _Classes:
    """The word classes of ``language`` (a code in LANGUAGES), lower-cased."""
    import stopwordsiso

    data = json.loads(WORDS_PATH.read_text(encoding="utf-8"))[language]
    sets = {k: frozenset(w.lower() for w in v) for k, v in data.items() if k != "lead_phrases"}
    stop = frozenset(w.lower() for w in stopwordsiso.stopwords(language))
    return _Classes(lead_phrases=tuple(p.lower() for p in data["lead_phrases"]),
                    function=sets["function"] | stop, **{k: v for k, v in sets.items() if k != "function"})


def _user_turns(history: list[dict] | None) -> list[str]:
    out = []
    for message in history or ():
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            if isinstance(content, str) and content.strip():
                out.append(" ".join(content.split()))
    return out


def _languages(question: str, previous: str) -> tuple[str, ...]:
    found = []
    for text in (question, previous):
        language = detect_language(text, fallback="")
        language = language if language in LANGUAGES else ("en" if language else "")
        if language and language not in found:
            found.append(language)
    return tuple(found) or ("nl",)


@dataclass(frozen=True)
class Signs:
    """What :func:`signs` found in a question (for tests and the evaluation script)."""

    content: tuple[str, ...]  # content words, as written
    lead: bool
    lead_phrase: bool
    wh: bool
    time: bool  # a year or a time word
    points: tuple[str, ...]  # the words that point back
    relational_only: bool


@functools.lru_cache(maxsize=None)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(_SNOWBALL[language])


def _stems(words, languages: tuple[str, ...]) -> set[str]:
    """Snowball stems (PyStemmer) of ``words`` in each of ``languages``, and their first 5 letters
    (Ukrainian has no Snowball stemmer; the Russian one is used, which leaves many endings on)."""
    words = [w.lower() for w in words]
    out = {w[:5] for w in words}
    for language in languages:
        if language in _SNOWBALL:
            out.update(_stemmer(language).stemWords(words))
    return out


def _antecedent(noun: str, history: str, languages: tuple[str, ...]) -> bool:
    """Whether the conversation names the document ``noun`` refers to (the noun itself, a letter, a
    minister who wrote), so that "deze brief" points back rather than at the documents Vraagbaak
    answers from."""
    if not history:
        return False
    cues = {noun} | {w for lang in languages if lang in LANGUAGES for w in _classes(lang).corpus_antecedents}
    return bool(_stems(_TOKEN.findall(history), languages) & _stems(cues, languages))


def signs(question: str, languages: tuple[str, ...], history: str = "") -> Signs:
    """The signs of dependence in ``question``, read with the word classes of ``languages``;
    ``history``: the conversation's earlier text (for the antecedent of "this letter")."""
    classes = [_classes(lang) for lang in languages if lang in LANGUAGES]
    raw = _TOKEN.findall(question)
    low = [t.lower() for t in raw]
    if low and "ar" in languages and len(low[0]) > 2 and low[0][0] in _ARABIC_LEAD and low[0] not in \
            _classes("ar").function:
        raw, low = [raw[0][0], raw[0][1:], *raw[1:]], [low[0][0], low[0][1:], *low[1:]]
    joined = " ".join(low)

    def any_in(kind: str, word: str) -> bool:
        return any(word in getattr(c, kind) for c in classes)

    lead = bool(low) and any_in("lead", low[0])
    written = " ".join(w.lower() for w in _TOKEN.findall(question))  # before the Arabic lead was split off
    lead_phrase = any(j == p or j.startswith(p + " ")
                      for j in (joined, written) for c in classes for p in c.lead_phrases)
    wh = any(any_in("wh", w) for w in low)
    time = bool(_YEAR.search(question)) or any(any_in("time", w) and not any_in("function", w) for w in low)
    content: list[str] = []
    for word, w in zip(raw, low):
        if _YEAR.match(w) or w.isdigit():
            continue
        if _ACRONYM.match(word):
            content.append(word)
            continue
        if len(w) < 2 or any(any_in(k, w) for k in ("wh", "strong", "strong_final", "determiners", "weak",
                                                      "time", "lead", "function", "prepositions")):
            continue
        content.append(word)
    content_low = {w.lower() for w in content}
    points: list[str] = []
    last = len(low) - 1
    for i, w in enumerate(low):
        before = low[i - 1] if i else ""
        after = low[i + 1] if i < last else ""
        deixis = bool(after) and (any_in("time", after) or (any_in("corpus", after)
                                                                and not _antecedent(after, history, languages)))
        clause = bool(after) and (any_in("dummy_after", after) or bool(_YEAR.match(after)))  # "toen de WOM …"
        if any_in("strong", w) and not deixis:
            points.append(w)
        elif any_in("strong_final", w) and i == last and i > 0:
            points.append(w)  # "what happened then?", "who pays it?"
        elif any_in("temporal", w) and not clause:
            points.append(w)  # "wie was toen verantwoordelijk?"
        elif any_in("determiners", w) and not deixis and not clause:
            after_is_noun = after in content_low
            if any_in("complementizers", w):  # "dat", "that", "die": also a conjunction or a relative pronoun
                head = (i == 0 or any_in("prepositions", before) or any_in("wh", before)
                        or (any_in("function", before) and before not in content_low)) \
                    and not any_in("weak", before) and not any_in("dummy_after", before)
                if after_is_noun and (head or i + 1 == last):
                    points.append(f"{w} {after}")  # "van dat plan", "accept that argument?"
                elif not after_is_noun and (i == last or after):
                    points.append(w)  # "why is that?", "is dat bij … anders?", "explain that in …"
            elif after_is_noun:
                points.append(f"{w} {after}")  # "die organisatie", "those groups", "ці курси"
            elif i == last and i > 0 or after:
                points.append(w)  # a pronoun: "does this apply …", "bu ne zaman oldu?"
        elif w in ("daar", "hier") and any(any_in("stranded", x) for x in low[i + 1:]):
            points.append(w)  # Dutch "daar … mee" is "daarmee", split
        elif w == "er" and any(any_in("partitive", x) for x in low[i + 1:i + 4]) and "nl" in languages:
            points.append(w)  # "noem er een paar"
        if any_in("weak", w) and len(content) <= 1 and w not in points:
            noun_next = after in content_low and any_in("articles", w)  # "het LOM": an article
            dummy = after and (any_in("dummy_after", after) or "to" in low[i + 1:])
            if not dummy and not noun_next:
                points.append(w)
    if len(content) == 1 and not _ACRONYM.match(content[0]) and content[0].lower().endswith(_THIRD_PLURAL) \
            and {"pl", "uk"} & set(languages):
        points.append(content[0])  # a dropped "they": "o czym rozmawiają?"
    relational_only = bool(content) and all(any_in("relational", w.lower()) for w in content)
    return Signs(tuple(content), lead, lead_phrase, wh, time, tuple(points), relational_only)


def judge(question: str, languages: tuple[str, ...], history: str = "") -> tuple[bool, str]:
    """(dependent, reason) for ``question`` asked after a conversation whose text is ``history``
    (see the module docstring)."""
    s = signs(question, languages, history)
    if not s.content:
        return True, "time" if s.time and not s.wh else "subject"
    if s.relational_only:
        return True, "subject"
    if s.lead_phrase or (s.lead and (not s.wh or len(s.content) <= 1)):
        return True, "lead"
    if s.points:
        return True, "points"
    return False, "standalone"


def _with_time(previous: str, question: str) -> str:
    """The previous question asked for the new time: its years replaced by the question's, or the
    question appended when either has no year."""
    years = _YEAR.findall(question)
    if years and _YEAR.search(previous):
        it = iter(years + [years[-1]] * 8)
        return _YEAR.sub(lambda m: next(it), previous)
    return f"{previous} {question}"


def resolve(question: str, history: list[dict] | None, *, _depth: int = 0) -> Resolution:
    """The search text for ``question`` after ``history`` (OpenAI-style messages, oldest first;
    only user turns are read). Never raises; ~1 ms (two language identifications)."""
    asked = question or ""
    question = " ".join(asked.split())
    turns = _user_turns(history)
    if not turns:
        return Resolution(asked, False, "no history", "", detect_language(asked))
    previous_turn = turns[-1]
    languages = _languages(question, previous_turn)
    text = " ".join(str(m.get("content") or "") for m in history or () if isinstance(m, dict))
    dependent, reason = judge(question, languages, text)
    if not dependent:  # searched exactly as in a new chat
        return Resolution(asked, False, reason, "", detect_language(asked))
    earlier = [{"role": "user", "content": t} for t in turns[:-1]]
    previous = previous_turn
    if _depth < MAX_DEPTH and earlier:
        previous = resolve(previous_turn, earlier, _depth=_depth + 1).query
    previous = previous[-MAX_PREVIOUS_CHARS:] if len(previous) > MAX_PREVIOUS_CHARS else previous
    query = _with_time(previous, question) if reason == "time" else f"{previous} {question}"
    return Resolution(query, True, reason, previous, detect_language(f"{question} {previous_turn}"))
