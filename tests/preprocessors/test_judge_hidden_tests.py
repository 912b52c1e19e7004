"""The judge as part of nbgrader's pipeline, without a kernel: a notebook's cells -> function host and
reporter lines -> verdict + the score nbgrader's determine_grade reads; and the regrade rule for manual overrides.

The real pipeline (execution, SaveAutoGrades, formgrader) is covered by the slow end-to-end tests.
"""
from __future__ import annotations

import csv
import json

import nbformat
import pytest
from nbgrader.utils import determine_grade

from autograder import checks
from autograder.cells import is_verdict
from autograder.examples import attacks as A
from autograder.examples import variants as V
from autograder.gradebook import merge_into_gradebook
from autograder.hidden_tests import judge_notebook
from autograder.kernel.encoding import encode
from autograder.kernel.wire import MARKER
from autograder.outputs import write_outputs
from autograder.preprocessors.judge_hidden_tests import JudgeHiddenTests
from autograder.preprocessors.sanitize_feedback import SanitizeFeedback
from autograder.results import SavedGrade, SubmissionResult


def _hidden(gid, outputs=()):
    c = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n# graded outside\n### END HIDDEN TESTS")
    c.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "locked": True, "solution": False,
                              "points": checks.POINTS[gid], "schema_version": 3}
    c.outputs = list(outputs)
    return c


def _answer(source):
    c = nbformat.v4.new_code_cell(source)
    c.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False, "grade_id": "x",
                              "schema_version": 3}
    return c


def _stdout(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _report(check_id, values):
    return MARKER + " " + encode({"check": check_id, "values": values, "missing": [], "unreadable": {}}) + "\n"


def _judge(cells, tmp_path, student="amy"):
    nb = nbformat.v4.new_notebook(cells=cells)
    resources = {"nbgrader": {"notebook": "week6_lab", "student": student}}
    pre = JudgeHiddenTests(secret_path=str(tmp_path / "course_secret"), call_timeout=60)
    nb, _ = pre.preprocess(nb, resources)
    return nb


def _grade(nb, gid):
    cell = next(c for c in nb.cells if c.metadata["nbgrader"].get("grade_id") == gid)
    return determine_grade(cell)[0], cell


def test_verdict_and_score_come_from_the_host_on_drawn_inputs(tmp_path):
    cells = [_answer(V.kd_source("correct")), _hidden("lab_kd_loss", [_stdout("student print\n")])]
    nb = _judge(cells, tmp_path)
    score, cell = _grade(nb, "lab_kd_loss")
    assert score == 6.0
    verdict = [o for o in cell.outputs if is_verdict(o)]
    assert len(verdict) == 1 and "Autograder: lab_kd_loss: 6 / 6 points" in verdict[0]["data"]["text/plain"]
    assert nb.metadata["autograder"]["checks"]["lab_kd_loss"]["points"] == 6
    assert "student print" not in nbformat.writes(cell)
    # Grading the same submission again gives the same verdict (the same drawn inputs).
    again = _judge([_answer(V.kd_source("correct")), _hidden("lab_kd_loss")], tmp_path)
    assert again.metadata["autograder"]["checks"] == nb.metadata["autograder"]["checks"]


def test_partial_credit_reaches_nbgrader_and_no_expected_value_leaks(tmp_path):
    exp = checks.load_expected("week6_lab")["lab_kd_loss"]
    nb = _judge([_answer(V.kd_source("bug_missing_T2")), _hidden("lab_kd_loss")], tmp_path)
    score, cell = _grade(nb, "lab_kd_loss")
    judged = nb.metadata["autograder"]["checks"]["lab_kd_loss"]
    assert 0 < score < 6 and score == judged["points"]
    shown = json.dumps([o["data"] for o in cell.outputs])
    assert repr(exp["reference"]["grid"][5]["value"]) not in shown and "[--]" in shown


def test_a_lookup_table_of_the_default_inputs_gains_nothing(tmp_path):
    """The DEFAULT seed's inputs are public: a table of their answers earns the values point there, not in a run."""
    cells = [_answer(A.lookup_table_per_tier_f1()), _hidden("lab_per_tier_f1")]
    default, _, _ = judge_notebook(nbformat.v4.new_notebook(cells=cells), "week6_lab")
    assert default["lab_per_tier_f1"].points == 2  # the stored inputs: the table hits
    nb = _judge(cells, tmp_path)
    assert _grade(nb, "lab_per_tier_f1")[0] == 1  # drawn inputs: right form, wrong values


@pytest.mark.parametrize("outputs, reason", [
    ([], "printed no result"),
    ([_stdout(MARKER + " {not json\n")], "printed no result"),
    ("twice", "more than one result line"),
    ([nbformat.v4.new_output("error", ename="NameError", evalue="report", traceback=[])], "raised NameError"),
])
def test_missing_duplicate_or_broken_value_lines_give_zero_with_a_reason(outputs, reason, tmp_path):
    if outputs == "twice":
        outputs = [_stdout(_report("lab_bug_choices", {"chosen_bugs": ["S2", "S5", "S7"]}) * 2)]
    nb = _judge([_hidden("lab_bug_choices", outputs)], tmp_path)
    score, cell = _grade(nb, "lab_bug_choices")
    assert score == 0
    assert reason in cell.outputs[0]["data"]["text/plain"]


def test_a_blank_run_never_scores(tmp_path):
    nb = _judge([_hidden("lab_kd_loss"), _hidden("lab_deployment")], tmp_path)
    assert [_grade(nb, g)[0] for g in ("lab_kd_loss", "lab_deployment")] == [0, 0]
    assert (tmp_path / "course_secret").is_file()


def test_feedback_keeps_the_verdict_and_drops_the_instructor_detail(tmp_path):
    nb = _judge([_answer(V.kd_source("bug_missing_T2")), _hidden("lab_kd_loss")], tmp_path)
    detail = nb.metadata["autograder"]["checks"]["lab_kd_loss"]["parts"]
    assert any(p["detail"] for p in detail)
    nb, _ = SanitizeFeedback().preprocess(nb, {})
    text = nbformat.writes(nb)
    assert "HIDDEN TESTS" not in text and "autograder\": {" not in text.replace("\"autograder\": \"verdict\"", "")
    assert "Autograder: lab_kd_loss:" in text and "execute_result" not in text


# --------------------------------------------------------------------------- regrade rule
@pytest.fixture()
def gradebook(tmp_path, monkeypatch):
    import os
    import sys
    from pathlib import Path

    from nbgrader.api import Gradebook
    # a new gradebook runs the venv's alembic
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", "week6") as gb:
        gb.add_assignment("week6_lab")
        gb.add_notebook("week6_lab", "week6_lab")
        for gid in ("lab_kd_loss", "lab_bug_choices"):
            gb.add_grade_cell(gid, "week6_lab", "week6_lab", max_score=checks.POINTS[gid], cell_type="code")
        gb.add_student("amy")
        gb.add_submission("week6_lab", "amy")
    return tmp_path


def _result(kd, bugs):
    grades = {"lab_kd_loss": SavedGrade(auto_score=kd, needs_manual_grade=False),
              "lab_bug_choices": SavedGrade(auto_score=bugs, needs_manual_grade=False)}
    return SubmissionResult(student="amy", assignment="week6_lab", grades=grades,
                            checks={"lab_kd_loss": checks.not_graded("lab_kd_loss", "x").to_dict(),
                                    "lab_bug_choices": checks.not_graded("lab_bug_choices", "x").to_dict()})


def test_a_stray_assignment_folder_never_stops_the_class_merge(gradebook, tmp_path):
    from nbgrader.api import Gradebook
    stray = SubmissionResult.not_graded("zed", "week6_unknown", ["unknown assignment folder 'week6_unknown'"])
    results = [stray, _result(2.0, 1.0)]
    merge_into_gradebook(results, gradebook)  # the unknown assignment used to raise MissingEntry here
    with Gradebook(f"sqlite:///{gradebook / 'gradebook.db'}", "week6") as gb:
        assert gb.find_grade("lab_kd_loss", "week6_lab", "week6_lab", "amy").auto_score == 2.0
    assert any("no released assignment 'week6_unknown'" in i for i in stray.issues)
    summary = write_outputs(results, tmp_path / "out")  # the instructor still sees the stray folder and why
    assert "zed" in summary and "week6_unknown" in summary


def test_regrade_flags_an_override_the_new_automatic_score_disagrees_with(gradebook, tmp_path):
    from nbgrader.api import Gradebook
    merge_into_gradebook([_result(2.0, 1.0)], gradebook)
    with Gradebook(f"sqlite:///{gradebook / 'gradebook.db'}", "week6") as gb:
        for gid, manual in (("lab_kd_loss", 4.0), ("lab_bug_choices", 1.0)):
            g = gb.find_grade(gid, "week6_lab", "week6_lab", "amy")
            g.manual_score, g.needs_manual_grade = manual, False  # what formgrader's PUT does
        gb.db.commit()
    same = [_result(2.0, 1.0)]
    assert merge_into_gradebook(same, gradebook) == 0 and same[0].review == []  # nothing changed: no nagging
    changed = [_result(6.0, 3.0)]
    assert merge_into_gradebook(changed, gradebook) == 2
    with Gradebook(f"sqlite:///{gradebook / 'gradebook.db'}", "week6") as gb:
        g = gb.find_grade("lab_kd_loss", "week6_lab", "week6_lab", "amy")
        assert (g.auto_score, g.manual_score, g.needs_manual_grade) == (6.0, 4.0, True)
        assert gb.find_grade("lab_bug_choices", "week6_lab", "week6_lab", "amy").needs_manual_grade
    assert any("lab_kd_loss" in r and "from 2 to 6" in r and "manual score of 4" in r for r in changed[0].review)
    summary = write_outputs(changed, tmp_path / "out")
    assert "Manual overrides to review" in summary and "lab_kd_loss: the automatic score changed" in summary
    assert "AUTOGRADED ONLY" in summary
    rows = list(csv.DictReader((tmp_path / "out" / "grades.csv").open()))
    assert rows[0]["scope"] == "autograded only"
    # an override that agrees with the new automatic score needs no review
    agree = [_result(4.0, 1.0)]
    with Gradebook(f"sqlite:///{gradebook / 'gradebook.db'}", "week6") as gb:
        gb.find_grade("lab_kd_loss", "week6_lab", "week6_lab", "amy").needs_manual_grade = False
        gb.db.commit()
    merge_into_gradebook(agree, gradebook)
    assert not any("lab_kd_loss" in r for r in agree[0].review)
