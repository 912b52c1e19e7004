"""``python -m autograder release``: build the student versions with ``nbgrader generate_assignment``.

Refuses, with the reason, when a notebook's reveal numbers are stale
(``python -m helpers reveals --check``) or were rendered from synthetic data,
unless ``--allow-synthetic-reveals`` is given (demos and tests); and when the
notebooks' first cell would install the helpers from a placeholder or from the
instructor's private repository (``INSTALL_SPEC``), unless
``--allow-private-install`` is given (demos and tests).  ``--install-route`` names how students
install the helpers (``url``, ``index``, ``kaggle-dataset`` or ``auto``) and checks the setting
against it; ``kaggle-dataset`` needs only the wheel ``make student-wheel`` built.  It also refuses
when a rebuilt notebook would give a grade id the course gradebook already holds to a
different cell (``autograder.grade_ids``), unless ``--allow-changed-ids`` is given.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from .nbgrader_config import ASSIGNMENTS, REPO, apply, default_work, run_nbgrader


class ReleaseRefused(RuntimeError):
    """A notebook must not be released as it is (the message says why and what to run)."""


def _notebook(source: Path | str, assignment: str) -> Path:
    return Path(source) / assignment / f"{assignment}.ipynb"


def preflight(source: Path | str, assignments: Sequence[str], allow_synthetic: bool = False,
              check_reveals: bool = True) -> dict[str, str | None]:
    """Raise ReleaseRefused naming the reason when a notebook must not be released; returns each
    assignment's reveals source (``course.reveals_source`` in its metadata)."""
    sources = {}
    for a in assignments:
        path = _notebook(source, a)
        if not path.exists():
            raise ReleaseRefused(f"no source notebook at {path}")
        nb = nbformat.read(path, as_version=4)
        rs = nb.metadata.get("course", {}).get("reveals_source")
        sources[a] = rs
        if rs != "hub" and not allow_synthetic:
            raise ReleaseRefused(
                f"{path.name}: its reveal numbers were rendered from {rs!r} data, not the course's Hub "
                f"artifacts (metadata course.reveals_source). Render them with `python -m helpers reveals "
                f"--source hub`, or pass --allow-synthetic-reveals for a demo release.")
    if check_reveals and importlib.util.find_spec("helpers.tools.reveals") is not None:
        kinds = {rs for rs in sources.values()}
        src = kinds.pop() if len(kinds) == 1 and None not in kinds else "auto"
        paths = [str(_notebook(source, a)) for a in assignments]
        proc = subprocess.run([sys.executable, "-m", "helpers", "reveals", "--check", "--source", src, *paths],
                              capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            raise ReleaseRefused("reveal numbers are stale (python -m helpers reveals --check):\n"
                                 + (proc.stdout + proc.stderr).strip())
    return sources


# How students install the helpers (README, Instructors, step 2): a wheel at a public URL, a package on
# an index (PyPI or your own), or only the wheel attached to the notebook as a Kaggle dataset.
ROUTES = ("auto", "url", "index", "kaggle-dataset")
WHEEL_GLOB = "ecbs_week6_helpers-*.whl"


def route_problem(spec: str, route: str) -> str | None:
    """Why ``spec`` does not fit the install ``route`` (a sentence), or None.  ``auto`` takes any spec
    ``install_spec_problem`` allows; ``kaggle-dataset`` does not use the spec at all."""
    text = spec.strip()
    if route == "url" and not (text.startswith("https://") and text.split("?")[0].endswith(".whl")):
        return (f"--install-route url expects INSTALL_SPEC to be the wheel's public https URL ending in .whl "
                f"(e.g. https://example.org/ecbs_week6_helpers-1.0-py3-none-any.whl), got {spec!r}")
    if route == "index" and ("://" in text or text.endswith(".whl") or not text[:1].isalnum()):
        return (f"--install-route index expects INSTALL_SPEC to be a requirement pip finds on a package index "
                f"(e.g. ecbs-week6-helpers==1.0, with --index-url in it for your own index), got {spec!r}")
    return None


def install_source_check(source: Path | str, assignments: Sequence[str], route: str = "auto",
                         dist: Path | str | None = None) -> str:
    """Raise ReleaseRefused when students could not install the helpers by ``route``; returns a note
    for the instructor (where to put the wheel).  ``dist``: where ``make student-wheel`` writes it."""
    from helpers.notebook.setup_env import install_spec_problem
    if route not in ROUTES:
        raise ReleaseRefused(f"--install-route {route!r}: expected one of {', '.join(ROUTES)}")
    if route == "kaggle-dataset":  # the first cell finds the attached wheel before it looks at INSTALL_SPEC
        wheels = sorted(Path(dist or REPO / "dist").glob(WHEEL_GLOB))
        if not wheels:
            raise ReleaseRefused(f"--install-route kaggle-dataset: no student wheel in {dist or REPO / 'dist'} "
                                 f"({WHEEL_GLOB}); build it with `make student-wheel`, then release again")
        return (f"install route: Kaggle dataset only. Upload {wheels[-1]} as a Kaggle dataset and tell students "
                "to add it to the notebook (Add Input > Datasets) before running the first cell; internet can "
                "stay off")
    for a in assignments:
        path = _notebook(source, a)
        nb = nbformat.read(path, as_version=4)
        spec = None
        for cell in nb.cells:
            if cell.cell_type != "code" or "INSTALL_SPEC =" not in cell.source:
                continue
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "INSTALL_SPEC":
                    spec = ast.literal_eval(node.value)
            break
        problem = install_spec_problem(spec) if spec is not None else "its first cell sets no INSTALL_SPEC"
        problem = problem or route_problem(spec, route)
        if problem:
            raise ReleaseRefused(
                f"{path.name}: {problem}, so students could not install the course helpers on Kaggle. Publish "
                "the student wheel (`make student-wheel`) or a helpers-only repository, set INSTALL_SPEC in "
                "helpers/notebook/setup_env.py to it, rebuild the notebooks (`python notebooks/make_notebooks.py`), "
                "and release again; or release for the Kaggle-dataset route (--install-route kaggle-dataset), "
                "or pass --allow-private-install for a demo release.")
    return f"install route: {route}; students install from INSTALL_SPEC (or an attached course wheel)"


def grade_id_check(work: Path | str, source: Path | str, assignments: Sequence[str]) -> None:
    """Raise ReleaseRefused naming every grade id the gradebook holds that the notebooks now give another cell."""
    from .grade_ids import SAME_TEXT, reassigned, records_of_gradebook, records_of_notebook
    from .nbgrader_config import GRADEBOOK_NAME

    problems = []
    for a in assignments:
        old = records_of_gradebook(Path(work) / GRADEBOOK_NAME, a)
        new = records_of_notebook(nbformat.read(_notebook(source, a), as_version=4))
        problems += [f"  {a}: {line}" for line in reassigned(old, new)]
    if problems:
        raise ReleaseRefused(
            "these grade ids already in the course gradebook would now name a different cell (another type or "
            f"role, or under {SAME_TEXT:.0%} of the same text), so collected submissions, grades and comments "
            "would attach to the wrong cell:\n" + "\n".join(problems) + "\nTo proceed: if the old cell is gone "
            "and this is a new one, give it its own name (name=\"...\" on its marker in notebooks/lab_*.py or "
            "hw_*.py), rebuild with `python notebooks/make_notebooks.py` and release again; if it is the same cell, "
            "rewritten on purpose, pass --allow-changed-ids.")


def generate(work: Path | str, source: Path | str, assignments: Sequence[str]) -> dict[str, Path]:
    """Run nbgrader generate_assignment for each assignment into work/release (and the gradebook)."""
    from nbgrader.converters import GenerateAssignment
    from traitlets.config import Config

    work = Path(work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    out = {}
    for a in assignments:
        cfg = apply(Config(), work=work, root=work, source=source)
        run_nbgrader(GenerateAssignment, cfg, a, force=True)
        out[a] = work / "release" / a / f"{a}.ipynb"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m autograder release", description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=None, help="nbgrader work folder (default nbgrader_work/)")
    ap.add_argument("--source", type=Path, default=REPO / "notebooks", help="source notebooks folder")
    ap.add_argument("--assignment", action="append", choices=ASSIGNMENTS, help="release only this one")
    ap.add_argument("--allow-synthetic-reveals", action="store_true",
                    help="release notebooks whose reveal numbers came from synthetic data (demos only)")
    ap.add_argument("--allow-private-install", action="store_true",
                    help="release notebooks whose first cell installs from a placeholder or the instructor's "
                         "private repository (demos only)")
    ap.add_argument("--install-route", choices=ROUTES, default="auto",
                    help="how students install the helpers: url (INSTALL_SPEC is the wheel's public URL), index "
                         "(a requirement on PyPI or your index), kaggle-dataset (only the wheel from "
                         "`make student-wheel`, attached as a Kaggle dataset), auto (any published spec)")
    ap.add_argument("--skip-reveals-check", action="store_true", help="do not run helpers reveals --check")
    ap.add_argument("--allow-changed-ids", action="store_true",
                    help="release even where a grade id in the gradebook would name a rewritten cell")
    args = ap.parse_args(argv)
    work = (args.work or default_work()).resolve()
    assignments = tuple(args.assignment or ASSIGNMENTS)
    try:
        sources = preflight(args.source, assignments, args.allow_synthetic_reveals, not args.skip_reveals_check)
        route_note = ("" if args.allow_private_install else
                      install_source_check(args.source, assignments, args.install_route))
        if not args.allow_changed_ids:
            grade_id_check(work, args.source, assignments)
    except ReleaseRefused as exc:
        print(f"release refused: {exc}", file=sys.stderr)
        return 1
    for a, path in generate(work, args.source, assignments).items():
        note = "  (reveals from SYNTHETIC data: demo release)" if sources[a] != "hub" else ""
        if args.allow_private_install:
            note += "  (installs from an unpublished source: demo release)"
        print(f"released {a} -> {path}{note}")
    if route_note:
        print(route_note)
    return 0
