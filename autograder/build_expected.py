"""``python -m autograder build-expected``: the expected values, from helpers' references.

Each check's expected data is what the probe collects when the student's names
are bound to the course's reference implementations, so the student and the
reference go through the very same inputs and conversions.  Float32 results
differ in their last digits from one CPU to another, so a rebuild is compared
with the stored files number by number (``differences``): each may move by a
tenth of the tolerance its judge grants a student, everything else (structure,
integers, booleans, text, NaN) must match exactly.
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

from . import checks, probe

EXPECTED_DIR = Path(__file__).resolve().parent / "expected"


def _reference_namespace(metric):
    from helpers import bootstrap, calibration, kd, metrics

    def ref_bootstrap(score_fn, a, b, labels, n_resamples=1000, seed=42):
        # The probe hands (confidence, correct) rows; the reference scores the probabilities they
        # came from, on the very same resampled rows (same seed, same draws).
        pa, pb, y = probe.bootstrap_arms_ece()
        assert np.array_equal(a, probe.confidence_correct(pa, y)) and np.array_equal(labels, y)
        df = bootstrap.paired_bootstrap(pa, pb, y, None, metric=metric, n_resamples=n_resamples, seed=seed)
        row = df.loc["all"]
        return {k: (bool(row[k]) if k == "excludes_zero" else float(row[k]))
                for k in ("median", "ci_low", "ci_high", "excludes_zero")}

    return {
        "kd_loss_fn": kd.kd_loss,
        "fixed_kd_loss": kd.kd_loss,
        "per_tier_f1": metrics.per_tier_f1,
        "per_tier_ece": lambda probs, labels, tiers, n_bins=15: metrics.per_tier_ece(probs, labels, tiers, n_bins),
        "coverage_table": metrics.coverage_table,
        "paired_bootstrap_ci": ref_bootstrap,
        "per_class_f1": lambda labels, preds, n: metrics.per_class_f1(labels, preds, np.arange(n)).to_numpy(),
        "per_tier_js": metrics.per_tier_js,
        "fit_temperature": calibration.fit_temperature,
        "reproducible_fraction": lambda v, t, d: (v - t) / (v - d),
    }


# ----------------------------------------------------------------------- KD: slips and fixes
def _soft_term(s, t, T, first="log_softmax", t2=True, reduction="batchmean", reversed_=False, soften_teacher=True):
    import torch.nn.functional as F
    s, t = s.double(), t.double()
    tt = t / T if soften_teacher else t
    if reversed_:
        kl = F.kl_div(F.log_softmax(tt, dim=-1), F.softmax(s / T, dim=-1), reduction=reduction)
    else:
        inp = F.log_softmax(s / T, dim=-1) if first == "log_softmax" else F.softmax(s / T, dim=-1)
        kl = F.kl_div(inp, F.softmax(tt, dim=-1), reduction=reduction)
    return kl * (T ** 2 if t2 else 1.0)


def _ce_term(s, t, y, T, softened=False, reduction="mean", on_teacher=False):
    import torch.nn.functional as F
    z = (t if on_teacher else s).double()
    return F.cross_entropy(z / T if softened else z, y, reduction=reduction)


SOFT_SLIP_KW = {"softmax_input": {"first": "softmax"}, "no_T2": {"t2": False}, "kl_reversed": {"reversed_": True},
                "reduction_mean": {"reduction": "mean"}, "reduction_sum": {"reduction": "sum"},
                "teacher_unsoftened": {"soften_teacher": False}}
CE_SLIP_KW = {"ce_softened": {"softened": True}, "ce_sum": {"reduction": "sum"}, "ce_on_teacher": {"on_teacher": True}}


def _kd_slips():
    """Each common slip's soft term (alpha = 1) and cross-entropy (alpha = 0) on the probe's settings."""
    soft = {k: [] for k in SOFT_SLIP_KW}
    ce = {k: [] for k in CE_SLIP_KW}
    for i, (b, c, T) in enumerate(probe.kd_settings()):
        s, t, y = probe.kd_inputs(i, b, c)
        for k, kw in SOFT_SLIP_KW.items():
            soft[k].append(float(_soft_term(s, t, T, **kw)))
        for k, kw in CE_SLIP_KW.items():
            ce[k].append(float(_ce_term(s, t, y, T, **kw)))
    return {"soft": soft, "ce": ce}


# The colleague's three bugs, and the distractors' "fixes" (edits to code that was right).
FIX_EDITS = {"kl_reversed": {"reversed_": True}, "reduction_mean": {"reduction": "mean"},
             "teacher_unsoftened": {"soften_teacher": False}}
CE_EDITS = {"ce_softened": {"softened": True}}


def _fixed_combos():
    """The colleague's loss with every subset of its bugs fixed, alone and with one distractor edit."""
    import itertools
    bugs = checks.FIX_BUGS
    edits = [None, *FIX_EDITS, *CE_EDITS]
    combos = []
    for n in range(len(bugs), -1, -1):  # more fixes first: an ambiguous edit gets the generous reading
        for fixed in itertools.combinations(bugs, n):
            for edit in edits:
                values = []
                for j, (b, c, T, a) in enumerate(probe.FIXED_CASES):
                    s, t, y = probe.fixed_inputs(j, b, c)
                    kw = dict(FIX_EDITS.get(edit, {}))
                    kw.update(first="log_softmax" if "softmax_input" in fixed else "softmax",
                              t2="missing_T2" in fixed)
                    soft = _soft_term(s, t, T, **kw)
                    ce = _ce_term(s, t, y, T, **CE_EDITS.get(edit, {}))
                    w_soft, w_ce = (a, 1 - a) if "alpha_swapped" in fixed else (1 - a, a)
                    values.append(float(w_soft * soft + w_ce * ce))
                name = "+".join(fixed) or "colleague as given"
                if any(all(abs(x - y) <= 1e-3 * max(1.0, abs(x)) for x, y in zip(values, other["values"]))
                       for other in combos):
                    continue  # e.g. with the KL reversed, the first argument's fix cannot be seen
                combos.append({"name": name + (f" with {edit}" if edit else ""), "fixed": list(fixed),
                               "edits": [edit] if edit else [], "values": values})
    return combos


def _colleague_source():
    import inspect

    from helpers import kd
    return inspect.getsource(kd.colleague_kd_loss)


def _unpaired_width(score_fn, a, b, labels, n_resamples=1000, seed=42):
    """Width of the 95% interval when each arm gets its own resampled rows (the mistake)."""
    rng = np.random.RandomState(seed)
    n = len(labels)
    deltas = np.empty(n_resamples)
    for r in range(n_resamples):
        ia, ib = rng.randint(0, n, n), rng.randint(0, n, n)
        deltas[r] = score_fn(b[ib], labels[ib]) - score_fn(a[ia], labels[ia])
    lo, hi = np.quantile(deltas, [0.025, 0.975])
    return float(hi - lo)


def _other_quantiles(score_fn, a, b, labels, n_resamples, seed=42):
    """The exact protocol's 90% interval (5% / 95% quantiles): what a wrong level gives."""
    rng = np.random.RandomState(seed)
    n = len(labels)
    deltas = np.empty(n_resamples)
    for r in range(n_resamples):
        idx = rng.randint(0, n, n)
        deltas[r] = score_fn(b[idx], labels[idx]) - score_fn(a[idx], labels[idx])
    lo, hi = np.quantile(deltas, [0.05, 0.95])
    return {"ci_low": float(lo), "ci_high": float(hi)}


def _strict_coverage(probs, labels, thresholds):
    """The coverage table with `confidence > t` (the convention the instructions rule out)."""
    import pandas as pd
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    rows = []
    for t in thresholds:
        c = conf > t
        rows.append({"threshold": float(t), "coverage": c.mean(), "accuracy": correct[c].mean() if c.any() else np.nan,
                     "n_covered": int(c.sum())})
    return pd.DataFrame(rows)


def _bootstrap_extras():
    from helpers import metrics
    score_fn = probe.ece_score(15)
    a, b, labels = probe.hw_bootstrap_arms()
    # The probe's score_fn must be exactly the reference metric, or the comparison is unfair.
    for cc, probs in zip((a, b), probe.bootstrap_arms_ece()[:2]):
        assert abs(score_fn(cc, labels) - metrics.ece(probs, labels)) < 1e-12, "probe score_fn disagrees with helpers"
    return {"unpaired_width": _unpaired_width(score_fn, a, b, labels, probe.HW_BOOT_RESAMPLES),
            "ci90": _other_quantiles(score_fn, a, b, labels, probe.HW_BOOT_RESAMPLES)}


def build():
    """Return {notebook: expected dict} (plain JSON data)."""
    out = {"week6_lab": {}, "week6_homework": {}}
    key = checks.load_answer_key()
    for check_id in checks.POINTS:
        metric = "ece" if check_id == "hw_bootstrap_ci" else "macro_f1"
        ns = _reference_namespace(metric)
        if check_id in ("lab_bug_choices", "lab_bootstrap_ci"):
            entry = {"answer_key": key[check_id]}  # lab_bootstrap_ci: recomputed from the artifacts
        elif check_id == "lab_deployment":
            from helpers import deploy
            entry = {"rules": list(deploy.RULES)}  # recomputed from the artifacts at grading time
        else:
            data, flags = probe.collect(check_id, ns, detect=False)
            entry = {"reference": data}
        if check_id == "lab_kd_loss":
            entry.update(settings=[list(c) for c in probe.kd_settings()], alphas=list(probe.KD_ALPHAS),
                         fp16_cases=[list(c) for c in probe.KD_FP16],
                         large_cases=[list(c) for c in probe.KD_LARGE], slips=_kd_slips())
            del entry["reference"]["gradient"]  # judged against the student's own loss
        elif check_id == "lab_fixed_kd_loss":
            entry = {"cases": [list(c) for c in probe.FIXED_CASES], "combos": _fixed_combos(),
                     "colleague_source": _colleague_source()}
        elif check_id == "hw_bootstrap_ci":
            entry.update(_bootstrap_extras())
        elif check_id in ("lab_coverage_table", "hw_coverage_table"):
            entry["strict_reference"] = probe.collect(check_id, {"coverage_table": _strict_coverage}, detect=False)[0]
        elif check_id == "hw_reproducible_fraction":
            entry["cases"] = [list(c) for c in probe.FRACTION_CASES]
        out[checks.NOTEBOOK_OF[check_id]][check_id] = entry
    _sanity(out)
    return out


def _sanity(out):
    """Properties the checks rely on; a failure here means the fixed inputs need changing."""
    lab, hw = out["week6_lab"], out["week6_homework"]
    for nb, cid in (("hw", hw["hw_bootstrap_ci"]),):
        ref = cid["reference"]["result"]["value"]
        width = ref["ci_high"] - ref["ci_low"]
        assert cid["unpaired_width"] / width >= 2.0, f"{nb}: arms not correlated enough to catch an unpaired bootstrap"
    # The probe's inputs must tell every stated convention from its neighbour.
    from helpers import metrics
    wrong = _per_tier_ece_lo_closed(*probe.ece_edge_data(), n_bins=probe.ECE_EDGE_BINS)
    right = metrics.per_tier_ece(*probe.ece_edge_data(), n_bins=probe.ECE_EDGE_BINS)
    assert all(abs(wrong[t] - right[t]) > 1e-3 for t in right), "ECE edge rows do not separate (lo, hi] from [lo, hi)"
    for seed in (21, 22):
        probs, labels = probe.coverage_data(seed)
        conf = probs.max(axis=1)
        for th in probe.COVERAGE_THRESHOLDS[:-1]:
            assert (conf == th).sum() >= probe.ON_THRESHOLD_ROWS, "coverage rows must sit exactly on each threshold"
    for entry in (lab["lab_coverage_table"], hw["hw_coverage_table"]):
        n_cov = entry["reference"]["result"]["value"]["columns"]["n_covered"]
        assert n_cov[-1] == 0 and n_cov[-2] > 0, "the last threshold must cover nothing, the first something"
    for res in lab["lab_kd_loss"]["reference"]["large"]:
        assert res["ok"] and math.isfinite(res["value"])
    # Every combination of fixes must be told apart from every other on the probe's inputs.
    combos = lab["lab_fixed_kd_loss"]["combos"]
    for i, a in enumerate(combos):
        for b in combos[i + 1:]:
            assert any(abs(x - y) > 1e-3 * max(1.0, abs(x)) for x, y in zip(a["values"], b["values"])), \
                f"fixed-loss inputs cannot tell {a['name']} from {b['name']}"


def _per_tier_ece_lo_closed(probs, labels, tiers, n_bins=15):
    """The [lo, hi) convention the instructions rule out (for the sanity check only)."""
    out = {}
    for t in ("head", "mid", "tail"):
        r = tiers == t
        conf, correct = probs[r].max(axis=1), probs[r].argmax(axis=1) == labels[r]
        b = np.minimum((conf * n_bins).astype(int), n_bins - 1)
        out[t] = float(sum((b == i).mean() * abs(correct[b == i].mean() - conf[b == i].mean())
                           for i in range(n_bins) if (b == i).any()))
    return out


# The share of a judge's tolerance that the stored reference may drift from a
# rebuild: a correct answer keeps at least 90% of its margin.
DRIFT_SHARE = 0.1


def judge_tolerance(check_id, path, entry):
    """(rtol, atol) that ``checks`` applies to the number at ``path`` of ``check_id``'s expected entry."""
    if check_id in ("lab_kd_loss", "lab_fixed_kd_loss"):
        if "fp16" in path:
            return checks.KD_FP16_RTOL, checks.KD_ATOL
        return checks.KD_RTOL, (1e-7 if "gradient" in path else checks.KD_ATOL)
    if check_id in ("lab_bootstrap_ci", "hw_bootstrap_ci"):
        ref = entry["reference"]["result"]["value"]
        return 0.0, checks.BOOT_TOL_SIGMAS * (ref["ci_high"] - ref["ci_low"]) / 3.92
    if check_id in ("lab_coverage_table", "hw_coverage_table", "hw_per_class_f1"):
        return 0.0, 1e-9
    if check_id == "hw_fit_temperature":
        return 1e-3, 0.0
    if check_id == "hw_reproducible_fraction":
        return 1e-6, 1e-12
    return 0.0, checks.METRIC_ATOL


def differences(stored, rebuilt, share=DRIFT_SHARE):
    """What in ``stored`` ({notebook: {check: entry}}) is not current with ``rebuilt``; [] when it is.

    Floats may differ by ``share`` of their judge's tolerance; anything else must be equal.
    """
    out = []

    def walk(a, b, where, check_id, entry):
        if isinstance(a, dict) and isinstance(b, dict):
            if sorted(a) != sorted(b):
                out.append(f"{where}: keys {sorted(a)} stored, {sorted(b)} rebuilt")
                return
            for k in a:
                walk(a[k], b[k], f"{where}/{k}", check_id, entry)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append(f"{where}: {len(a)} items stored, {len(b)} rebuilt")
                return
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{where}/{i}", check_id, entry)
        elif isinstance(a, float) and isinstance(b, float) and check_id is not None:
            if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
                if not (a == b or (math.isnan(a) and math.isnan(b))):
                    out.append(f"{where}: {a!r} stored, {b!r} rebuilt")
                return
            rtol, atol = judge_tolerance(check_id, where, entry)
            allowed = share * (atol + rtol * abs(b))
            if abs(a - b) > allowed:
                out.append(f"{where}: {a!r} stored, {b!r} rebuilt (|diff| {abs(a - b):.3g} > {allowed:.3g}, "
                           f"{share:g} of the judge's tolerance)")
        elif type(a) is not type(b) or a != b:
            out.append(f"{where}: {a!r} stored, {b!r} rebuilt")

    for nb in sorted(set(stored) | set(rebuilt)):
        if nb not in stored or nb not in rebuilt:
            out.append(f"{nb}: only in the {'rebuild' if nb in rebuilt else 'stored files'}")
            continue
        s, r = stored[nb], rebuilt[nb]
        if sorted(s) != sorted(r):
            out.append(f"{nb}: checks {sorted(s)} stored, {sorted(r)} rebuilt")
            continue
        for cid in sorted(s):
            walk(s[cid], r[cid], f"{nb}/{cid}", cid, r[cid])
    return out


def load_stored(folder=EXPECTED_DIR):
    """{notebook: expected dict} as stored in ``folder`` (a missing file reads as {})."""
    out = {}
    for nb, name in checks.EXPECTED_FILE.items():
        path = Path(folder) / name
        out[nb] = json.loads(path.read_text()) if path.exists() else {}
    return out


def render(expected_by_nb):
    return {nb: json.dumps(data, indent=1, sort_keys=True, allow_nan=True) + "\n"
            for nb, data in expected_by_nb.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m autograder build-expected", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=EXPECTED_DIR, help="folder for lab.json and homework.json")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the stored files differ from a rebuild by more than float noise "
                         f"({DRIFT_SHARE:g} of each judge's tolerance)")
    args = ap.parse_args(argv)
    rebuilt = build()
    if args.check:
        diffs = differences(load_stored(args.out), rebuilt)
        for d in diffs[:20]:
            print(f"stale: {d}")
        if diffs:
            print(f"{len(diffs)} value(s) in {args.out} are not current; run `python -m autograder build-expected`.")
        return 1 if diffs else 0
    for nb, text in render(rebuilt).items():
        path = args.out / checks.EXPECTED_FILE[nb]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    return 0
