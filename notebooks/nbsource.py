"""Cell constructors for the nbgrader source notebooks (schema_version 3).

Each constructor returns an nbformat cell with the nbgrader metadata its role
needs; ``build.py`` assembles the lists in ``lab_cells.py`` and
``homework_cells.py`` into notebooks.  Roles:

* ``md`` / ``code``: instructor cells, locked (read-only) with a grade_id;
* ``solution``: an autograded answer (``### BEGIN SOLUTION`` ... ``### END SOLUTION``);
* ``hidden_test``: an autograder test cell, exactly the shape docs/CONTRACTS.md fixes;
* ``manual``: a manually graded markdown answer with points;
* ``predict``: a prediction cell (an autograded answer without points, grade_id predict_<key>).
"""
from __future__ import annotations

import textwrap

import nbformat.v4 as v4


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _clean(text):
    return textwrap.dedent(text).strip("\n")


def md(text, grade_id=None):
    cell = v4.new_markdown_cell(_clean(text))
    if grade_id:
        cell.metadata.update(_meta(grade_id, locked=True))
    return cell


def code(src, grade_id=None):
    cell = v4.new_code_cell(_clean(src))
    if grade_id:
        cell.metadata.update(_meta(grade_id, locked=True))
    return cell


def solution(src, grade_id):
    src = _clean(src)
    assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src, grade_id
    cell = v4.new_code_cell(src)
    cell.metadata.update(_meta(grade_id, solution=True))
    return cell


# In grading, ``autograder.probe`` is importable (the grading kernel has it on its
# path).  Run from the instructor's checkout (Jupyter, ``nbgrader validate``) the
# kernel starts in the notebook's folder, so the hidden test finds the checkout
# above it.  The whole block is removed on release: students never see it.
FIND_PROBE = ("try:\n"
              "    import autograder.probe\n"
              "except ModuleNotFoundError:  # a source notebook run from the checkout: find it above this folder\n"
              "    import pathlib, sys\n"
              "    sys.path[:0] = [str(p) for p in pathlib.Path.cwd().parents if (p / \"autograder\" / \"probe.py\").is_file()][:1]\n")


def hidden_test(check_id, points, skill):
    src = (f"# Autograder check: {skill}. Your function runs on fixed inputs; the\n"
           f"# comparison with the expected values happens outside this notebook.\n"
           f"### BEGIN HIDDEN TESTS\n"
           f"{FIND_PROBE}"
           f"from autograder.probe import probe; probe(\"{check_id}\", globals())\n"
           f"### END HIDDEN TESTS")
    cell = v4.new_code_cell(src)
    cell.metadata.update(_meta(check_id, grade=True, locked=True, points=points))
    return cell


def manual(grade_id, points, model_answer):
    """A manually graded markdown answer; the source is the model answer (cleared on release)."""
    cell = v4.new_markdown_cell(_clean(model_answer))
    cell.metadata.update(_meta(grade_id, grade=True, solution=True, points=points))
    return cell


def predict(key, how, example):
    """The PREDICT cell: instructions in comments, the example prediction as the solution."""
    src = (f"# PREDICT before you run the cells below. Replace the stub with one call:\n"
           f"#   {how}\n"
           f"### BEGIN SOLUTION\n{_clean(example)}\n### END SOLUTION")
    cell = v4.new_code_cell(src)
    cell.metadata.update(_meta(f"predict_{key}", solution=True))
    return cell
