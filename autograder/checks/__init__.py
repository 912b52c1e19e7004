"""The check registry: every autograded skill, declared once in its check module, in one ordered list.

Adding a check = one module here (its ``CHECKS``: id, notebook, points, kind, the
names it reads, probe and its seeded inputs, references, judge; see ``base.Check``;
every module of this package that defines ``CHECKS`` is found, none is listed by hand),
plus its hidden-test cell in a notebook source (whose points the notebook builder reads
from ``POINTS``).  Nobody numbers checks: ``REGISTRY`` follows the order in which the
notebook sources place the hidden tests (``placement``).  The judge preprocessor (``JudgeHiddenTests``),
``build-expected``, the driver's static flags, the host's grading build and
docs/CONTRACTS.md's check table all iterate over ``REGISTRY``.

This package is driver side only: nothing of it is copied into a kernel or the
function host.  Probes call student functions in the host (``runner.Remote``) or read
the values the kernel's reporter printed; judges read the answer key (``answer_files``).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import replace

from .answer_files import EXPECTED_FILE, load_answer_key, load_expected
from .base import NOTEBOOKS, Check
from .kd_judge import KD_ATOL, KD_FP16_RTOL, KD_RTOL
from .placement import in_source_order
from .tier_metrics import TIERS
from .verdict import METRIC_ATOL, Part, Verdict, zero

# Every module of this package that declares CHECKS, in name order (the order of the registry comes
# from the notebook sources, not from here).
MODULES = tuple(module for module in (importlib.import_module(f"{__name__}.{info.name}")
                                      for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name))
                if hasattr(module, "CHECKS"))

# Lab first, then the order the notebook sources place the hidden tests: the order of grades.csv's columns.
REGISTRY: tuple[Check, ...] = in_source_order(c for m in MODULES for c in m.CHECKS)
BY_ID: dict[str, Check] = {c.id: c for c in REGISTRY}
POINTS: dict[str, int] = {c.id: c.points for c in REGISTRY}
NOTEBOOK_OF: dict[str, str] = {c.id: c.notebook for c in REGISTRY}

__all__ = ["BY_ID", "EXPECTED_FILE", "KD_ATOL", "KD_FP16_RTOL", "KD_RTOL", "METRIC_ATOL", "NOTEBOOKS", "NOTEBOOK_OF",
           "POINTS", "REGISTRY", "TIERS", "Check", "Part", "Verdict", "checks_of", "load_answer_key", "load_expected",
           "not_graded", "reference_names", "verdict_of"]


def _validate() -> None:
    if len(BY_ID) != len(REGISTRY):
        twice = sorted({c.id for c in REGISTRY if sum(d.id == c.id for d in REGISTRY) > 1})
        raise ValueError(f"autograder.checks: checks {twice} are declared twice; each hidden test needs its own id")


_validate()


def not_graded(check_id: str, reason: str, status: str = "not run") -> Verdict:
    """Zero points for a check whose probe produced no usable data."""
    return zero(check_id, POINTS[check_id], reason, status)


def reference_names() -> set[str]:
    """Names of the course's reference functions a student's code should not import (every check's ``forbidden``)."""
    return {f.__name__ for c in REGISTRY for f in c.forbidden}


def checks_of(assignment: str) -> list[str]:
    """The check ids of one assignment, in the registry's order."""
    return [cid for cid, nb in NOTEBOOK_OF.items() if nb == assignment]


def verdict_of(check_id: str, payload: dict, expected: dict) -> Verdict:
    """Points for one check from the probe's payload ({"data", "flags"}) and the notebook's expected dict.

    The registry's dispatch: the refusals every check shares (no data, a broken host protocol), then the
    check's own ``Check.judge``."""
    data, flags = payload.get("data", {}), list(payload.get("flags", []))
    if "error" in data:
        return not_graded(check_id, data["error"], "graded")
    violations = [f for f in flags if f.startswith("protocol_violation")]
    if violations:
        msg = ("the function host broke its protocol while your function ran (" + violations[0].split(": ", 1)[-1]
               + "); this check earns nothing (flagged for the instructor).")
        return replace(not_graded(check_id, msg, "graded"), flags=tuple(flags))
    check = BY_ID[check_id]
    result = replace(check.judge(check, data, expected[check_id]), flags=tuple(flags))
    if data.get("interrupted"):
        result = replace(result, note="a call ran past the cell's time limit and was interrupted")
    return result
