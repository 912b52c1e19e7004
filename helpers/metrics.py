"""Headline metrics with the course's conventions.

* ECE: 15 equal-width bins on top-1 confidence; confidence c falls in bin i
  when ``edges[i] < c <= edges[i+1]``; ECE = sum_i (n_i / n) |acc_i - conf_i|.
* NLL: mean of -log p(true class), probabilities clipped at 1e-12.
* Per-tier macro F1: over the tier's rows, averaged over that tier's label
  set (``labels=tier_labels``, ``zero_division=0``).
* JS divergence: symmetric, in [0, ln 2], mean over rows, clipped at 1e-12.
* Coverage at threshold T: share of rows with top-1 confidence >= T;
  accuracy on the covered rows (NaN when nothing is covered).

This is the one module to import: the label metrics (accuracy, F1) live in
:mod:`helpers.metrics_f1` and the probability metrics (ECE, NLL, reliability
bins) in :mod:`helpers.metrics_calibration`, and every name is re-exported here.
Inputs are validated at the boundary by :mod:`helpers.inputs` (names, shapes,
ranges), then the computation is plain numpy.  Nothing here imports torch or
transformers.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from .course import TIERS
from .inputs import check_labels, check_logits, check_probs, check_tiers
from .metrics_calibration import (
    EPS,
    adaptive_ece,
    ece,
    ece_bin_index,
    nll,
    per_tier_ece,
    per_tier_nll,
    reliability_bins,
)
from .metrics_f1 import accuracy, macro_f1, per_class_f1, per_tier_f1, tier_labels

__all__ = [
    "TIERS", "softmax", "ece", "adaptive_ece", "nll", "accuracy", "macro_f1",
    "per_class_f1", "per_tier_f1", "per_tier_ece", "per_tier_nll", "js_divergence",
    "per_tier_js", "coverage_table", "evaluate", "reliability_bins", "tier_labels",
    "as_frame", "ece_bin_index", "EPS", "DEFAULT_THRESHOLDS",
]

#: The lab's confidence thresholds for a coverage table.
DEFAULT_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def softmax(logits: Iterable, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax in float64 (fp16 logits are upcast first).

    Parameters
    ----------
    logits : array-like
        Scores, e.g. shape (n_rows, n_classes).
    axis : int, default -1
        The axis that sums to 1.

    Returns
    -------
    numpy.ndarray
        Probabilities (float64), same shape as ``logits``.

    Examples
    --------
    >>> softmax([[0.0, 0.0], [1000.0, 0.0]]).round(3).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------- divergence
def js_divergence(p: Iterable, q: Iterable) -> float:
    """Mean Jensen-Shannon divergence between the rows of ``p`` and ``q``.

    Symmetric, natural log, so each row's value lies in [0, ln 2];
    probabilities are clipped at 1e-12 before the log.

    Parameters
    ----------
    p, q : array-like, shape (n_rows, n_classes)
        Two probability distributions per row (e.g. teacher and student).

    Returns
    -------
    float
        The mean over rows; NaN when there are no rows.

    Examples
    --------
    >>> js_divergence([[1.0, 0.0]], [[1.0, 0.0]])
    0.0
    >>> round(js_divergence([[1.0, 0.0]], [[0.0, 1.0]]), 4)   # disjoint: ln 2
    0.6931
    """
    p = check_probs(p, "p")
    q = check_probs(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}.")
    p = np.clip(p, EPS, 1.0)
    q = np.clip(q, EPS, 1.0)
    m = 0.5 * (p + q)
    js = 0.5 * (p * np.log(p / m)).sum(axis=1) + 0.5 * (q * np.log(q / m)).sum(axis=1)
    return float(js.mean()) if js.size else float("nan")


def per_tier_js(p: Iterable, q: Iterable, tiers: Iterable) -> dict[str, float]:
    """Mean JS divergence between ``p`` and ``q`` on each tier's rows.

    Parameters
    ----------
    p, q : array-like, shape (n_rows, n_classes)
        Two probability distributions per row.
    tiers : array-like of str, shape (n_rows,)
        Each row's tier, one of ``"head"``, ``"mid"``, ``"tail"``.

    Returns
    -------
    dict of str to float
        Tier -> mean JS divergence, in head/mid/tail order, for the tiers present.

    Examples
    --------
    >>> per_tier_js([[0.5, 0.5], [1.0, 0.0]], [[0.5, 0.5], [1.0, 0.0]], ["head", "tail"])
    {'head': 0.0, 'tail': 0.0}
    """
    p = check_probs(p, "p")
    q = check_probs(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}.")
    t = check_tiers(tiers, p.shape[0])
    return {tier: js_divergence(p[t == tier], q[t == tier]) for tier in TIERS if (t == tier).any()}


# --------------------------------------------------------------------------- coverage
def coverage_table(probs: Iterable, labels: Iterable,
                   thresholds: Iterable[float] = DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """Coverage and accuracy when only predictions with confidence >= threshold are kept.

    Parameters
    ----------
    probs : array-like, shape (n_rows, n_classes)
        Predicted probabilities.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    thresholds : sequence of float, default (0.5, 0.6, 0.7, 0.8, 0.9)
        Confidence thresholds in [0, 1].

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``threshold``, ``coverage`` (share of rows kept),
        ``accuracy`` (on the kept rows; NaN, not 0, when nothing is kept) and ``n_covered``.

    Examples
    --------
    >>> coverage_table([[0.9, 0.1], [0.4, 0.6]], [0, 0], thresholds=[0.5, 0.95]).to_dict("list")
    {'threshold': [0.5, 0.95], 'coverage': [1.0, 0.0], 'accuracy': [0.5, nan], 'n_covered': [2, 0]}
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
def evaluate(logits: Iterable, labels: Iterable, tiers: Iterable, n_bins: int = 15) -> dict[str, float]:
    """Every headline metric of one model as a flat dict (one table row).

    Parameters
    ----------
    logits : array-like, shape (n_rows, n_classes)
        The model's logits (softmax is applied here).
    labels : array-like of int, shape (n_rows,)
        True class ids.
    tiers : array-like of str, shape (n_rows,)
        Each row's tier, one of ``"head"``, ``"mid"``, ``"tail"``.
    n_bins : int, default 15
        ECE bins.

    Returns
    -------
    dict of str to float
        Keys ``n``, ``accuracy``, ``macro_f1``, ``f1_<tier>``, ``ece``,
        ``ece_<tier>``, ``nll``, ``nll_<tier>``, ``adaptive_ece`` (tiers present only).

    Examples
    --------
    >>> row = evaluate([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0]], [0, 1, 1], ["head", "head", "tail"])
    >>> row["n"], round(row["accuracy"], 3), sorted(k for k in row if k.startswith("f1_"))
    (3, 0.667, ['f1_head', 'f1_tail'])
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


def as_frame(rows: Mapping[str, Mapping[str, float]], index_name: str = "model") -> pd.DataFrame:
    """A table with one row per model, from ``{name: evaluate(...)}``, in insertion order.

    Parameters
    ----------
    rows : mapping of str to mapping
        Model name -> its metrics (e.g. the dict :func:`evaluate` returns).
    index_name : str, default "model"
        Name of the index.

    Returns
    -------
    pandas.DataFrame
        Indexed by model name, one column per metric.

    Examples
    --------
    >>> as_frame({"a": {"ece": 0.1}, "b": {"ece": 0.2}}).to_dict()
    {'ece': {'a': 0.1, 'b': 0.2}}
    """
    df = pd.DataFrame.from_dict(dict(rows), orient="index")
    df.index.name = index_name
    return df
