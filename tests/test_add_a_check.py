"""docs/CONTRACTS.md's "Adding a check" is complete: followed once, in a temporary copy of the repository.

The steps: one check module in ``autograder/checks/`` and its cells in one notebook source, then
``make checks`` (the notebooks, then the expected values).  The example check (adaptive ECE,
``tests/walkthrough/``) then has its cell, its points and its column in registry order, and its judge
gives a correct implementation full marks and a wrong one none.  Nothing of the checkout changes.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WALKTHROUGH = Path(__file__).resolve().parent / "walkthrough"
COPIED = ["autograder", "helpers", "notebooks", "requirements", "Makefile", "pyproject.toml", "data_manifest.yaml"]
CHECK_ID = "lab_adaptive_ece"

# Run inside the copy: the student's answer from the rebuilt notebook, and a wrong one (equal-width bins),
# through the function host (each cell alone), the probe (the default seed's inputs) and the judge against the
# rebuilt expected values.
GRADE = r'''
import json, sys
import nbformat
from autograder import checks
from autograder.checks.runner import Remote, collect
from autograder.host.client import FunctionHost
from autograder.hidden_tests import reference_flags

nb = nbformat.read("notebooks/week6_lab/week6_lab.ipynb", as_version=4)
answer = next(c.source for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == "lab_adaptive_ece_answer")
equal_width = """
def adaptive_ece(probs, labels, n_bins=10):
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    b = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    return float(sum((b == i).mean() * abs(correct[b == i].mean() - conf[b == i].mean())
                     for i in range(n_bins) if (b == i).any()))
"""
borrowed = """
import helpers.metrics as hm
def adaptive_ece(probs, labels, n_bins=10):
    return hm.adaptive_ece(probs, labels, n_bins)
"""
expected = checks.load_expected("week6_lab")
check = checks.BY_ID[sys.argv[1]]
out = {"registry": [c.id for c in checks.REGISTRY], "cell_points": [
    c.metadata["nbgrader"].get("points") for c in nb.cells if c.metadata["nbgrader"]["grade_id"] == sys.argv[1]]}
host = FunctionHost(sandbox=False, call_timeout=60)  # the graded cell alone, in the function host
try:
    for name, source in (("right", answer), ("wrong", equal_width), ("borrowed", borrowed)):
        host.add_cell(name, source)
        data, flags = collect(check, {"adaptive_ece": Remote(host, name, "adaptive_ece", source)})
        flags += reference_flags(check, data)
        verdict = checks.verdict_of(sys.argv[1], {"data": data, "flags": flags}, expected)
        out[name] = [verdict.points, verdict.max, [p.message for p in verdict.parts], list(verdict.flags)]
finally:
    host.close()
print(json.dumps(out))
'''


def copy_repository(dest: Path) -> Path:
    """The files the steps touch and the commands read, mtimes kept (make must not think .venv is stale)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore, copy_function=shutil.copy2)
        else:
            shutil.copy2(src, dest / name)
    return dest


def checkout_state() -> dict[str, str]:
    """What the steps would write if they ran in the checkout by mistake."""
    files = [ROOT / "helpers" / "reveal_text.b64", *sorted((ROOT / "autograder" / "expected").glob("*.json")),
             *sorted((ROOT / "notebooks").glob("week6_*/*.ipynb"))]
    return {str(f): f.read_text(encoding="utf-8") for f in files}


@pytest.mark.slow
def test_the_documented_steps_add_a_graded_check(tmp_path):
    before = checkout_state()
    repo = copy_repository(tmp_path / "repo")

    # Step 1: the check module.
    shutil.copy(WALKTHROUGH / "adaptive_ece.py", repo / "autograder" / "checks" / "adaptive_ece.py")
    # Step 2: its cells in one notebook source, after the cell of the check it should follow.
    cells = (WALKTHROUGH / "adaptive_ece_cells.py").read_text(encoding="utf-8")
    cells = cells[cells.index("# %%"):]
    source = repo / "notebooks" / "lab_2b_students.py"
    text = source.read_text(encoding="utf-8")
    marker = next(line for line in text.splitlines() if 'check="lab_per_tier_ece"' in line)
    source.write_text(text.replace(marker + "\n", marker + "\n\n" + cells + "\n", 1), encoding="utf-8")

    # Step 3: one command.  make must use this checkout's venv as it is, never rebuild it.
    venv = Path(sys.executable).parent.parent
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COURSE_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(repo)}
    plan = subprocess.run(["make", "-n", "checks", f"VENV={venv}"], cwd=repo, env=env, capture_output=True,
                          text=True, check=True).stdout
    assert "pip install" not in plan and "notebooks/make_notebooks.py" in plan and "build-expected" in plan, plan
    run = subprocess.run(["make", "-s", "checks", f"VENV={venv}"], cwd=repo, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    assert CHECK_ID in json.loads((repo / "autograder" / "expected" / "lab.json").read_text())

    graded = subprocess.run([sys.executable, "-c", GRADE, CHECK_ID], cwd=repo, env=env, capture_output=True,
                            text=True, timeout=300)
    assert graded.returncode == 0, graded.stderr
    out = json.loads(graded.stdout.strip().splitlines()[-1])
    lab = [cid for cid in out["registry"] if cid.startswith("lab_")]
    assert lab[lab.index("lab_per_tier_ece") + 1] == CHECK_ID  # its column follows the cell it was placed after
    assert out["cell_points"] == [2]
    assert out["right"][:2] == [2, 2], out["right"]
    assert out["wrong"][:2] == [0, 2] and "equal count" in out["wrong"][2][0], out["wrong"]
    # the course's own function stands in for nobody: flagged, no points
    points, _, _, flags = out["borrowed"]
    assert points == 0 and any(f.startswith("reference_call:adaptive_ece:") for f in flags), out["borrowed"]
    assert checkout_state() == before  # everything happened in the copy
