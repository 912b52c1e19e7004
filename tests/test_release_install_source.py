"""`python -m autograder release` refuses notebooks whose first cell students could not install from."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import release
from helpers.notebook import setup_env

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("week6_lab", "week6_homework")
PUBLIC = "ecbs-week6-helpers @ https://course.uni.edu/ecbs_week6_helpers-0.1.0-py3-none-any.whl"


def source_with_spec(tmp_path, spec):
    """Copies of the committed source notebooks whose first cell installs from ``spec``."""
    for a in ASSIGNMENTS:
        (tmp_path / a).mkdir(parents=True)
        src = ROOT / "notebooks" / a / f"{a}.ipynb"
        nb = nbformat.read(src, as_version=4)
        cell = next(c for c in nb.cells if c.cell_type == "code" and "INSTALL_SPEC =" in c.source)
        cell.source = cell.source.replace(f'INSTALL_SPEC = "{setup_env.INSTALL_SPEC}"', f'INSTALL_SPEC = "{spec}"')
        assert f'INSTALL_SPEC = "{spec}"' in cell.source
        nbformat.write(nb, tmp_path / a / f"{a}.ipynb")
    return tmp_path


@pytest.mark.parametrize("spec, words", [
    (f"git+https://{setup_env.PRIVATE_REPOSITORY}.git@main", "private repository"),
    ("ecbs-week6-helpers @ https://REPLACE-ME.invalid/x.whl", "placeholder"),
])
def test_release_refuses_a_private_or_placeholder_install_source(tmp_path, capsys, spec, words):
    src = source_with_spec(tmp_path / "src", spec)
    status = release.main(["--source", str(src), "--work", str(tmp_path / "work"), "--allow-synthetic-reveals",
                           "--skip-reveals-check"])
    err = capsys.readouterr().err
    assert status == 1 and not (tmp_path / "work" / "release").exists()
    assert "release refused" in err and words in err
    assert "set INSTALL_SPEC in helpers/notebook/setup_env.py" in err and "--allow-private-install" in err


def test_a_published_install_source_passes_the_check(tmp_path):
    release.install_source_check(source_with_spec(tmp_path, PUBLIC), ASSIGNMENTS)


def test_the_committed_notebooks_follow_setup_env(tmp_path):
    """Whatever INSTALL_SPEC is, the release check judges the committed notebooks by it."""
    problem = setup_env.install_spec_problem(setup_env.INSTALL_SPEC)
    shutil.copytree(ROOT / "notebooks", tmp_path / "nb")
    if problem:
        with pytest.raises(release.ReleaseRefused, match="INSTALL_SPEC"):
            release.install_source_check(tmp_path / "nb", ASSIGNMENTS)
    else:
        release.install_source_check(tmp_path / "nb", ASSIGNMENTS)
