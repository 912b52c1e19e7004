"""hw_per_class_f1: the homework's per-class F1 (one number per class id, classes with no rows included)."""
from __future__ import annotations

from collections.abc import Mapping

import helpers.metrics as hm

from ..kernel.pristine import NP, PY
from .base import Check
from .runner import Runner, call_converted, derive
from .verdict import Verdict, close, error_of, fmt, num, part, verdict


# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
def per_class_data(seed: int = 53, n: int = 2000, n_classes: int = 113) -> tuple:
    """Long-tailed labels and half-wrong predictions over 113 classes (some classes have no rows)."""
    rng = NP.RandomState(seed)
    w = 1.0 / NP.arange(1, n_classes + 1) ** 1.1
    labels = rng.choice(n_classes, size=n, p=w / w.sum())
    preds = labels.copy()
    wrong = rng.rand(n) < 0.5
    preds[wrong] = rng.choice(n_classes, size=PY.int(wrong.sum()), p=w / w.sum())
    return labels.astype(NP.int64), preds.astype(NP.int64)


# --------------------------------------------------------------------------- probe (driver side)
def probe_per_class(ns: Mapping, run: Runner) -> dict:
    labels, preds = per_class_data(derive(run.seed, 53))
    return {"result": call_converted(ns, run, "per_class_f1", (labels, preds, 113))}


# --------------------------------------------------------------------------- judge (driver side)
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


# --------------------------------------------------------------------------- expected values (driver side)
def _reference_per_class(labels, preds, n):
    import numpy as np
    return hm.per_class_f1(labels, preds, np.arange(n)).to_numpy()


CHECKS = (
    Check(id="hw_per_class_f1", notebook="week6_homework", points=2, reads=("per_class_f1",),
          probe=probe_per_class, judge=judge_per_class, references={"per_class_f1": _reference_per_class},
          forbidden=(hm.per_class_f1,), skill="per_class_f1", tolerance=lambda path, entry: (0.0, 1e-9)),
)
