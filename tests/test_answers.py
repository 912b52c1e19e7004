"""The homework's structured answers: carry_over and wildcard have a stated form that a self-check enforces."""
import numpy as np
import pandas as pd
import pytest

from helpers import metrics
from helpers.notebook import answers


@pytest.fixture
def fine():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(5, 0.3), size=400)
    labels = np.where(rng.random(400) < probs.max(axis=1), probs.argmax(axis=1), rng.integers(0, 5, 400))
    return metrics.coverage_table(probs, labels, answers.FINE_THRESHOLDS)


def carry(fine, model="distilled"):
    row = fine[np.isclose(fine.threshold, 0.70)].iloc[0]
    return {"model": model, "coverage_at_0.70": float(row.coverage), "accuracy_at_0.70": float(row.accuracy),
            "n_covered_at_0.70": int(row.n_covered), "lowest_threshold_95": answers.lowest_threshold_reaching(fine)}


def test_a_carry_over_read_from_the_table_passes(fine, capsys):
    assert answers.check_carry_over(carry(fine), fine, arms=["vanilla", "distilled"])
    assert "all checks hold" in capsys.readouterr().out


def test_every_problem_is_listed_with_the_key_and_the_fix(fine):
    bad = carry(fine)
    bad.pop("model")
    bad["coverage_at_0.70"] = 47.2                 # a percentage
    bad["n_covered_at_0.70"] = 3.0                 # a float
    bad["lowest_threshold_95"] = "never"
    bad["extra"] = 1
    with pytest.raises(answers.AnswerError) as err:
        answers.check_carry_over(bad, fine)
    msg = str(err.value)
    for needle in ("'model'] is missing", "'coverage_at_0.70'] must be in [0, 1]", "must be an int",
                   "'lowest_threshold_95'] must be a float threshold or the string 'none'", "'extra'] is not part"):
        assert needle in msg, needle


def test_numbers_that_disagree_with_the_table_are_named(fine):
    bad = carry(fine)
    bad["accuracy_at_0.70"] = 0.5
    bad["lowest_threshold_95"] = 0.5
    with pytest.raises(answers.AnswerError, match="copy it from `fine`") as err:
        answers.check_carry_over(bad, fine)
    assert "lowest threshold in your table with accuracy >= 0.95" in str(err.value)


def test_lowest_threshold_is_the_lowest_reaching_and_nan_never_reaches():
    table = pd.DataFrame({"threshold": [0.5, 0.6, 0.7, 0.8], "coverage": [1, 0.5, 0.2, 0.0],
                          "accuracy": [0.9, 0.95, 0.97, float("nan")], "n_covered": [10, 5, 2, 0]})
    assert answers.lowest_threshold_reaching(table) == 0.6          # >= 0.95 counts: equality reaches
    table["accuracy"] = [0.9, 0.94, 0.949, float("nan")]
    assert answers.lowest_threshold_reaching(table) == "none"


def test_the_table_must_have_the_stated_thresholds(fine):
    lab = metrics.coverage_table(np.eye(3)[[0, 1, 2]], np.array([0, 1, 2]), (0.5, 0.6, 0.7, 0.8, 0.9))
    with pytest.raises(answers.AnswerError, match="thresholds"):
        answers.check_carry_over(carry(lab), lab)
    with pytest.raises(answers.AnswerError, match="fine must be your coverage table"):
        answers.check_carry_over(carry(fine), fine.to_dict())


def test_model_must_be_a_measured_arm(fine):
    with pytest.raises(answers.AnswerError, match="must be one of"):
        answers.check_carry_over(carry(fine, model="teacher"), fine, arms=["vanilla", "distilled"])


WILD = {"recipe": "T_d = 16", "predicted_macro_f1": 0.27, "predicted_ece": 0.03,
        "mechanism": "heavier softening flattens the targets further so calibration improves "
                     "and the argmax barely moves"}


def test_wildcard_form(capsys):
    assert answers.check_wildcard(WILD, measured=["vanilla", "distilled"])
    with pytest.raises(answers.AnswerError) as err:
        answers.check_wildcard({**WILD, "recipe": "distilled", "predicted_ece": "low", "mechanism": "it works"},
                               measured=["vanilla", "distilled"])
    msg = str(err.value)
    assert "one of the arms you measured" in msg and "'predicted_ece'] must be a float" in msg and "12 words" in msg
    with pytest.raises(answers.AnswerError, match="must be a dict"):
        answers.check_wildcard(["T_d = 16"])
