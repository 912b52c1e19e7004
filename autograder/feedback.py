"""``generate_feedback``'s configuration: feedback that says which points are still pending manual grading.

nbgrader's feedback counts a written answer nobody has graded yet as 0: handed out
right after ``grade``, it reads "Score: 12 / 139" with every reconciliation and
memo at 0, and no word that a person has yet to read them.  Here:

* :class:`PendingGrades` (``preprocessors/pending_grades.py``, run by ``generate_feedback`` right after
  nbgrader's ``GetGrades``) reads the gradebook and marks every graded cell that
  has neither an automatic nor a manual score as pending
  (``cell.metadata.nbgrader["pending"] = True``), and leaves in
  ``resources["nbgrader"]`` the points pending and the points graded so far;
* the ``feedback_pending`` template (``autograder/templates``, extending
  nbgrader's ``feedback``) shows those cells as "pending manual grading (N points)"
  and the total as "12 / 35 graded so far; 104 points pending manual grading".

Once a grader has scored a cell in formgrader it has a manual score, so the
feedback ``finalize`` regenerates shows the real score; with nothing pending the
page reads exactly like nbgrader's.  :func:`configure` is the one wiring call
(``nbgrader_config.apply``), so the worker, ``finalize`` and nbgrader's own
``generate_feedback`` all use it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nbconvert.exporters import HTMLExporter

from .preprocessors.pending_grades import PendingGrades

__all__ = ["FeedbackExporter", "TEMPLATE_NAME", "TEMPLATE_FILE", "TEMPLATE_DIR", "configure"]

#: The course's feedback template (a folder under :data:`TEMPLATE_DIR`) and its page, which extends
#: nbgrader's ``feedback/index.html.j2`` (found next in the template chain: the folder has no index).
TEMPLATE_NAME = "feedback_pending"
TEMPLATE_FILE = "pending.html.j2"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


class FeedbackExporter(HTMLExporter):
    """The HTML exporter of ``generate_feedback`` alone, so its template settings reach no other page."""


def configure(c: Any) -> Any:
    """Use :class:`PendingGrades` and the ``feedback_pending`` template in ``generate_feedback``.

    ``c.GenerateFeedback.preprocessors`` must already be set (``nbgrader_config.apply``);
    :class:`PendingGrades` goes right after nbgrader's ``GetGrades``, whose scores it reads.
    """
    import nbgrader
    from nbgrader.preprocessors import GetGrades

    steps = list(c.GenerateFeedback.preprocessors)
    if PendingGrades not in steps:
        at = steps.index(GetGrades) + 1 if GetGrades in steps else 0
        steps.insert(at, PendingGrades)
    c.GenerateFeedback.preprocessors = steps
    # nbgrader sets its own template folder only when none is configured, so name both.
    nbgrader_templates = Path(nbgrader.__file__).resolve().parent / "server_extensions" / "formgrader" / "templates"
    # Only the feedback's exporter gets the template: set on HTMLExporter it would also reach formgrader's
    # page, which names its own template ('formgrade') and would then look for this file and fail.
    c.GenerateFeedback.exporter_class = FeedbackExporter
    c.FeedbackExporter.template_name = TEMPLATE_NAME
    c.FeedbackExporter.template_file = TEMPLATE_FILE
    c.FeedbackExporter.extra_template_basedirs = [str(TEMPLATE_DIR), str(nbgrader_templates)]
    return c
