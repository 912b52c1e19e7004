"""Rankings that respect the noise: a leader is named only when the paired bootstrap separates it.

A table of point estimates always has a maximum, even when every arm is the same
model up to resampling noise.  :func:`rank_against_leader` scores every arm on a
metric, takes the point-estimate leader, and runs the course's paired bootstrap
(:func:`helpers.bootstrap.paired_bootstrap`, same rows for both arms) of each other
arm against the leader *on that same metric*: the metric's own noise floor, not
another metric's.  :func:`leader_or_tie` then reads the table: the leader's name
when every other arm's interval excludes zero, ``"tie"`` otherwise.  A tie is a
correct, reportable outcome ("no recipe beats the others within noise").

Convention (the same as the bootstrap's): the 2.5% and 97.5% quantiles of the
resampled deltas (``numpy.quantile``'s default, linear interpolation), and an
interval "excludes zero" only strictly (``ci_low > 0`` or ``ci_high < 0``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from . import metrics
from .bootstrap import paired_bootstrap

__all__ = ["HIGHER_IS_BETTER", "metric_value", "rank_against_leader", "leader_or_tie", "TIE"]

#: Direction of each metric the ranking accepts.
HIGHER_IS_BETTER = {"macro_f1": True, "accuracy": True, "ece": False, "nll": False}
#: What :func:`leader_or_tie` returns when the leader is not separated from every other arm.
TIE = "tie"


def _arm_input(arm: np.ndarray, metric: str) -> np.ndarray:
    """Class ids for F1 / accuracy (argmax of probabilities if given), probabilities for ECE / NLL."""
    arm = np.asarray(arm)
    if metric in ("macro_f1", "accuracy"):
        return arm.argmax(axis=1) if arm.ndim == 2 else arm
    if arm.ndim != 2:
        raise ValueError(f"metric={metric!r} needs probabilities of shape (n_rows, n_classes) for every arm, "
                         f"got an array of shape {arm.shape}; pass softmax(logits), not predictions.")
    return arm


def metric_value(arm: Iterable, labels: Iterable, metric: str, tiers: Iterable | None = None,
                 tier: str = "all", n_bins: int = 15) -> float:
    """One arm's ``metric`` on the rows of ``tier`` ("all" for every row), as the bootstrap scores it.

    Per-tier macro F1 is taken over the label set present in the tier's rows,
    exactly like :func:`helpers.bootstrap.paired_bootstrap`.

    Parameters
    ----------
    arm : array-like
        Probabilities ``(n_rows, n_classes)``; class ids ``(n_rows,)`` also work for F1 and accuracy.
    labels : array-like of int
        True class ids, shape ``(n_rows,)``.
    metric : {"macro_f1", "accuracy", "ece", "nll"}
        The metric.
    tiers : array-like of str, optional
        Each row's tier; needed when ``tier`` is not ``"all"``.
    tier : str, default "all"
        The rows scored.
    n_bins : int, default 15
        ECE bins.

    Returns
    -------
    float
        The metric's value.

    Examples
    --------
    >>> metric_value(np.array([0, 1, 1]), np.array([0, 1, 0]), "accuracy")
    0.6666666666666666
    """
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"metric must be one of {list(HIGHER_IS_BETTER)}, got {metric!r}.")
    y = np.asarray(labels)
    rows = np.arange(y.size) if tier == "all" else np.flatnonzero(np.asarray(tiers).astype(str) == tier)
    if rows.size == 0:
        raise ValueError(f"tier={tier!r} has no rows; pass one of the tiers present in `tiers`, or 'all'.")
    a = _arm_input(arm, metric)[rows]
    if metric == "macro_f1":
        return metrics.macro_f1(y[rows], a, classes=np.unique(y[rows]))
    if metric == "accuracy":
        return float((a == y[rows]).mean())
    if metric == "ece":
        return metrics.ece(a, y[rows], n_bins)
    return metrics.nll(a, y[rows])


def rank_against_leader(arms: Mapping[str, Iterable], labels: Iterable, metric: str,
                        tiers: Iterable | None = None, tier: str = "all", n_resamples: int = 1000,
                        seed: int = 42) -> pd.DataFrame:
    """Every arm's ``metric`` and the paired-bootstrap CI of its gap to the point-estimate leader.

    Parameters
    ----------
    arms : mapping of str to array-like
        Arm name -> probabilities ``(n_rows, n_classes)``; for ``macro_f1`` and
        ``accuracy`` class ids ``(n_rows,)`` are accepted too.
    labels : array-like of int
        True class ids, shape ``(n_rows,)``.
    metric : {"macro_f1", "accuracy", "ece", "nll"}
        The metric ranked; each gap is bootstrapped on this metric.
    tiers : array-like of str, optional
        Each row's tier; needed when ``tier`` is not ``"all"``.
    tier : str, default "all"
        Rank on one tier's rows (e.g. ``"tail"`` for tail macro F1) or on all rows.
    n_resamples, seed : int
        The bootstrap's resamples and seed (the course's 1,000 and 42).

    Returns
    -------
    pandas.DataFrame
        Indexed by arm, sorted best first, with columns ``value``, ``gap`` (the
        arm's value minus the leader's; 0 for the leader), ``ci_low`` and
        ``ci_high`` (the 95% CI of that gap) and ``separated`` (True when the CI
        excludes zero strictly: the leader beats this arm outside the noise).

    Examples
    --------
    >>> y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    >>> table = rank_against_leader({"a": y, "b": np.array([0, 1, 1, 0, 0, 2, 1, 1])}, y, "accuracy",
    ...                             n_resamples=200)
    >>> table.index.tolist(), bool(table.loc["a", "separated"])
    (['a', 'b'], False)
    """
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"metric must be one of {list(HIGHER_IS_BETTER)}, got {metric!r}.")
    if len(arms) < 2:
        raise ValueError(f"arms must hold at least two arms to rank, got {list(arms)}.")
    if tier != "all" and tiers is None:
        raise ValueError(f"tier={tier!r} needs `tiers` (each row's tier); pass tiers or use tier='all'.")
    inputs = {name: _arm_input(arm, metric) for name, arm in arms.items()}
    values = {name: metric_value(a, labels, metric, tiers, tier) for name, a in inputs.items()}
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    order = sorted(values, key=lambda n: -sign * values[n])
    leader = order[0]
    rows = []
    for name in order:
        if name == leader:
            rows.append({"arm": name, "value": values[name], "gap": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                         "separated": False})
            continue
        # b - a with a = the leader: the arm's gap to the leader, on the same resampled rows.
        ci = paired_bootstrap(inputs[leader], inputs[name], labels, None if tier == "all" else tiers,
                              metric=metric, n_resamples=n_resamples, seed=seed).loc[tier]
        rows.append({"arm": name, "value": values[name], "gap": values[name] - values[leader],
                     "ci_low": float(ci["ci_low"]), "ci_high": float(ci["ci_high"]),
                     "separated": bool(ci["excludes_zero"])})
    return pd.DataFrame(rows).set_index("arm")


def leader_or_tie(table: pd.DataFrame) -> str:
    """The leader of a :func:`rank_against_leader` table if it beats every other arm outside the noise, else ``"tie"``.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`rank_against_leader` result (best first, a ``separated`` column), at least two rows.

    Returns
    -------
    str
        The leader's name, or :data:`TIE`.

    Examples
    --------
    >>> t = pd.DataFrame({"separated": [False, True, False]}, index=["x", "y", "z"])
    >>> leader_or_tie(t)
    'tie'
    >>> leader_or_tie(t.iloc[:2])
    'x'
    """
    if "separated" not in table.columns or len(table) < 2:
        raise ValueError("table must be a rank_against_leader result with at least two arms "
                         f"(a 'separated' column), got columns {list(table.columns)} and {len(table)} rows.")
    return str(table.index[0]) if bool(table["separated"].iloc[1:].all()) else TIE
