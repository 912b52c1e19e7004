"""End to end: release both notebooks, generate the example submissions, grade them with the
real nbgrader pipeline (2 workers), and check every asserted check's points, the summary, the
flags, the sanitised feedback, the course gradebook, and that 1 worker gives the same grades.

Runtime: about 10 minutes on 2 cores (45 submissions, most 15-25 s each: the notebook in its
kernel, then the function host started and the expected values built for the drawn inputs;
plus two deliberate cell timeouts).  Everything is written under pytest's tmp_path.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest

from autograder import checks
from autograder.examples import make_examples as mk
from autograder.nbgrader_config import ASSIGNMENTS, REPO
from autograder.release import generate

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]
CELL_TIMEOUT = 15  # the slowest cell of the real notebooks takes ~2.5 s; two examples hang on purpose


def run_grade(sub, work, out, workers):
    env = {**os.environ, "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(sub), "--work", str(work),
                           "--out", str(out), "--workers", str(workers), "--timeout", str(CELL_TIMEOUT)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=2700)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {(r["student"], r["assignment"]): r for r in json.loads((out / "grades.json").read_text())}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    work, sub, out = tmp / "work", tmp / "submitted", tmp / "out"
    generate(work, REPO / "notebooks", ASSIGNMENTS)
    mk.make(work / "release", sub)
    return {"work": work, "sub": sub, "out": out, "results": run_grade(sub, work, out, workers=2), "tmp": tmp}


@pytest.mark.parametrize("name", list(mk.EXAMPLES))
def test_example_points(graded, name):
    assignment = mk.EXAMPLES[name][0]
    r = graded["results"][(name, assignment)]
    got = {cid: c["points"] for cid, c in r["checks"].items()}
    want = mk.expected_points(name)
    assert {cid: got[cid] for cid in want} == want, json.dumps(
        {cid: [p["name"] + ": " + p["message"][:160] for p in c["parts"] if not p["passed"]]
         for cid, c in r["checks"].items()}, indent=1) + "\n" + "\n".join(r["issues"])
    summary = (graded["out"] / "summary.txt").read_text()
    for words in mk.EXAMPLES[name][4]:
        block = summary.split(f"- {name}/{assignment}")[1] if f"- {name}/{assignment}" in summary else ""
        assert words in block, summary
    assert bool(r["flags"]) == mk.EXAMPLES[name][5] or name == "ex_hostile_allclose_forged", r["flags"]


def test_hostile_submission_is_flagged(graded):
    r = graded["results"][("ex_hostile_allclose_forged", "week6_lab")]
    assert any("outside a value check" in f for f in r["flags"]), r["flags"]
    r = graded["results"][("ex_calls_reference", "week6_lab")]
    assert any("reference_call:kd" in f for f in r["flags"]), r["flags"]
    r = graded["results"][("ex_unsolicited_frame", "week6_lab")]
    assert any("protocol_violation" in f for f in r["flags"]), r["flags"]
    r = graded["results"][("ex_rebinds_reporter", "week6_lab")]
    assert any("other result line" in f for f in r["flags"]), r["flags"]


def test_outputs_csv_gradebook_and_feedback(graded):
    out, work = graded["out"], graded["work"]
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(mk.EXAMPLES)
    sol = next(r for r in rows if r["student"] == "ex_solution")
    assert sol["total"] == sol["total_max"] == str(sum(v for k, v in checks.POINTS.items() if k.startswith("lab_")))
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}", "week6") as gb:
        assert gb.find_submission("week6_lab", "ex_solution").score >= 24
        assert gb.find_grade("lab_kd_loss", "week6_lab", "week6_lab", "ex_bug_alpha_swapped").score == 5
    exp = checks.load_expected("week6_lab")
    secrets_ = [repr(exp["lab_per_tier_ece"]["reference"]["edges"]["value"]["head"]),
                repr(exp["lab_kd_loss"]["reference"]["grid"][5]["value"])]
    # What students receive is HTML only; the executed notebooks (with hidden cells) stay with the instructor.
    assert {p.suffix for p in out.glob("feedback/**/*") if p.is_file()} == {".html"}
    assert sorted(out.glob("autograded/*/*/*.ipynb"))
    htmls = sorted(out.glob("feedback/*/*/*.html"))
    assert len(htmls) >= len(mk.EXAMPLES) - 2  # corrupt and never-executed submissions have none
    for html in htmls:
        text = html.read_text()
        assert "BEGIN HIDDEN TESTS" not in text and "reporter import" not in text, html
        assert not any(s in text for s in secrets_), html
    feedback = (out / "feedback/ex_solution/week6_lab/week6_lab.html").read_text()
    assert "Autograder: lab_kd_loss: 6 / 6 points" in feedback
    # One course secret in the work folder seeds every run (the one-worker regrade below relies on it).
    secret = work / "course_secret"
    assert secret.is_file() and secret.stat().st_mode & 0o077 == 0


def test_one_worker_gives_the_same_grades(graded):
    tmp = graded["tmp"]
    names = ["ex_bug_missing_T2", "hw_blank"]
    sub = tmp / "subset"
    for n in names:
        a = mk.EXAMPLES[n][0]
        (sub / n).mkdir(parents=True)
        shutil.copytree(graded["sub"] / n / a, sub / n / a)  # a linked folder would be refused
    again = run_grade(sub, graded["work"], tmp / "out1", workers=1)
    for n in names:
        key = (n, mk.EXAMPLES[n][0])
        strip = lambda r: {c: (v["points"], [p["message"] for p in v["parts"]]) for c, v in r["checks"].items()}  # noqa: E731
        assert strip(again[key]) == strip(graded["results"][key])
