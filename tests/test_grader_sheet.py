"""autograder/grader_sheet.py: the grader's sheet lists points, the rubric and the model answer."""
from __future__ import annotations

from autograder.grader_sheet import grader_sheet
from autograder.nbgrader_config import REPO


def test_grader_sheet_lists_points_rubric_and_model_answer(tmp_path):
    md, html = grader_sheet(REPO / "notebooks", tmp_path, ("week6_lab", "week6_homework"))
    text = md.read_text()
    assert "### lab_bug_explain_1 (1 points)" in text and "### hw_memo_1_recommendation (25 points)" in text
    assert "F.kl_div(input, target)" in text  # a model answer from the source notebook
    assert "**Memo 1. Recommendation (25 points).**" in text  # the prompt with its rubric
    assert "<h3" in html.read_text()
