"""What is in the submitted folder, before any student code runs.

``discover`` walks nbgrader's submitted layout (``<student>/<assignment>/<assignment>.ipynb``) and
sorts each folder into a ``Submission`` to grade or a ``Problem`` that cannot be graded (unknown
assignment, no or several notebooks, corrupt JSON).  ``hidden_cell_changes`` and ``static_flags``
read a submission's notebook without running it: what the student did to the hidden-test cells
(nbgrader restores them; the student is told), and what in their own code deserves an
instructor's look.
"""
from __future__ import annotations

import ast
from pathlib import Path

from nbformat import NotebookNode

from . import checks
from .judge import cells_by_gid, checks_of
from .kernel.wire import MARKER
from .nbgrader_config import ASSIGNMENTS
from .results import Problem, Submission

# Static source inspection: names whose import or use in a student's code deserves an instructor's look.
# (The course's reference implementations in helpers, which the students are asked to write themselves.)
REFERENCE_NAMES = checks.reference_names()  # every check's forbidden references (the registry)


def hidden_cell_changes(submitted: NotebookNode, release: NotebookNode, assignment: str) -> list[str]:
    """Issues with the hidden-test cells of a submission, compared with the release version."""
    sub, rel = cells_by_gid(submitted), cells_by_gid(release)
    issues = []
    for cid in checks_of(assignment):
        if cid not in rel:
            continue
        if cid not in sub:
            issues.append(f"deleted test cell {cid} (restored by nbgrader and graded)")
        elif sub[cid].source.strip() != rel[cid].source.strip():
            issues.append(f"edited test cell {cid} (restored by nbgrader and graded)")
    return issues


def static_flags(nb: NotebookNode) -> list[str]:
    """Instructor flags from the student's own code: reference helpers imported, the autograder touched."""
    flags = []
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if c.cell_type != "code" or (meta.get("locked") and not meta.get("solution")):
            continue
        src = c.source
        if "autograder" in src or MARKER in src:
            flags.append(f"source mentions the autograder (cell {meta.get('grade_id', '?')})")
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers"):
                hit = sorted(a.name for a in node.names if a.name in REFERENCE_NAMES)
                if hit:
                    flags.append(f"imports {', '.join(hit)} from {node.module} (cell {meta.get('grade_id', '?')})")
    return sorted(set(flags))


def discover(submitted: Path) -> tuple[list[Submission], list[Problem]]:
    """One Submission per student/assignment folder; a Problem for each that cannot be graded."""
    import nbformat
    found, problems = [], []
    for sdir in sorted(p for p in Path(submitted).iterdir() if p.is_dir() and not p.name.startswith(".")):
        for adir in sorted(p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            student, assignment = sdir.name, adir.name
            if assignment not in ASSIGNMENTS:
                problems.append(Problem(student, assignment,
                                        [f"unknown assignment folder {adir.name!r}; expected one of {ASSIGNMENTS}"]))
                continue
            issues = []
            path = adir / f"{assignment}.ipynb"
            if not path.exists():
                others = sorted(adir.glob("*.ipynb"))
                if len(others) == 1:
                    issues.append(f"wrong file name: {others[0].name} (expected {path.name}); graded as {path.name}")
                    path = others[0]
                else:
                    names = ", ".join(p.name for p in others) or "no notebook"
                    problems.append(Problem(student, assignment,
                                            [f"wrong file name: found {names}, expected {path.name}"]))
                    continue
            try:
                nbformat.read(path, as_version=4)
            except Exception as exc:  # noqa: BLE001 - corrupt JSON or an invalid notebook
                problems.append(Problem(student, assignment,
                                        issues + [f"corrupt notebook JSON ({path.name}): {str(exc)[:160]}"]))
                continue
            found.append(Submission(student, assignment, notebook=path, folder=adir, issues=issues))
    return found, problems
