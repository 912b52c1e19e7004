"""Paired bootstrap of a metric's difference between two models, per tier.

"Paired" means both arms are scored on the *same* resampled rows, so the
row-to-row difficulty that both models share cancels out of the difference.
Resampling the arms independently throws that away and inflates the interval.

Resampling protocol (the course's, reproduced draw for draw): each tier is
bootstrapped on its own, as a function called once per tier with ``seed``
would: a fresh ``numpy.random.RandomState(seed)``, then ``n_resamples``
successive ``rng.choice(tier_rows, size=len(tier_rows))``.  A tier's interval
therefore does not depend on which other tiers were computed before it, and a
student's per-tier loop with the same seed reproduces these numbers exactly.

How the vectorised version stays fast *and* bit-identical to the loop:

* The draws are the loop's: ``choice`` draws ``randint(0, m)`` positions, and
  one ``randint`` call of shape (c, m) consumes the stream exactly like c calls
  of size m.  They are drawn in chunks of resamples small enough (~1 MB) to
  stay in cache; a full (1000, 5155) array costs page faults on every pass.
  Indices are drawn as ``intp``: ``np.take`` and ``np.bincount`` convert any
  other index dtype with a full extra copy (int32 indices made the gather
  2-3x slower).
* F1 and accuracy depend on a row only through a small integer type code
  (tier-local label, and each arm's tier-local prediction or "outside the
  tier's label set"), so each resample needs one gather of codes and one
  ``bincount``; integer counts times 0/1 features are exact in float64.
* ECE and NLL gather per-row values in draw order and accumulate them the way
  the loop does (``bincount`` with weights per bin; a row sum for the NLL
  mean), so even their floating-point rounding matches the loop's.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .course import TIERS
from .inputs import check_labels, check_positive_int, check_probs, check_tiers
from .metrics_calibration import EPS, ece_bin_index

__all__ = ["paired_bootstrap", "paired_bootstrap_loop", "resample_indices", "METRICS", "lift_pattern"]

METRICS = ("macro_f1", "accuracy", "ece", "nll")
COLUMNS = ["median", "ci_low", "ci_high", "excludes_zero", "observed", "n"]

# Draws per chunk: 2**17 intp indices (1 MB) plus their gathered codes stay in
# L2/L3 and reuse the allocator's memory instead of faulting in fresh pages.
_CHUNK_DRAWS = 1 << 17


def _groups(labels, tiers):
    if tiers is None:
        return {"all": np.arange(len(labels))}
    t = check_tiers(tiers, len(labels))
    return {tier: np.flatnonzero(t == tier) for tier in TIERS if (t == tier).any()}


def resample_indices(rng: np.random.RandomState, rows: Sequence, n_resamples: int) -> np.ndarray:
    """(n_resamples, len(rows)) positions into ``rows``: the same draws as
    ``n_resamples`` successive ``rng.choice(rows, size=len(rows))`` calls.

    Examples
    --------
    >>> pos = resample_indices(np.random.RandomState(0), [10, 20, 30], 2)
    >>> pos.shape
    (2, 3)
    """
    # RandomState.choice(a, size) draws randint(0, len(a), size) (dtype intp);
    # one call of shape (B, m) consumes the stream exactly like B calls of size m.
    return rng.randint(0, len(rows), size=(n_resamples, len(rows)), dtype=np.intp)


def _draw_chunks(rng, m, n_resamples):
    """Yield (first resample, positions (c, m)) covering all resamples in order."""
    step = max(1, _CHUNK_DRAWS // m)
    for start in range(0, n_resamples, step):
        c = min(step, n_resamples - start)
        yield start, rng.randint(0, m, size=(c, m), dtype=np.intp)


# --------------------------------------------------------------------------- scorers
# A scorer is built once per tier from that tier's rows.  ``stats(pos)`` maps
# positions (c, m) to per-resample statistics (c, s); ``finish(stats)`` turns
# the statistics of all resamples into (metric of arm a, metric of arm b).

def _f1_from_sums(tp, true_plus_pred):
    # scikit-learn's F-beta at beta = 1: 2 tp / (2 tp + fp + fn), 0 where undefined.
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(true_plus_pred > 0, 2 * tp / np.where(true_plus_pred > 0, true_plus_pred, 1), 0.0)
    return f1.mean(axis=1)


def _code_scorer(metric, a, b, y):
    """F1 / accuracy: a row matters only through a small integer type code."""
    m = y.size
    if metric == "accuracy":
        code = ((a == y) * 2 + (b == y)).astype(np.intp)
        values = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])  # correct a, correct b

        def finish(sums):
            return sums[:, 0] / m, sums[:, 1] / m
    else:
        classes = np.unique(y)
        k = classes.size

        def local(p):  # tier-local class id; k for "outside the tier's label set"
            loc = np.minimum(np.searchsorted(classes, p), k - 1)
            return np.where(classes[loc] == p, loc, k)

        yl, pa, pb = local(y), local(a), local(b)
        _, first, code = np.unique((yl * (k + 1) + pa) * (k + 1) + pb,
                                   return_index=True, return_inverse=True)
        code = code.reshape(-1).astype(np.intp, copy=False)
        yl, pa, pb = yl[first], pa[first], pb[first]
        u = np.arange(first.size)
        # Columns: [tp_a | true+pred_a | tp_b | true+pred_b], k each.
        values = np.zeros((first.size, 4 * k))
        for base, p in ((0, pa), (2 * k, pb)):
            hit = p == yl
            values[u[hit], base + yl[hit]] = 1.0
            values[u, base + k + yl] += 1.0
            inside = p < k
            values[u[inside], base + k + p[inside]] += 1.0

        def finish(sums):
            return (_f1_from_sums(sums[:, :k], sums[:, k:2 * k]),
                    _f1_from_sums(sums[:, 2 * k:3 * k], sums[:, 3 * k:]))

    n_codes = values.shape[0]
    # Each code feeds at most six columns: a sparse integer product is exact,
    # single-threaded (a BLAS product's threads stall on a busy shared machine)
    # and cheaper than the dense one.
    from scipy.sparse import csr_matrix

    values_t = csr_matrix(values.T.astype(np.int64))

    def stats(pos):
        c = pos.shape[0]
        # Key code * c + resample: counts come out (n_codes, c), C-ordered, as
        # the sparse product wants them (no transposed copy).
        keys = np.take(code * c, pos)
        keys += np.arange(c, dtype=np.intp)[:, None]
        counts = np.bincount(keys.reshape(-1), minlength=n_codes * c).reshape(n_codes, c)
        return (values_t @ counts).T

    return stats, values.shape[1], finish


def _ece_scorer(a, b, y, n_bins):
    m = y.size
    arms = []
    for p in (a, b):
        conf = p.max(axis=1)
        correct = (p.argmax(axis=1) == y).astype(np.float64)
        # Bin 0 collects confidences <= 0 (no bin under (lo, hi]); dropped below.
        arms.append((ece_bin_index(conf, n_bins).astype(np.intp) + 1, correct - conf))
    width = n_bins + 1

    def one(bins, gap, pos):
        c = pos.shape[0]
        keys = np.take(bins, pos)
        keys += (np.arange(c, dtype=np.intp) * width)[:, None]
        # bincount adds the weights in draw order, exactly as helpers.metrics.ece
        # does on the resampled rows, so the rounding matches the loop's.
        sums = np.bincount(keys.reshape(-1), np.take(gap, pos).reshape(-1), minlength=c * width)
        return np.abs(sums.reshape(c, width)[:, 1:]).sum(axis=1) / m

    def stats(pos):
        return np.stack([one(*arms[0], pos), one(*arms[1], pos)], axis=1)

    return stats, 2, lambda s: (s[:, 0], s[:, 1])


def _nll_scorer(a, b, y):
    m = y.size
    rows = np.arange(m)
    per_row = [-np.log(np.clip(p[rows, y], EPS, 1.0)) for p in (a, b)]

    def stats(pos):
        # A row sum of the draws in draw order: the loop's mean, rounding included.
        return np.stack([np.take(v, pos).sum(axis=1) / m for v in per_row], axis=1)

    return stats, 2, lambda s: (s[:, 0], s[:, 1])


def _scorer(metric, a, b, y, n_bins):
    if metric in ("macro_f1", "accuracy"):
        return _code_scorer(metric, a, b, y)
    if metric == "ece":
        return _ece_scorer(a, b, y, n_bins)
    return _nll_scorer(a, b, y)


# --------------------------------------------------------------------------- shared
def _validate(a, b, labels, metric, n_resamples, n_bins):
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}.")
    check_positive_int(n_resamples, "n_resamples")
    check_positive_int(n_bins, "n_bins")
    if metric in ("macro_f1", "accuracy"):
        y = check_labels(labels)
        a = check_labels(a, y.shape[0], name="a (predictions)")
        b = check_labels(b, y.shape[0], name="b (predictions)")
    else:
        a = check_probs(a, "a (probabilities)")
        b = check_probs(b, "b (probabilities)")
        if a.shape != b.shape:
            raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}.")
        y = check_labels(labels, a.shape[0], a.shape[1])
    return a, b, y


def _summarise(deltas, observed, n):
    lo, med, hi = np.quantile(deltas, [0.025, 0.5, 0.975])
    return {"median": float(med), "ci_low": float(lo), "ci_high": float(hi),
            "excludes_zero": bool(lo > 0 or hi < 0), "observed": float(observed), "n": int(n)}


# --------------------------------------------------------------------------- public
def paired_bootstrap(a: Iterable, b: Iterable, labels: Iterable, tiers: Iterable | None,
                     metric: str = "macro_f1", n_resamples: int = 1000, seed: int = 42,
                     n_bins: int = 15) -> pd.DataFrame:
    """Paired bootstrap of ``metric(b) - metric(a)``, per tier: both arms scored on the same resampled rows.

    ``a`` is the baseline, ``b`` the challenger: the delta is b minus a, so a
    positive F1 or accuracy delta means b is better (for ECE and NLL, lower is
    better, so a negative delta means b is better).  Per-tier macro F1
    averages over the tier's label set.  Same numbers as
    :func:`paired_bootstrap_loop`, much faster.

    Parameters
    ----------
    a, b : array-like
        Predictions (class ids, shape (n_rows,)) for ``macro_f1`` and
        ``accuracy``; probabilities (n_rows, n_classes) for ``ece`` and ``nll``.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    tiers : array-like of str, shape (n_rows,), or None
        Each row's tier (head/mid/tail); None for one row named ``"all"``.
    metric : {"macro_f1", "accuracy", "ece", "nll"}, default "macro_f1"
        The metric whose difference is bootstrapped.
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    seed : int, default 42
        Seed of each tier's ``numpy.random.RandomState``.
    n_bins : int, default 15
        ECE bins (``metric="ece"`` only).

    Returns
    -------
    pandas.DataFrame
        Indexed by tier, with columns ``median``, ``ci_low``, ``ci_high`` (the
        2.5% / 97.5% quantiles), ``excludes_zero``, ``observed`` (the delta on
        the unresampled rows) and ``n``.

    Examples
    --------
    >>> labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    >>> a = np.array([0, 1, 1, 0, 0, 2, 1, 1])
    >>> ci = paired_bootstrap(a, labels, labels, None, metric="accuracy", n_resamples=200)
    >>> list(ci.columns), ci.index.tolist(), float(ci.loc["all", "observed"])
    (['median', 'ci_low', 'ci_high', 'excludes_zero', 'observed', 'n'], ['all'], 0.375)
    """
    a, b, y = _validate(a, b, labels, metric, n_resamples, n_bins)
    rows = []
    for name, idx in _groups(y, tiers).items():
        rng = np.random.RandomState(seed)
        stats, width, finish = _scorer(metric, a[idx], b[idx], y[idx], n_bins)
        per_resample = np.empty((n_resamples, width), dtype=np.float64)
        for start, pos in _draw_chunks(rng, idx.size, n_resamples):
            per_resample[start:start + pos.shape[0]] = stats(pos)
        va, vb = finish(per_resample)
        deltas = vb - va
        va, vb = finish(stats(np.arange(idx.size, dtype=np.intp)[None, :]).astype(np.float64))
        rows.append({"tier": name, **_summarise(deltas, vb[0] - va[0], idx.size)})
    return pd.DataFrame(rows, columns=["tier", *COLUMNS]).set_index("tier")


def paired_bootstrap_loop(a: Iterable, b: Iterable, labels: Iterable, tiers: Iterable | None,
                          metric: str = "macro_f1", n_resamples: int = 1000, seed: int = 42,
                          n_bins: int = 15) -> pd.DataFrame:
    """The straightforward loop: one ``rng.choice`` and one scoring call per resample.

    Same protocol, arguments and output as :func:`paired_bootstrap`; kept as
    the reference the vectorised version is tested and benchmarked against,
    and as the version that reads like the textbook.

    Parameters
    ----------
    a, b : array-like
        Class ids for ``macro_f1`` / ``accuracy``; probabilities for ``ece`` / ``nll``.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    tiers : array-like of str, shape (n_rows,), or None
        Each row's tier; None for one ``"all"`` row.
    metric : {"macro_f1", "accuracy", "ece", "nll"}, default "macro_f1"
        The metric whose difference is bootstrapped.
    n_resamples : int, default 1000
        Number of bootstrap resamples.
    seed : int, default 42
        Seed of each tier's ``numpy.random.RandomState``.
    n_bins : int, default 15
        ECE bins.

    Returns
    -------
    pandas.DataFrame
        The same table as :func:`paired_bootstrap`.

    Examples
    --------
    >>> labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    >>> a = np.array([0, 1, 1, 0, 0, 2, 1, 1])
    >>> loop = paired_bootstrap_loop(a, labels, labels, None, metric="accuracy", n_resamples=50)
    >>> loop.equals(paired_bootstrap(a, labels, labels, None, metric="accuracy", n_resamples=50))
    True
    """
    from sklearn.metrics import f1_score

    from . import metrics

    a, b, y = _validate(a, b, labels, metric, n_resamples, n_bins)

    def score(arm, rows, classes):
        if metric == "macro_f1":
            return f1_score(y[rows], arm[rows], labels=classes, average="macro", zero_division=0)
        if metric == "accuracy":
            return float((arm[rows] == y[rows]).mean())
        if metric == "ece":
            return metrics.ece(arm[rows], y[rows], n_bins)
        return metrics.nll(arm[rows], y[rows])

    out = []
    for name, idx in _groups(y, tiers).items():
        rng = np.random.RandomState(seed)
        classes = np.unique(y[idx])
        deltas = np.empty(n_resamples)
        for r in range(n_resamples):
            rows = rng.choice(idx, size=len(idx))
            deltas[r] = score(b, rows, classes) - score(a, rows, classes)
        observed = score(b, idx, classes) - score(a, idx, classes)
        out.append({"tier": name, **_summarise(deltas, observed, idx.size)})
    return pd.DataFrame(out, columns=["tier", *COLUMNS]).set_index("tier")


def lift_pattern(ci_by_tier: Mapping) -> str:
    """Name the pattern of a per-tier bootstrap: the tiers whose CI lies entirely above zero.

    Parameters
    ----------
    ci_by_tier : mapping
        Tier -> that tier's row with a ``ci_low`` entry (a dict or a Series; from a
        :func:`paired_bootstrap` table ``ci``: ``{t: ci.loc[t] for t in ci.index}``).

    Returns
    -------
    str
        ``"uniform"`` (all three tiers), ``"head"`` (the head, with or without
        one other tier), ``"mid+tail"`` (mid and tail, not head), ``"tail"``
        (the tail alone), ``"mid"`` (mid alone) or ``"none"`` (no tier).  Each
        name says exactly which non-head tiers it covers.

    Examples
    --------
    >>> lift_pattern({"head": {"ci_low": 0.01}, "mid": {"ci_low": 0.02}, "tail": {"ci_low": 0.005}})
    'uniform'
    >>> lift_pattern({"head": {"ci_low": -0.01}, "mid": {"ci_low": -0.02}, "tail": {"ci_low": -0.03}})
    'none'
    >>> lift_pattern({"head": {"ci_low": -0.01}, "mid": {"ci_low": 0.02}, "tail": {"ci_low": 0.01}})
    'mid+tail'
    """
    def get(tier, key):
        row = ci_by_tier[tier]
        return row[key]
    real = {t for t in TIERS if t in ci_by_tier and get(t, "ci_low") > 0}
    if real == set(TIERS):
        return "uniform"
    if "head" in real:
        return "head"
    if "tail" in real:
        return "mid+tail" if "mid" in real else "tail"
    return "none" if "mid" not in real else "mid"
