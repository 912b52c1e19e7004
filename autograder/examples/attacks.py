"""Submissions that attack the grading trust boundary (issue 15); each must gain nothing.

The example generator appends or prepends these to a solution cell, and the
end-to-end test grades them like any other submission (see ``make_examples.EXAMPLES``).
The software is public, so every attack here knows it: the DEFAULT seed's inputs, the
host's frame format, the reporter's line.  Only the course secret, the answer key and
the expected values are not.
"""
from __future__ import annotations

import json


def lookup_table_per_tier_f1() -> str:
    """A per_tier_f1 that answers the DEFAULT seed's inputs from a table of the stored answers.

    Built from the public input builder and the expected file, as a student with the
    software and an old grade report could.  On any other input it returns the same
    answer (right form, wrong values), so the notebook's own cells keep running.  With
    the DEFAULT seed it would earn 2; under the run's drawn seed it earns the form only.
    """
    from autograder import checks
    from autograder.checks.tier_metrics import tier_data
    labels, _, _, _ = tier_data(11)
    answer = checks.load_expected("week6_lab")["lab_per_tier_f1"]["reference"]["result"]["value"]
    key = ",".join(str(int(v)) for v in labels[:16])
    return (f"_TABLE = {{{key!r}: {json.dumps(answer)}}}\n\n"
            "def per_tier_f1(labels, preds, tiers):\n"
            "    key = ','.join(str(int(v)) for v in np.asarray(labels)[:16])\n"
            "    return dict(_TABLE.get(key, next(iter(_TABLE.values()))))\n")


# The bug hunt's dead-code "fix": every colleague token is still there, after a return that
# hands back the student's own kd_loss_fn.
FIXED_DEAD_CODE = '''
def fixed_kd_loss(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    return kd_loss_fn(student_logits, teacher_logits, labels, T_d, alpha)
    soft_student = F.log_softmax(student_logits / T_d, dim=-1)
    soft_teacher = F.softmax(teacher_logits / T_d, dim=-1)
    kl = F.kl_div(soft_student, soft_teacher, reduction="batchmean") * T_d ** 2
    ce = F.cross_entropy(student_logits, labels)
    return alpha * kl + (1 - alpha) * ce
'''

# The same, with the result brought in by a helper the cell defines.
FIXED_HELPER = '''
_mine = lambda s, t, y, T, a: a * T ** 2 * F.kl_div(F.log_softmax(s / T, dim=-1), F.log_softmax(t / T, dim=-1),
                                                    reduction="batchmean", log_target=True) \\
    + (1 - a) * F.cross_entropy(s, y)

def fixed_kd_loss(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7):
    soft_student = F.log_softmax(student_logits / T_d, dim=-1)
    soft_teacher = F.softmax(teacher_logits / T_d, dim=-1)
    kl = F.kl_div(soft_student, soft_teacher, reduction="batchmean") * T_d ** 2
    ce = _mine(student_logits, teacher_logits, labels, T_d, alpha)
    return alpha * kl + (1 - alpha) * ce
'''

# Prepended to the chosen_bugs cell: replace the kernel's reporter in sys.modules by one that
# also prints a forged full-marks line for the KD loss (a function check: never read there).
REBIND_REPORTER = '''
import importlib, json, sys, types
_real_reporter = importlib.import_module("autograder.kernel.reporter")
_fake = types.ModuleType("autograder.kernel.reporter")

def _report(check_id, namespace, *names):
    print('@@AUTOGRADER-RESULT@@ ' + json.dumps({"check": "lab_kd_loss", "values": {}, "flags": [],
                                                "data": {"grid": [{"ok": True, "value": 0.0}]}}))
    _real_reporter.report(check_id, namespace, *names)

_fake.report = _report
sys.modules["autograder.kernel.reporter"] = _fake
'''

# Appended to the kd_loss_fn cell: the function writes a forged frame straight onto the host's
# reply pipe (its number is on the host's command line) before returning.
UNSOLICITED_FRAME = '''
_honest_kd = kd_loss_fn

def kd_loss_fn(*args, **kw):
    import json, os, struct, sys
    try:
        out_fd = int(sys.argv[-1])
        body = json.dumps({"seq": 1, "result": {"ok": True, "value": 0.0}}).encode()
        os.write(out_fd, struct.pack(">I", len(body)) + body)
    except (ValueError, OSError, IndexError):
        pass
    return _honest_kd(*args, **kw)
'''
