"""The autograder's judgment without nbgrader: student code -> function host -> probe in the driver -> checks.

Student code from autograder/examples/variants.py runs in a real function host (one
unsandboxed host process for the module; the sandboxed host is tested in
test_function_host.py), the probe runs here with the DEFAULT seed against the stored
expected values; value checks go through the kernel's reporter line as plain values.
The end-to-end test (test_autograder_e2e.py) repeats the important cases through nbgrader.
"""
from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path

import nbformat
import pytest

from autograder import build_expected, checks
from autograder.checks.fix_rules import last_binding
from autograder.checks.runner import DEFAULT_SEED, Remote, collect
from autograder.examples import variants as V
from autograder.hidden_tests import judge_notebook as read_results
from autograder.hidden_tests import reference_flags, reported_values
from autograder.host.client import FunctionHost
from autograder.kernel.encoding import encode, plain
from autograder.kernel.wire import MARKER
from autograder.preprocessors.sanitize_feedback import SanitizeFeedback
from autograder.submissions import hidden_cell_changes, static_flags

ROOT = Path(__file__).resolve().parent.parent
LAB_NB = ROOT / "notebooks" / "week6_lab" / "week6_lab.ipynb"
EXPECTED = {**checks.load_expected("week6_lab"), **checks.load_expected("week6_homework")}

_CELLS = itertools.count()
_HOST: list[FunctionHost] = []


@pytest.fixture(scope="module", autouse=True)
def _close_host():
    yield
    while _HOST:
        _HOST.pop().close()


def host() -> FunctionHost:
    """The module's function host (started on first use)."""
    if not _HOST:
        _HOST.append(FunctionHost(sandbox=False, call_timeout=60))
    return _HOST[0]


def reporter_line(check_id: str, source: str, names: tuple[str, ...]) -> str:
    """What the kernel's reporter prints for a cell: run it here, as the kernel would, then report."""
    ns: dict = {}
    exec(source, ns)
    values, missing, unreadable = {}, [], {}
    for n in names:
        if n not in ns:
            missing.append(n)
        else:
            try:
                values[n] = plain(ns[n])
            except Exception as exc:  # noqa: BLE001
                unreadable[n] = str(exc)
    return MARKER + " " + encode({"check": check_id, "values": values, "missing": missing,
                                  "unreadable": unreadable}) + "\n"


def grade(check_id, source, seed=DEFAULT_SEED, expected=None):
    """Grade ``source`` as the cell that defines the check's names (function checks: in the host), on
    inputs drawn from ``seed`` (``expected``: that seed's entries; the stored default-seed ones if None)."""
    check = checks.BY_ID[check_id]
    if check.kind == "value":
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                               text=reporter_line(check_id, source, check.reads))]
        ns, reason, _ = reported_values(check_id, cell)
        assert ns is not None, reason
    else:
        key = f"c{next(_CELLS)}"
        host().add_cell(key, source)
        tree = ast.parse(source or "pass")
        ns = {n: Remote(host(), key, n, source) for n in check.reads if last_binding(tree, n) is not None}
    data, flags = collect(check, ns, seed)
    flags += reference_flags(check, data)
    return checks.verdict_of(check_id, {"data": data, "flags": flags}, EXPECTED if expected is None else expected)


def parts(result):
    return {p.name: p.points for p in result.parts}


@pytest.fixture(scope="module")
def rebuilt_expected():
    return build_expected.build()


def test_stored_expected_values_are_current(rebuilt_expected):
    """float32 results differ in the last digits between CPUs: current means within float noise."""
    diffs = build_expected.differences(build_expected.load_stored(), rebuilt_expected)
    assert not diffs, ("autograder/expected/*.json is stale; run `python -m autograder build-expected` "
                       "and commit the files:\n" + "\n".join(diffs[:10]))


def test_expected_comparison_ignores_float_noise_but_not_a_changed_reference(rebuilt_expected):
    import copy

    import numpy as np
    stored = copy.deepcopy(rebuilt_expected)
    loss = stored["week6_lab"]["lab_kd_loss"]["reference"]["grid"][0]
    loss["value"] = float(np.nextafter(np.float32(loss["value"]), np.float32(1e9)))  # one float32 ulp
    f1 = stored["week6_lab"]["lab_per_tier_f1"]["reference"]["result"]["value"]
    f1["head"] += 1e-12
    assert build_expected.differences(stored, rebuilt_expected) == []

    loss["value"] *= 1 + 2 * checks.KD_RTOL  # a reference the judge would grade differently
    f1["tail"] += 2 * checks.METRIC_ATOL
    stored["week6_homework"]["hw_coverage_table"]["reference"]["result"]["value"]["columns"]["n_covered"][0] += 1
    diffs = build_expected.differences(stored, rebuilt_expected)
    assert len(diffs) == 3, diffs
    assert any("reference/grid/0/value" in d for d in diffs)
    assert any("lab_per_tier_f1" in d and "tail" in d for d in diffs)


def test_answer_key_matches_the_lab_bug_statements():
    nb = nbformat.read(LAB_NB, as_version=4)
    src = next(c.source for c in nb.cells if c.cell_type == "code" and "BUG_STATEMENTS = {" in c.source)
    node = next(n for n in ast.parse(src).body if isinstance(n, ast.Assign) and n.targets[0].id == "BUG_STATEMENTS")
    key = checks.load_answer_key()["lab_bug_choices"]
    assert ast.literal_eval(node.value) == key["statements"], \
        "BUG_STATEMENTS changed: update autograder/answer_key.json"
    assert sorted([*key["bugs"], *key["non_bugs"]]) == sorted(key["statements"])
    assert sorted(key["bugs"].values()) == ["alpha_swapped", "missing_T2", "softmax_input"]


def test_points_match_the_contract():
    text = (ROOT / "docs" / "CONTRACTS.md").read_text()
    for cid, pts in checks.POINTS.items():
        assert f"| `{cid}` | {pts} |" in text


# One mistake costs one part: the CE term, the soft term and their weights are judged apart
# (the weights on the student's own alpha=0 and alpha=1 values), robustness and the gradient
# against the student's own function.
@pytest.mark.parametrize("mutation, expected, lost, words", [
    ("correct", 6, None, None),
    ("bug_softmax_input", 5, "soft_term", "log-probabilities"),
    ("bug_missing_T2", 5, "soft_term", "T_d**2 times too small"),
    ("bug_alpha_swapped", 5, "weights", "swapped"),
    ("kl_reversed", 5, "soft_term", "KL(student || teacher)"),
    ("reduction_mean", 5, "soft_term", "batchmean"),
    ("teacher_not_detached", 5, "teacher_detached", "detach"),
    ("log_of_softmax", 5, "fp16_and_large_logits", "log(softmax"),
])
def test_kd_loss_mutations(mutation, expected, lost, words):
    r = grade("lab_kd_loss", V.kd_source(mutation))
    assert r.points == expected, parts(r)
    if lost:
        assert parts(r)[lost] == 0
        msg = next(p.message for p in r.parts if p.name == lost)
        assert words in msg, msg


@pytest.mark.parametrize("name", sorted(V.KD_ALTERNATIVES))
def test_correct_alternative_formulations_earn_full_marks(name):
    r = grade("lab_kd_loss", V.KD_ALTERNATIVES[name])
    assert r.points == 6, [p.message for p in r.parts if not p.passed]


def test_returning_a_float_costs_the_gradient_only():
    r = grade("lab_kd_loss", V.KD_RETURNS_FLOAT)
    assert r.points == 5 and parts(r)["gradient"] == 0, parts(r)


def test_kd_loss_constant_colleague_and_reference():
    r = grade("lab_kd_loss", V.KD_CONSTANT)
    text = " ".join(p.message for p in r.parts)
    assert r.points == 0 and "same value whatever the inputs" in text and "swapped" not in text
    # The colleague's loss as one's own: its soft term, its weights and its undetached teacher.
    r = grade("lab_kd_loss", V.KD_COLLEAGUE)
    assert r.points == 3 and {k for k, v in parts(r).items() if not v} == {"soft_term", "weights", "teacher_detached"}
    r = grade("lab_kd_loss", V.KD_CALLS_REFERENCE)
    assert r.points == 0 and any(f.startswith("reference_call:kd") for f in r.flags), r.flags


# Drawn seeds whose fp16 inputs give a loss near 0 (or a mixed loss whose terms cancel), where
# honest fp16 arithmetic keeps no relative digits: the fp16 part held on none of them before
# it allowed fp16's absolute rounding (CI drew one and the colleague's loss lost its point).
@pytest.mark.parametrize("seed", [13, 106, 214, 268])
def test_fp16_arithmetic_keeps_its_point_on_every_drawn_seed(seed):
    check = checks.BY_ID["lab_kd_loss"]
    expected = {"lab_kd_loss": build_expected.expected_entry(check, seed)}
    for source, points in ((V.KD_COLLEAGUE, 3), (V.KD_ALTERNATIVES["input_dtype"], 6)):
        r = grade("lab_kd_loss", source, seed=seed, expected=expected)
        assert parts(r)["fp16_and_large_logits"] == 1 and r.points == points, \
            [p.message for p in r.parts if not p.passed]


# Every way of reaching the course's reference from graded code finds only the grading build's stub.
REFERENCE_ATTACKS = {
    "alias": "from helpers.kd import kd_loss as _k\nK = {'f': _k}\ndef kd_loss_fn(*a):\n    return K['f'](*a)\n",
    "thread": ("import threading\nimport helpers.kd as _hk\n"
               "def kd_loss_fn(*a):\n    out = []\n"
               "    th = threading.Thread(target=lambda: out.append(_hk.kd_loss(*a)))\n"
               "    th.start(); th.join()\n    return out[0]\n"),
    "exec_source_from_disk": ("import helpers.kd as _hk\n_ns = {}\n"
                              "exec(open(_hk.__file__).read(), _ns)\n"
                              "def kd_loss_fn(*a):\n    return _ns['kd_loss'](*a)\n"),
    "importlib_by_path": ("import importlib.util, glob, os, sys\n"
                          "_paths = [p for d in sys.path if d\n"
                          "          for p in glob.glob(os.path.join(d, 'helpers', 'kd.py'))]\n"
                          "_spec = importlib.util.spec_from_file_location('_ref', _paths[-1])\n"
                          "_m = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(_m)\n"
                          "def kd_loss_fn(*a):\n    return _m.kd_loss(*a)\n"),
    "getsource_clone": ("import inspect, helpers.kd as _hk\n_ns = {'F': __import__('torch').nn.functional}\n"
                        "exec(inspect.getsource(_hk.kd_loss_terms) + inspect.getsource(_hk.kd_loss), _ns)\n"
                        "def kd_loss_fn(*a):\n    return _ns['kd_loss'](*a)\n"),
}


@pytest.mark.parametrize("attack", sorted(REFERENCE_ATTACKS))
def test_calling_the_course_reference_gains_nothing(attack):
    r = grade("lab_kd_loss", REFERENCE_ATTACKS[attack])
    assert r.points == 0, (attack, [p.message for p in r.parts])


def test_the_grading_build_has_no_reference_bodies(tmp_path):
    """Every forbidden reference and internal is a stub in the copy the host imports."""
    from autograder.host import grading_build
    out = grading_build.build(tmp_path)
    names = grading_build.stubbed_names()
    for path in out.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                assert len(node.body) == 1 and isinstance(node.body[0], ast.Raise), (path.name, node.name)
    text = (out / "kd.py").read_text()
    assert "def colleague_kd_loss" in text and "log_softmax" not in text.split("def colleague_kd_loss")[0]


def test_patched_allclose_and_json_gain_nothing():
    pre = (V.PATCH_ALLCLOSE + "\nimport json, builtins\n"
           "json.dumps = lambda *a, **k: '{}'\njson.loads = lambda *a, **k: {}\n")
    assert grade("lab_kd_loss", pre + V.KD_CONSTANT).points == 0
    assert grade("lab_kd_loss", pre + V.kd_source("correct")).points == 6


@pytest.mark.parametrize("fixes, expected", [
    ((), {}), (("softmax_input",), {"softmax_input"}), (("missing_T2",), {"missing_T2"}),
    (("alpha_swapped",), {"alpha_swapped"}), (("softmax_input", "alpha_swapped"), {"softmax_input", "alpha_swapped"}),
    (("softmax_input", "missing_T2", "alpha_swapped"), {"softmax_input", "missing_T2", "alpha_swapped"}),
])
def test_fixed_kd_loss_judges_each_bug_on_the_colleagues_code(fixes, expected):
    r = grade("lab_fixed_kd_loss", V.fixed_copy(*fixes))
    assert {k[len("fixed_"):] for k, v in parts(r).items() if v > 0} == set(expected), parts(r)
    assert r.points == len(expected)


def test_fixed_kd_loss_is_not_a_fresh_loss_or_an_alias():
    r = grade("lab_fixed_kd_loss", V.kd_source("correct") + V.FIXED_BY_ALIAS)
    assert r.points == 0 and "not by the colleague's def" in r.parts[0].message
    for src in [V.kd_source("correct", "fixed_kd_loss"), *V.KD_ALTERNATIVES.values()]:
        r = grade("lab_fixed_kd_loss", src.replace("def kd_loss_fn", "def fixed_kd_loss"))
        assert r.points == 0 and "colleague's code" in r.parts[0].message
    # A distractor "fixed" as well costs one point, the three real fixes keep theirs.
    r = grade("lab_fixed_kd_loss", V.fixed_copy("softmax_input", "missing_T2", "alpha_swapped", "kl_reversed"))
    assert r.points == 2 and parts(r)["changed_correct_code"] == -1


def test_homework_bootstrap_paired_unpaired_quantiles_and_broken():
    assert grade("hw_bootstrap_ci", V.BOOTSTRAP_PAIRED).points == 3
    # Unpaired: charged once, by the pairing part (its centre is right).
    assert parts(grade("hw_bootstrap_ci", V.BOOTSTRAP_UNPAIRED)) == {"form_and_consistent": 1, "matches_reference": 1,
                                                                     "paired": 0}
    # A 90% interval is told from the 95% one the instructions ask for.
    r = grade("hw_bootstrap_ci", V.BOOTSTRAP_90)
    assert parts(r) == {"form_and_consistent": 1, "matches_reference": 0, "paired": 1}
    assert "90% one" in " ".join(p.message for p in r.parts)
    # A different (valid) random stream stays inside the Monte Carlo tolerance.
    for offset in (1, 12345):
        other_rng = V.BOOTSTRAP_PAIRED.replace("np.random.RandomState(seed)", f"np.random.RandomState(seed + {offset})")
        assert grade("hw_bootstrap_ci", other_rng).points == 3
    swapped = V.BOOTSTRAP_PAIRED.replace("score_fn(arm_b[idx], labels[idx]) - score_fn(arm_a[idx], labels[idx])",
                                         "score_fn(arm_a[idx], labels[idx]) - score_fn(arm_b[idx], labels[idx])")
    r = grade("hw_bootstrap_ci", swapped)
    assert parts(r)["matches_reference"] == 0 and "opposite sign" in " ".join(p.message for p in r.parts)
    lying = V.BOOTSTRAP_PAIRED.replace('"excludes_zero": bool(lo > 0 or hi < 0)', '"excludes_zero": False')
    assert parts(grade("hw_bootstrap_ci", lying))["form_and_consistent"] == 0


LAB_CONTEXT = """
import numpy as np
from helpers import artifacts
TIERS = ("head", "mid", "tail")
vanilla, distilled = artifacts.load("vanilla", "synthetic"), artifacts.load("distilled", "synthetic")
labels, tiers = vanilla.labels, vanilla.tiers
"""


@pytest.mark.parametrize("kw, expected", [
    ({}, {"used_on_the_right_arms": 1, "real_lift_tiers": 1, "tail_reading": 1}),
    ({"a": "distilled", "b": "vanilla"}, {"used_on_the_right_arms": 0}),
    ({"metric": "accuracy"}, {"used_on_the_right_arms": 0}),
    ({"real": "{'head', 'mid', 'tail'}"}, {"real_lift_tiers": 0}),
    ({"reading": "R3"}, {"tail_reading": 0}),
])
def test_lab_bootstrap_use_and_reading(kw, expected, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_SOURCE", "synthetic")
    r = grade("lab_bootstrap_ci", LAB_CONTEXT + V.bootstrap_use(**kw))
    got = parts(r)
    assert {k: got[k] for k in expected} == expected and r.points == 3 - list(expected.values()).count(0), got
    if kw.get("a") == "distilled":
        assert "pass vanilla first" in r.parts[0].message


JS = """
import numpy as np
def per_tier_js(p, q, tiers):
    p, q = np.clip(p, 1e-12, 1), np.clip(q, 1e-12, 1)
    m = (p + q) / 2
    js = 0.5 * (p * np.LOG(p / m)).sum(1) + 0.5 * (q * np.LOG(q / m)).sum(1)
    return {t: float(js[tiers == t].mean()) for t in ("head", "mid", "tail")}
"""


def test_js_log_base_is_discriminated_and_named():
    assert grade("hw_per_tier_js", JS.replace("LOG", "log")).points == 2
    r = grade("hw_per_tier_js", JS.replace("LOG", "log2"))
    assert parts(r) == {"form": 1, "values": 0} and "log base 2" in r.parts[1].message


def test_fixed_kd_loss_with_annotations_is_still_the_colleagues_code():
    src = V.fixed_copy("softmax_input", "missing_T2", "alpha_swapped").replace(
        "alpha=0.7):", "alpha: float = 0.7) -> torch.Tensor:").replace("import torch.nn.functional as F",
                                                                    "import torch\nimport torch.nn.functional as F")
    assert grade("lab_fixed_kd_loss", src).points == 3


def test_ece_bin_edges_and_coverage_threshold_equality():
    assert grade("lab_per_tier_ece", V.PER_TIER_ECE).points == 2
    assert parts(grade("lab_per_tier_ece", V.PER_TIER_ECE_LO_CLOSED)) == {"values": 1, "bin_edges": 0}
    assert grade("lab_coverage_table", V.COVERAGE_TABLE).points == 2
    r = grade("hw_coverage_table", V.COVERAGE_TABLE_STRICT)
    assert parts(r) == {"values": 0, "empty_threshold": 1} and "> instead of >=" in r.parts[0].message


def test_coverage_table_nan_for_empty_threshold():
    ok = ("import numpy as np, pandas as pd\ndef coverage_table(p, y, thresholds=(0.5,)):\n"
          "    c = p.max(1); hit = p.argmax(1) == y\n"
          "    return pd.DataFrame([{'threshold': t, 'coverage': (c >= t).mean(), "
          "'accuracy': hit[c >= t].mean() if (c >= t).any() else {empty}, 'n_covered': int((c >= t).sum())} "
          "for t in thresholds])\n")
    assert grade("lab_coverage_table", ok.replace("{empty}", "float('nan')")).points == 2
    r = grade("hw_coverage_table", ok.replace("{empty}", "0.0"))
    assert parts(r) == {"values": 1, "empty_threshold": 0}


def test_metric_checks_and_reference_use():
    f1 = ("import numpy as np\ndef per_tier_f1(y, p, tiers):\n    out = {}\n"
          "    for t in ('head', 'mid', 'tail'):\n        r = tiers == t; f = []\n"
          "        for c in np.unique(y[r]):\n"
          "            tp = ((y[r] == c) & (p[r] == c)).sum(); d = (y[r] == c).sum() + (p[r] == c).sum()\n"
          "            f.append(2 * tp / d if d else 0.0)\n        out[t] = float(np.mean(f))\n    return out\n")
    assert grade("lab_per_tier_f1", f1).points == 2
    sk = ("from sklearn.metrics import f1_score\ndef per_tier_f1(y, p, tiers):\n"
          "    return {t: f1_score(y[tiers == t], p[tiers == t], average='macro', zero_division=0)\n"
          "            for t in ('head', 'mid', 'tail')}\n")
    assert parts(grade("lab_per_tier_f1", sk)) == {"form": 1, "values": 0}
    r = grade("lab_per_tier_ece", "from helpers.metrics import per_tier_ece")
    assert r.points == 0 and r.flags
    fraction = "def reproducible_fraction(v, t, d):\n    return {}\n"
    assert grade("hw_reproducible_fraction", fraction.format("(v - t) / (v - d)")).points == 1
    assert grade("hw_reproducible_fraction", fraction.format("(v - d) / (v - t)")).points == 0
    assert grade("hw_fit_temperature", "def fit_temperature(z, y):\n    return 1.0\n").points == 0


def _artifact(model="vanilla+T", scenario="B", threshold=0.7, **change):
    from helpers import deploy
    f = deploy.arm_facts(model, threshold, "synthetic")
    art = dict(scenario=scenario, model=model, threshold=threshold, coverage=round(f["coverage"], 4),
               accuracy=round(f["accuracy"], 4), decision_rule="auto-close at >= 0.7, else legal review",
               justification=f"{model} has ECE {f['ece']:.3f} and NLL {f['nll']:.3f} on the eval half.",
               flip_constraint="ece_cap", switch_point=round(f["ece"], 3), alternative="distilled+T")
    art.update(change)
    return "deployment = " + repr(art) + "\n"


@pytest.mark.parametrize("kw, lost", [
    ({}, set()),
    ({"coverage": 0.61, "accuracy": 0.93}, {"numbers_match_model"}),                     # invented
    ({"model": "distilled", "alternative": "vanilla+T"}, {"scenario_rule"}),             # raw ECE above the cap
    ({"justification": "It is calibrated, with an ECE of 0.011 on the eval half."}, {"justification_cites_model"}),
    ({"justification": "It is calibrated: about 0.5 of what raw vanilla shows."}, {"justification_cites_model"}),
    ({"alternative": "vanilla+T"}, {"constraint_switch_alternative"}),
    ({"switch_point": 999}, {"constraint_switch_alternative"}),
    ({"flip_constraint": "the regulator's ECE cap"}, {"constraint_switch_alternative"}),
    ({"model": "vanilla", "scenario": "A", "threshold": None}, set(RULES_ALL := {
        "numbers_match_model", "scenario_rule", "justification_cites_model", "constraint_switch_alternative"})),
    ({"scenario": "C", "model": "distilled", "threshold": None, "alternative": "vanilla",
      "flip_constraint": "tail_f1_floor", "switch_point": "own"}, set()),
])
def test_deployment_is_judged_on_the_course_data(kw, lost, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_SOURCE", "synthetic")
    from helpers import deploy
    model = kw.pop("model", "vanilla+T")
    scenario, threshold = kw.pop("scenario", "B"), kw.pop("threshold", 0.7)
    if kw.get("switch_point") == "own":
        kw["switch_point"] = round(deploy.arm_facts(model, threshold, "synthetic")["f1_tail"], 3)
    src = _artifact(model, scenario, threshold, **kw)
    if "coverage" in kw:  # invented numbers replace the recomputed ones
        src = _artifact(model, "B", 0.7, **kw)
    r = grade("lab_deployment", src)
    assert {k for k, v in parts(r).items() if not v} == lost, [p.message for p in r.parts if not p.passed]


def test_deployment_other_models_numbers_lose_the_numbers_point_and_messages_hide_the_key(monkeypatch):
    monkeypatch.setenv("COURSE_DATA_SOURCE", "synthetic")
    from helpers import deploy
    other = deploy.arm_facts("distilled", 0.7, "synthetic")
    r = grade("lab_deployment", _artifact(coverage=round(other["coverage"], 4), accuracy=round(other["accuracy"], 4)))
    assert parts(r)["numbers_match_model"] == 0 and r.points == 3
    own = deploy.arm_facts("vanilla+T", 0.7, "synthetic")
    message = " ".join(p.message for p in r.parts)
    assert f"{own['coverage']:.3f}" not in message and f"{own['accuracy']:.3f}" not in message
    assert f"{own['coverage']:.4f}" in " ".join(p.detail for p in r.parts)   # the instructor sees them
    assert grade("lab_deployment", _artifact(scenario="Z")).points == 0


def _executed(cells):
    nb = nbformat.v4.new_notebook()
    for gid, outputs in cells:
        c = nbformat.v4.new_code_cell("")
        c.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "locked": True, "solution": False, "points": 1}
        c.outputs = outputs
        nb.cells.append(c)
    return nb


def _report(check_id, values):
    return MARKER + " " + encode({"check": check_id, "values": values, "missing": [], "unreadable": {}}) + "\n"


def test_value_lines_duplicate_forged_and_misplaced():
    """A value check needs exactly one reporter line in its own cell; a line anywhere else is only flagged."""
    out = lambda text: nbformat.v4.new_output("stream", name="stdout", text=text)  # noqa: E731
    good = _report("lab_bug_choices", {"chosen_bugs": ["S2", "S5", "S7"]})
    nb = _executed([("lab_bug_choices", [out(good)])])
    assert read_results(nb, "week6_lab", EXPECTED)[0]["lab_bug_choices"].points == 3
    nb = _executed([("lab_bug_choices", [out(good * 2)])])
    res, _, flags = read_results(nb, "week6_lab", EXPECTED)
    assert res["lab_bug_choices"].points == 0 and any("tampering" in f for f in flags)
    nb = _executed([("lab_bug_choices", [out(MARKER + " {not json\n")])])
    assert read_results(nb, "week6_lab", EXPECTED)[0]["lab_bug_choices"].points == 0
    # A forged "full marks" line in a function check's cell (or any other cell) is never read, only flagged.
    forged = MARKER + ' {"check": "lab_kd_loss", "flags": [], "data": {}}\n'
    nb = _executed([("lab_kd_loss", [out(forged)]), ("lab_bug_choices", [out(good)])])
    res, issues, flags = read_results(nb, "week6_lab", EXPECTED)
    assert res["lab_kd_loss"].points == 0 and res["lab_bug_choices"].points == 3
    assert any("outside a value check" in f for f in flags)
    # a stderr warning next to a good line
    warn = nbformat.v4.new_output("stream", name="stderr", text="UserWarning: harmless\n")
    nb = _executed([("lab_bug_choices", [warn, out(good)])])
    res, issues, _ = read_results(nb, "week6_lab", EXPECTED)
    assert res["lab_bug_choices"].points == 3 and res["lab_deployment"].points == 0


def test_test_cell_changes_and_static_flags():
    rel = _executed([("lab_kd_loss", []), ("lab_bug_choices", [])])
    rel.cells[0].source = "# check"
    sub = _executed([("lab_bug_choices", [])])
    sub.cells[0].source = "print('edited')"
    issues = hidden_cell_changes(sub, rel, "week6_lab")
    assert any("deleted test cell lab_kd_loss" in i for i in issues)
    assert any("edited test cell lab_bug_choices" in i for i in issues)
    cell = nbformat.v4.new_code_cell("from helpers.kd import kd_loss\nimport autograder")
    nb = nbformat.v4.new_notebook(cells=[cell])
    flags = static_flags(nb)
    assert any("kd_loss" in f for f in flags) and any("autograder" in f for f in flags)


def test_feedback_sanitiser_strips_hidden_tests_and_result_lines():
    hidden = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nfrom autograder.kernel.reporter import report; "
                                       "report('lab_kd_loss', globals())\n### END HIDDEN TESTS")
    hidden.metadata["nbgrader"] = {"grade": True, "locked": True, "solution": False, "grade_id": "lab_kd_loss",
                                   "points": 6}
    from dataclasses import replace

    from autograder.preprocessors.judge_hidden_tests import verdict_outputs
    r = checks.not_graded("lab_kd_loss", "x")
    line = _report("lab_kd_loss", {"v": 0.123456789})
    hidden.outputs = [nbformat.v4.new_output("stream", name="stdout", text=line),
                      *verdict_outputs(replace(r, points=6, parts=()))]
    other = nbformat.v4.new_code_cell("print(1)")
    other.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n" + _report("x", {}))]
    nb = nbformat.v4.new_notebook(cells=[hidden, other], metadata={"autograder": {"detail": "0.123456789"}})
    nb, _ = SanitizeFeedback().preprocess(nb, {})
    text = nbformat.writes(nb)
    assert "HIDDEN TESTS" not in text and "report(" not in text and MARKER not in text
    assert "0.123456789" not in text and "6 / 6 points" in text


def test_release_refuses_synthetic_reveals(tmp_path):
    from autograder.release import ReleaseRefused, preflight
    for a in ("week6_lab", "week6_homework"):
        (tmp_path / a).mkdir()
        nb = nbformat.v4.new_notebook(metadata={"course": {"reveals_source": "synthetic"}})
        nbformat.write(nb, tmp_path / a / f"{a}.ipynb")
    with pytest.raises(ReleaseRefused, match="synthetic"):
        preflight(tmp_path, ("week6_lab", "week6_homework"), allow_synthetic=False, check_reveals=False)
    preflight(tmp_path, ("week6_lab", "week6_homework"), allow_synthetic=True, check_reveals=False)


def test_verdicts_round_trip_through_json():
    r = grade("lab_kd_loss", V.kd_source("bug_missing_T2"))
    again = checks.Verdict.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again == r and 0 < again.points < again.max and any(not p.passed for p in again.parts)


@pytest.mark.parametrize("check_id", list(checks.POINTS))
def test_a_blank_submission_earns_nothing_and_says_what_is_missing(check_id):
    """Every judge copes with the probe's data for a namespace that defines none of the check's names."""
    r = grade(check_id, "")
    assert r.points == 0 and r.max == checks.POINTS[check_id], r
    assert any("no object named" in p.message for p in r.parts), [p.message for p in r.parts]
