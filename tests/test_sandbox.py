"""The grading kernel's sandbox (autograder/sandbox.py), driven the way nbgrader's autograde drives it:
GuardedExecute with the configuration ``apply(..., sandbox=...)`` builds.  One kernel per test; no
nbgrader pipeline here (tests/test_sandbox_grading.py grades hostile submissions end to end)."""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook
from procinfo import cmdline, environ
from traitlets.config import Config

from autograder import bwrap, sandbox
from autograder.nbgrader_config import REPO, apply

try:
    bwrap.require_bwrap()
    HAVE_BWRAP = True
except bwrap.SandboxUnavailable as exc:  # pragma: no cover - CI installs bubblewrap
    HAVE_BWRAP, WHY = False, str(exc)

needs_bwrap = pytest.mark.skipif(not HAVE_BWRAP, reason="bubblewrap unusable here" if HAVE_BWRAP else WHY)


def run_cells(tmp_path, cells, limits=None, timeout=30):
    """Execute ``cells`` in a sandboxed kernel whose cwd is tmp_path/sub; returns (outputs per cell, nb, work).
    The kernel's own folder (sockets, probe copy, home) is made under tmp_path/run and must be gone after."""
    from autograder.preprocessors.execute import GuardedExecute
    work, run = tmp_path / "work", tmp_path / "run"
    work.mkdir(exist_ok=True)
    run.mkdir(exist_ok=True)
    c = apply(Config(), work=work, timeout=timeout, sandbox={**(limits or {}), "run_root": str(run)})
    cwd = tmp_path / "sub"
    cwd.mkdir(exist_ok=True)
    nb = new_notebook(cells=[new_code_cell(s) for s in cells])
    ep = GuardedExecute(config=c)
    nb, _ = ep.preprocess(nb, {"metadata": {"path": str(cwd)}})
    assert list(run.iterdir()) == [], "the kernel's folder was left behind"
    outs = []
    for cell in nb.cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        errs = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs if o.get("output_type") == "error"]
        outs.append((text, errs))
    return outs, nb, work


def test_apply_routes_autograde_kernels_into_the_sandbox(tmp_path):
    c = apply(Config(), work=tmp_path, sandbox={"memory_mb": 1024, "max_processes": 16})
    assert c.GuardedExecute.sandbox_kernel_manager_class is sandbox.SandboxKernelManager
    assert c.SandboxKernelManager.memory_mb == 1024 and c.SandboxKernelManager.max_processes == 16
    assert c.SandboxKernelManager.report_path == str(tmp_path.resolve() / sandbox.REPORT_NAME)
    off = apply(Config(), work=tmp_path, sandbox=False)
    assert "sandbox_kernel_manager_class" not in off.GuardedExecute
    with pytest.raises(ValueError, match="memory_gb"):
        apply(Config(), work=tmp_path, sandbox={"memory_gb": 1})


def test_missing_bwrap_names_the_package(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(bwrap.SandboxUnavailable, match="apt-get install bubblewrap"):
        bwrap.require_bwrap()


def test_kernel_env_drops_the_instructors_variables(tmp_path):
    env = bwrap.kernel_env({"PYTHONPATH": str(REPO), "HF_TOKEN": "hf_secret", "HOME": "/home/teacher",
                            "MPLBACKEND": "Agg", "LC_ALL": "C.UTF-8"},
                           lib_dir=tmp_path / "lib", home_dir=tmp_path / "home", ipython_dir=tmp_path / "ipy")
    assert env["PYTHONPATH"] == str(tmp_path / "lib") and env["HOME"] == str(tmp_path / "home")
    assert "HF_TOKEN" not in env and env["MPLBACKEND"] == "Agg" and env["LC_ALL"] == "C.UTF-8"
    assert env["PYTHONSAFEPATH"] == "1"  # no cwd on sys.path: a shipped helpers/ folder cannot shadow the package


@needs_bwrap
def test_kernel_sees_its_folder_the_environment_and_the_reporter_only(tmp_path):
    other = tmp_path / "other_student"
    other.mkdir()
    (other / "week6_lab.ipynb").write_text("another student's work")
    secrets = [REPO / "autograder" / "answer_key.json", REPO / "autograder" / "expected",
               REPO / "notebooks" / "week6_lab" / "week6_lab.ipynb", REPO / "autograder" / "hidden_tests.py",
               other / "week6_lab.ipynb", tmp_path / "work", Path.home() / ".bash_history"]
    allowed = bwrap.python_dirs() + bwrap.package_dirs()
    probe = ["import os, sys, json",
             f"print(json.dumps({{p: os.path.exists(p) for p in {[str(p) for p in secrets]!r}}}))",
             "import autograder, autograder.kernel.reporter\n"
             "print(json.dumps({'probe': sorted(os.listdir(os.path.dirname(autograder.__file__))),"
             " 'kernel': sorted(f for f in os.listdir(os.path.dirname(autograder.kernel.__file__))"
             "                  if f.endswith('.py')),"
             " 'cwd': os.getcwd(), 'path': sys.path}))",
             "open('mine.txt', 'w').write('ok'); print(open('mine.txt').read())",
             # the instructor's home and checkout hold nothing but the (read-only) environment
             f"found = []\nfor top in ({str(Path.home())!r}, {str(REPO)!r}):\n"
             f"    for d, dirs, files in os.walk(top):\n"
             f"        dirs[:] = [x for x in dirs if os.path.join(d, x) not in {allowed!r}]\n"
             f"        found += [os.path.join(d, f) for f in files if os.path.join(d, f) not in {allowed!r}]\n"
             f"print(json.dumps(found))",
             f"open({str(REPO / 'escape.txt')!r}, 'w').write('x')",
             "import helpers.kd, torch, numpy; print('imports ok')"]
    outs, _, _ = run_cells(tmp_path, probe)
    seen = json.loads(outs[1][0])
    assert seen == {str(p): False for p in secrets}, seen
    info = json.loads(outs[2][0])
    # the kernel side only (autograder.kernel.kernel_files): nothing else of the autograder
    assert info["probe"] == ["__init__.py", "kernel"]
    assert info["kernel"] == ["__init__.py", "encoding.py", "pristine.py", "reporter.py", "wire.py"]
    # its cwd is an empty scratch folder of its own, never the folder nbgrader reads and writes
    assert Path(info["cwd"]).name.startswith("ag-cwd-") and info["cwd"] != str((tmp_path / "sub").resolve())
    assert not any(p.rstrip("/") == str(REPO) for p in info["path"]), info["path"]
    assert outs[3][0].strip() == "ok" and not (tmp_path / "sub" / "mine.txt").exists()
    assert json.loads(outs[4][0]) == []
    # Nothing the kernel writes reaches the checkout.  Where the checkout lives under /tmp (a CI
    # clone, say), the path is inside the kernel's private /tmp and the write lands there instead.
    assert not (REPO / "escape.txt").exists()
    if not REPO.resolve().is_relative_to("/tmp"):
        assert outs[5][1] and "Read-only file system" in outs[5][1][0]
    assert outs[6] == ("imports ok\n", [])


@needs_bwrap
def test_kernel_has_no_network(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    cell = ("import socket, time\n"
            f"for host, port in (('127.0.0.1', {port}), ('192.0.2.1', 80)):\n"  # 192.0.2.0/24: documentation only
            "    t = time.monotonic()\n"
            "    try:\n"
            "        socket.create_connection((host, port), timeout=5).sendall(b'hello')\n"
            "        print(host, 'CONNECTED')\n"
            "    except OSError as e:\n"
            "        print(host, 'failed', type(e).__name__, round(time.monotonic() - t, 2))\n")
    try:
        outs, _, _ = run_cells(tmp_path, [cell])
    finally:
        server.close()
    lines = outs[0][0].splitlines()
    assert len(lines) == 2 and all(" failed " in line for line in lines), lines
    assert all(float(line.split()[-1]) < 2 for line in lines), lines  # refused at once, no timeout
    assert not accepted


@needs_bwrap
def test_fork_bomb_and_memory_hog_are_stopped_and_reported(tmp_path):
    cells = ["import numpy as np\nx = np.ones(1 << 30)  # 8 GiB",
             "print('still alive')",
             "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
             "print('never')"]
    outs, nb, work = run_cells(tmp_path, cells, limits={"memory_mb": 2048, "max_processes": 16}, timeout=60)
    assert outs[0][1] and outs[0][1][0].startswith("MemoryError"), outs[0]
    assert outs[1] == ("still alive\n", [])
    assert any("process limit (16 processes) exceeded" in e for e in outs[2][1]), outs[2]
    assert outs[3][1] and outs[3][1][0].startswith("AutograderNotRun"), outs[3]
    report = sandbox.read_report(work / sandbox.REPORT_NAME, nb, memory_mb=2048)
    assert any("process limit (16 processes)" in r for r in report), report
    assert any("memory limit (2048 MiB) exceeded in cell #0" in r for r in report), report
    # Nothing of the bomb is left running.  Killed processes leave /proc a moment after the kill
    # (sooner on an idle machine), so allow them a few seconds to be reaped before calling them leftovers.
    def leftovers():
        kernels = [p for p in os.listdir("/proc")
                   if p.isdigit() and cmdline(p).split("-m ")[-1].startswith("ipykernel")]
        return [p for p in kernels if str(tmp_path) in environ(p)]

    deadline = time.monotonic() + 10
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not leftovers()


@needs_bwrap
def test_the_kernel_is_killed_after_the_last_cell_with_everything_it_started(tmp_path):
    """The course's kernels are stopped at once (``shutdown_kernel = "immediate"``), not asked to exit (which
    waited for ipykernel's shutdown and the student's atexit handlers); a process the notebook left
    running goes with the kernel."""
    c = apply(Config(), work=tmp_path, sandbox=True)
    assert c.GuardedExecute.shutdown_kernel == "immediate"
    cells = ["import atexit, subprocess, time\n"
             "atexit.register(time.sleep, 30)\n"
             "child = subprocess.Popen(['sleep', '300'])\nprint('started', child.pid)"]
    outs, _, _ = run_cells(tmp_path, cells)
    assert outs[0][0].startswith("started"), outs

    def leftovers():
        return [p for p in os.listdir("/proc") if p.isdigit() and str(tmp_path) in environ(p)]
    deadline = time.monotonic() + 10
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not leftovers(), [cmdline(p) for p in leftovers()]
