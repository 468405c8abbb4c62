"""The signs of dependence (rag/answer/followup_signs.py), one class at a time and per language: which
words point back, which are bound inside the question, which nouns name nothing of their own."""

from __future__ import annotations

import pytest

from rag.answer.followup_signs import signs


@pytest.mark.parametrize("question, lang, word", [
    ("Kto nią zarządza?", "pl", "nią"),  # Polish and Ukrainian pronouns in their case forms
    ("Co z nimi?", "pl", "nimi"),
    ("Kto ich finansuje?", "pl", "ich"),
    ("Хто нею керує?", "uk", "нею"),
    ("Скільки грошей він отримує від держави?", "uk", "він"),  # pro-drop: a written "he" is never a dummy
    ("ولماذا تم إلغاؤه؟", "ar", "إلغاؤه"),  # an Arabic object suffix: "its repeal"
    ("ما هي شروطه؟", "ar", "شروطه"),
    ("What does the government do to reach their self-organisations?", "en", "their"),  # no plural before it
    ("Wat gebeurde er met hun subsidie?", "nl", "hun"),
])
def test_a_pronoun_without_an_antecedent_in_the_question_points_back(question, lang, word):
    assert word in signs(question, (lang,)).pronoun


@pytest.mark.parametrize("question, lang", [
    ("Can refugees have their diplomas recognised?", "en"),  # "their": the refugees
    ("Mogen statushouders hun gezin laten overkomen?", "nl"),
    ("How many people took the exam in 2023, and how many of them passed?", "en"),
    ("ما هو LOM؟", "ar"),  # هو after ما is a copula: "what is the LOM?"
    ("هل تستطيع مفتشية العمل فرض غرامة على صاحب عمل يميّز ضد المتقدمين بسبب أسمائهم؟", "ar"),
    ("Is it true that municipalities organise civic integration?", "en"),  # a dummy "it"
])
def test_a_pronoun_bound_inside_the_question_does_not(question, lang):
    s = signs(question, (lang,))
    assert not s.pronoun and not s.points, s


@pytest.mark.parametrize("question, lang, points", [
    ("Hoeveel geld gaat ernaartoe?", "nl", True),  # a Dutch pronominal adverb, recognised by its form
    ("Vertel er meer over.", "nl", True),  # "er … over": "erover" split
    ("Is er op dit moment een actieagenda eergerelateerd geweld in de maak?", "nl", False),  # "dit moment": now
    ("Welke rol hebben werkgevers daarin?", "nl", True),
    ("Welke maatregelen neemt het kabinet tegen discriminatie bij stages, en welke rol hebben werkgevers daarin?",
     "nl", False),  # "daarin" after a complete first clause refers inside the question
    ("Waarom is het LOM opgeheven en wat kwam ervoor in de plaats?", "nl", False),
    ("Okay, but how does the government decide who is invited in that new set-up?", "en", True),  # with its noun
    ("Чи це правда, що муніципалітети організовують інтеграцію?", "uk", False),  # "це правда": "is it true"
])
def test_demonstratives_and_pro_adverbs(question, lang, points):
    assert bool(signs(question, (lang,)).points) is points


@pytest.mark.parametrize("question, lang, ordinal", [
    ("Explain the second point.", "en", True),
    ("Розкажи детальніше про другий пункт.", "uk", True),
    ("اشرح النقطة الأخيرة بالتفصيل.", "ar", True),
    ("İkinci maddeyi açıkla.", "tr", True),  # Turkish İ lower-cased to i, not i and a dot
    ("Hoe gaat het met de tweede generatie?", "nl", False),
    ("Wie zit er in de Tweede Kamer?", "nl", False),
    ("كم كانت نسبة النجاح في المحاولة الأولى؟", "ar", False),  # "the first attempt"
])
def test_an_ordinal_names_an_item_of_an_earlier_list(question, lang, ordinal):
    assert bool(signs(question, (lang,)).ordinal) is ordinal


@pytest.mark.parametrize("question, lang, definite", [
    ("Wanneer is de wet ingetrokken?", "nl", True),
    ("Wanneer worden de resultaten verwacht?", "nl", True),  # a relational noun without its complement
    ("When will the report be published?", "en", True),
    ("Sonuçları ne zaman açıklandı?", "tr", True),  # "its results"
    ("Wanneer is de Wet inburgering ingetrokken?", "nl", False),  # a name
    ("Wat doet de regering tegen huwelijksdwang?", "nl", False),  # an institution there is one of
    ("What is the action plan against labour market discrimination?", "en", False),  # modified
    ("Wat zijn de kosten van de inburgering?", "nl", False),  # its complement follows
    ("Uyum sınavı nedir?", "tr", False),  # a compound, not a possessed noun
])
def test_a_definite_common_noun_that_nothing_identifies(question, lang, definite):
    s = signs(question, (lang,))
    assert bool(s.definite and s.features()["definite"]) is definite, s


def test_a_common_noun_taken_up_from_the_previous_turn_without_its_name():
    previous = "Czy istnieje wieloletni plan dotyczący samostanowienia?"
    assert signs("Ile pieniędzy przeznaczono na plan?", ("pl",), previous=previous).taken_up == ("plan",)
    assert not signs("Ile pieniędzy przeznaczono na kursy dla uchodźców?", ("pl",), previous=previous).taken_up
    arabic = signs("كم تبلغ ميزانية الخطة؟", ("ar",), previous="هل توجد خطة متعددة السنوات لتقرير المصير؟")
    assert arabic.taken_up == ("الخطة",)  # matched without the article
    named = signs("Wanneer is de Wet overleg minderhedenbeleid ingetrokken?", ("nl",),
                  previous="Wat was de Wet overleg minderhedenbeleid?")
    assert not named.taken_up  # the name comes along


@pytest.mark.parametrize("question, lang, subject", [
    ("Czy nadal obowiązuje?", "pl", False),  # pro-drop: a predicate alone
    ("هل ما زال ساريا؟", "ar", False),
    ("Czym jest integracja?", "pl", True),  # "what is X?": its one word is its subject
    ("Wat is inburgering?", "nl", True),
])
def test_a_subject_of_its_own(question, lang, subject):
    assert (signs(question, (lang,)).features()["no_content"] == 0.0) is subject


def test_names_are_specific_and_do_not_outweigh_a_pointer():
    s = signs("Did the GroenLinks senators accept that argument?", ("en",))
    assert s.specific == ("GroenLinks",) and s.points == ("that argument",)
    assert s.features()["specific"] == 0.0  # specificity only counts where nothing points back
    assert signs("Wie is Mirjam Sterk?", ("nl",)).specific == ("Mirjam",)
    assert "(participatieverklaring)" in signs("وما هو إعلان المشاركة (participatieverklaring)؟", ("ar",)).specific
