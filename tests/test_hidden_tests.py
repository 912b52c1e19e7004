"""autograder/hidden_tests.py: a value check reads exactly one reporter line in its own cell; other
lines are only flagged."""
from __future__ import annotations

import nbformat
from checkgrading import EXPECTED, executed_notebook, report_line

from autograder.examples import variants as V
from autograder.hidden_tests import judge_notebook as read_results
from autograder.kernel.wire import MARKER


def test_value_lines_duplicate_forged_and_misplaced():
    """A value check needs exactly one reporter line in its own cell; a line anywhere else is only flagged."""
    out = lambda text: nbformat.v4.new_output("stream", name="stdout", text=text)  # noqa: E731
    good = report_line("lab_bug_choices", {"chosen_bugs": ["S2", "S5", "S7"]})
    nb = executed_notebook([("lab_bug_choices", [out(good)])])
    assert read_results(nb, "week6_lab", EXPECTED)[0]["lab_bug_choices"].points == 3
    nb = executed_notebook([("lab_bug_choices", [out(good * 2)])])
    res, _, flags = read_results(nb, "week6_lab", EXPECTED)
    assert res["lab_bug_choices"].points == 0 and any("tampering" in f for f in flags)
    nb = executed_notebook([("lab_bug_choices", [out(MARKER + " {not json\n")])])
    assert read_results(nb, "week6_lab", EXPECTED)[0]["lab_bug_choices"].points == 0
    # A forged "full marks" line in a function check's cell (or any other cell) is never read, only flagged.
    forged = MARKER + ' {"check": "lab_kd_loss", "flags": [], "data": {}}\n'
    nb = executed_notebook([("lab_kd_loss", [out(forged)]), ("lab_bug_choices", [out(good)])])
    res, issues, flags = read_results(nb, "week6_lab", EXPECTED)
    assert res["lab_kd_loss"].points == 0 and res["lab_bug_choices"].points == 3
    assert any("outside a value check" in f for f in flags)
    # a stderr warning next to a good line
    warn = nbformat.v4.new_output("stream", name="stderr", text="UserWarning: harmless\n")
    nb = executed_notebook([("lab_bug_choices", [warn, out(good)])])
    res, issues, _ = read_results(nb, "week6_lab", EXPECTED)
    assert res["lab_bug_choices"].points == 3 and res["lab_deployment"].points == 0


def test_the_judge_uses_the_prepared_host_and_closes_it():
    """judge_notebook takes the worker's host for its function checks and closes it at the end."""
    import nbformat

    from autograder.hidden_tests import judge_notebook
    from autograder.host import client
    test = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n# graded outside\n### END HIDDEN TESTS")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "hw_bootstrap_ci", "locked": True, "solution": False,
                                 "points": 3, "schema_version": 3}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(V.BOOTSTRAP_PAIRED), test])
    client.prepare_host(sandbox=False, call_timeout=60.0)
    prepared = client._PREPARED["host"]
    results, _, _ = judge_notebook(nb, "week6_homework", host_options={"sandbox": False, "call_timeout": 60.0})
    assert "host" not in client._PREPARED and prepared.proc is None  # taken, then closed with the run
    assert results["hw_bootstrap_ci"].points == 3


def test_a_late_stray_frame_zeroes_the_check_it_came_from(monkeypatch):
    import nbformat

    from autograder.hidden_tests import judge_notebook
    from autograder.host.client import FunctionHost
    monkeypatch.setattr(FunctionHost, "fence", lambda self: "protocol violation: a late frame")
    test = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n# graded outside\n### END HIDDEN TESTS")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "hw_bootstrap_ci", "locked": True, "solution": False,
                                 "points": 3, "schema_version": 3}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(V.BOOTSTRAP_PAIRED), test])
    results, _, flags = judge_notebook(nb, "week6_homework", host_options={"sandbox": False, "call_timeout": 60.0})
    assert results["hw_bootstrap_ci"].points == 0 and any("a late frame" in f for f in flags)
