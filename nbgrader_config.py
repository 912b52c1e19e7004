"""nbgrader reads this file from the current folder: run nbgrader's own tools from here.

It makes this checkout's ``autograder`` package importable (the ``nbgrader``
console script does not put the current folder on sys.path) and applies the
course configuration (``autograder/nbgrader_config.py``): the work folder
``nbgrader_work/`` (or ``$AUTOGRADER_WORK``), the course's gradebook, and the
autograde pipeline with the out-of-kernel judge.  For example:

    nbgrader db assignment list
    nbgrader autograde week6_lab
    nbgrader validate notebooks/week6_lab/week6_lab.ipynb
    make formgrader
"""
import sys
from pathlib import Path

_here = str(Path(__file__).resolve().parent)
if _here not in sys.path:
    sys.path.insert(0, _here)

from autograder.nbgrader_config import REPO, apply, default_work, guard_nbgrader_autograde  # noqa: E402

guard_nbgrader_autograde(sys.argv, default_work())  # a wrong-named or corrupt submission: point to `grade`
apply(get_config(), work=default_work(), root=REPO)  # noqa: F821
