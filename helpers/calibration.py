"""Post-hoc temperature scaling (Chuan Guo et al. 2017) and the course's cal/eval split.

One temperature T divides every logit: confidence changes, the predicted class
does not.  T is fitted on one half of validation (the cal half) and judged on
the other (the eval half), so the ECE it reports is not measured on the rows
it was fitted to.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from .inputs import check_labels, check_logits

__all__ = ["fit_temperature", "cal_eval_split", "apply_temperature", "temperature_nll"]

# The course fixes the split with RandomState(42 + 999); keep the offset
# explicit so `cal_eval_split(n, seed=42)` reproduces its halves.
SPLIT_SEED_OFFSET = 999


def cal_eval_split(n: int, seed: int = 42) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the calibration half and the evaluation half of ``n`` rows.

    ``RandomState(seed + 999).permutation(n)``: the first ``n // 2`` rows are the
    cal half (where T is fitted), the rest the eval half (where it is judged).

    Parameters
    ----------
    n : int
        Number of rows, >= 2.
    seed : int, default 42
        The course's seed; the same seed always gives the same halves.

    Returns
    -------
    tuple of numpy.ndarray
        ``(cal_idx, eval_idx)``: disjoint row indices covering ``range(n)``.

    Examples
    --------
    >>> cal, ev = cal_eval_split(10)
    >>> len(cal), len(ev), sorted([*cal, *ev]) == list(range(10))
    (5, 5, True)
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer number of rows >= 2, got {n!r}.")
    perm = np.random.RandomState(seed + SPLIT_SEED_OFFSET).permutation(int(n))
    return perm[: n // 2], perm[n // 2:]


def _validate(logits, labels):
    z = check_logits(logits, min_rows=1, dtype=np.float64)
    y = check_labels(labels, n_rows=z.shape[0], n_classes=z.shape[1])
    return z, y.astype(np.int64)


def temperature_nll(logits: Iterable, labels: Iterable, T: float) -> float:
    """NLL of ``softmax(logits / T)``, computed with an exact log-sum-exp (no clipping).

    Parameters
    ----------
    logits : array-like, shape (n_rows, n_classes)
        The model's logits.
    labels : array-like of int, shape (n_rows,)
        True class ids.
    T : float
        Temperature, > 0.

    Returns
    -------
    float
        Mean negative log-likelihood of the true class.

    Examples
    --------
    >>> round(temperature_nll([[2.0, 0.0]], [0], T=1.0), 4)
    0.1269
    """
    z, y = _validate(logits, labels)
    s = z / T
    m = s.max(axis=1, keepdims=True)
    lse = np.log(np.exp(s - m).sum(axis=1)) + m[:, 0]
    return float((lse - s[np.arange(y.size), y]).mean())


def fit_temperature(logits: Iterable, labels: Iterable, max_iter: int = 200) -> float:
    """The temperature T > 0 that minimises NLL of softmax(logits / T).

    Optimises log T (so T stays positive) with L-BFGS and a strong-Wolfe line
    search in float64, starting from T = 1.  A fixed small step with few
    iterations stops short of the optimum; the line search does not.

    Parameters
    ----------
    logits : array-like, shape (n_rows, n_classes)
        Logits of the rows T is fitted on (the cal half).
    labels : array-like of int, shape (n_rows,)
        True class ids of those rows.
    max_iter : int, default 200
        Most L-BFGS iterations.

    Returns
    -------
    float
        The fitted temperature: above 1 shrinks an over-confident model's logits.

    Examples
    --------
    >>> logits = [[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]]
    >>> fit_temperature(logits, [0, 1, 0, 1]) > 1.0   # confident and wrong a quarter of the time
    True
    """
    import torch  # imported here: analysis-only users of this module need no torch

    z, y = _validate(logits, labels)
    zt = torch.as_tensor(z, dtype=torch.float64)
    yt = torch.as_tensor(y)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=1.0, max_iter=max_iter, tolerance_grad=1e-12,
                            tolerance_change=1e-14, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(zt / log_t.exp(), yt)
        loss.backward()
        return loss

    opt.step(closure)
    T = float(log_t.detach().exp())
    if not math.isfinite(T) or T <= 0:
        raise RuntimeError(f"temperature fit diverged (T = {T}); check the logits for inf/NaN.")
    return T


def apply_temperature(logits: Iterable, T: float) -> np.ndarray:
    """Logits divided by T (float32), ready for softmax; argmax is unchanged.

    Parameters
    ----------
    logits : array-like, shape (n_rows, n_classes)
        The model's logits.
    T : float
        Temperature, a finite number > 0 (e.g. from :func:`fit_temperature`).

    Returns
    -------
    numpy.ndarray
        ``logits / T`` as float32, same shape.

    Examples
    --------
    >>> apply_temperature([[4.0, 2.0]], 2.0).tolist()
    [[2.0, 1.0]]
    """
    if isinstance(T, bool) or not (isinstance(T, numbers.Real) and math.isfinite(T) and T > 0):
        raise ValueError(f"T must be a finite number > 0, got {T!r}.")
    return (np.asarray(logits, dtype=np.float32) / np.float32(T)).astype(np.float32)
