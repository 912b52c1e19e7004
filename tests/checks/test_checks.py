"""The check registry (autograder/checks/__init__.py): points, answer key, references out of reach,
blank submissions."""
from __future__ import annotations

import ast

import nbformat
import pytest
from checkgrading import LAB_NB, ROOT, grade

from autograder import checks
from autograder.examples import variants as V


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


@pytest.mark.parametrize("check_id", list(checks.POINTS))
def test_a_blank_submission_earns_nothing_and_says_what_is_missing(check_id):
    """Every judge copes with the probe's data for a namespace that defines none of the check's names."""
    r = grade(check_id, "")
    assert r.points == 0 and r.max == checks.POINTS[check_id], r
    assert any("no object named" in p.message for p in r.parts), [p.message for p in r.parts]
