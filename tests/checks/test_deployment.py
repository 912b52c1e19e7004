"""autograder/checks/deployment.py: the deployment choice, judged on the course data."""
from __future__ import annotations

import pytest
from checkgrading import grade, parts


def _artifact(model="vanilla+T", scenario="B", threshold=0.7, **change):
    from helpers import deploy
    f = deploy.arm_facts(model, threshold, "synthetic")
    art = dict(scenario=scenario, model=model, threshold=threshold, coverage=round(f["coverage"], 4),
               accuracy=round(f["accuracy"], 4), decision_rule="auto-close at >= 0.7, else legal review",
               justification=f"{model} has ECE {f['ece']:.3f} and NLL {f['nll']:.3f} on the eval half.",
               flip_constraint="ece_cap", switch_point=round(f["ece"], 3), alternative="distilled+T")
    art.update(change)
    return "deployment = " + repr(art) + "\n"


@pytest.mark.parametrize("kw, lost", [
    ({}, set()),
    ({"coverage": 0.61, "accuracy": 0.93}, {"numbers_match_model"}),                     # invented
    ({"model": "distilled", "alternative": "vanilla+T"}, {"scenario_rule"}),             # raw ECE above the cap
    ({"justification": "It is calibrated, with an ECE of 0.011 on the eval half."}, {"justification_cites_model"}),
    ({"justification": "It is calibrated: about 0.5 of what raw vanilla shows."}, {"justification_cites_model"}),
    ({"alternative": "vanilla+T"}, {"constraint_switch_alternative"}),
    ({"switch_point": 999}, {"constraint_switch_alternative"}),
    ({"flip_constraint": "the regulator's ECE cap"}, {"constraint_switch_alternative"}),
    ({"model": "vanilla", "scenario": "A", "threshold": None}, set(RULES_ALL := {
        "numbers_match_model", "scenario_rule", "justification_cites_model", "constraint_switch_alternative"})),
    ({"scenario": "C", "model": "distilled", "threshold": None, "alternative": "vanilla",
      "flip_constraint": "tail_f1_floor", "switch_point": "own"}, set()),
])
def test_deployment_is_judged_on_the_course_data(kw, lost, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_SOURCE", "synthetic")
    from helpers import deploy
    model = kw.pop("model", "vanilla+T")
    scenario, threshold = kw.pop("scenario", "B"), kw.pop("threshold", 0.7)
    if kw.get("switch_point") == "own":
        kw["switch_point"] = round(deploy.arm_facts(model, threshold, "synthetic")["f1_tail"], 3)
    src = _artifact(model, scenario, threshold, **kw)
    if "coverage" in kw:  # invented numbers replace the recomputed ones
        src = _artifact(model, "B", 0.7, **kw)
    r = grade("lab_deployment", src)
    assert {k for k, v in parts(r).items() if not v} == lost, [p.message for p in r.parts if not p.passed]


def test_deployment_other_models_numbers_lose_the_numbers_point_and_messages_hide_the_key(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_SOURCE", "synthetic")
    from helpers import deploy
    other = deploy.arm_facts("distilled", 0.7, "synthetic")
    r = grade("lab_deployment", _artifact(coverage=round(other["coverage"], 4), accuracy=round(other["accuracy"], 4)))
    assert parts(r)["numbers_match_model"] == 0 and r.points == 3
    own = deploy.arm_facts("vanilla+T", 0.7, "synthetic")
    message = " ".join(p.message for p in r.parts)
    assert f"{own['coverage']:.3f}" not in message and f"{own['accuracy']:.3f}" not in message
    assert f"{own['coverage']:.4f}" in " ".join(p.detail for p in r.parts)   # the instructor sees them
    assert grade("lab_deployment", _artifact(scenario="Z")).points == 0
