"""Predict, then observe: refusal before a prediction, the side-by-side after, the marked JSON line."""
import json

import pytest

from helpers import predict as P


@pytest.fixture(autouse=True)
def fresh():
    P.reset()
    yield
    P.reset()


def test_observe_refuses_without_a_prediction_and_shows_nothing(capsys):
    with pytest.raises(P.PredictionMissing) as err:
        P.observe("teacher_tail_f1", 0.1987)
    assert "teacher_tail_f1" in str(err.value) and "predict(" in str(err.value)
    assert "0.198" not in str(err.value)
    assert "0.198" not in capsys.readouterr().out


def test_require_refuses_until_predicted():
    with pytest.raises(P.PredictionMissing):
        P.require("most_peaked_tier")
    P.predict("most_peaked_tier", "head", "more data, sharper evidence")
    assert P.require("most_peaked_tier").value == "head"


def test_numeric_cycle_shows_prediction_actual_and_error(capsys):
    P.predict("teacher_tail_f1", 0.35, "big model, few examples")
    assert "Recorded" in capsys.readouterr().out
    rec = P.observe("teacher_tail_f1", 0.198)
    out = capsys.readouterr().out
    assert "0.350" in out and "0.198" in out and "-0.152" in out
    assert rec["error"] == pytest.approx(0.198 - 0.35)
    (line,) = [l for l in out.splitlines() if l.startswith(P.MARKER)]
    data = json.loads(line[len(P.MARKER):])
    assert data == {"key": "teacher_tail_f1", "prediction": 0.35, "actual": 0.198,
                    "error": pytest.approx(-0.152), "reason": "big model, few examples"}
    assert P.parse_observations(out) == [data]


def test_choice_cycle_reports_match_or_miss(capsys):
    P.predict("f1_lift_lands", "Tail", "soft targets help rare classes")
    assert P.PREDICTIONS["f1_lift_lands"].value == "tail"
    assert P.observe("f1_lift_lands", "head")["error"] == "miss"
    P.predict("prior_best_recipe", "VANILLA+t", "cheap and calibrated")
    assert P.PREDICTIONS["prior_best_recipe"].value == "vanilla+T"
    assert P.observe("prior_best_recipe", "vanilla+T")["error"] == "match"
    assert "Updated" not in capsys.readouterr().out


@pytest.mark.parametrize("key,value", [("teacher_tail_f1", 1.5), ("teacher_tail_f1", "high"),
                                       ("teacher_tail_f1", None), ("most_peaked_tier", "bottom"),
                                       ("ece_follows_f1", True), ("custom", ...)])
def test_bad_predictions_are_refused_with_the_expected_form(key, value):
    with pytest.raises(ValueError, match=key):
        P.predict(key, value, "a reason")
    assert key not in P.PREDICTIONS


def test_a_reason_is_required():
    with pytest.raises(ValueError, match="reason"):
        P.predict("most_peaked_tier", "head", "")


def test_re_predicting_says_updated(capsys):
    P.predict("custom_key", 3, "first guess")
    P.predict("custom_key", 4, "second guess")
    assert "Updated" in capsys.readouterr().out
    assert P.PREDICTIONS["custom_key"].value == 4.0
