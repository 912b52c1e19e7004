"""autograder/hidden_tests.py: a value check reads exactly one reporter line in its own cell; other
lines are only flagged."""
from __future__ import annotations

import nbformat
from checkgrading import EXPECTED, executed_notebook, report_line

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
