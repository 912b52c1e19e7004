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
        df = bootstrap.paired_bootstrap(a, b, labels, None, metric=metric, n_resamples=n_resamples, seed=seed)
        row = df.loc["all"]
        return {k: (bool(row[k]) if k == "excludes_zero" else float(row[k]))
                for k in ("median", "ci_low", "ci_high", "excludes_zero")}

    return {
        "kd_loss_fn": kd.kd_loss,
        "fixed_kd_loss": kd.kd_loss,
        "per_tier_f1": metrics.per_tier_f1,
        "per_tier_ece": lambda probs, labels, tiers: metrics.per_tier_ece(probs, labels, tiers),
        "coverage_table": metrics.coverage_table,
        "paired_bootstrap_ci": ref_bootstrap,
        "per_class_f1": lambda labels, preds, n: metrics.per_class_f1(labels, preds, np.arange(n)).to_numpy(),
        "per_tier_js": metrics.per_tier_js,
        "fit_temperature": calibration.fit_temperature,
        "reproducible_fraction": lambda v, t, d: (v - t) / (v - d),
    }


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


def _bootstrap_extras(arms, score_fn, metric):
    from helpers import metrics
    a, b, labels = arms
    # The probe's score_fn must be exactly the reference metric, or the comparison is unfair.
    ref_metric = (lambda arm: metrics.macro_f1(labels, arm, classes=np.unique(labels))) if metric == "macro_f1" \
        else (lambda arm: metrics.ece(arm, labels))
    for arm in (a, b):
        assert abs(score_fn(arm, labels) - ref_metric(arm)) < 1e-12, "probe score_fn disagrees with helpers"
    return {"unpaired_width": _unpaired_width(score_fn, a, b, labels)}


def build():
    """Return {notebook: expected dict} (plain JSON data)."""
    out = {"week6_lab": {}, "week6_homework": {}}
    key = checks.load_answer_key()
    for check_id in checks.POINTS:
        metric = "ece" if check_id == "hw_bootstrap_ci" else "macro_f1"
        ns = _reference_namespace(metric)
        if check_id == "lab_bug_choices":
            entry = {"answer_key": key["lab_bug_choices"]}
        elif check_id == "lab_deployment":
            entry = {"rules": ["threshold_from_table", "justification_cites_table", "constraint_switch_alternative"]}
        else:
            data, flags = probe.collect(check_id, ns, detect=False)
            entry = {"reference": data}
        if check_id in ("lab_kd_loss", "lab_fixed_kd_loss"):
            entry.update(grid_cases=[list(c) for c in probe.kd_grid()],
                         fp16_cases=[list(c) for c in probe.KD_FP16],
                         large_cases=[list(c) for c in probe.KD_LARGE])
        elif check_id == "lab_bootstrap_ci":
            entry.update(_bootstrap_extras(probe.bootstrap_arms_f1(), probe.macro_f1_score(8), "macro_f1"))
        elif check_id == "hw_bootstrap_ci":
            entry.update(_bootstrap_extras(probe.bootstrap_arms_ece(), probe.ece_score(15), "ece"))
        elif check_id == "hw_reproducible_fraction":
            entry["cases"] = [list(c) for c in probe.FRACTION_CASES]
        out[checks.NOTEBOOK_OF[check_id]][check_id] = entry
    _sanity(out)
    return out


def _sanity(out):
    """Properties the checks rely on; a failure here means the fixed inputs need changing."""
    lab, hw = out["week6_lab"], out["week6_homework"]
    for nb, cid in (("lab", lab["lab_bootstrap_ci"]), ("hw", hw["hw_bootstrap_ci"])):
        ref = cid["reference"]["result"]["value"]
        width = ref["ci_high"] - ref["ci_low"]
        assert cid["unpaired_width"] / width >= 2.0, f"{nb}: arms not correlated enough to catch an unpaired bootstrap"
    assert lab["lab_bootstrap_ci"]["reference"]["result"]["value"]["excludes_zero"]
    for entry in (lab["lab_coverage_table"], hw["hw_coverage_table"]):
        n_cov = entry["reference"]["result"]["value"]["columns"]["n_covered"]
        assert n_cov[-1] == 0 and n_cov[-2] > 0, "the last threshold must cover nothing, the first something"
    for res in lab["lab_kd_loss"]["reference"]["large"]:
        assert res["ok"] and math.isfinite(res["value"])


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
