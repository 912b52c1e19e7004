"""What students read with help(): every function they call documents its parameters, its
result and one example, and the examples run (doctest)."""
from __future__ import annotations

import doctest
import importlib
import inspect

import matplotlib.pyplot as plt
import pytest

# Modules whose examples must run (the student-facing library and its shared checks).
DOCTEST_MODULES = ["helpers.kd", "helpers.metrics", "helpers.metrics_f1", "helpers.metrics_calibration",
                   "helpers.calibration", "helpers.bootstrap", "helpers.ranking", "helpers.plots",
                   "helpers.plots_tiers", "helpers.deploy", "helpers.latency", "helpers.inputs"]

# The functions students call (the notebooks, the lab text, help()), by the module they import.
STUDENT_FUNCTIONS = {
    "helpers.kd": ["kd_loss", "kd_loss_terms", "colleague_kd_loss"],
    "helpers.metrics": ["softmax", "ece", "adaptive_ece", "nll", "accuracy", "macro_f1", "per_class_f1",
                        "per_tier_f1", "per_tier_ece", "per_tier_nll", "js_divergence", "per_tier_js",
                        "coverage_table", "evaluate", "reliability_bins", "tier_labels", "as_frame",
                        "ece_bin_index"],
    "helpers.calibration": ["fit_temperature", "cal_eval_split", "apply_temperature", "temperature_nll"],
    "helpers.bootstrap": ["paired_bootstrap", "paired_bootstrap_loop", "lift_pattern"],
    "helpers.ranking": ["rank_against_leader", "leader_or_tie", "metric_value"],
    "helpers.plots": ["reliability_diagram", "ece_nll_scatter", "tier_delta_bars", "coverage_curves",
                      "per_class_f1_plot", "save"],
    "helpers.deploy": ["check_deployment", "best_arm"],
    "helpers.latency": ["measure"],
}
CASES = [(m, f) for m, names in STUDENT_FUNCTIONS.items() for f in names]


@pytest.mark.parametrize("module_name", DOCTEST_MODULES)
def test_examples_run(module_name):
    module = importlib.import_module(module_name)
    try:
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    finally:
        plt.close("all")
    assert result.failed == 0, f"{module_name}: {result.failed} doctest example(s) failed (run python -m doctest -v)"


def test_every_listed_module_has_examples():
    # A module whose examples all vanished would pass the test above with nothing run.
    for name in DOCTEST_MODULES:
        finder = doctest.DocTestFinder()
        examples = sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
        assert examples > 0, f"{name} has no doctest examples"


@pytest.mark.parametrize("module_name,func_name", CASES)
def test_numpydoc_sections(module_name, func_name):
    fn = getattr(importlib.import_module(module_name), func_name)
    doc = inspect.getdoc(fn) or ""
    summary = doc.split("\n", 1)[0]
    assert summary.strip(), f"{module_name}.{func_name}: no one-line summary"
    for section in ("Parameters", "Returns", "Examples"):
        assert f"\n{section}\n{'-' * len(section)}\n" in doc, f"{module_name}.{func_name}: no {section} section"
    examples = doctest.DocTestParser().get_examples(doc)
    assert examples, f"{module_name}.{func_name}: the Examples section holds no >>> example"
    params = [p for p in inspect.signature(fn).parameters if p not in ("self",)]
    for p in params:
        names = [n.strip() for n in p.split(",")]
        assert any(f"\n{n} :" in doc or f"\n{n}, " in doc or f", {n} :" in doc for n in names), \
            f"{module_name}.{func_name}: parameter {p!r} is not documented"


@pytest.mark.parametrize("module_name,func_name", CASES)
def test_type_hints(module_name, func_name):
    fn = getattr(importlib.import_module(module_name), func_name)
    if func_name == "colleague_kd_loss":
        return  # its source is the bug hunt's text, kept exactly as the colleague committed it
    sig = inspect.signature(fn)
    missing = [p for p, v in sig.parameters.items() if v.annotation is inspect.Parameter.empty]
    assert not missing, f"{module_name}.{func_name}: parameters without a type hint: {missing}"
    assert sig.return_annotation is not inspect.Signature.empty, f"{module_name}.{func_name}: no return hint"


def test_the_colleagues_help_text_leaves_the_bug_hunt_to_the_student():
    from helpers import kd

    source = inspect.getsource(kd.colleague_kd_loss)
    # The source the lab prints (and the answer key stores) keeps the colleague's one-line docstring.
    assert '"""A colleague\'s KD loss, as committed to the team\'s training script."""' in source
    assert "Parameters" not in source
    doc = inspect.getdoc(kd.colleague_kd_loss).lower()
    for hint in ("bug", "wrong", "log_softmax", "log-prob", "log prob", "t_d**2", "t_d ** 2", "swap", "batchmean",
                 "direction", "reverse", "1 - alpha", "weight of the soft"):
        assert hint not in doc, f"colleague_kd_loss's help() text hints at the bug hunt: {hint!r}"
