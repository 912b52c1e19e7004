"""Does a re-release give a grade id that the course gradebook already holds to a different cell?

nbgrader keys everything by grade id: the gradebook's grades and comments, the
locked cells it restores into each submission, formgrader's view.  An id that
comes back from a rebuilt notebook attached to another cell (another type, another
role, or other text) silently pairs collected submissions and recorded grades with
the wrong cell.  The notebook builder names cells after themselves
(``notebooks/nbsource.locked_name``), so this happens only by an edit; ``release``
asks :func:`reassigned` before it writes anything and refuses, naming the ids.

What counts as the same cell: the same cell type and nbgrader role (graded,
solution, locked); for a locked instructor cell also text at least
``SAME_TEXT`` similar (``difflib``'s ratio), so a typo fix or a reworded sentence
passes and a different cell under an old name does not.  Graded and solution
cells' text is not compared: their model answers and hidden tests are edited in
place by design.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from .cells import grade_id

#: The least text similarity (0..1) at which a locked cell is still the same cell.
SAME_TEXT = 0.5


@dataclass(frozen=True)
class CellRecord:
    """What a grade id stands for: the cell's type, its nbgrader role and (for locked cells) its text."""

    cell_type: str
    role: str  # "graded", "solution", "graded solution" or "locked"
    source: str

    def describe(self) -> str:
        """``a locked markdown cell`` and the like, for messages."""
        return f"a {self.role} {self.cell_type} cell"


def _role(grade: bool, solution: bool) -> str:
    return " ".join(word for word, on in (("graded", grade), ("solution", solution)) if on) or "locked"


def records_of_notebook(nb: NotebookNode) -> dict[str, CellRecord]:
    """grade id -> record, for every cell of a source notebook with nbgrader metadata."""
    from nbgrader import utils  # here, not at the top: importing nbgrader takes seconds

    out = {}
    for cell in nb.cells:
        gid = grade_id(cell)
        if gid and (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            out[gid] = CellRecord(cell.cell_type, _role(bool(utils.is_grade(cell)), bool(utils.is_solution(cell))),
                                  cell.source)
    return out


def records_of_gradebook(db: Path, assignment: str) -> dict[str, CellRecord]:
    """grade id -> record of the assignment's notebook in the gradebook at ``db`` ({} when it holds none)."""
    from nbgrader.api import MissingEntry

    from .gradebook import open_gradebook
    from .nbgrader_config import ensure_tools_on_path

    if not Path(db).is_file():
        return {}
    ensure_tools_on_path()  # nbgrader runs alembic when it opens a gradebook
    with open_gradebook(Path(db)) as gb:
        try:
            notebook = gb.find_notebook(assignment, assignment)
        except MissingEntry:
            return {}
        graded = {c.name for c in notebook.grade_cells}
        solutions = {c.name for c in notebook.solution_cells}
        return {c.name: CellRecord(c.cell_type, _role(c.name in graded, c.name in solutions), c.source or "")
                for c in notebook.source_cells}


def reassigned(old: dict[str, CellRecord], new: dict[str, CellRecord]) -> list[str]:
    """One line per grade id held by both whose cell changed meaning (see the module docstring), sorted."""
    lines = []
    for gid in sorted(old.keys() & new.keys()):
        was, now = old[gid], new[gid]
        if (was.cell_type, was.role) != (now.cell_type, now.role):
            lines.append(f"{gid}: was {was.describe()}, now {now.describe()}")
        elif was.role == "locked":
            ratio = difflib.SequenceMatcher(None, was.source, now.source, autojunk=False).ratio()
            if ratio < SAME_TEXT:
                first = now.source.strip().splitlines()[0][:60] if now.source.strip() else ""
                lines.append(f"{gid}: its text is {ratio:.0%} the same as the released cell's (now {first!r})")
    return lines
