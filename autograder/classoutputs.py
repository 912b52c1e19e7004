"""Keep the class's grades.csv / grades.json / summary.txt current whoever autogrades one submission.

``grade --student`` merges its results into the class's outputs with ``merge_class_outputs``.
Formgrader's per-submission *Autograde* button and ``nbgrader autograde`` run the same nbgrader
pipeline in the course folder itself; ``RecordClassOutputs``, the last step of that pipeline,
merges the submission the judge just graded (the verdicts it left in the notebook's metadata)
into the same files, so they never go stale for that student.  In ``grade``'s own workers the
pipeline runs in a temporary course without a grades folder, and the step does nothing there.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from .outputs import write_outputs
from .results import SubmissionResult


def load_results(out: Path | str) -> dict[tuple[str, str], SubmissionResult]:
    """The class's results in ``out/grades.json`` by (student, assignment); empty when there is none."""
    path = Path(out) / "grades.json"
    if not path.is_file():
        return {}
    return {(d["student"], d["assignment"]): SubmissionResult.from_dict(d) for d in json.loads(path.read_text())}


def merge_class_outputs(out: Path | str, results: list[SubmissionResult], sandboxed: bool = True,
                        earlier: dict[tuple[str, str], SubmissionResult] | None = None) -> tuple[list[SubmissionResult],
                                                                                                str]:
    """Replace these submissions' rows in the class's outputs under ``out`` (everyone else's stay) and
    rewrite grades.csv, grades.json and summary.txt; returns the whole class and the summary."""
    merged = dict(load_results(out) if earlier is None else earlier)
    merged.update({(r.student, r.assignment): r for r in results})
    everyone = [merged[k] for k in sorted(merged)]
    return everyone, write_outputs(everyone, Path(out), sandboxed=sandboxed)


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
