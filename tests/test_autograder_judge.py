"""The judge as part of nbgrader's pipeline, without a kernel: probe lines in a hidden-test cell ->
verdict + the score nbgrader's determine_grade reads; and the regrade rule for manual overrides.

The real pipeline (execution, SaveAutoGrades, formgrader) is covered by the slow end-to-end tests.
"""
from __future__ import annotations

import csv
import json

import nbformat
import pytest
from nbgrader.utils import determine_grade

from autograder import checks, probe
from autograder.examples import variants as V
from autograder.gradebook import merge_into_gradebook
from autograder.judge import RESOURCE_KEY, JudgeHiddenTests, is_verdict
from autograder.nbext import SanitizeFeedback
from autograder.outputs import write_outputs
from autograder.results import SavedGrade, SubmissionResult

NONCE = "f00d" * 8


def _hidden(gid, outputs):
    c = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nprobe()\n### END HIDDEN TESTS")
    c.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "locked": True, "solution": False,
                              "points": checks.POINTS[gid], "schema_version": 3}
    c.outputs = outputs
    return c


def _stdout(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def _line(check_id, nonce, data):
    return probe.MARKER + " " + probe.encode({"check": check_id, "nonce": nonce, "flags": [], "data": data}) + "\n"


def _kd_data(variant):
    ns = {}
    exec(V.kd_source(variant), ns)
    return probe.collect("lab_kd_loss", ns)[0]


def _judge(cells, nonce=NONCE):
    nb = nbformat.v4.new_notebook(cells=cells)
    resources = {"nbgrader": {"notebook": "week6_lab"}, RESOURCE_KEY: {"nonce": nonce}}
    nb, _ = JudgeHiddenTests().preprocess(nb, resources)
    return nb


def _grade(nb, gid):
    cell = next(c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == gid)
    return determine_grade(cell)[0], cell


def test_verdict_and_score_replace_the_probe_line():
    good = _kd_data("correct")
    nb = _judge([_hidden("lab_kd_loss", [_stdout("student print\n" + _line("lab_kd_loss", NONCE, good))])])
    score, cell = _grade(nb, "lab_kd_loss")
    assert score == 6.0
    text = nbformat.writes(nb.cells[0])
    assert probe.MARKER not in text and NONCE not in text
    verdict = [o for o in cell.outputs if is_verdict(o)]
    assert len(verdict) == 1 and "Autograder: lab_kd_loss: 6 / 6 points" in verdict[0]["data"]["text/plain"]
    assert nb.metadata["autograder"]["checks"]["lab_kd_loss"]["points"] == 6


def test_partial_credit_reaches_nbgrader_and_no_expected_value_leaks():
    exp = checks.load_expected("week6_lab")["lab_kd_loss"]
    data = _kd_data("bug_missing_T2")
    nb = _judge([_hidden("lab_kd_loss", [_stdout(_line("lab_kd_loss", NONCE, data))])])
    score, cell = _grade(nb, "lab_kd_loss")
    judged = nb.metadata["autograder"]["checks"]["lab_kd_loss"]
    assert 0 < score < 6 and score == judged["points"]
    shown = json.dumps([o["data"] for o in cell.outputs])
    secret = repr(exp["reference"]["grid"][5]["value"])
    assert secret not in shown and "[--]" in shown


@pytest.mark.parametrize("outputs, reason", [
    ([], "printed no result"),
    ([_stdout(probe.MARKER + " {not json\n")], "unreadable"),
    ("forged", "without its nonce"),
    ("twice", "more than one result line"),
    ([nbformat.v4.new_output("error", ename="NameError", evalue="probe", traceback=[])], "raised NameError"),
])
def test_missing_forged_or_broken_lines_give_zero_with_a_reason(outputs, reason):
    good = _kd_data("correct")
    if outputs == "forged":
        outputs = [_stdout(_line("lab_kd_loss", "not-this-run", good))]
    elif outputs == "twice":
        outputs = [_stdout(_line("lab_kd_loss", NONCE, good) * 2)]
    nb = _judge([_hidden("lab_kd_loss", outputs)])
    score, cell = _grade(nb, "lab_kd_loss")
    assert score == 0
    assert reason in cell.outputs[0]["data"]["text/plain"]


def test_a_blank_run_without_nonce_never_scores():
    """A notebook executed without this run's nonce (e.g. outside the pipeline) gets nothing."""
    good = _kd_data("correct")
    nb = _judge([_hidden("lab_kd_loss", [_stdout(_line("lab_kd_loss", "", good))])], nonce="")
    assert _grade(nb, "lab_kd_loss")[0] == 0
    nb = _judge([_hidden("lab_kd_loss", []), _hidden("lab_deployment", [])])
    assert [_grade(nb, g)[0] for g in ("lab_kd_loss", "lab_deployment")] == [0, 0]


def test_feedback_keeps_the_verdict_and_drops_the_instructor_detail():
    data = _kd_data("bug_missing_T2")
    nb = _judge([_hidden("lab_kd_loss", [_stdout(_line("lab_kd_loss", NONCE, data))])])
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
