"""A feedback page rendered as ``generate_feedback`` renders it, without a grading run: a real nbgrader
gradebook (one autograded cell scored 4 / 6, one written answer worth 3 points), nbgrader's ``GetGrades``
and the course's ``PendingGrades``, then the course's feedback exporter (or another one, for comparison)."""
from __future__ import annotations

from pathlib import Path

import nbformat
import nbgrader
from nbgrader.api import Gradebook
from nbgrader.preprocessors import GetGrades
from traitlets.config import Config

from autograder import feedback


def two_cell_notebook():
    """An autograded code cell (``auto1``, 6 points) and a written answer (``manual1``, 3 points)."""
    auto = nbformat.v4.new_code_cell("# hidden test", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "auto1", "points": 6, "schema_version": 3}})
    written = nbformat.v4.new_markdown_cell("My reconciliation: the tail is data-starved.", metadata={"nbgrader": {
        "grade": True, "solution": True, "locked": False, "grade_id": "manual1", "points": 3, "schema_version": 3}})
    return nbformat.v4.new_notebook(cells=[auto, written])


def make_gradebook(folder: Path) -> str:
    """A gradebook in ``folder`` for ``two_cell_notebook`` with ``auto1`` scored 4; returns its URL."""
    from autograder.nbgrader_config import ensure_tools_on_path
    ensure_tools_on_path()  # nbgrader creates the gradebook with the alembic command
    db = f"sqlite:///{folder / 'gradebook.db'}"
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


def render(db: str, nb=None, exporter_class=feedback.FeedbackExporter) -> str:
    """The feedback page of ``nb`` (default ``two_cell_notebook()``) for student s1, rendered by
    ``exporter_class`` with the course's feedback template settings."""
    c = Config()
    c.GenerateFeedback.preprocessors = [GetGrades]
    feedback.configure(c)
    resources = {"nbgrader": {"notebook": "nb1", "assignment": "a1", "student": "s1", "db_url": db}}
    nb = two_cell_notebook() if nb is None else nb
    for step in c.GenerateFeedback.preprocessors:
        nb, resources = step().preprocess(nb, resources)
    # nbgrader's GenerateFeedback adds bootstrap's CSS folder the same way (where it lies differs by version).
    static = Path(nbgrader.__file__).parent / "server_extensions/formgrader/static"
    css = next(static.rglob("bootstrap.min.css")).parent
    c.HTMLExporter.extra_template_paths = [str(css)]
    c[exporter_class.__name__] = c.FeedbackExporter  # the same template settings, whichever class renders
    html, _ = exporter_class(config=c).from_notebook_node(nb, resources=resources)
    return html
