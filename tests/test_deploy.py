"""The deployment artifact, checked against the course data: each rule passes and fails on its own."""
import pytest

from helpers import deploy
from helpers.deploy import best_arm, check_deployment, evaluate_deployment

SRC = "synthetic"


def artifact(model="vanilla+T", scenario="B", threshold=0.7, **change):
    f = deploy.arm_facts(model, threshold, SRC)
    art = {"scenario": scenario, "model": model, "threshold": threshold, "coverage": round(f["coverage"], 4),
           "accuracy": round(f["accuracy"], 4), "decision_rule": "auto-close at confidence >= 0.7, else legal review",
           "justification": f"{model} has ECE {f['ece']:.3f} on the eval half, under the cap",
           "flip_constraint": "regulator ECE ceiling", "switch_point": 0.03, "alternative": "distilled+T"}
    art.update(change)
    return art


def failing(report):
    return {r.rule for r in report.rules if not r.ok}


def test_a_well_formed_artifact_passes_and_prints_the_recomputed_numbers():
    report = check_deployment(artifact(), SRC)
    assert report.ok, str(report)
    assert "All rules hold" in str(report) and "&#10004;" in report._repr_html_()
    assert list(report.to_frame().columns) == ["rule", "ok", "detail"]


@pytest.mark.parametrize("change,rule", [
    ({"coverage": 0.99}, "numbers_match_model"),
    ({"accuracy": 0.10}, "numbers_match_model"),
    ({"justification": "it is the best calibrated model we have, by far"}, "justification_cites_model"),
    ({"justification": "its ECE is 0.999 on the eval half, which is fine"}, "justification_cites_model"),
    ({"switch_point": "when ECE matters"}, "constraint_switch_alternative"),
    ({"flip_constraint": ""}, "constraint_switch_alternative"),
    ({"alternative": "Vanilla + T"}, "constraint_switch_alternative"),
    ({"alternative": "a bigger model"}, "constraint_switch_alternative"),
])
def test_each_rule_fails_on_its_own(change, rule):
    assert failing(evaluate_deployment(artifact(**change), SRC)) == {rule}


def test_the_scenario_rule_is_checked_on_the_named_models_own_numbers():
    # Raw distilled misses B's ECE cap on the eval half of the synthetic data (about 0.058).
    assert deploy.arm_facts("distilled", None, SRC)["ece"] > deploy.ECE_CAP
    assert failing(evaluate_deployment(artifact("distilled", alternative="vanilla+T"), SRC)) == {"scenario_rule"}
    assert evaluate_deployment(artifact("distilled+T", alternative="vanilla+T"), SRC).ok
    # C is a dashboard: no threshold needed, every eval row counts.
    assert evaluate_deployment(artifact("distilled", "C", None, alternative="vanilla"), SRC).ok
    assert failing(evaluate_deployment(artifact("vanilla", "A", None), SRC)) == set(deploy.RULES)


def test_percent_citations_and_model_name_spellings_count():
    f = deploy.arm_facts("vanilla+T", 0.7, SRC)
    text = f"the automatic share is {100 * f['coverage']:.1f}% of the eval half at this threshold"
    assert evaluate_deployment(artifact(model="Vanilla + T", justification=text), SRC).ok


def test_bad_input_is_named():
    assert "scenario must be one of" in str(check_deployment(artifact(scenario="D"), SRC))
    assert "model must name an arm" in str(check_deployment({**artifact(), "model": "teacher"}, SRC))
    assert not check_deployment(["not", "a", "dict"], SRC).ok


def test_best_arm_per_scenario():
    import pandas as pd
    table = pd.DataFrame({"macro_f1": [0.28, 0.28, 0.29], "ece": [0.13, 0.026, 0.055],
                          "nll": [1.55, 1.43, 1.33], "f1_tail": [0.12, 0.12, 0.13]},
                         index=["vanilla", "vanilla+T", "distilled"])
    assert best_arm(table, "A") == "distilled"
    assert best_arm(table, "B") == "vanilla+T"        # distilled misses the 0.05 ECE cap
    assert best_arm(table, "C") == "distilled"
