"""Build the week's nbgrader source notebooks from their readable cell lists.

    python notebooks/build.py [--source auto|hub|synthetic] [--check]

Sources: ``lab_cells.py`` and ``homework_cells.py`` (one Python list of cells
each; ``nbsource.py`` gives the cell roles).  The notebooks are written clean
(no outputs, no execution counts), every instructor cell locked with a
grade_id, and then their reveal spans are rendered from the artifacts
(``helpers.reveals``) so a rebuild never leaves placeholders behind.
``--check`` writes nothing and exits 1 when a committed notebook differs
from what the sources build.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
import nbformat.v4 as v4  # noqa: E402

import homework_cells  # noqa: E402
import lab_cells  # noqa: E402
from nbsource import code  # noqa: E402

TARGETS = {
    "lab": (lab_cells, HERE / "week6_lab" / "week6_lab.ipynb", "week6_lab"),
    "homework": (homework_cells, HERE / "week6_homework" / "week6_homework.ipynb", "week6_homework"),
}


def setup_cell(prefix):
    import inspect

    from helpers.setup_env import INSTALL_SPEC, install_helpers, install_spec_problem
    installer = inspect.getsource(install_helpers).rstrip()
    return code(f'''
# Set-up: run this cell first. It makes the course helpers importable (a local checkout, or on
# Kaggle a pip install: from the course wheel when it is attached to this notebook as a dataset,
# otherwise from INSTALL_SPEC, with internet on), seeds everything once, and picks the data source:
# the Hugging Face Hub when reachable, otherwise the embedded SYNTHETIC copy (it says so, loudly).
# If the install fails, the error says why and what to switch on or attach.
import importlib.util, sys
from pathlib import Path

INSTALL_SPEC = "{INSTALL_SPEC}"   # the one configured place: helpers/setup_env.py


{installer}


if importlib.util.find_spec("helpers") is None:
    checkout = next((p for p in [Path.cwd(), *Path.cwd().parents] if (p / "helpers" / "__init__.py").is_file()), None)
    if checkout is not None:
        sys.path.insert(0, str(checkout))
    else:
        install_helpers(INSTALL_SPEC, problem={install_spec_problem(INSTALL_SPEC)!r})

from helpers.setup_env import setup
ENV = setup(source="auto")
''', grade_id=f"{prefix}_setup")


def build(kind):
    module, path, assignment = TARGETS[kind]
    prefix = module.PREFIX
    cells = module.cells(setup_cell(prefix))
    seen = set()
    for i, cell in enumerate(cells):
        nbg = cell.metadata.get("nbgrader")
        if nbg is None:
            # Instructor cells are locked: nbgrader restores them if a submission edits them.
            gid = f"{prefix}_{cell.cell_type[:2]}{i:03d}"
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": gid, "locked": True,
                                         "schema_version": 3, "solution": False}
        gid = cell.metadata["nbgrader"]["grade_id"]
        if gid in seen:
            raise ValueError(f"{kind}: duplicate grade_id {gid!r}")
        seen.add(gid)
        cell["id"] = gid  # stable cell ids (nbformat 4.5) so rebuilds do not churn the diff
    nb = v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": {"assignment": assignment, "week": 6, "reveals_source": None},
    }
    nbformat.validate(nb)
    return nb, path


def write(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", choices=("auto", "hub", "synthetic"), default="auto",
                        help="artifact source for the reveal numbers (default auto)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed notebooks are stale")
    parser.add_argument("--only", choices=tuple(TARGETS), help="build one notebook")
    args = parser.parse_args(argv)
    from helpers import reveals

    kinds = [args.only] if args.only else list(TARGETS)
    facts = reveals.compute_facts(args.source)
    stale = []
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
        print("stale (rebuild with python notebooks/build.py): " + ", ".join(str(p) for p in stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
