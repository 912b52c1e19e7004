"""`python -m autograder grade` with hostile submissions (autograder/examples: ex_hunts_files, ex_network,
ex_memory_hog, ex_fork_bomb) graded next to an honest one, sandboxed (the default): they find nothing,
gain nothing, are stopped and reported for themselves only.  Also: no bwrap means a refusal that names
the package, unless --unsandboxed, which the summary then says.

Runtime: about 2 minutes on 2 cores.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from procinfo import cmdline, environ

from autograder import checks
from autograder.examples import make_examples as mk
from autograder.examples import variants as V
from autograder.nbgrader_config import ASSIGNMENTS, REPO
from autograder.release import generate

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
HOSTILE = ["ex_hunts_files", "ex_network", "ex_memory_hog", "ex_fork_bomb"]
CELL_TIMEOUT = 20


def grade(sub, work, out, *extra, env=None, check=True):
    env = {**os.environ, "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(sub), "--work", str(work),
                           "--out", str(out), "--timeout", str(CELL_TIMEOUT), *extra],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=800)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


class KeyServer:
    """What a student hopes for: the answer key served on the grading machine's loopback."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.accepted = 0
        body = json.dumps({"bugs": sorted(json.loads((REPO / "autograder" / "answer_key.json").read_text())
                                          ["lab_bug_choices"]["bugs"])}).encode()
        self.reply = b"HTTP/1.0 200 OK\r\n\r\n" + body
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                conn.recv(1024)
                conn.sendall(self.reply)

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap is not installed (apt-get install bubblewrap); .ci/run installs it")
    tmp = tmp_path_factory.mktemp("sandboxed")
    work, sub, out = tmp / "work", tmp / "submitted", tmp / "out"
    generate(work, REPO / "notebooks", ASSIGNMENTS)
    mk.make(work / "release", sub, names=["ex_solution", *HOSTILE])
    try:
        server = KeyServer(V.NET_PORT)
    except OSError:  # the port is taken: the sandbox must still refuse, but the server part is not shown
        server = None
    try:
        proc = grade(sub, work, out, "--workers", "2")
    finally:
        if server:
            server.close()
    results = {r["student"]: r for r in json.loads((out / "grades.json").read_text())}
    return {"work": work, "sub": sub, "out": out, "results": results, "server": server, "stdout": proc.stdout,
            "tmp": tmp}


def _answer_output(out, student):
    nb = nbformat.read(out / "autograded" / student / "week6_lab" / "week6_lab.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "lab_bug_choices_answer")
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


@pytest.mark.parametrize("name", ["ex_solution", *HOSTILE])
def test_points(graded, name):
    r = graded["results"][name]
    got = {cid: c["points"] for cid, c in r["checks"].items()}
    want = mk.expected_points(name)
    assert {cid: got[cid] for cid in want} == want, r["issues"]


def test_the_filesystem_hunt_finds_nothing_of_the_course(graded):
    text = _answer_output(graded["out"], "ex_hunts_files")
    found = json.loads(text.split("HUNT FOUND:")[1].strip().splitlines()[0])
    assert found == [], found
    assert graded["results"]["ex_hunts_files"]["checks"]["lab_bug_choices"]["points"] == 0
    key = json.loads((REPO / "autograder" / "answer_key.json").read_text())
    exp = checks.load_expected("week6_lab")
    secrets = [json.dumps(key["lab_bug_choices"]["bugs"])[1:-1].split(",")[0],  # '"S1": "softmax_input"'
               'chosen_bugs = {"S1", "S3", "S5"}', "### BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "SQLite format 3",
               repr(exp["lab_kd_loss"]["reference"]["grid"][5]["value"])]
    html = (graded["out"] / "feedback" / "ex_hunts_files" / "week6_lab" / "week6_lab.html").read_text()
    assert "HUNT FOUND" in html  # the student's own output is in the feedback; nothing of the course is
    leaked = [s for s in secrets if s in text or s in html]
    assert not leaked, leaked


def test_the_network_is_unreachable(graded):
    text = _answer_output(graded["out"], "ex_network")
    tries = json.loads(text.split("NET:")[1].strip().splitlines()[0])
    assert len(tries) == 2 and not [t for t in tries if t.endswith("reached")], tries
    if graded["server"] is not None:
        assert graded["server"].accepted == 0
    assert graded["results"]["ex_network"]["checks"]["lab_bug_choices"]["points"] == 0


def test_limits_are_reported_for_that_submission_only(graded):
    res = graded["results"]
    assert any("memory limit (4096 MiB) exceeded" in i for i in res["ex_memory_hog"]["issues"]), res["ex_memory_hog"]
    assert any("process limit (64 processes) exceeded" in i for i in res["ex_fork_bomb"]["issues"]), res["ex_fork_bomb"]
    for name in ("ex_solution", "ex_hunts_files", "ex_network"):
        assert not [i for i in res[name]["issues"] if "sandbox" in i], res[name]["issues"]
    sol = res["ex_solution"]
    assert sum(c["points"] for c in sol["checks"].values()) == sum(
        v for k, v in checks.POINTS.items() if k.startswith("lab_"))
    summary = (graded["out"] / "summary.txt").read_text()
    assert "bubblewrap sandbox" in summary
    assert "process limit" in summary.split("- ex_fork_bomb/week6_lab")[1].split("\n- ")[0]
    assert "memory limit" in summary.split("- ex_memory_hog/week6_lab")[1].split("\n- ")[0]
    leftovers = subprocess.run(["pgrep", "-f", "ipykernel_launcher"], capture_output=True, text=True).stdout.split()
    # A sandboxed kernel's environment is cleared: its command line (a kernel folder "agk...", this
    # checkout's interpreter) says whose it is; other checkouts on the machine may be grading too.
    mine = [p for p in leftovers
            if str(graded["tmp"]) in environ(p) or ("agk" in cmdline(p) and sys.prefix in cmdline(p))]
    assert not mine, mine


def test_without_bwrap_grading_refuses_unless_unsandboxed(graded, tmp_path):
    one = tmp_path / "one"
    shutil.copytree(graded["sub"] / "ex_solution", one / "ex_solution")
    no_bwrap = {"PATH": str(Path(sys.executable).parent)}  # the venv's tools, and no /usr/bin/bwrap
    proc = grade(one, graded["work"], tmp_path / "out", env=no_bwrap, check=False)
    assert proc.returncode != 0
    assert "apt-get install bubblewrap" in proc.stderr + proc.stdout and "--unsandboxed" in proc.stderr + proc.stdout
    assert not (tmp_path / "out" / "grades.csv").exists()
    grade(one, graded["work"], tmp_path / "out", "--unsandboxed", env=no_bwrap)
    summary = (tmp_path / "out" / "summary.txt").read_text()
    assert "UNSANDBOXED" in summary
    r = json.loads((tmp_path / "out" / "grades.json").read_text())[0]
    assert sum(c["points"] for c in r["checks"].values()) == sum(
        v for k, v in checks.POINTS.items() if k.startswith("lab_"))
