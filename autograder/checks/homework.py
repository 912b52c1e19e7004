"""The homework's single-function checks: hw_per_class_f1, hw_fit_temperature, hw_reproducible_fraction."""
from __future__ import annotations

import math
from collections.abc import Mapping

import helpers.calibration as hc
import helpers.metrics as hm

from ..kernel.pristine import NP, PY
from .base import Check
from .runner import DEFAULT_SEED, Runner, call_converted, collect, derive, lookup, missing
from .verdict import Part, Verdict, close, error_of, fmt, num, part, verdict

FRACTION_CASES = [(0.1308, 0.0263, 0.0546), (0.2, 0.05, 0.1), (0.1, 0.08, 0.02)]


# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
def fraction_cases(seed: int) -> list[tuple[float, float, float]]:
    """(ece_vanilla, ece_vanilla_t, ece_distilled) cases: the fixed ones for the DEFAULT seed, else drawn."""
    if seed == DEFAULT_SEED:
        return list(FRACTION_CASES)
    rng = NP.RandomState(derive(seed, 97))
    out = []
    for _ in PY.range(PY.len(FRACTION_CASES)):
        v = PY.float(rng.uniform(0.08, 0.25))
        out.append((v, PY.float(v * rng.uniform(0.1, 0.9)), PY.float(v * rng.uniform(0.05, 0.7))))
    return out


def per_class_data(seed: int = 53, n: int = 2000, n_classes: int = 113) -> tuple:
    """Long-tailed labels and half-wrong predictions over 113 classes (some classes have no rows)."""
    rng = NP.RandomState(seed)
    w = 1.0 / NP.arange(1, n_classes + 1) ** 1.1
    labels = rng.choice(n_classes, size=n, p=w / w.sum())
    preds = labels.copy()
    wrong = rng.rand(n) < 0.5
    preds[wrong] = rng.choice(n_classes, size=PY.int(wrong.sum()), p=w / w.sum())
    return labels.astype(NP.int64), preds.astype(NP.int64)


def temperature_data(seed: int = 31, n: int = 1500, n_classes: int = 15, true_T: float = 1.7) -> tuple:
    """Logits and labels drawn from softmax(logits / true_T): the NLL optimum is near true_T."""
    rng = NP.RandomState(seed)
    logits = rng.normal(size=(n, n_classes)) * 2.5
    p = NP.exp(logits / true_T - (logits / true_T).max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    u = rng.rand(n, 1)
    labels = (p.cumsum(axis=1) < u).sum(axis=1).clip(0, n_classes - 1)
    return logits.astype(NP.float32), labels.astype(NP.int64)


# --------------------------------------------------------------------------- probes (driver side)
def probe_per_class(ns: Mapping, run: Runner) -> dict:
    labels, preds = per_class_data(derive(run.seed, 53))
    return {"result": call_converted(ns, run, "per_class_f1", (labels, preds, 113))}


def probe_temperature(ns: Mapping, run: Runner) -> dict:
    logits, labels = temperature_data(derive(run.seed, 31))
    return {"result": call_converted(ns, run, "fit_temperature", (logits, labels))}


def probe_fraction(ns: Mapping, run: Runner) -> dict:
    found, fn = lookup(ns, "reproducible_fraction")
    if not found:
        return {"cases": [missing("reproducible_fraction")] * PY.len(FRACTION_CASES)}
    return {"cases": [run.call(fn, case) for case in fraction_cases(run.seed)]}


# --------------------------------------------------------------------------- judges (driver side)
def judge_per_class(check: Check, data: dict, exp: dict) -> Verdict:
    """Form (one number per class id), then the values."""
    check_id = check.id
    res = data["result"]
    ref = exp["reference"]["result"]["value"]
    err = ""
    if not res.get("ok"):
        err = error_of(res)
    elif not (isinstance(res["value"], list) and len(res["value"]) == len(ref)
              and all(num(x) for x in res["value"])):
        v = res["value"]
        err = (f"returned {type(v).__name__} of length {len(v) if isinstance(v, list) else '-'}; expected an "
               f"array of {len(ref)} numbers, one per class id (including classes with no rows)")
    parts = [part("form", not err, 1, f"{err}.", err)]
    if err:
        parts.append(part("values", False, 1, "values not checked: fix the return form first.", ""))
        return verdict(check_id, check.points, parts)
    bad = [i for i, (g, e) in enumerate(zip(res["value"], ref)) if not close(g, e, 0, 1e-9)]
    parts.append(part("values", not bad, 1,
                      f"{len(bad)} classes differ (first: class {bad[0] if bad else ''}, yours "
                      f"{fmt(res['value'][bad[0]]) if bad else ''}); expected F1 = 2TP / (2TP + FP + FN) per class "
                      "with 0 where a class has neither rows nor predictions (zero_division=0).",
                      f"class {bad[:5]}"))
    return verdict(check_id, check.points, parts)


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


def judge_fraction(check: Check, data: dict, exp: dict) -> Verdict:
    """The formula on three fixed cases."""
    check_id = check.id
    cases = data.get("cases", [])
    refs = exp["reference"]["cases"]
    fails = []
    for args, got, ref in zip(exp["cases"], cases, refs):
        if not got.get("ok") or not close(got.get("value"), ref["value"], 1e-6, 1e-12):
            what = error_of(got) if not got.get("ok") else f"returned {fmt(got.get('value'))}"
            fails.append(f"for ece_vanilla={args[0]}, ece_vanilla_t={args[1]}, ece_distilled={args[2]} you {what}")
    return verdict(check_id, check.points, [part("values", not fails, 1,
                                   f"{fails[0] if fails else ''}; expected (vanilla - vanilla+T) / "
                                   "(vanilla - distilled).", "; ".join(fails))])



# --------------------------------------------------------------------------- expected values (driver side)
def _reference_per_class(labels, preds, n):
    import numpy as np
    return hm.per_class_f1(labels, preds, np.arange(n)).to_numpy()


def _reference_fraction(v, t, d):
    return (v - t) / (v - d)


def expected_fraction(check: Check, answer_key: dict, seed: int) -> dict:
    """The reference's values on the cases drawn for ``seed``, and the cases (the judge's messages name them)."""
    return {"reference": collect(check, dict(check.references), seed)[0],
            "cases": [list(c) for c in fraction_cases(seed)]}


CHECKS = (
    Check(id="hw_per_class_f1", notebook="week6_homework", points=2, reads=("per_class_f1",),
          probe=probe_per_class, judge=judge_per_class, references={"per_class_f1": _reference_per_class},
          forbidden=(hm.per_class_f1,), skill="per_class_f1", tolerance=lambda path, entry: (0.0, 1e-9)),
    Check(id="hw_fit_temperature", notebook="week6_homework", points=2, reads=("fit_temperature",),
          probe=probe_temperature, judge=judge_temperature, references={"fit_temperature": hc.fit_temperature},
          forbidden=(hc.fit_temperature,), skill="fit_temperature", tolerance=lambda path, entry: (1e-3, 0.0)),
    Check(id="hw_reproducible_fraction", notebook="week6_homework", points=1,
          reads=("reproducible_fraction",), probe=probe_fraction, judge=judge_fraction,
          references={"reproducible_fraction": _reference_fraction}, expected=expected_fraction,
          tolerance=lambda path, entry: (1e-6, 1e-12)),
)
