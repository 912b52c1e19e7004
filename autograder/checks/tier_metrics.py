"""Per-tier metrics: lab_per_tier_f1, lab_per_tier_ece and hw_per_tier_js.

Each returns a dict tier -> number; the judge checks its form, then its values.
The ECE probe also asks for n_bins=8 on confidences exactly on the bin edges, so
the (lo, hi] convention the instructions state is told from [lo, hi).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import partial

import numpy as np

import helpers.metrics as hm

from ..kernel.pristine import NP, PY
from .base import Check
from .runner import Runner, call_converted, derive
from .verdict import METRIC_ATOL, Verdict, close, error_of, fmt, num, part, verdict

TIERS = ("head", "mid", "tail")


# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
def tier_data(seed: int, n: int = 900, n_classes: int = 30) -> tuple:
    """Labels, predictions, probabilities and tiers for the per-tier checks (30 classes, 3 tiers)."""
    rng = NP.RandomState(seed)
    weights = NP.concatenate([NP.full(10, 6.0), NP.full(10, 2.0), NP.full(10, 0.5)])
    labels = rng.choice(n_classes, size=n, p=weights / weights.sum())
    tiers = NP.where(labels < 10, "head", NP.where(labels < 20, "mid", "tail"))
    logits = rng.normal(size=(n, n_classes)) * rng.uniform(0.5, 3.0, size=(n, 1))
    boost = NP.where(tiers == "head", 3.0, NP.where(tiers == "mid", 2.0, 1.0))
    logits[NP.arange(n), labels] += boost * rng.uniform(0.0, 1.5, size=n)
    z = logits - logits.max(axis=1, keepdims=True)
    probs = NP.exp(z) / NP.exp(z).sum(axis=1, keepdims=True)
    preds = probs.argmax(axis=1)
    return labels.astype(NP.int64), preds.astype(NP.int64), probs, tiers


ECE_EDGE_BINS = 8  # edges k/8 are exact in float32 and float64, whatever way they are computed


def ece_edge_data(seed: int = 13, n_classes: int = 12) -> tuple:
    """Rows whose top-1 confidence lies exactly on a bin edge (k/8) or strictly inside a bin, per tier.

    With (lo, hi] bins an edge row joins the bin below; with [lo, hi) the bin above, next to
    rows of another confidence and accuracy, so the two conventions give different ECEs.
    """
    rng = NP.RandomState(seed)
    probs, labels, tiers = [], [], []
    for tier_i, tier in PY.enumerate(("head", "mid", "tail")):
        for k in PY.range(4, 9):                           # edges 0.5 .. 1.0
            for conf, n_rows, n_right in ((k / 8, 6, 6 - tier_i), (k / 8 + 1 / 16, 6, 1)):
                if conf > 1.0:
                    continue
                for r in PY.range(n_rows):
                    p = NP.zeros(n_classes)
                    top = rng.randint(0, n_classes)
                    others = [c for c in PY.range(n_classes) if c != top]
                    p[top] = conf
                    if conf < 1.0:
                        p[others[0]] = p[others[1]] = (1.0 - conf) / 2
                    probs.append(p)
                    labels.append(top if r < n_right else others[2])
                    tiers.append(tier)
    order = rng.permutation(PY.len(labels))
    return (NP.array(probs)[order], NP.array(labels, dtype=NP.int64)[order], NP.array(tiers)[order])


def js_data(seed: int = 61, n: int = 600, n_classes: int = 20) -> tuple:
    """Two probability arrays (with exact zeros in the first rows) and tiers, for the per-tier JS divergence."""
    rng = NP.RandomState(seed)
    tiers = NP.array(["head", "mid", "tail"])[rng.choice(3, size=n, p=[0.6, 0.3, 0.1])]
    base = rng.normal(size=(n, n_classes)) * 2.0
    p = softmax_rows(base)
    q = softmax_rows(base + rng.normal(size=(n, n_classes)) * NP.where(tiers == "tail", 2.0, 0.7)[:, None])
    p[:20, :5] = 0.0  # exact zeros: the clip at 1e-12 must keep the divergence finite
    p[:20] /= p[:20].sum(axis=1, keepdims=True)
    return p, q, tiers


def softmax_rows(z: object) -> object:
    """Row-wise softmax of a 2-d array."""
    z = z - z.max(axis=1, keepdims=True)
    e = NP.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------- probes (driver side)
def probe_f1(ns: Mapping, run: Runner) -> dict:
    labels, preds, _, tiers = tier_data(derive(run.seed, 11))
    return {"result": call_converted(ns, run, "per_tier_f1", (labels, preds, tiers))}


def probe_ece(ns: Mapping, run: Runner) -> dict:
    labels, _, probs, tiers = tier_data(derive(run.seed, 12))
    e_probs, e_labels, e_tiers = ece_edge_data(derive(run.seed, 13))
    return {"result": call_converted(ns, run, "per_tier_ece", (probs, labels, tiers)),
            "edges": call_converted(ns, run, "per_tier_ece", (e_probs, e_labels, e_tiers, ECE_EDGE_BINS))}


def probe_js(ns: Mapping, run: Runner) -> dict:
    p, q, tiers = js_data(derive(run.seed, 61))
    return {"result": call_converted(ns, run, "per_tier_js", (p, q, tiers))}


# --------------------------------------------------------------------------- judges (driver side)
def _tier_dict(res, what):
    if not res.get("ok"):
        return None, f"{error_of(res)}"
    v = res["value"]
    if not isinstance(v, dict):
        return None, f"returned {type(v).__name__}; expected a dict tier -> {what}"
    missing = [t for t in TIERS if t not in v]
    if missing:
        return None, f"returned keys {sorted(v)}; expected the tiers {list(TIERS)}"
    if not all(num(v[t]) for t in TIERS):
        return None, f"returned {fmt({t: v[t] for t in TIERS})}; expected one number per tier"
    return {t: float(v[t]) for t in TIERS}, ""


def judge_tier_metric(check: Check, data: dict, exp: dict, what: str = "", rule: str = "", hint: str = "",
                      extra_hint: Callable[[dict, dict, list], str] | None = None) -> Verdict:
    """Form (a dict of the three tiers' numbers), then the values within METRIC_ATOL."""
    got, error = _tier_dict(data["result"], what)
    parts = [part("form", got is not None, 1, f"{error}.", error)]
    ref = exp["reference"]["result"]["value"]
    if got is None:
        parts.append(part("values", False, 1, "values not checked: fix the return form first.", ""))
        return verdict(check.id, check.points, parts)
    bad = [t for t in TIERS if not close(got[t], ref[t])]
    extra = extra_hint(got, ref, bad) if bad and extra_hint else ""
    parts.append(part("values", not bad, 1,
                      f"tier(s) {', '.join(bad)} differ (yours: {', '.join(f'{t}={got[t]:.6g}' for t in bad)}); "
                      f"expected {rule} within {METRIC_ATOL:g}. {hint}{extra}",
                      f"expected {fmt({t: ref[t] for t in bad})}"))
    return verdict(check.id, check.points, parts)


def judge_ece(check: Check, data: dict, exp: dict) -> Verdict:
    """Values on continuous confidences, and the bin-edge convention on confidences exactly on edges."""
    got, error = _tier_dict(data["result"], "ECE")
    edges, e_err = _tier_dict(data.get("edges", {"ok": False}), "ECE")
    if got is None:
        return verdict(check.id, check.points, [part("values", False, 1, f"{error}.", error),
                                                part("bin_edges", False, 1, "not checked: fix the return form first.",
                                                     "")])
    ref, e_ref = exp["reference"]["result"]["value"], exp["reference"]["edges"]["value"]
    bad = [t for t in TIERS if not close(got[t], ref[t])]
    parts = [part("values", not bad, 1,
                  f"tier(s) {', '.join(bad)} differ (yours: {', '.join(f'{t}={got[t]:.6g}' for t in bad)}); expected "
                  f"ECE over each tier's rows (15 equal-width bins on top-1 confidence) within {METRIC_ATOL:g}. "
                  "Weight each bin's |accuracy - mean confidence| by its share of the tier's rows.",
                  f"expected {fmt({t: ref[t] for t in bad})}")]
    if edges is None:
        parts.append(part("bin_edges", False, 1, f"with n_bins=8 your function {e_err}.", e_err))
    else:
        e_bad = [t for t in TIERS if not close(edges[t], e_ref[t])]
        hint = ("A confidence exactly on an edge belongs to the bin below it: bin i holds "
                "edges[i] < c <= edges[i + 1], (lo, hi], not [lo, hi)." if not bad else
                "Fix the values above first; this part uses the same formula with n_bins=8.")
        parts.append(part("bin_edges", not e_bad, 1,
                          f"with n_bins=8 and confidences exactly on the bin edges, tier(s) {', '.join(e_bad)} "
                          f"differ. {hint}", f"expected {fmt({t: e_ref[t] for t in e_bad})}"))
    return verdict(check.id, check.points, parts)



def _f1_hint(got: dict, ref: dict, bad: list) -> str:
    if all(got[t] < ref[t] for t in bad):
        return (" Yours are lower than expected: averaging over every predicted class adds zeros from "
                "other tiers; average over the tier's own label set.")
    return ""


def _js_hint(got: dict, ref: dict, bad: list) -> str:
    if all(close(got[t] * math.log(2), ref[t], 1e-6, 1e-12) for t in TIERS):
        return " Yours are in bits (log base 2); the course uses the natural log, so JS lies in [0, ln 2]."
    return ""


# --------------------------------------------------------------------------- expected values (driver side)
def sanity_ece(entry: dict, seed: int) -> None:
    """The probe's edge rows must tell the (lo, hi] convention from [lo, hi)."""
    rows = ece_edge_data(derive(seed, 13))
    wrong = per_tier_ece_lo_closed(*rows, n_bins=ECE_EDGE_BINS)
    right = hm.per_tier_ece(*rows, n_bins=ECE_EDGE_BINS)
    assert all(abs(wrong[t] - right[t]) > 1e-3 for t in right), "ECE edge rows do not separate (lo, hi] from [lo, hi)"


def per_tier_ece_lo_closed(probs: np.ndarray, labels: np.ndarray, tiers: np.ndarray, n_bins: int = 15) -> dict:
    """The [lo, hi) convention the instructions rule out (for the sanity check only)."""
    out = {}
    for t in TIERS:
        r = tiers == t
        conf, correct = probs[r].max(axis=1), probs[r].argmax(axis=1) == labels[r]
        b = np.minimum((conf * n_bins).astype(int), n_bins - 1)
        out[t] = float(sum((b == i).mean() * abs(correct[b == i].mean() - conf[b == i].mean())
                           for i in range(n_bins) if (b == i).any()))
    return out


def _reference_ece(probs, labels, tiers, n_bins=15):
    return hm.per_tier_ece(probs, labels, tiers, n_bins)


CHECKS = (
    Check(id="lab_per_tier_f1", notebook="week6_lab", points=2, reads=("per_tier_f1",),
          probe=probe_f1, references={"per_tier_f1": hm.per_tier_f1}, forbidden=(hm.per_tier_f1,),
          skill="per_tier_f1",
          judge=partial(judge_tier_metric, what="macro F1",
                        rule="macro F1 over each tier's rows, averaged over that tier's label set",
                        hint="Use labels=tier_labels and zero_division=0.", extra_hint=_f1_hint)),
    Check(id="lab_per_tier_ece", notebook="week6_lab", points=2, reads=("per_tier_ece",),
          probe=probe_ece, judge=judge_ece, references={"per_tier_ece": _reference_ece},
          forbidden=(hm.per_tier_ece, hm.ece, hm.reliability_bins), skill="per_tier_ece", sanity=sanity_ece),
    Check(id="hw_per_tier_js", notebook="week6_homework", points=2, reads=("per_tier_js",),
          probe=probe_js, references={"per_tier_js": hm.per_tier_js},
          forbidden=(hm.per_tier_js, hm.js_divergence), skill="per_tier_js",
          judge=partial(judge_tier_metric, what="JS divergence",
                        rule="the mean Jensen-Shannon divergence (natural log) over each tier's rows",
                        hint="Clip probabilities at 1e-12 so rows with zeros stay finite.", extra_hint=_js_hint)),
)
