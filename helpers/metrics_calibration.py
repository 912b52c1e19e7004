"""Probability metrics: how well confidence matches correctness (ECE, reliability bins, NLL).

Part of :mod:`helpers.metrics`, which re-exports every name here; import them
from there.  Conventions (the course's):

* ECE: ``n_bins`` equal-width bins on top-1 confidence; confidence c falls in
  bin i when ``edges[i] < c <= edges[i+1]``; ECE = sum_i (n_i / n) |acc_i - conf_i|.
* NLL: mean of -log p(true class), probabilities clipped at 1e-12.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from .course import TIERS
from .inputs import check_labels, check_positive_int, check_probs, check_tiers

__all__ = ["EPS", "ece_bin_index", "reliability_bins", "ece", "adaptive_ece", "nll", "per_tier_ece",
           "per_tier_nll"]

#: Probabilities are clipped at EPS before a log, so one zero cannot make a mean infinite.
EPS = 1e-12


def ece_bin_index(confidence: Iterable[float], n_bins: int = 15) -> np.ndarray:
    """The ECE bin of each confidence, under the ``(lo, hi]`` convention.

    Parameters
    ----------
    confidence : array-like of float
        Top-1 confidences in [0, 1].
    n_bins : int, default 15
        Number of equal-width bins on [0, 1].

    Returns
    -------
    numpy.ndarray of int
        Bin index in [0, n_bins); -1 for a confidence of 0 (no bin holds it).

    Examples
    --------
    >>> ece_bin_index([0.0, 0.1, 0.5, 0.51, 1.0], n_bins=2).tolist()
    [-1, 0, 0, 1, 1]
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges, confidence, side="left") - 1


def reliability_bins(probs: Iterable, labels: Iterable, n_bins: int = 15) -> pd.DataFrame:
    """Per-bin row count, mean confidence and accuracy: the numbers behind a reliability diagram.

    Parameters
    ----------
    probs : array-like, shape (n_rows, n_classes)
        Predicted probabilities (rows sum to 1).
    labels : array-like of int, shape (n_rows,)
        True class ids.
    n_bins : int, default 15
        Number of equal-width confidence bins.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``lo``, ``hi``, ``count``, ``confidence``, ``accuracy``
        (NaN for an empty bin).

    Examples
    --------
    >>> bins = reliability_bins([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]], [0, 1, 1], n_bins=2)
    >>> bins["count"].tolist(), bins["accuracy"].tolist()
    ([0, 3], [nan, 0.6666666666666666])
    """
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


def ece(probs: Iterable, labels: Iterable, n_bins: int = 15) -> float:
    """Expected calibration error with equal-width bins (the module's convention).

    Parameters
    ----------
    probs : array-like, shape (n_rows, n_classes)
        Predicted probabilities, not logits.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    n_bins : int, default 15
        Number of equal-width confidence bins.

    Returns
    -------
    float
        ECE in [0, 1]; NaN when there are no rows.

    Examples
    --------
    >>> round(ece([[0.9, 0.1], [0.8, 0.2]], [0, 1], n_bins=10), 4)   # gaps 0.1 and 0.8, in two bins
    0.45
    """
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


def adaptive_ece(probs: Iterable, labels: Iterable, n_bins: int = 15) -> float:
    """ECE with equal-mass bins: rows sorted by confidence, split into ``n_bins`` near-equal groups.

    Parameters
    ----------
    probs : array-like, shape (n_rows, n_classes)
        Predicted probabilities.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    n_bins : int, default 15
        Number of bins (fewer when there are fewer rows).

    Returns
    -------
    float
        Adaptive ECE in [0, 1]; NaN when there are no rows.

    Examples
    --------
    >>> round(adaptive_ece([[0.9, 0.1], [0.8, 0.2]], [0, 1], n_bins=2), 4)
    0.45
    """
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


def nll(probs: Iterable, labels: Iterable) -> float:
    """Mean negative log-likelihood of the true class (natural log; probabilities clipped at 1e-12).

    Parameters
    ----------
    probs : array-like, shape (n_rows, n_classes)
        Predicted probabilities.
    labels : array-like of int, shape (n_rows,)
        True class ids.

    Returns
    -------
    float
        NLL >= 0; NaN when there are no rows.

    Examples
    --------
    >>> round(nll([[0.5, 0.5], [0.25, 0.75]], [0, 1]), 4)
    0.4904
    """
    p = check_probs(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    if y.size == 0:
        return float("nan")
    return float(-np.log(np.clip(p[np.arange(y.size), y], EPS, 1.0)).mean())


def _per_tier(metric: Callable, probs, labels, tiers, **kwargs) -> dict[str, float]:
    p = check_probs(probs)
    y = check_labels(labels, p.shape[0], p.shape[1])
    t = check_tiers(tiers, y.shape[0])
    return {tier: metric(p[t == tier], y[t == tier], **kwargs) for tier in TIERS if (t == tier).any()}


def per_tier_ece(probs: Iterable, labels: Iterable, tiers: Iterable, n_bins: int = 15) -> dict[str, float]:
    """ECE of each tier, computed on that tier's rows only.

    Parameters
    ----------
    probs : array-like, shape (n_rows, n_classes)
        Predicted probabilities.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    tiers : array-like of str, shape (n_rows,)
        Each row's tier, one of ``"head"``, ``"mid"``, ``"tail"``.
    n_bins : int, default 15
        Number of equal-width confidence bins.

    Returns
    -------
    dict of str to float
        Tier -> ECE, in head/mid/tail order, for the tiers present.

    Examples
    --------
    >>> scores = per_tier_ece([[0.9, 0.1], [0.8, 0.2]], [0, 1], ["head", "tail"], n_bins=10)
    >>> {tier: round(value, 4) for tier, value in scores.items()}
    {'head': 0.1, 'tail': 0.8}
    """
    return _per_tier(ece, probs, labels, tiers, n_bins=n_bins)


def per_tier_nll(probs: Iterable, labels: Iterable, tiers: Iterable) -> dict[str, float]:
    """NLL of each tier, computed on that tier's rows only.

    Parameters
    ----------
    probs : array-like, shape (n_rows, n_classes)
        Predicted probabilities.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    tiers : array-like of str, shape (n_rows,)
        Each row's tier, one of ``"head"``, ``"mid"``, ``"tail"``.

    Returns
    -------
    dict of str to float
        Tier -> NLL, in head/mid/tail order, for the tiers present.

    Examples
    --------
    >>> {t: round(v, 4) for t, v in per_tier_nll([[0.5, 0.5], [0.25, 0.75]], [0, 1], ["head", "mid"]).items()}
    {'head': 0.6931, 'mid': 0.2877}
    """
    return _per_tier(nll, probs, labels, tiers)
