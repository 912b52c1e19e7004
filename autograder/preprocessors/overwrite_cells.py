"""``RestoringOverwriteCells``: nbgrader's ``OverwriteCells`` that survives a deleted grade cell."""
from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import OverwriteCells

from ..cells import grade_id


class RestoringOverwriteCells(OverwriteCells):
    """nbgrader's OverwriteCells, with deleted grade cells put back after the nearest preceding
    cell that is still there (nbgrader 0.9.6 assumes that cell is a grade or solution cell and
    fails with a KeyError when it is a locked instructor cell)."""

    def add_missing_grade_cells(self, nb: NotebookNode,
                                resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [c.name for c in source_nb.source_cells]
        solution_ids = {c.name for c in source_nb.solution_cells}
        for grade_cell in source_nb.grade_cells:
            present = {grade_id(c): i for i, c in enumerate(nb.cells)
                       if utils.is_grade(c) or utils.is_solution(c) or utils.is_locked(c)}
            if grade_cell.name in present or grade_cell.name not in source_ids:
                continue
            self.log.warning("Missing grade cell %s encountered, adding to notebook", grade_cell.name)
            pos = source_ids.index(grade_cell.name)
            cell = self.missing_cell_transform(source_nb.source_cells[pos], grade_cell.max_score,
                                               is_solution=grade_cell.name in solution_ids)
            before = [present[i] for i in reversed(source_ids[:pos]) if i in present]
            nb.cells.insert(before[0] + 1 if before else 0, cell)
        return nb, resources
