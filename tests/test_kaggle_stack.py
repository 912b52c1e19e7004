"""Installing the course helpers with the train extra leaves a Kaggle-like stack as it is.

`make test-kaggle` builds that stack in .venv-kaggle (requirements/kaggle.txt,
torch at the lock's version) and runs this test there; it asks pip (what students
use on Kaggle) to plan `pip install <wheel>[train]` and checks that the plan
installs none of the stack's packages in another version.  It needs the package
registry and .venv-kaggle; without the venv it is skipped.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KAGGLE_PY = ROOT / ".venv-kaggle" / "bin" / "python"
# What a Kaggle image preinstalls and other preinstalled packages depend on.
UNTOUCHED = ("transformers", "huggingface-hub", "tokenizers", "torch", "numpy", "pandas", "matplotlib",
             "scikit-learn", "accelerate", "scipy", "safetensors", "pyarrow")


def _pip_env():
    """This environment without PYTHONPATH: other tests put the checkout on it, and pip would then take
    the checkout's egg-info for an installed ecbs-week6-helpers."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _kaggle_pins():
    pins = {}
    for line in (ROOT / "requirements" / "kaggle.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_norm(name)] = version
    return pins


def test_every_untouched_package_is_part_of_the_kaggle_stack():
    assert set(UNTOUCHED) - {"torch"} <= set(_kaggle_pins())


def test_kaggle_versions_satisfy_every_declared_range():
    """Offline half of the promise: a range that excluded Kaggle's version would make pip replace it."""
    import tomllib
    from packaging.requirements import Requirement
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["train"]]
    pins = _kaggle_pins()
    bad = [f"{r} excludes Kaggle's {pins[_norm(r.name)]}" for r in reqs
           if _norm(r.name) in pins and not r.specifier.contains(pins[_norm(r.name)], prereleases=True)]
    assert not bad, bad


@pytest.mark.skipif(not KAGGLE_PY.exists(), reason="no .venv-kaggle: `make test-kaggle` builds it and runs this test")
def test_train_extra_changes_nothing_on_a_kaggle_stack(tmp_path):
    installed = json.loads(subprocess.run([str(KAGGLE_PY), "-m", "pip", "list", "--format=json"], check=True,
                                          capture_output=True, text=True, env=_pip_env()).stdout)
    versions = {_norm(p["name"]): p["version"] for p in installed}
    for name, pin in _kaggle_pins().items():
        assert versions.get(name) == pin, f".venv-kaggle has {name} {versions.get(name)}, kaggle.txt says {pin}"

    src = tmp_path / "src"  # built from a copy, so that nothing is left in the working tree
    shutil.copytree(ROOT / "helpers", src / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([str(KAGGLE_PY), "-m", "pip", "wheel", "--quiet", "--no-deps", str(src), "-w", str(tmp_path)],
                   check=True, capture_output=True, text=True, timeout=600, env=_pip_env())
    wheel = next(tmp_path.glob("ecbs_week6_helpers-*.whl"))
    report = tmp_path / "report.json"
    proc = subprocess.run([str(KAGGLE_PY), "-m", "pip", "install", "--dry-run", "--quiet", "--report", str(report),
                           f"{wheel}[train]"], capture_output=True, text=True, timeout=600, env=_pip_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    planned = {_norm(item["metadata"]["name"]): item["metadata"]["version"]
               for item in json.loads(report.read_text())["install"]}
    changed = {name: (versions.get(name), planned[name]) for name in UNTOUCHED
               if name in planned and planned[name] != versions.get(name)}
    assert not changed, f"pip install <wheel>[train] would change Kaggle's packages (installed, planned): {changed}"
    assert "ecbs-week6-helpers" in planned  # the plan is real: it installs the wheel itself
