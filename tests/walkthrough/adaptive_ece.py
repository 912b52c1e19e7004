"""lab_adaptive_ece: adaptive (equal-mass) ECE, the example check of docs/CONTRACTS.md's "Adding a check".

Not part of the course: tests/test_add_a_check.py copies this file into
``autograder/checks/`` of a temporary copy of the repository, with the cells of
``adaptive_ece_cells.py``, and follows the documented steps from there.  It has the
shape of every check module: inputs drawn from the run's seed and a probe (run in the
driver; the student's function is called in the function host), the course's reference
the expected values are built from (stubbed in the host), and a judge.
"""
from __future__ import annotations

from collections.abc import Mapping

import helpers.metrics as hm

from ..kernel.pristine import NP
from .base import Check
from .runner import Runner, call_converted, derive
from .verdict import METRIC_ATOL, Verdict, close, error_of, fmt, part, verdict

N_BINS = 10


# --------------------------------------------------------------------------- seeded inputs and probe (driver side)
def adaptive_data(seed: int, n: int = 500, n_classes: int = 10) -> tuple:
    """Probabilities and labels whose confidences are spread unevenly, so equal-mass and equal-width bins differ."""
    rng = NP.RandomState(seed)
    logits = rng.normal(size=(n, n_classes)) * rng.uniform(0.3, 4.0, size=(n, 1))
    labels = rng.randint(0, n_classes, size=n)
    logits[NP.arange(n), labels] += rng.uniform(0.0, 2.0, size=n)
    z = NP.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True), labels


def probe_adaptive_ece(ns: Mapping, run: Runner) -> dict:
    probs, labels = adaptive_data(derive(run.seed, 71))
    return {"result": call_converted(ns, run, "adaptive_ece", (probs, labels, N_BINS))}


# --------------------------------------------------------------------------- judge (driver side)
def judge_adaptive_ece(check: Check, data: dict, exp: dict) -> Verdict:
    """One part: the value within METRIC_ATOL of the reference's."""
    res, want = data["result"], exp["reference"]["result"]["value"]
    got = res.get("value") if res.get("ok") else None
    ok = close(got, want)
    message = (f"{error_of(res)}." if got is None else
               f"your adaptive ECE is {fmt(got)}; expected the equal-mass estimate within {METRIC_ATOL:g}. Sort by "
               f"confidence and split the rows into {N_BINS} bins of equal count, not equal width.")
    return verdict(check.id, check.points, [part("value", ok, check.points, message, f"expected {fmt(want)}")])


CHECKS = (
    Check(id="lab_adaptive_ece", notebook="week6_lab", points=2, reads=("adaptive_ece",),
          probe=probe_adaptive_ece, judge=judge_adaptive_ece, references={"adaptive_ece": hm.adaptive_ece},
          forbidden=(hm.adaptive_ece,), skill="adaptive_ece"),
)
