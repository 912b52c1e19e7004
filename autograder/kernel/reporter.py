"""The kernel's only autograder code: print a VALUE check's named answers as one marked line.

Why value answers may still come from the kernel: ``chosen_bugs``, ``f1_ci_table``,
``real_lift_tiers``, ``tail_reading`` and ``deployment`` are the student's own word by
definition: whatever code printed them, the printed values ARE the answer, and the
judge (outside the kernel) recomputes every number it relies on from the course data.
So this reporter holds nothing worth attacking: no nonce, no reference, no input of a
probe, no expected value.  The hidden-test cell of a value check calls
``report(check_id, globals(), *names)``; the judge requires exactly one marked line
for that check in that cell (none or several: 0 points and a flag), then runs the
check's probe on these plain values in the driver.  A marked line printed anywhere
else, or for a FUNCTION check, is never read (only flagged): function checks call the
student's functions in the function host (``autograder.host``).
"""
from __future__ import annotations

import sys
from collections.abc import Mapping

from .encoding import describe, encode, plain
from .wire import MARKER


def report(check_id: str, namespace: Mapping, *names: str) -> None:
    """Print one marked line: the named values as plain data, and which were missing or unreadable."""
    values, missing, unreadable = {}, [], {}
    for name in names:
        if name not in namespace:
            missing.append(name)
            continue
        try:
            values[name] = plain(namespace[name])
        except BaseException as exc:  # noqa: BLE001 - an unreadable answer is reported, not raised
            unreadable[name] = describe(exc)
    line = encode({"check": str(check_id), "values": values, "missing": missing, "unreadable": unreadable})
    sys.stdout.write(MARKER + " " + line + "\n")
    sys.stdout.flush()
