"""rag/answer/extractive.py: how quoted sentences are rendered (selection is tested through the engine,
tests/answer/test_engine.py)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.answer.extractive import Candidate, closed, render_answer
from rag.answer.sentences import parse_markers, split_sentences


@pytest.mark.parametrize("quoted,shown", [
    ("De wet is ingetrokken.", "De wet is ingetrokken."),
    ("Wordt de wet ingetrokken?", "Wordt de wet ingetrokken?"),
    ("Het kabinet schreef: «de wet vervalt.»", "Het kabinet schreef: «de wet vervalt.»"),
    ("Voorbeelden van ondersteuning van de aansluiting zijn:", "Voorbeelden van ondersteuning van de aansluiting zijn:"),
    # a list item or a source line without its stop, and items ended with ";" or ","
    ("1 Bewustwording komt vanuit de gemeenschappen zelf tot stand",
     "1 Bewustwording komt vanuit de gemeenschappen zelf tot stand."),
    ("Het bewust creëren en/of verspreiden van desinformatie;", "Het bewust creëren en/of verspreiden van desinformatie."),
    ("zie de kabinetsreactie (Kamerstuk 32 824, nr. 46)", "zie de kabinetsreactie (Kamerstuk 32 824, nr. 46)."),
])
def test_a_quoted_sentence_ends_with_punctuation_and_keeps_its_words(quoted, shown):
    assert closed(quoted) == shown


def test_two_quotes_never_run_into_one_sentence():
    """A source line without its stop, quoted before another sentence: each is a sentence of its own."""
    vector = np.zeros(4, np.float32)
    first = ("In het voorjaar van 2014 doet de minister een voorstel om de afstemming in de «taalketen» beter "
             "te stroomlijnen")
    second = "Gemeenten krijgen daarvoor geen extra middelen."
    text = render_answer([Candidate(1, 0, first, vector), Candidate(2, 0, second, vector)])
    assert text == f"{first}. [1] {second} [2]"
    assert [parse_markers(s)[0] for s in split_sentences(text)] == [first + ".", second]
