"""CompiledCheckCellMetadata refuses exactly what nbgrader's CheckCellMetadata refuses."""
from __future__ import annotations

import copy

import nbformat
import pytest
from nbgrader.nbgraderformat import ValidationError
from nbgrader.preprocessors import CheckCellMetadata

from autograder.preprocessors.check_cell_metadata import CompiledCheckCellMetadata


def _notebook():
    cells = []
    for i, (kind, meta) in enumerate([
            ("code", {"grade": False, "solution": True, "locked": False}),
            ("code", {"grade": True, "solution": False, "locked": True, "points": 3}),
            ("markdown", {"grade": True, "solution": True, "locked": False, "points": 2}),
            ("markdown", {"grade": False, "solution": False, "locked": True})]):
        cell = nbformat.v4.new_code_cell("x = 1") if kind == "code" else nbformat.v4.new_markdown_cell("text")
        cell.metadata["nbgrader"] = {**meta, "grade_id": f"cell{i}", "schema_version": 3}
        cells.append(cell)
    cells.append(nbformat.v4.new_code_cell("plain"))
    return nbformat.v4.new_notebook(cells=cells)


def _breakages():
    def points_text(nb):
        nb.cells[1].metadata.nbgrader["points"] = "lots"

    def duplicate_id(nb):
        nb.cells[2].metadata.nbgrader["grade_id"] = "cell1"

    def old_schema(nb):
        nb.cells[0].metadata.nbgrader["schema_version"] = 1

    def new_schema(nb):
        nb.cells[0].metadata.nbgrader["schema_version"] = 9

    def missing_key(nb):
        del nb.cells[1].metadata.nbgrader["locked"]

    def markdown_code_solution(nb):
        nb.cells[2].metadata.nbgrader["grade"] = False  # a markdown solution cell must be graded
    return [points_text, duplicate_id, old_schema, new_schema, missing_key, markdown_code_solution]


def test_a_valid_notebook_passes_both():
    for check in (CheckCellMetadata(), CompiledCheckCellMetadata()):
        check.preprocess(_notebook(), {})


@pytest.mark.parametrize("breakage", _breakages(), ids=lambda f: f.__name__)
def test_what_nbgrader_refuses_is_refused(breakage):
    nb = _notebook()
    breakage(nb)
    outcomes = []
    for check in (CheckCellMetadata(), CompiledCheckCellMetadata()):
        try:
            check.preprocess(copy.deepcopy(nb), {})
            outcomes.append("passed")
        except ValidationError as exc:
            outcomes.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - nbgrader lets some through as other errors: so must we
            outcomes.append(type(exc).__name__)
    assert outcomes[0] == outcomes[1] and outcomes[0] != "passed"
