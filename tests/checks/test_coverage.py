"""autograder/checks/coverage.py: the coverage table's threshold equality and empty thresholds."""
from __future__ import annotations

from checkgrading import grade, parts

from autograder.examples import variants as V


def test_coverage_table_nan_for_empty_threshold():
    ok = ("import numpy as np, pandas as pd\ndef coverage_table(p, y, thresholds=(0.5,)):\n"
          "    c = p.max(1); hit = p.argmax(1) == y\n"
          "    return pd.DataFrame([{'threshold': t, 'coverage': (c >= t).mean(), "
          "'accuracy': hit[c >= t].mean() if (c >= t).any() else {empty}, 'n_covered': int((c >= t).sum())} "
          "for t in thresholds])\n")
    assert grade("lab_coverage_table", ok.replace("{empty}", "float('nan')")).points == 2
    r = grade("hw_coverage_table", ok.replace("{empty}", "0.0"))
    assert parts(r) == {"values": 1, "empty_threshold": 0}


def test_coverage_threshold_equality():
    assert grade("lab_coverage_table", V.COVERAGE_TABLE).points == 2
    r = grade("hw_coverage_table", V.COVERAGE_TABLE_STRICT)
    assert parts(r) == {"values": 0, "empty_threshold": 1} and "> instead of >=" in r.parts[0].message
