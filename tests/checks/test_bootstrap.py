"""autograder/checks/bootstrap.py: the homework's paired bootstrap and the lab's use and reading of it."""
from __future__ import annotations

import pytest
from checkgrading import grade, parts

from autograder import checks, seeding
from autograder.examples import variants as V


def test_homework_bootstrap_paired_unpaired_quantiles_and_broken():
    assert grade("hw_bootstrap_ci", V.BOOTSTRAP_PAIRED).points == 3
    # Unpaired: charged once, by the pairing part (its centre is right).
    assert parts(grade("hw_bootstrap_ci", V.BOOTSTRAP_UNPAIRED)) == {"form_and_consistent": 1, "matches_reference": 1,
                                                                     "paired": 0}
    # ... on any stream and any drawn seed: an unpaired median carries the unpaired deltas' noise (CI's
    # seed sweep found base 291028859863088068, where seed 42's unpaired median sat 0.22 paired sigma off).
    entry, seed = seeding.expected_for(checks.BY_ID["hw_bootstrap_ci"], 291028859863088068)
    for offset in (0, 1):
        unpaired = V.BOOTSTRAP_UNPAIRED.replace("RandomState(seed)", f"RandomState(seed + {offset})")
        assert parts(grade("hw_bootstrap_ci", unpaired, seed=seed, expected={"hw_bootstrap_ci": entry})) == \
            {"form_and_consistent": 1, "matches_reference": 1, "paired": 0}
    # A 90% interval is told from the 95% one the instructions ask for.
    r = grade("hw_bootstrap_ci", V.BOOTSTRAP_90)
    assert parts(r) == {"form_and_consistent": 1, "matches_reference": 0, "paired": 1}
    assert "90% one" in " ".join(p.message for p in r.parts)
    # A different (valid) random stream stays inside the Monte Carlo tolerance.
    for offset in (1, 12345):
        other_rng = V.BOOTSTRAP_PAIRED.replace("np.random.RandomState(seed)", f"np.random.RandomState(seed + {offset})")
        assert grade("hw_bootstrap_ci", other_rng).points == 3
    swapped = V.BOOTSTRAP_PAIRED.replace("score_fn(arm_b[idx], labels[idx]) - score_fn(arm_a[idx], labels[idx])",
                                         "score_fn(arm_a[idx], labels[idx]) - score_fn(arm_b[idx], labels[idx])")
    r = grade("hw_bootstrap_ci", swapped)
    assert parts(r)["matches_reference"] == 0 and "opposite sign" in " ".join(p.message for p in r.parts)
    lying = V.BOOTSTRAP_PAIRED.replace('"excludes_zero": bool(lo > 0 or hi < 0)', '"excludes_zero": False')
    assert parts(grade("hw_bootstrap_ci", lying))["form_and_consistent"] == 0


LAB_CONTEXT = """
import numpy as np
from helpers import artifacts
TIERS = ("head", "mid", "tail")
vanilla, distilled = artifacts.load("vanilla", "synthetic"), artifacts.load("distilled", "synthetic")
labels, tiers = vanilla.labels, vanilla.tiers
"""


@pytest.mark.parametrize("kw, expected", [
    ({}, {"used_on_the_right_arms": 1, "real_lift_tiers": 1, "tail_reading": 1}),
    ({"a": "distilled", "b": "vanilla"}, {"used_on_the_right_arms": 0}),
    ({"metric": "accuracy"}, {"used_on_the_right_arms": 0}),
    ({"real": "{'head', 'mid', 'tail'}"}, {"real_lift_tiers": 0}),
    ({"reading": "R3"}, {"tail_reading": 0}),
])
def test_lab_bootstrap_use_and_reading(kw, expected, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_SOURCE", "synthetic")
    r = grade("lab_bootstrap_ci", LAB_CONTEXT + V.bootstrap_use(**kw))
    got = parts(r)
    assert {k: got[k] for k in expected} == expected and r.points == 3 - list(expected.values()).count(0), got
    if kw.get("a") == "distilled":
        assert "pass vanilla first" in r.parts[0].message
