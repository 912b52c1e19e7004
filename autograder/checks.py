"""The judgment: compare a probe's plain data with the stored expected values, outside the kernel.

Each check returns a dict: points, max, parts (one per separable skill, each with
its own points and a message) and flags for the instructor.  Messages are for
students: what was expected (the rule, the tolerance), what came back, and a hint.
They never quote an expected number; the instructor detail (``detail``) does.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

POINTS = {
    "lab_kd_loss": 6, "lab_bug_choices": 3, "lab_fixed_kd_loss": 3, "lab_per_tier_f1": 2,
    "lab_per_tier_ece": 2, "lab_bootstrap_ci": 3, "lab_coverage_table": 2, "lab_deployment": 4,
    "hw_per_class_f1": 2, "hw_per_tier_js": 2, "hw_fit_temperature": 2, "hw_reproducible_fraction": 1,
    "hw_bootstrap_ci": 3, "hw_coverage_table": 2,
}
NOTEBOOK_OF = {cid: ("week6_lab" if cid.startswith("lab_") else "week6_homework") for cid in POINTS}
EXPECTED_FILE = {"week6_lab": "lab.json", "week6_homework": "homework.json"}
TIERS = ("head", "mid", "tail")
HERE = Path(__file__).resolve().parent

# KD values are float32 sums over at most 113 classes: 1e-4 relative leaves room for
# any float32 formulation (manual KL, kl_div with or without log_target) and none for
# a missing factor or a wrong reduction.
KD_RTOL, KD_ATOL = 1e-4, 1e-6
KD_FP16_RTOL = 1e-2  # fp16 arithmetic end to end is allowed: ~3 significant digits
METRIC_ATOL = 1e-6


def load_expected(notebook):
    return json.loads((HERE / "expected" / EXPECTED_FILE[notebook]).read_text())


def load_answer_key():
    return json.loads((HERE / "answer_key.json").read_text())


# --------------------------------------------------------------------------- helpers
def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def close(got, exp, rtol=0.0, atol=METRIC_ATOL):
    if not (_num(got) and _num(exp)):
        return False
    if math.isnan(exp):
        return math.isnan(got)
    if not math.isfinite(got):
        return False
    return abs(got - exp) <= atol + rtol * abs(exp)


def fmt(x):
    if _num(x):
        return f"{x:.6g}"
    text = json.dumps(x, allow_nan=True)
    return text if len(text) <= 120 else text[:117] + "..."


def part(name, ok, max_points, message="", detail=""):
    return {"name": name, "points": max_points if ok else 0, "max": max_points, "passed": bool(ok),
            "message": "" if ok else message, "detail": "" if ok else detail}


def _result(check_id, parts, flags=(), status="graded", note=""):
    points = max(0, sum(p["points"] for p in parts))
    return {"check": check_id, "points": points, "max": POINTS[check_id], "parts": parts,
            "flags": list(flags), "status": status, "note": note}


def not_graded(check_id, reason, status="not run"):
    """Zero points for a check whose probe produced no usable data."""
    return _result(check_id, [part("ran", False, POINTS[check_id], reason, reason)], status=status, note=reason)


def _err(res):
    return res.get("error", "no value came back") if isinstance(res, dict) else "no value came back"


# --------------------------------------------------------------------------- KD loss
def _kd_case_label(case):
    b, c, T, a = case
    return f"batch={b}, classes={c}, T_d={T:g}, alpha={a:g}"


def _kd_compare(got, exp, rtol):
    if not got.get("ok"):
        return False, f"raised or returned something unusable ({_err(got)})"
    v, e = got["value"], exp["value"]
    if not math.isfinite(v):
        return False, f"returned {fmt(v)} (not finite)"
    if close(v, e, rtol, KD_ATOL):
        return True, ""
    return False, f"returned {fmt(v)}"


def _kd_value(r):
    return r["value"] if r.get("ok") and _num(r.get("value")) and math.isfinite(r["value"]) else None


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
        rows.append(((b, c, T), {a: _kd_value(g) for a, g in zip(alphas, got)},
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
        what = f"raised or returned something unusable ({_err(first)})" if first else "returned a non-finite value"
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
    formula_holds = any(p["passed"] for p in parts)
    # The weights, judged on the student's own two terms: whatever they compute, alpha weights
    # the soft term and 1 - alpha the cross-entropy.
    problem = ""
    if swapped:
        problem = ("your alpha=0 value is the soft term and your alpha=1 value the cross-entropy: alpha and "
                   "1 - alpha are swapped. The soft term gets alpha, the cross-entropy 1 - alpha")
    elif not formula_holds:
        problem = "not credited until the cross-entropy or the soft term is right"
    else:
        for (b, c, T), vals, _, _ in rows:
            for a in exp["alphas"]:
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
    parts.append(part("weights", not problem, 1, f"{problem}.", problem))
    # fp16 and large logits: robustness, judged against the student's own function on the
    # same inputs in float32 / float64, and credited once any formula part holds.
    fails = []
    for case, g, own in zip(exp["fp16_cases"], data["fp16"], data.get("fp16_own_fp32", [])):
        if not own.get("ok"):
            continue  # the float32 run failing is a formula problem, charged above
        ok, what = _kd_compare(g, own, KD_FP16_RTOL)
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
        nonfinite = any(not (g.get("ok") and _num(g.get("value")) and math.isfinite(g["value"]))
                        for g in data["large"])
        advice = ("A log of probabilities that underflowed to 0 gives -inf: take log-probabilities with "
                  "log_softmax (or pass logits to torch.distributions) instead of log(softmax(...))."
                  if nonfinite else "Compute in float32 at least, with log_softmax for the log-probabilities.")
    else:
        advice = ""
    parts.append(part("fp16_and_large_logits", not fails, 1, f"{first}. {advice}".strip(),
                      "; ".join(f for _, f in fails[:3])))
    parts.append(_gradient_part(data))
    g = data["gradient"]
    leak = g.get("teacher_grad_abs_sum") if g.get("ok") else None
    msg = ("not credited until the cross-entropy or the soft term is right" if not formula_holds else
           f"a gradient reached the teacher logits (sum of |grad| = {fmt(leak)}); expected none. The teacher "
           "is a fixed target: use teacher_logits.detach() (or no_grad) before softening it.")
    parts.append(part("teacher_detached", formula_holds and not (leak is not None and leak > 0.0), 1, msg,
                      f"teacher grad abs sum {leak}"))
    return parts


KD_GRAD_RTOL, KD_GRAD_ATOL = 2e-2, 2e-3


def _gradient_part(data):
    g = data["gradient"]
    if not g.get("ok"):
        return part("gradient", False, 1,
                    f"expected a scalar tensor whose backward() reaches the student logits; {_err(g)}.", _err(g))
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


def judge_kd(check_id, data, exp):
    if "missing" in data:
        return not_graded(check_id, f"{_err(data['missing'])}; define kd_loss_fn with the signature "
                                    f"(student_logits, teacher_logits, labels, T_d=4.0, alpha=0.7).", "graded")
    return _result(check_id, _kd_parts(data, exp))


# --------------------------------------------------------------------------- the fixed colleague loss
FIX_BUGS = ("softmax_input", "missing_T2", "alpha_swapped")
FIX_HINTS = {
    "softmax_input": "F.kl_div still receives probabilities as its first argument",
    "missing_T2": "the soft term still lacks the T_d**2 factor",
    "alpha_swapped": "the cross-entropy is still weighted by alpha and the soft term by 1 - alpha",
}
# How close the fixed function's code must stay to the colleague's: the share of the
# colleague's tokens that survive in order (difflib).  Fixing the three bugs in place keeps
# about 0.9 of them (also with .float()/.detach() added); a KD loss written afresh, even in
# the colleague's style, keeps at most about 0.67 (tests/test_autograder_checks.py).
FIX_MIN_KEPT = 0.8


def _code_tokens(source):
    """Names, operators and literals of a function's body (no signature, docstring, comments or layout)."""
    import io
    import tokenize
    try:
        gen = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER)
    toks, body = [], False
    for tok in gen:
        if not body:
            # The body starts after the logical line of the def (whatever its annotations or defaults).
            body = tok.type == tokenize.NEWLINE
            continue
        if tok.type in skip:
            continue
        if tok.type == tokenize.STRING and not toks:
            continue  # the docstring
        toks.append(tok.string)
    return toks


def kept_share(student_source, colleague_source):
    import difflib
    mine, theirs = _code_tokens(student_source), _code_tokens(colleague_source)
    if not mine or not theirs:
        return 0.0
    sm = difflib.SequenceMatcher(None, theirs, mine, autojunk=False)
    return sum(b.size for b in sm.get_matching_blocks()) / len(theirs)


def judge_fixed(check_id, data, exp):
    if "missing" in data:
        return not_graded(check_id, f"{_err(data['missing'])}; fix the colleague's code in the cell that "
                                    "defines fixed_kd_loss.", "graded")

    def all_parts(ok_bugs, message, detail=""):
        return [part(f"fixed_{b}", b in ok_bugs, 1, message or f"{FIX_HINTS[b]}.", detail) for b in FIX_BUGS]

    if data.get("is_kd_loss_fn") or data.get("name") == "kd_loss_fn":
        return _result(check_id, all_parts(set(), "fixed_kd_loss is your own kd_loss_fn; the task is to fix the "
                                           "colleague's code: edit the copy of it in the fixed_kd_loss cell.",
                                           "aliased kd_loss_fn"))
    src = data.get("source")
    if not isinstance(src, str):
        return _result(check_id, all_parts(set(), "the source of fixed_kd_loss could not be read; define it with "
                                           "def in the cell that holds the colleague's copy.", "no source"))
    kept = kept_share(src, exp["colleague_source"])
    if kept < FIX_MIN_KEPT:
        return _result(check_id, all_parts(
            set(), f"fixed_kd_loss keeps only {kept:.0%} of the colleague's code; the task is to fix the "
                   "colleague's function in place (change the lines that are wrong, keep the rest), not to write "
                   "a new loss.", f"kept share {kept:.3f}"))
    got = data.get("cases", [])
    values = [_kd_value(r) for r in got]
    if any(v is None for v in values):
        first = next(r for r in got if _kd_value(r) is None)
        msg = f"fixed_kd_loss raised or returned something unusable ({_err(first)}) on the probe's inputs."
        return _result(check_id, all_parts(set(), msg, msg))
    match = None
    for combo in exp["combos"]:
        if all(close(v, e, KD_RTOL, KD_ATOL) for v, e in zip(values, combo["values"])):
            match = combo
            break
    if match is None:
        return _result(check_id, all_parts(
            set(), "fixed_kd_loss computes neither the colleague's loss nor any version of it with some bugs "
                   "fixed: change only the lines that are wrong, and compare with your kd_loss_fn.",
            f"no combination matched; values {values[:3]}"))
    extra = match["edits"]
    parts = [part(f"fixed_{b}", b in match["fixed"], 1, f"{FIX_HINTS[b]}.", f"matched {match['name']}")
             for b in FIX_BUGS]
    if extra:
        parts.append({"name": "changed_correct_code", "points": -1, "max": 0, "passed": False,
                      "message": f"you also changed code that was correct as written ({', '.join(extra)}); "
                                 "that makes the loss wrong again (-1).", "detail": f"edits {extra}"})
    return _result(check_id, parts)


# --------------------------------------------------------------------------- bug hunt
BUG_HINTS = {
    "softmax_input": "what F.kl_div expects as its first argument",
    "missing_T2": "how the soft term's scale changes with T_d",
    "alpha_swapped": "which term alpha weights",
}


def judge_bugs(check_id, data, exp):
    key = exp["answer_key"]
    got = data.get("chosen", {})
    if not got.get("ok"):
        return not_graded(check_id, f"{_err(got)}; set chosen_bugs to a set of statement ids such as "
                                    "{'S1', 'S2'}.", "graded")
    chosen = set(got["value"])
    parts = []
    for sid, kind in sorted(key["bugs"].items()):
        parts.append(part(f"bug_{kind}", sid in chosen, 1,
                          f"one of the three bugs was not chosen; hint: look again at {BUG_HINTS.get(kind, kind)}.",
                          f"missed {sid}"))
    wrong = sorted(chosen & set(key["non_bugs"]))
    unknown = sorted(chosen - set(key["bugs"]) - set(key["non_bugs"]))
    if wrong:
        parts.append({"name": "non_bugs_chosen", "points": -len(wrong), "max": 0, "passed": False,
                      "message": f"you chose {', '.join(wrong)}, which {'is' if len(wrong) == 1 else 'are'} not "
                                 f"among the bugs (-1 each); that code is correct as written.",
                      "detail": f"non-bugs chosen {wrong}"})
    if unknown:
        parts.append({"name": "unknown_ids", "points": 0, "max": 0, "passed": False,
                      "message": f"ignored ids that are not statements: {', '.join(unknown)}.",
                      "detail": f"unknown {unknown}"})
    return _result(check_id, parts)


# --------------------------------------------------------------------------- per-tier dict metrics
def _tier_dict(res, what):
    if not res.get("ok"):
        return None, f"{_err(res)}"
    v = res["value"]
    if not isinstance(v, dict):
        return None, f"returned {type(v).__name__}; expected a dict tier -> {what}"
    missing = [t for t in TIERS if t not in v]
    if missing:
        return None, f"returned keys {sorted(v)}; expected the tiers {list(TIERS)}"
    if not all(_num(v[t]) for t in TIERS):
        return None, f"returned {fmt({t: v[t] for t in TIERS})}; expected one number per tier"
    return {t: float(v[t]) for t in TIERS}, ""


def judge_tier_metric(check_id, data, exp, what, rule, hint):
    got, err = _tier_dict(data["result"], what)
    parts = [part("form", got is not None, 1, f"{err}.", err)]
    ref = exp["reference"]["result"]["value"]
    if got is None:
        parts.append(part("values", False, 1, "values not checked: fix the return form first.", ""))
        return _result(check_id, parts)
    bad = [t for t in TIERS if not close(got[t], ref[t])]
    extra = ""
    if bad and check_id == "hw_per_tier_js" and all(close(got[t] * math.log(2), ref[t], 1e-6, 1e-12) for t in TIERS):
        extra = " Yours are in bits (log base 2); the course uses the natural log, so JS lies in [0, ln 2]."
    if bad and all(got[t] < ref[t] for t in bad) and check_id == "lab_per_tier_f1":
        extra = (" Yours are lower than expected: averaging over every predicted class adds zeros from "
                 "other tiers; average over the tier's own label set.")
    parts.append(part("values", not bad, 1,
                      f"tier(s) {', '.join(bad)} differ (yours: {', '.join(f'{t}={got[t]:.6g}' for t in bad)}); "
                      f"expected {rule} within {METRIC_ATOL:g}. {hint}{extra}",
                      f"expected {fmt({t: ref[t] for t in bad})}"))
    return _result(check_id, parts)


def judge_ece(check_id, data, exp):
    """Values on continuous confidences, and the bin-edge convention on confidences exactly on edges."""
    got, err = _tier_dict(data["result"], "ECE")
    edges, e_err = _tier_dict(data.get("edges", {"ok": False}), "ECE")
    if got is None:
        return _result(check_id, [part("values", False, 1, f"{err}.", err),
                                  part("bin_edges", False, 1, "not checked: fix the return form first.", "")])
    ref, e_ref = exp["reference"]["result"]["value"], exp["reference"]["edges"]["value"]
    bad = [t for t in TIERS if not close(got[t], ref[t])]
    parts = [part("values", not bad, 1,
                  f"tier(s) {', '.join(bad)} differ (yours: {', '.join(f'{t}={got[t]:.6g}' for t in bad)}); expected "
                  f"ECE over each tier's rows (15 equal-width bins on top-1 confidence) within {METRIC_ATOL:g}. "
                  "Weight each bin's |accuracy - mean confidence| by its share of the tier's rows.",
                  f"expected {fmt({t: ref[t] for t in bad})}")]
    if edges is None:
        parts.append(part("bin_edges", False, 1, f"with n_bins=8 your function {e_err}.", e_err))
    else:
        e_bad = [t for t in TIERS if not close(edges[t], e_ref[t])]
        hint = ("A confidence exactly on an edge belongs to the bin below it: bin i holds "
                "edges[i] < c <= edges[i + 1], (lo, hi], not [lo, hi)." if not bad else
                "Fix the values above first; this part uses the same formula with n_bins=8.")
        parts.append(part("bin_edges", not e_bad, 1,
                          f"with n_bins=8 and confidences exactly on the bin edges, tier(s) {', '.join(e_bad)} "
                          f"differ. {hint}", f"expected {fmt({t: e_ref[t] for t in e_bad})}"))
    return _result(check_id, parts)


# --------------------------------------------------------------------------- coverage table
def _coverage_rows(res):
    if not res.get("ok"):
        return None, _err(res)
    v = res["value"]
    if not (isinstance(v, dict) and "columns" in v):
        return None, f"returned {type(v).__name__}; expected a pandas DataFrame"
    cols = dict(v.get("index", {}))
    cols.update(v["columns"])
    need = ["threshold", "coverage", "accuracy", "n_covered"]
    missing = [c for c in need if c not in cols]
    if missing:
        return None, f"the table has columns {sorted(v['columns'])}; expected {need}"
    rows = {}
    for i, th in enumerate(cols["threshold"]):
        if _num(th):
            rows[round(float(th), 6)] = {c: cols[c][i] if i < len(cols[c]) else None for c in need}
    return rows, ""


def judge_coverage(check_id, data, exp):
    rows, err = _coverage_rows(data["result"])
    ref_rows, _ = _coverage_rows(exp["reference"]["result"])
    empty_th = [th for th, r in ref_rows.items() if r["n_covered"] == 0]
    full_th = [th for th in ref_rows if th not in empty_th]
    if rows is None:
        return _result(check_id, [part("values", False, 1, f"{err}.", err),
                                  part("empty_threshold", False, 1, "not checked: fix the table first.", "")])
    fails = []
    for th in full_th:
        r, e = rows.get(th), ref_rows[th]
        if r is None:
            fails.append(f"no row for threshold {th:g}")
            continue
        for c in ("coverage", "accuracy", "n_covered"):
            if not close(r[c], e[c], 0.0, 1e-9):
                fails.append(f"at threshold {th:g} your {c} is {fmt(r[c])}")
                break
    strict_rows, _ = _coverage_rows(exp["strict_reference"]["result"]) if "strict_reference" in exp else (None, "")
    strict = bool(fails) and strict_rows is not None and all(
        th in rows and all(close(rows[th][c], strict_rows[th][c], 0.0, 1e-9) for c in ("coverage", "n_covered"))
        for th in full_th)
    hint = (" Your table leaves out the rows whose confidence equals the threshold (> instead of >=): a row "
            "exactly at the threshold is covered." if strict else
            " (A row exactly at the threshold is covered.)")
    parts = [part("values", not fails, 1,
                  f"{fails[0] if fails else ''}; expected coverage = share of rows with top-1 confidence >= "
                  f"threshold, accuracy on the covered rows, and n_covered their count.{hint}",
                  "; ".join(fails[:3]))]
    fails = []
    for th in empty_th:
        r = rows.get(th)
        if r is None:
            fails.append(f"no row for threshold {th:g}")
        elif not (close(r["n_covered"], 0.0, 0, 0) and close(r["coverage"], 0.0, 0, 0)
                  and _num(r["accuracy"]) and math.isnan(r["accuracy"])):
            fails.append(f"at threshold {th:g}, which covers no row, you returned coverage={fmt(r['coverage'])}, "
                         f"accuracy={fmt(r['accuracy'])}, n_covered={fmt(r['n_covered'])}")
    parts.append(part("empty_threshold", not fails, 1,
                      f"{fails[0] if fails else ''}; expected coverage 0, n_covered 0 and accuracy NaN (not 0: "
                      "there is nothing to be accurate on), without a division-by-zero error.", "; ".join(fails)))
    return _result(check_id, parts)


# --------------------------------------------------------------------------- bootstrap CI
# Monte Carlo tolerance.  With B = 1000 resamples the 2.5% quantile of a roughly
# normal bootstrap distribution with spread sigma has a standard error of
# sqrt(0.025 * 0.975 / B) / phi(1.96) * sigma ~= 0.085 sigma (the median: 1.2533
# sigma / sqrt(B) ~= 0.04 sigma).  A student's draws are independent of the
# reference's unless they follow the same protocol, so the difference of two
# estimates has about sqrt(2) * 0.085 ~= 0.12 sigma of noise; 0.5 sigma is over 4
# standard errors (a correct implementation fails with probability < 1e-4), while
# a shifted or mis-scaled interval (wrong delta sign, unpaired, wrong quantiles)
# lands several sigma away.  sigma is estimated from the reference interval:
# (ci_high - ci_low) / 3.92.
BOOT_TOL_SIGMAS = 0.15
# (The probe asks for 10,000 resamples: each quantile's Monte Carlo error is then ~0.027 sigma
# and the difference of two independent estimates ~0.04 sigma, so 0.15 sigma is about four
# standard errors for a correct implementation, while a 90% interval's ends sit 0.32 sigma
# inside the 95% ones and a median instead of a mean or a wrong sign lands further away.)


def judge_bootstrap(check_id, data, exp):
    res = data["result"]
    ref = exp["reference"]["result"]["value"]
    sigma = (ref["ci_high"] - ref["ci_low"]) / 3.92
    keys = ("median", "ci_low", "ci_high", "excludes_zero")
    form_err = ""
    if not res.get("ok"):
        form_err = _err(res)
    elif not isinstance(res["value"], dict):
        form_err = f"returned {type(res['value']).__name__}; expected a dict with keys {list(keys)}"
    else:
        v = res["value"]
        missing = [k for k in keys if k not in v]
        if missing:
            form_err = f"returned keys {sorted(v)}; missing {missing}"
        elif not all(_num(v[k]) and math.isfinite(v[k]) for k in keys[:3]) or not isinstance(v["excludes_zero"], bool):
            form_err = (f"returned {fmt({k: v[k] for k in keys})}; expected three finite numbers and a bool "
                        f"excludes_zero")
    form = part("form", not form_err, 1, f"{form_err}.", form_err)
    if form_err:
        rest = [part(n, False, 1, "not checked: fix the return form first.", "")
                for n in ("consistent", "matches_reference", "paired")]
        parts = [form] + rest
        if check_id == "hw_bootstrap_ci":
            parts = [part("form_and_consistent", False, 1, f"{form_err}.", form_err)] + rest[1:]
        return _result(check_id, parts)
    v = res["value"]
    lo, med, hi, ez = v["ci_low"], v["median"], v["ci_high"], v["excludes_zero"]
    problems = []
    if not lo <= med <= hi:
        problems.append(f"the interval [{fmt(lo)}, {fmt(hi)}] does not bracket the median {fmt(med)}")
    if ez != (lo > 0 or hi < 0):
        problems.append(f"excludes_zero is {ez} but the bounds are [{fmt(lo)}, {fmt(hi)}]")
    consistent = part("consistent", not problems, 1,
                      f"{'; '.join(problems)}. Expected ci_low <= median <= ci_high (2.5%, 50%, 97.5% quantiles "
                      "of the resampled deltas) and excludes_zero == (ci_low > 0 or ci_high < 0).",
                      "; ".join(problems))
    tol = BOOT_TOL_SIGMAS * sigma
    width, ref_w, unpaired_w = hi - lo, ref["ci_high"] - ref["ci_low"], exp["unpaired_width"]
    unpaired = width > math.sqrt(ref_w * unpaired_w)
    # An unpaired interval is charged once, by the pairing part: here only its centre counts.
    off = [k for k in (("median",) if unpaired else ("median", "ci_low", "ci_high")) if abs(v[k] - ref[k]) > tol]
    flipped = {"median": -ref["median"], "ci_low": -ref["ci_high"], "ci_high": -ref["ci_low"]}
    ci90 = exp.get("ci90", {})
    if all(abs(v[k] - flipped[k]) <= tol for k in flipped):
        hint = "Your deltas have the opposite sign: the delta is score_fn(arm_b) - score_fn(arm_a)."
    elif ci90 and abs(v["median"] - ref["median"]) <= tol and all(abs(v[k] - ci90[k]) <= tol for k in ci90):
        hint = ("Your interval is a 90% one (the 5% and 95% quantiles); ci_low and ci_high are the 2.5% and "
                "97.5% quantiles of the deltas.")
    else:
        hint = ("Check that each resample draws len(labels) rows with replacement, the same rows for both arms, "
                "and that ci_low and ci_high are the 2.5% and 97.5% quantiles.")
    matches = part("matches_reference", not off, 1,
                   f"your {', '.join(off)} ({', '.join(fmt(v[k]) for k in off)}) lie outside the Monte Carlo "
                   f"tolerance of the paired bootstrap of score(b) - score(a) with the n_resamples asked for. {hint}",
                   f"expected ~{fmt({k: ref[k] for k in ('median', 'ci_low', 'ci_high')})}, tol {tol:.3g}")
    # The geometric midpoint between the paired and the unpaired width separates them
    # by a factor sqrt(unpaired / paired) >= 1.4 on each side (build-expected checks).
    limit = math.sqrt(ref_w * unpaired_w)
    paired = part("paired", width <= limit, 1,
                  f"your interval is {fmt(width)} wide, far wider than a paired bootstrap gives on these strongly "
                  "correlated arms. Draw ONE set of row indices per resample and score both arms on those same "
                  "rows; independent indices per arm keep the between-row noise the pairing should cancel.",
                  f"paired width {ref_w:.4g}, unpaired {unpaired_w:.4g}, limit {limit:.4g}")
    if check_id == "hw_bootstrap_ci":
        both = part("form_and_consistent", consistent["passed"], 1, consistent["message"], consistent["detail"])
        return _result(check_id, [both, matches, paired])
    return _result(check_id, [form, consistent, matches, paired])


# --------------------------------------------------------------------------- the lab's bootstrap, used
def _course_bootstrap(source):
    """The course's per-tier bootstrap of distilled - vanilla macro F1, from the artifacts (cached)."""
    key = ("boot", source)
    if key not in _CACHE:
        import warnings

        from helpers import artifacts, bootstrap
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v, d = artifacts.load("vanilla", source), artifacts.load("distilled", source)
            df = bootstrap.paired_bootstrap(v.preds, d.preds, v.labels, v.tiers, metric="macro_f1")
            acc = bootstrap.paired_bootstrap(v.preds, d.preds, v.labels, v.tiers, metric="accuracy")
        _CACHE[key] = ({t: {k: float(df.loc[t, k]) for k in ("median", "ci_low", "ci_high")} for t in df.index},
                       {t: {k: float(acc.loc[t, k]) for k in ("median", "ci_low", "ci_high")} for t in acc.index})
    return _CACHE[key]


_CACHE = {}


def judge_bootstrap_use(check_id, data, exp):
    ref, ref_acc = _course_bootstrap(deployment_source())
    key = exp["answer_key"]
    rows, err = None, ""
    tab = data.get("table", {})
    if not tab.get("ok"):
        err = _err(tab)
    elif not (isinstance(tab["value"], dict) and "columns" in tab["value"]):
        err = f"f1_ci_table is a {type(tab['value']).__name__}; expected the DataFrame paired_bootstrap returns"
    else:
        cols, index = tab["value"]["columns"], tab["value"].get("index", {})
        names = next(iter(index.values()), []) if index else []
        try:
            rows = {str(t): {k: cols[k][i] for k in ("median", "ci_low", "ci_high")} for i, t in enumerate(names)}
        except (KeyError, IndexError, TypeError):
            err = "f1_ci_table has no median, ci_low and ci_high columns per tier"

    def same(got, want, sign=1.0):
        flip = {"median": "median", "ci_low": "ci_high", "ci_high": "ci_low"} if sign < 0 else \
            {k: k for k in ("median", "ci_low", "ci_high")}
        return all(t in got and all(_num(got[t][k]) and close(sign * got[t][k], want[t][flip[k]], 0, 1e-9)
                                    for k in flip) for t in want)

    if rows is not None and not same(rows, ref):
        if same(rows, ref, -1.0):
            err = ("your deltas are vanilla minus distilled: paired_bootstrap returns score(arm_b) - "
                   "score(arm_a), so pass vanilla first and distilled second")
        elif same(rows, ref_acc):
            err = "your table bootstraps accuracy; the question is about macro F1 (metric=\"macro_f1\")"
        else:
            err = ("f1_ci_table is not the per-tier bootstrap of distilled minus vanilla macro F1 on the full "
                   "validation set (the students' predictions, labels and tiers, 1,000 resamples, seed 42)")
    parts = [part("used_on_the_right_arms", not err, 1, f"{err}.", err)]
    real = {t for t, r in ref.items() if r["ci_low"] > 0}
    # Read against the student's own table as well, so a wrong table is charged once, above.
    own = {t for t, r in (rows or {}).items() if _num(r.get("ci_low")) and r["ci_low"] > 0}
    got = data.get("real_lift_tiers", {})
    ok = got.get("ok") and set(got["value"]) in (real, own)
    parts.append(part("real_lift_tiers", ok, 1,
                      (f"{_err(got)}." if not got.get("ok") else
                       f"you named {sorted(got['value'])}; expected the tiers whose whole interval lies above "
                       "zero (ci_low > 0) in the course's bootstrap of distilled minus vanilla. A median above "
                       "zero with an interval that holds zero is not a real lift."),
                      f"expected {sorted(real)}"))
    got = data.get("tail_reading", {})
    ok = got.get("ok") and got["value"] == key["tail_reading"]
    parts.append(part("tail_reading", ok, 1,
                      (f"{_err(got)}." if not got.get("ok") else
                       f"{got['value']} is not the right reading: an interval that holds zero means the data "
                       "cannot tell the sign of the effect, which is neither 'no effect' nor 'a gain'."),
                      f"expected {key['tail_reading']}"))
    return _result(check_id, parts)


# --------------------------------------------------------------------------- deployment artifact
# Judged against the course data, not the student's tables: helpers.deploy recomputes the named
# model's coverage, accuracy and metrics on the eval half from the artifacts, here in the
# driver, where nothing the student defines can reach.  The source is the grader's own:
# $COURSE_DATA_SOURCE when set (hub or synthetic), else the same automatic choice the
# notebooks make on this machine.
DEPLOY_PARTS = {
    "numbers_match_model": "Expected coverage and accuracy copied from a coverage table of the model you name, "
                           "at your threshold, on the eval half.",
    "scenario_rule": "Expected a model that meets your scenario's rule on the eval half (A: a student at least "
                     "as good as raw vanilla on macro F1; B: ECE <= 0.05 and NLL at most raw vanilla's; C: tail "
                     "F1 within 0.02 of raw vanilla's or above).",
    "justification_cites_model": "Expected the justification to quote a number of the model you ship (or of "
                                 "the alternative) from your tables, as printed (e.g. 0.026 or 2.6%).",
    "constraint_switch_alternative": "Expected one constraint, the value at which it flips the decision, and "
                                     "the alternative you would deploy then.",
}


def deployment_source():
    import os
    return os.environ.get("COURSE_DATA_SOURCE", "").strip().lower() or "auto"


def judge_deployment(check_id, data, exp):
    dep = data.get("deployment", {})
    if not dep.get("ok"):
        return not_graded(check_id, f"{_err(dep)}; fill in the deployment dict.", "graded")
    import warnings

    from helpers import deploy
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the synthetic-data warning is the notebook's to show
        report = deploy.evaluate_deployment(dep["value"], deployment_source())
    parts = [part(r.rule, r.ok, 1, f"{r.message}. {DEPLOY_PARTS[r.rule]}", r.detail) for r in report.rules]
    return _result(check_id, parts)


# --------------------------------------------------------------------------- homework specifics
def judge_per_class(check_id, data, exp):
    res = data["result"]
    ref = exp["reference"]["result"]["value"]
    err = ""
    if not res.get("ok"):
        err = _err(res)
    elif not (isinstance(res["value"], list) and len(res["value"]) == len(ref)
              and all(_num(x) for x in res["value"])):
        v = res["value"]
        err = (f"returned {type(v).__name__} of length {len(v) if isinstance(v, list) else '-'}; expected an "
               f"array of {len(ref)} numbers, one per class id (including classes with no rows)")
    parts = [part("form", not err, 1, f"{err}.", err)]
    if err:
        parts.append(part("values", False, 1, "values not checked: fix the return form first.", ""))
        return _result(check_id, parts)
    bad = [i for i, (g, e) in enumerate(zip(res["value"], ref)) if not close(g, e, 0, 1e-9)]
    parts.append(part("values", not bad, 1,
                      f"{len(bad)} classes differ (first: class {bad[0] if bad else ''}, yours "
                      f"{fmt(res['value'][bad[0]]) if bad else ''}); expected F1 = 2TP / (2TP + FP + FN) per class "
                      "with 0 where a class has neither rows nor predictions (zero_division=0).",
                      f"class {bad[:5]}"))
    return _result(check_id, parts)


def judge_temperature(check_id, data, exp):
    res = data["result"]
    ref = exp["reference"]["result"]["value"]
    if not res.get("ok") or not _num(res.get("value")) or not math.isfinite(res["value"]) or res["value"] <= 0:
        what = _err(res) if not res.get("ok") else f"returned {fmt(res.get('value'))}"
        return _result(check_id, [part("optimum", False, 2, f"{what}; expected a float T > 0.", what)])
    T = float(res["value"])
    rel = abs(T - ref) / ref
    if rel <= 1e-3:
        return _result(check_id, [part("optimum", True, 2)])
    msg = (f"your T = {T:.5g} is {'near' if rel <= 0.02 else 'far from'} the NLL minimum (expected within 0.1%). "
           "Minimise the NLL of softmax(logits / T) over log T with L-BFGS (line_search_fn='strong_wolfe') "
           "until it converges; a fixed small step stops short.")
    return _result(check_id, [{"name": "optimum", "points": 1 if rel <= 0.02 else 0, "max": 2, "passed": False,
                               "message": msg, "detail": f"expected {ref:.6g}, rel err {rel:.3g}"}])


def judge_fraction(check_id, data, exp):
    cases = data.get("cases", [])
    refs = exp["reference"]["cases"]
    fails = []
    for args, got, ref in zip(exp["cases"], cases, refs):
        if not got.get("ok") or not close(got.get("value"), ref["value"], 1e-6, 1e-12):
            what = _err(got) if not got.get("ok") else f"returned {fmt(got.get('value'))}"
            fails.append(f"for ece_vanilla={args[0]}, ece_vanilla_t={args[1]}, ece_distilled={args[2]} you {what}")
    return _result(check_id, [part("values", not fails, 1,
                                   f"{fails[0] if fails else ''}; expected (vanilla - vanilla+T) / "
                                   "(vanilla - distilled).", "; ".join(fails))])


# --------------------------------------------------------------------------- dispatch
def judge(check_id, payload, expected):
    """Points for one check from the probe's payload ({"data", "flags"}) and the notebook's expected dict."""
    data, flags = payload.get("data", {}), list(payload.get("flags", []))
    if "error" in data:
        return not_graded(check_id, data["error"], "graded")
    refs = sorted({f.split(":", 2)[2] for f in flags if f.startswith("reference_call:")})
    if refs:
        msg = (f"your function calls the course's reference implementation ({', '.join(refs)}) instead of "
               "computing the result itself; this skill earns no points that way (flagged for the instructor).")
        r = not_graded(check_id, msg, "graded")
        r["flags"] = flags
        return r
    exp = expected[check_id]
    if check_id == "lab_kd_loss":
        r = judge_kd(check_id, data, exp)
    elif check_id == "lab_fixed_kd_loss":
        r = judge_fixed(check_id, data, exp)
    elif check_id == "lab_bug_choices":
        r = judge_bugs(check_id, data, exp)
    elif check_id == "lab_per_tier_f1":
        r = judge_tier_metric(check_id, data, exp, "macro F1",
                              "macro F1 over each tier's rows, averaged over that tier's label set",
                              "Use labels=tier_labels and zero_division=0.")
    elif check_id == "lab_per_tier_ece":
        r = judge_ece(check_id, data, exp)
    elif check_id == "hw_per_tier_js":
        r = judge_tier_metric(check_id, data, exp, "JS divergence",
                              "the mean Jensen-Shannon divergence (natural log) over each tier's rows",
                              "Clip probabilities at 1e-12 so rows with zeros stay finite.")
    elif check_id in ("lab_coverage_table", "hw_coverage_table"):
        r = judge_coverage(check_id, data, exp)
    elif check_id == "lab_bootstrap_ci":
        r = judge_bootstrap_use(check_id, data, exp)
    elif check_id == "hw_bootstrap_ci":
        r = judge_bootstrap(check_id, data, exp)
    elif check_id == "lab_deployment":
        r = judge_deployment(check_id, data, exp)
    elif check_id == "hw_per_class_f1":
        r = judge_per_class(check_id, data, exp)
    elif check_id == "hw_fit_temperature":
        r = judge_temperature(check_id, data, exp)
    elif check_id == "hw_reproducible_fraction":
        r = judge_fraction(check_id, data, exp)
    else:  # pragma: no cover
        raise KeyError(check_id)
    r["flags"] = flags
    if data.get("interrupted"):
        r["note"] = "a call ran past the cell's time limit and was interrupted"
    return r
