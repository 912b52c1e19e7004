"""The records the grading driver's parts pass each other (autograder/results.py), across the worker's
process boundary (JSON) and into grades.json, and the one environment variable the driver reads."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from autograder import checks
from autograder.checks import checks_of
from autograder.outputs import write_outputs
from autograder.results import GradeJob, SavedGrade, SubmissionResult
from autograder.settings import DEFAULT_WORK, WORK_ENV, work_folder


def _job(tmp_path: Path, sandbox) -> GradeJob:
    return GradeJob(student="amy", assignment="week6_lab", notebook=tmp_path / "a.ipynb",
                    submission_dir=tmp_path / "sub", issues=["wrong file name"], base_db=tmp_path / "base.db",
                    ipython_dir=tmp_path / "ipy", source=tmp_path / "src", timeout=30, sandbox=sandbox,
                    tmp_root=tmp_path, release_nb=tmp_path / "rel.ipynb", out_dir=tmp_path / "fb",
                    autograded_dir=tmp_path / "ag", result_path=tmp_path / "r.json")


def test_a_job_survives_the_json_line_to_the_worker(tmp_path):
    for sandbox in (False, {"wall_s": 600.0, "memory_mb": 2048}):
        job = _job(tmp_path, sandbox)
        line = json.dumps(job.to_dict())
        assert GradeJob.from_dict(json.loads(line)) == job
        assert json.loads(line)["notebook"] == str(tmp_path / "a.ipynb")


def test_a_result_survives_the_worker_file_and_leaves_unset_fields_out():
    bare = SubmissionResult.not_graded("bob", "week6_homework", ["corrupt notebook JSON"])
    d = bare.to_dict()
    assert set(d) == {"student", "assignment", "status", "issues", "flags", "checks"}
    assert SubmissionResult.from_dict(json.loads(json.dumps(d))) == bare
    full = SubmissionResult(student="amy", assignment="week6_lab", issues=["x"], flags=["y"],
                            checks={"lab_kd_loss": checks.not_graded("lab_kd_loss", "z").to_dict()},
                            grades={"lab_kd_loss": SavedGrade(auto_score=0.0, needs_manual_grade=False, max_score=6)},
                            autograde_s=1.5, feedback=None, autograded="autograded/amy/week6_lab/week6_lab.ipynb",
                            review=[])
    d = full.to_dict()
    assert d["grades"]["lab_kd_loss"] == {"auto_score": 0.0, "needs_manual_grade": False, "max": 6}
    assert "feedback" in d and d["feedback"] is None  # written together with the autograded notebook
    assert SubmissionResult.from_dict(json.loads(json.dumps(d))) == full


def test_not_graded_costs_every_check_of_the_assignment_with_the_first_reason():
    r = SubmissionResult.not_graded("bob", "week6_homework", ["the grading worker died", "later"])
    assert set(r.checks) == set(checks_of("week6_homework")) and r.status == "not graded"
    assert r.points == 0 and r.max_points == sum(checks.POINTS[c] for c in checks_of("week6_homework"))
    assert all("the grading worker died" in json.dumps(c) for c in r.checks.values())


def test_grades_json_drops_the_timing_and_grades_csv_adds_up(tmp_path):
    r = SubmissionResult.not_graded("amy", "week6_lab", ["x"])
    r.checks["lab_kd_loss"] = {**r.checks["lab_kd_loss"], "points": 4}
    r.autograde_s, r.review = 12.3, []
    summary = write_outputs([r], tmp_path)
    saved = json.loads((tmp_path / "grades.json").read_text())
    assert "autograde_s" not in saved[0] and saved[0]["review"] == []
    row = next(csv.DictReader((tmp_path / "grades.csv").open()))
    assert row["lab_kd_loss"] == "4" and row["total"] == "4" and row["hw_per_class_f1"] == ""
    assert "amy/week6_lab (not graded)" in summary and (tmp_path / "summary.txt").read_text() == summary


def test_the_work_folder_comes_from_its_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(WORK_ENV, raising=False)
    assert work_folder() == DEFAULT_WORK.resolve()
    monkeypatch.setenv(WORK_ENV, str(tmp_path))
    assert work_folder() == tmp_path.resolve()
