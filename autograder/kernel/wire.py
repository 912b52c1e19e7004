"""What the kernel's reporter and the judge agree on: the marker of a value check's result line.

Side-effect free, so the driver can import it without capturing anything.
"""
from __future__ import annotations

MARKER = "@@AUTOGRADER-RESULT@@"
