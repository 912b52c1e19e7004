"""Self-checks for the homework's structured answers: ``carry_over`` and ``wildcard``.

The homework states each structure (keys, types, ranges); these functions
check a student's dict against that statement and against the student's own
coverage table, and list every problem at once in one error, each naming the
key, what was expected, what was given and how to fix it.  They check form
and internal consistency only; the graders judge the choices.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CARRY_OVER_KEYS", "WILDCARD_KEYS", "FINE_THRESHOLDS", "check_carry_over", "check_wildcard",
           "lowest_threshold_reaching", "AnswerError"]

#: The carry-over table's thresholds: 0.50, 0.55, ..., 0.95.
FINE_THRESHOLDS = tuple(round(0.50 + 0.05 * i, 2) for i in range(10))
TARGET_ACCURACY = 0.95

CARRY_OVER_KEYS = {
    "model": "str: the arm you ship (DEPLOY_MODEL, a row of arms_df)",
    "coverage_at_0.70": "float in [0, 1]: share of eval-half rows with top-1 confidence >= 0.70",
    "accuracy_at_0.70": "float in [0, 1]: accuracy on those rows (NaN only when none is covered)",
    "n_covered_at_0.70": "int >= 0: how many rows that is",
    "lowest_threshold_95": "float: the lowest threshold in `fine` whose accuracy is >= 0.95, or the string 'none'",
}
WILDCARD_KEYS = {
    "recipe": "str: the recipe you do not run (not one of the four measured arms)",
    "predicted_macro_f1": "float in [0, 1]: your predicted macro F1 on the eval half",
    "predicted_ece": "float in [0, 1]: your predicted ECE on the eval half",
    "mechanism": "str of at least 12 words: why it would land there",
}


class AnswerError(ValueError):
    """A structured answer does not have the stated form; the message lists every problem."""


def _is_real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _keys(name: str, answer: object, spec: dict[str, str], problems: list[str]) -> None:
    if not isinstance(answer, dict):
        raise AnswerError(f"{name} must be a dict with the keys {sorted(spec)}, got {type(answer).__name__}: "
                          f"{answer!r}. Build it as {name} = {{...}} with one entry per key.")
    missing, extra = sorted(set(spec) - set(answer)), sorted(set(answer) - set(spec))
    for k in missing:
        problems.append(f"{name}[{k!r}] is missing: expected {spec[k]}.")
    for k in extra:
        problems.append(f"{name}[{k!r}] is not part of the structure: remove it (keys: {sorted(spec)}).")


def _unit(name: str, key: str, value: object, problems: list[str], allow_nan: bool = False) -> bool:
    if not _is_real(value):
        problems.append(f"{name}[{key!r}] must be a float, got {value!r}.")
        return False
    v = float(value)
    if math.isnan(v):
        if not allow_nan:
            problems.append(f"{name}[{key!r}] is NaN: expected a number in [0, 1].")
        return allow_nan
    if not 0.0 <= v <= 1.0:
        problems.append(f"{name}[{key!r}] must be in [0, 1] (a share, not a percentage), got {value!r}.")
        return False
    return True


def lowest_threshold_reaching(table: pd.DataFrame, target: float = TARGET_ACCURACY) -> float | str:
    """The lowest threshold of ``table`` whose accuracy is >= ``target`` (NaN never reaches), else 'none'."""
    ok = table[np.asarray(table["accuracy"], dtype=float) >= target]
    return float(ok["threshold"].min()) if len(ok) else "none"


def check_carry_over(carry_over: dict, fine: pd.DataFrame, arms: Iterable[str] | None = None) -> bool:
    """Check ``carry_over`` against its stated structure and against your own table ``fine``.

    It checks form and consistency only (every key present, types and ranges,
    the numbers copied from the right row of ``fine``), not whether the model you
    ship is a good choice: that is for the graders.

    Parameters
    ----------
    carry_over : dict
        Your answer, with exactly the keys of :data:`CARRY_OVER_KEYS`.
    fine : pandas.DataFrame
        The coverage table of the shipped model at :data:`FINE_THRESHOLDS`
        (columns threshold, coverage, accuracy, n_covered).
    arms : iterable of str, optional
        The names ``carry_over["model"]`` may take (e.g. the index of your table of arms).

    Returns
    -------
    bool
        True when every check holds (and a line says so).

    Raises
    ------
    AnswerError
        Listing every problem at once, each naming the key, what was expected and what was given.

    Examples
    --------
    A made-up table (not the course's numbers):

    >>> import pandas as pd
    >>> fine = pd.DataFrame({"threshold": FINE_THRESHOLDS,
    ...                      "coverage": [1.0, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],
    ...                      "accuracy": [0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98],
    ...                      "n_covered": [200, 190, 180, 170, 160, 140, 120, 100, 80, 60]})
    >>> check_carry_over({"model": "toy", "coverage_at_0.70": 0.8, "accuracy_at_0.70": 0.88,
    ...                   "n_covered_at_0.70": 160, "lowest_threshold_95": 0.9}, fine)
    carry_over: all checks hold for 'toy' (lowest threshold reaching 95%: 0.9).
    True
    """
    problems = []
    _keys("carry_over", carry_over, CARRY_OVER_KEYS, problems)
    cols = {"threshold", "coverage", "accuracy", "n_covered"}
    if not hasattr(fine, "columns") or not cols <= set(fine.columns):
        raise AnswerError(f"fine must be your coverage table (a DataFrame with columns {sorted(cols)}), got "
                          f"{type(fine).__name__}. Build it with coverage_table(..., thresholds=FINE_THRESHOLDS).")
    got = tuple(round(float(t), 2) for t in fine["threshold"])
    if got != FINE_THRESHOLDS:
        problems.append(f"fine must have the thresholds {list(FINE_THRESHOLDS)} in that order, got {list(got)}.")
    model = carry_over.get("model")
    if "model" in carry_over and not (isinstance(model, str) and model.strip()):
        problems.append(f"carry_over['model'] must be a non-empty str naming the arm you ship, got {model!r}.")
    elif arms is not None and model is not None and model not in list(arms):
        problems.append(f"carry_over['model'] must be one of {list(arms)}, got {model!r}.")
    at70 = fine[np.isclose(np.asarray(fine["threshold"], dtype=float), 0.70)]
    row = at70.iloc[0] if len(at70) else None
    for key, col in (("coverage_at_0.70", "coverage"), ("accuracy_at_0.70", "accuracy")):
        if key in carry_over and _unit("carry_over", key, carry_over[key], problems, allow_nan=col == "accuracy"):
            if row is not None and not np.isclose(float(carry_over[key]), float(row[col]), atol=1e-9,
                                                  equal_nan=True):
                problems.append(f"carry_over[{key!r}] is {carry_over[key]!r} but your table says "
                                f"{float(row[col])!r} at threshold 0.70: copy it from `fine`.")
    if "n_covered_at_0.70" in carry_over:
        n = carry_over["n_covered_at_0.70"]
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            problems.append(f"carry_over['n_covered_at_0.70'] must be an int >= 0, got {n!r}.")
        elif row is not None and int(n) != int(row["n_covered"]):
            problems.append(f"carry_over['n_covered_at_0.70'] is {n} but your table says {int(row['n_covered'])}.")
    if "lowest_threshold_95" in carry_over:
        val, want = carry_over["lowest_threshold_95"], lowest_threshold_reaching(fine)
        if not (val == "none" or _is_real(val)):
            problems.append(f"carry_over['lowest_threshold_95'] must be a float threshold or the string 'none', "
                            f"got {val!r}.")
        elif (val == "none") != (want == "none") or (want != "none" and not np.isclose(float(val), want)):
            problems.append(f"carry_over['lowest_threshold_95'] is {val!r}, but the lowest threshold in your "
                            f"table with accuracy >= 0.95 is {want!r}.")
    if problems:
        raise AnswerError("carry_over does not have the stated form:\n  " + "\n  ".join(problems))
    print(f"carry_over: all checks hold for {carry_over['model']!r} "
          f"(lowest threshold reaching 95%: {carry_over['lowest_threshold_95']!r}).")
    return True


def check_wildcard(wildcard: dict, measured: Iterable[str] = ()) -> bool:
    """Check ``wildcard`` against its stated structure.

    Form only (keys, types, ranges, a mechanism of at least 12 words, a recipe
    you did not measure); whether the prediction is sound is for the graders.

    Parameters
    ----------
    wildcard : dict
        Your answer, with exactly the keys of :data:`WILDCARD_KEYS`.
    measured : iterable of str, optional
        The arms you measured, which the wildcard recipe must not repeat.

    Returns
    -------
    bool
        True when every check holds (and a line says so).

    Raises
    ------
    AnswerError
        Listing every problem at once.

    Examples
    --------
    >>> check_wildcard({"recipe": "a recipe nobody ran", "predicted_macro_f1": 0.5, "predicted_ece": 0.05,
    ...                 "mechanism": "one two three four five six seven eight nine ten eleven twelve"},
    ...                measured=("vanilla",))
    wildcard: all checks hold ('a recipe nobody ran').
    True
    """
    problems = []
    _keys("wildcard", wildcard, WILDCARD_KEYS, problems)
    recipe = wildcard.get("recipe")
    if "recipe" in wildcard:
        if not (isinstance(recipe, str) and recipe.strip()):
            problems.append(f"wildcard['recipe'] must be a non-empty str, got {recipe!r}.")
        elif recipe.strip() in set(measured):
            problems.append(f"wildcard['recipe'] is {recipe!r}, one of the arms you measured: the wildcard is a "
                            f"recipe you predict without running it.")
    for key in ("predicted_macro_f1", "predicted_ece"):
        if key in wildcard:
            _unit("wildcard", key, wildcard[key], problems)
    mech = wildcard.get("mechanism")
    if "mechanism" in wildcard and not (isinstance(mech, str) and len(mech.split()) >= 12):
        problems.append(f"wildcard['mechanism'] must be a str of at least 12 words saying why, got {mech!r}.")
    if problems:
        raise AnswerError("wildcard does not have the stated form:\n  " + "\n  ".join(problems))
    print(f"wildcard: all checks hold ({wildcard['recipe']!r}).")
    return True
