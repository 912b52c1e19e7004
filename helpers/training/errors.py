"""The training package's errors, apart from the code that raises them.

``data`` (reading, alignment), ``course_data`` (the prepared folder) and
``prepare`` (building it) all raise these; keeping them here is what lets
``data`` resolve ``--data course`` without importing ``prepare``, and
``prepare`` use ``data``'s tier rule, with no import cycle.
"""
from __future__ import annotations

__all__ = ["DataError", "TeacherAlignmentError", "PrepareError", "TrainingDiverged", "Interrupted", "ResumeError",
           "INTERRUPTED_EXIT_CODE"]

INTERRUPTED_EXIT_CODE = 143  # 128 + SIGTERM, what a shell reports for a terminated process


class DataError(ValueError):
    """The training data cannot be used as given; the message says why and what to do."""


class TeacherAlignmentError(DataError):
    """The teacher logits do not line up row for row with the training texts."""


class PrepareError(DataError):
    """The course data cannot be prepared as given; the message names the input, what was expected and the fix."""


class TrainingDiverged(RuntimeError):
    """The loss (or the gradient) stopped being a finite number."""


class Interrupted(Exception):
    """SIGTERM arrived; a checkpoint was written and the run can be resumed."""


class ResumeError(ValueError):
    """The checkpoint in the output folder belongs to a different recipe or data."""
