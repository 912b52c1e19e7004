"""What the grading sandbox copies into a student's kernel, and the function host's library, hold no answer.

``autograder.kernel.kernel_files`` lists the files the sandbox copies into a kernel (the
reporter and what it needs); ``autograder.host.client.host_files`` plus the grading
build of helpers are the function host's library.  A student's code can read all of
them, so none may hold the answer key's content (which statements are the real bugs,
the hints that name them), an expected value, or a reference implementation's body;
the kernel side imports nothing of the driver side, even inside functions; and the
copy alone must be enough for the reporter to run.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import checks
from autograder.host import grading_build
from autograder.host.client import host_files
from autograder.kernel import kernel_files
from autograder.kernel.wire import MARKER


@pytest.fixture(scope="module", params=["kernel", "host"])
def kernel_copy(request, tmp_path_factory) -> Path:
    """The kernel's library folder as the sandbox builds it, and the function host's."""
    lib = tmp_path_factory.mktemp(request.param)
    (lib / "autograder").mkdir()
    (lib / "autograder" / "__init__.py").write_text('"""The kernel side only."""\n')
    for src, dest in (kernel_files() if request.param == "kernel" else host_files()):
        (lib / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, lib / dest)
    if request.param == "host":
        grading_build.build(lib)
    return lib


def _texts(lib: Path) -> dict[str, str]:
    return {str(p.relative_to(lib)): p.read_text() for p in lib.rglob("*") if p.is_file()}


def test_the_copy_is_the_kernel_or_host_side_only(kernel_copy):
    names = sorted(_texts(kernel_copy))
    assert "autograder/kernel/encoding.py" in names
    assert all(re.fullmatch(r"(autograder/(__init__|(kernel|host)/\w+)|helpers/\w+)\.py", n) for n in names), names
    assert not any(n.startswith("autograder/checks") for n in names)
    for secret in ("answer_key.json", "lab.json", "homework.json", "build_expected.py", "hidden_tests.py",
                   "grading.py"):
        assert not any(n.split("/")[-1] == secret for n in names), secret


def test_the_copy_holds_no_answer_key_content(kernel_copy):
    key = checks.load_answer_key()
    real = set(key["lab_bug_choices"]["bugs"])
    non_bugs = set(key["lab_bug_choices"]["non_bugs"])
    bugs = key["colleague_bugs"]
    hints = [*bugs["fix_hints"].values(), *bugs["hunt_hints"].values(), *key["lab_bug_choices"]["notes"].values()]
    for name, text in _texts(kernel_copy).items():
        ids = {sid for sid in real | non_bugs if re.search(rf"\b{sid}\b", text)}
        assert not real <= ids, f"{name} names every real bug statement {sorted(real)}"
        assert not non_bugs <= ids, f"{name} names every correct statement {sorted(non_bugs)}"
        for hint in hints:
            assert hint not in text, f"{name} holds an answer-key hint: {hint!r}"
        assert "colleague_bugs" not in text or "load_answer_key" in text, name  # read in the driver only


def test_the_copy_holds_no_expected_value(kernel_copy):
    texts = "\n".join(_texts(kernel_copy).values())
    lab, hw = checks.load_expected("week6_lab"), checks.load_expected("week6_homework")
    samples = [*lab["lab_per_tier_f1"]["reference"]["result"]["value"].values(),
               lab["lab_kd_loss"]["reference"]["grid"][5]["value"],
               hw["hw_fit_temperature"]["reference"]["result"]["value"],
               hw["hw_bootstrap_ci"]["reference"]["result"]["value"]["ci_low"]]
    for value in samples:
        assert repr(value) not in texts and f"{value:.6g}" not in texts, value


def test_the_kernel_side_imports_nothing_of_the_driver_side():
    """Every import in the kernel's modules, at any depth, stays inside autograder.kernel (or the libraries)."""
    import ast
    for src, _ in kernel_files():
        for node in ast.walk(ast.parse(src.read_text())):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                assert node.level <= 1 and not (node.level == 0 and mod.startswith("autograder")) or \
                    mod.startswith("autograder.kernel"), (src.name, mod, node.level)
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("autograder") for a in node.names), (src.name, ast.unparse(node))


def test_the_reporter_runs_from_the_kernel_copy_alone(tmp_path_factory, tmp_path):
    """Imported from the copy (not the checkout), the reporter prints one line and loads no driver module."""
    lib = tmp_path_factory.mktemp("kernel_only")
    (lib / "autograder").mkdir()
    (lib / "autograder" / "__init__.py").write_text('"""The kernel side only."""\n')
    for src, dest in kernel_files():
        (lib / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, lib / dest)
    code = ("import sys, autograder.kernel.reporter as r\n"
            "assert r.__file__.startswith(sys.argv[1]), r.__file__\n"
            "chosen_bugs = {'S2', 'S5'}\n"
            "r.report('lab_bug_choices', globals(), 'chosen_bugs', 'not_defined')\n"
            "driver = [m for m in sys.modules if m.startswith('autograder') and not m.startswith('autograder.kernel')"
            " and m != 'autograder']\n"
            "assert not driver, driver\n")
    env = {**os.environ, "PYTHONPATH": str(lib)}
    out = subprocess.run([sys.executable, "-c", code, str(lib)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [x for x in out.stdout.splitlines() if x.startswith(MARKER)]
    assert len(lines) == 1
    payload = json.loads(lines[0][len(MARKER):])
    assert payload["values"] == {"chosen_bugs": ["S2", "S5"]} and payload["missing"] == ["not_defined"]
