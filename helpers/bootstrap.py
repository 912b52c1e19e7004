"""Paired bootstrap of a metric's difference between two models, per tier.

"Paired" means both arms are scored on the *same* resampled rows, so the
row-to-row difficulty that both models share cancels out of the difference.
Resampling the arms independently throws that away and inflates the interval.

Resampling protocol (the course's, reproduced draw for draw): one
``numpy.random.RandomState(seed)`` stream; for each tier in head, mid, tail
order, ``n_resamples`` successive ``rng.choice(tier_rows, size=len(tier_rows))``.

The vectorised version reduces every metric to sums of per-row features
(true positives and true+predicted counts per class for F1; per-bin
accuracy-minus-confidence for ECE; per-row NLL), so each resample's metric
comes from one matrix product of draw counts with those features.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .metrics import TIERS, _check_labels, _check_probs, _check_tiers, ece_bin_index

__all__ = ["paired_bootstrap", "paired_bootstrap_loop", "resample_indices", "METRICS"]

METRICS = ("macro_f1", "accuracy", "ece", "nll")
COLUMNS = ["median", "ci_low", "ci_high", "excludes_zero", "observed", "n"]


def _groups(labels, tiers):
    if tiers is None:
        return {"all": np.arange(len(labels))}
    t = _check_tiers(tiers, len(labels))
    return {tier: np.flatnonzero(t == tier) for tier in TIERS if (t == tier).any()}


def resample_indices(rng, rows, n_resamples):
    """(n_resamples, len(rows)) positions into ``rows``: the same draws as
    ``n_resamples`` successive ``rng.choice(rows, size=len(rows))`` calls."""
    # RandomState.choice(a, size) draws randint(0, len(a), size); one call of
    # size (B, m) consumes the stream exactly like B calls of size m, and the
    # int32 output path draws the very same numbers as the default int64 one.
    return rng.randint(0, len(rows), size=(n_resamples, len(rows)), dtype=np.int32)


def _resample_sums(pos, features):
    """Per-resample column sums of ``features`` over the drawn rows: (B, k).

    Rows with identical features are interchangeable, so we count draws per
    distinct feature row (a handful for F1 and accuracy) instead of per row:
    one gather and one small bincount instead of a (B, m) weight matrix.
    """
    B = pos.shape[0]
    distinct, kind = np.unique(features, axis=0, return_inverse=True)
    U = distinct.shape[0]
    keys = np.take(kind.reshape(-1).astype(np.int32), pos)
    keys += (np.arange(B, dtype=np.int32) * U)[:, None]
    counts = np.bincount(keys.ravel(), minlength=B * U).reshape(B, U)
    return counts.astype(np.float64) @ distinct


def _row_features(metric, arm, y, classes, n_bins):
    """Per-row columns whose weighted sums give the metric's sufficient statistics."""
    if metric in ("macro_f1", "accuracy"):
        preds = np.asarray(arm)
        correct = (preds == y).astype(np.float64)
        if metric == "accuracy":
            return correct[:, None]
        onehot_true = (y[:, None] == classes[None, :]).astype(np.float64)
        onehot_pred = (preds[:, None] == classes[None, :]).astype(np.float64)
        return np.hstack([onehot_true * correct[:, None], onehot_true + onehot_pred])
    probs = arm
    if metric == "nll":
        return -np.log(np.clip(probs[np.arange(y.size), y], 1e-12, 1.0))[:, None]
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(np.float64)
    b = ece_bin_index(conf, n_bins)
    onehot_bin = (b[:, None] == np.arange(n_bins)[None, :]).astype(np.float64)
    return onehot_bin * (correct - conf)[:, None]


def _metric_from_sums(metric, sums, m):
    if metric == "macro_f1":
        k = sums.shape[1] // 2
        tp, true_plus_pred = sums[:, :k], sums[:, k:]
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(true_plus_pred > 0, 2 * tp / np.where(true_plus_pred > 0, true_plus_pred, 1), 0.0)
        return f1.mean(axis=1)
    if metric == "ece":
        return np.abs(sums).sum(axis=1) / m
    return sums[:, 0] / m


def _validate_arms(a, b, labels, metric):
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}.")
    if metric in ("macro_f1", "accuracy"):
        y = np.asarray(labels)
        a = _check_labels(a, y.shape[0], name="a (predictions)")
        b = _check_labels(b, y.shape[0], name="b (predictions)")
        y = _check_labels(labels, y.shape[0])
    else:
        a = _check_probs(a, "a (probabilities)")
        b = _check_probs(b, "b (probabilities)")
        if a.shape != b.shape:
            raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}.")
        y = _check_labels(labels, a.shape[0], a.shape[1])
    return a, b, y


def _summarise(deltas, observed, n):
    lo, med, hi = np.quantile(deltas, [0.025, 0.5, 0.975])
    return {"median": float(med), "ci_low": float(lo), "ci_high": float(hi),
            "excludes_zero": bool(lo > 0 or hi < 0), "observed": float(observed), "n": int(n)}


def paired_bootstrap(a, b, labels, tiers, metric="macro_f1", n_resamples=1000, seed=42, n_bins=15):
    """Bootstrap distribution of ``metric(b) - metric(a)`` per tier.

    a, b: predictions (class ids) for ``macro_f1`` and ``accuracy``;
    probabilities (n_rows, n_classes) for ``ece`` and ``nll``.  ``a`` is the
    baseline, ``b`` the challenger: a positive F1 delta means b is better.
    tiers: per-row tier names, or None for one "all" row.

    Returns a DataFrame indexed by tier with columns median, ci_low, ci_high
    (2.5% / 97.5% quantiles), excludes_zero, observed (the delta on the
    unresampled rows) and n.
    """
    a, b, y = _validate_arms(a, b, labels, metric)
    if not isinstance(n_resamples, (int, np.integer)) or n_resamples < 1:
        raise ValueError(f"n_resamples must be a positive integer, got {n_resamples!r}.")
    rng = np.random.RandomState(seed)
    rows = []
    groups = _groups(y, tiers)
    for name, idx in groups.items():
        yt = y[idx]
        classes = np.unique(yt)
        feats = [_row_features(metric, arm[idx], yt, classes, n_bins) for arm in (a, b)]
        m = idx.size
        k = feats[0].shape[1]
        sums = _resample_sums(resample_indices(rng, idx, n_resamples), np.hstack(feats))
        va = _metric_from_sums(metric, sums[:, :k], m)
        vb = _metric_from_sums(metric, sums[:, k:], m)
        full = np.hstack(feats).sum(axis=0, keepdims=True)
        observed = (_metric_from_sums(metric, full[:, k:], m) - _metric_from_sums(metric, full[:, :k], m))[0]
        rows.append({"tier": name, **_summarise(vb - va, observed, m)})
    return pd.DataFrame(rows, columns=["tier", *COLUMNS]).set_index("tier")


def paired_bootstrap_loop(a, b, labels, tiers, metric="macro_f1", n_resamples=1000, seed=42, n_bins=15):
    """The straightforward loop (scikit-learn / helpers.metrics per resample).

    Same protocol and output as :func:`paired_bootstrap`; kept as the
    reference the vectorised version is tested and benchmarked against.
    """
    from sklearn.metrics import f1_score

    from . import metrics

    a, b, y = _validate_arms(a, b, labels, metric)
    rng = np.random.RandomState(seed)

    def score(arm, rows, classes):
        if metric == "macro_f1":
            return f1_score(y[rows], arm[rows], labels=classes, average="macro", zero_division=0)
        if metric == "accuracy":
            return float((arm[rows] == y[rows]).mean())
        fn = metrics.ece if metric == "ece" else metrics.nll
        return fn(arm[rows], y[rows], n_bins) if metric == "ece" else fn(arm[rows], y[rows])

    out = []
    for name, idx in _groups(y, tiers).items():
        classes = np.unique(y[idx])
        deltas = np.empty(n_resamples)
        for r in range(n_resamples):
            rows = rng.choice(idx, size=len(idx))
            deltas[r] = score(b, rows, classes) - score(a, rows, classes)
        observed = score(b, idx, classes) - score(a, idx, classes)
        out.append({"tier": name, **_summarise(deltas, observed, idx.size)})
    return pd.DataFrame(out, columns=["tier", *COLUMNS]).set_index("tier")
