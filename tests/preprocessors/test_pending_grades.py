"""Feedback before manual grading says which points are pending; after grading it shows the real scores.

The preprocessor and the template run here on a two-cell notebook and a real nbgrader gradebook
(no kernel, no grading run): one autograded cell scored 4 / 6, one written answer worth 3 points.
"""
import re

import pytest
from feedbackpage import make_gradebook, render
from nbgrader.api import Gradebook
from traitlets.config import Config

from autograder import feedback
from autograder.preprocessors.pending_grades import PendingGrades


@pytest.fixture
def gradebook(tmp_path):
    return make_gradebook(tmp_path)


def _feedback(db):
    return re.sub(r"\s+", " ", render(db))


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
