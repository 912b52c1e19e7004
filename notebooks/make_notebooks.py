"""Build the week's nbgrader source notebooks from their percent-format sources.

    python notebooks/make_notebooks.py [--source auto|hub|synthetic] [--check] [--lint] [--only lab|homework]

Sources: ``lab_*.py`` and ``hw_*.py``, one file per act or part (joined in name
order), in the percent format: real Python that ruff lints;
``nbsource.py`` reads them and gives the cell roles.  The notebooks are written clean
(no outputs, no execution counts), every instructor cell locked with a
grade_id named after the cell (``nbsource.locked_name``), never its position,
and then their reveal spans are rendered from the artifacts
(``helpers.tools.reveals``) so a rebuild never leaves placeholders behind.
The reveal texts (what a student sees after a prediction) are written to
``helpers/reveal_text.b64`` (obfuscated) from the sources' reveal cells and rendered the
same way.  ``--check`` writes nothing and exits 1 when a committed notebook or
the reveal file differs from what the sources build.  ``--lint`` writes nothing
and runs ruff on each notebook's source cells as one notebook, so a name one part
uses and another defines is checked; findings point at the part files.

(Named make_notebooks, not build: a module ``build`` would shadow PyPA's package.)
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
import nbformat.v4 as v4  # noqa: E402
from nbformat import NotebookNode  # noqa: E402
from nbsource import SourceCell, code, locked_name, read_cells, to_cell  # noqa: E402

from autograder.checks.placement import source_parts  # noqa: E402


@dataclass(frozen=True)
class Target:
    """One notebook: where it is written, its nbgrader assignment, its grade_id prefix, where its sources are.

    Its source files are the folder's ``lab_*.py`` (or ``hw_*.py``) in name order
    (``autograder.checks.placement``, which orders the checks by the same files).
    """

    path: Path
    assignment: str
    prefix: str
    folder: Path = HERE

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(p.name for p in source_parts(self.assignment, self.folder))

    def source_cells(self) -> list[SourceCell]:
        return [cell for part in self.parts for cell in read_cells(self.folder / part)]


TARGETS = {
    "lab": Target(HERE / "week6_lab" / "week6_lab.ipynb", "week6_lab", "lab"),
    "homework": Target(HERE / "week6_homework" / "week6_homework.ipynb", "week6_homework", "hw"),
}


def targets(folder: Path = HERE) -> dict[str, Target]:
    """``TARGETS`` reading their sources from ``folder`` (a copy of notebooks/ in tests; written nowhere)."""
    return {kind: replace(t, folder=Path(folder)) for kind, t in TARGETS.items()}


def model_solutions(folder: Path = HERE) -> dict[str, str]:
    """grade_id -> source of every written-out solution cell, for the cells that say ``same_as``."""
    return {cell.meta["grade_id"]: cell.body for target in targets(folder).values() for cell in target.source_cells()
            if cell.meta.get("role") == "solution" and "same_as" not in cell.meta}


def cells_of(kind: str, reveals: dict | None = None, folder: Path = HERE) -> list[NotebookNode]:
    """The notebook's cells in order, each with its grade_id; its reveal texts go into ``reveals``.

    The set-up cell is built here; every other cell without an nbgrader role is an instructor
    cell, locked (nbgrader restores it if a submission edits it) under the grade_id
    ``<prefix>_<nbsource.locked_name(cell)>``: a name taken from the cell, never its position,
    so a cell inserted mid-term renames no other cell in the gradebook.
    """
    from autograder.checks import NOTEBOOK_OF

    target = targets(folder)[kind]
    solutions = model_solutions(folder)
    reveals = {} if reveals is None else reveals
    cells, where = [], {}
    for source in target.source_cells():
        cell = to_cell(source, reveals, solutions)
        if cell is None:
            cell = setup_cell(target.prefix)
        elif "nbgrader" not in cell.metadata:
            gid = f"{target.prefix}_{locked_name(source)}"
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": gid, "locked": True,
                                         "schema_version": 3, "solution": False}
        gid = cell.metadata["nbgrader"]["grade_id"]
        if source.meta.get("role") == "hidden_test" and NOTEBOOK_OF[gid] != target.assignment:
            raise ValueError(f"{source.where()}: check {gid!r} is declared for {NOTEBOOK_OF[gid]} (its Check's "
                             f"notebook= in autograder/checks/) but its hidden test is in a {target.assignment} "
                             "source; move the cell or fix notebook=")
        if gid in where:
            raise ValueError(f"{kind}: the cells at {where[gid]} and {source.where()} both get grade_id {gid!r}; "
                             'give one of them its own name="..." on its marker (lower-case words joined by _)')
        where[gid] = source.where()
        cells.append(cell)
    return cells


def setup_cell(prefix: str) -> NotebookNode:
    """The first cell: install_helpers' source pasted (it runs before helpers is importable), then setup()."""
    import inspect

    from helpers.notebook.setup_env import INSTALL_SPEC, install_helpers, install_spec_problem
    installer = inspect.getsource(install_helpers).rstrip()
    return code(f'''
# Set-up: run this cell first. It makes the course helpers importable (a local checkout, or on
# Kaggle a pip install: from the course wheel when it is attached to this notebook as a dataset,
# otherwise from INSTALL_SPEC, with internet on), seeds everything once, and picks the data source:
# the Hugging Face Hub when reachable, otherwise the embedded SYNTHETIC copy (it says so, loudly).
# If the install fails, the error says why and what to switch on or attach.
import importlib.util, sys
from pathlib import Path

INSTALL_SPEC = "{INSTALL_SPEC}"   # the one configured place: helpers/notebook/setup_env.py


{installer}


if importlib.util.find_spec("helpers") is None:
    checkout = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "helpers" / "__init__.py").is_file()), None)
    if checkout is not None:
        sys.path.insert(0, str(checkout))
    else:
        install_helpers(INSTALL_SPEC, problem={install_spec_problem(INSTALL_SPEC)!r})

from helpers.notebook.setup_env import setup
ENV = setup(source="auto")
''', grade_id=f"{prefix}_setup")


def build(kind: str, folder: Path = HERE) -> tuple[NotebookNode, Path]:
    """The notebook ``kind`` (lab or homework), every cell given a stable grade_id, and where it is written."""
    target = TARGETS[kind]
    path, assignment = target.path, target.assignment
    cells = cells_of(kind, folder=folder)
    for cell in cells:
        cell["id"] = cell.metadata["nbgrader"]["grade_id"]  # nbformat 4.5 cell ids: rebuilds do not churn the diff
    nb = v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"assignment": assignment, "week": 6, "reveals_source": None},
    }
    nbformat.validate(nb)
    return nb, path


def reveal_file_text() -> str:
    """The reveal file's text (spans unrendered), from the lab's and the homework's REVEALS."""
    parts = ["<!-- reveals_source: none -->",
             "<!-- GENERATED by notebooks/make_notebooks.py from the reveal cells of notebooks/lab_*.py and hw_*.py; "
             "spans rendered by "
             "`python -m helpers reveals`. Shown by helpers.notebook.predict.reveal(name) only after the prediction(s) "
             "named in after= are recorded and observed. -->", ""]
    seen = {}
    for kind in TARGETS:
        reveals = {}
        cells_of(kind, reveals)
        for name, (after, text) in reveals.items():
            if name in seen and seen[name] != kind:
                raise ValueError(f"reveal {name!r} is defined by both {seen[name]} and {kind}")
            seen[name] = kind
            parts += [f"<!-- begin-reveal {name} after={','.join(after)} -->", text, "<!-- end-reveal -->", ""]
    return "\n".join(parts)


#: Whole-notebook lint: the rules a notebook's cells may break on purpose (the page width; a toy's two
#: statements on one line; imports placed where a cell needs them; the solution that redefines the copy
#: a student fixes).  Everything else ruff checks, with the names defined in earlier parts in view.
NOTEBOOK_LINT_IGNORE = "E501,E702,E402,I001,F811"


def lint(kind: str) -> list[str]:
    """Ruff on the notebook's source cells in order, as one notebook; findings point at the part files."""
    target = TARGETS[kind]
    solutions, where, cells = model_solutions(), [], []
    for source in target.source_cells():
        role = source.meta.get("role")
        if role == "hidden_test" or (source.markdown and role != "reveal"):
            continue
        text = "ENV = None  # the set-up cell" if role == "setup" else to_cell(source, {}, solutions).source
        cells.append(v4.new_code_cell(text))
        where.append(source)
    with tempfile.TemporaryDirectory() as tmp:
        nb_path = Path(tmp) / f"{target.assignment}.ipynb"
        write(v4.new_notebook(cells=cells), nb_path)
        run = subprocess.run([sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"),
                              "--no-force-exclude", "--output-format", "concise", "--ignore", NOTEBOOK_LINT_IGNORE,
                              str(nb_path)], capture_output=True, text=True)
    findings = []
    for line in run.stdout.splitlines():
        m = re.match(r".*?:cell (\d+):(\d+):(\d+): (.*)", line)
        if m:
            source = where[int(m[1]) - 1]
            offset = 0 if source.meta.get("role") == "predict" or not source.body else 1
            findings.append(f"notebooks/{source.path.name}:{source.line + offset + int(m[2]) - 1}:{m[3]}: {m[4]}")
    if run.returncode not in (0, 1) or (run.returncode == 1 and not findings):
        raise RuntimeError(f"ruff failed on the {kind} notebook: {run.stderr or run.stdout}")
    return findings


def write(nb: NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=("auto", "hub", "synthetic"), default="auto",
                        help="artifact source for the reveal numbers (default auto)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed notebooks are stale")
    parser.add_argument("--only", choices=tuple(TARGETS), help="build one notebook")
    parser.add_argument("--lint", action="store_true",
                        help="write nothing; run ruff on each notebook's source cells as one notebook")
    args = parser.parse_args(argv)
    if args.lint:
        findings = [f for kind in ([args.only] if args.only else TARGETS) for f in lint(kind)]
        print("\n".join(findings) or "notebook sources: ruff clean as whole notebooks")
        return 1 if findings else 0
    from helpers.tools import reveals

    kinds = [args.only] if args.only else list(TARGETS)
    facts = reveals.compute_facts(args.source)
    stale = []
    from helpers.notebook.reveal_store import read_reveal_text, write_reveal_text
    with tempfile.TemporaryDirectory() as tmp:
        text_path = Path(tmp) / reveals.REVEAL_FILE.name
        write_reveal_text(text_path, reveal_file_text())
        reveals.render_text_file(text_path, facts)
        rendered = read_reveal_text(text_path)
    target = reveals.REVEAL_FILE
    if args.check:
        # Compared decoded: the encoding's bytes may differ between zlib builds, the texts may not.
        if not target.exists() or read_reveal_text(target) != rendered:
            stale.append(target)
    else:
        write_reveal_text(target, rendered, encoded=True)
        print(f"wrote {target.relative_to(ROOT)} (reveal texts, obfuscated; from {facts.source})")
    for kind in kinds:
        nb, path = build(kind)
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                tmp_path = Path(tmp) / path.name
                write(nb, tmp_path)
                reveals.render(tmp_path, facts)
                if not path.exists() or tmp_path.read_text() != path.read_text():
                    stale.append(path)
            continue
        write(nb, path)
        reveals.render(path, facts)
        print(f"wrote {path.relative_to(ROOT)} ({len(nb.cells)} cells; reveals from {facts.source})")
    if stale:
        print("stale (rebuild with python notebooks/make_notebooks.py): " + ", ".join(str(p) for p in stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
