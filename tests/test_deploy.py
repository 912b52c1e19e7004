"""The deployment artifact, checked against the course data: each rule passes and fails on its own,
and each way of gaming it a reviewer found loses its point."""
import re

import pytest

from helpers import deploy
from helpers.deploy import best_arm, check_deployment, evaluate_deployment
from helpers.precision import cited_numbers, matches, written_decimals

SRC = "synthetic"


def artifact(model="vanilla+T", scenario="B", threshold=0.7, **change):
    f = deploy.arm_facts(model, threshold, SRC)
    art = {"scenario": scenario, "model": model, "threshold": threshold, "coverage": f["coverage"],
           "accuracy": f["accuracy"], "decision_rule": "auto-close at confidence >= 0.7, else legal review",
           "justification": f"{model} has ECE {f['ece']:.3f} on the eval half, under the 0.05 cap",
           "flip_constraint": "ece_cap", "switch_point": round(f["ece"], 3), "alternative": "distilled+T"}
    art.update(change)
    return art


def failing(report):
    return {r.rule for r in report.rules if not r.ok}


def numbers_in(report):
    """Every number with three or more decimals the student can read in the report."""
    return {float(x) for x in re.findall(r"\d+\.\d{3,}", str(report) + report._repr_html_())}


def test_a_well_formed_artifact_passes_and_shows_no_recomputed_number():
    report = check_deployment(artifact(), SRC)
    assert report.ok, str(report)
    assert "All rules hold" in str(report) and "&#10004;" in report._repr_html_()
    assert list(report.to_frame().columns) == ["rule", "ok", "message"]
    assert numbers_in(report) == set()


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


# ------------------------------------------------------------------ the gaming a reviewer found
def test_a_one_decimal_number_is_not_a_citation():
    # "0.5" matched some metric of the model or its alternative at one decimal.
    report = evaluate_deployment(artifact(justification="vanilla+T is about 0.5 accurate on the eval half"), SRC)
    assert failing(report) == {"justification_cites_model"}
    assert "no number with at least 3 decimals" in str(report)


def test_citations_must_be_eval_half_numbers_and_one_the_models_own():
    f = deploy.arm_facts("vanilla+T", 0.7, SRC)
    spray = f"vanilla+T has ECE {f['ece']:.3f}; also 0.123, 0.456 and 0.789 on the eval half"
    assert failing(evaluate_deployment(artifact(justification=spray), SRC)) == {"justification_cites_model"}
    d = deploy.arm_facts("distilled", 0.7, SRC)
    only_other = f"raw distilled has ECE {d['ece']:.3f} on the eval half, above the cap"
    report = evaluate_deployment(artifact(justification=only_other), SRC)
    assert failing(report) == {"justification_cites_model"} and "none of the quoted numbers" in str(report)
    # Comparisons with the lab's arms are fine once the model's own number is there.
    both = f"vanilla+T has ECE {f['ece']:.3f} where raw distilled has {d['ece']:.3f} on the eval half"
    assert evaluate_deployment(artifact(justification=both), SRC).ok


def test_the_whole_validation_set_is_not_the_eval_half():
    from helpers import artifacts, calibration, metrics
    ps = artifacts.load("vanilla", SRC)
    T = deploy.arm_facts("vanilla+T", 0.7, SRC)["temperature"]
    probs = metrics.softmax(calibration.apply_temperature(ps.logits, T))
    covered = probs.max(axis=1) >= 0.7
    whole = {"coverage": float(covered.mean()),
             "accuracy": float((probs.argmax(axis=1)[covered] == ps.labels[covered]).mean())}
    f = deploy.arm_facts("vanilla+T", 0.7, SRC)
    assert abs(whole["coverage"] - f["coverage"]) < 0.005 or abs(whole["accuracy"] - f["accuracy"]) < 0.005
    assert failing(evaluate_deployment(artifact(**whole), SRC)) == {"numbers_match_model"}
    full_ece = float(metrics.ece(probs, ps.labels))
    text = f"vanilla+T has ECE {full_ece:.4f} on validation, under the 0.05 cap"
    assert failing(evaluate_deployment(artifact(justification=text), SRC)) == {"justification_cites_model"}


def test_a_neighbouring_models_numbers_do_not_pass():
    other = deploy.arm_facts("distilled+T", 0.7, SRC)
    report = evaluate_deployment(artifact(coverage=other["coverage"], accuracy=other["accuracy"]), SRC)
    assert failing(report) == {"numbers_match_model"}


def test_three_decimals_are_too_coarse_for_coverage_and_accuracy():
    f = deploy.arm_facts("vanilla+T", 0.7, SRC)
    assert evaluate_deployment(artifact(coverage=round(f["coverage"], 4), accuracy=round(f["accuracy"], 4)), SRC).ok
    off = round(f["coverage"], 3)
    if abs(off - f["coverage"]) > 0.00005:
        assert failing(evaluate_deployment(artifact(coverage=off), SRC)) == {"numbers_match_model"}


@pytest.mark.parametrize("change,needle", [
    ({"switch_point": 999}, "outside what ECE can be"),
    ({"switch_point": 0.5}, "switch_point is not vanilla+T's own eval-half ECE"),
    ({"flip_constraint": "if the regulator changes its mind"}, "flip_constraint must be one of"),
    ({"flip_constraint": "tail_f1_floor"}, "for scenario B"),
])
def test_switch_point_and_flip_constraint_are_held_to_their_meaning(change, needle):
    report = evaluate_deployment(artifact(**change), SRC)
    assert failing(report) == {"constraint_switch_alternative"}
    assert needle in str(report)


def test_each_constraint_flips_at_the_models_own_value():
    f = deploy.arm_facts("vanilla+T", 0.7, SRC)
    for key in ("ece_cap", "nll_cap", "coverage_floor", "accuracy_floor"):
        value = round(f[deploy.CONSTRAINTS[key]["metric"]], 4)
        assert evaluate_deployment(artifact(flip_constraint=key, switch_point=value), SRC).ok, key
    c = deploy.arm_facts("distilled", None, SRC)
    assert evaluate_deployment(artifact("distilled", "C", None, alternative="vanilla", flip_constraint="Tail F1 floor",
                                        switch_point=round(c["f1_tail"], 3),
                                        justification=f"distilled keeps tail F1 {c['f1_tail']:.3f} on the eval "
                                                      "half"), SRC).ok


def test_failure_messages_never_show_the_recomputed_numbers():
    f = deploy.arm_facts("vanilla+T", 0.7, SRC)
    wrong = artifact(coverage=0.5, accuracy=0.5, switch_point=0.5, justification="it has an ECE of 0.999 now")
    report = check_deployment(wrong, SRC)
    assert failing(report) == {"numbers_match_model", "justification_cites_model", "constraint_switch_alternative"}
    secret = [f[k] for k in ("coverage", "accuracy", "ece", "nll", "macro_f1", "f1_tail")]
    shown = numbers_in(report)
    assert not any(matches(x, v, written_decimals(x)) for x in shown for v in secret), shown
    # The instructor's detail has them.
    assert f"{f['coverage']:.4f}" in report.rules[0].detail


def test_the_scenario_rule_is_checked_on_the_named_models_own_numbers():
    # Raw distilled misses B's ECE cap on the eval half of the synthetic data (about 0.058).
    assert deploy.arm_facts("distilled", None, SRC)["ece"] > deploy.ECE_CAP
    assert failing(evaluate_deployment(artifact("distilled", alternative="vanilla+T"), SRC)) == {"scenario_rule"}
    assert evaluate_deployment(artifact("distilled+T", alternative="vanilla+T"), SRC).ok
    # C is a dashboard: no threshold needed, every eval row counts.
    c = deploy.arm_facts("distilled", None, SRC)
    assert evaluate_deployment(artifact("distilled", "C", None, alternative="vanilla", flip_constraint="tail_f1_floor",
                                        switch_point=c["f1_tail"]), SRC).ok
    assert failing(evaluate_deployment(artifact("vanilla", "A", None), SRC)) == set(deploy.RULES)


def test_a_dashboards_full_coverage_is_not_the_models_own_number():
    c = deploy.arm_facts("distilled", None, SRC)
    art = artifact("distilled", "C", None, alternative="vanilla", flip_constraint="tail_f1_floor",
                   switch_point=round(c["f1_tail"], 3), justification="distilled counts 100.0% of the eval half rows")
    assert failing(evaluate_deployment(art, SRC)) == {"justification_cites_model"}


def test_percent_citations_and_model_name_spellings_count():
    f = deploy.arm_facts("vanilla+T", 0.7, SRC)
    text = f"the automatic share is {100 * f['coverage']:.1f}% of the eval half at this threshold"
    assert evaluate_deployment(artifact(model="Vanilla + T", justification=text), SRC).ok


def test_numbers_are_read_at_the_precision_written():
    assert [c.text for c in cited_numbers("ECE 0.026 under the 0.05 cap, 41.2% closed, grid_Td4_a70, 0.7")] == \
        ["0.026", "41.2%"]
    assert written_decimals(0.4117) == 4 and written_decimals(0.5) == 1 and written_decimals(999) == 0
    assert matches(0.412, 0.41166, 3) and not matches(0.412, 0.41166, 3, min_decimals=4)
    assert not matches(0.5, 0.4731, 1) and not matches(0.5, 0.4996, 1, min_decimals=4)
    assert matches(0.41166123456, 0.41166, written_decimals(0.41166123456))  # unrounded copies match


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
