"""The environment variables the grading driver reads, named once.

Every ``AUTOGRADER_*`` variable the instructor-side code (release, grade, finalize, formgrader,
report and nbgrader's own tools through ``nbgrader_config.py``) reads is defined here, with what
it means, and read through the function next to it, so a newcomer finds them all in one place
and a test can set them without hunting for the module that reads them.

The course secret that seeds each run's inputs is a file in the work folder
(``autograder.seeding``), not a variable.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

WORK_ENV = "AUTOGRADER_WORK"
DEFAULT_WORK = REPO / "nbgrader_work"

ENVIRONMENT = {
    WORK_ENV: "the nbgrader work folder (release/, submitted/, autograded/, feedback/, gradebook.db) that "
              "release, grade, finalize, report, formgrader and nbgrader's own tools use; "
              "default nbgrader_work/ in the checkout",
}


def work_folder() -> Path:
    """The course's nbgrader work folder: ``$AUTOGRADER_WORK``, else ``nbgrader_work/`` in the checkout.

    Read at call time, not import time: formgrader and the tests point a fresh process (or this one)
    at another course by setting the variable."""
    return Path(os.environ.get(WORK_ENV, DEFAULT_WORK)).resolve()
