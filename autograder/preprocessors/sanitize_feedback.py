"""``SanitizeFeedback``: what students see of the hidden tests in ``generate_feedback``.

Hidden test cells lose their source and show only the judge's verdict (nbgrader would otherwise
show the hidden tests); the reporter's marked lines are removed everywhere, and so is the judge's
instructor detail in the notebook metadata.
"""
from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor

from ..cells import grade_id, is_verdict
from ..kernel.wire import MARKER


class SanitizeFeedback(NbGraderPreprocessor):
    """Hide hidden tests, expected values and the reporter's lines from the feedback students receive."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        nb.metadata.pop("autograder", None)  # the judge's full results, with the instructor's detail
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[NotebookNode, dict[str, Any]]:
        cell.metadata.pop("autograder", None)
        # Every autograder test cell (graded, not a solution: nbgrader locks it), not only the registry's.
        if cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell):
            cell.source = f"# Autograder check: {grade_id(cell) or ''} (hidden test; its result is below)"
            verdicts = [o for o in cell.get("outputs", []) if is_verdict(o)]
            cell.outputs = verdicts or [new_output("stream", name="stdout",
                                                   text="No autograder result for this check.\n")]
        elif cell.cell_type == "code":
            kept = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and MARKER in out.get("text", ""):
                    out.text = "".join(line for line in out.text.splitlines(True) if MARKER not in line)
                    if not out.text:
                        continue
                kept.append(out)
            cell.outputs = kept
        return cell, resources
