"""The three files that name our dependencies must agree.

pyproject.toml states ranges (students install next to Kaggle's packages);
requirements/lock.txt and environment.yml pin the exact versions we test.
A package added to one and forgotten in another is the failure this catches.
"""
from __future__ import annotations

import re
from pathlib import Path

import tomllib
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        reqs += [Requirement(r) for r in extra]
    return {_norm(r.name): r for r in reqs}


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, _, version = line.partition("==")
        assert version, f"{line!r} is not an exact pin (name==version)"
        pins[_norm(name)] = version
    return pins


def _lock_pins():
    return _pins((ROOT / "requirements" / "lock.txt").read_text().splitlines())


def _environment_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return _pins(pip_section)


def test_environment_yml_pins_the_same_packages_and_versions_as_the_lock():
    assert _environment_pins() == _lock_pins()


def test_lock_names_exactly_the_packages_pyproject_declares():
    declared = _pyproject_requirements()
    locked = _lock_pins()
    assert set(locked) == set(declared), (
        f"only in pyproject: {sorted(set(declared) - set(locked))}; "
        f"only in the lock: {sorted(set(locked) - set(declared))}")


def test_every_pin_satisfies_pyprojects_range():
    declared = _pyproject_requirements()
    bad = {name: (str(declared[name].specifier), version) for name, version in _lock_pins().items()
           if name in declared and not declared[name].specifier.contains(version, prereleases=True)}
    assert not bad, f"pins outside pyproject's ranges (range, pin): {bad}"


def test_environment_installs_this_project_with_every_extra():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    line = next(item for item in pip_section if item.startswith("-e ."))
    assert set(re.search(r"\[(.*)\]", line).group(1).split(",")) == extras
