"""autograder/release.py: a release with synthetic reveals is refused unless allowed."""
from __future__ import annotations

import nbformat
import pytest


def test_release_refuses_synthetic_reveals(tmp_path):
    from autograder.release import ReleaseRefused, preflight
    for a in ("week6_lab", "week6_homework"):
        (tmp_path / a).mkdir()
        nb = nbformat.v4.new_notebook(metadata={"course": {"reveals_source": "synthetic"}})
        nbformat.write(nb, tmp_path / a / f"{a}.ipynb")
    with pytest.raises(ReleaseRefused, match="synthetic"):
        preflight(tmp_path, ("week6_lab", "week6_homework"), allow_synthetic=False, check_reveals=False)
    preflight(tmp_path, ("week6_lab", "week6_homework"), allow_synthetic=True, check_reveals=False)
