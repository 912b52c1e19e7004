"""``PrefetchExpected``: start building the run's expected values before the notebook executes.

The expected values of a check depend only on the inputs drawn for it, and those only on the
course secret, the student and the notebook's cell sources (``seeding.submission_seed``), all
known before the kernel starts.  This step, first in ``autograde``'s pipeline, draws the run's
seed exactly as ``JudgeHiddenTests`` will after execution and hands the checks to
``seeding.prefetch``, which builds their entries on a background thread of the nbgrader process
while the student's cells run.  The judge then waits for that work instead of doing it (a second
or so of the homework's grading: the bootstrap's 10,000-resample reference).

Nothing here decides a grade: the same function builds the same entries, only earlier.  When the
judge's seed differs (the cells changed in between, which no step of the pipeline does) the
prefetched work goes unused and the judge builds its own.  It is a ``JudgeHiddenTests`` in its
configuration only (so ``c.JudgeHiddenTests.secret_path`` reaches it and both draw the same seed);
it judges nothing.
"""
from __future__ import annotations

from nbformat import NotebookNode

from .. import checks, seeding
from .judge_hidden_tests import JudgeHiddenTests


class PrefetchExpected(JudgeHiddenTests):
    """Before execution: build this run's expected values in the background (``seeding.prefetch``)."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        run = self.run_seed(nb, resources)
        if run is not None:
            assignment, base = run
            seeding.prefetch([checks.BY_ID[cid] for cid in checks.checks_of(assignment)], base)
        return nb, resources
