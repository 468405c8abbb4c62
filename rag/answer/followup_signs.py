"""The signs that a chat question depends on the conversation, read from its words (nl, en, tr, ar, pl, uk).

    signs(question, languages, history="", previous="") -> Signs;  Signs.features() -> {name: value}

rag/answer/followup.py weighs the features with a logistic model (data/followup_model.json); this module
only reads. Word classes per language are in data/followup_words.json (closed classes: pronoun paradigms
with their case forms, demonstratives, pro-adverbs, question words, leads, ordinals); function words
are that file's and stopwords-iso's (``stopwordsiso``); how common a word is comes from wordfreq's
frequency lists (Zipf scale: log10 of occurrences per billion words; "wet" 5.2, "inburgering" 3.1,
"participatieverklaring" 1.4). The signs:

    no_content  no subject of its own: a bare question word ("Why?"), a time ("En in 2024?"), pronouns,
                nouns that need a complement ("the reason?"); in a pro-drop language, a predicate alone
                ("Czy nadal obowiązuje?", "is it still in force?")
    lead        a first word that continues the last turn ("and", "en", "peki", "а", Arabic و) before a
                fragment without a question word ("And for students?"), or a lead phrase ("what about")
    points      a demonstrative or pro-adverb that points back ("daarvoor", "that law", "bunun", "ذلك",
                "za to", "ці курси"), not one whose antecedent is in the question itself (a pro-form
                after a complete first clause: "…, and what role does X play in that?")
    pronoun     a third-person pronoun with no antecedent in the question: in pro-drop languages (tr, ar,
                pl, uk) any explicit one (no dummy subjects there), Arabic object and possessive
                suffixes (إلغاؤه, شروطها), a Polish/Ukrainian "they" verb with no subject; in nl/en one
                not preceded by a noun it could agree with ("their" after a plural), and no dummy "it"
    ordinal     an ordinal or "last" naming an item of an earlier list ("the second point", "die tweede")
    definite    a common noun that nothing in a short question identifies: a definite article before it
                ("wanneer is de wet ingetrokken?"; not "de regering", a unique institution, nor "de wet
                van 2013"), a relational noun without its complement ("the results?"), a Turkish
                possessed noun ("sonuçları"); ``taken_up``: a common noun the previous turn used, without
                the specific words that named it there ("the plan", "plan", "الخطة")
    specific    a name: an acronym, a capitalised word that is not a common one, a quoted or bracketed
                term, a word in another script
    words       how many content words the question has (a long one names more of its own)
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

from rag.config import PROJECT_ROOT

WORDS_PATH = PROJECT_ROOT / "data" / "followup_words.json"
LANGUAGES = ("nl", "en", "tr", "ar", "pl", "uk")
PRO_DROP = frozenset({"tr", "ar", "pl", "uk"})  # subjects are left out, so a written pronoun is never a dummy
# A noun at least this common (Zipf) names no subject of its own: in the labelled sets (data/eval/followups*)
# every standalone question has a name or a content word rarer than this (at most 4.37, "honour"); 77 of
# the 139 dependent ones have neither.
GENERIC_ZIPF = 4.5
SHORT = 3  # content words: a definite or taken-up common noun points back only in a question this short
_LETTER = r"(?:[^\W\d_]|[\u0300-\u036f\u064b-\u065f\u0670])"  # letters and their combining marks (Arabic shadda)
_TOKEN = re.compile(rf"(?:{_LETTER}|\d)+(?:['’]{_LETTER}+)*")
_ARABIC_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_ACRONYM = re.compile(r"^[A-Z0-9][A-Z0-9-]*[A-Z][A-Z0-9-]*$|^[A-Z][a-z]+[A-Z]\w*$")  # WOM, LOM, IND, DigiD
_QUOTED = re.compile(r"[\"'‘“«„(][^\"'’”»)]{2,60}[\"'’”»)]")  # 'eer en vrijheid', (inburgering)
_PRO_ADVERB = re.compile(r"^(?:er|daar|hier)(?:aan|achter|bij|binnen|boven|buiten|door|in|langs|mee|na|naar|naartoe|"
                         r"naast|om|omheen|onder|op|over|tegen|toe|tussen|uit|van|vandaan|voor|zonder)$")  # Dutch
_TURKISH_POSSESSED = ("ları", "leri", "nın", "nin", "nun", "nün", "sı", "si", "su", "sü", "ın", "in", "un", "ün")
# "its/their X" or "the X's"; not a bare -ı/-i/-u/-ü, which is also the object case and many words' ending
_TURKISH_SOFTENED = {"b": "p", "c": "ç", "d": "t", "ğ": "k"}  # kitabı -> kitap
_CLAUSE = re.compile(r"[,;:،؛]")
_ARABIC_LEAD = ("و", "ف")  # "and", "so": written joined to the next word (وفي 2024؟)
_ARABIC_SUFFIXES = ("هما", "هم", "هن", "ها", "ه")  # third-person object/possessive pronouns
_ARABIC_ARTICLE = ("وال", "بال", "فال", "كال", "ال")  # "the", with "and", "with", "so", "like" before it
_SNOWBALL = {"nl": "dutch", "en": "english", "tr": "turkish", "ar": "arabic", "pl": "polish", "uk": "russian"}
_THIRD_PLURAL = ("ją", "ią", "ują", "ają", "ęją", "ють", "ять", "уть", "ать")  # Polish, Ukrainian verbs: "they …"
_LISTS = ("lead", "wh", "strong", "strong_final", "determiners", "weak", "personal", "plural", "dummy_after",
          "time", "relational", "prepositions", "complementizers", "articles", "corpus", "corpus_antecedents",
          "temporal", "stranded", "partitive", "ordinal", "part", "unique", "complement", "generic",
          "function")
_NOT_CONTENT = ("wh", "strong", "strong_final", "determiners", "weak", "personal", "time", "lead", "function",
                "prepositions", "ordinal")


@dataclass(frozen=True)
class _Classes:
    lead_phrases: tuple
    definitional: tuple  # "wat is", "czym jest": openings of a question that asks what a named thing is
    sets: dict  # name in _LISTS -> frozenset of lower-cased words


@functools.lru_cache(maxsize=None)
def _classes(language: str) -> _Classes:
    """The word classes of ``language`` (a code in LANGUAGES), lower-cased."""
    import stopwordsiso

    data = json.loads(WORDS_PATH.read_text(encoding="utf-8"))[language]
    sets = {k: frozenset(w.lower() for w in data.get(k, ())) for k in _LISTS}
    sets["function"] |= frozenset(w.lower() for w in stopwordsiso.stopwords(language))
    if language == "nl":
        sets["strong"] = _ProAdverbs(sets["strong"])
    return _Classes(tuple(p.lower() for p in data["lead_phrases"]),
                    tuple(p.lower() for p in data.get("definitional", ())), sets)


class _ProAdverbs(frozenset):
    """Dutch "strong" words: the listed ones and every pronominal adverb (er/daar/hier + preposition)."""

    def __contains__(self, word) -> bool:
        return super().__contains__(word) or bool(_PRO_ADVERB.match(word))


@functools.lru_cache(maxsize=65536)
def zipf(word: str, languages: tuple[str, ...]) -> float:
    """How common ``word`` is in the commonest of ``languages`` (wordfreq's "small" lists, Zipf 0–8; a
    word under Zipf 3 reads 0). Arabic words are looked up without short-vowel marks."""
    from wordfreq import zipf_frequency

    word = _ARABIC_MARKS.sub("", word.lower())
    return max((zipf_frequency(word, lang, wordlist="small") for lang in languages), default=0.0)


@functools.lru_cache(maxsize=None)
def _stemmer(language: str):
    import Stemmer

    return Stemmer.Stemmer(_SNOWBALL[language])


def stems(words, languages: tuple[str, ...]) -> set[str]:
    """Snowball stems (PyStemmer) of ``words`` in each of ``languages``, and their first 5 letters
    (Ukrainian has no Snowball stemmer; the Russian one is used, which leaves many endings on)."""
    words = [w.lower() for w in words]
    words += [w[len(a):] for w in words for a in _ARABIC_ARTICLE if w.startswith(a) and len(w) > len(a) + 2]
    out = {w[:5] for w in words}
    for language in languages:
        if language in _SNOWBALL:
            out.update(_stemmer(language).stemWords(words))
    return out


@dataclass(frozen=True)
class Signs:
    """What :func:`signs` found in a question: the words behind each sign (empty: absent)."""

    content: tuple[str, ...]  # content words, as written
    lead: bool
    wh: bool
    time: bool  # a year or a time word
    points: tuple[str, ...]
    pronoun: tuple[str, ...]
    ordinal: tuple[str, ...]
    definite: tuple[str, ...]
    specific: tuple[str, ...]
    relational_only: bool  # every content word needs a complement ("the reason?", "examples")
    subjectless: bool = False  # pro-drop: one common content word, a predicate without its subject
    taken_up: tuple[str, ...] = ()  # common nouns of the previous turn, without its specific words

    def features(self) -> dict[str, float]:
        """The model's inputs, in [0, 1]. How specific and how long the question is (``specific``,
        ``words``) only counts when no pointing sign is present: a name in the question does
        not give "that argument" its antecedent ("Did the GroenLinks senators accept that argument?")."""
        strong = {"no_content": float(not self.content or self.relational_only or self.subjectless),
                  "lead": float(self.lead), "points": float(bool(self.points or self.ordinal)),
                  "pronoun": float(bool(self.pronoun))}
        open_ = 1.0 - max(strong.values())
        short = float(len(self.content) <= SHORT and not self.specific)  # a question that names nothing else
        return strong | {"definite": short * bool(self.definite), "taken_up": short * bool(self.taken_up),
                         "specific": open_ * bool(self.specific),
                         "words": open_ * min(1.0, len(self.content) / 8)}

def _arabic_clitic(word: str, function: frozenset) -> bool:
    """Whether an Arabic word carries a third-person pronoun suffix (تمويلهم "their funding", إلغاؤه
    "its repeal"): what is left is a word (ة written ت, ء written ؤ/ئ before a suffix) and the word has
    no article (ال excludes a possessive suffix)."""
    word = _ARABIC_MARKS.sub("", word)
    if word.startswith(("ال", "وال", "بال", "لل", "فال")) or word in function:
        return False
    for suffix in _ARABIC_SUFFIXES:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            for form in {stem, stem[:-1] + "ة" if stem.endswith("ت") else stem,
                         stem[:-1] + "ء" if stem.endswith(("ؤ", "ئ")) else stem, stem.lstrip("وف")}:
                if zipf(form, ("ar",)) >= 3.0 and zipf(form, ("ar",)) > zipf(word, ("ar",)):
                    return True
            return False
    return False


def _clauses(text: str, raw: list[str], low: list[str], is_) -> list[int]:
    """The clause number of each token: a new clause after a comma, semicolon or colon, and at a
    coordinator before a question word ("… en wat kwam ervoor in de plaats?", Arabic وما)."""
    out, clause, pos = [], 0, 0
    for i, word in enumerate(raw):
        at = text.find(word, pos)
        if at >= 0:
            clause += len(_CLAUSE.findall(text, pos, at))
            pos = at + len(word)
        if i and out and clause == out[-1] and is_("lead", low[i]) and i + 1 < len(low) and is_("wh", low[i + 1]):
            clause += 1
        elif i and out and clause == out[-1] and low[i][:1] in _ARABIC_LEAD and is_("wh", low[i]) and len(low[i]) > 2:
            clause += 1
        out.append(clause)
    return out


def signs(question: str, languages: tuple[str, ...], history: str = "", previous: str = "") -> Signs:
    """The signs of dependence in ``question``, read with the word classes of ``languages`` (codes in
    LANGUAGES, the question's first); ``history``: the conversation's earlier text (for the antecedent
    of "this letter"); ``previous``: the previous user turn (for a noun taken up from it)."""
    langs = tuple(lang for lang in languages if lang in LANGUAGES) or ("nl",)
    classes = [_classes(lang) for lang in langs]

    def is_(kind: str, word: str) -> bool:
        return any(word in c.sets[kind] for c in classes)

    raw = _TOKEN.findall(question)
    if raw and "ar" in langs and len(raw[0]) > 2 and raw[0][0] in _ARABIC_LEAD \
            and not (is_("function", raw[0]) or is_("wh", raw[0])):
        raw = [raw[0][0], raw[0][1:], *raw[1:]]
    low = [_ARABIC_MARKS.sub("", w.replace("İ", "i").lower()) for w in raw]  # Turkish İ: not i + a dot
    t = _Tokens(raw, low, _clauses(question, raw, low, is_), is_, langs)
    for i, (word, w) in enumerate(zip(t.raw, t.low)):
        if _YEAR.match(w) or w.isdigit():
            continue
        if _ACRONYM.match(word) or (len(w) >= 2 and not any(is_(k, w) for k in _NOT_CONTENT)):
            t.content.append(i)
    low = t.low
    joined = " ".join(low)
    lead_phrase = any(joined == p or joined.startswith(p + " ") for c in classes for p in c.lead_phrases)
    wh = any(is_("wh", w) for w in low)
    lead = lead_phrase or (bool(low) and is_("lead", low[0]) and not wh)
    time = bool(_YEAR.search(question)) or any(is_("time", w) and not is_("function", w) for w in low)
    content = [t.raw[i] for i in t.content]
    specific = [w for w in content if _ACRONYM.match(w)] + _QUOTED.findall(question) + [
        t.raw[i] for i in t.content if i and t.raw[i][0].isupper() and zipf(t.raw[i], langs) < GENERIC_ZIPF]  # names
    scripts = {"ar" if re.search("[\u0600-\u06ff]", w) else "cy" if re.search("[\u0400-\u04ff]", w) else "la"
               for w in content}
    if len(scripts) > 1:  # a Latin term in an Arabic or Ukrainian question: a Dutch name
        specific += [w for w in content if re.fullmatch(r"[A-Za-z-]+", w)]
    relational_only = bool(content) and all(is_("relational", low[i]) or is_("generic", low[i]) for i in t.content)
    definitional = any(f" {joined} ".find(f" {p} ") >= 0 for c in classes for p in c.definitional)
    subjectless = langs[0] in PRO_DROP and len(content) == 1 and not specific and not definitional \
        and zipf(content[0], langs) >= 3.0  # "Czy nadal obowiązuje?", "هل ما زال ساريا؟"
    return Signs(tuple(content), lead, wh, time, tuple(_points(t, history)), tuple(_pronouns(t)),
                 tuple(_ordinals(t)), tuple(_definites(t)), tuple(dict.fromkeys(specific)), relational_only,
                 subjectless, () if specific else tuple(_taken_up(t, previous)))


@dataclass
class _Tokens:
    raw: list  # as written
    low: list  # lower-cased, Arabic short vowels removed
    clause: list  # clause number of each token
    is_: object  # is_(class name, word) -> bool, in the question's languages
    langs: tuple
    content: list = field(default_factory=list)  # indices of the content words

    def word(self, i: int) -> str:
        return self.low[i] if 0 <= i < len(self.low) else ""

    def is_content(self, i: int) -> bool:
        return i in self.content

    def content_before(self, i: int) -> list[str]:
        return [self.low[j] for j in self.content if j < i]

    def bound_inside(self, i: int) -> bool:
        """Whether a pro-form at ``i`` can take its antecedent from a complete earlier clause of the
        question (two content words or more before the clause it is in)."""
        return self.clause[i] > 0 and sum(self.clause[j] < self.clause[i] for j in self.content) >= 2


def _antecedent(noun: str, history: str, langs: tuple[str, ...]) -> bool:
    """Whether the conversation names the document ``noun`` refers to (the noun itself, a letter, a
    minister who wrote), so that "deze brief" points back rather than at the documents Vraagbaak
    answers from."""
    if not history:
        return False
    cues = {noun} | {w for lang in langs for w in _classes(lang).sets["corpus_antecedents"]}
    return bool(stems(_TOKEN.findall(history), langs) & stems(cues, langs))


def _points(t: _Tokens, history: str) -> list[str]:
    """Demonstratives and pro-adverbs that point back (see the module docstring)."""
    is_, low = t.is_, t.low
    found: list[tuple[str, int]] = []
    last = len(low) - 1
    for i, w in enumerate(low):
        before, after = t.word(i - 1), t.word(i + 1)
        deixis = bool(after) and (is_("time", after) or (is_("corpus", after)
                                                          and not _antecedent(after, history, t.langs)))
        sentential = bool(after) and (is_("dummy_after", after) or bool(_YEAR.match(after)))  # "toen de WOM …"
        noun_next = t.is_content(i + 1) and after not in t.content_before(i)  # not a noun named before
        if is_("strong", w) and not deixis:
            found.append((w, i))
        elif is_("strong_final", w) and i == last and i > 0:
            found.append((w, i))  # "what happened then?", "who pays it?"
        elif is_("temporal", w) and not sentential:
            found.append((w, i))  # "wie was toen verantwoordelijk?"
        elif is_("determiners", w) and not deixis and not sentential:
            if is_("complementizers", w):  # "dat", "that", "die": also a conjunction or a relative pronoun
                head = (i == 0 or is_("prepositions", before) or is_("wh", before)
                        or (is_("function", before) and not t.is_content(i - 1))) \
                    and not is_("weak", before) and not is_("dummy_after", before)
                if noun_next and (head or i + 1 == last):
                    found.append((f"{w} {after}", i))  # "van dat plan", "accept that argument?"
                elif not t.is_content(i + 1) and (i == last or after):
                    found.append((w, i))  # "why is that?", "is dat bij … anders?", "explain that in …"
            elif noun_next:
                found.append((f"{w} {after}", i))  # "die organisatie", "those groups", "ці курси"
            elif not t.is_content(i + 1) and (i == last and i > 0 or after):
                found.append((w, i))  # a pronoun: "does this apply …", "bu ne zaman oldu?"
        elif w in ("daar", "hier", "er") and "nl" in t.langs and _stranded(t, i):
            found.append((w, i))  # Dutch "daar … mee" is "daarmee" split; "vertel er meer over"
        elif w == "er" and any(is_("partitive", x) for x in low[i + 1:i + 4]) and "nl" in t.langs:
            found.append((w, i))  # "noem er een paar"
    # A bare pro-form after a complete first clause finds its antecedent there ("…, en welke rol hebben
    # werkgevers daarin?"); a demonstrative with its noun ("that new set-up") still points back.
    if found and t.bound_inside(found[0][1]):
        found = [(p, i) for p, i in found if " " in p]
    return [p for p, _ in found]


def _stranded(t: _Tokens, i: int) -> bool:
    """Whether a preposition after token ``i`` is stranded (no noun after it): "daar … mee", "er … over"."""
    def noun_after(j: int) -> bool:
        return any(k in t.content or t.is_("determiners", t.low[k]) or t.low[k] in ("de", "het", "een")
                   for k in range(j + 1, len(t.low)))

    return any(t.is_("stranded", t.low[j]) and not noun_after(j) for j in range(i + 1, len(t.low)))


def _pronouns(t: _Tokens) -> list[str]:
    """Third-person pronouns without an antecedent in the question (see the module docstring)."""
    is_, low = t.is_, t.low
    out: list[str] = []
    pro_drop = t.langs[0] in PRO_DROP
    for i, w in enumerate(low):
        before, after = t.word(i - 1), t.word(i + 1)
        if pro_drop and is_("personal", w):
            if not (w in ("هو", "هي", "هم") and before in ("ما", "من", "وما", "ومن", "ماذا")):  # "ما هو X؟" is "what is X?"
                out.append(w)
        elif is_("personal", w):  # he, she, they, their, hij, hun: never a dummy; bound by an earlier noun
            earlier = t.content_before(i)
            if is_("plural", w):
                earlier = [x for x in earlier if x.endswith(("s", "en")) and not x.endswith(("ss", "us"))
                           or is_("plural", x)]  # "people", "kinderen": plural nouns are listed with "they"
            if not earlier and not t.bound_inside(i):
                out.append(w)
        elif is_("weak", w) and len(t.content) <= 1:  # "it", "het", "dat": unless the question names enough
            dummy = after and (is_("dummy_after", after) or "to" in low[i + 1:])
            article = t.is_content(i + 1) and is_("articles", w)  # "het LOM": an article
            if not dummy and not article:
                out.append(w)
        elif "ar" in t.langs and _arabic_clitic(t.raw[i], _classes("ar").sets["function"]) \
                and len(t.content_before(i)) < 2:  # "… ضد المتقدمين بسبب أسمائهم": bound in the question
            out.append(w)
    if len(t.content) == 1 and {"pl", "uk"} & set(t.langs) and low[t.content[0]].endswith(_THIRD_PLURAL):
        out.append(low[t.content[0]])  # a dropped "they": "o czym rozmawiają?"
    return out


def _ordinals(t: _Tokens) -> list[str]:
    """An ordinal or "last" naming an item of a list: before or after a noun for a list's parts ("the
    second point", "النقطة الأخيرة"), or standing for one ("die tweede", "the last one")."""
    out = []
    for i, w in enumerate(t.low):
        alone = not (t.is_content(i - 1) or t.is_content(i + 1) or t.is_("time", t.word(i + 1))
                     or t.word(i + 1).isdigit())
        if t.is_("ordinal", w) and (t.is_("part", t.word(i + 1)) or t.is_("part", t.word(i - 1)) or alone):
            out.append(w)
    return out


def _definites(t: _Tokens) -> list[str]:
    """Definite common nouns that nothing in the question identifies: a noun that needs a complement,
    without one ("the results", "wyniki", "النتائج"); in nl/en, a definite article right before a common
    noun with no modifier or complement ("de wet", "the report"; not "the labour market", "de wet van
    2013", "de regering"); in Turkish, a first noun with a possessive or genitive suffix and no noun
    before it that owns it ("sonuçları", "planın"; not "uyum sınavı", a compound)."""
    out = [t.low[i] for i in t.content if t.is_("relational", t.low[i]) and not (
        t.is_content(i + 1) or t.is_("complement", t.word(i + 1)) or t.is_("prepositions", t.word(i + 1)))]
    if t.langs[0] == "tr" and t.content and not any(
            t.is_("time", w) or t.is_("determiners", w) or w.isdigit() for w in t.low[: t.content[0]]):
        first = t.low[t.content[0]]
        suffix = next((x for x in _TURKISH_POSSESSED if first.endswith(x) and len(first) - len(x) >= 3), "")
        stem = first[: len(first) - len(suffix)]
        forms = {stem, stem[:-1] + _TURKISH_SOFTENED.get(stem[-1:], stem[-1:])}
        if suffix and any(zipf(f, ("tr",)) >= 3.0 for f in forms) and not any(t.is_("unique", f) for f in forms):
            out.append(first)
    for i in range(len(t.low) - 1):
        w, noun, after = t.low[i], t.low[i + 1], t.word(i + 2)
        modified = t.is_content(i + 2) and (t.raw[i + 2][0].isupper() or (  # "the labour market"
            "en" in t.langs[:1] and not after.endswith(("ed", "en"))))  # but "the law passed"
        if w in ("de", "het", "the") and t.is_content(i + 1) and not t.raw[i + 1][0].isupper() \
                and zipf(noun, t.langs) >= GENERIC_ZIPF and not (t.is_("unique", noun) or t.is_("corpus", noun)) \
                and not t.is_("complement", after) and not modified:
            out.append(f"{w} {noun}")
    return out


def _taken_up(t: _Tokens, previous: str) -> list[str]:
    """Common nouns of the question that the previous user turn used too, when none of that turn's
    specific words (rarer than GENERIC_ZIPF) come along: the plan, "het plan", "plan", after "a
    multi-year plan on self-determination" (matched by stem). Not a unique institution."""
    if not previous:
        return []
    before = [w for w in _TOKEN.findall(previous) if len(w) > 2]
    rare = {w for w in before if _ACRONYM.match(w) or zipf(w, t.langs) < GENERIC_ZIPF}
    mine = [t.low[i] for i in t.content]
    if stems(mine, t.langs) & stems(rare, t.langs):
        return []
    common = [w for w in mine if zipf(w, t.langs) >= GENERIC_ZIPF and not t.is_("unique", w)]
    said = stems(before, t.langs)
    return [w for w in common if stems([w], t.langs) & said]
