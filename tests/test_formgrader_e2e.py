"""The instructor's flow end to end, through formgrader's REST API (a real Jupyter server on 127.0.0.1).

In a temporary course: release, grade (the project command), list the submissions in
formgrader, press Autograde (formgrader's button: the same points as the project
command, a blank gets none), read the verdict on the manual-grading page, set a manual
score, an override and a comment, regrade one resubmitting student (`grade --student`: the
stale override is flagged, changed prose needs a new look, unchanged prose keeps its grade),
import a roster (names in formgrader), finalize
(final grades and feedback with the comment) and use nbgrader's own command line from
the repository root.  With a headless Chromium at /usr/bin/chromium, also a screenshot
of the manual-grading page.  Runtime: about 3 minutes on 2 cores.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from autograder import checks
from autograder import formgrader as fg
from autograder.examples import make_examples as mk
from autograder.kernel.wire import MARKER
from autograder.nbgrader_config import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
CHROMIUM = Path("/usr/bin/chromium")
LAB = "week6_lab"
LAB_AUTO = sum(p for cid, p in checks.POINTS.items() if checks.NOTEBOOK_OF[cid] == LAB)  # autograded points


def _env(work):
    return {**os.environ, "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1", "AUTOGRADER_WORK": str(work)}


def _run(args, work, cwd=REPO):
    proc = subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=_env(work), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _autograder(work, *args):
    return _run([sys.executable, "-m", "autograder", *args], work)


class Api:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def __call__(self, method, path, body=None, raw=False):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            text = resp.read().decode()
        return text if raw else json.loads(text or "null")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("formgrader")
    work = tmp / "work"
    _autograder(work, "release", "--work", str(work), "--allow-synthetic-reveals", "--allow-private-install",
                "--skip-reveals-check")
    mk.make(work / "release", work / "submitted", names=["ex_solution", "ex_blank"])
    _autograder(work, "grade", str(work / "submitted"), "--work", str(work), "--timeout", "20")
    log = open(tmp / "server.log", "w")
    proc, base, token = fg.start(work, log=log)
    try:
        fg.wait_ready(proc, base, token)
        yield {"work": work, "api": Api(base, token), "tmp": tmp, "base": base, "token": token}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _submissions(api):
    return {s["student"]: s for s in api("GET", f"/formgrader/api/submissions/{LAB}")}


def _notebook_ids(api):
    return {s["student"]: s["id"] for s in api("GET", f"/formgrader/api/submitted_notebooks/{LAB}/{LAB}")}


def _by_name(items):
    return {i["name"]: i for i in items}


def test_instructor_flow_through_formgrader(course):
    api, work = course["api"], course["work"]

    # The project command's grades are what formgrader lists.
    subs = _submissions(api)
    assert subs["ex_solution"]["code_score"] == LAB_AUTO and subs["ex_blank"]["code_score"] == 0

    # Formgrader's Autograde button runs the same pipeline: the same points, never any for a blank; and it
    # puts the submission it graded back into the class's grades (here: a row removed by hand first).
    class_json = work / "grades" / "grades.json"
    class_json.write_text(json.dumps([r for r in json.loads(class_json.read_text()) if r["student"] != "ex_blank"]))
    for student in ("ex_blank", "ex_solution"):
        reply = api("POST", f"/formgrader/api/submission/{LAB}/{student}/autograde", {})
        assert reply["success"], reply.get("log", "")[-2000:]
    subs = _submissions(api)
    assert subs["ex_solution"]["code_score"] == LAB_AUTO and subs["ex_blank"]["code_score"] == 0
    rows = {r["student"]: r for r in csv.DictReader((work / "grades" / "grades.csv").open())}
    assert float(rows["ex_solution"]["total"]) == LAB_AUTO and float(rows["ex_blank"]["total"]) == 0

    # The manual-grading page shows readable verdicts, not reporter lines.
    ids = _notebook_ids(api)
    page = api("GET", f"/formgrader/submissions/{ids['ex_solution']}/", raw=True)
    assert "Autograder: lab_kd_loss: 6 / 6 points" in page and MARKER not in page
    page = api("GET", f"/formgrader/submissions/{ids['ex_blank']}/", raw=True)
    assert "Autograder: lab_kd_loss: 0 / 6 points" in page and MARKER not in page

    # Manual grading: a written answer, its comment, and an override of an autograded check.
    grades = _by_name(api("GET", f"/formgrader/api/grades?submission_id={ids['ex_solution']}"))
    memo = grades["lab_memo_cheaper"]
    api("PUT", f"/formgrader/api/grade/{memo['id']}", {"manual_score": 0.5, "extra_credit": None})
    comments = _by_name(api("GET", f"/formgrader/api/comments?submission_id={ids['ex_solution']}"))
    comment = "Cite the coverage table when you choose the cheaper model."
    api("PUT", f"/formgrader/api/comment/{comments['lab_memo_cheaper']['id']}", {"manual_comment": comment})
    blank = _by_name(api("GET", f"/formgrader/api/grades?submission_id={ids['ex_blank']}"))
    api("PUT", f"/formgrader/api/grade/{blank['lab_kd_loss']['id']}", {"manual_score": 2, "extra_credit": None})

    # A manual grade on the blank's memo, then a resubmission of that student only (`grade --student`):
    # the class's grades.csv keeps everyone else's row, the override now disagrees with the automatic
    # score, and the memo, rewritten, needs a new manual look; the solution's unchanged memo keeps 0.5.
    api("PUT", f"/formgrader/api/grade/{blank['lab_memo_cheaper']['id']}", {"manual_score": 0, "extra_credit": None})
    shutil.copy(work / "submitted" / "ex_solution" / LAB / f"{LAB}.ipynb",
                work / "submitted" / "ex_blank" / LAB / f"{LAB}.ipynb")
    _autograder(work, "grade", str(work / "submitted"), "--work", str(work), "--timeout", "20",
                "--student", "ex_blank")
    rows = {r["student"]: r for r in csv.DictReader((work / "grades" / "grades.csv").open())}
    assert set(rows) == {"ex_blank", "ex_solution"}, rows  # one student's rows merged into the class's
    assert float(rows["ex_blank"]["total"]) == LAB_AUTO == float(rows["ex_solution"]["total"])
    summary = (work / "grades" / "summary.txt").read_text()
    assert "Manual overrides to review" in summary
    assert "lab_kd_loss: the automatic score changed from 0 to 6 under a manual score of 2" in summary
    assert "Cells that need a new manual look (2)" in summary and "lab_memo_cheaper: the answer changed" in summary
    kd = api("GET", f"/formgrader/api/grade/{blank['lab_kd_loss']['id']}")
    assert (kd["auto_score"], kd["manual_score"], kd["needs_manual_grade"]) == (6, 2, True)
    assert api("GET", f"/formgrader/api/grade/{blank['lab_memo_cheaper']['id']}")["needs_manual_grade"]
    _autograder(work, "grade", str(work / "submitted"), "--work", str(work), "--timeout", "20",
                "--student", "ex_solution")  # resubmitted unchanged: the manual grade stands
    kept = api("GET", f"/formgrader/api/grade/{memo['id']}")
    assert (kept["manual_score"], kept["needs_manual_grade"]) == (0.5, False)
    relook = (work / "grades" / "summary.txt").read_text().split("need a new manual look")[1]
    assert "ex_blank/week6_lab" in relook and "ex_solution/" not in relook  # another student's regrade keeps it

    # The roster puts names on formgrader's students.
    roster = course["tmp"] / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nex_solution,Ada,Lovelace,\nex_blank,Grace,Hopper,\n")
    _autograder(work, "roster", str(roster), "--work", str(work))
    names = {s["id"]: (s["first_name"], s["last_name"]) for s in api("GET", "/formgrader/api/students")}
    assert names["ex_solution"] == ("Ada", "Lovelace") and names["ex_blank"] == ("Grace", "Hopper")

    # The page formgrader renders went through the course's view (score echo hidden, wrapped verdicts).
    assert "autograder.view" in api("GET", f"/formgrader/submissions/{ids['ex_solution']}/", raw=True)

    # Final grades and feedback with the manual scores and comments.
    out = _autograder(work, "finalize", "--work", str(work))
    assert "final_grades.csv" in out
    rows = {r["student"]: r for r in csv.DictReader((work / "grades" / "final_grades.csv").open())}
    assert float(rows["ex_solution"]["lab_memo_cheaper"]) == 0.5
    solution = rows["ex_solution"]
    assert float(solution["checks_total"]) == LAB_AUTO and float(solution["total"]) == LAB_AUTO + 0.5
    assert float(rows["ex_blank"]["lab_kd_loss"]) == 2 and "lab_kd_loss" in rows["ex_blank"]["needs_manual_grade"]
    assert "lab_memo_cheaper" in rows["ex_blank"]["needs_manual_grade"]
    feedback = (work / "grades" / "feedback" / "ex_solution" / LAB / f"{LAB}.html").read_text()
    assert comment in feedback and MARKER not in feedback and "BEGIN HIDDEN TESTS" not in feedback

    # nbgrader's own command line from the repository root, nothing set by hand but the work folder.
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    assert "ex_blank" in _run([nbgrader, "db", "student", "list"], work)
    _run([nbgrader, "export", "--to", str(course["tmp"] / "export.csv")], work)
    exported = {r["student_id"]: r for r in csv.DictReader((course["tmp"] / "export.csv").open())}
    assert float(exported["ex_solution"]["score"]) == LAB_AUTO + 0.5
    assert not (REPO / "autograder" / "gradebook.db").exists() and not (REPO / "gradebook.db").exists()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no headless Chromium at /usr/bin/chromium")
def test_manual_grading_page_screenshot(course, tmp_path):
    api = course["api"]
    nb_id = _notebook_ids(api)["ex_solution"]
    shot = tmp_path / "grading.png"
    url = f"{course['base']}/formgrader/submissions/{nb_id}/?token={course['token']}"
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000",
                    f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000  # a rendered page, not a blank error image
    dom = subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    assert "Autograder: lab_kd_loss: 6 / 6 points" in dom and MARKER not in dom


@pytest.mark.parametrize("assignment, where", [("week6_lab", "root"), ("week6_homework", "elsewhere")])
def test_source_notebooks_validate_with_nothing_set_by_hand(assignment, where, tmp_path):
    """`nbgrader validate` runs the source notebook, hidden tests included: from the repository root
    (the course config) and from any other folder (no config: the hidden tests find the checkout)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AUTOGRADER_WORK")}
    env.update(MPLBACKEND="Agg", HF_HUB_OFFLINE="1", COURSE_CACHE=str(tmp_path / "cache"))
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    proc = subprocess.run([nbgrader, "validate", str(REPO / "notebooks" / assignment / f"{assignment}.ipynb")],
                          capture_output=True, text=True, env=env, timeout=600,
                          cwd=REPO if where == "root" else tmp_path)
    assert "Success! Your notebook passes all the tests." in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert not list(tmp_path.glob("*.db")) and not (REPO / "autograder" / "gradebook.db").exists()
