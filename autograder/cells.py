"""What the autograder reads of a notebook's cells, in one place.

Whether a cell is graded, a solution, locked or a task is asked of nbgrader's own predicates
(``nbgrader.utils``), so the course and nbgrader never disagree about a cell.  No predicate reads
a cell's grade id or points, so :func:`grade_id` and :func:`points` do; :func:`nbgrader_fields`
is the raw metadata, for the flags that compare what a student changed in it.  The judge's
verdict output is recognised here too (:func:`is_verdict`), as the feedback, the flags and the
grader's view all look for it.  Nothing here imports the check registry: the sandbox and the
execute preprocessor read cells too, and stay light.
"""
from __future__ import annotations

from typing import Any

from nbformat import NotebookNode

#: The metadata of the verdict output the judge puts under a hidden test.
VERDICT_TAG = {"autograder": "verdict"}


def nbgrader_fields(cell: NotebookNode) -> dict[str, Any]:
    """The cell's nbgrader metadata as stored ({} when it has none), for comparing fields one by one."""
    return cell.metadata.get("nbgrader", {})


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader grade id, or None when it has none."""
    return nbgrader_fields(cell).get("grade_id") or None


def points(cell: NotebookNode, default: float = 0) -> float:
    """The points nbgrader gives the cell (``default`` when it states none)."""
    return nbgrader_fields(cell).get("points", default)


def cells_by_gid(nb: NotebookNode) -> dict[str, NotebookNode]:
    """{grade_id: cell} of the notebook's nbgrader cells (the last cell wins when an id repeats)."""
    return {gid: c for c in nb.cells if (gid := grade_id(c))}


def is_verdict(output: dict) -> bool:
    """Whether a cell output is the judge's readable verdict."""
    return output.get("output_type") == "display_data" and output.get("metadata", {}).get("autograder") == "verdict"
