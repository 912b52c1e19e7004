"""autograder/submissions.py: edited test cells and the static flags of a student's own code."""
from __future__ import annotations

import nbformat
from checkgrading import executed_notebook

from autograder.submissions import hidden_cell_changes, static_flags


def test_test_cell_changes_and_static_flags():
    rel = executed_notebook([("lab_kd_loss", []), ("lab_bug_choices", [])])
    rel.cells[0].source = "# check"
    sub = executed_notebook([("lab_bug_choices", [])])
    sub.cells[0].source = "print('edited')"
    issues = hidden_cell_changes(sub, rel, "week6_lab")
    assert any("deleted test cell lab_kd_loss" in i for i in issues)
    assert any("edited test cell lab_bug_choices" in i for i in issues)
    cell = nbformat.v4.new_code_cell("from helpers.kd import kd_loss\nimport autograder")
    nb = nbformat.v4.new_notebook(cells=[cell])
    flags = static_flags(nb)
    assert any("kd_loss" in f for f in flags) and any("autograder" in f for f in flags)
