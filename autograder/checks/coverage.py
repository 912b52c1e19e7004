"""lab_coverage_table and hw_coverage_table: coverage and accuracy above confidence thresholds.

The probe's rows include some whose top-1 confidence is exactly on each threshold
(``confidence >= t`` and ``> t`` give different tables) and a last threshold that
covers nothing (accuracy NaN, not 0 and not an error).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial

import numpy as np
import pandas as pd

import helpers.metrics as hm

from ..kernel.pristine import NP, PY
from .base import Check
from .runner import Runner, call_converted, collect, derive
from .verdict import Verdict, close, error_of, fmt, num, part, verdict

# Thresholds exactly representable in float32 and float64, and rows whose top-1 confidence is
# exactly on each of them: `confidence >= t` and `confidence > t` give different tables.
# 0.999 covers nothing by construction.
COVERAGE_THRESHOLDS = (0.5, 0.625, 0.75, 0.8125, 0.875, 0.999)
ON_THRESHOLD_ROWS = 12  # per threshold (the first two are wrong, so accuracy moves too)


# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
def coverage_data(seed: int, n: int = 500, n_classes: int = 10) -> tuple:
    """(probabilities, labels) with top-1 confidences below 0.998 and rows exactly on each threshold."""
    rng = NP.RandomState(seed)
    labels = rng.randint(0, n_classes, size=n)
    logits = rng.normal(size=(n, n_classes))
    logits[NP.arange(n), labels] += rng.uniform(0.0, 4.5, size=n)
    logits = NP.clip(logits, -4.0, 4.0)  # top-1 probability <= 1 / (1 + 9 e^-8) < 0.998
    z = logits - logits.max(axis=1, keepdims=True)
    probs = NP.exp(z) / NP.exp(z).sum(axis=1, keepdims=True)
    edge_p, edge_y = on_threshold_rows(n_classes, rng)
    order = rng.permutation(n + PY.len(edge_y))
    probs = NP.concatenate([probs, edge_p])[order]
    labels = NP.concatenate([labels, edge_y])[order]
    return probs, labels.astype(NP.int64)


def on_threshold_rows(n_classes: int, rng: object) -> tuple:
    """ON_THRESHOLD_ROWS rows per threshold whose top-1 confidence is exactly that threshold."""
    rows, labels = [], []
    for th in COVERAGE_THRESHOLDS[:-1]:
        for k in PY.range(ON_THRESHOLD_ROWS):
            p = NP.zeros(n_classes)
            top = rng.randint(0, n_classes)
            rest = [c for c in PY.range(n_classes) if c != top][:2]
            p[top] = th
            p[rest[0]] = p[rest[1]] = (1.0 - th) / 2   # dyadic: the row sums to exactly 1
            rows.append(p)
            labels.append(rest[0] if k < 2 else top)
    return NP.array(rows), NP.array(labels)


def probe_coverage(ns: Mapping, run: Runner, seed: int) -> dict:
    probs, labels = coverage_data(derive(run.seed, seed))
    return {"result": call_converted(ns, run, "coverage_table", (probs, labels, COVERAGE_THRESHOLDS))}


# --------------------------------------------------------------------------- judge (driver side)
def _coverage_rows(res: dict) -> tuple[dict | None, str]:
    if not res.get("ok"):
        return None, error_of(res)
    v = res["value"]
    if not (isinstance(v, dict) and "columns" in v):
        return None, f"returned {type(v).__name__}; expected a pandas DataFrame"
    cols = dict(v.get("index", {}))
    cols.update(v["columns"])
    need = ["threshold", "coverage", "accuracy", "n_covered"]
    missing = [c for c in need if c not in cols]
    if missing:
        return None, f"the table has columns {sorted(v['columns'])}; expected {need}"
    rows = {}
    for i, th in enumerate(cols["threshold"]):
        if num(th):
            rows[round(float(th), 6)] = {c: cols[c][i] if i < len(cols[c]) else None for c in need}
    return rows, ""


def judge_coverage(check: Check, data: dict, exp: dict) -> Verdict:
    """The covered thresholds' rows (with rows exactly on a threshold covered), then the empty threshold."""
    rows, error = _coverage_rows(data["result"])
    ref_rows, _ = _coverage_rows(exp["reference"]["result"])
    empty_th = [th for th, r in ref_rows.items() if r["n_covered"] == 0]
    full_th = [th for th in ref_rows if th not in empty_th]
    if rows is None:
        return verdict(check.id, check.points, [part("values", False, 1, f"{error}.", error),
                                                part("empty_threshold", False, 1, "not checked: fix the table first.",
                                                     "")])
    fails = []
    for th in full_th:
        r, e = rows.get(th), ref_rows[th]
        if r is None:
            fails.append(f"no row for threshold {th:g}")
            continue
        for c in ("coverage", "accuracy", "n_covered"):
            if not close(r[c], e[c], 0.0, 1e-9):
                fails.append(f"at threshold {th:g} your {c} is {fmt(r[c])}")
                break
    strict_rows, _ = _coverage_rows(exp["strict_reference"]["result"]) if "strict_reference" in exp else (None, "")
    strict = bool(fails) and strict_rows is not None and all(
        th in rows and all(close(rows[th][c], strict_rows[th][c], 0.0, 1e-9) for c in ("coverage", "n_covered"))
        for th in full_th)
    hint = (" Your table leaves out the rows whose confidence equals the threshold (> instead of >=): a row "
            "exactly at the threshold is covered." if strict else
            " (A row exactly at the threshold is covered.)")
    parts = [part("values", not fails, 1,
                  f"{fails[0] if fails else ''}; expected coverage = share of rows with top-1 confidence >= "
                  f"threshold, accuracy on the covered rows, and n_covered their count.{hint}",
                  "; ".join(fails[:3]))]
    fails = []
    for th in empty_th:
        r = rows.get(th)
        if r is None:
            fails.append(f"no row for threshold {th:g}")
        elif not (close(r["n_covered"], 0.0, 0, 0) and close(r["coverage"], 0.0, 0, 0)
                  and num(r["accuracy"]) and math.isnan(r["accuracy"])):
            fails.append(f"at threshold {th:g}, which covers no row, you returned coverage={fmt(r['coverage'])}, "
                         f"accuracy={fmt(r['accuracy'])}, n_covered={fmt(r['n_covered'])}")
    parts.append(part("empty_threshold", not fails, 1,
                      f"{fails[0] if fails else ''}; expected coverage 0, n_covered 0 and accuracy NaN (not 0: "
                      "there is nothing to be accurate on), without a division-by-zero error.", "; ".join(fails)))
    return verdict(check.id, check.points, parts)



# --------------------------------------------------------------------------- expected values (driver side)
def strict_coverage(probs: np.ndarray, labels: np.ndarray, thresholds: tuple) -> pd.DataFrame:
    """The coverage table with `confidence > t` (the convention the instructions rule out)."""
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    rows = []
    for t in thresholds:
        c = conf > t
        rows.append({"threshold": float(t), "coverage": c.mean(), "accuracy": correct[c].mean() if c.any() else np.nan,
                     "n_covered": int(c.sum())})
    return pd.DataFrame(rows)


def expected_coverage(check: Check, answer_key: dict, seed: int) -> dict:
    """The reference's table, and the strict (>) table the hint recognises."""
    return {"reference": collect(check, dict(check.references), seed)[0],
            "strict_reference": collect(check, {"coverage_table": strict_coverage}, seed)[0]}


def coverage_tolerance(path: str, entry: dict) -> tuple[float, float]:
    """Counts and shares are exact up to float rounding."""
    return 0.0, 1e-9


def sanity_coverage(base: int, entry: dict, seed: int) -> None:
    """Rows must sit exactly on each threshold; the last threshold covers nothing, the first something."""
    probs, labels = coverage_data(derive(seed, base))
    conf = probs.max(axis=1)
    for th in COVERAGE_THRESHOLDS[:-1]:
        assert (conf == th).sum() >= ON_THRESHOLD_ROWS, "coverage rows must sit exactly on each threshold"
    n_cov = entry["reference"]["result"]["value"]["columns"]["n_covered"]
    assert n_cov[-1] == 0 and n_cov[-2] > 0, "the last threshold must cover nothing, the first something"


def _coverage_check(check_id: str, notebook: str, seed: int) -> Check:
    """The two notebooks' coverage checks differ only in their notebook and their inputs' seed."""
    return Check(id=check_id, notebook=notebook, points=2, reads=("coverage_table",),
                 probe=partial(probe_coverage, seed=seed), judge=judge_coverage,
                 references={"coverage_table": hm.coverage_table}, forbidden=(hm.coverage_table,), skill="coverage",
                 expected=expected_coverage, tolerance=coverage_tolerance, sanity=partial(sanity_coverage, seed))


CHECKS = (
    _coverage_check("lab_coverage_table", "week6_lab", seed=21),
    _coverage_check("hw_coverage_table", "week6_homework", seed=22),
)
