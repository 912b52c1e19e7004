"""The deployment artifact's structural self-check: a passing artifact, and each rule failing alone."""
import numpy as np
import pandas as pd
import pytest

from helpers.deploy import best_arm, check_deployment

COVERAGE = pd.DataFrame({"threshold": [0.5, 0.7, 0.9], "coverage": [0.91, 0.7734, 0.512],
                         "accuracy": [0.80, 0.8612, np.nan], "n_covered": [2926, 2487, 0]})
TABLES = {"calibration": pd.DataFrame({"ece": [0.1308, 0.0263, 0.0546], "nll": [1.5515, 1.4297, 1.3321]},
                                      index=["vanilla", "vanilla+T", "distilled"]),
          "coverage": COVERAGE}
GOOD = {"scenario": "B", "model": "distilled", "threshold": 0.7, "coverage": 0.7734, "accuracy": 0.8612,
        "decision_rule": "auto-close at confidence >= 0.7, else legal review",
        "justification": "distilled NLL 1.332 beats vanilla+T at 1.4297 on the eval half",
        "flip_constraint": "regulator ECE ceiling", "switch_point": 0.05, "alternative": "vanilla+T"}


def rules(report):
    return {r.rule.split(".")[0]: r.ok for r in report.rules}


def test_a_well_formed_artifact_passes_and_prints_it():
    report = check_deployment(GOOD, COVERAGE, TABLES)
    assert report.ok, str(report)
    assert "All structural rules hold" in str(report) and "&#10004;" in report._repr_html_()
    assert list(report.to_frame().columns) == ["rule", "ok", "detail"]


@pytest.mark.parametrize("change,rule,words", [
    ({"threshold": 0.75}, "1", "not a row"),
    ({"coverage": 0.80}, "1", "differs"),
    ({"accuracy": 0.90}, "1", "differs"),
    ({"threshold": 0.9, "coverage": 0.512, "accuracy": 0.5}, "1", "NaN"),
    ({"threshold": "0.7"}, "1", "must be numbers"),
    ({"justification": "distilled is better calibrated and that matters here"}, "2", "no number"),
    ({"justification": "distilled NLL 1.9 wins because the 3 reviewers read it"}, "2", "no number"),
    ({"justification": "short"}, "2", "at least a sentence"),
    ({"switch_point": "when ECE matters"}, "3", "switch_point"),
    ({"flip_constraint": ""}, "3", "flip_constraint"),
    ({"alternative": "Distilled"}, "3", "differ"),
    ({"scenario": "D"}, "fields", "scenario"),
])
def test_each_rule_fails_on_its_own(change, rule, words):
    report = check_deployment({**GOOD, **change}, COVERAGE, TABLES)
    result = rules(report)
    assert not report.ok and not result[rule]
    assert all(ok for name, ok in result.items() if name != rule), str(report)
    assert words in str(report)


def test_percent_and_rounded_citations_count():
    for text in ("ECE falls to 5.5% for distilled, a real gain", "ECE 0.055 for distilled against 0.131 raw"):
        assert check_deployment({**GOOD, "justification": text}, COVERAGE, TABLES).ok


def test_missing_keys_and_wrong_type_are_named():
    partial = {k: v for k, v in GOOD.items() if k != "alternative"}
    assert "alternative" in str(check_deployment(partial, COVERAGE, TABLES))
    assert not check_deployment(["not", "a", "dict"], COVERAGE, TABLES).ok


def test_best_arm_per_scenario():
    table = pd.DataFrame({"macro_f1": [0.28, 0.28, 0.29], "ece": [0.13, 0.026, 0.055],
                          "nll": [1.55, 1.43, 1.33], "f1_tail": [0.12, 0.12, 0.13]},
                         index=["vanilla", "vanilla+T", "distilled"])
    assert best_arm(table, "A") == "distilled"
    assert best_arm(table, "B") == "vanilla+T"        # distilled misses the 0.05 ECE cap
    assert best_arm(table, "C") == "distilled"
