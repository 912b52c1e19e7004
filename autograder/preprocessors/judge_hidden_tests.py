"""``JudgeHiddenTests``: the judge as an nbgrader preprocessor, in the nbgrader process, never in the kernel.

It runs after execution and before nbgrader's ``SaveAutoGrades`` (``nbgrader_config.apply``
puts it there), judges the notebook (``hidden_tests.judge_notebook``) and then REPLACES each
hidden-test cell's outputs with

* a readable verdict (``display_data``, text/plain, tagged ``{"autograder": "verdict"}``):
  the points, each part passed or failed with its message, as students see it in
  the feedback (messages never quote an expected value), and
* the points as an ``execute_result`` whose text is a number: that is what
  nbgrader's ``determine_grade`` turns into partial credit.

So ``nbgrader autograde``, formgrader's Autograde button and ``python -m autograder grade``
all give the same points, and a blank submission never earns any.  The full results
(parts with the instructor's detail, flags, issues) go into the notebook's metadata
(``autograder``) for the grading driver's grades.json; ``SanitizeFeedback`` drops that
metadata from what students receive.
"""
from __future__ import annotations

from dataclasses import replace

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Unicode

from .. import checks, seeding, timings
from ..cells import VERDICT_TAG, cells_by_gid
from ..cells import points as cell_points
from ..checks import Verdict
from ..hidden_tests import is_hidden_test, judge_notebook


def verdict_text(r: Verdict) -> str:
    """What the instructor (formgrader) and the student (feedback) read under a hidden test."""
    lines = [f"Autograder: {r.check}: {r.points} / {r.max} points"]
    if r.note:
        lines.append(f"  note: {r.note}")
    for p in r.parts:
        mark = "ok" if p.passed else "--"
        lines.append(f"  [{mark}] {p.name} ({p.points}/{p.max})" + (f": {p.message}" if p.message else ""))
    return "\n".join(lines) + "\n"


def score_text(points: float) -> str:
    """The execute_result text nbgrader's determine_grade reads: a plain number."""
    return repr(float(points))


def verdict_outputs(r: Verdict, execution_count: int | None = None) -> list:
    """The hidden-test cell's outputs: the readable verdict and the score nbgrader reads."""
    points = min(max(float(r.points), 0.0), float(r.max))
    return [new_output("display_data", data={"text/plain": verdict_text(r)}, metadata=dict(VERDICT_TAG)),
            new_output("execute_result", data={"text/plain": score_text(points)}, metadata={},
                       execution_count=execution_count)]


class JudgeHiddenTests(NbGraderPreprocessor):
    """Judge every hidden-test cell (function checks through the host, value checks from the reporter's line)."""

    sandbox = Bool(False, help="Run the function host under bubblewrap (as the grading kernel is).").tag(config=True)
    secret_path = Unicode("", help="The course secret's file (created 0600 on first use); empty: "
                                   "<work folder>/course_secret.").tag(config=True)
    call_timeout = Float(120.0, help="Seconds one call of a student function may take in the host.").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        run = self.run_seed(nb, resources)
        if run is None:  # no hidden test of this course in it: nothing to judge
            return nb, resources
        assignment, base = run
        with timings.phase("judge (verdicts, host stop)"):
            results, issues, flags = judge_notebook(
                nb, assignment, base_seed=base,
                host_options={"sandbox": self.sandbox, "call_timeout": self.call_timeout})
        for cid, cell in cells_by_gid(nb).items():
            if not is_hidden_test(cell):
                continue
            if cid not in results:  # another assignment's test pasted in: never credited here
                r = checks.not_graded(cid, f"{cid} is not a check of {assignment}")
                cell.outputs = verdict_outputs(replace(r, max=cell_points(cell, r.max)))
                issues.append(f"{cid}: not a check of {assignment}; 0 points")
                continue
            cell.outputs = verdict_outputs(results[cid], cell.get("execution_count"))
        nb.metadata["autograder"] = {"assignment": assignment,
                                     "checks": {cid: r.to_dict() for cid, r in results.items()}, "issues": issues,
                                     "flags": sorted(set(flags))}
        self.log.info("judged %d check(s) of %s: %s / %s points", len(results), assignment,
                      sum(r.points for r in results.values()), sum(r.max for r in results.values()))
        return nb, resources

    def run_seed(self, nb: NotebookNode, resources: dict) -> tuple[str, int] | None:
        """(assignment, base seed) of this submission's run, from the course secret, the student and the
        notebook's cell sources (``seeding.submission_seed``); None when it holds no hidden test of the course."""
        assignment = self._assignment(nb, resources)
        if assignment is None:
            return None
        student = str((resources.get("nbgrader") or {}).get("student") or "")
        secret = seeding.course_secret(self.secret_path or self._default_secret())
        return assignment, seeding.submission_seed(secret, assignment, student, seeding.notebook_digest(nb))

    @staticmethod
    def _default_secret():
        from ..settings import work_folder
        return work_folder() / seeding.SECRET_NAME

    @staticmethod
    def _assignment(nb, resources):
        named = (resources.get("nbgrader") or {}).get("notebook")
        if named in checks.EXPECTED_FILE:
            return named
        found = [checks.NOTEBOOK_OF[cid] for cid, cell in cells_by_gid(nb).items() if is_hidden_test(cell)]
        return max(sorted(set(found)), key=found.count) if found else None
