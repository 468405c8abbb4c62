"""Changed figures never reach the reader: an LLM (tests/api/fault_llm.py, scripted) says a true source
sentence with one figure changed the way LLMs change figures, through the real API server, in
``generative`` and ``plain``, as JSON and as a stream. The verifier (rag/answer/numbers.py) must drop the
sentence (generative) or the rewrite (plain, which then quotes the source sentence), and say so.
"""

from __future__ import annotations

import json

import httpx
import pytest

PARTICIPATION = "Hoeveel is de participatiegraad van de groep met een buiten-Europese achtergrond gestegen tussen 2003 en 2023?"
BUDGET = "Hoeveel geld is er beschikbaar gesteld voor de handhaving van inburgeringsplichtigen?"
RISE = "57,1% tot 68,3%"  # in: "… de participatiegraad is tussen 2003 en 2023 gestegen van 57,1% tot 68,3% en …"

# kind: (question, text that finds the source sentence, (old, new) in it, text the reader must never see)
CHANGES = {
    "decimal": (PARTICIPATION, RISE, ("68,3%", "6,83%"), "6,83%"),
    "range": (PARTICIPATION, RISE, ("57,1% tot 68,3%", "68,3% tot 57,1%"), "68,3% tot 57,1%"),
    "direction": (PARTICIPATION, RISE, ("gestegen van 57,1%", "gedaald van 57,1%"), "gedaald van 57,1%"),
    "magnitude": (BUDGET, "eenmalig € 20 miljoen", ("€ 20 miljoen", "€ 20 miljard"), "20 miljard"),
    "unit": (PARTICIPATION, RISE, ("7,1%-punt tot – 4,8%-punt", "7,1% tot – 4,8%"), "7,1% tot – 4,8%"),
}


def _ask(url: str, question: str, mode: str, stream: bool) -> tuple[dict, str]:
    """(the final /v1/ask response, the text the reader was shown)."""
    body = {"question": question, "mode": mode, "stream": stream}
    with httpx.Client(base_url=url, timeout=180) as client:
        if not stream:
            r = client.post("/v1/ask", json=body)
            assert r.status_code == 200, r.text
            return r.json(), r.json()["answer"]
        events, name = [], "message"
        with client.stream("POST", "/v1/ask", json=body) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    events.append((name, json.loads(line[5:])))
    assert events[-1][0] == "done", events[-1]
    shown = "".join(d["text"] for n, d in events if n == "delta")
    assert shown == events[-1][1]["answer"]
    return events[-1][1], shown


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("kind", list(CHANGES))
def test_generative_sentence_with_a_changed_figure_is_dropped(api_with_llm, fault_llm, kind, stream):
    question, where, change, never = CHANGES[kind]
    fault_llm.script({"say": f"{{sentence:{where}}}", "replace": [list(change)]})
    answer, shown = _ask(api_with_llm(fault_llm), question, "generative", stream)
    assert never not in shown
    assert any(never in s for s in answer["unsupported_sentences"]), answer["unsupported_sentences"]
    assert answer["mode_used"] == "extractive" and answer["fallback_reason"] == "llm_unsupported", answer


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("kind", list(CHANGES))
def test_plain_rewrite_with_a_changed_figure_is_replaced_by_the_source_sentence(api_with_llm, fault_llm, kind, stream):
    question, where, change, never = CHANGES[kind]
    fault_llm.script({"say": "{lines}", "replace": [list(change)]})
    answer, shown = _ask(api_with_llm(fault_llm), question, "plain", stream)
    assert never not in shown and where in shown  # the source sentence, quoted
    assert any(never in s for s in answer["unsupported_sentences"]), answer["unsupported_sentences"]
    quoted = next(s for s in answer["sentences"] if where in s["text"])
    assert quoted["how"] == "quoted" and any(r.startswith("rewrite rejected: ") for r in quoted["reasons"]), quoted


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_figures_said_right_are_kept_in_dutch_and_in_english_notation(api_with_llm, fault_llm, stream):
    url = api_with_llm(fault_llm)
    fault_llm.script({"say": f"{{sentence:{RISE}}}"})
    answer, shown = _ask(url, PARTICIPATION, "generative", stream)
    assert answer["mode_used"] == "generative" and RISE in shown, answer
    fault_llm.script({"say": "Between 2003 and 2023 the labour participation rate of the group with a non-European "
                             "background rose from 57.1% to 68.3% {cite:57,1%}."})
    answer, shown = _ask(url, "How much did the labour participation rate of people with a non-European background "
                              "rise between 2003 and 2023?", "generative", stream)
    assert answer["mode_used"] == "generative" and "from 57.1% to 68.3%" in shown, answer
