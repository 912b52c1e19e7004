"""Input checks shared by the analysis modules (scikit-learn's ``check_array`` idea).

metrics, calibration, bootstrap, plots and deploy validate their arguments at
the boundary with these functions, so one kind of input is accepted, or
refused with the same message, everywhere.  Each check returns the array the
caller computes with; each error names the argument, what was expected, what
was given and, where there is one, the usual fix.

Labels (and predictions, which are class ids too) follow one rule: an integer
array is used as is; a float array whose every value is a whole number (e.g.
labels read back from a CSV, ``[0.0, 2.0, 1.0]``) is accepted and converted to
int64; any other dtype (fractional or non-finite floats, bool, strings) is
refused with :class:`LabelDtypeError`.  That error is both a ``TypeError`` and
a ``ValueError``, so callers written against either of the earlier behaviours
keep catching it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .course import TIERS

__all__ = ["LabelDtypeError", "check_vector", "check_labels", "check_probs", "check_logits", "check_tiers",
           "check_positive_int", "PROB_TOLERANCE"]

#: How far outside [0, 1] a probability may stray (float rounding of a softmax) before it is refused.
PROB_TOLERANCE = 1e-6


class LabelDtypeError(TypeError, ValueError):
    """Class ids that are not integers (nor whole-number floats)."""


def check_vector(x: Iterable, name: str, *, integer: bool = False) -> np.ndarray:
    """``x`` as a 1-D array; with ``integer=True`` also as class ids (see the module's label rule).

    Examples
    --------
    >>> check_vector([0.0, 2.0], "labels", integer=True)
    array([0, 2])
    """
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}.")
    if integer and a.size and not np.issubdtype(a.dtype, np.integer):
        if np.issubdtype(a.dtype, np.floating) and np.isfinite(a).all() and np.all(np.mod(a, 1) == 0):
            a = a.astype(np.int64)
        else:
            raise LabelDtypeError(f"{name} must hold integer class ids, got dtype {a.dtype}; "
                                  f"pass integers (e.g. {name}.astype(int) when they are whole numbers).")
    return a


def check_labels(labels: Iterable, n_rows: int | None = None, n_classes: int | None = None,
                 name: str = "labels") -> np.ndarray:
    """Class ids: 1-D, one per row (when ``n_rows`` is given), in ``[0, n_classes)`` (when given).

    Integer arrays come back unchanged; whole-number floats as int64.

    Examples
    --------
    >>> check_labels([2, 0, 1], n_rows=3, n_classes=3)
    array([2, 0, 1])
    """
    y = check_vector(labels, name, integer=True)
    if n_rows is not None and y.shape[0] != n_rows:
        raise ValueError(f"{name} must have one entry per row ({n_rows}), got {y.shape[0]}.")
    if n_classes is not None and y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} must lie in [0, {n_classes - 1}], got values from "
                         f"{y.min()} to {y.max()}.")
    return y


def check_probs(probs: Iterable, name: str = "probs") -> np.ndarray:
    """Probabilities (n_rows, n_classes) as float64, every value in [0, 1].

    Logits are the usual mistake, and the message says how to convert them.

    Examples
    --------
    >>> check_probs([[0.25, 0.75]]).dtype
    dtype('float64')
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_rows, n_classes), got shape {p.shape}. "
                         f"Pass probabilities, e.g. helpers.metrics.softmax(logits).")
    if p.size and (np.nanmin(p) < -PROB_TOLERANCE or np.nanmax(p) > 1 + PROB_TOLERANCE or np.isnan(p).any()):
        raise ValueError(f"{name} must be probabilities in [0, 1]; got values from "
                         f"{np.nanmin(p):.3g} to {np.nanmax(p):.3g}. Did you pass logits? "
                         f"Convert them with helpers.metrics.softmax(logits).")
    return p


def check_logits(logits: Iterable, name: str = "logits", *, min_rows: int = 0,
                 dtype: type | None = None) -> np.ndarray:
    """Logits (n_rows, n_classes) with at least ``min_rows`` rows, cast to ``dtype`` when given.

    Examples
    --------
    >>> check_logits([[1.0, -1.0]], min_rows=1).shape
    (1, 2)
    """
    z = np.asarray(logits) if dtype is None else np.asarray(logits, dtype=dtype)
    if z.ndim != 2 or z.shape[0] < min_rows:
        rows = f"n_rows >= {min_rows}" if min_rows > 1 else "n_rows > 0" if min_rows == 1 else "n_rows"
        raise ValueError(f"{name} must be 2-D ({rows}, n_classes), got shape {z.shape}.")
    return z


def check_tiers(tiers: Iterable, n_rows: int, known: Sequence[str] = TIERS) -> np.ndarray:
    """Tier names as a str array, one per row, each one of ``known`` (the course's head/mid/tail).

    Examples
    --------
    >>> check_tiers(["head", "tail"], 2)
    array(['head', 'tail'], dtype='<U4')
    """
    t = np.asarray(tiers)
    if t.ndim != 1 or t.shape[0] != n_rows:
        raise ValueError(f"tiers must be 1-D with one entry per row ({n_rows}), got shape {t.shape}.")
    t = t.astype(str)
    unknown = sorted({str(u) for u in np.unique(t)} - set(known))
    if unknown:
        raise ValueError(f"tiers must be one of {list(known)}, got unknown name(s) {unknown}.")
    return t


def check_positive_int(value: object, name: str) -> int:
    """``value`` if it is an integer >= 1 (bool is not a count).

    Examples
    --------
    >>> check_positive_int(15, "n_bins")
    15
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value
