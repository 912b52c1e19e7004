"""The autograder's judgment, without a kernel: probe -> plain JSON -> checks.

Student code from autograder/examples/variants.py runs straight through the
probe (as it would inside the hidden test cell) and the checks; the end-to-end
test (test_autograder_e2e.py) repeats the important cases through nbgrader.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

from autograder import build_expected, checks, probe
from autograder.examples import variants as V
from autograder.grading import read_results, static_flags, hidden_cell_changes
from autograder.nbext import SanitizeFeedback

ROOT = Path(__file__).resolve().parent.parent
LAB_NB = ROOT / "notebooks" / "week6_lab" / "week6_lab.ipynb"
EXPECTED = {**checks.load_expected("week6_lab"), **checks.load_expected("week6_homework")}


PATCHABLE = [("json", "dumps"), ("json", "loads"), ("numpy", "allclose"), ("numpy", "isclose"),
             ("numpy", "array_equal"), ("numpy.testing", "assert_allclose"), ("torch", "allclose"),
             ("torch", "isclose"), ("math", "isclose")]


def grade(check_id, source, detect=True):
    """Run student code and the probe in this process, then undo any monkeypatching it did."""
    import importlib
    saved = [(importlib.import_module(m), a, getattr(importlib.import_module(m), a)) for m, a in PATCHABLE]
    try:
        ns = {}
        exec(compile(source, "<student>", "exec"), ns)
        data, flags = probe.collect(check_id, ns, detect=detect)
    finally:
        for mod, attr, value in saved:
            setattr(mod, attr, value)
    payload = json.loads(probe.encode({"data": data, "flags": flags}))  # the wire format, round-tripped
    return checks.judge(check_id, payload, EXPECTED)


def parts(result):
    return {p["name"]: p["points"] for p in result["parts"]}


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
    grad = stored["week6_lab"]["lab_kd_loss"]["reference"]["gradient"]["grad_student"]
    grad[0][0] = float(np.nextafter(np.float32(grad[0][0]), np.float32(1)))  # one float32 ulp
    f1 = stored["week6_lab"]["lab_per_tier_f1"]["reference"]["result"]["value"]
    f1["head"] += 1e-12
    assert build_expected.differences(stored, rebuilt_expected) == []

    grad[0][0] *= 1 + 2 * checks.KD_RTOL  # a reference the judge would grade differently
    f1["tail"] += 2 * checks.METRIC_ATOL
    stored["week6_homework"]["hw_coverage_table"]["reference"]["result"]["value"]["columns"]["n_covered"][0] += 1
    diffs = build_expected.differences(stored, rebuilt_expected)
    assert len(diffs) == 3, diffs
    assert any("grad_student/0/0" in d for d in diffs) and any("lab_per_tier_f1" in d and "tail" in d for d in diffs)


def test_answer_key_matches_the_lab_bug_statements():
    nb = nbformat.read(LAB_NB, as_version=4)
    src = next(c.source for c in nb.cells if c.cell_type == "code" and "BUG_STATEMENTS = {" in c.source)
    node = next(n for n in ast.parse(src).body if isinstance(n, ast.Assign) and n.targets[0].id == "BUG_STATEMENTS")
    key = checks.load_answer_key()["lab_bug_choices"]
    assert ast.literal_eval(node.value) == key["statements"], "BUG_STATEMENTS changed: update autograder/answer_key.json"
    assert sorted([*key["bugs"], *key["non_bugs"]]) == sorted(key["statements"])
    assert sorted(key["bugs"].values()) == ["alpha_swapped", "missing_T2", "softmax_input"]


def test_points_match_the_contract():
    text = (ROOT / "docs" / "CONTRACTS.md").read_text()
    for cid, pts in checks.POINTS.items():
        assert f"| `{cid}` | {pts} |" in text


# Robustness (fp16, large logits) is its own point, judged against the student's own formula,
# so a formula bug costs the formula parts and the gradient, not the robustness point as well.
@pytest.mark.parametrize("mutation, expected", [
    ("correct", 6), ("bug_softmax_input", 3), ("bug_missing_T2", 3), ("bug_alpha_swapped", 1),
    ("kl_reversed", 3), ("reduction_mean", 3), ("teacher_not_detached", 5), ("log_of_softmax", 5),
])
def test_kd_loss_mutations(mutation, expected):
    r = grade("lab_kd_loss", V.kd_source(mutation))
    assert r["points"] == expected, parts(r)
    if mutation == "teacher_not_detached":
        assert parts(r)["teacher_detached"] == 0
    if mutation == "log_of_softmax":
        assert parts(r)["fp16_and_large_logits"] == 0
    if mutation == "bug_missing_T2":
        assert "T_d**2 times too small" in " ".join(p["message"] for p in r["parts"])


def test_kd_loss_constant_colleague_and_reference():
    assert grade("lab_kd_loss", V.KD_CONSTANT)["points"] == 0
    assert grade("lab_kd_loss", V.KD_COLLEAGUE)["points"] == 0
    r = grade("lab_kd_loss", V.KD_CALLS_REFERENCE)
    assert r["points"] == 0 and any("helpers.kd.kd_loss" in f for f in r["flags"])


def test_reference_hidden_behind_an_alias_is_still_caught():
    src = "from helpers.kd import kd_loss as _k\nK = {'f': _k}\ndef kd_loss_fn(*a):\n    return K['f'](*a)\n"
    assert grade("lab_kd_loss", src)["points"] == 0
    src = V.kd_source("correct") + "\nimport sys\n_ok = kd_loss_fn\ndef kd_loss_fn(*a):\n    sys.setprofile(None)\n    return _ok(*a)\n"
    r = grade("lab_kd_loss", src)
    assert r["points"] == 0 and r["flags"], "removing the profiler hook must count as hiding a reference call"


def test_patched_allclose_and_json_gain_nothing():
    pre = V.PATCH_ALLCLOSE + "\nimport json, builtins\njson.dumps = lambda *a, **k: '{}'\njson.loads = lambda *a, **k: {}\n"
    assert grade("lab_kd_loss", pre + V.KD_COLLEAGUE)["points"] == 0
    assert grade("lab_kd_loss", pre + V.kd_source("correct"))["points"] == 6


def test_fixed_kd_loss():
    assert grade("lab_fixed_kd_loss", V.kd_source("correct", "fixed_kd_loss"))["points"] == 2
    assert grade("lab_fixed_kd_loss", V.kd_source("bug_missing_T2", "fixed_kd_loss"))["points"] == 0


@pytest.mark.parametrize("chosen, expected", [
    ("{'S1', 'S3', 'S5'}", 3), ("{'S1', 'S3'}", 2), ("{'S1', 'S3', 'S5', 'S2'}", 2),
    ("{'S1', 'S2', 'S4'}", 0), ("set()", 0), ("['S5', 'S9']", 1),
])
def test_bug_choices(chosen, expected):
    assert grade("lab_bug_choices", f"chosen_bugs = {chosen}")["points"] == expected


def test_bootstrap_paired_unpaired_and_broken():
    assert grade("lab_bootstrap_ci", V.BOOTSTRAP_PAIRED)["points"] == 4
    r = grade("lab_bootstrap_ci", V.BOOTSTRAP_UNPAIRED)
    assert parts(r) == {"form": 1, "consistent": 1, "matches_reference": 0, "paired": 0}
    assert grade("hw_bootstrap_ci", V.BOOTSTRAP_PAIRED)["points"] == 3
    assert grade("hw_bootstrap_ci", V.BOOTSTRAP_UNPAIRED)["points"] == 1
    # A different (valid) random stream stays inside the Monte Carlo tolerance.
    other_rng = V.BOOTSTRAP_PAIRED.replace("np.random.RandomState(seed)", "np.random.RandomState(seed + 12345)")
    assert grade("lab_bootstrap_ci", other_rng)["points"] == 4
    swapped = V.BOOTSTRAP_PAIRED.replace("score_fn(arm_b[idx], labels[idx]) - score_fn(arm_a[idx], labels[idx])",
                                         "score_fn(arm_a[idx], labels[idx]) - score_fn(arm_b[idx], labels[idx])")
    assert parts(grade("lab_bootstrap_ci", swapped))["matches_reference"] == 0
    lying = V.BOOTSTRAP_PAIRED.replace('"excludes_zero": bool(lo > 0 or hi < 0)', '"excludes_zero": False')
    assert parts(grade("lab_bootstrap_ci", lying))["consistent"] == 0


def test_coverage_table_nan_for_empty_threshold():
    ok = ("import numpy as np, pandas as pd\ndef coverage_table(p, y, thresholds=(0.5,)):\n"
          "    c = p.max(1); hit = p.argmax(1) == y\n"
          "    return pd.DataFrame([{'threshold': t, 'coverage': (c >= t).mean(), "
          "'accuracy': hit[c >= t].mean() if (c >= t).any() else {empty}, 'n_covered': int((c >= t).sum())} "
          "for t in thresholds])\n")
    assert grade("lab_coverage_table", ok.replace("{empty}", "float('nan')"))["points"] == 2
    r = grade("hw_coverage_table", ok.replace("{empty}", "0.0"))
    assert parts(r) == {"values": 1, "empty_threshold": 0}


def test_metric_checks_and_reference_use():
    f1 = ("import numpy as np\ndef per_tier_f1(y, p, tiers):\n    out = {}\n"
          "    for t in ('head', 'mid', 'tail'):\n        r = tiers == t; f = []\n"
          "        for c in np.unique(y[r]):\n            tp = ((y[r] == c) & (p[r] == c)).sum(); d = (y[r] == c).sum() + (p[r] == c).sum()\n"
          "            f.append(2 * tp / d if d else 0.0)\n        out[t] = float(np.mean(f))\n    return out\n")
    assert grade("lab_per_tier_f1", f1)["points"] == 2
    sk = ("from sklearn.metrics import f1_score\ndef per_tier_f1(y, p, tiers):\n"
          "    return {t: f1_score(y[tiers == t], p[tiers == t], average='macro', zero_division=0) for t in ('head', 'mid', 'tail')}\n")
    assert parts(grade("lab_per_tier_f1", sk)) == {"form": 1, "values": 0}
    r = grade("lab_per_tier_ece", "from helpers.metrics import per_tier_ece")
    assert r["points"] == 0 and r["flags"]
    assert grade("hw_reproducible_fraction", "def reproducible_fraction(v, t, d):\n    return (v - t) / (v - d)\n")["points"] == 1
    assert grade("hw_reproducible_fraction", "def reproducible_fraction(v, t, d):\n    return (v - d) / (v - t)\n")["points"] == 0
    assert grade("hw_fit_temperature", "def fit_temperature(z, y):\n    return 1.0\n")["points"] == 0


def test_deployment_rules():
    base = ("import pandas as pd\ncoverage_df = pd.DataFrame({'threshold': [0.5, 0.7], 'coverage': [0.8, 0.61234], "
            "'accuracy': [0.7, 0.9], 'n_covered': [80, 61]})\n"
            "synthesis_tables = {'calibration': pd.DataFrame({'ece': [0.0546, 0.0263]}, index=['distilled', 'vanilla+T'])}\n")
    good = base + ("deployment = dict(scenario='B', model='distilled', threshold=0.7, coverage=0.612, accuracy=0.9, "
                   "decision_rule='x', justification='its ECE is 0.055 on the eval half', "
                   "flip_constraint='regulator ECE ceiling', switch_point=0.05, alternative='vanilla+T')\n")
    assert grade("lab_deployment", good)["points"] == 3
    bad = good.replace("threshold=0.7", "threshold=0.75").replace("0.055 on", "0.07 on").replace(
        "alternative='vanilla+T'", "alternative='distilled'")
    assert grade("lab_deployment", bad)["points"] == 0


def _executed(cells):
    nb = nbformat.v4.new_notebook()
    for gid, outputs in cells:
        c = nbformat.v4.new_code_cell("")
        c.metadata["nbgrader"] = {"grade": True, "grade_id": gid, "locked": True, "solution": False, "points": 1}
        c.outputs = outputs
        nb.cells.append(c)
    return nb


def _line(check_id, nonce, data):
    return probe.MARKER + " " + probe.encode({"check": check_id, "nonce": nonce, "flags": [], "data": data}) + "\n"


def test_forged_duplicate_and_corrupt_lines():
    ns = {}
    exec(V.kd_source("correct"), ns)
    good = probe.collect("lab_kd_loss", ns)[0]
    out = lambda text: nbformat.v4.new_output("stream", name="stdout", text=text)  # noqa: E731
    nb = _executed([("lab_kd_loss", [out(_line("lab_kd_loss", "forged", good))])])
    res, issues, flags = read_results(nb, "n0nce", "week6_lab", EXPECTED)
    assert res["lab_kd_loss"]["points"] == 0 and flags
    nb = _executed([("lab_kd_loss", [out(_line("lab_kd_loss", "n0nce", good) * 2)])])
    assert read_results(nb, "n0nce", "week6_lab", EXPECTED)[0]["lab_kd_loss"]["points"] == 0
    nb = _executed([("lab_kd_loss", [out(_line("lab_kd_loss", "n0nce", good))])])
    assert read_results(nb, "n0nce", "week6_lab", EXPECTED)[0]["lab_kd_loss"]["points"] == 6
    nb = _executed([("lab_kd_loss", [out(probe.MARKER + " {not json\n")])])
    res, issues, _ = read_results(nb, "n0nce", "week6_lab", EXPECTED)
    assert res["lab_kd_loss"]["points"] == 0 and "unreadable" in " ".join(issues)
    # a check whose cell is missing entirely, and a stderr warning next to a good line
    warn = nbformat.v4.new_output("stream", name="stderr", text="UserWarning: harmless\n")
    nb = _executed([("lab_kd_loss", [warn, out(_line("lab_kd_loss", "n0nce", good))])])
    res, issues, _ = read_results(nb, "n0nce", "week6_lab", EXPECTED)
    assert res["lab_kd_loss"]["points"] == 6 and res["lab_deployment"]["points"] == 0


def test_test_cell_changes_and_static_flags():
    rel = _executed([("lab_kd_loss", []), ("lab_bug_choices", [])])
    rel.cells[0].source = "# check"
    sub = _executed([("lab_bug_choices", [])])
    sub.cells[0].source = "print('edited')"
    issues = hidden_cell_changes(sub, rel, "week6_lab")
    assert any("deleted test cell lab_kd_loss" in i for i in issues)
    assert any("edited test cell lab_bug_choices" in i for i in issues)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from helpers.kd import kd_loss\nimport autograder")])
    flags = static_flags(nb)
    assert any("kd_loss" in f for f in flags) and any("autograder" in f for f in flags)


def test_feedback_sanitiser_strips_hidden_tests_and_result_lines():
    hidden = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\nfrom autograder.probe import probe; probe('lab_kd_loss', globals())\n### END HIDDEN TESTS")
    hidden.metadata["nbgrader"] = {"grade": True, "locked": True, "solution": False, "grade_id": "lab_kd_loss", "points": 6}
    hidden.metadata["autograder"] = {"text": "Autograder: lab_kd_loss: 6 / 6 points\n"}
    hidden.outputs = [nbformat.v4.new_output("stream", name="stdout", text=_line("lab_kd_loss", "x", {"v": 0.123456789}))]
    other = nbformat.v4.new_code_cell("print(1)")
    other.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n" + _line("x", "y", {}))]
    nb = nbformat.v4.new_notebook(cells=[hidden, other])
    nb, _ = SanitizeFeedback().preprocess(nb, {})
    text = nbformat.writes(nb)
    assert "HIDDEN TESTS" not in text and "probe(" not in text and probe.MARKER not in text
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
