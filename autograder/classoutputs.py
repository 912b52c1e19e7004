"""Keep the class's grades.csv / grades.json / summary.txt current whoever autogrades one submission.

``grade --student`` merges its results into the class's outputs with ``merge_class_outputs``.
Formgrader's per-submission *Autograde* button and ``nbgrader autograde`` run the same nbgrader
pipeline in the course folder itself; ``RecordClassOutputs`` (``preprocessors/class_outputs.py``), the last step,
merges the submission the judge just graded (the verdicts it left in the notebook's metadata)
into the same files, so they never go stale for that student.  In ``grade``'s own workers the
pipeline runs in a temporary course without a grades folder, and the step does nothing there.
"""
from __future__ import annotations

import json
from pathlib import Path

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
