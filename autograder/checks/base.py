"""``Check``: everything about one autograded skill, declared once in its check module.

A check module (``kd.py``, ``bugs.py``, ...) declares its ``Check`` objects in
``CHECKS``; ``autograder.checks`` orders them into ``REGISTRY`` and every consumer
iterates over that: the notebook builder (points), the kernel probe (``probe``,
``forbidden``), ``build-expected`` (``references``, ``expected``, ``tolerance``,
``sanity``), the driver's static flags (``forbidden``), the judge and the docs.

Everything here runs in the trusted driver: a function check's probe calls the
student's functions in the function host (``autograder.host``) through a ``Runner``, a
value check's probe reads the plain values the kernel's reporter printed.  Inputs are
drawn from the run's seed (``runner.derive``); the DEFAULT seed gives the stored
expected values.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .verdict import METRIC_ATOL

NOTEBOOKS = ("week6_lab", "week6_homework")  # the order of grades.csv's columns: lab checks first

# A probe: (a namespace, a Runner) -> plain data.  A judge: (check, data, expected entry) -> Verdict.
Probe = Callable[[Mapping, Any], dict]
Judge = Callable[["Check", dict, dict], Any]


def metric_tolerance(path: str, entry: dict) -> tuple[float, float]:
    """(rtol, atol) a judge grants a metric value: the default of every per-tier and per-class metric."""
    return 0.0, METRIC_ATOL


@dataclass(frozen=True)
class Check:
    """One hidden-test cell's skill: where it is, what it is worth, how it is probed, built and judged.

    id: the cell's nbgrader grade_id (its hidden-test cell).
    kind: "function" (the probe calls the student's functions in the function host) or
        "value" (the student's own answers, printed by the kernel's reporter in the test cell).
    notebook: its assignment.  Its rank there is not declared: the registry follows the order
        in which the notebook sources place the hidden tests (``placement``).
    points: its worth (the notebook builder writes it into the cell's metadata).
    reads: the names of the student's namespace the probe reads.
    probe: driver side, (namespace, Runner) -> plain data; never judges; inputs from ``Runner.seed``.
    judge: driver side, (check, data, expected entry) -> Verdict.
    references: student name -> the course's reference standing in for it when the
        expected values are built (the probe runs on them exactly as on a student).
    forbidden: reference functions the student's code must not call for this skill
        (stubbed in the host's grading build of helpers; imports of them flagged by the static scan).
    skill: the label of those flags (``reference_call:<skill>:<function>``).
    expected: driver side, (check, answer key, seed) -> the expected entry; ``None``: the
        probe's data on the references for that seed.
    tolerance: (rtol, atol) the judge grants the number at a path of the entry (how far a
        rebuild may drift is a share of it).
    sanity: driver side, (entry, seed) -> None, asserts properties of the built entry the judge relies on
        (a drawn seed that fails it is replaced by the next one).
    """

    id: str
    notebook: str
    points: int
    reads: tuple[str, ...]
    probe: Probe
    judge: Judge
    references: Mapping[str, Callable] = field(default_factory=dict)
    forbidden: tuple[Callable, ...] = ()
    skill: str = ""
    expected: Callable[[Check, dict, int], dict] | None = None
    tolerance: Callable[[str, dict], tuple[float, float]] = metric_tolerance
    sanity: Callable[[dict, int], None] | None = None
    kind: str = "function"

    def __post_init__(self) -> None:
        if self.notebook not in NOTEBOOKS:
            raise ValueError(f"Check {self.id!r}: notebook must be one of {NOTEBOOKS}, got {self.notebook!r}")
        if self.kind not in ("function", "value"):
            raise ValueError(f"Check {self.id!r}: kind must be 'function' or 'value', got {self.kind!r}")
        if self.forbidden and not self.skill:
            raise ValueError(f"Check {self.id!r}: forbidden references need a skill label for their flags")
