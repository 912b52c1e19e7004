"""autograder/checks/bugs.py: the bug hunt's fixed_kd_loss, judged bug by bug on the colleague's own code."""
from __future__ import annotations

import pytest
from checkgrading import grade, parts

from autograder.examples import variants as V


@pytest.mark.parametrize("fixes, expected", [
    ((), {}), (("softmax_input",), {"softmax_input"}), (("missing_T2",), {"missing_T2"}),
    (("alpha_swapped",), {"alpha_swapped"}), (("softmax_input", "alpha_swapped"), {"softmax_input", "alpha_swapped"}),
    (("softmax_input", "missing_T2", "alpha_swapped"), {"softmax_input", "missing_T2", "alpha_swapped"}),
])
def test_fixed_kd_loss_judges_each_bug_on_the_colleagues_code(fixes, expected):
    r = grade("lab_fixed_kd_loss", V.fixed_copy(*fixes))
    assert {k[len("fixed_"):] for k, v in parts(r).items() if v > 0} == set(expected), parts(r)
    assert r.points == len(expected)


def test_fixed_kd_loss_is_not_a_fresh_loss_or_an_alias():
    r = grade("lab_fixed_kd_loss", V.kd_source("correct") + V.FIXED_BY_ALIAS)
    assert r.points == 0 and "not by the colleague's def" in r.parts[0].message
    for src in [V.kd_source("correct", "fixed_kd_loss"), *V.KD_ALTERNATIVES.values()]:
        r = grade("lab_fixed_kd_loss", src.replace("def kd_loss_fn", "def fixed_kd_loss"))
        assert r.points == 0 and "colleague's code" in r.parts[0].message
    # A distractor "fixed" as well costs one point, the three real fixes keep theirs.
    r = grade("lab_fixed_kd_loss", V.fixed_copy("softmax_input", "missing_T2", "alpha_swapped", "kl_reversed"))
    assert r.points == 2 and parts(r)["changed_correct_code"] == -1


def test_fixed_kd_loss_with_annotations_is_still_the_colleagues_code():
    src = V.fixed_copy("softmax_input", "missing_T2", "alpha_swapped").replace(
        "alpha=0.7):", "alpha: float = 0.7) -> torch.Tensor:").replace("import torch.nn.functional as F",
                                                                    "import torch\nimport torch.nn.functional as F")
    assert grade("lab_fixed_kd_loss", src).points == 3
