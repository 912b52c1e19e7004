"""``PendingGrades``: the graded cells nobody has scored yet, in ``generate_feedback`` (after ``GetGrades``).

nbgrader's feedback counts a written answer nobody has graded yet as 0; this preprocessor marks
such a cell (``cell.metadata.nbgrader["pending"] = True``) and leaves in ``resources["nbgrader"]``
the points pending and the heading's total, which the ``feedback_pending`` template shows
(``autograder.feedback`` wires both).
"""
from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from ..cells import grade_id


def pending_summary(score: float, max_score: float, pending_points: float) -> str:
    """The total as the feedback's heading states it.

    Examples
    --------
    >>> pending_summary(12, 139, 104)
    '12 / 35 graded so far; 104 points pending manual grading'
    >>> pending_summary(120, 139, 0)
    '120 / 139'
    """
    def num(x: float) -> str:
        return f"{x:g}"
    if pending_points <= 0:
        return f"{num(score)} / {num(max_score)}"
    return (f"{num(score)} / {num(max_score - pending_points)} graded so far; {num(pending_points)} points "
            "pending manual grading")


class PendingGrades(NbGraderPreprocessor):
    """Mark the graded cells that nobody has scored yet, and total the points they hold."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        """Flag pending cells (``metadata.nbgrader.pending``) and set ``resources["nbgrader"]``'s
        ``pending_points`` and ``summary`` (the heading's total)."""
        info = resources["nbgrader"]
        pending = 0.0
        with Gradebook(info["db_url"]) as gb:
            for cell in nb.cells:
                if not (utils.is_grade(cell) or utils.is_task(cell)):
                    continue
                grade = gb.find_grade(grade_id(cell), info["notebook"], info["assignment"],
                                      info["student"])
                # No automatic score (a written answer) and no manual one yet: a person has still to read it.
                is_pending = grade.auto_score is None and grade.manual_score is None
                cell.metadata["nbgrader"]["pending"] = is_pending
                if is_pending:
                    pending += float(grade.max_score or 0)
        info["pending_points"] = pending
        info["summary"] = pending_summary(float(info.get("score", 0)), float(info.get("max_score", 0)), pending)
        return nb, resources
