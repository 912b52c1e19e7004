"""Headline metrics with the course's conventions.

* ECE: 15 equal-width bins on top-1 confidence; confidence c falls in bin i
  when ``edges[i] < c <= edges[i+1]``; ECE = sum_i (n_i / n) |acc_i - conf_i|.
* NLL: mean of -log p(true class), probabilities clipped at 1e-12.
* Per-tier macro F1: over the tier's rows, averaged over that tier's label
  set (``labels=tier_labels``, ``zero_division=0``).
* JS divergence: symmetric, in [0, ln 2], mean over rows, clipped at 1e-12.
* Coverage at threshold T: share of rows with top-1 confidence >= T;
  accuracy on the covered rows (NaN when nothing is covered).

Inputs are validated at the boundary by :mod:`helpers.inputs` (names, shapes, ranges), then the
computation is plain numpy.  Nothing here imports torch or transformers.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .course import TIERS
from .inputs import check_labels, check_logits, check_positive_int, check_probs, check_tiers, check_vector

__all__ = [
    "TIERS", "softmax", "ece", "adaptive_ece", "nll", "accuracy", "macro_f1",
    "per_class_f1", "per_tier_f1", "per_tier_ece", "per_tier_nll", "js_divergence",
    "per_tier_js", "coverage_table", "evaluate", "reliability_bins", "tier_labels",
]

EPS = 1e-12
DEFAULT_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


# --------------------------------------------------------------------------- basics
def softmax(logits, axis=-1):
    """Numerically stable softmax in float64 (fp16 logits are upcast first)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def ece_bin_index(confidence, n_bins=15):
    """Bin of each confidence under the ``(lo, hi]`` convention; -1 for c <= 0."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges, confidence, side="left") - 1


def reliability_bins(probs, labels, n_bins=15):
    """Per-bin count, mean confidence and accuracy (a DataFrame, one row per bin)."""
    p = check_probs(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    b = ece_bin_index(conf, n_bins)
    keep = b >= 0
    count = np.bincount(b[keep], minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf_mean = np.bincount(b[keep], conf[keep], minlength=n_bins) / count
        acc = np.bincount(b[keep], correct[keep], minlength=n_bins) / count
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "count": count.astype(int),
                         "confidence": conf_mean, "accuracy": acc})


def ece(probs, labels, n_bins=15):
    """Expected calibration error (equal-width bins, ``(lo, hi]``)."""
    p = check_probs(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    check_positive_int(n_bins, "n_bins")
    if y.size == 0:
        return float("nan")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    b = ece_bin_index(conf, n_bins)
    keep = b >= 0
    gap = np.bincount(b[keep], correct[keep] - conf[keep], minlength=n_bins)
    return float(np.abs(gap).sum() / y.size)


def adaptive_ece(probs, labels, n_bins=15):
    """ECE with equal-mass bins (each bin holds about n / n_bins rows, sorted by confidence)."""
    p = check_probs(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    if y.size == 0:
        return float("nan")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    order = np.argsort(conf, kind="stable")
    total = 0.0
    for chunk in np.array_split(order, min(n_bins, y.size)):
        total += abs(correct[chunk].sum() - conf[chunk].sum())
    return float(total / y.size)


def nll(probs, labels):
    """Mean negative log-likelihood of the true class (probabilities clipped at 1e-12)."""
    p = check_probs(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    if y.size == 0:
        return float("nan")
    return float(-np.log(np.clip(p[np.arange(y.size), y], EPS, 1.0)).mean())


def accuracy(labels, preds):
    y = check_vector(labels, "labels", integer=True)
    yhat = check_labels(preds, y.shape[0], name="preds")
    return float((y == yhat).mean()) if y.size else float("nan")


# --------------------------------------------------------------------------- F1
def _f1_from_counts(tp, fp, fn):
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
    return f1


def per_class_f1(labels, preds, classes=None):
    """F1 of each class (``zero_division=0``) as a Series indexed by class id.

    ``classes`` defaults to every class seen in labels or preds, like scikit-learn.
    """
    y = check_vector(labels, "labels", integer=True)
    yhat = check_labels(preds, y.shape[0], name="preds")
    for name, v in (("labels", y), ("preds", yhat)):
        if v.size and v.min() < 0:
            raise ValueError(f"{name} must be class ids >= 0, got a minimum of {v.min()}.")
    if classes is None:
        classes = np.union1d(y, yhat)
    classes = np.asarray(classes, dtype=np.int64)
    size = int(max(classes.max(initial=-1), y.max(initial=-1), yhat.max(initial=-1))) + 1
    tp = np.bincount(y[y == yhat], minlength=size).astype(np.float64)
    n_true = np.bincount(y, minlength=size).astype(np.float64)
    n_pred = np.bincount(yhat, minlength=size).astype(np.float64)
    f1 = _f1_from_counts(tp[classes], n_pred[classes] - tp[classes], n_true[classes] - tp[classes])
    return pd.Series(f1, index=pd.Index(classes, name="class"), name="f1")


def macro_f1(labels, preds, classes=None):
    """Macro F1 (scikit-learn's ``average="macro"``, ``zero_division=0``)."""
    f1 = per_class_f1(labels, preds, classes)
    return float(f1.mean()) if len(f1) else 0.0


def tier_labels(labels, tiers):
    """Mapping tier -> sorted class ids whose rows carry that tier."""
    y = check_vector(labels, "labels", integer=True)
    t = check_tiers(tiers, y.shape[0])
    return {tier: np.unique(y[t == tier]) for tier in TIERS if (t == tier).any()}


def per_tier_f1(labels, preds, tiers):
    """Mapping tier -> macro F1 over that tier's rows and label set."""
    y = check_vector(labels, "labels", integer=True)
    yhat = check_labels(preds, y.shape[0], name="preds")
    t = check_tiers(tiers, y.shape[0])
    out = {}
    for tier, classes in tier_labels(y, t).items():
        rows = t == tier
        out[tier] = macro_f1(y[rows], yhat[rows], classes=classes)
    return out


def _per_tier(metric, probs, labels, tiers, **kwargs):
    p = check_probs(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    t = check_tiers(tiers, y.shape[0])
    return {tier: metric(p[t == tier], y[t == tier], **kwargs) for tier in TIERS if (t == tier).any()}


def per_tier_ece(probs, labels, tiers, n_bins=15):
    """Mapping tier -> ECE over that tier's rows."""
    return _per_tier(ece, probs, labels, tiers, n_bins=n_bins)


def per_tier_nll(probs, labels, tiers):
    """Mapping tier -> NLL over that tier's rows."""
    return _per_tier(nll, probs, labels, tiers)


# --------------------------------------------------------------------------- divergence
def js_divergence(p, q):
    """Mean Jensen-Shannon divergence between rows of p and q (natural log, in [0, ln 2])."""
    p = check_probs(p, "p")
    q = check_probs(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}.")
    p = np.clip(p, EPS, 1.0)
    q = np.clip(q, EPS, 1.0)
    m = 0.5 * (p + q)
    js = 0.5 * (p * np.log(p / m)).sum(axis=1) + 0.5 * (q * np.log(q / m)).sum(axis=1)
    return float(js.mean()) if js.size else float("nan")


def per_tier_js(p, q, tiers):
    """Mapping tier -> mean JS divergence between p and q over that tier's rows."""
    p = check_probs(p, "p")
    q = check_probs(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}.")
    t = check_tiers(tiers, p.shape[0])
    return {tier: js_divergence(p[t == tier], q[t == tier]) for tier in TIERS if (t == tier).any()}


# --------------------------------------------------------------------------- coverage
def coverage_table(probs, labels, thresholds=DEFAULT_THRESHOLDS):
    """Coverage and accuracy when only predictions with confidence >= threshold are kept.

    Returns a DataFrame with columns threshold, coverage, accuracy, n_covered.
    Accuracy is NaN (not 0) when a threshold covers nothing.
    """
    p = check_probs(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    th = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if th.ndim != 1 or th.size == 0 or np.any((th < 0) | (th > 1)):
        raise ValueError(f"thresholds must be a non-empty list of numbers in [0, 1], got {thresholds!r}.")
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    rows = []
    for T in th:
        covered = conf >= T
        n = int(covered.sum())
        rows.append({"threshold": float(T),
                     "coverage": n / y.size if y.size else float("nan"),
                     "accuracy": float(correct[covered].mean()) if n else float("nan"),
                     "n_covered": n})
    return pd.DataFrame(rows, columns=["threshold", "coverage", "accuracy", "n_covered"])


# --------------------------------------------------------------------------- one row
def evaluate(logits, labels, tiers, n_bins=15):
    """Every headline metric of one model as a flat dict (one table row).

    Keys: n, accuracy, macro_f1, f1_head/mid/tail, ece, ece_head/mid/tail,
    nll, nll_head/mid/tail, adaptive_ece.
    """
    z = check_logits(logits)
    probs = softmax(z)
    y = check_labels(labels, probs.shape[0], probs.shape[1])
    t = check_tiers(tiers, y.shape[0])
    preds = probs.argmax(axis=1)
    row = {"n": int(y.size), "accuracy": accuracy(y, preds), "macro_f1": macro_f1(y, preds)}
    row.update({f"f1_{k}": v for k, v in per_tier_f1(y, preds, t).items()})
    row["ece"] = ece(probs, y, n_bins)
    row.update({f"ece_{k}": v for k, v in per_tier_ece(probs, y, t, n_bins).items()})
    row["nll"] = nll(probs, y)
    row.update({f"nll_{k}": v for k, v in per_tier_nll(probs, y, t).items()})
    row["adaptive_ece"] = adaptive_ece(probs, y, n_bins)
    return row


def as_frame(rows: Mapping[str, Mapping[str, float]] | Sequence, index_name="model"):
    """A DataFrame from {name: evaluate(...)} rows, in insertion order."""
    df = pd.DataFrame.from_dict(dict(rows), orient="index")
    df.index.name = index_name
    return df
