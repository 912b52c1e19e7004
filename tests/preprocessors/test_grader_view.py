"""autograder/preprocessors/grader_view.py: formgrader's page hides the score echo and wraps verdicts."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.cells import VERDICT_TAG
from autograder.preprocessors.grader_view import GraderView


def _graded_notebook() -> nbformat.NotebookNode:
    verdict = new_output("display_data", data={"text/plain": "Autograder: lab_kd_loss: 6 / 6 points\n" + "x" * 300},
                         metadata=dict(VERDICT_TAG))
    score = new_output("execute_result", data={"text/plain": "6.0"}, metadata={}, execution_count=7)
    table = new_output("execute_result", data={"text/html": "<table class='dataframe'><tr><td>1</td></tr></table>",
                                               "text/plain": "table"}, metadata={}, execution_count=8)
    return new_notebook(cells=[new_code_cell("probe()", outputs=[verdict, score], execution_count=7),
                               new_code_cell("df", outputs=[table], execution_count=8)])


def test_formgrader_page_hides_the_score_echo_and_wraps_verdicts(tmp_path):
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    from autograder.nbgrader_config import apply
    cfg = apply(Config(), work=tmp_path, sandbox=False)
    cfg.HTMLExporter.template_name = "formgrade"  # as formgrader configures its exporter
    cfg.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    nb = _graded_notebook()
    resources = {"base_url": "/", "notebook_id": "week6_lab", "index": 0, "total": 1, "mathjax_url": "",
                 "notebook_path": "x", "submission_id": "s", "metadata": {"path": str(tmp_path)}}
    page, _ = HTMLExporter(config=cfg).from_notebook_node(nb, resources=resources)
    assert "lab_kd_loss: 6 / 6 points" in page
    assert "6.0" not in page and "Out[7]" not in page  # the bare score echo is gone from the page
    assert "Out[8]" in page and "dataframe" in page  # other results stay
    assert "white-space: pre-wrap" in page and "table.dataframe th" in page
    assert nb.cells[0].outputs[1].data["text/plain"] == "6.0"  # the graded notebook keeps the score
    rendered = GraderView().preprocess(nb, {"config_dir": str(tmp_path)})[0]
    assert [o.output_type for o in rendered.cells[0].outputs] == ["display_data"]
