"""``GraderView``: how formgrader (and the feedback HTML) render a graded notebook.

An nbconvert preprocessor on the HTML exporter only (``nbgrader_config.apply`` sets
``HTMLExporter.preprocessors``): it works on the copy being rendered, never on the notebook
nbgrader grades from.  Under each hidden test the judge leaves a readable verdict and the points as
an ``execute_result`` (nbgrader's ``determine_grade`` reads that number, so it must stay in the
notebook); the rendered page drops that bare ``Out[n]: 5.0`` echo, wraps long verdict lines
instead of scrolling them sideways, and gives pandas tables their spacing back.
"""
from __future__ import annotations

from typing import Any

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat import NotebookNode
from traitlets import Bool

from ..cells import is_verdict

VIEW_CSS = """
/* autograder.view: verdict lines wrap; pandas tables keep their spacing */
.output_area pre, .jp-OutputArea-output pre { white-space: pre-wrap; word-break: break-word; overflow-x: visible; }
.output_html table.dataframe, .jp-RenderedHTMLCommon table.dataframe {
  border-collapse: collapse; margin: 0.5em 0; font-size: 12px; }
table.dataframe th, table.dataframe td { padding: 0.25em 0.6em; border: 1px solid #ddd; text-align: right; }
table.dataframe thead th { background: #f3f3f3; }
"""


class GraderView(CSSHTMLHeaderPreprocessor):
    """Render-time only: hide the judge's score echo under hidden tests, add the readable-view CSS.

    It is nbconvert's CSS header preprocessor plus this view: that one replaces ``resources["inlining"]``
    wholesale, so the course config turns it off and this one writes the header and the view's CSS."""

    enabled = Bool(True, help="Apply the grader's view (an nbconvert preprocessor is off unless enabled).").tag(
        config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        for cell in nb.cells:
            outs = cell.get("outputs", []) if cell.cell_type == "code" else []
            if any(is_verdict(o) for o in outs):  # the judge's cell: its execute_result is the score echo
                cell.outputs = [o for o in outs if o.get("output_type") != "execute_result"]
        nb, resources = super().preprocess(nb, resources)  # the code-highlighting CSS, in resources["inlining"]
        css = resources.setdefault("inlining", {}).setdefault("css", [])
        if VIEW_CSS not in css:
            css.append(VIEW_CSS)
        return nb, resources
