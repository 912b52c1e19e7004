"""autograder/checks/reproducible_fraction.py: the formula, not its inverse."""
from __future__ import annotations

from checkgrading import grade


def test_the_formula_and_not_its_inverse():
    fraction = "def reproducible_fraction(v, t, d):\n    return {}\n"
    assert grade("hw_reproducible_fraction", fraction.format("(v - t) / (v - d)")).points == 1
    assert grade("hw_reproducible_fraction", fraction.format("(v - d) / (v - t)")).points == 0
