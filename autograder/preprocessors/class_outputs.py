"""``RecordClassOutputs``: autograde's last step, this submission's verdicts into the class's grades files.

Formgrader's *Autograde* button and ``nbgrader autograde`` grade one submission in the course folder;
this step merges the verdicts the judge left in the notebook's metadata into grades.csv, grades.json
and summary.txt (``classoutputs.merge_class_outputs``), so they never go stale for that student.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from ..classoutputs import load_results, merge_class_outputs
from ..results import SubmissionResult


class RecordClassOutputs(NbGraderPreprocessor):
    """The autograde pipeline's last step: this submission's verdicts into the class's grades files."""

    grades_dir = Unicode("", help="The class's grades folder (grades.json): empty or missing means do nothing."
                         ).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        out = Path(self.grades_dir) if self.grades_dir else None
        judged = nb.metadata.get("autograder")
        info = resources.get("nbgrader", {})
        if out is None or not (out / "grades.json").is_file() or not judged or not info.get("student"):
            return nb, resources
        try:
            student, assignment = info["student"], info["assignment"]
            before = load_results(out).get((student, assignment))
            result = SubmissionResult(student=student, assignment=assignment, checks=dict(judged["checks"]),
                                      issues=list(judged.get("issues", [])), flags=list(judged.get("flags", [])))
            if before is not None:  # the instructor's copies from `grade` stay where they were
                result.autograded, result.feedback, result.review = before.autograded, before.feedback, before.review
            merge_class_outputs(out, [result])
            self.log.info("autograder: %s/%s merged into %s", student, assignment, out / "grades.csv")
        except Exception as exc:  # noqa: BLE001 - the grades in the gradebook are saved; only the CSV lags
            self.log.warning("autograder: could not update %s for this submission (%s); run "
                             "`make grade ARGS=\"--student ID\"` to refresh it", out / "grades.csv", exc)
        return nb, resources
