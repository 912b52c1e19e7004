"""autograder/checks/kd.py (lab_kd_loss): mutations lose the right parts, correct alternatives keep
them, fp16 keeps its point on every drawn seed."""
from __future__ import annotations

import pytest
from checkgrading import grade, parts

from autograder import build_expected, checks, seeding
from autograder.examples import variants as V


@pytest.mark.parametrize("mutation, expected, lost, words", [
    ("correct", 6, None, None),
    ("bug_softmax_input", 5, "soft_term", "log-probabilities"),
    ("bug_missing_T2", 5, "soft_term", "T_d**2 times too small"),
    ("bug_alpha_swapped", 5, "weights", "swapped"),
    ("kl_reversed", 5, "soft_term", "KL(student || teacher)"),
    ("reduction_mean", 5, "soft_term", "batchmean"),
    ("teacher_not_detached", 5, "teacher_detached", "detach"),
    ("log_of_softmax", 5, "fp16_and_large_logits", "log(softmax"),
])
def test_kd_loss_mutations(mutation, expected, lost, words):
    r = grade("lab_kd_loss", V.kd_source(mutation))
    assert r.points == expected, parts(r)
    if lost:
        assert parts(r)[lost] == 0
        msg = next(p.message for p in r.parts if p.name == lost)
        assert words in msg, msg


@pytest.mark.parametrize("name", sorted(V.KD_ALTERNATIVES))
def test_correct_alternative_formulations_earn_full_marks(name):
    r = grade("lab_kd_loss", V.KD_ALTERNATIVES[name])
    assert r.points == 6, [p.message for p in r.parts if not p.passed]


def test_returning_a_float_costs_the_gradient_only():
    r = grade("lab_kd_loss", V.KD_RETURNS_FLOAT)
    assert r.points == 5 and parts(r)["gradient"] == 0, parts(r)


def test_kd_loss_constant_colleague_and_reference():
    r = grade("lab_kd_loss", V.KD_CONSTANT)
    text = " ".join(p.message for p in r.parts)
    assert r.points == 0 and "same value whatever the inputs" in text and "swapped" not in text
    # The colleague's loss as one's own: its soft term, its weights and its undetached teacher.
    r = grade("lab_kd_loss", V.KD_COLLEAGUE)
    assert r.points == 3 and {k for k, v in parts(r).items() if not v} == {"soft_term", "weights", "teacher_detached"}
    r = grade("lab_kd_loss", V.KD_CALLS_REFERENCE)
    assert r.points == 0 and any(f.startswith("reference_call:kd") for f in r.flags), r.flags


# Drawn seeds whose fp16 inputs give a loss near 0 (or a mixed loss whose terms cancel), where
# honest fp16 arithmetic keeps no relative digits: the fp16 part held on none of them before
# it allowed fp16's absolute rounding (CI drew one and the colleague's loss lost its point).
@pytest.mark.parametrize("seed", [13, 106, 214, 268])
def test_fp16_arithmetic_keeps_its_point_on_every_drawn_seed(seed):
    check = checks.BY_ID["lab_kd_loss"]
    expected = {"lab_kd_loss": build_expected.expected_entry(check, seed)}
    for source, points in ((V.KD_COLLEAGUE, 3), (V.KD_ALTERNATIVES["input_dtype"], 6)):
        r = grade("lab_kd_loss", source, seed=seed, expected=expected)
        assert parts(r)["fp16_and_large_logits"] == 1 and r.points == points, \
            [p.message for p in r.parts if not p.passed]


# Every way of reaching the course's reference from graded code finds only the grading build's stub.


# A drawn seed (base 3699794560238578399's first) where the soft term at batch=1, classes=2, T_d=8 is
# ~0.004: float32 cancellation put the reference's log_target formulation 1.2e-3 from the truth, and
# torch.distributions' formulation lost its point against it.  Such inputs are redrawn.
def test_inputs_where_correct_float32_formulations_disagree_are_redrawn():
    check, base, bad = checks.BY_ID["lab_kd_loss"], 3699794560238578399, 2887196835344190610
    assert seeding.check_seed(base, check.id, 0) == bad
    with pytest.raises(AssertionError, match="imprecise"):
        check.sanity(build_expected.expected_entry(check, bad), bad)
    entry, seed = seeding.expected_for(check, base)
    assert seed != bad
    for source in (V.KD_ALTERNATIVES["kl_divergence"], V.kd_source("correct")):
        r = grade("lab_kd_loss", source, seed=seed, expected={"lab_kd_loss": entry})
        assert r.points == 6, [p.message for p in r.parts if not p.passed]
