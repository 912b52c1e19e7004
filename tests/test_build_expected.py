"""autograder/build_expected.py: the stored expected values are current, and their comparison ignores
float noise only."""
from __future__ import annotations

import pytest

from autograder import build_expected, checks


@pytest.fixture(scope="module")
def rebuilt_expected():
    return build_expected.build()


def test_stored_expected_values_are_current(rebuilt_expected):
    """float32 results differ in the last digits between CPUs: current means within float noise."""
    diffs = build_expected.differences(build_expected.load_stored(), rebuilt_expected)
    assert not diffs, ("autograder/expected/*.json is stale; run `python -m autograder build-expected` "
                       "and commit the files:\n" + "\n".join(diffs[:10]))


def test_expected_comparison_ignores_float_noise_but_not_a_changed_reference(rebuilt_expected):
    import copy

    import numpy as np
    stored = copy.deepcopy(rebuilt_expected)
    loss = stored["week6_lab"]["lab_kd_loss"]["reference"]["grid"][0]
    loss["value"] = float(np.nextafter(np.float32(loss["value"]), np.float32(1e9)))  # one float32 ulp
    f1 = stored["week6_lab"]["lab_per_tier_f1"]["reference"]["result"]["value"]
    f1["head"] += 1e-12
    assert build_expected.differences(stored, rebuilt_expected) == []

    loss["value"] *= 1 + 2 * checks.KD_RTOL  # a reference the judge would grade differently
    f1["tail"] += 2 * checks.METRIC_ATOL
    stored["week6_homework"]["hw_coverage_table"]["reference"]["result"]["value"]["columns"]["n_covered"][0] += 1
    diffs = build_expected.differences(stored, rebuilt_expected)
    assert len(diffs) == 3, diffs
    assert any("reference/grid/0/value" in d for d in diffs)
    assert any("lab_per_tier_f1" in d and "tail" in d for d in diffs)
