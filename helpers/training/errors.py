"""The training data's errors, apart from the code that raises them.

``data`` (reading, alignment), ``course_data`` (the prepared folder) and
``prepare`` (building it) all raise these; keeping them here is what lets
``data`` resolve ``--data course`` without importing ``prepare``, and
``prepare`` use ``data``'s tier rule, with no import cycle.
"""
from __future__ import annotations

__all__ = ["DataError", "TeacherAlignmentError", "PrepareError"]


class DataError(ValueError):
    """The training data cannot be used as given; the message says why and what to do."""


class TeacherAlignmentError(DataError):
    """The teacher logits do not line up row for row with the training texts."""


class PrepareError(DataError):
    """The course data cannot be prepared as given; the message names the input, what was expected and the fix."""
