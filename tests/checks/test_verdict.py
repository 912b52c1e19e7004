"""autograder/checks/verdict.py: a verdict survives JSON (grades.json and the notebook's metadata hold it)."""
from __future__ import annotations

import json

from checkgrading import grade

from autograder import checks
from autograder.examples import variants as V


def test_verdicts_round_trip_through_json():
    r = grade("lab_kd_loss", V.kd_source("bug_missing_T2"))
    again = checks.Verdict.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again == r and 0 < again.points < again.max and any(not p.passed for p in again.parts)
