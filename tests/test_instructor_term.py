"""An instructor's term without outside knowledge: collect, roster, release routes, the grading
preflight, environment errors, resubmitted prose, the report's grouping and nbgrader's own autograde
on a broken submission (the formgrader view, the grader's sheet and the Autograde button's step are
in tests/preprocessors/ and tests/test_grader_sheet.py).  Fast unless marked slow."""
from __future__ import annotations

import os
import stat
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder import bwrap, collect, preflight, release, roster
from autograder.gradebook import cells_to_relook, merge_into_gradebook, open_gradebook
from autograder.grading import grade
from autograder.nbgrader_config import REPO, autograde_blockers, guard_nbgrader_autograde
from autograder.report import normalise_message
from autograder.results import SavedGrade, SubmissionResult


def _released(work: Path, assignment: str = "week6_lab") -> None:
    folder = work / "release" / assignment
    folder.mkdir(parents=True)
    nbformat.write(new_notebook(), folder / f"{assignment}.ipynb")


# ---------------------------------------------------------------- report
def test_failure_messages_keep_digits_inside_names():
    msg = "f1_ci_table: got 0.734, expected 0.812 (T_d**2 scaling, tolerance 1e-3, 12% off, -4 rows)"
    assert normalise_message(msg) == "f1_ci_table: got #, expected # (T_d**2 scaling, tolerance #, # off, # rows)"
    assert normalise_message("week6_lab x2 ok") == "week6_lab x2 ok"


# ---------------------------------------------------------------- collect
def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return path


def test_collect_canvas_preset_places_notebooks_and_reports_skips(tmp_path, capsys):
    work = tmp_path / "work"
    _released(work)
    nb = nbformat.writes(new_notebook())
    archive = _zip(tmp_path / "submissions.zip", {
        "lovelaceada_1234_5678_week6_lab.ipynb": nb,
        "hopperg_LATE_2222_3333_week6_lab-1.ipynb": nb,
        "turinga_4444_5555_notes.txt": "x",
    })
    assert collect.main([str(archive), "--assignment", "week6_lab", "--lms", "canvas", "--work", str(work)]) == 0
    out = capsys.readouterr().out
    assert (work / "submitted" / "lovelaceada" / "week6_lab" / "week6_lab.ipynb").is_file()
    assert (work / "submitted" / "hopperg" / "week6_lab" / "week6_lab.ipynb").is_file()  # "-1" resubmission
    assert "turinga_4444_5555_notes.txt: not a notebook" in out
    assert (work / "downloaded" / "week6_lab" / "archive" / "submissions.zip").is_file()  # under the work folder
    # Collecting the same students again needs --force, and says so.
    with pytest.raises(SystemExit, match="--force"):
        collect.main([str(archive), "--assignment", "week6_lab", "--work", str(work)])
    assert collect.main([str(archive), "--assignment", "week6_lab", "--work", str(work), "--force"]) == 0


def test_collect_fails_when_nothing_matches(tmp_path, capsys):
    work = tmp_path / "work"
    _released(work)
    archive = _zip(tmp_path / "moodle.zip", {"Ada Lovelace_77_assignsubmission_file_/week6_lab.ipynb": "{}"})
    assert collect.main([str(archive), "--assignment", "week6_lab", "--lms", "canvas", "--work", str(work)]) == 1
    err = capsys.readouterr()
    assert "collected no notebook" in err.err and "does not match the file-name pattern" in err.out
    assert collect.main([str(archive), "--assignment", "week6_lab", "--lms", "moodle", "--work", str(work)]) == 0
    assert (work / "submitted" / "77" / "week6_lab" / "week6_lab.ipynb").is_file()
    custom = r"(?P<student_id>[^_/]+) [^/]*/(?P<file_id>[^/]+)\.ipynb$"
    assert collect.main([str(archive), "--assignment", "week6_lab", "--regex", custom, "--work", str(work)]) == 0
    assert (work / "submitted" / "Ada" / "week6_lab" / "week6_lab.ipynb").is_file()


# ---------------------------------------------------------------- roster
def test_roster_names_students_in_the_gradebook(tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    with open_gradebook(work / "gradebook.db") as gb:
        gb.update_or_create_student("ada")  # graded before the roster came: the names are added
    csv = tmp_path / "roster.csv"
    csv.write_text("Student_ID,First_Name,Last_Name,Email\nada,Ada,Lovelace,ada@example.org\ngrace,Grace,Hopper,\n")
    assert roster.main([str(csv), "--work", str(work)]) == 0
    with open_gradebook(work / "gradebook.db") as gb:
        names = {s.id: (s.first_name, s.last_name) for s in gb.students}
    assert names == {"ada": ("Ada", "Lovelace"), "grace": ("Grace", "Hopper")}
    bad = tmp_path / "bad.csv"
    bad.write_text("name,mail\nAda Lovelace,a@b\n")
    assert roster.main([str(bad), "--work", str(work)]) == 2
    assert "no id column" in capsys.readouterr().err


# ---------------------------------------------------------------- release routes
def test_release_routes(tmp_path):
    assert release.route_problem("https://host.org/ecbs_week6_helpers-1.0-py3-none-any.whl", "url") is None
    assert "public https URL" in release.route_problem("ecbs-week6-helpers==1.0", "url")
    assert release.route_problem("ecbs-week6-helpers==1.0", "index") is None
    assert "package index" in release.route_problem("https://host.org/x.whl", "index")
    with pytest.raises(release.ReleaseRefused, match="make student-wheel"):
        release.install_source_check(REPO / "notebooks", ["week6_lab"], "kaggle-dataset", dist=tmp_path)
    (tmp_path / "ecbs_week6_helpers-1.0-py3-none-any.whl").write_bytes(b"")
    note = release.install_source_check(REPO / "notebooks", ["week6_lab"], "kaggle-dataset", dist=tmp_path)
    assert "Kaggle dataset" in note and "ecbs_week6_helpers-1.0" in note


# ---------------------------------------------------------------- preflight and environment errors
def test_kernel_helpers_are_resolved_by_the_kernels_interpreter(tmp_path):
    fake = tmp_path / "python"  # an interpreter whose helpers is an editable install of another checkout
    fake.write_text('#!/bin/sh\necho \'{"helpers": ["/elsewhere/checkout/helpers"]}\'\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    assert bwrap.resolve_packages(str(fake)) == ["/elsewhere/checkout/helpers"]
    assert bwrap.resolve_packages(sys.executable) == [str(REPO / "helpers")]


def test_preflight_refusal_names_cause_and_fix(monkeypatch):
    monkeypatch.setattr(preflight, "run_kernel", lambda sandbox, timeout=120: preflight.KernelReport(
        error="ModuleNotFoundError: No module named 'helpers'"))
    with pytest.raises(preflight.PreflightFailed) as err:
        preflight.check_kernel(True)
    text = str(err.value)
    for part in ("No module named 'helpers'", "kernel interpreter", "sandbox binds", "fix:", "Nothing was graded"):
        assert part in text


def test_grade_grades_nothing_when_the_preflight_fails(tmp_path, monkeypatch):
    import autograder.grading as grading
    work, sub, out = tmp_path / "work", tmp_path / "sub", tmp_path / "out"
    work.mkdir()
    (work / "gradebook.db").write_bytes(b"")
    (sub / "ada" / "week6_lab").mkdir(parents=True)
    nbformat.write(new_notebook(), sub / "ada" / "week6_lab" / "week6_lab.ipynb")

    def refuse(sandbox):
        raise preflight.PreflightFailed("the kernel resolved helpers from /elsewhere")
    monkeypatch.setattr(grading, "check_kernel", refuse)
    with pytest.raises(SystemExit, match="/elsewhere"):
        grade(sub, work, out, sandbox=False)
    assert not out.exists()


@pytest.mark.slow
def test_preflight_kernel_fails_when_the_sandbox_binds_the_wrong_helpers(monkeypatch, tmp_path):
    if bwrap.bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    assert preflight.check_kernel(True).helpers == [str(REPO / "helpers")]
    wrong = tmp_path / "other_checkout" / "helpers"  # what the reviewer's sandbox bound
    wrong.mkdir(parents=True)
    monkeypatch.setattr(bwrap, "package_dirs", lambda names=("helpers",), python=None: [str(wrong)])
    with pytest.raises(preflight.PreflightFailed) as err:
        preflight.check_kernel(True, timeout=60)
    text = str(err.value)
    assert "No module named 'helpers'" in text and f"the sandbox binds {wrong}" in text


def test_environment_errors_are_told_from_student_mistakes(tmp_path):
    def executed(evalue):
        nb = new_notebook(cells=[new_code_cell("import x", outputs=[new_output(
            "error", ename="ModuleNotFoundError", evalue=evalue, traceback=[])])])
        path = tmp_path / f"{abs(hash(evalue))}.ipynb"
        nbformat.write(nb, path)
        return path
    assert "grader-side" in preflight.environment_error(executed("No module named 'helpers'"))
    assert preflight.environment_error(executed("No module named 'seaborn_of_the_student'")) is None
    assert preflight.environment_error(executed("No module named 'helpers.no_such_module'")) is None
    watch = preflight.EnvironmentWatch(3)
    for problem in ("env", None, "env", "env"):
        watch.record(problem)
    assert not watch.stop.is_set()
    watch.record("env")
    assert watch.stop.is_set() and "3 submissions in a row" in watch.reason


# ---------------------------------------------------------------- resubmitted prose keeps its manual grade
def test_unchanged_prose_keeps_its_manual_grade(tmp_path):
    work = tmp_path
    with open_gradebook(work / "gradebook.db") as gb:
        gb.add_assignment("week6_lab")
        gb.add_notebook("week6_lab", "week6_lab")
        for cell in ("memo_a", "memo_b"):
            gb.add_grade_cell(cell, "week6_lab", "week6_lab", max_score=2, cell_type="markdown")
        gb.add_student("ada")
        gb.add_submission("week6_lab", "ada")
        for cell, score in (("memo_a", 2), ("memo_b", 1)):
            g = gb.find_grade(cell, "week6_lab", "week6_lab", "ada")
            g.manual_score, g.needs_manual_grade = score, False
        gb.db.commit()
    cells = [new_markdown_cell(src, metadata={"nbgrader": {"grade": True, "solution": True, "grade_id": gid,
                                                           "points": 2}})
             for gid, src in (("memo_a", "same answer"), ("memo_b", "rewritten answer"))]
    folder = work / "autograded" / "ada" / "week6_lab"
    folder.mkdir(parents=True)
    nbformat.write(new_notebook(cells=cells), folder / "week6_lab.ipynb")
    result = SubmissionResult("ada", "week6_lab", grades={n: SavedGrade(None, True) for n in ("memo_a", "memo_b")})
    relook: dict = {}
    merge_into_gradebook([result], work, previous={("ada", "week6_lab"): {"memo_a": "same answer",
                                                                          "memo_b": "first answer"}}, relook=relook)
    with open_gradebook(work / "gradebook.db") as gb:
        a, b = (gb.find_grade(c, "week6_lab", "week6_lab", "ada") for c in ("memo_a", "memo_b"))
        assert (a.manual_score, a.needs_manual_grade) == (2, False)
        assert b.needs_manual_grade
    assert len(relook[("ada", "week6_lab")]) == 1 and "memo_b" in relook[("ada", "week6_lab")][0]
    assert cells_to_relook(work) == {("ada", "week6_lab"): ["memo_b"]}  # the gradebook's record, for later runs


# ---------------------------------------------------------------- nbgrader's own autograde
def test_nbgrader_autograde_refuses_wrong_name_and_corrupt_submissions(tmp_path, capsys):
    for student, name, text in (("ok", "week6_lab.ipynb", nbformat.writes(new_notebook())),
                                ("wrongname", "Untitled.ipynb", nbformat.writes(new_notebook())),
                                ("corrupt", "week6_lab.ipynb", "{not json")):
        (tmp_path / "submitted" / student / "week6_lab").mkdir(parents=True)
        (tmp_path / "submitted" / student / "week6_lab" / name).write_text(text)
    blockers = autograde_blockers(tmp_path, "week6_lab")
    assert len(blockers) == 2 and any("Untitled.ipynb" in b for b in blockers)
    assert autograde_blockers(tmp_path, "week6_lab", ["ok"]) == []
    guard_nbgrader_autograde(["nbgrader", "autograde", "week6_lab", "--student", "ok"], tmp_path)  # no exit
    guard_nbgrader_autograde(["nbgrader", "db", "student", "list"], tmp_path)
    with pytest.raises(SystemExit):
        guard_nbgrader_autograde(["nbgrader", "autograde", "week6_lab", "--force"], tmp_path)
    assert "make grade" in capsys.readouterr().err


def test_nbgrader_autograde_refuses_links_and_fifos_anywhere_in_a_submission(tmp_path):
    """nbgrader's own copy of a submitted folder follows links and blocks on FIFOs: refuse those first."""
    import os
    secret = tmp_path / "answer_key.json"
    secret.write_text("{}")
    for student in ("linked_nb", "link_inside", "fifo", "ok"):
        folder = tmp_path / "submitted" / student / "week6_lab"
        folder.mkdir(parents=True)
        (folder / "week6_lab.ipynb").write_text(nbformat.writes(new_notebook()))
    (tmp_path / "submitted" / "linked_nb" / "week6_lab" / "week6_lab.ipynb").unlink()
    (tmp_path / "submitted" / "linked_nb" / "week6_lab" / "week6_lab.ipynb").symlink_to(secret)
    (tmp_path / "submitted" / "link_inside" / "week6_lab" / "deep").mkdir()
    (tmp_path / "submitted" / "link_inside" / "week6_lab" / "deep" / "key").symlink_to(secret)
    os.mkfifo(tmp_path / "submitted" / "fifo" / "week6_lab" / "pipe")
    blockers = autograde_blockers(tmp_path, "week6_lab")
    refused = sorted(b.split(":")[0] for b in blockers)
    assert refused == ["fifo/week6_lab", "link_inside/week6_lab", "linked_nb/week6_lab"]
    assert all("refused" in b for b in blockers)


def test_makefile_targets_pass_args():
    text = (REPO / "Makefile").read_text()
    for target in ("release", "grade", "collect", "roster", "formgrader", "final-grades"):
        block = text.split(f"\n{target}: venv\n", 1)[1].split("\n\n", 1)[0]
        assert "$(ARGS)" in block, target


# ---------------------------------------------------------------- offline first
def test_unreachable_hub_is_one_line_not_a_traceback(monkeypatch, capsys):
    import autograder.__main__ as ag_main
    import helpers.__main__ as helpers_main
    from helpers.reachability import hub_unreachable
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there: refused at once
    assert "127.0.0.1:9 cannot be reached" in hub_unreachable(timeout=2)
    assert helpers_main.main(["reveals", "--source", "hub"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "needs the Hugging Face Hub" in err and "Traceback" not in err
    ag_main.go_offline_when_unreachable()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "running offline" in err


def test_repeated_environment_errors_stop_the_run_and_spare_the_students(tmp_path, monkeypatch):
    import autograder.grading as grading
    work, sub, out = tmp_path / "work", tmp_path / "sub", tmp_path / "out"
    _released(work)
    with open_gradebook(work / "gradebook.db") as gb:
        gb.add_assignment("week6_lab")
    students = ["s1", "s2", "s3", "s4"]
    for s in students:
        (sub / s / "week6_lab").mkdir(parents=True)
        nbformat.write(new_notebook(), sub / s / "week6_lab" / "week6_lab.ipynb")

    def broken_environment(jobs, workers, limit_for, log, after=None, stop=None):
        done = {}
        for job in jobs:  # every kernel failed to import helpers, as with the wrong checkout bound
            if stop.is_set():
                break
            nb = new_notebook(cells=[new_code_cell("import helpers", outputs=[new_output(
                "error", ename="ModuleNotFoundError", evalue="No module named 'helpers'", traceback=[])])])
            job.autograded_dir.mkdir(parents=True)
            nbformat.write(nb, job.autograded_dir / "week6_lab.ipynb")
            job.out_dir.mkdir(parents=True)
            (job.out_dir / "week6_lab.html").write_text("this notebook has no internet connection")
            res = SubmissionResult.not_graded(job.student, job.assignment, ["a check failed"])
            res.status = "graded"
            res.autograded = str(job.autograded_dir / "week6_lab.ipynb")
            res.feedback = str(job.out_dir / "week6_lab.html")
            after(res)
            done[(job.student, job.assignment)] = res
        return done
    monkeypatch.setattr(grading, "run_jobs", broken_environment)
    results, summary = grade(sub, work, out, sandbox=False, preflight=False)
    assert "RUN STOPPED" in summary and "3 submissions in a row" in summary
    assert "Grader-side failures, NOT the students' fault (4)" in summary
    assert all(r.status == "not graded" and r.feedback is None for r in results)
    assert not list(out.glob("feedback/*/*/*.html"))  # no student is told it was their fault
    with open_gradebook(work / "gradebook.db") as gb:
        assert [s.id for s in gb.students] == []  # the gradebook was not changed


def test_exchange_lives_under_the_work_folder(tmp_path):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    from autograder.nbgrader_config import apply
    cfg = apply(Config(), work=tmp_path, sandbox=False)
    api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
    assert api.exchange_root == str(tmp_path / "exchange") and api.exchange_is_functional  # no formgrader banner
