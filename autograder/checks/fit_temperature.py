"""hw_fit_temperature: the homework's temperature scaling (the NLL optimum of softmax(logits / T))."""
from __future__ import annotations

import math
from collections.abc import Mapping

import helpers.calibration as hc

from ..kernel.pristine import NP
from .base import Check
from .runner import Runner, call_converted, derive
from .verdict import Part, Verdict, error_of, fmt, num, part, verdict


# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
def temperature_data(seed: int = 31, n: int = 1500, n_classes: int = 15, true_T: float = 1.7) -> tuple:
    """Logits and labels drawn from softmax(logits / true_T): the NLL optimum is near true_T."""
    rng = NP.RandomState(seed)
    logits = rng.normal(size=(n, n_classes)) * 2.5
    p = NP.exp(logits / true_T - (logits / true_T).max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = rng.rand(n, 1)
    labels = (p.cumsum(axis=1) < u).sum(axis=1).clip(0, n_classes - 1)
    return logits.astype(NP.float32), labels.astype(NP.int64)


# --------------------------------------------------------------------------- probe (driver side)
def probe_temperature(ns: Mapping, run: Runner) -> dict:
    logits, labels = temperature_data(derive(run.seed, 31))
    return {"result": call_converted(ns, run, "fit_temperature", (logits, labels))}


# --------------------------------------------------------------------------- judge (driver side)
def judge_temperature(check: Check, data: dict, exp: dict) -> Verdict:
    """Full points within 0.1% of the NLL optimum, half within 2%."""
    check_id = check.id
    res = data["result"]
    ref = exp["reference"]["result"]["value"]
    if not res.get("ok") or not num(res.get("value")) or not math.isfinite(res["value"]) or res["value"] <= 0:
        what = error_of(res) if not res.get("ok") else f"returned {fmt(res.get('value'))}"
        return verdict(check_id, check.points, [part("optimum", False, 2, f"{what}; expected a float T > 0.", what)])
    T = float(res["value"])
    rel = abs(T - ref) / ref
    if rel <= 1e-3:
        return verdict(check_id, check.points, [part("optimum", True, 2)])
    msg = (f"your T = {T:.5g} is {'near' if rel <= 0.02 else 'far from'} the NLL minimum (expected within 0.1%). "
           "Minimise the NLL of softmax(logits / T) over log T with L-BFGS (line_search_fn='strong_wolfe') "
           "until it converges; a fixed small step stops short.")
    return verdict(check_id, check.points, [Part("optimum", 1 if rel <= 0.02 else 0, 2, False, msg,
                                                 f"expected {ref:.6g}, rel err {rel:.3g}")])


CHECKS = (
    Check(id="hw_fit_temperature", notebook="week6_homework", points=2, reads=("fit_temperature",),
          probe=probe_temperature, judge=judge_temperature, references={"fit_temperature": hc.fit_temperature},
          forbidden=(hc.fit_temperature,), skill="fit_temperature", tolerance=lambda path, entry: (1e-3, 0.0)),
)
