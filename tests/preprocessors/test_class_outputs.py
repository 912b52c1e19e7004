"""autograder/preprocessors/class_outputs.py: formgrader's Autograde button keeps the class's grades current."""
from __future__ import annotations

from nbformat.v4 import new_notebook

from autograder.results import SubmissionResult


def test_autograde_pipeline_step_merges_one_submission_into_the_class_outputs(tmp_path):
    import csv

    from autograder import checks
    from autograder.classoutputs import load_results, merge_class_outputs
    from autograder.preprocessors.class_outputs import RecordClassOutputs
    lab = [cid for cid in checks.POINTS if cid.startswith("lab_")]
    zero = {cid: checks.not_graded(cid, "not run").to_dict() for cid in lab}
    merge_class_outputs(tmp_path, [SubmissionResult("ada", "week6_lab", checks=zero),
                                   SubmissionResult("bob", "week6_lab", checks=zero, autograded="a/b.ipynb")])
    full = {cid: {**zero[cid], "points": checks.POINTS[cid]} for cid in lab}
    nb = new_notebook(metadata={"autograder": {"checks": full, "issues": [], "flags": []}})
    step = RecordClassOutputs(grades_dir=str(tmp_path))
    step.preprocess(nb, {"nbgrader": {"student": "bob", "assignment": "week6_lab"}})
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "grades.csv").open())}
    assert float(rows["bob"]["total"]) == sum(checks.POINTS[c] for c in lab) and float(rows["ada"]["total"]) == 0
    assert load_results(tmp_path)[("bob", "week6_lab")].autograded == "a/b.ipynb"
    RecordClassOutputs(grades_dir=str(tmp_path / "none")).preprocess(nb, {"nbgrader": {"student": "x"}})  # no-op
    assert not (tmp_path / "none").exists()
