"""Feedback before manual grading says which points are pending; after grading it shows the real scores.

The preprocessor and the template run here on a two-cell notebook and a real nbgrader gradebook
(no kernel, no grading run): one autograded cell scored 4 / 6, one written answer worth 3 points.
"""
import re
from pathlib import Path

import nbformat
import nbgrader
import pytest
from nbgrader.api import Gradebook
from nbgrader.preprocessors import GetGrades
from traitlets.config import Config

from autograder import feedback
from autograder.preprocessors.pending_grades import PendingGrades


def _notebook():
    auto = nbformat.v4.new_code_cell("# hidden test", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "auto1", "points": 6, "schema_version": 3}})
    written = nbformat.v4.new_markdown_cell("My reconciliation: the tail is data-starved.", metadata={"nbgrader": {
        "grade": True, "solution": True, "locked": False, "grade_id": "manual1", "points": 3, "schema_version": 3}})
    return nbformat.v4.new_notebook(cells=[auto, written])


@pytest.fixture
def gradebook(tmp_path):
    from autograder.nbgrader_config import ensure_tools_on_path
    ensure_tools_on_path()  # nbgrader creates the gradebook with the alembic command
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.add_assignment("a1")
        gb.add_notebook("nb1", "a1")
        gb.add_grade_cell("auto1", "nb1", "a1", max_score=6, cell_type="code")
        gb.add_grade_cell("manual1", "nb1", "a1", max_score=3, cell_type="markdown")
        gb.add_solution_cell("manual1", "nb1", "a1")
        gb.add_student("s1")
        gb.add_submission("a1", "s1")
        grade = gb.find_grade("auto1", "nb1", "a1", "s1")
        grade.auto_score = 4.0
        gb.db.commit()
    return db


def _feedback(db):
    c = Config()
    c.GenerateFeedback.preprocessors = [GetGrades]
    feedback.configure(c)
    resources = {"nbgrader": {"notebook": "nb1", "assignment": "a1", "student": "s1", "db_url": db}}
    nb = _notebook()
    for step in c.GenerateFeedback.preprocessors:
        nb, resources = step().preprocess(nb, resources)
    # nbgrader's GenerateFeedback adds bootstrap's CSS folder the same way (where it lies differs by version).
    static = Path(nbgrader.__file__).parent / "server_extensions/formgrader/static"
    css = next(static.rglob("bootstrap.min.css")).parent
    c.HTMLExporter.extra_template_paths = [str(css)]
    exporter = feedback.FeedbackExporter(config=c)
    html, _ = exporter.from_notebook_node(nb, resources=resources)
    return re.sub(r"\s+", " ", html)


def test_before_manual_grading_the_written_answer_is_pending_not_zero(gradebook):
    html = _feedback(gradebook)
    assert "nb1 (Score: 4 / 6 graded so far; 3 points pending manual grading)" in html
    assert "pending manual grading (3 points)" in html
    assert "Score: 4.0 / 6.0" in html                  # the autograded cell keeps its score
    assert "Score: 0.0 / 3.0" not in html and "Score: 4.0 / 9.0" not in html
    assert "My reconciliation" in html                 # the notebook itself is still there


def test_after_manual_grading_the_real_scores_show(gradebook):
    with Gradebook(gradebook) as gb:
        grade = gb.find_grade("manual1", "nb1", "a1", "s1")
        grade.manual_score = 2.0
        gb.db.commit()
    html = _feedback(gradebook)
    assert "nb1 (Score: 6 / 9)" in html
    assert "Score: 2.0 / 3.0" in html and "pending manual grading" not in html


def test_the_course_configuration_wires_it_into_generate_feedback(tmp_path):
    from nbgrader.preprocessors import GetGrades as NbGetGrades

    from autograder.nbgrader_config import apply
    c = apply(Config(), work=tmp_path, sandbox=False)
    steps = list(c.GenerateFeedback.preprocessors)
    assert steps.index(PendingGrades) == steps.index(NbGetGrades) + 1
    assert c.GenerateFeedback.exporter_class is feedback.FeedbackExporter
    assert c.FeedbackExporter.template_name == feedback.TEMPLATE_NAME
    assert "template_file" not in c.HTMLExporter  # formgrader's page keeps its own template
    assert (feedback.TEMPLATE_DIR / feedback.TEMPLATE_NAME / feedback.TEMPLATE_FILE).is_file()
