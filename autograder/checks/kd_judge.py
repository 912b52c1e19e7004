"""The judge of lab_kd_loss (driver side): which term is wrong, and the slip it most likely is.

Values are compared with the reference's at float32 tolerances; a failing term's
hint is only given when the student's values match that slip on every setting.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .verdict import Part, Verdict, close, error_of, fmt, num, part, verdict, zero

if TYPE_CHECKING:
    from .base import Check

# KD values are float32 sums over at most 113 classes: 1e-4 relative leaves room for
# any float32 formulation (manual KL, kl_div with or without log_target) and none for
# a missing factor or a wrong reduction.
KD_RTOL, KD_ATOL = 1e-4, 1e-6
KD_FP16_RTOL = 1e-2  # fp16 arithmetic end to end is allowed: ~3 significant digits
# ... and fp16 rounding is absolute near a loss of 0: log-sum-exp in half steps by ~1e-3,
# and a mixed loss can cancel its two terms, so a tiny loss carries no relative digits.
# What the fp16 part must catch (overflow to inf/nan, a raise, a dtype clash) is far
# outside this; without it, ~1 drawn seed in 10 failed honest fp16 arithmetic.
KD_FP16_ATOL = 1e-2


def _kd_case_label(case):
    b, c, T, a = case
    return f"batch={b}, classes={c}, T_d={T:g}, alpha={a:g}"


def _kd_compare(got, exp, rtol, atol=KD_ATOL):
    if not got.get("ok"):
        return False, f"raised or returned something unusable ({error_of(got)})"
    v, e = got["value"], exp["value"]
    if not math.isfinite(v):
        return False, f"returned {fmt(v)} (not finite)"
    if close(v, e, rtol, atol):
        return True, ""
    return False, f"returned {fmt(v)}"


def kd_value(r: dict) -> float | None:
    """A usable finite loss value of a probe result, else None."""
    return r["value"] if r.get("ok") and num(r.get("value")) and math.isfinite(r["value"]) else None


def _all_close(values, refs, rtol=KD_RTOL):
    return all(v is not None and close(v, e, rtol, KD_ATOL) for v, e in zip(values, refs))


# What a failing term most likely is, recognised from the values themselves.  Each hint is
# only given when the student's values match that slip on every setting.
SOFT_SLIPS = {
    "softmax_input": "your soft term matches passing probabilities (softmax) as F.kl_div's first argument; "
                     "kl_div expects log-probabilities there: use F.log_softmax(student_logits / T_d).",
    "no_T2": "your soft term is exactly T_d**2 times too small: the soft term needs the T_d**2 factor.",
    "kl_reversed": "your soft term matches KL(student || teacher); the teacher is the target: "
                   "F.kl_div(log_softmax(student / T_d), softmax(teacher / T_d)).",
    "reduction_mean": "your soft term is n_classes times too small: reduction='mean' averages over classes "
                      "too; use reduction='batchmean'.",
    "reduction_sum": "your soft term is batch-size times too large: reduction='sum' adds over the batch; use "
                     "reduction='batchmean'.",
    "teacher_unsoftened": "your soft term matches a teacher that is not divided by T_d; both distributions "
                          "are softened by the same T_d.",
}
CE_SLIPS = {
    "ce_softened": "your cross-entropy uses the softened logits student_logits / T_d; the hard-label term "
                   "is at temperature 1.",
    "ce_sum": "your cross-entropy adds over the batch (reduction='sum'); use the mean.",
    "ce_on_teacher": "your cross-entropy scores the teacher's logits; it is the student's loss.",
}


def _kd_rows(data, exp):
    """Per setting: (label, {alpha: student value or None}, {alpha: reference}, {alpha: raw result})."""
    alphas, rows = exp["alphas"], []
    grid, ref = data.get("grid", []), exp["reference"]["grid"]
    for k, (b, c, T) in enumerate(exp["settings"]):
        got = grid[k * len(alphas):(k + 1) * len(alphas)]
        want = ref[k * len(alphas):(k + 1) * len(alphas)]
        rows.append(((b, c, T), {a: kd_value(g) for a, g in zip(alphas, got)},
                     {a: e["value"] for a, e in zip(alphas, want)}, dict(zip(alphas, got))))
    return rows


def _term_part(name, values, refs, slips, exp_slips, rule, generic, rows, constant):
    if _all_close(values, refs):
        return part(name, True, 1)
    bad = next(i for i, (v, e) in enumerate(zip(values, refs)) if v is None or not close(v, e, KD_RTOL, KD_ATOL))
    (b, c, T), raw = rows[bad][0], rows[bad][3]
    got = values[bad]
    if got is None:
        first = next((r for r in raw.values() if not r.get("ok")), None)
        what = f"raised or returned something unusable ({error_of(first)})" if first else "returned a non-finite value"
    else:
        what = f"returned {fmt(got)}"
    if constant:
        hint = ("Your loss returns the same value whatever the inputs: it must be computed from "
                "student_logits, teacher_logits and labels.")
    else:
        hint = next((text for slip, text in slips.items()
                     if _all_close(values, exp_slips.get(slip, []), 1e-4)), generic)
    fails = sum(1 for v, e in zip(values, refs) if v is None or not close(v, e, KD_RTOL, KD_ATOL))
    return part(name, False, 1,
                f"{fails} of {len(refs)} settings differ. At batch={b}, classes={c}, T_d={T:g} it {what}; "
                f"expected {rule} (relative tolerance {KD_RTOL:g}). {hint}",
                f"expected {fmt(refs[bad])}")


def _kd_parts(data, exp):
    rows = _kd_rows(data, exp)
    f0 = [r[1][0.0] for r in rows]
    f1 = [r[1][1.0] for r in rows]
    ce_ref = [r[2][0.0] for r in rows]
    soft_ref = [r[2][1.0] for r in rows]
    seen = [v for r in rows for v in r[1].values() if v is not None]
    constant = len(seen) >= 8 and max(seen) - min(seen) <= 1e-9 * max(1.0, abs(seen[0]))
    # Which way round are the weights?  alpha = 0 must give the CE, alpha = 1 the soft term.
    straight = _all_close(f0, ce_ref) or _all_close(f1, soft_ref)
    swapped = not straight and (_all_close(f1, ce_ref) or _all_close(f0, soft_ref))
    ce_vals, soft_vals = (f1, f0) if swapped else (f0, f1)
    slips = exp["slips"]
    parts = [
        _term_part("ce_term", ce_vals, ce_ref, CE_SLIPS, slips["ce"],
                   "plain cross-entropy of the unsoftened student logits (the alpha=0 value)",
                   "Use F.cross_entropy(student_logits, labels), averaged over the batch.", rows, constant),
        _term_part("soft_term", soft_vals, soft_ref, SOFT_SLIPS, slips["soft"],
                   "T_d**2 * KL(softmax(t/T_d) || softmax(s/T_d)) averaged over the batch (the alpha=1 value)",
                   "Check F.kl_div's arguments (log_softmax(student/T_d) first, the teacher's probabilities as "
                   "the target), the T_d**2 factor and reduction='batchmean'.", rows, constant),
    ]
    formula_holds = any(p.passed for p in parts)
    problem = _weights_problem(rows, exp["alphas"], swapped, formula_holds)
    parts.append(part("weights", not problem, 1, f"{problem}.", problem))
    parts.append(_robustness_part(data, exp, formula_holds))
    parts.append(_gradient_part(data))
    parts.append(_teacher_part(data, formula_holds))
    return parts


def _weights_problem(rows: list, alphas: list, swapped: bool, formula_holds: bool) -> str:
    """What is wrong with the weights ("" when nothing), judged on the student's own two terms:
    whatever they compute, alpha weights the soft term and 1 - alpha the cross-entropy."""
    problem = ""
    if swapped:
        problem = ("your alpha=0 value is the soft term and your alpha=1 value the cross-entropy: alpha and "
                   "1 - alpha are swapped. The soft term gets alpha, the cross-entropy 1 - alpha")
    elif not formula_holds:
        problem = "not credited until the cross-entropy or the soft term is right"
    else:
        for (b, c, T), vals, _, _ in rows:
            for a in alphas:
                if a in (0.0, 1.0):
                    continue
                v, lo, hi = vals[a], vals[0.0], vals[1.0]
                if v is None or lo is None or hi is None:
                    problem = f"at batch={b}, classes={c}, T_d={T:g}, alpha={a:g} no usable value came back"
                elif not close(v, a * hi + (1 - a) * lo, KD_RTOL, KD_ATOL):
                    problem = (f"at batch={b}, classes={c}, T_d={T:g}, alpha={a:g} your loss is {fmt(v)}, not "
                               f"alpha * (your alpha=1 value) + (1 - alpha) * (your alpha=0 value) = "
                               f"{fmt(a * hi + (1 - a) * lo)}. Weight the soft term by alpha and the "
                               "cross-entropy by 1 - alpha, nothing else")
                if problem:
                    break
            if problem:
                break
    return problem


def _robustness_part(data: dict, exp: dict, formula_holds: bool) -> Part:
    """fp16 and large logits: robustness, judged against the student's own function on the same inputs
    in float32 / float64, and credited once any formula part holds."""
    fails = []
    for case, g, own in zip(exp["fp16_cases"], data["fp16"], data.get("fp16_own_fp32", [])):
        if not own.get("ok"):
            continue  # the float32 run failing is a formula problem, charged above
        ok, what = _kd_compare(g, own, KD_FP16_RTOL, KD_FP16_ATOL)
        if not ok:
            fails.append(("fp16", f"with float16 inputs at {_kd_case_label(case)} your loss {what}, against "
                                  f"{fmt(own['value'])} for the same inputs in float32"))
    for case, g, own in zip(exp["large_cases"], data["large"], data.get("large_own_fp64", [])):
        if not own.get("ok"):
            continue
        ok, what = _kd_compare(g, own, KD_RTOL)
        if not ok:
            fails.append(("large", f"with logits of size ~1000 at {_kd_case_label(case)} your loss {what}, "
                                   f"against {fmt(own['value'])} for the same inputs in float64"))
    if not formula_holds and not fails:
        fails.append(("gate", "not credited until the cross-entropy or the soft term is right"))
    kind, first = fails[0] if fails else ("", "")
    if kind == "fp16":
        advice = "Convert the logits to float32 (.float()) before any arithmetic."
    elif kind == "large":
        nonfinite = any(not (g.get("ok") and num(g.get("value")) and math.isfinite(g["value"]))
                        for g in data["large"])
        advice = ("A log of probabilities that underflowed to 0 gives -inf: take log-probabilities with "
                  "log_softmax (or pass logits to torch.distributions) instead of log(softmax(...))."
                  if nonfinite else "Compute in float32 at least, with log_softmax for the log-probabilities.")
    else:
        advice = ""
    return part("fp16_and_large_logits", not fails, 1, f"{first}. {advice}".strip(),
                "; ".join(f for _, f in fails[:3]))


def _teacher_part(data: dict, formula_holds: bool) -> Part:
    """No gradient may reach the teacher's logits (credited once any formula part holds)."""
    g = data["gradient"]
    leak = g.get("teacher_grad_abs_sum") if g.get("ok") else None
    msg = ("not credited until the cross-entropy or the soft term is right" if not formula_holds else
           f"a gradient reached the teacher logits (sum of |grad| = {fmt(leak)}); expected none. The teacher "
           "is a fixed target: use teacher_logits.detach() (or no_grad) before softening it.")
    return part("teacher_detached", formula_holds and not (leak is not None and leak > 0.0), 1, msg,
                f"teacher grad abs sum {leak}")


KD_GRAD_RTOL, KD_GRAD_ATOL = 2e-2, 2e-3


def _gradient_part(data):
    g = data["gradient"]
    if not g.get("ok"):
        return part("gradient", False, 1, f"expected a scalar tensor whose backward() reaches the student logits; "
                                          f"{error_of(g)}.", error_of(g))
    auto, fd = g.get("autograd_slopes"), g.get("fd_slopes") or []
    if auto is None:
        return part("gradient", False, 1,
                    "no gradient reached the student logits; keep the whole computation in torch on "
                    "student_logits (no .item(), .detach(), numpy or torch.tensor(...) on the student side).",
                    "no grad")
    bad = [(a, f) for a, f in zip(auto, fd) if not close(a, f, KD_GRAD_RTOL, KD_GRAD_ATOL)]
    if not bad:
        return part("gradient", True, 1)
    a, f = bad[0]
    return part("gradient", False, 1,
                f"the gradient backward() gives does not match how your own loss changes when the student "
                f"logits move (directional slope {fmt(a)} by autograd, {fmt(f)} measured): part of the loss is "
                "cut off from autograd (a .detach(), .item(), numpy or torch.tensor(...) on the student side).",
                f"autograd {fmt(a)} vs finite difference {fmt(f)}")


def judge_kd(check: Check, data: dict, exp: dict) -> Verdict:
    """Six parts: the cross-entropy, the soft term, the weights, fp16 and large logits, the gradient, the teacher."""
    if "missing" in data:
        return zero(check.id, check.points, f"{error_of(data['missing'])}; define kd_loss_fn with the signature "
                                            f"(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7).", "graded")
    return verdict(check.id, check.points, _kd_parts(data, exp))
