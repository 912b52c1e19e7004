"""autograder/checks/fit_temperature.py: a constant T is not the NLL optimum."""
from __future__ import annotations

from checkgrading import grade


def test_a_constant_temperature_earns_nothing():
    assert grade("hw_fit_temperature", "def fit_temperature(z, y):\n    return 1.0\n").points == 0
