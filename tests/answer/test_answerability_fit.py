"""Fitting the answerability model (scripts/train_answerability.py): the sign-bounded logistic regression,
the threshold's false-abstention budget, and the shipped JSON's provenance."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from rag.answer import answerable
from rag.config import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import train_answerability as ta  # noqa: E402


def rows_of(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], source: str = "dev") -> list[dict]:
    return [{"group": f"g{i}", "source": source, "label": int(label), "lang": "nl",
             "features": dict(zip(names, map(float, row)))} for i, (row, label) in enumerate(zip(x, y))]


def test_free_coefficients_are_scikit_learns_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = (x @ [1.5, -0.7] + rng.normal(size=300) > 0).astype(int)
    names = ("lexical", "type_expected")  # no sign bound on either
    model = ta._regression(rows_of(x, y, names), names, c=0.1, dev_weight=3.0)
    z = (x - x.mean(0)) / x.std(0)
    reference = LogisticRegression(C=0.1, max_iter=2000).fit(z, y, sample_weight=np.full(300, 3.0))
    assert np.allclose(model.coef, reference.coef_[0], atol=1e-3)
    assert model.intercept == pytest.approx(reference.intercept_[0], abs=1e-3)


def test_a_signal_cannot_take_the_wrong_sign():
    # Labels that fall as coverage rises: a free fit gives coverage a negative weight; bounded, it is 0,
    # while a feature without a bound (lexical) still takes its negative weight.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    y = (-x[:, 0] - x[:, 1] + rng.normal(size=400) > 0).astype(int)
    names = ("coverage", "lexical")
    model = ta._regression(rows_of(x, y, names), names, c=1.0, dev_weight=1.0)
    assert model.coef[0] == pytest.approx(0.0, abs=1e-9)
    assert model.coef[1] < -0.5
    assert ta.SIGNS["coverage"] == 1 and ta.SIGNS["type_missing"] == -1


def test_threshold_spends_at_most_the_false_abstention_budget_beyond_the_floor():
    # 20 answerable questions (one refused by the floor: probability 0) and 20 unanswerable ones.
    answerable_p = [0.0] + [0.1, 0.2] + [0.9] * 17
    unanswerable_p = [0.15] * 10 + [0.6] * 10
    prob, labels = answerable_p + unanswerable_p, [1] * 20 + [0] * 20
    strict = ta.choose_threshold(prob, labels, budget=0.0)
    assert ta.scores(prob, labels, strict)["false_abstentions"] == 1  # the floor's only
    spent = ta.choose_threshold(prob, labels, budget=0.05)
    assert ta.scores(prob, labels, spent)["false_abstentions"] == 2  # one more: 5 % of 20
    assert ta.scores(prob, labels, spent)["f1"] > ta.scores(prob, labels, strict)["f1"]


def test_shipped_model_records_how_it_was_fitted():
    meta = json.loads(answerable.MODEL_PATH.read_text(encoding="utf-8"))["meta"]
    assert meta["trained_by"].startswith("scripts/train_answerability.py")
    assert meta["false_abstention_budget"] == ta.FALSE_ABSTENTION_BUDGET
    assert set(meta["sources"]) == ta.SOURCES
    model = answerable.load_model()
    for name, weight in zip(model.features, model.coef):
        assert weight * ta.SIGNS.get(name, 0) >= 0, name
