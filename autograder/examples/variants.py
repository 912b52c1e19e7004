"""Code a student might write: the correct versions and the classic mistakes.

The example generator appends these snippets to the solution cell that defines the
function (so the later definition wins), and the unit tests run them straight
through the probe and the checks.
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


def kd_source(mutation="correct", name="kd_loss_fn"):
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
}

# Right formula, returned as a Python float: the gradient is lost (one mistake, one part).
KD_RETURNS_FLOAT = KD_TEMPLATE.format(name="kd_loss_fn", **{**_KD_OK, "weights": "float(alpha * soft + (1 - alpha) * hard)"})

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


def fixed_copy(*fixes):
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
