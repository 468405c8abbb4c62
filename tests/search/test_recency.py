"""recency: the time a question is about, and where a document stands in time (rag/search/recency.py)."""

from __future__ import annotations

import datetime

import pytest

from rag.search.recency import TimeFrame, asking_part, date_key, frame, span
from rag.types import DocumentMeta

TODAY = datetime.date(2026, 12, 7)


@pytest.mark.parametrize("question, expected", [
    # About now, without saying so (most questions) or saying so, in the six languages.
    ("Wat is het beleid voor de inburgering van nieuwkomers?", TimeFrame(present=True)),
    ("Wat is op dit moment het beleid voor de inburgering van nieuwkomers?", TimeFrame(present=True, explicit=True)),
    ("Is the Agenda Integratie still the government's plan?", TimeFrame(present=True, explicit=True)),
    ("Hükümet şu anda kapalı topluluklar konusunda ne yapıyor?", TimeFrame(present=True, explicit=True)),
    ("Jak obecnie mierzy się dyskryminację na rynku pracy?", TimeFrame(present=True, explicit=True)),
    ("Хто зараз займається цим?", TimeFrame(present=True, explicit=True)),
    ("ما هو إعلان المشاركة الذي يوقّعه القادمون الجدد حالياً؟", TimeFrame(present=True, explicit=True)),
    ("Waarom is de WOM ingetrokken?", TimeFrame(present=True)),  # the present perfect: what still holds
    ("Wat is er sinds 2013 veranderd in het overleg?", TimeFrame(present=True)),  # a period up to now
    ("Ik ben in juli 2024 naar Nederland verhuisd. Moet ik inburgeren?", TimeFrame(present=True)),  # own story
    # A named past time.
    ("Wat deed het kabinet in 2013 aan de taal van nieuwkomers?", TimeFrame(present=False, years=(2013,))),
    ("2013 yılında göçmen gençler için ne yapılıyordu?", TimeFrame(present=False, years=(2013,))),
    ("Jak w 2013 roku rząd walczył z dyskryminacją?", TimeFrame(present=False, years=(2013,))),
    ("Toen de WOM werd ingetrokken, wie praatte er nog mee?", TimeFrame(present=False)),
    ("Back then, what happened to the subsidies?", TimeFrame(present=False)),
    ("Hoe wilde de regering met de samenleving in gesprek blijven?", TimeFrame(present=False)),  # simple past
    ("Wat zijn de plannen voor 2030?", TimeFrame(present=True)),  # a future year is no past time
])
def test_frame(question, expected):
    assert frame(question, TODAY) == expected


def test_asking_part():
    assert asking_part("Ik was elektricien. Hoe wil de overheid helpen? Dank u.") == "Hoe wil de overheid helpen?"
    assert asking_part("Vertel over de WOM") == "Vertel over de WOM"


def test_date_key_orders_documents_by_what_their_dates_allow():
    year, month, day = (DocumentMeta(id=i, title=i, date=d) for i, d in (("y", "2013"), ("m", "2013-12"), ("d", "2024-11-21")))
    bounded = DocumentMeta(id="b", title="b", date="2025", date_source="derived-bound", date_bound="2025-03")
    open_bound = DocumentMeta(id="o", title="o", date_source="derived-bound", date_bound="2013-12")
    assert span(bounded) == ("2025-03-01", "2025-12-31") and span(open_bound) == ("2013-12-01", "9999-12-31")
    assert date_key(year) == "2013-07-02" and date_key(bounded) == "2025-07-31" and date_key(open_bound) == "2013-12-01"
    assert sorted([day, bounded, month, year], key=date_key) == [year, month, day, bounded]
    assert date_key(DocumentMeta(id="n", title="n")) is None and span(None) is None
