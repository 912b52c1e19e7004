"""Label metrics: accuracy and (per-class, macro, per-tier) F1, scikit-learn's conventions.

Part of :mod:`helpers.metrics`, which re-exports every name here; import them
from there.  F1 follows scikit-learn's ``f1_score`` with ``zero_division=0``;
a tier's macro F1 averages over that tier's label set (the classes whose rows
carry the tier), so a tier is scored on its own classes only.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .course import TIERS
from .inputs import check_labels, check_tiers, check_vector

__all__ = ["accuracy", "per_class_f1", "macro_f1", "tier_labels", "per_tier_f1"]


def accuracy(labels: Iterable, preds: Iterable) -> float:
    """Share of rows whose prediction is the label.

    Parameters
    ----------
    labels : array-like of int, shape (n_rows,)
        True class ids.
    preds : array-like of int, shape (n_rows,)
        Predicted class ids.

    Returns
    -------
    float
        Accuracy in [0, 1]; NaN when there are no rows.

    Examples
    --------
    >>> accuracy([0, 1, 2, 2], [0, 1, 1, 2])
    0.75
    """
    y = check_vector(labels, "labels", integer=True)
    yhat = check_labels(preds, y.shape[0], name="preds")
    return float((y == yhat).mean()) if y.size else float("nan")


def _f1_from_counts(tp, fp, fn):
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
    return f1


def per_class_f1(labels: Iterable, preds: Iterable, classes: Iterable | None = None) -> pd.Series:
    """F1 of each class, with ``zero_division=0``.

    Parameters
    ----------
    labels : array-like of int, shape (n_rows,)
        True class ids (>= 0).
    preds : array-like of int, shape (n_rows,)
        Predicted class ids (>= 0).
    classes : array-like of int, optional
        The classes to score, in this order.  Default: every class seen in
        ``labels`` or ``preds``, like scikit-learn.

    Returns
    -------
    pandas.Series
        F1 per class, indexed by class id (index name ``"class"``).

    Examples
    --------
    >>> per_class_f1([0, 0, 1, 2], [0, 1, 1, 2]).round(3).tolist()
    [0.667, 0.667, 1.0]
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


def macro_f1(labels: Iterable, preds: Iterable, classes: Iterable | None = None) -> float:
    """Macro F1: the unweighted mean of :func:`per_class_f1`.

    Same as scikit-learn's ``f1_score(average="macro", zero_division=0)``.

    Parameters
    ----------
    labels : array-like of int, shape (n_rows,)
        True class ids.
    preds : array-like of int, shape (n_rows,)
        Predicted class ids.
    classes : array-like of int, optional
        The classes to average over (default: every class seen in labels or preds).

    Returns
    -------
    float
        Macro F1 in [0, 1] (0.0 when there is no class to average over).

    Examples
    --------
    >>> round(macro_f1([0, 0, 1, 2], [0, 1, 1, 2]), 4)
    0.7778
    """
    f1 = per_class_f1(labels, preds, classes)
    return float(f1.mean()) if len(f1) else 0.0


def tier_labels(labels: Iterable, tiers: Iterable) -> dict[str, np.ndarray]:
    """The label set of each tier: the sorted class ids whose rows carry that tier.

    Parameters
    ----------
    labels : array-like of int, shape (n_rows,)
        True class ids.
    tiers : array-like of str, shape (n_rows,)
        Each row's tier, one of ``"head"``, ``"mid"``, ``"tail"``.

    Returns
    -------
    dict of str to numpy.ndarray
        Tier -> class ids, in head/mid/tail order, for the tiers present.

    Examples
    --------
    >>> {t: c.tolist() for t, c in tier_labels([3, 0, 3, 7], ["head", "head", "head", "tail"]).items()}
    {'head': [0, 3], 'tail': [7]}
    """
    y = check_vector(labels, "labels", integer=True)
    t = check_tiers(tiers, y.shape[0])
    return {tier: np.unique(y[t == tier]) for tier in TIERS if (t == tier).any()}


def per_tier_f1(labels: Iterable, preds: Iterable, tiers: Iterable) -> dict[str, float]:
    """Macro F1 of each tier, over that tier's rows and averaged over its label set.

    Parameters
    ----------
    labels : array-like of int, shape (n_rows,)
        True class ids.
    preds : array-like of int, shape (n_rows,)
        Predicted class ids.
    tiers : array-like of str, shape (n_rows,)
        Each row's tier, one of ``"head"``, ``"mid"``, ``"tail"``.

    Returns
    -------
    dict of str to float
        Tier -> macro F1, in head/mid/tail order, for the tiers present.

    Examples
    --------
    >>> per_tier_f1([0, 0, 1, 2], [0, 0, 2, 2], ["head", "head", "tail", "tail"])
    {'head': 1.0, 'tail': 0.3333333333333333}
    """
    y = check_vector(labels, "labels", integer=True)
    yhat = check_labels(preds, y.shape[0], name="preds")
    t = check_tiers(tiers, y.shape[0])
    out = {}
    for tier, classes in tier_labels(y, t).items():
        rows = t == tier
        out[tier] = macro_f1(y[rows], yhat[rows], classes=classes)
    return out
