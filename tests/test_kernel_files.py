"""What the grading sandbox copies into a student's kernel holds no answer.

``autograder.kernel.kernel_files`` lists the files the sandbox copies (the probe
entry, the kernel package, the check modules).  A student's code can read all of
them, so none may hold the answer key's content (which statements are the real
bugs, the hints that name them), an expected value, or an expected-value file;
and the copy alone must be enough for the probe to run.
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
from autograder.kernel import kernel_files
from autograder.kernel.wire import MARKER


@pytest.fixture(scope="module")
def kernel_copy(tmp_path_factory) -> Path:
    """The kernel's library folder, built as the sandbox builds it."""
    lib = tmp_path_factory.mktemp("lib")
    (lib / "autograder").mkdir()
    (lib / "autograder" / "__init__.py").write_text('"""The kernel side only."""\n')
    for src, dest in kernel_files():
        (lib / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, lib / dest)
    return lib


def _texts(lib: Path) -> dict[str, str]:
    return {str(p.relative_to(lib)): p.read_text() for p in lib.rglob("*") if p.is_file()}


def test_the_copy_is_the_kernel_side_only(kernel_copy):
    names = sorted(_texts(kernel_copy))
    assert "autograder/probe.py" in names and "autograder/kernel/pristine.py" in names
    assert all(re.fullmatch(r"autograder/(__init__|probe|(kernel|checks)/\w+)\.py", n) for n in names), names
    for secret in ("answer_key.json", "lab.json", "homework.json", "build_expected.py", "judge.py", "grading.py"):
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


def test_the_probe_runs_from_the_copy_alone(kernel_copy, tmp_path):
    """Imported from the copy (not the checkout), the probe emits a result line and loads no driver module."""
    code = ("import sys, autograder.probe as p\n"
            "assert p.__file__.startswith(sys.argv[1]), p.__file__\n"
            "p.probe('hw_reproducible_fraction', {'reproducible_fraction': lambda v, t, d: (v - t) / (v - d)})\n"
            "driver = [m for m in sys.modules if m.split('.')[0] == 'autograder' and m.startswith("
            "('autograder.judge', 'autograder.grading', 'autograder.build_expected', 'autograder.nbext'))]\n"
            "assert not driver, driver\n")
    env = {k: v for k, v in os.environ.items() if k != "AUTOGRADER_NONCE_FILE"}
    env["PYTHONPATH"] = str(kernel_copy)
    out = subprocess.run([sys.executable, "-c", code, str(kernel_copy)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith(MARKER))
    payload = json.loads(line[len(MARKER):])
    assert payload["check"] == "hw_reproducible_fraction" and all(c["ok"] for c in payload["data"]["cases"])

