"""Grading as an ordinary user: when the suite runs as root (as CI does), grade the solution notebook
as `nobody` through `runuser` (sandboxed, as by default) and expect what an instructor needs: full
marks, the feedback HTML and the autograded notebook; then one student's regrade (``--student``).
Root ignores file modes, so a write into a file
nbgrader made read-only, or a path only root may use, shows up here and nowhere else.

Runtime: about a minute on 2 cores (two grading runs of one submission).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import checks
from autograder.examples import make_examples as mk
from autograder.nbgrader_config import ASSIGNMENTS, REPO
from autograder.release import generate

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
USER = "nobody"


def _runs(prefix, *cmd):
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120).returncode == 0


def user_prefix(base_dir):
    """The command prefix that runs a command as `nobody` with this interpreter.  pytest's Python may
    live under root's home (pyenv; /root is mode 700), which nobody cannot enter: then, in a private
    mount namespace, the closed folder is covered by an empty tmpfs and only the interpreter's own
    folder is bound back at its path (nobody sees nothing else of root's home)."""
    direct = ["runuser", "-u", USER, "--"]
    probe = [sys.executable, "-c", "import nbgrader, torch, helpers"]
    if _runs(direct, *probe):
        return direct
    base = Path(sys.base_prefix).resolve()
    closed = next((a for a in reversed(base.parents) if not _runs(direct, "test", "-x", str(a))), None)
    if closed is None or shutil.which("unshare") is None:
        pytest.skip(f"{USER} cannot run {sys.executable}")
    keep = base_dir / "interpreter"  # an empty mount point
    keep.mkdir(mode=0o755)
    script = (f'set -e; mount --bind "{base}" "{keep}"; mount -t tmpfs -o mode=755 tmpfs "{closed}"; '
              f'mkdir -p "{base}"; mount --bind "{keep}" "{base}"; exec runuser -u {USER} -- "$@"')
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh"]
    if not _runs(prefix, *probe):
        pytest.skip(f"{USER} cannot run {sys.executable} (the checkout or its venv is not readable by others, "
                    "or mount namespaces are not allowed here)")
    return prefix


def as_user(prefix, *cmd, env=None, cwd=REPO, timeout=500):
    return subprocess.run([*prefix, "env", "-i", *[f"{k}={v}" for k, v in (env or {}).items()], *cmd],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)


def test_solution_graded_as_nobody():
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to nobody; run as an ordinary user, every grading test is this test")
    if shutil.which("runuser") is None:
        pytest.skip("runuser (util-linux) is not installed")
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap); .ci/run installs it")
    if not _runs(["runuser", "-u", USER, "--"], "test", "-r", str(REPO / "autograder" / "grading.py")):
        pytest.skip(f"{USER} cannot read the checkout {REPO}")
    base = Path(tempfile.mkdtemp(prefix="ag_as_user_"))
    os.chmod(base, 0o755)
    try:
        work, sub, out, home = base / "work", base / "submitted", base / "out", base / "home"
        generate(work, REPO / "notebooks", ASSIGNMENTS)
        mk.make(work / "release", sub, names=["ex_solution"])
        home.mkdir()
        prefix = user_prefix(base)
        subprocess.run(["chown", "-R", f"{USER}:", str(base)], check=True)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg", "TMPDIR": "/tmp"}
        cmd = [sys.executable, "-m", "autograder", "grade", str(sub), "--work", str(work), "--out", str(out),
               "--timeout", "60"]
        proc = as_user(prefix, *cmd, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        r = json.loads((out / "grades.json").read_text())[0]
        assert r["status"] == "graded" and not r["issues"], (r["issues"], (out / "workers.log").read_text()[-4000:])
        assert sum(c["points"] for c in r["checks"].values()) == sum(
            v for k, v in checks.POINTS.items() if k.startswith("lab_")), r["checks"]
        html = out / "feedback" / "ex_solution" / "week6_lab" / "week6_lab.html"
        assert "Autograder: lab_kd_loss: 6 / 6 points" in html.read_text()
        assert (out / "autograded" / "ex_solution" / "week6_lab" / "week6_lab.ipynb").is_file()
        assert (work / "autograded" / "ex_solution" / "week6_lab" / "week6_lab.ipynb").is_file()
        assert "bubblewrap sandbox" in (out / "summary.txt").read_text()
        # A one-student regrade over the (read-only) outputs of the first run works too, and merges that
        # student's row into the class's outputs (the preflight kernel ran as nobody both times).
        proc = as_user(prefix, *cmd, "--student", "ex_solution", env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        rows = json.loads((out / "grades.json").read_text())
        assert [r["student"] for r in rows] == ["ex_solution"] and not rows[0]["issues"]
    finally:
        shutil.rmtree(base, ignore_errors=True)
