"""autograder/preprocessors/sanitize_feedback.py: what students see of the hidden tests."""
from __future__ import annotations

import nbformat
from checkgrading import report_line

from autograder import checks
from autograder.kernel.wire import MARKER
from autograder.preprocessors.sanitize_feedback import SanitizeFeedback


def test_feedback_sanitiser_strips_hidden_tests_and_result_lines():
    hidden = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nfrom autograder.kernel.reporter import report; "
                                       "report('lab_kd_loss', globals())\n### END HIDDEN TESTS")
    hidden.metadata["nbgrader"] = {"grade": True, "locked": True, "solution": False, "grade_id": "lab_kd_loss",
                                   "points": 6}
    from dataclasses import replace

    from autograder.preprocessors.judge_hidden_tests import verdict_outputs
    r = checks.not_graded("lab_kd_loss", "x")
    line = report_line("lab_kd_loss", {"v": 0.123456789})
    hidden.outputs = [nbformat.v4.new_output("stream", name="stdout", text=line),
                      *verdict_outputs(replace(r, points=6, parts=()))]
    other = nbformat.v4.new_code_cell("print(1)")
    other.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n" + report_line("x", {}))]
    nb = nbformat.v4.new_notebook(cells=[hidden, other], metadata={"autograder": {"detail": "0.123456789"}})
    nb, _ = SanitizeFeedback().preprocess(nb, {})
    text = nbformat.writes(nb)
    assert "HIDDEN TESTS" not in text and "report(" not in text and MARKER not in text
    assert "0.123456789" not in text and "6 / 6 points" in text
