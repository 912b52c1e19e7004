"""Post-hoc temperature scaling (Chuan Guo et al. 2017) and the course's cal/eval split."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .inputs import check_labels, check_logits

__all__ = ["fit_temperature", "cal_eval_split", "apply_temperature", "temperature_nll"]

# The course fixes the split with RandomState(42 + 999); keep the offset
# explicit so `cal_eval_split(n, seed=42)` reproduces its halves.
SPLIT_SEED_OFFSET = 999


def cal_eval_split(n, seed=42):
    """Indices of the calibration half and the evaluation half of ``n`` rows.

    ``RandomState(seed + 999).permutation(n)``: the first ``n // 2`` rows are the
    cal half (where T is fitted), the rest the eval half (where it is judged).
    """
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer number of rows >= 2, got {n!r}.")
    perm = np.random.RandomState(seed + SPLIT_SEED_OFFSET).permutation(int(n))
    return perm[: n // 2], perm[n // 2:]


def _validate(logits, labels):
    z = check_logits(logits, min_rows=1, dtype=np.float64)
    y = check_labels(labels, n_rows=z.shape[0], n_classes=z.shape[1])
    return z, y.astype(np.int64)


def temperature_nll(logits, labels, T):
    """NLL of softmax(logits / T) (exact log-sum-exp; no clipping needed)."""
    z, y = _validate(logits, labels)
    s = z / T
    m = s.max(axis=1, keepdims=True)
    lse = np.log(np.exp(s - m).sum(axis=1)) + m[:, 0]
    return float((lse - s[np.arange(y.size), y]).mean())


def fit_temperature(logits, labels, max_iter=200):
    """The temperature T > 0 that minimises NLL of softmax(logits / T).

    Optimises log T (so T stays positive) with L-BFGS and a strong-Wolfe line
    search in float64, starting from T = 1.  A fixed small step with few
    iterations stops short of the optimum; the line search does not.
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


def apply_temperature(logits, T):
    """Logits divided by T (float32), ready for softmax; argmax is unchanged."""
    if isinstance(T, bool) or not (isinstance(T, numbers.Real) and math.isfinite(T) and T > 0):
        raise ValueError(f"T must be a finite number > 0, got {T!r}.")
    return (np.asarray(logits, dtype=np.float32) / np.float32(T)).astype(np.float32)
