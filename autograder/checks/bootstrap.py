"""The paired bootstrap: hw_bootstrap_ci (the student's own, on two correlated ECE arms) and
lab_bootstrap_ci (the course's, used on the right arms and read correctly).

The homework's arms are (confidence, correct) rows of two temperatures of the same
logits, so a paired bootstrap's interval is far narrower than an unpaired one.  The probe
first asks for 1,000 resamples and compares the answer draw for draw with the documented
protocol (one ``RandomState(seed)``, ``randint(0, n, n)`` per resample, the same rows for
both arms, 2.5/50/97.5% quantiles): equal to rounding, the implementation is that protocol,
and a 90% interval or an unpaired one could not have matched.  Any other answer (another
stream, a slip) is asked again with 10,000 resamples and judged within Monte Carlo
tolerance, so that a 90% interval is still told from the 95% one without the same draws.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

import helpers.bootstrap as hb

from ..host.adapters import ece_score
from ..host.codec import NamedFunction
from ..kernel.encoding import plain
from ..kernel.pristine import NP, PY
from .base import Check
from .deployment import deployment_source
from .runner import Runner, call_converted, derive, read_value
from .tier_metrics import softmax_rows
from .verdict import Verdict, close, error_of, fmt, num, part, verdict

# 10,000 resamples: the Monte Carlo error of a 2.5% quantile falls to ~0.03 sigma, so a 90%
# interval (0.32 sigma narrower at each end) is told from the 95% one the instructions ask for.
HW_BOOT_RESAMPLES = 10_000
# The first, cheap call: enough resamples that a draw-for-draw match says the protocol is right (a 90%
# interval's ends differ by ~0.3 sigma, an unpaired one's width by >= 2x, both far beyond rounding).
SAME_DRAWS_RESAMPLES = 1_000
SAME_DRAWS_ATOL = 1e-9  # rounding between the student's loop and the vectorised replay (seen: ~1e-17)


# --------------------------------------------------------------------------- inputs (drawn from the run's seed)
def bootstrap_arms_ece(seed: int = 77, n: int = 600, n_classes: int = 10) -> tuple:
    """Two probability arms from the same logits at two temperatures (correlated ECE)."""
    rng = NP.RandomState(seed)
    labels = rng.randint(0, n_classes, size=n)
    logits = rng.normal(size=(n, n_classes)) * 1.5
    logits[NP.arange(n), labels] += rng.uniform(0.0, 2.5, size=n)
    logits *= 2.2  # overconfident arm a
    return softmax_rows(logits), softmax_rows(logits / 2.0), labels.astype(NP.int64)


def confidence_correct(probs: object, labels: object) -> object:
    """Per row (top-1 confidence, 1.0 if the argmax is right): all an ECE needs, as the homework does."""
    return NP.column_stack([probs.max(axis=1), (probs.argmax(axis=1) == labels).astype(PY.float)])


def hw_bootstrap_arms(run_seed: int = 0) -> tuple:
    """The ECE arms as (confidence, correct) rows, so 10,000 resamples take about a second."""
    pa, pb, labels = bootstrap_arms_ece(derive(run_seed, 77))
    return confidence_correct(pa, labels), confidence_correct(pb, labels), labels


# --------------------------------------------------------------------------- probes (driver side)
def documented_protocol(a: np.ndarray, b: np.ndarray, labels: np.ndarray, n_resamples: int,
                        seed: int = 42) -> dict:
    """What the homework's documented paired bootstrap returns on these (confidence, correct) arms."""
    deltas = resampled_deltas(None, a, b, labels, n_resamples, seed, paired=True)
    lo, med, hi = np.quantile(deltas, [0.025, 0.5, 0.975])
    return {"median": float(med), "ci_low": float(lo), "ci_high": float(hi), "excludes_zero": bool(lo > 0 or hi < 0)}


def same_draws(res: dict, want: dict) -> bool:
    """Whether a call's result is ``want`` (the documented protocol's) up to rounding."""
    v = res.get("value") if res.get("ok") else None
    if not isinstance(v, dict) or v.get("excludes_zero") is not want["excludes_zero"]:
        return False
    return all(num(v.get(k)) and abs(v[k] - want[k]) <= SAME_DRAWS_ATOL for k in ("median", "ci_low", "ci_high"))


def probe_hw(ns: Mapping, run: Runner) -> dict:
    """1,000 resamples compared draw for draw; anything else asked again with 10,000 (see the module docstring)."""
    first = ask_hw(ns, run, SAME_DRAWS_RESAMPLES)
    a, b, labels = hw_bootstrap_arms(run.seed)
    if same_draws(first, documented_protocol(a, b, labels, SAME_DRAWS_RESAMPLES)):
        return {"result": first, "same_draws": SAME_DRAWS_RESAMPLES}
    if run.interrupted:  # a call that ran out of time with 1,000 resamples would with 10,000 too
        return {"result": first}
    return {"result": ask_hw(ns, run, HW_BOOT_RESAMPLES)}


def ask_hw(ns: Mapping, run: Runner, n_resamples: int) -> dict:
    """``paired_bootstrap_ci`` of the namespace on the run's ECE arms, with ``n_resamples`` and seed 42."""
    a, b, labels = hw_bootstrap_arms(run.seed)
    return call_converted(ns, run, "paired_bootstrap_ci", (NamedFunction("ece_score", 15), a, b, labels,
                                                           n_resamples, 42))


def _tier_names(v: object) -> list:
    return PY.sorted({PY.str(plain(x)) for x in v})


def _text(v: object) -> str:
    return PY.str_value(PY.str(plain(v)))


def probe_lab(ns: Mapping, run: Runner) -> dict:
    """The lab gives the bootstrap: its use (the table) and its reading (two answers) are judged."""
    return {"table": read_value(ns, "f1_ci_table"),
            "real_lift_tiers": read_value(ns, "real_lift_tiers", _tier_names),
            "tail_reading": read_value(ns, "tail_reading", _text)}


# --------------------------------------------------------------------------- judges (driver side)
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


def judge_bootstrap(check: Check, data: dict, exp: dict) -> Verdict:
    """Form and consistency, the reference within Monte Carlo tolerance, and the pairing (its width)."""
    check_id = check.id
    res = data["result"]
    ref = exp["reference"]["result"]["value"]
    sigma = (ref["ci_high"] - ref["ci_low"]) / 3.92
    keys = ("median", "ci_low", "ci_high", "excludes_zero")
    form_err = ""
    if not res.get("ok"):
        form_err = error_of(res)
    elif not isinstance(res["value"], dict):
        form_err = f"returned {type(res['value']).__name__}; expected a dict with keys {list(keys)}"
    else:
        v = res["value"]
        missing = [k for k in keys if k not in v]
        if missing:
            form_err = f"returned keys {sorted(v)}; missing {missing}"
        elif not all(num(v[k]) and math.isfinite(v[k]) for k in keys[:3]) or not isinstance(v["excludes_zero"], bool):
            form_err = (f"returned {fmt({k: v[k] for k in keys})}; expected three finite numbers and a bool "
                        f"excludes_zero")
    if form_err:
        rest = [part(n, False, 1, "not checked: fix the return form first.", "")
                for n in ("matches_reference", "paired")]
        return verdict(check_id, check.points, [part("form_and_consistent", False, 1, f"{form_err}.", form_err),
                                                *rest])
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
    # The probe found the documented protocol draw for draw (its smaller resample count): the reference's
    # interval and pairing by construction, so the Monte Carlo comparisons below have nothing to add.
    exact = bool(data.get("same_draws"))
    width, ref_w, unpaired_w = hi - lo, ref["ci_high"] - ref["ci_low"], exp["unpaired_width"]
    unpaired = width > math.sqrt(ref_w * unpaired_w) and not exact
    # An unpaired interval is charged once, by the pairing part: here only its centre counts, within
    # the Monte Carlo noise of an UNPAIRED median (its deltas spread ~5x wider than the paired ones, and
    # the paired tolerance failed a correct centre on ~1 drawn seed in 6).
    centre_tol = BOOT_TOL_SIGMAS * unpaired_w / 3.92 if unpaired else tol
    off = [] if exact else [k for k in (("median",) if unpaired else ("median", "ci_low", "ci_high"))
                            if abs(v[k] - ref[k]) > (centre_tol if k == "median" else tol)]
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
    paired = part("paired", exact or width <= limit, 1,
                  f"your interval is {fmt(width)} wide, far wider than a paired bootstrap gives on these strongly "
                  "correlated arms. Draw ONE set of row indices per resample and score both arms on those same "
                  "rows; independent indices per arm keep the between-row noise the pairing should cancel.",
                  f"paired width {ref_w:.4g}, unpaired {unpaired_w:.4g}, limit {limit:.4g}")
    both = part("form_and_consistent", consistent.passed, 1, consistent.message, consistent.detail)
    return verdict(check_id, check.points, [both, matches, paired])


def course_bootstrap(source: str) -> tuple[dict, dict]:
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


def judge_bootstrap_use(check: Check, data: dict, exp: dict) -> Verdict:
    """The table on the right arms and metric, the tiers with a real lift, and the reading of the tail's interval."""
    check_id = check.id
    ref, ref_acc = course_bootstrap(deployment_source())
    key = exp["answer_key"]
    rows, err = None, ""
    tab = data.get("table", {})
    if not tab.get("ok"):
        err = error_of(tab)
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
        return all(t in got and all(num(got[t][k]) and close(sign * got[t][k], want[t][flip[k]], 0, 1e-9)
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
    own = {t for t, r in (rows or {}).items() if num(r.get("ci_low")) and r["ci_low"] > 0}
    got = data.get("real_lift_tiers", {})
    ok = got.get("ok") and set(got["value"]) in (real, own)
    parts.append(part("real_lift_tiers", ok, 1,
                      (f"{error_of(got)}." if not got.get("ok") else
                       f"you named {sorted(got['value'])}; expected the tiers whose whole interval lies above "
                       "zero (ci_low > 0) in the course's bootstrap of distilled minus vanilla. A median above "
                       "zero with an interval that holds zero is not a real lift."),
                      f"expected {sorted(real)}"))
    got = data.get("tail_reading", {})
    ok = got.get("ok") and got["value"] == key["tail_reading"]
    parts.append(part("tail_reading", ok, 1,
                      (f"{error_of(got)}." if not got.get("ok") else
                       f"{got['value']} is not the right reading: an interval that holds zero means the data "
                       "cannot tell the sign of the effect, which is neither 'no effect' nor 'a gain'."),
                      f"expected {key['tail_reading']}"))
    return verdict(check_id, check.points, parts)



# --------------------------------------------------------------------------- expected values (driver side)
def reference_bootstrap(score_fn: Callable, a: np.ndarray, b: np.ndarray, labels: np.ndarray,
                        n_resamples: int = 1000, seed: int = 42, run_seed: int = 0) -> dict:
    """helpers' paired_bootstrap on the probabilities the probe's (confidence, correct) rows came from.

    The reference scores the same resampled rows (same seed, same draws) with the course's ECE.
    """
    import numpy as np
    pa, pb, y = bootstrap_arms_ece(derive(run_seed, 77))
    assert np.array_equal(a, confidence_correct(pa, y)) and np.array_equal(labels, y)
    df = hb.paired_bootstrap(pa, pb, y, None, metric="ece", n_resamples=n_resamples, seed=seed)
    row = df.loc["all"]
    return {k: (bool(row[k]) if k == "excludes_zero" else float(row[k]))
            for k in ("median", "ci_low", "ci_high", "excludes_zero")}


def resampled_deltas(score_fn: Callable | None, a: np.ndarray, b: np.ndarray, labels: np.ndarray,
                     n_resamples: int, seed: int, paired: bool) -> np.ndarray:
    """score_fn(b rows) - score_fn(a rows) per resample, with the indices the student's loop draws.

    ``score_fn`` is the course ECE on (confidence, correct) rows (``ece_score``); it is
    evaluated for a chunk of resamples at once (one bincount over resample x bin), which
    gives the per-resample values of the loop in a fraction of its time.
    """
    import numpy as np
    rng = np.random.RandomState(seed)
    n = len(labels)
    edges = np.linspace(0.0, 1.0, 16)
    deltas = np.empty(n_resamples)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)

    def scores(rows, idx):
        # A row's bin and (correct - confidence) do not depend on the resample: found once per row, then
        # gathered (the values, and their order in each bincount, are the per-resample computation's).
        row_bin = np.searchsorted(edges, rows[:, 0], side="left") - 1
        row_gap = rows[:, 1] - rows[:, 0]
        bins = row_bin[idx]
        keep = bins >= 0
        flat = (np.arange(len(idx))[:, None] * 15 + bins)[keep]
        gap = np.bincount(flat, row_gap[idx][keep], minlength=len(idx) * 15).reshape(len(idx), 15)
        return np.abs(gap).sum(axis=1) / n

    # One randint call of shape (k, n) consumes the stream exactly as k calls of size n do (numpy fills
    # the array in C order), so each chunk holds the loop's indices: arm a's, then (unpaired) arm b's.
    for start in range(0, n_resamples, 1000):
        k = min(1000, n_resamples - start)
        if paired:
            ia = ib = rng.randint(0, n, size=(k, n))
        else:
            both = rng.randint(0, n, size=(k, 2, n))
            ia, ib = both[:, 0], both[:, 1]
        deltas[start:start + k] = scores(b, ib) - scores(a, ia)
    return deltas


def unpaired_width(score_fn: Callable, a: np.ndarray, b: np.ndarray, labels: np.ndarray,
                   n_resamples: int = 1000, seed: int = 42) -> float:
    """Width of the 95% interval when each arm gets its own resampled rows (the mistake)."""
    import numpy as np
    lo, hi = np.quantile(resampled_deltas(score_fn, a, b, labels, n_resamples, seed, paired=False), [0.025, 0.975])
    return float(hi - lo)


def other_quantiles(score_fn: Callable, a: np.ndarray, b: np.ndarray, labels: np.ndarray,
                    n_resamples: int, seed: int = 42) -> dict:
    """The exact protocol's 90% interval (5% / 95% quantiles): what a wrong level gives."""
    import numpy as np
    lo, hi = np.quantile(resampled_deltas(score_fn, a, b, labels, n_resamples, seed, paired=True), [0.05, 0.95])
    return {"ci_low": float(lo), "ci_high": float(hi)}


def expected_hw(check: Check, answer_key: dict, seed: int) -> dict:
    """The reference's interval, the unpaired interval's width and the 90% interval."""
    from functools import partial

    from helpers import metrics
    score_fn = ece_score(15)
    a, b, labels = hw_bootstrap_arms(seed)
    # The probe's score_fn must be exactly the reference metric, or the comparison is unfair.
    for cc, probs in zip((a, b), bootstrap_arms_ece(derive(seed, 77))[:2]):
        assert abs(score_fn(cc, labels) - metrics.ece(probs, labels)) < 1e-12, "probe score_fn disagrees with helpers"
    refs = {"paired_bootstrap_ci": partial(reference_bootstrap, run_seed=seed)}
    # The reference always takes the full 10,000 resamples (the probe's draw-for-draw shortcut is for
    # submissions); the same wire round trip as a probe's call.
    return {"reference": {"result": ask_hw(refs, Runner(seed), HW_BOOT_RESAMPLES)},
            "unpaired_width": unpaired_width(score_fn, a, b, labels, HW_BOOT_RESAMPLES),
            "ci90": other_quantiles(score_fn, a, b, labels, HW_BOOT_RESAMPLES)}


def bootstrap_tolerance(path: str, entry: dict) -> tuple[float, float]:
    """BOOT_TOL_SIGMAS of the reference interval's sigma."""
    ref = entry["reference"]["result"]["value"]
    return 0.0, BOOT_TOL_SIGMAS * (ref["ci_high"] - ref["ci_low"]) / 3.92


def sanity_hw(entry: dict, seed: int) -> None:
    """The arms must be correlated enough for the width to catch an unpaired bootstrap."""
    ref = entry["reference"]["result"]["value"]
    width = ref["ci_high"] - ref["ci_low"]
    assert entry["unpaired_width"] / width >= 2.0, "hw: arms not correlated enough to catch an unpaired bootstrap"


def expected_lab(check: Check, answer_key: dict, seed: int) -> dict:
    """The readings' answer key; the table itself is recomputed from the artifacts at grading time."""
    return {"answer_key": answer_key[check.id]}


CHECKS = (
    Check(id="lab_bootstrap_ci", notebook="week6_lab", points=3,
          reads=("f1_ci_table", "real_lift_tiers", "tail_reading"), probe=probe_lab, judge=judge_bootstrap_use,
          expected=expected_lab, kind="value"),
    Check(id="hw_bootstrap_ci", notebook="week6_homework", points=3, reads=("paired_bootstrap_ci",),
          probe=probe_hw, judge=judge_bootstrap, references={"paired_bootstrap_ci": reference_bootstrap},
          forbidden=(hb.paired_bootstrap, hb.paired_bootstrap_loop, hb.resample_indices), skill="bootstrap",
          expected=expected_hw, tolerance=bootstrap_tolerance, sanity=sanity_hw),
)
