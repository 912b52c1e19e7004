"""Numbers as a student writes them: how many decimals they state, and whether they match a value.

The deployment judge (:mod:`helpers.deploy`) reads every number at the precision it
is written, never looser: ``0.5`` in a sentence is not a citation of 0.4731, and
``0.412`` matches 0.4117 only to three decimals.  A value is matched when it lies
within half a unit of the last decimal written.  Two floors keep this honest:

* a citation needs a *minimum* number of decimals (three for a fraction, so a
  one-decimal number that matches "some metric" is never a match);
* the tolerance is never tighter than half a unit of the fourth decimal
  (:data:`FINEST_DECIMALS`), so a full-precision float copied from a table matches
  what the grader recomputes on another CPU (float32 results differ in their last
  digits), while two numbers 0.0006 apart are still told apart.
"""
from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal, InvalidOperation

__all__ = ["FINEST_DECIMALS", "Citation", "is_number", "written_decimals", "cited_numbers", "matches"]

#: Decimals beyond the fourth do not tighten the tolerance (see the module docstring).
FINEST_DECIMALS = 4
#: Room for a value that sits exactly on a rounding boundary, computed on another machine.
_SLACK = 1e-6

# A number not glued to a word or another number ("T_d4", "3.2.1"), with an optional percent sign.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+|\.\d+|\d+)(?![\w.]*\d)(?P<pct>\s?%)?")


def is_number(x: object) -> bool:
    """A finite real number that is not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def written_decimals(x: object) -> int:
    """The decimals a Python number states: ``0.026`` -> 3, ``0.5`` -> 1, ``3`` -> 0.

    A float carries no trailing zeros, so its shortest ``repr`` is what it states.

    Examples
    --------
    >>> written_decimals(0.4117), written_decimals(0.5), written_decimals(999), written_decimals(1e-05)
    (4, 1, 0, 5)
    """
    if not is_number(x):
        raise ValueError(f"x must be a finite real number, got {x!r}.")
    if isinstance(x, numbers.Integral):
        return 0
    try:
        exponent = Decimal(repr(float(x))).as_tuple().exponent
    except InvalidOperation:  # pragma: no cover - repr of a finite float always parses
        return 0
    return max(0, -int(exponent))


class Citation(tuple):
    """A number found in a sentence: ``(text, value as a fraction, decimals as a fraction)``.

    ``41.2%`` is ``("41.2%", 0.412, 3)``: a percentage states two more decimals of
    the fraction than it shows.
    """

    __slots__ = ()

    def __new__(cls, text: str, value: float, decimals: int) -> Citation:
        return super().__new__(cls, (text, value, decimals))

    @property
    def text(self) -> str:
        """The number as written."""
        return self[0]

    @property
    def value(self) -> float:
        """Its value as a fraction (a percentage divided by 100)."""
        return self[1]

    @property
    def decimals(self) -> int:
        """The decimals it states, as a fraction."""
        return self[2]


def cited_numbers(text: object, min_decimals: int = 3) -> list[Citation]:
    """The numbers in ``text`` that state at least ``min_decimals`` decimals (as fractions).

    Numbers with fewer (a threshold "0.7", a cap "0.05", "3 reviewers", "41%") are
    not citations of a measured value and are left out.

    Examples
    --------
    >>> [c.text for c in cited_numbers("ECE 0.026 under the 0.05 cap; 41.2% closed, grid_Td4_a70")]
    ['0.026', '41.2%']
    """
    out = []
    for m in _NUMBER.finditer(text if isinstance(text, str) else ""):
        token = m.group(0)
        pct = m.group("pct") is not None
        raw = token[: token.rindex("%")].strip() if pct else token
        decimals = (len(raw.split(".")[1]) if "." in raw else 0) + (2 if pct else 0)
        if decimals < min_decimals:
            continue
        value = abs(float(raw)) / (100.0 if pct else 1.0)
        out.append(Citation(token.strip(), value, decimals))
    return out


def matches(written: float, actual: float, decimals: int, min_decimals: int = 3) -> bool:
    """Whether ``written`` (stating ``decimals`` decimals) is ``actual`` at that precision.

    A number stating fewer than ``min_decimals`` is read as exact to ``min_decimals``
    (a float cannot carry trailing zeros: ``0.5`` written for a field that asks for
    three decimals means 0.500).  The tolerance is half a unit of the last decimal,
    never tighter than half a unit of the :data:`FINEST_DECIMALS`-th.

    Examples
    --------
    >>> matches(0.412, 0.41166, 3), matches(0.412, 0.41166, 3, min_decimals=4), matches(0.5, 0.4731, 1)
    (True, False, False)
    """
    if not (is_number(written) and is_number(actual)):
        return False
    d = min(max(decimals, min_decimals), FINEST_DECIMALS)
    return abs(float(written) - float(actual)) <= 0.5 * 10.0 ** (-d) + _SLACK
