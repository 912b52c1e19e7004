"""PrefetchExpected: the run's expected values are built while the kernel runs, and the judge uses them.

Without a kernel: the same notebook goes through ``PrefetchExpected`` (first in autograde's pipeline)
and then ``JudgeHiddenTests``, as nbgrader runs them; the entries must come from the background work,
and the verdicts must equal those of a judge that built every entry itself.
"""
from __future__ import annotations

import threading

import nbformat
import pytest
from traitlets.config import Config

from autograder import checks, seeding
from autograder.examples import variants as V
from autograder.preprocessors.judge_hidden_tests import JudgeHiddenTests
from autograder.preprocessors.prefetch_expected import PrefetchExpected


def _notebook():
    test = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n# graded outside\n### END HIDDEN TESTS")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "lab_kd_loss", "locked": True, "solution": False,
                                 "points": checks.POINTS["lab_kd_loss"], "schema_version": 3}
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(V.kd_source("correct")), test])


@pytest.fixture
def builds(monkeypatch):
    """Every expected entry built, as (check id, thread name); the per-seed cache starts empty."""
    log, build = [], seeding._build
    monkeypatch.setattr(seeding, "_CACHE", {})

    def spy(check, base):
        log.append((check.id, threading.current_thread().name))
        return build(check, base)
    monkeypatch.setattr(seeding, "_build", spy)
    return log


def _verdicts(nb):
    return nb.metadata["autograder"]["checks"]


def test_the_judge_waits_for_the_entries_built_ahead_and_grades_as_without_them(builds, tmp_path):
    options = {"secret_path": str(tmp_path / "course_secret"), "call_timeout": 60}
    resources = {"nbgrader": {"notebook": "week6_lab", "student": "amy"}}
    nb, _ = PrefetchExpected(**options).preprocess(_notebook(), resources)
    judged, _ = JudgeHiddenTests(**options).preprocess(nb, resources)
    ahead = list(builds)
    assert [cid for cid, _ in ahead] == checks.checks_of("week6_lab")  # every check once, in the judge's order
    assert all(name.startswith("expected-values") for _, name in ahead)  # none by the judge itself
    assert _verdicts(judged)["lab_kd_loss"]["points"] == checks.POINTS["lab_kd_loss"]

    seeding._CACHE.clear()  # the same submission judged with every entry built in place
    alone, _ = JudgeHiddenTests(**options).preprocess(_notebook(), resources)
    assert builds[len(ahead):] and all(name == threading.current_thread().name for _, name in builds[len(ahead):])
    assert _verdicts(alone) == _verdicts(judged)


def test_it_reads_the_judges_configuration_and_runs_before_execution(tmp_path):
    from autograder.nbgrader_config import apply
    from autograder.preprocessors.execute import GuardedExecute
    c = apply(Config(), work=tmp_path, sandbox=False)
    assert PrefetchExpected(config=c).secret_path == JudgeHiddenTests(config=c).secret_path != ""
    steps = list(c.Autograde.autograde_preprocessors)
    assert steps.index(PrefetchExpected) < steps.index(GuardedExecute) < steps.index(JudgeHiddenTests)
