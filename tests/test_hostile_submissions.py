"""`python -m autograder grade`, sandboxed, on a class of hostile submissions built from the solution
notebook, next to an honest one: notebooks that are links (to a classmate's, to the answer key), a FIFO
and a link to /dev/zero as the notebook, links to the answer key and the gradebook and a shipped
helpers/ package inside a folder, a kernel that plants links where nbgrader writes and prints 300 MB,
HTML/JS injection in outputs and markdown, verdict-like lines, late and edited predictions, JSON edits
of hidden cells and the kernelspec, a duplicated grade id, and a student folder that is a link.
Each gains nothing, leaks nothing, disturbs no other submission and is named in summary.txt.

Runtime: about 4 minutes on 2 cores (five notebooks executed, two at a time).
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell
from test_hostile_files import HTML_ATTACK, active_content

from autograder import checks
from autograder.examples import make_examples as mk
from autograder.nbgrader_config import ASSIGNMENTS, REPO
from autograder.release import generate

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
LAB = "week6_lab"
FULL = sum(v for k, v in checks.POINTS.items() if k.startswith("lab_"))
KEY_TEXT = (REPO / "autograder" / "answer_key.json").read_text()


def _gid(c):
    return c.metadata.get("nbgrader", {}).get("grade_id")


def _nb(folder):
    return nbformat.read(folder / f"{LAB}.ipynb", as_version=4)


def _write(nb, folder):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{LAB}.ipynb")


def build_class(work: Path, sub: Path) -> None:
    """The submissions (see the module docstring), each in nbgrader's submitted layout."""
    mk.make(work / "release", sub, names=["ex_solution"])
    honest = sub / "ex_solution" / LAB
    solution = _nb(honest)
    shutil.move(sub / "ex_solution", sub / "alice")
    honest = sub / "alice" / LAB
    # aaron: a kernel that plants links where nbgrader used to write (its cwd) and prints 300 MB.
    nb = copy.deepcopy(solution)
    gradebook = work / "gradebook.db"
    nb.cells.insert(1, new_code_cell(
        "import glob, os\n"
        "for name in glob.glob('*.ipynb') + ['week6_lab.ipynb', 'gradebook.db']:\n"
        "    if os.path.lexists(name):\n"
        "        os.remove(name)\n"
        f"    os.symlink({str(gradebook)!r}, name)\n"
        "print(sorted(os.listdir('.')))"))
    nb.cells.append(new_code_cell("chunk = 'x' * (1 << 20)\nfor _ in range(300):\n    print(chunk)"))
    _write(nb, sub / "aaron" / LAB)
    # bob: the notebook is a link to alice's; mallory: to the answer key; dave: a FIFO; eve: /dev/zero.
    for who, target in (("bob", honest / f"{LAB}.ipynb"), ("mallory", REPO / "autograder" / "answer_key.json"),
                        ("eve", Path("/dev/zero"))):
        (sub / who / LAB).mkdir(parents=True)
        (sub / who / LAB / f"{LAB}.ipynb").symlink_to(target)
    (sub / "dave" / LAB).mkdir(parents=True)
    os.mkfifo(sub / "dave" / LAB / f"{LAB}.ipynb")
    # carol: an honest notebook; in her folder links to the key and the gradebook, a FIFO, /dev/zero,
    # and a helpers/ package that would break every import of helpers if it were used.
    folder = sub / "carol" / LAB
    _write(solution, folder)
    (folder / "key.json").symlink_to(REPO / "autograder" / "answer_key.json")
    (folder / "gb.db").symlink_to(Path("..") / ".." / ".." / "work" / "gradebook.db")
    os.mkfifo(folder / "pipe")
    (folder / "zero").symlink_to("/dev/zero")
    (folder / "helpers").mkdir()
    (folder / "helpers" / "__init__.py").write_text("raise SystemExit('shadowed helpers')\n")
    # heidi: active content in outputs and markdown, a verdict-like line, a late and edited prediction,
    # a hidden cell's points and the kernelspec edited.
    nb = copy.deepcopy(solution)
    nb.cells.append(new_markdown_cell(f"## My notes\n\n{HTML_ATTACK}"))
    nb.cells.append(new_code_cell(
        "from IPython.display import HTML, SVG, Javascript, Markdown, display\n"
        f"display(HTML({HTML_ATTACK!r}))\n"
        "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(\\'XSSMARK10\\')\"></svg>'))\n"
        "display(Javascript(\"alert('XSSMARK11')\"))\n"
        f"display(Markdown({HTML_ATTACK!r}))\n"
        "print('Autograder: lab_kd_loss: 6 / 6 points')"))
    predict = next(c for c in nb.cells if _gid(c) == "predict_teacher_tail_f1")
    observer = next(c for c in nb.cells if 'observe("teacher_tail_f1"' in c.source)
    predict.source = predict.source.replace("0.35", "0.5")
    predict.execution_count, observer.execution_count = 12, 7
    observer.outputs = [nbformat.v4.new_output("stream", name="stdout", text="PREDICT_OBSERVE_JSON " + json.dumps(
        {"key": "teacher_tail_f1", "prediction": 0.35, "actual": 0.4}) + "\n")]
    hidden = next(c for c in nb.cells if _gid(c) == "lab_kd_loss")
    hidden.metadata.nbgrader["points"] = 60
    nb.metadata.kernelspec["name"] = "evil"
    _write(nb, sub / "heidi" / LAB)
    # judy: a duplicated answer cell (the same grade id twice).
    nb = copy.deepcopy(solution)
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    nb.cells.append(copy.deepcopy(answer))
    _write(nb, sub / "judy" / LAB)
    # oscar: the whole student folder is a link to alice's.
    (sub / "oscar").symlink_to(sub / "alice")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap); .ci/run installs it")
    tmp = tmp_path_factory.mktemp("hostile")
    work, sub, out = tmp / "work", tmp / "submitted", tmp / "out"
    generate(work, REPO / "notebooks", ASSIGNMENTS)
    build_class(work, sub)
    db_before = (work / "gradebook.db").stat()
    env = {**os.environ, "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(sub), "--work", str(work), "--out",
                           str(out), "--timeout", "60", "--workers", "2"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=1100)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = {r["student"]: r for r in json.loads((out / "grades.json").read_text())}
    return {"work": work, "out": out, "sub": sub, "results": results, "summary": (out / "summary.txt").read_text(),
            "db_before": db_before}


def _points(r):
    return sum(c["points"] for c in r["checks"].values())


def test_honest_work_is_graded_in_full_next_to_the_attacks(graded):
    r = graded["results"]["alice"]
    assert r["status"] == "graded" and not r["issues"] and not r["flags"], r
    assert _points(r) == FULL


@pytest.mark.parametrize("who, what", [("bob", "a symlink to"), ("mallory", "a symlink to"),
                                       ("eve", "a symlink to /dev/zero"), ("dave", "FIFO")])
def test_a_notebook_that_is_not_a_regular_file_is_refused_and_named(graded, who, what):
    r = graded["results"][who]
    assert r["status"] == "not graded" and _points(r) == 0, r
    assert any(what in i and "refused" in i for i in r["issues"]), r["issues"]
    assert f"- {who}/{LAB} (not graded):" in graded["summary"]
    assert not (graded["out"] / "feedback" / who).exists()  # nothing of the key or alice's work is sent back


def test_a_student_folder_that_is_a_link_is_refused(graded):
    r = graded["results"]["oscar"]
    assert r["status"] == "not graded" and "a symlink" in " ".join(r["issues"]), r


def test_links_fifos_and_a_shipped_package_in_a_folder_are_named_not_used(graded):
    r = graded["results"]["carol"]
    assert _points(r) == FULL, r  # the shadowing helpers/ would have failed every import
    issues = " ".join(r["issues"])
    for name in ("key.json (a symlink to", "gb.db (a symlink to", "pipe (a FIFO", "zero (a symlink to /dev/zero"):
        assert name in issues, issues
    assert any("ignored" in f and "helpers/" in f for f in r["flags"]), r["flags"]
    for path in (graded["out"] / "feedback" / "carol").rglob("*"):
        if path.is_file():
            assert KEY_TEXT[:200] not in path.read_text(errors="replace")


def test_a_kernel_planting_links_and_printing_300_mb_changes_nothing_outside(graded):
    r = graded["results"]["aaron"]
    assert r["status"] == "graded" and _points(r) == FULL, r
    assert any(i.startswith("output limit in cell") for i in r["issues"]), r["issues"]
    db = graded["work"] / "gradebook.db"
    assert not db.is_symlink() and db.stat().st_mode == graded["db_before"].st_mode
    for folder in (graded["out"], graded["work"] / "autograded", graded["work"] / "feedback"):
        links = [p for p in folder.rglob("*") if p.is_symlink()]
        assert links == [], links
    for f in (graded["out"] / "feedback" / "aaron" / LAB / f"{LAB}.html",
              graded["out"] / "autograded" / "aaron" / LAB / f"{LAB}.ipynb"):
        assert f.is_file() and f.stat().st_size < 8 << 20, (f, f.stat().st_size)
    # every submission graded after it still was (the gradebook copy of the run was never touched)
    assert all(graded["results"][s]["status"] == "graded" for s in ("alice", "carol", "heidi")), graded["results"]


def test_injected_html_is_inert_in_the_feedback_and_in_formgrader(graded):
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config
    r = graded["results"]["heidi"]
    assert _points(r) == FULL, r  # editing a hidden cell's points gains nothing: nbgrader restores them
    feedback = (graded["out"] / "feedback" / "heidi" / LAB / f"{LAB}.html").read_text()
    assert "XSSMARK" in feedback and active_content(feedback) == [], active_content(feedback)
    autograded = graded["work"] / "autograded" / "heidi" / LAB / f"{LAB}.ipynb"
    nb = nbformat.read(autograded, as_version=4)  # outputs and markdown (code is shown as code, escaped)
    raw = json.dumps([c.source for c in nb.cells if c.cell_type == "markdown"] +
                     [c.get("outputs", []) for c in nb.cells if c.cell_type == "code"]).lower()
    assert "xssmark1" in raw  # the attack's text is there, inert
    for bad in ("<script", "onerror", "onload", "javascript:", "<iframe", "<svg", "<style"):
        assert bad not in raw, bad
    cfg = Config()  # what formgrader's SubmissionHandler renders, as it renders it
    cfg.HTMLExporter.template_name = "formgrade"
    cfg.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {"assignment_id": LAB, "notebook_id": LAB, "submission_id": "x", "index": 0, "total": 1,
                 "base_url": "", "student": "heidi", "last_name": "", "first_name": "", "notebook_path": ""}
    page, _ = HTMLExporter(config=cfg).from_filename(str(autograded), resources=resources)
    assert "XSSMARK" in page and active_content(page) == [], active_content(page)


def test_flags_name_the_cell_in_the_summary(graded):
    r = graded["results"]["heidi"]
    flags = "\n".join(r["flags"])
    for expected in ("prints a verdict-like line", "cell predict_teacher_tail_f1: prediction run (execution 12) "
                     "after its observation", "prediction edited after its observation",
                     "cell lab_kd_loss: hidden cell's nbgrader points changed from 6 to 60",
                     "kernelspec name changed from 'python3' to 'evil'"):
        assert expected in flags, (expected, flags)
        assert expected in graded["summary"], expected
    report = subprocess.run([sys.executable, "-m", "autograder", "report", "--grades", str(graded["out"])],
                            capture_output=True, text=True, cwd=REPO, timeout=300)
    assert report.returncode == 0, report.stderr[-2000:]
    text = (graded["out"] / "report" / "report.md").read_text()
    assert "heidi" in text and "prediction edited after its observation" in text


def test_a_duplicated_grade_id_is_named_with_its_cells(graded):
    r = graded["results"]["judy"]
    assert any("is used by 2 cells" in i for i in r["issues"]), r["issues"]
    assert "is used by 2 cells" in graded["summary"]


def test_similarity_section_lists_the_copies(graded):
    assert "Similarity of graded functions" in graded["summary"]
    assert (graded["out"] / "similarity" / "index.html").is_file()
    assert "alice / carol" in graded["summary"] or "aaron / alice" in graded["summary"]


def test_as_an_ordinary_user_links_and_a_link_planting_kernel_change_nothing():
    """The same attacks (aaron's kernel, carol's links) graded as `nobody`, as tests/test_grading_as_user.py
    runs the pipeline: root ignores file modes, an ordinary user does not."""
    from test_grading_as_user import USER, _runs
    if os.geteuid() != 0 or shutil.which("runuser") is None or shutil.which("bwrap") is None:
        pytest.skip("needs root, runuser and bubblewrap to grade as nobody")
    if not _runs(["runuser", "-u", USER, "--"], "test", "-r", str(REPO / "autograder" / "grading.py")):
        pytest.skip(f"{USER} cannot read the checkout {REPO}")
    base = Path(tempfile.mkdtemp(prefix="ag_hostile_as_user_"))  # pytest's tmp is root's, mode 700
    os.chmod(base, 0o755)
    try:
        _grade_as_nobody(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _grade_as_nobody(base: Path) -> None:
    from test_grading_as_user import USER, as_user, user_prefix
    work, sub, out, home = base / "work", base / "submitted", base / "out", base / "home"
    generate(work, REPO / "notebooks", ASSIGNMENTS)
    build_class(work, sub)
    for who in os.listdir(sub):  # aaron and carol only: the others are covered above
        if who not in ("aaron", "carol"):
            p = sub / who
            p.unlink() if p.is_symlink() else shutil.rmtree(p)
    home.mkdir()
    prefix = user_prefix(base)
    subprocess.run(["chown", "-R", "-h", f"{USER}:", str(base)], check=True)
    mode_before = (work / "gradebook.db").stat().st_mode
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "HF_HUB_OFFLINE": "1",
           "MPLBACKEND": "Agg", "TMPDIR": "/tmp"}
    proc = as_user(prefix, sys.executable, "-m", "autograder", "grade", str(sub), "--work", str(work), "--out",
                   str(out), "--timeout", "60", "--workers", "2", env=env, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = {r["student"]: r for r in json.loads((out / "grades.json").read_text())}
    assert _points(results["aaron"]) == FULL and _points(results["carol"]) == FULL, results
    assert any("gb.db (a symlink to" in i for i in results["carol"]["issues"])
    db = work / "gradebook.db"
    assert not db.is_symlink() and db.stat().st_mode == mode_before  # not made read-only by nbgrader's chmod
    assert [p for p in out.rglob("*") if p.is_symlink()] == []
